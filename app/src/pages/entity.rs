//! `/c/:entity`: a user's or group's collections (those the viewer may see), the stars they
//! received and how often they were pulled.
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::get_entity;
use crate::components::{Badge, EmptyState, ErrorView, Loading, PageTitle, Stat, Time};
use crate::format::{human_bytes, plural};
use crate::model::EntityData;

/// A link to an entity's page.
#[component]
pub fn EntityLink(#[prop(into)] name: String) -> impl IntoView {
    view! { <A href=format!("/c/{name}") attr:class="entity-link">{name.clone()}</A> }
}

#[component]
pub fn EntityPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let entity = move || params.read().get("entity").unwrap_or_default();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u64>().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1)
    };
    let data = LocalResource::new(move || get_entity(entity(), page()));
    view! {
        <PageTitle text=Signal::derive(entity) />
        <Transition fallback=|| view! { <Loading what="the entity" /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <EntityBody data=data /> }.into_any(),
                    Err(error) => {
                        let what = format!("entity {}", entity());
                        view! { <ErrorView error=error what=what /> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn EntityBody(data: EntityData) -> impl IntoView {
    let base = format!("/c/{}", data.name);
    let list = if data.listed.is_empty() {
        view! {
            <EmptyState title="No collections to show">
                <p>"This entity has no collections you can see."</p>
            </EmptyState>
        }
        .into_any()
    } else {
        let rows = data
            .listed
            .clone()
            .into_iter()
            .map(|c| {
                let href = format!("{base}/{}", c.name);
                view! {
                    <tr>
                        <td>
                            <A href=href attr:class="collection-link"><strong>{c.name.clone()}</strong></A>
                            {c.private.then(|| view! { " " <Badge text="private" kind="private" /> })}
                            {(!c.description.is_empty()).then(|| view! { <div class="muted small">{c.description.clone()}</div> })}
                        </td>
                        <td class="num">{c.containers}</td>
                        <td class="num">{human_bytes(c.size_bytes)}</td>
                        <td class="num">{c.downloads}</td>
                        <td class="num">{c.stars}</td>
                        <td><Time at=c.updated_at /></td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="table-wrap">
                <table class="table" data-testid="entity-collections">
                    <thead>
                        <tr>
                            <th>"Collection"</th>
                            <th class="num">"Containers"</th>
                            <th class="num">"Size"</th>
                            <th class="num">"Pulls"</th>
                            <th class="num">"Stars"</th>
                            <th>"Updated"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    let pages = data.collections.div_ceil(data.per_page).max(1);
    let pager = (pages > 1).then(|| {
        let prev = (data.page > 1).then(|| {
            view! { <A href=format!("{base}?page={}", data.page - 1) attr:rel="prev">"← Previous"</A> }
        });
        let next = (data.page < pages).then(|| {
            view! { <A href=format!("{base}?page={}", data.page + 1) attr:rel="next">"Next →"</A> }
        });
        view! {
            <nav class="pager" aria-label="Pages">
                {prev}
                <span class="muted">{format!("Page {} of {pages}", data.page)}</span>
                {next}
            </nav>
        }
    });
    view! {
        <nav class="crumbs" aria-label="Breadcrumb">
            <A href="/collections">"Collections"</A>
            <span class="sep">"/"</span>
            <span aria-current="page">{data.name.clone()}</span>
        </nav>
        <div class="page-head">
            <h1 class="path-title" data-testid="entity-name">{data.name.clone()}</h1>
            {(!data.description.is_empty()).then(|| view! { <p class="lead">{data.description.clone()}</p> })}
            <p class="muted small">"since " <Time at=data.created_at.clone() /></p>
        </div>
        <div class="stats stats-auto" data-testid="entity-stats">
            <Stat label="collections" value=data.collections.to_string() />
            <Stat label="containers" value=data.containers.to_string() />
            <Stat label="stored" value=human_bytes(data.size_bytes) />
            <Stat label=plural_label(data.downloads, "pull", "pulls") value=data.downloads.to_string() />
            <Stat label=plural_label(data.stars, "star received", "stars received") value=data.stars.to_string() />
        </div>
        <section class="card">
            <h2>"Collections"</h2>
            {list}
            {pager}
        </section>
    }
}

/// The word of [`plural`] without the number.
fn plural_label(count: u64, one: &str, many: &str) -> String {
    plural(count, one, many)
        .split_once(' ')
        .map(|(_, word)| word.to_string())
        .unwrap_or_default()
}
