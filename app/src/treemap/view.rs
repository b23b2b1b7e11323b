//! `/treemap[/:entity[/:collection]]`: the registry's storage as a squarified treemap with
//! drill-down, breadcrumb, hover/focus details, colour toggle and live updates.
//!
//! Only the current level's tiles are drawn (with their own children nested inside, as a
//! preview), as SVG markup set in one `innerHTML` assignment; pointer and keyboard events are
//! handled once on the stage and find their tile through `data-i`. The stage exposes
//! `data-render-ms` (layout and drawing time of the last render) and `data-renders` (a render
//! counter) for benchmarks and tests.
use leptos::prelude::*;
use leptos::web_sys;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

use super::layout::Rect;
use super::live;
use super::paint::{paint, ColourBy};
use super::tree::{self, Level, Tile, TileKind};
use crate::api::treemap::get_treemap;
use crate::components::{EmptyState, ErrorView, Loading, PageTitle};
use crate::error::SiloError;
use crate::format::{human_bytes, plural};
use crate::model::treemap::TreemapData;

/// Milliseconds from the browser's monotonic clock.
#[cfg(feature = "csr")]
fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

#[cfg(not(feature = "csr"))]
fn now_ms() -> f64 {
    0.0
}

/// The index of the tile an event happened in.
fn tile_index(ev: &web_sys::Event) -> Option<usize> {
    ev.target()?;
    let target: web_sys::Element = event_target(ev);
    let tile = target.closest("[data-i]").ok()??;
    tile.get_attribute("data-i")?.parse().ok()
}

#[component]
pub fn TreemapPage() -> impl IntoView {
    let params = use_params_map();
    let level = Memo::new(move |_| {
        let p = params.read();
        Level::from_route(p.get("entity"), p.get("collection"))
    });
    let data = RwSignal::new(None::<Result<TreemapData, SiloError>>);
    let updating = RwSignal::new(false);
    let load = move || {
        updating.set(true);
        leptos::task::spawn_local(async move {
            let result = get_treemap().await;
            data.set(Some(result));
            updating.set(false);
        });
    };
    load();
    live::on_registry_change(load);

    let colour = RwSignal::new(ColourBy::Entity);
    let tiles = Memo::new(move |_| {
        data.with(|d| match d {
            Some(Ok(d)) => tree::tiles(&d.containers, &level.get()),
            _ => Vec::new(),
        })
    });
    let server_now = Memo::new(move |_| {
        data.with(|d| {
            d.as_ref()
                .and_then(|r| r.as_ref().ok())
                .map_or(0, |d| d.now)
        })
    });
    let resized = RwSignal::new(0u32);
    let resize = window_event_listener(leptos::ev::resize, move |_| {
        resized.try_update(|n| *n = n.wrapping_add(1));
    });
    on_cleanup(move || resize.remove());

    let stage = NodeRef::<leptos::html::Div>::new();
    let rects = StoredValue::new(Vec::<Option<Rect>>::new());
    let renders = StoredValue::new(0u64);
    let hovered = RwSignal::new(None::<usize>);
    Effect::new(move |_| {
        resized.track();
        let by = colour.get();
        let now = server_now.get();
        let Some(el) = stage.get() else { return };
        // Draw (and count) only real data: `data-renders` = 1 means the first picture.
        if !data.with(|d| matches!(d, Some(Ok(_)))) {
            return;
        }
        tiles.with(|tiles| {
            let started = now_ms();
            let width = f64::from(el.client_width()).max(320.0);
            let height = (width * 0.56).clamp(320.0, 720.0);
            let painted = paint(tiles, width, height, by, now);
            el.set_inner_html(&painted.markup);
            let took = now_ms() - started;
            rects.set_value(painted.rects);
            renders.update_value(|n| *n += 1);
            let _ = el.set_attribute("data-render-ms", &format!("{took:.1}"));
            let _ = el.set_attribute("data-renders", &renders.get_value().to_string());
            let _ = el.set_attribute("data-tiles", &tiles.len().to_string());
        });
        hovered.set(None);
    });

    let navigate = use_navigate();
    let open = move |i: usize| {
        if let Some(href) = tiles.with_untracked(|t| t.get(i).map(|t| t.href.clone())) {
            navigate(&href, Default::default());
        }
    };
    let on_click = {
        let open = open.clone();
        move |ev: web_sys::MouseEvent| {
            if let Some(i) = tile_index(&ev) {
                open(i);
            }
        }
    };
    let on_key = move |ev: web_sys::KeyboardEvent| {
        if ev.key() == "Enter" || ev.key() == " " {
            if let Some(i) = tile_index(&ev) {
                ev.prevent_default();
                open(i);
            }
        }
    };
    let on_over = move |ev: web_sys::MouseEvent| {
        let i = tile_index(&ev);
        if hovered.get_untracked() != i {
            hovered.set(i);
        }
    };
    let on_focus = move |ev: web_sys::FocusEvent| hovered.set(tile_index(&ev));

    let summary = move || {
        tiles.with(|t| {
            let size: u64 = t.iter().map(|t| t.size).sum();
            let containers: u64 = t.iter().map(|t| t.containers).sum();
            let empty = t.iter().filter(|t| t.size == 0).count() as u64;
            let mut text = format!(
                "{} in {}",
                human_bytes(size),
                plural(containers, "container", "containers")
            );
            if empty > 0 {
                text.push_str(&format!(" · {empty} without stored bytes (not drawn)"));
            }
            text
        })
    };
    let nothing = move || {
        data.with(|d| matches!(d, Some(Ok(_)))) && tiles.with(|t| t.iter().all(|t| t.size == 0))
    };
    let title = Signal::derive(move || match level.get() {
        Level::Registry => "Treemap".to_string(),
        Level::Entity(e) => format!("Treemap of {e}"),
        Level::Collection(e, c) => format!("Treemap of {e}/{c}"),
    });

    view! {
        <PageTitle text=title />
        <div class="page-head tm-head">
            <h1>"Storage treemap"</h1>
            <p class="muted small">
                "Rectangles are sized by the bytes each one stores. Select one to go down a level; containers open their page. Updates live when someone pushes."
            </p>
        </div>
        <div class="tm-bar">
            <Breadcrumb level=level />
            <div class="tm-colour" role="group" aria-label="Colour">
                <span class="muted small">"Colour by"</span>
                <button type="button" class="tm-toggle" aria-pressed=move || (colour.get() == ColourBy::Entity).to_string() on:click=move |_| colour.set(ColourBy::Entity)>"entity"</button>
                <button type="button" class="tm-toggle" aria-pressed=move || (colour.get() == ColourBy::Age).to_string() on:click=move |_| colour.set(ColourBy::Age)>"age"</button>
            </div>
        </div>
        <p class="muted small tm-summary" aria-live="polite">
            {move || data.with(|d| matches!(d, Some(Ok(_)))).then(summary)}
            {move || updating.get().then(|| view! { <span class="tm-updating">" · updating…"</span> })}
        </p>
        {move || {
            let failed = data.with(|d| match d {
                Some(Err(error)) => Some(error.clone()),
                _ => None,
            });
            if let Some(error) = failed {
                view! { <ErrorView error=error /> }.into_any()
            } else if data.with(Option::is_none) {
                view! { <Loading what="the treemap" /> }.into_any()
            } else if nothing() {
                view! { <Nothing level=level.get() /> }.into_any()
            } else {
                ().into_any()
            }
        }}
        <div class="tm-wrap" class:tm-hidden=move || data.with(|d| !matches!(d, Some(Ok(_)))) || nothing()>
            <div
                class="tm-stage"
                node_ref=stage
                data-colour=move || match colour.get() { ColourBy::Entity => "entity", ColourBy::Age => "age" }
                on:click=on_click
                on:keydown=on_key
                on:mouseover=on_over
                on:mouseleave=move |_| hovered.set(None)
                on:focusin=on_focus
                on:focusout=move |_| hovered.set(None)
            ></div>
            {move || hovered.get().and_then(|i| {
                let tile = tiles.with(|t| t.get(i).cloned())?;
                let at = rects.with_value(|r| r.get(i).copied().flatten())?;
                Some(view! { <Details tile=tile at=at now=server_now.get_untracked() /> })
            })}
        </div>
        <AgeLegend show=Signal::derive(move || colour.get() == ColourBy::Age) />
    }
}

/// Registry / entity / collection, each a link back up.
#[component]
fn Breadcrumb(level: Memo<Level>) -> impl IntoView {
    view! {
        <nav class="crumbs tm-crumbs" aria-label="Treemap level">
            {move || {
                let crumbs = level.get().crumbs();
                let last = crumbs.len() - 1;
                crumbs
                    .into_iter()
                    .enumerate()
                    .map(|(i, (label, href))| {
                        let sep = (i > 0).then(|| view! { <span class="sep">"/"</span> });
                        let link = if i == last {
                            view! { <span aria-current="page">{label}</span> }.into_any()
                        } else {
                            view! { <A href=href exact=true>{label}</A> }.into_any()
                        };
                        view! { {sep} {link} }
                    })
                    .collect_view()
            }}
        </nav>
    }
}

/// The details of the hovered or focused tile.
#[component]
fn Details(tile: Tile, at: Rect, now: i64) -> impl IntoView {
    let left = (at.x + 8.0).max(0.0);
    let top = (at.y + 22.0).max(0.0);
    let count = match tile.kind {
        TileKind::Container => plural(tile.images, "image", "images"),
        _ => plural(tile.containers, "container", "containers"),
    };
    let pushed = (tile.last_push > 0).then(|| {
        let days = (now - tile.last_push).max(0) / 86_400;
        match days {
            0 => "last push today".to_string(),
            1 => "last push yesterday".to_string(),
            d => format!("last push {d} days ago"),
        }
    });
    let hint = match tile.kind {
        TileKind::Container => "Select to open the container page",
        _ => "Select to look inside",
    };
    view! {
        <div class="tm-tip" role="tooltip" style=format!("left:{left:.0}px;top:{top:.0}px")>
            <strong class="tm-tip-name">{tile.name}</strong>
            <span class="tm-tip-kind muted">{tile.kind.as_str()}</span>
            <span class="tm-tip-size">{human_bytes(tile.size)}</span>
            <span class="tm-tip-count">{count}</span>
            {pushed.map(|p| view! { <span class="tm-tip-age">{p}</span> })}
            <span class="tm-tip-hint muted">{hint}</span>
        </div>
    }
}

/// Shown when there is nothing to draw at this level.
#[component]
fn Nothing(level: Level) -> impl IntoView {
    match level {
        Level::Registry => view! {
            <EmptyState title="Nothing stored yet">
                <p>"The treemap fills in as images are pushed (it updates live). See "
                    <A href="/collections">"the collections"</A> "."</p>
            </EmptyState>
        }
        .into_any(),
        other => view! {
            <EmptyState title="Nothing to show here">
                <p>"No container you can see stores bytes under " <code>{other.href().trim_start_matches("/treemap/").to_string()}</code>
                   ". " <A href="/treemap">"Back to the whole registry"</A> "."</p>
            </EmptyState>
        }
        .into_any(),
    }
}

/// The colour scale when colouring by age.
#[component]
fn AgeLegend(show: Signal<bool>) -> impl IntoView {
    view! {
        <Show when=move || show.get()>
            <div class="tm-legend" aria-label="Age colours">
                <span class="muted small">"pushed today"</span>
                <span class="tm-scale" aria-hidden="true"></span>
                <span class="muted small">"two years ago or more"</span>
                <span class="tm-swatch tm-never" aria-hidden="true"></span>
                <span class="muted small">"nothing pushed"</span>
            </div>
        </Show>
    }
}
