//! `/`: the centre, how to get help, what is here, and the latest pushes.
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::get_home;
use crate::components::{use_site, Command, EmptyState, ErrorView, Loading, PageTitle, Stat, Time};
use crate::format::{human_bytes, short_sha};
use crate::model::{HomeData, SiteInfo};
use crate::pull;

use super::home_highlights::HomeHighlights;
use super::EntityLink;

#[component]
pub fn HomePage() -> impl IntoView {
    let site = use_site();
    let home = LocalResource::new(get_home);
    view! {
        <PageTitle text="" />
        <section class="hero">
            <h1 class="hero-title">{move || site.name()}</h1>
            <p class="hero-lead">"Container registry for Apptainer and SingularityCE images."</p>
            {move || site.get().map(|s| view! { <Contacts site=s /> })}
        </section>
        <Transition fallback=|| view! { <Loading what="the registry" /> }>
            {move || Suspend::new(async move {
                match home.await {
                    Ok(data) => view! { <HomeBody data=data /> }.into_any(),
                    Err(error) => view! { <ErrorView error=error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Contacts(site: SiteInfo) -> impl IntoView {
    let institution = (!site.institution_name.is_empty()).then(|| {
        let name = site.institution_name.clone();
        let link = if site.institution_url.is_empty() {
            view! { <strong>{name}</strong> }.into_any()
        } else {
            view! { <a href=site.institution_url.clone() class="institution-link">{name}</a> }
                .into_any()
        };
        view! { <p class="hero-meta">"Operated by " {link} "."</p> }
    });
    let help = (!site.help_email.is_empty()).then(|| {
        let mail = site.help_email.clone();
        view! {
            <p class="hero-meta">
                "Questions or problems? Write to "
                <a class="help-email" href=format!("mailto:{mail}")>{mail.clone()}</a>
                "."
            </p>
        }
    });
    view! { {institution} {help} }
}

#[component]
fn HomeBody(data: HomeData) -> impl IntoView {
    let site = use_site();
    let stats = view! {
        <div class="stats">
            <Stat label="collections" value=data.collections.to_string() />
            <Stat label="containers" value=data.containers.to_string() />
            <Stat label="images" value=data.images.to_string() />
            <Stat label="stored" value=human_bytes(data.total_bytes) />
        </div>
    };
    let recent = if data.recent.is_empty() {
        view! {
            <EmptyState title="No images yet">
                <p>"Nothing has been pushed to this registry yet. Push an image with:"</p>
                {move || site.get().map(|s| view! { <Command text=pull::push_example(&s) /> })}
            </EmptyState>
        }
        .into_any()
    } else {
        let rows = data
            .recent
            .into_iter()
            .map(|push| {
                let tags = if push.tags.is_empty() {
                    view! { <span class="muted">"untagged"</span> }.into_any()
                } else {
                    push.tags
                        .into_iter()
                        .map(|t| view! { <span class="tag-name">{t}</span> })
                        .collect_view()
                        .into_any()
                };
                view! {
                    <tr>
                        <td>
                            <EntityLink name=push.container.entity.clone() />
                            <span class="muted">"/"</span>
                            <A href=push.container.href()>{format!("{}/{}", push.container.collection, push.container.container)}</A>
                        </td>
                        <td>{tags}</td>
                        <td>{push.arch.unwrap_or_else(|| "—".into())}</td>
                        <td class="num">{human_bytes(push.size)}</td>
                        <td class="mono muted" title=push.sha256.clone()>{short_sha(&push.sha256).to_string()}</td>
                        <td><Time at=push.pushed_at /></td>
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
                            <th>"Tags"</th>
                            <th>"Arch"</th>
                            <th class="num">"Size"</th>
                            <th>"Image"</th>
                            <th>"Pushed"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        {stats}
        <HomeHighlights />
        <div class="grid-2">
            <section class="card">
                <h2>"Recent pushes"</h2>
                {recent}
            </section>
            <section class="card">
                <h2>"Getting started"</h2>
                <p>"Add this registry to Apptainer once:"</p>
                {move || site.get().map(|s| view! { <Command text=pull::remote_setup(&s) /> })}
                <p>
                    "Then "
                    <A href="/collections">"browse the collections"</A>
                    " and copy a pull command from any container page."
                </p>
            </section>
        </div>
    }
}
