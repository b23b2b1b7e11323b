//! `/share/:secret`: what a share link opens, for anyone holding it: the shared container, its
//! tags with a download button and the `curl` and `shub://` commands for each.
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::tokens::get_shared;
use crate::components::{Badge, Command, EmptyState, ErrorView, Loading, PageTitle, Time};
use crate::format::{human_bytes, short_sha};
use crate::model::tokens::SharedData;

#[component]
pub fn SharePage() -> impl IntoView {
    let params = use_params_map();
    let data =
        LocalResource::new(move || get_shared(params.read().get("secret").unwrap_or_default()));
    view! {
        <PageTitle text="Shared container" />
        <Transition fallback=|| view! { <Loading what="the shared container" /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <SharedBody data=data /> }.into_any(),
                    Err(error) => view! { <ErrorView error=error what="share link (it may have expired or been revoked)" /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// `?tag=…` plus `&arch=…` when not the default architecture.
fn download_query(tag: &str, arch: &str) -> String {
    if arch == "amd64" {
        format!("?tag={tag}")
    } else {
        format!("?tag={tag}&arch={arch}")
    }
}

#[component]
fn SharedBody(data: SharedData) -> impl IntoView {
    let container = data.container.container.clone();
    let rows = data
        .container
        .tags
        .iter()
        .map(|tag| {
            let url = format!("{}{}", data.download_url, download_query(&tag.name, &tag.arch));
            let file = format!("{}_{}.sif", container.container, tag.name);
            let curl = format!("curl -fL -o {file} '{url}'");
            let shub = if tag.arch == "amd64" {
                Some(format!("apptainer pull {file} {}:{}", data.shub_ref, tag.name))
            } else {
                None
            };
            let size = data
                .container
                .image_of(tag)
                .map_or_else(|| "—".to_string(), |i| human_bytes(i.size));
            view! {
                <li class="tag-row" data-testid="shared-tag" data-tag=tag.name.clone()>
                    <div class="tag-row-head">
                        <span class="tag-name">{tag.name.clone()}</span>
                        <Badge text=tag.arch.clone() kind="arch" />
                        <span class="mono muted" title=tag.sha256.clone()>{short_sha(&tag.sha256).to_string()}</span>
                        <span>{size}</span>
                        <a class="button primary" href=url.clone() download=file.clone() data-testid="share-download">"Download"</a>
                    </div>
                    <Command text=curl label=format!("Copy curl command for {}", tag.name) />
                    {shub.map(|s| view! { <Command text=s label=format!("Copy shub pull command for {}", tag.name) /> })}
                </li>
            }
        })
        .collect_view();
    let tags = if data.container.tags.is_empty() {
        view! {
            <EmptyState title="No tags yet"><p>"Nothing has been pushed to this container yet."</p></EmptyState>
        }
        .into_any()
    } else {
        view! { <ul class="tag-rows">{rows}</ul> }.into_any()
    };
    view! {
        <div class="page-head">
            <p class="muted">"Shared with you"</p>
            <h1 class="path-title" data-testid="shared-path">
                {container.path()}
                {data.container.collection_private.then(|| view! { <Badge text="private" kind="private" /> })}
            </h1>
            {(!data.container.description.is_empty()).then(|| view! { <p class="lead">{data.container.description.clone()}</p> })}
            <p class="muted small">"This link works until " <Time at=data.expires_at.clone() /> " unless its owner revokes it."</p>
        </div>
        <section class="card">
            <h2>"Tags"</h2>
            {tags}
        </section>
    }
}
