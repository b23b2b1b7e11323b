//! `/c/:entity/:collection/:container`: tags per architecture, images, and pull commands.
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::get_container;
use crate::components::{
    use_site, Badge, Command, EmptyState, ErrorView, Loading, PageTitle, Time,
};
use crate::format::{human_bytes, plural, short_sha};
use crate::model::{ContainerData, ImageInfo, SiteInfo, TagInfo};
use crate::pull;
use crate::stars::StarButton;

use super::container_share::SharePanel;
use super::container_sif::SifSection;
use super::container_versions::VersionHistory;
use super::EntityLink;
use crate::charts::UsagePanel;

#[component]
pub fn ContainerPage() -> impl IntoView {
    let params = use_params_map();
    let param = move |name: &str| params.read().get(name).unwrap_or_default();
    let data = LocalResource::new(move || {
        get_container(param("entity"), param("collection"), param("container"))
    });
    let site = use_site();
    let path = move || {
        format!(
            "{}/{}/{}",
            param("entity"),
            param("collection"),
            param("container")
        )
    };
    view! {
        <PageTitle text=Signal::derive(path) />
        <Transition fallback=|| view! { <Loading what="the container" /> }>
            {move || Suspend::new(async move {
                let data = data.await;
                let site = site.0.await;
                match (data, site) {
                    (Ok(data), Ok(site)) => view! { <ContainerBody data=data site=site /> }.into_any(),
                    (Err(error), _) | (_, Err(error)) => {
                        let what = format!("container {}", path());
                        view! { <ErrorView error=error what=what /> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// The tag a visitor most likely wants: `latest` for amd64, else the first `latest`, else the
/// first tag.
fn default_tag(tags: &[TagInfo]) -> Option<&TagInfo> {
    tags.iter()
        .find(|t| t.name == "latest" && t.arch == "amd64")
        .or_else(|| tags.iter().find(|t| t.name == "latest"))
        .or_else(|| tags.first())
}

#[component]
fn ContainerBody(data: ContainerData, site: SiteInfo) -> impl IntoView {
    let container = data.container.clone();
    let main_pull = match default_tag(&data.tags) {
        Some(tag) => {
            let command = pull::library_pull(&site, &container, &tag.name, &tag.arch);
            let short = pull::library_pull_short(&container, &tag.name, &tag.arch);
            let oras = pull::oras_pull(&site, &container, &tag.name);
            let shub = pull::shub_pull(&site, &container, &tag.name);
            view! {
                <div class="pull-main" data-testid="pull-command">
                    <Command text=command label="Copy pull command" />
                </div>
                <details class="setup other-clients" data-testid="other-clients">
                    <summary>"Pull with oras:// or shub://"</summary>
                    <Command text=oras label="Copy oras pull command" />
                    <Command text=shub label="Copy shub pull command" />
                </details>
                <details class="setup">
                    <summary>"Use this registry as your default remote"</summary>
                    <p>"Register it once:"</p>
                    <Command text=pull::remote_setup(&site) />
                    <p>"Then the host can be left out:"</p>
                    <Command text=short />
                </details>
            }
            .into_any()
        }
        None => view! {
            <EmptyState title="No tags yet">
                <p>"This container has no tagged images yet; tag an image to pull it by name."</p>
            </EmptyState>
        }
        .into_any(),
    };

    let arches = data.arches();
    let tags_section = if data.tags.is_empty() {
        None
    } else {
        let groups = arches
            .into_iter()
            .map(|arch| {
                let rows = data
                    .tags
                    .iter()
                    .filter(|t| t.arch == arch)
                    .map(|tag| {
                        let image = data.image_of(tag);
                        let size = image.map_or_else(|| "—".to_string(), |i| human_bytes(i.size));
                        let command = pull::library_pull(&site, &container, &tag.name, &tag.arch);
                        view! {
                            <li class="tag-row">
                                <div class="tag-row-head">
                                    <span class="tag-name">{tag.name.clone()}</span>
                                    <span class="mono muted" title=tag.sha256.clone()>{short_sha(&tag.sha256).to_string()}</span>
                                    <span>{size}</span>
                                    <span class="muted">"tagged " <Time at=tag.updated_at.clone() /></span>
                                </div>
                                <Command text=command label=format!("Copy pull command for {}", tag.name) />
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <div class="arch-group">
                        <h3><Badge text=arch.clone() kind="arch" /></h3>
                        <ul class="tag-rows">{rows}</ul>
                    </div>
                }
            })
            .collect_view();
        Some(view! {
            <section class="card">
                <h2>"Tags"</h2>
                {groups}
            </section>
        })
    };

    let images_section = if data.images.is_empty() {
        let push = format!(
            "apptainer push image.sif library://{}/{}:<tag>",
            site.library_host,
            container.path()
        );
        view! {
            <section class="card">
                <h2>"Images"</h2>
                <EmptyState title="No images yet">
                    <p>"Push an image into this container:"</p>
                    <Command text=push />
                </EmptyState>
            </section>
        }
        .into_any()
    } else {
        let cards = data
            .images
            .iter()
            .map(|image| view! { <ImageCard image=image.clone() site=site.clone() container=container.clone() /> })
            .collect_view();
        view! {
            <section class="card">
                <h2>"Images"</h2>
                <div class="images">{cards}</div>
            </section>
        }
        .into_any()
    };

    let description = (!data.description.is_empty())
        .then(|| view! { <p class="lead">{data.description.clone()}</p> });
    let readme = (!data.full_description.trim().is_empty())
        .then(|| view! { <section class="card"><h2>"About"</h2><pre class="readme">{data.full_description.clone()}</pre></section> });

    let parent = format!("{}/{}/", container.entity, container.collection);
    let star = view! {
        <StarButton
            entity=container.entity.clone()
            collection=container.collection.clone()
            container=container.container.clone()
        />
    };
    let usage_path = container.path();
    let share_panel = data
        .can_manage
        .then(|| view! { <SharePanel container=container.clone() /> });
    view! {
        <nav class="crumbs" aria-label="Breadcrumb">
            <A href="/collections">"Collections"</A>
            <span class="sep">"/"</span>
            <EntityLink name=container.entity.clone() />
            <span class="sep">"/"</span>
            <A href=container.collection_href()>{container.collection.clone()}</A>
            <span class="sep">"/"</span>
            <span aria-current="page">{container.container.clone()}</span>
        </nav>
        <div class="page-head">
            <h1 class="path-title">
                <span class="muted">{parent}</span>
                {container.container.clone()}
                {data.collection_private.then(|| view! { <Badge text="private" kind="private" /> })}
            </h1>
            {star}
            {description}
            <p class="muted small meta-line">
                <span>{plural(data.tags.len() as u64, "tag", "tags")}</span>
                <span>{plural(data.images.len() as u64, "image", "images")}</span>
                <span>{plural(data.downloads, "download", "downloads")}</span>
                <span>"updated " <Time at=data.updated_at.clone() /></span>
            </p>
        </div>
        <section class="card pull-card">
            <h2>"Pull"</h2>
            {main_pull}
        </section>
        {tags_section}
        {(!data.images.is_empty()).then(|| view! { <VersionHistory images=data.images.clone() /> })}
        <UsagePanel path=usage_path />
        {images_section}
        {readme}
        {share_panel}
    }
}

#[component]
fn ImageCard(
    image: ImageInfo,
    site: SiteInfo,
    container: crate::model::ContainerRef,
) -> impl IntoView {
    let tags = if image.tags.is_empty() {
        view! { <span class="muted">"untagged"</span> }.into_any()
    } else {
        image
            .tags
            .iter()
            .map(|t| view! { <span class="tag-name">{t.name.clone()}</span> })
            .collect_view()
            .into_any()
    };
    let status = if image.uploaded {
        None
    } else {
        Some(view! { <Badge text="upload incomplete" kind="warn" /> })
    };
    let flags = [
        (image.signed == Some(true)).then(|| view! { <Badge text="signed" kind="ok" /> }),
        (image.encrypted == Some(true)).then(|| view! { <Badge text="encrypted" kind="plain" /> }),
    ];
    let by_hash = image.uploaded.then(|| {
        let command =
            pull::library_pull_by_hash(&site, &container, &image.sha256, image.arch.as_deref());
        view! {
            <details class="by-hash">
                <summary>"Pull this exact image"</summary>
                <Command text=command label="Copy pull-by-hash command" />
            </details>
        }
    });
    view! {
        <article class="image">
            <dl class="facts">
                <div class="fact wide">
                    <dt>"sha256"</dt>
                    <dd class="mono sha">{image.sha256.clone()}</dd>
                </div>
                <div class="fact">
                    <dt>"Arch"</dt>
                    <dd>{image.arch.clone().unwrap_or_else(|| "—".into())}</dd>
                </div>
                <div class="fact">
                    <dt>"Size"</dt>
                    <dd title=format!("{} bytes", image.size)>{human_bytes(image.size)}</dd>
                </div>
                <div class="fact">
                    <dt>"Pushed"</dt>
                    <dd><Time at=image.pushed_at.clone() /></dd>
                </div>
                <div class="fact">
                    <dt>"Tags"</dt>
                    <dd class="tag-list">{tags}</dd>
                </div>
            </dl>
            <div class="image-flags">{status} {flags}</div>
            {image.sif.clone().map(|sif| view! { <SifSection sif=sif /> })}
            {by_hash}
        </article>
    }
}
