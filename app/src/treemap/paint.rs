//! Turns one level's tiles into SVG markup, inserted with one `innerHTML` assignment: the
//! browser parses thousands of rectangles far faster than they could be created node by
//! node from WASM. Plain string building, unit-tested on the host.
use std::fmt::Write;

use super::layout::{squarify, Rect};
use super::tree::Tile;
use crate::format::{human_bytes, plural};

/// How tiles are coloured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColourBy {
    /// One hue per entity.
    Entity,
    /// From warm (pushed recently) to cool (pushed long ago); grey if nothing was pushed.
    Age,
}

/// Gap between sibling tiles, in pixels.
const GAP: f64 = 1.0;
/// Height of a tile's label line; nested children are drawn below it.
const LABEL: f64 = 18.0;
/// Approximate width of one label character at the label's font size.
const CHAR_W: f64 = 7.0;

/// The markup and where each tile went (`rects[i]` for `tiles[i]`, None: no size).
pub struct Painted {
    pub markup: String,
    pub rects: Vec<Option<Rect>>,
}

/// A small stable hash of a name, for its hue.
fn hue_of(name: &str) -> u32 {
    let mut h: u32 = 2_166_136_261;
    for b in name.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(16_777_619);
    }
    h % 360
}

/// The fill of a tile (`nested`: a lighter shade for children drawn inside a tile).
pub fn fill(tile: &Tile, by: ColourBy, now: i64, nested: bool) -> String {
    let light = if nested { 50 } else { 34 };
    match by {
        ColourBy::Entity => format!("hsl({} 48% {light}%)", hue_of(&tile.entity)),
        ColourBy::Age if tile.last_push <= 0 => format!("hsl(0 0% {}%)", light + 6),
        ColourBy::Age => {
            let days = (now - tile.last_push).max(0) as f64 / 86_400.0;
            // Logarithmic: today, this week, this month and last year stay distinct.
            let t = ((1.0 + days).ln() / (1.0 + 730.0_f64).ln()).clamp(0.0, 1.0);
            format!("hsl({:.0} 55% {light}%)", 12.0 + t * 200.0)
        }
    }
}

/// Escapes text for XML attribute values and content.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` cut to fit `width` pixels, with an ellipsis when cut; None when nothing fits.
fn fitted(text: &str, width: f64) -> Option<String> {
    let room = ((width - 8.0) / CHAR_W).floor();
    if room < 2.0 {
        return None;
    }
    let room = room as usize;
    if text.chars().count() <= room {
        Some(text.to_string())
    } else {
        let cut: String = text.chars().take(room - 1).collect();
        Some(format!("{cut}…"))
    }
}

/// What a tile says to screen readers and in its details.
pub fn describe(tile: &Tile) -> String {
    let mut text = format!(
        "{} {}: {}",
        tile.kind.as_str(),
        tile.name,
        human_bytes(tile.size)
    );
    match tile.kind {
        super::tree::TileKind::Container => {
            let _ = write!(text, ", {}", plural(tile.images, "image", "images"));
        }
        _ => {
            let _ = write!(
                text,
                ", {}",
                plural(tile.containers, "container", "containers")
            );
        }
    }
    text
}

/// Lays out and draws `tiles` in a `width` x `height` picture.
pub fn paint(tiles: &[Tile], width: f64, height: f64, by: ColourBy, now: i64) -> Painted {
    let sizes: Vec<f64> = tiles.iter().map(|t| t.size as f64).collect();
    let rects = squarify(&sizes, Rect::new(0.0, 0.0, width, height));
    let mut svg = String::with_capacity(256 + tiles.len() * 260);
    let _ = write!(
        svg,
        r#"<svg class="tm-svg" xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" role="group" aria-label="Treemap">"#
    );
    for (i, (tile, rect)) in tiles.iter().zip(&rects).enumerate() {
        let Some(outer) = rect else { continue };
        let r = outer.inset(GAP / 2.0);
        if r.w < 0.5 || r.h < 0.5 {
            continue;
        }
        let name = escape(&tile.name);
        let _ = write!(
            svg,
            r#"<g class="tm-tile" tabindex="0" role="link" data-i="{i}" data-kind="{}" data-name="{name}" aria-label="{}"><rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"/>"#,
            tile.kind.as_str(),
            escape(&describe(tile)),
            r.x,
            r.y,
            r.w,
            r.h,
            fill(tile, by, now, false)
        );
        if !tile.children.is_empty() && r.w >= 40.0 && r.h >= LABEL + 20.0 {
            let inner = Rect::new(r.x + 3.0, r.y + LABEL, r.w - 6.0, r.h - LABEL - 3.0);
            let sizes: Vec<f64> = tile.children.iter().map(|&s| s as f64).collect();
            let shade = fill(tile, by, now, true);
            for child in squarify(&sizes, inner).into_iter().flatten() {
                let c = child.inset(0.5);
                if c.w >= 2.0 && c.h >= 2.0 {
                    let _ = write!(
                        svg,
                        r#"<rect class="tm-sub" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{shade}"/>"#,
                        c.x, c.y, c.w, c.h
                    );
                }
            }
        }
        if r.h >= 16.0 {
            let full = format!("{} · {}", tile.name, human_bytes(tile.size));
            let label = if (full.chars().count() as f64) * CHAR_W + 8.0 <= r.w {
                Some(full)
            } else {
                fitted(&tile.name, r.w)
            };
            if let Some(label) = label {
                let _ = write!(
                    svg,
                    r#"<text class="tm-label" x="{:.1}" y="{:.1}">{}</text>"#,
                    r.x + 5.0,
                    r.y + 13.0,
                    escape(&label)
                );
            }
        }
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");
    Painted { markup: svg, rects }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::treemap::tree::TileKind;

    fn tile(name: &str, size: u64, children: Vec<u64>) -> Tile {
        Tile {
            kind: TileKind::Collection,
            name: name.into(),
            entity: "alice".into(),
            href: format!("/treemap/alice/{name}"),
            size,
            containers: children.len() as u64,
            images: 1,
            last_push: 1_000,
            children,
        }
    }

    #[test]
    fn draws_one_focusable_group_per_sized_tile_with_escaped_names() {
        let tiles = [
            tile("a<b>&\"c\"", 300, vec![100, 200]),
            tile("zero", 0, vec![]),
            tile("small", 100, vec![100]),
        ];
        let painted = paint(&tiles, 800.0, 400.0, ColourBy::Entity, 2_000);
        let svg = &painted.markup;
        assert_eq!(svg.matches(r#"class="tm-tile""#).count(), 2);
        assert!(svg.contains(r#"data-name="a&lt;b&gt;&amp;&quot;c&quot;""#));
        assert!(!svg.contains("data-name=\"zero\""));
        assert!(svg.contains(r#"data-i="2""#));
        assert_eq!(svg.matches(r#"class="tm-sub""#).count(), 3);
        assert!(svg.contains("aria-label=\"collection small: 100 B, 1 container\""));
        assert!(painted.rects[1].is_none());
        let a = painted.rects[0].unwrap().area();
        assert!((a - 800.0 * 400.0 * 0.75).abs() < 1e-6);
    }

    #[test]
    fn colours_follow_entity_and_age() {
        let mut t = tile("x", 1, vec![]);
        let by_entity = fill(&t, ColourBy::Entity, 0, false);
        t.entity = "bob".into();
        assert_ne!(by_entity, fill(&t, ColourBy::Entity, 0, false));
        let fresh = fill(&t, ColourBy::Age, 1_000, false);
        let old = fill(&t, ColourBy::Age, 1_000 + 400 * 86_400, false);
        assert_ne!(fresh, old);
        t.last_push = 0;
        assert!(fill(&t, ColourBy::Age, 1_000, false).starts_with("hsl(0 0%"));
    }

    #[test]
    fn labels_fit_their_tiles() {
        assert_eq!(fitted("hello", 100.0).as_deref(), Some("hello"));
        assert_eq!(
            fitted("a-long-container-name", 60.0).as_deref(),
            Some("a-long…")
        );
        assert_eq!(fitted("abc", 10.0), None);
    }
}
