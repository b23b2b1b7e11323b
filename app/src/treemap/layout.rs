//! The squarified treemap layout (Bruls, Huizing and van Wijk, 2000) as plain arithmetic: no
//! browser types, so it is unit-tested on the host.
//!
//! Items are placed largest first, in strips along the shorter side of the space left; an item
//! joins the current strip while that does not worsen the strip's worst aspect ratio. Ties in
//! size keep their input order, so the same input always gives the same picture.

/// An axis-aligned rectangle (origin top left, y grows downwards).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn new(x: f64, y: f64, w: f64, h: f64) -> Rect {
        Rect { x, y, w, h }
    }

    pub fn area(&self) -> f64 {
        self.w * self.h
    }

    /// The rectangle shrunk by `pad` on every side (never below zero size).
    pub fn inset(&self, pad: f64) -> Rect {
        let w = (self.w - 2.0 * pad).max(0.0);
        let h = (self.h - 2.0 * pad).max(0.0);
        Rect::new(self.x + pad, self.y + pad, w, h)
    }

    /// The area this rectangle shares with `other`.
    pub fn overlap(&self, other: &Rect) -> f64 {
        let w = (self.x + self.w).min(other.x + other.w) - self.x.max(other.x);
        let h = (self.y + self.h).min(other.y + other.h) - self.y.max(other.y);
        if w > 0.0 && h > 0.0 {
            w * h
        } else {
            0.0
        }
    }
}

/// Lays `sizes` out in `bounds`: `result[i]` is the rectangle of `sizes[i]`, with an area
/// proportional to it, or None for items of no size (zero, negative or not finite) and for
/// empty bounds.
pub fn squarify(sizes: &[f64], bounds: Rect) -> Vec<Option<Rect>> {
    let mut placed = vec![None; sizes.len()];
    let usable = |s: f64| s.is_finite() && s > 0.0;
    if !(bounds.w > 0.0 && bounds.h > 0.0) {
        return placed;
    }
    let mut order: Vec<usize> = (0..sizes.len()).filter(|&i| usable(sizes[i])).collect();
    // Stable: equal sizes keep their input order.
    order.sort_by(|&a, &b| sizes[b].total_cmp(&sizes[a]));
    let total: f64 = order.iter().map(|&i| sizes[i]).sum();
    if order.is_empty() || !total.is_finite() {
        return placed;
    }
    let scale = bounds.area() / total;
    let areas: Vec<f64> = order.iter().map(|&i| sizes[i] * scale).collect();

    let mut free = bounds;
    let mut start = 0;
    while start < order.len() {
        let side = free.w.min(free.h);
        let mut end = start + 1;
        let mut row_sum = areas[start];
        let mut row_worst = worst(&areas[start..end], row_sum, side);
        while end < order.len() {
            let with_sum = row_sum + areas[end];
            let with_worst = worst(&areas[start..=end], with_sum, side);
            if with_worst > row_worst {
                break;
            }
            row_sum = with_sum;
            row_worst = with_worst;
            end += 1;
        }
        let last_row = end == order.len();
        free = place_row(
            &areas[start..end],
            row_sum,
            free,
            last_row,
            &mut |k, rect| placed[order[start + k]] = Some(rect),
        );
        start = end;
    }
    placed
}

/// The worst aspect ratio (>= 1) of a strip of `areas` (summing to `sum`) along `side`.
fn worst(areas: &[f64], sum: f64, side: f64) -> f64 {
    let side2 = side * side;
    let sum2 = sum * sum;
    areas
        .iter()
        .map(|&a| (side2 * a / sum2).max(sum2 / (side2 * a)))
        .fold(1.0, f64::max)
}

/// Places one strip along the shorter side of `free` and returns the space left. The last
/// item of a strip (and the last strip) takes exactly what remains, so rounding never leaves
/// a gap or crosses the bounds.
fn place_row(
    areas: &[f64],
    sum: f64,
    free: Rect,
    last_row: bool,
    put: &mut dyn FnMut(usize, Rect),
) -> Rect {
    let n = areas.len();
    if free.w >= free.h {
        // A column on the left.
        let width = if last_row { free.w } else { sum / free.h };
        let mut y = free.y;
        for (k, a) in areas.iter().enumerate() {
            let h = if k + 1 == n {
                free.y + free.h - y
            } else {
                a / width
            };
            put(k, Rect::new(free.x, y, width, h));
            y += h;
        }
        Rect::new(free.x + width, free.y, (free.w - width).max(0.0), free.h)
    } else {
        // A row on top.
        let height = if last_row { free.h } else { sum / free.w };
        let mut x = free.x;
        for (k, a) in areas.iter().enumerate() {
            let w = if k + 1 == n {
                free.x + free.w - x
            } else {
                a / height
            };
            put(k, Rect::new(x, free.y, w, height));
            x += w;
        }
        Rect::new(free.x, free.y + height, free.w, (free.h - height).max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPS: f64 = 1e-6;

    fn bounds() -> Rect {
        Rect::new(10.0, 20.0, 600.0, 400.0)
    }

    fn check_partition(sizes: &[f64], b: Rect) -> Vec<Option<Rect>> {
        let placed = squarify(sizes, b);
        assert_eq!(placed.len(), sizes.len());
        let total: f64 = sizes.iter().filter(|s| **s > 0.0).sum();
        let rects: Vec<Rect> = placed.iter().flatten().copied().collect();
        for (i, r) in placed.iter().enumerate() {
            let Some(r) = r else {
                assert!(sizes[i] <= 0.0, "item {i} of size {} got no rect", sizes[i]);
                continue;
            };
            // Inside the bounds.
            assert!(r.w >= 0.0 && r.h >= 0.0, "{r:?}");
            assert!(r.x >= b.x - EPS && r.y >= b.y - EPS, "{r:?} outside {b:?}");
            assert!(r.x + r.w <= b.x + b.w + EPS, "{r:?} outside {b:?}");
            assert!(r.y + r.h <= b.y + b.h + EPS, "{r:?} outside {b:?}");
            // Area proportional to size.
            let want = sizes[i] / total * b.area();
            assert!(
                (r.area() - want).abs() <= want * 1e-6 + EPS,
                "item {i}: area {} want {want}",
                r.area()
            );
        }
        // No overlaps.
        for (i, a) in rects.iter().enumerate() {
            for c in &rects[i + 1..] {
                assert!(a.overlap(c) < EPS, "{a:?} overlaps {c:?}");
            }
        }
        // Together they cover the bounds.
        let covered: f64 = rects.iter().map(Rect::area).sum();
        assert!((covered - b.area()).abs() < 1e-6 * b.area());
        placed
    }

    #[test]
    fn areas_are_proportional_without_overlaps_inside_the_bounds() {
        check_partition(
            &[6.0, 6.0, 4.0, 3.0, 2.0, 2.0, 1.0],
            Rect::new(0.0, 0.0, 6.0, 4.0),
        );
        check_partition(&[1.0, 50.0, 3.0, 1e6, 7.0, 7.0, 0.5], bounds());
        check_partition(&[5.0, 1.0], Rect::new(0.0, 0.0, 10.0, 500.0));
        let many: Vec<f64> = (0..10_000)
            .map(|i| ((i * 7919) % 1000 + 1) as f64)
            .collect();
        check_partition(&many, Rect::new(0.0, 0.0, 1200.0, 700.0));
    }

    #[test]
    fn the_classic_example_comes_out_as_published() {
        // The paper's example: 6, 6, 4, 3, 2, 2, 1 in a 6 x 4 rectangle.
        let placed = squarify(
            &[6.0, 6.0, 4.0, 3.0, 2.0, 2.0, 1.0],
            Rect::new(0.0, 0.0, 6.0, 4.0),
        );
        let r = |i: usize| placed[i].unwrap();
        // The two 6s share the first column (3 wide, 2 high each); then 4 and 3 share a row
        // of height 7/3 on top of the right half.
        assert_eq!(r(0), Rect::new(0.0, 0.0, 3.0, 2.0));
        assert_eq!(r(1), Rect::new(0.0, 2.0, 3.0, 2.0));
        assert!((r(2).x - 3.0).abs() < EPS && r(2).y.abs() < EPS);
        assert!((r(2).h - 7.0 / 3.0).abs() < EPS && (r(3).h - 7.0 / 3.0).abs() < EPS);
        assert!((r(3).x - (3.0 + 12.0 / 7.0)).abs() < EPS);
    }

    #[test]
    fn same_input_same_output_and_ties_keep_their_order() {
        let sizes = [3.0, 1.0, 1.0, 1.0, 1.0, 3.0];
        let a = squarify(&sizes, bounds());
        let b = squarify(&sizes, bounds());
        assert_eq!(a, b);
        // Equal sizes are placed in input order: moving the items around moves the rects
        // with them, the n-th of equal items always gets the n-th place.
        let moved = squarify(&[1.0, 1.0, 3.0, 3.0, 1.0, 1.0], bounds());
        for (from, to) in [(0, 2), (5, 3), (1, 0), (2, 1), (3, 4), (4, 5)] {
            assert_eq!(a[from], moved[to], "item {from} vs moved item {to}");
        }
    }

    #[test]
    fn zero_sizes_empty_input_and_single_items() {
        assert!(squarify(&[], bounds()).is_empty());
        assert_eq!(squarify(&[0.0, 0.0], bounds()), vec![None, None]);
        assert_eq!(squarify(&[f64::NAN, -1.0], bounds()), vec![None, None]);
        assert_eq!(squarify(&[42.0], bounds()), vec![Some(bounds())]);
        let placed = check_partition(&[0.0, 5.0, 0.0, 5.0], bounds());
        assert!(placed[0].is_none() && placed[2].is_none());
        assert_eq!(
            squarify(&[1.0, 2.0], Rect::new(0.0, 0.0, 0.0, 10.0)),
            vec![None, None]
        );
    }

    #[test]
    fn tiles_stay_close_to_square() {
        let sizes = vec![1.0; 100];
        let placed = check_partition(&sizes, Rect::new(0.0, 0.0, 500.0, 500.0));
        for r in placed.into_iter().flatten() {
            let aspect = (r.w / r.h).max(r.h / r.w);
            assert!(aspect < 2.0, "aspect {aspect} of {r:?}");
        }
    }
}
