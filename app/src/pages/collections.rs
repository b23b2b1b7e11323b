//! `/collections`: every collection the viewer may see.
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::list_collections;
use crate::components::{
    use_site, Badge, Command, EmptyState, ErrorView, Loading, PageTitle, Time,
};
use crate::format::{human_bytes, plural};
use crate::model::CollectionRow;
use crate::pull;

#[component]
pub fn CollectionsPage() -> impl IntoView {
    let list = LocalResource::new(list_collections);
    view! {
        <PageTitle text="Collections" />
        <div class="page-head">
            <h1>"Collections"</h1>
            <p class="muted">"Every public collection of this registry, grouped by owner."</p>
        </div>
        <Transition fallback=|| view! { <Loading what="collections" /> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(rows) => view! { <CollectionList rows=rows /> }.into_any(),
                    Err(error) => view! { <ErrorView error=error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn CollectionList(rows: Vec<CollectionRow>) -> impl IntoView {
    let site = use_site();
    if rows.is_empty() {
        return view! {
            <EmptyState title="No collections yet">
                <p>"A collection appears here when someone pushes the first image into it:"</p>
                {move || site.get().map(|s| view! { <Command text=pull::push_example(&s) /> })}
            </EmptyState>
        }
        .into_any();
    }
    let cards = rows
        .into_iter()
        .map(|row| {
            let description = (!row.description.is_empty()).then(|| {
                view! { <p class="card-desc">{row.description.clone()}</p> }
            });
            let private = row
                .private
                .then(|| view! { <Badge text="private" kind="private" /> });
            view! {
                <li class="card collection-card">
                    <div class="card-title">
                        <A href=row.href() attr:class="collection-link">
                            <span class="muted">{format!("{}/", row.entity)}</span>
                            <strong>{row.collection.clone()}</strong>
                        </A>
                        {private}
                    </div>
                    {description}
                    <p class="card-meta">
                        <span>{plural(row.containers, "container", "containers")}</span>
                        <span>{human_bytes(row.total_bytes)}</span>
                        <span data-testid="collection-stars" title="stars">{format!("★ {}", row.stars)}</span>
                        <span>"updated " <Time at=row.updated_at /></span>
                    </p>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="cards">{cards}</ul> }.into_any()
}
