//! The home page's "most pulled" and "most starred" lists.
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::get_highlights;
use crate::components::Badge;
use crate::format::plural;
use crate::model::RankedItem;

#[component]
pub fn HomeHighlights() -> impl IntoView {
    let highlights = LocalResource::new(get_highlights);
    move || {
        highlights.get().and_then(Result::ok).map(|h| {
            view! {
                <div class="grid-2 highlights">
                    <section class="card" data-testid="most-pulled">
                        <h2>"Most pulled"</h2>
                        <Ranking items=h.most_pulled one="pull" many="pulls" empty="Nothing has been pulled yet." />
                    </section>
                    <section class="card" data-testid="most-starred">
                        <h2>"Most starred"</h2>
                        <Ranking items=h.most_starred one="star" many="stars" empty="Nothing has been starred yet." />
                    </section>
                </div>
                <p class="muted small highlights-more">
                    {plural(h.downloads, "pull", "pulls")} " in total · "
                    <A href="/stats">"Usage charts"</A>
                </p>
            }
        })
    }
}

#[component]
fn Ranking(
    items: Vec<RankedItem>,
    one: &'static str,
    many: &'static str,
    empty: &'static str,
) -> impl IntoView {
    if items.is_empty() {
        return view! { <p class="muted">{empty}</p> }.into_any();
    }
    let rows = items
        .into_iter()
        .map(|item| {
            view! {
                <li class="rank-row">
                    <A href=item.href() attr:class="rank-link">{item.path.clone()}</A>
                    <Badge text=item.kind.clone() kind="plain" />
                    <span class="rank-count num">{plural(item.count, one, many)}</span>
                </li>
            }
        })
        .collect_view();
    view! { <ol class="ranking">{rows}</ol> }.into_any()
}
