//! `/collections`: every collection the viewer may see, sorted, filtered and paged by the
//! server. The page's state lives in its query string (`?sort=stars&entity=lab&page=2`), so
//! every view is a link that survives a reload.
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::api::list_collections;
use crate::components::{
    use_site, Badge, Command, EmptyState, ErrorView, Loading, PageTitle, Time,
};
use crate::format::{human_bytes, plural};
use crate::model::{CollectionListing, CollectionRow, CollectionSortKey, ListingRequest};
use crate::pull;

#[component]
pub fn CollectionsPage() -> impl IntoView {
    let query = use_query_map();
    let request = Memo::new(move |_| {
        query.with(|q| ListingRequest::from_query(|key| q.get(key).map(|v| v.to_string())))
    });
    let list = LocalResource::new(move || list_collections(request.get()));
    let navigate = use_navigate();
    // Every control change becomes a new URL; the list follows the URL.
    let go = Callback::new(move |next: ListingRequest| {
        let query = next.to_query();
        let url = if query.is_empty() {
            "/collections".to_string()
        } else {
            format!("/collections?{query}")
        };
        navigate(
            &url,
            NavigateOptions {
                scroll: false,
                ..Default::default()
            },
        );
    });
    view! {
        <PageTitle text="Collections" />
        <div class="page-head">
            <h1>"Collections"</h1>
            <p class="muted">"Every collection you may see, with its size, stars and pulls."</p>
        </div>
        <ListingControls request=request go=go />
        <Transition fallback=|| view! { <Loading what="collections" /> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(listing) => view! { <CollectionList listing=listing request=request.get_untracked() go=go /> }.into_any(),
                    Err(error) => view! { <ErrorView error=error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Sort key, direction, entity and text filters.
#[component]
fn ListingControls(request: Memo<ListingRequest>, go: Callback<ListingRequest>) -> impl IntoView {
    let on_sort = move |ev: leptos::ev::Event| {
        let Some(sort) = CollectionSortKey::parse(&event_target_value(&ev)) else {
            return;
        };
        go.run(ListingRequest {
            sort,
            descending: sort.natural_descending(),
            page: 1,
            ..request.get_untracked()
        });
    };
    let flip = move |_| {
        let current = request.get_untracked();
        go.run(ListingRequest {
            descending: !current.descending,
            page: 1,
            ..current
        });
    };
    // Text filters apply on Enter or when the field loses focus, not on every key.
    let apply_text = move |field: &'static str, value: String| {
        let mut next = request.get_untracked();
        let value = value.trim().to_string();
        let slot = if field == "entity" {
            &mut next.entity
        } else {
            &mut next.filter
        };
        if *slot != value {
            *slot = value;
            next.page = 1;
            go.run(next);
        }
    };
    let options = CollectionSortKey::ALL
        .into_iter()
        .map(|key| {
            view! {
                <option value=key.as_str() selected=move || request.get().sort == key>
                    {key.label()}
                </option>
            }
        })
        .collect_view();
    view! {
        <form class="listing-controls" on:submit=|ev| ev.prevent_default() role="search" aria-label="Filter collections">
            <label class="control">
                <span>"Sort by"</span>
                <select name="sort" on:change=on_sort>{options}</select>
            </label>
            <button
                type="button"
                class="btn order-btn"
                on:click=flip
                aria-label=move || if request.get().descending { "Descending; switch to ascending" } else { "Ascending; switch to descending" }
            >
                {move || if request.get().descending { "↓ desc" } else { "↑ asc" }}
            </button>
            <label class="control">
                <span>"Entity"</span>
                <input
                    type="text"
                    name="entity"
                    placeholder="any"
                    autocomplete="off"
                    prop:value=move || request.get().entity
                    on:change=move |ev| apply_text("entity", event_target_value(&ev))
                />
            </label>
            <label class="control grow">
                <span>"Name contains"</span>
                <input
                    type="search"
                    name="q"
                    placeholder="filter by name or description"
                    autocomplete="off"
                    prop:value=move || request.get().filter
                    on:change=move |ev| apply_text("q", event_target_value(&ev))
                />
            </label>
        </form>
    }
}

#[component]
fn CollectionList(
    listing: CollectionListing,
    request: ListingRequest,
    go: Callback<ListingRequest>,
) -> impl IntoView {
    let site = use_site();
    if listing.rows.is_empty() {
        let filtered = !request.entity.is_empty() || !request.filter.is_empty();
        return if filtered {
            view! {
                <EmptyState title="No collection matches">
                    <p>"Nothing you may see matches these filters. "
                        <A href="/collections">"Show every collection"</A>"."</p>
                </EmptyState>
            }
            .into_any()
        } else {
            view! {
                <EmptyState title="No collections yet">
                    <p>"A collection appears here when someone pushes the first image into it:"</p>
                    {move || site.get().map(|s| view! { <Command text=pull::push_example(&s) /> })}
                </EmptyState>
            }
            .into_any()
        };
    }
    let first = (listing.page - 1) * listing.per_page + 1;
    let last = first + listing.rows.len() as u64 - 1;
    let summary = format!(
        "{first}–{last} of {}",
        plural(listing.total, "collection", "collections")
    );
    let pages = listing.pages();
    let cards = listing.rows.into_iter().map(collection_card).collect_view();
    // What these cards answer, so a reader (or a test) can tell them from the previous
    // listing while the next one loads.
    let order = if request.descending { "desc" } else { "asc" };
    view! {
        <p class="listing-summary muted" aria-live="polite">{summary}</p>
        <ul
            class="cards"
            data-testid="collection-cards"
            data-sort=request.sort.as_str()
            data-order=order
            data-page=listing.page
        >
            {cards}
        </ul>
        <Pager page=listing.page pages=pages request=request go=go />
    }
    .into_any()
}

fn collection_card(row: CollectionRow) -> impl IntoView {
    let description = (!row.description.is_empty())
        .then(|| view! { <p class="card-desc">{row.description.clone()}</p> });
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
                <span data-field="size" data-value=row.total_bytes.to_string()>{human_bytes(row.total_bytes)}</span>
                <span data-field="stars" data-testid="collection-stars" data-value=row.stars.to_string() title="stars">"★ " {row.stars}</span>
                <span data-field="downloads" data-value=row.downloads.to_string() title="pulls">{plural(row.downloads, "pull", "pulls")}</span>
                <span>"updated " <Time at=row.updated_at /></span>
            </p>
        </li>
    }
}

/// Previous/next and first/last page links.
#[component]
fn Pager(
    page: u64,
    pages: u64,
    request: ListingRequest,
    go: Callback<ListingRequest>,
) -> impl IntoView {
    if pages <= 1 {
        return ().into_any();
    }
    let to = move |target: u64| {
        let next = ListingRequest {
            page: target,
            ..request.clone()
        };
        move |_| go.run(next.clone())
    };
    view! {
        <nav class="pager" aria-label="Pages">
            <button type="button" class="btn" disabled={page <= 1} on:click=to(1)>"« First"</button>
            <button type="button" class="btn" disabled={page <= 1} on:click=to(page.saturating_sub(1).max(1))>"‹ Previous"</button>
            <span class="pager-where">{format!("Page {page} of {pages}")}</span>
            <button type="button" class="btn" disabled={page >= pages} on:click=to((page + 1).min(pages))>"Next ›"</button>
            <button type="button" class="btn" disabled={page >= pages} on:click=to(pages)>"Last »"</button>
        </nav>
    }
    .into_any()
}
