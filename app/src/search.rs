//! Live search: the header's search box (a combobox whose list fills as you type, driven by
//! the arrow keys, Enter and Escape) and the `/search?q=` page with every hit.
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::search;
use crate::components::{Badge, EmptyState, ErrorView, Loading, PageTitle};
use crate::model::{encode_query_value, SearchHit, SearchResults};

/// Needles shorter than this are not sent (the server finds nothing for them either).
const MIN_CHARS: usize = 2;
/// Hits shown in the header's drop-down.
const DROPDOWN_HITS: usize = 8;

fn search_url(query: &str) -> String {
    format!("/search?q={}", encode_query_value(query.trim()))
}

async fn search_for(query: String) -> Option<Result<SearchResults, crate::error::SiloError>> {
    if query.trim().chars().count() < MIN_CHARS {
        return None;
    }
    Some(search(query).await)
}

/// The search box in the header.
#[component]
pub fn SearchBox() -> impl IntoView {
    let query = RwSignal::new(String::new());
    let open = RwSignal::new(false);
    // Index of the highlighted hit; the one past the hits is "all results".
    let active = RwSignal::new(None::<usize>);
    let results = LocalResource::new(move || search_for(query.get()));
    let hits = move || -> Vec<SearchHit> {
        match results.get() {
            Some(Some(Ok(found))) => found.hits.into_iter().take(DROPDOWN_HITS).collect(),
            _ => Vec::new(),
        }
    };
    let navigate = use_navigate();
    let go = move |url: String| {
        open.set(false);
        active.set(None);
        navigate(&url, Default::default());
    };
    let go_key = go.clone();
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let count = hits().len() + 1;
        match ev.key().as_str() {
            "ArrowDown" => {
                ev.prevent_default();
                open.set(true);
                active.update(|a| *a = Some(a.map_or(0, |i| (i + 1) % count)));
            }
            "ArrowUp" => {
                ev.prevent_default();
                active.update(|a| *a = Some(a.map_or(count - 1, |i| (i + count - 1) % count)));
            }
            "Escape" => {
                // Close the list but keep the text (a search field would clear itself).
                ev.prevent_default();
                open.set(false);
                active.set(None);
            }
            "Enter" => {
                ev.prevent_default();
                let text = query.get_untracked();
                let list = hits();
                match active.get_untracked() {
                    Some(i) if i < list.len() => go_key(list[i].href()),
                    _ if text.trim().chars().count() >= MIN_CHARS => go_key(search_url(&text)),
                    _ => {}
                }
            }
            _ => {}
        }
    };
    let option_id = |i: usize| format!("search-option-{i}");
    let expanded = move || open.get() && query.get().trim().chars().count() >= MIN_CHARS;
    let go_list = go.clone();
    let dropdown = move || {
        if !expanded() {
            return None;
        }
        let text = query.get();
        let status = match results.get() {
            None => Some("Searching…".to_string()),
            Some(Some(Err(error))) => Some(error.to_string()),
            Some(Some(Ok(found))) if found.hits.is_empty() => {
                Some(format!("Nothing found for “{}”", text.trim()))
            }
            _ => None,
        };
        let list = hits();
        let all_index = list.len();
        let items = list
            .into_iter()
            .enumerate()
            .map(|(i, hit)| {
                let href = hit.href();
                let go = go_list.clone();
                view! {
                    <li
                        id=option_id(i)
                        role="option"
                        class="search-option"
                        aria-selected=move || (active.get() == Some(i)).to_string()
                        on:mousedown=move |ev| { ev.prevent_default(); go(href.clone()) }
                    >
                        <HitLine hit=hit />
                    </li>
                }
            })
            .collect_view();
        let go_all = go_list.clone();
        let all_url = search_url(&text);
        Some(view! {
            <ul id="search-listbox" role="listbox" class="search-dropdown" aria-label="Search results">
                {status.map(|s| view! { <li class="search-status muted" role="presentation">{s}</li> })}
                {items}
                <li
                    id=option_id(all_index)
                    role="option"
                    class="search-option search-all"
                    aria-selected=move || (active.get() == Some(all_index)).to_string()
                    on:mousedown=move |ev| { ev.prevent_default(); go_all(all_url.clone()) }
                >
                    {format!("All results for “{}”", text.trim())}
                </li>
            </ul>
        })
    };
    view! {
        <div class="search-box" role="search">
            <input
                type="search"
                class="search-input"
                placeholder="Search images, tags, labels…"
                aria-label="Search the registry"
                role="combobox"
                aria-autocomplete="list"
                aria-controls="search-listbox"
                aria-expanded=move || expanded().to_string()
                aria-activedescendant=move || active.get().map(option_id).unwrap_or_default()
                autocomplete="off"
                spellcheck="false"
                prop:value=move || query.get()
                on:input=move |ev| {
                    query.set(event_target_value(&ev));
                    open.set(true);
                    active.set(None);
                }
                on:focus=move |_| open.set(true)
                on:blur=move |_| open.set(false)
                on:keydown=on_key
            />
            {dropdown}
        </div>
    }
}

/// Kind, path, private badge and why it matched.
#[component]
fn HitLine(hit: SearchHit) -> impl IntoView {
    let private = hit
        .private
        .then(|| view! { <Badge text="private" kind="private" /> });
    let note = (!hit.note.is_empty())
        .then(|| view! { <span class="hit-note muted">{hit.note.clone()}</span> });
    view! {
        <span class=format!("hit-kind hit-{}", hit.kind.label())>{hit.kind.label()}</span>
        <span class="hit-path">{hit.path.clone()}</span>
        {private}
        {note}
    }
}

/// `/search?q=…`: every hit, grouped by kind.
#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let text =
        Memo::new(move |_| query.with(|q| q.get("q").map(|v| v.to_string()).unwrap_or_default()));
    let results = LocalResource::new(move || search_for(text.get()));
    view! {
        <PageTitle text=Signal::derive(move || format!("Search: {}", text.get())) />
        <div class="page-head">
            <h1>"Search"</h1>
            <p class="muted">{move || format!("Results for “{}”", text.get().trim())}</p>
        </div>
        <Transition fallback=|| view! { <Loading what="results" /> }>
            {move || Suspend::new(async move {
                match results.await {
                    None => view! {
                        <EmptyState title="Type at least two characters">
                            <p>"Search names, tags, SIF labels and descriptions from the box at the top."</p>
                        </EmptyState>
                    }.into_any(),
                    Some(Ok(found)) => view! { <SearchHits found=found /> }.into_any(),
                    Some(Err(error)) => view! { <ErrorView error=error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SearchHits(found: SearchResults) -> impl IntoView {
    if found.hits.is_empty() {
        return view! {
            <EmptyState title="Nothing found">
                <p>"No entity, collection or container you may see matches “" {found.query} "”. "
                   <A href="/collections">"Browse the collections"</A>" instead."</p>
            </EmptyState>
        }
        .into_any();
    }
    let more = found.truncated.then(|| {
        view! { <p class="muted">"Only the best matches of each kind are shown: type more to narrow them down."</p> }
    });
    let items = found
        .hits
        .into_iter()
        .map(|hit| {
            view! {
                <li class="card search-hit">
                    <A href=hit.href() attr:class="search-hit-link"><HitLine hit=hit /></A>
                </li>
            }
        })
        .collect_view();
    view! {
        <ul class="search-results" data-testid="search-results">{items}</ul>
        {more}
    }
    .into_any()
}
