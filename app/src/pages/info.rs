//! `/about`, `/tools` and `/terms`: the centre's own words (from the branding settings) or a
//! default text naming the centre, and how to set up each client.
use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::{use_site, Command, Loading, PageTitle};
use crate::model::SiteInfo;
use crate::pull;

/// Paragraphs of configured text (separated by blank lines).
fn paragraphs(text: &str) -> Vec<AnyView> {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| view! { <p>{p.to_string()}</p> }.into_any())
        .collect()
}

/// Renders `body` once the site information is known.
fn with_site<V: IntoView + 'static>(
    body: impl Fn(SiteInfo) -> V + Send + Sync + 'static,
) -> impl IntoView {
    let site = use_site();
    move || match site.get() {
        Some(info) => body(info).into_any(),
        None => view! { <Loading /> }.into_any(),
    }
}

fn help_line(site: &SiteInfo) -> AnyView {
    if site.help_email.is_empty() {
        view! { <p>"Ask the people who run this registry for help."</p> }.into_any()
    } else {
        let mail = format!("mailto:{}", site.help_email);
        view! { <p>"Help: " <a href=mail>{site.help_email.clone()}</a></p> }.into_any()
    }
}

#[component]
pub fn AboutPage() -> impl IntoView {
    view! {
        <PageTitle text="About" />
        <article class="prose" data-page="about">
            {with_site(|site| {
                let own = paragraphs(&site.about);
                let body = if own.is_empty() {
                    let by = if site.institution_name.is_empty() {
                        String::new()
                    } else {
                        format!(" for {}", site.institution_name)
                    };
                    view! {
                        <p>{format!("{}{by} keeps Apptainer and SingularityCE images close to the machines that run them.", site.name)}</p>
                        <p>"Researchers and CI jobs push and pull SIF images with their usual clients: "
                           <code>"library://"</code>", "<code>"oras://"</code>", "<code>"shub://"</code>
                           " and the sregistry client. Public images can be pulled by anyone; private ones only by those granted access."</p>
                    }.into_any()
                } else {
                    own.into_any()
                };
                let institution = (!site.institution_url.is_empty()).then(|| view! {
                    <p><a href=site.institution_url.clone()>{if site.institution_name.is_empty() { site.institution_url.clone() } else { site.institution_name.clone() }}</a></p>
                });
                view! {
                    <h1>{format!("About {}", site.name)}</h1>
                    {body}
                    {institution}
                    {help_line(&site)}
                    <p class="muted">"Runs Silo. See the " <A href="/tools">"tools page"</A> " to set up a client."</p>
                }
            })}
        </article>
    }
}

#[component]
pub fn TermsPage() -> impl IntoView {
    view! {
        <PageTitle text="Terms of use" />
        <article class="prose" data-page="terms">
            {with_site(|site| {
                let own = paragraphs(&site.terms);
                let body = if own.is_empty() {
                    view! {
                        <p>{format!("{} is run for research and teaching. Push only images you may share under their licences, and keep secrets (keys, passwords, data under restriction) out of them.", site.name)}</p>
                        <p>"Public images can be pulled by anyone who can reach this registry. Private collections are visible to their owners, their teams and the administrators."</p>
                        <p>"Pulls are counted per image and day to show usage; the registry keeps no other record of who pulls public images."</p>
                        <p>"The administrators may remove images that break these terms or the institution's rules."</p>
                    }.into_any()
                } else {
                    own.into_any()
                };
                view! {
                    <h1>"Terms of use"</h1>
                    {body}
                    {help_line(&site)}
                }
            })}
        </article>
    }
}

#[component]
pub fn ToolsPage() -> impl IntoView {
    view! {
        <PageTitle text="Tools" />
        <article class="prose tools" data-page="tools">
            {with_site(|site| {
                let host = site.library_host.clone();
                let url = site.public_url.clone();
                let example = format!("{host}/<entity>/<collection>/<container>");
                let login = format!("apptainer remote add {} {url}\napptainer remote login {}", site.remote_name, site.remote_name);
                let library = format!("apptainer push image.sif library://{example}:latest\napptainer pull library://{example}:latest\napptainer search --library {url} <text>");
                let oras = format!("apptainer registry login --username <user> oras://{host}\napptainer push image.sif oras://{example}:latest\napptainer pull oras://{example}:latest");
                let shub = format!("apptainer pull shub://{example}:latest");
                let sregistry = format!("export SREGISTRY_CLIENT=registry\nsregistry pull {example}:latest\nsregistry push --name {example} --tag latest image.sif");
                view! {
                    <h1>"Tools"</h1>
                    <p>{format!("Every Apptainer and SingularityCE client talks to {} directly; pick the protocol your workflow already uses.", site.name)}</p>
                    <h2 id="remote">"Set up Apptainer"</h2>
                    <p>"Add the registry as a remote once; logging in asks for an API token, which an administrator creates with "<code>"silo token create <user>"</code>" (anonymous pulls of public images need no token: "<code>"--no-login"</code>")."</p>
                    <Command text=login label="Copy the remote set-up commands" />
                    <p>"Or without logging in:"</p>
                    <Command text=pull::remote_setup(&site) label="Copy the anonymous set-up commands" />
                    <h2 id="library">"library://"</h2>
                    <Command text=library label="Copy the library commands" />
                    <h2 id="oras">"oras:// (OCI registries)"</h2>
                    <p>"The same images, through the OCI distribution API; " <code>"oras"</code> " and " <code>"skopeo"</code> " work as well."</p>
                    <Command text=oras label="Copy the oras commands" />
                    <h2 id="shub">"shub://"</h2>
                    <Command text=shub label="Copy the shub command" />
                    <h2 id="sregistry">"sregistry client"</h2>
                    <p>"Scripts written for Singularity Registry Server keep working: put the output of "<code>"silo token create <user> --sregistry"</code>" in "<code>"~/.sregistry"</code>". The client wants the registry on port 443 (or 80), with the host in front of the name."</p>
                    <Command text=sregistry label="Copy the sregistry set-up" />
                    <h2 id="api">"HTTP API"</h2>
                    <p>"Read-only JSON over entities, collections, containers, images and usage: "
                       <a href="/api/docs" rel="external">"API documentation"</a>" ("
                       <a href="/api/openapi.json" rel="external">"OpenAPI document"</a>")."</p>
                    {help_line(&site)}
                }
            })}
        </article>
    }
}
