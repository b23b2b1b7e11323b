//! `/c/:entity/:collection`: a collection and its containers.
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::get_collection;
use crate::components::{Badge, EmptyState, ErrorView, Loading, PageTitle, Time};
use crate::format::{human_bytes, plural};
use crate::model::CollectionData;
use crate::stars::StarButton;

use super::EntityLink;
use crate::charts::UsagePanel;

#[component]
pub fn CollectionPage() -> impl IntoView {
    let params = use_params_map();
    let entity = move || params.read().get("entity").unwrap_or_default();
    let collection = move || params.read().get("collection").unwrap_or_default();
    let data = LocalResource::new(move || get_collection(entity(), collection()));
    view! {
        <PageTitle text=Signal::derive(move || format!("{}/{}", entity(), collection())) />
        <Transition fallback=|| view! { <Loading what="the collection" /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <CollectionBody data=data /> }.into_any(),
                    Err(error) => {
                        let what = format!("collection {}/{}", entity(), collection());
                        view! { <ErrorView error=error what=what /> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn CollectionBody(data: CollectionData) -> impl IntoView {
    let base = format!("/c/{}/{}", data.entity, data.collection);
    let count = data.containers.len() as u64;
    let containers = if data.containers.is_empty() {
        view! {
            <EmptyState title="No containers yet">
                <p>"Containers appear here once an image is pushed into this collection."</p>
            </EmptyState>
        }
        .into_any()
    } else {
        let rows = data
            .containers
            .into_iter()
            .map(|c| {
                let href = format!("{base}/{}", c.name);
                view! {
                    <tr>
                        <td>
                            <A href=href attr:class="container-link"><strong>{c.name.clone()}</strong></A>
                            {(!c.description.is_empty()).then(|| view! { <div class="muted small">{c.description.clone()}</div> })}
                        </td>
                        <td class="num">{c.tags}</td>
                        <td class="num">{c.images}</td>
                        <td class="num">{human_bytes(c.total_bytes)}</td>
                        <td class="num">{c.downloads}</td>
                        <td class="num" data-testid="container-stars">{c.stars}</td>
                        <td><Time at=c.updated_at /></td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr>
                            <th>"Container"</th>
                            <th class="num">"Tags"</th>
                            <th class="num">"Images"</th>
                            <th class="num">"Size"</th>
                            <th class="num">"Downloads"</th>
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
    let usage_path = format!("{}/{}", data.entity, data.collection);
    view! {
        <nav class="crumbs" aria-label="Breadcrumb">
            <A href="/collections">"Collections"</A>
            <span class="sep">"/"</span>
            <EntityLink name=data.entity.clone() />
            <span class="sep">"/"</span>
            <span aria-current="page">{data.collection.clone()}</span>
        </nav>
        <div class="page-head">
            <h1 class="path-title">
                <span class="muted">{format!("{}/", data.entity)}</span>
                {data.collection.clone()}
                {data.private.then(|| view! { <Badge text="private" kind="private" /> })}
            </h1>
            <StarButton entity=data.entity.clone() collection=data.collection.clone() />
            {(!data.description.is_empty()).then(|| view! { <p class="lead">{data.description.clone()}</p> })}
            <p class="muted small">
                {plural(count, "container", "containers")} " · created " <Time at=data.created_at.clone() />
                {(!data.owners.is_empty()).then(|| view! {
                    " · owned by " <span data-testid="owners">{data.owners.join(", ")}</span>
                })}
            </p>
        </div>
        <section class="card">{containers}</section>
        <UsagePanel path=usage_path />
        <super::collection_access::AccessPanel entity=data.entity.clone() collection=data.collection.clone() />
    }
}
