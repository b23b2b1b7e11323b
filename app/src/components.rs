//! Pieces shared by the pages: layout, loading and error states, copyable commands.
use leptos::prelude::*;
use leptos_router::components::A;

use crate::error::SiloError;
use crate::model::SiteInfo;
use crate::session::AccountNav;

/// The site information, loaded once when the app starts and shared through context.
#[derive(Clone, Copy)]
pub struct Site(pub LocalResource<Result<SiteInfo, SiloError>>);

impl Site {
    /// The site information once loaded.
    pub fn get(&self) -> Option<SiteInfo> {
        self.0.get().and_then(Result::ok)
    }

    /// The centre's name, or "Silo" until it is known.
    pub fn name(&self) -> String {
        self.get()
            .map(|s| s.name)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "Silo".into())
    }
}

pub fn use_site() -> Site {
    expect_context::<Site>()
}

/// Sets the document title to `<page> · <centre>`.
#[component]
pub fn PageTitle(#[prop(into)] text: Signal<String>) -> impl IntoView {
    let site = use_site();
    let title = move || {
        let page = text.get();
        if page.is_empty() {
            site.name()
        } else {
            format!("{page} · {}", site.name())
        }
    };
    view! { <leptos_meta::Title text=title /> }
}

#[component]
pub fn Header() -> impl IntoView {
    let site = use_site();
    view! {
        <header class="site-header">
            <div class="wrap header-inner">
                <A href="/" attr:class="brand">
                    <img src=move || site.get().map_or_else(|| "/logo.svg".to_string(), |s| s.logo_url) alt="" width="28" height="28" class="brand-logo" />
                    <span class="brand-name">{move || site.name()}</span>
                </A>
                <nav class="site-nav" aria-label="Main">
                    <A href="/" exact=true>"Home"</A>
                    <A href="/collections">"Collections"</A>
                    <A href="/treemap">"Treemap"</A>
                    <A href="/stats">"Usage"</A>
                </nav>
                <crate::search::SearchBox />
                <AccountNav />
            </div>
        </header>
    }
}

#[component]
pub fn Footer() -> impl IntoView {
    let site = use_site();
    let institution = move || {
        site.get()
            .filter(|s| !s.institution_name.is_empty())
            .map(|s| {
                if s.institution_url.is_empty() {
                    view! { <span>{s.institution_name}</span> }.into_any()
                } else {
                    view! { <a href=s.institution_url>{s.institution_name}</a> }.into_any()
                }
            })
    };
    let help = move || {
        site.get().filter(|s| !s.help_email.is_empty()).map(|s| {
            view! {
                <span>"Help: " <a href=format!("mailto:{}", s.help_email)>{s.help_email.clone()}</a></span>
            }
        })
    };
    view! {
        <footer class="site-footer">
            <div class="wrap footer-inner">
                <span>{institution}</span>
                {help}
                <nav class="footer-nav" aria-label="About this registry">
                    <A href="/about">"About"</A>
                    <A href="/tools">"Tools"</A>
                    <A href="/terms">"Terms"</A>
                    <a href="/api/docs" rel="external">"API"</a>
                </nav>
                <span class="muted">"Powered by Silo"</span>
            </div>
        </footer>
    }
}

/// Shown while data is on its way.
#[component]
pub fn Loading(#[prop(optional, into)] what: Option<String>) -> impl IntoView {
    let label = what.map_or_else(|| "Loading…".to_string(), |w| format!("Loading {w}…"));
    view! {
        <div class="loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            <span>{label}</span>
        </div>
    }
}

/// A friendly "nothing here yet".
#[component]
pub fn EmptyState(#[prop(into)] title: String, children: Children) -> impl IntoView {
    view! {
        <div class="empty">
            <p class="empty-title">{title}</p>
            <div class="empty-body">{children()}</div>
        </div>
    }
}

/// The 404 page; `what` names what was looked for.
#[component]
pub fn NotFound(#[prop(optional, into)] what: Option<String>) -> impl IntoView {
    let message = what.map_or_else(
        || "There is no page at this address.".to_string(),
        |w| format!("There is no {w} here, or it is private."),
    );
    view! {
        <PageTitle text="Not found" />
        <section class="notfound" data-status="404">
            <p class="notfound-code">"404"</p>
            <h1>"Not found"</h1>
            <p>{message}</p>
            <p>
                <A href="/collections">"Browse the collections"</A>
                " or go back "
                <A href="/">"home"</A>
                "."
            </p>
        </section>
    }
}

/// The "no access" page: sign in, or ask for access.
#[component]
pub fn NoAccess(signed_in: bool, #[prop(optional, into)] reason: Option<String>) -> impl IntoView {
    let site = use_site();
    let help = move || {
        site.get().filter(|s| !s.help_email.is_empty()).map(|s| {
            view! { <p>"Ask for access at " <a href=format!("mailto:{}", s.help_email)>{s.help_email.clone()}</a>"."</p> }
        })
    };
    let what = if signed_in {
        reason.unwrap_or_else(|| "Your account may not see or change this.".into())
    } else {
        "Sign in to see this page.".into()
    };
    let sign_in = (!signed_in).then(|| view! { <p><A href="/login">"Sign in"</A></p> });
    view! {
        <PageTitle text="No access" />
        <section class="notfound noaccess" data-status=if signed_in { "403" } else { "401" }>
            <p class="notfound-code">{if signed_in { "403" } else { "401" }}</p>
            <h1>"No access"</h1>
            <p>{what}</p>
            {sign_in}
            {help}
        </section>
    }
}

/// Shows a failed server call: not found becomes the 404 page.
#[component]
pub fn ErrorView(error: SiloError, #[prop(optional, into)] what: Option<String>) -> impl IntoView {
    match error {
        SiloError::NotFound => {
            view! { <NotFound what=what.unwrap_or_else(|| "such thing".into()) /> }.into_any()
        }
        SiloError::Unauthenticated => view! { <NoAccess signed_in=false /> }.into_any(),
        SiloError::Forbidden(reason) => {
            view! { <NoAccess signed_in=true reason=reason /> }.into_any()
        }
        other => view! {
            <PageTitle text="Error" />
            <section class="error-box" role="alert">
                <h1>"Something went wrong"</h1>
                <p>{other.to_string()}</p>
                <p class="muted">"Reload the page to try again."</p>
            </section>
        }
        .into_any(),
    }
}

/// A shell command with a copy button.
#[component]
pub fn Command(
    #[prop(into)] text: String,
    #[prop(optional, into)] label: Option<String>,
) -> impl IntoView {
    // None: idle; Some(true): copied; Some(false): the browser refused.
    let state = RwSignal::new(None::<bool>);
    let to_copy = text.clone();
    let on_click = move |_| {
        let text = to_copy.clone();
        leptos::task::spawn_local(async move {
            let ok = copy_to_clipboard(&text).await;
            state.set(Some(ok));
            set_timeout(
                move || state.set(None),
                std::time::Duration::from_millis(1800),
            );
        });
    };
    let aria = label.unwrap_or_else(|| "Copy command".into());
    view! {
        <div class="cmd">
            <pre class="cmd-text"><code>{command_tokens(&text)}</code></pre>
            <button
                type="button"
                class="copy-btn"
                class:copied=move || state.get() == Some(true)
                aria-label=aria
                on:click=on_click
            >
                {move || match state.get() {
                    None => "Copy",
                    Some(true) => "Copied",
                    Some(false) => "Copy failed",
                }}
            </button>
        </div>
    }
}

/// The command's words as unbreakable pieces, so lines wrap between words (not at the hyphen of
/// `--no-login`); the text itself, spaces and newlines included, stays exactly as given.
fn command_tokens(text: &str) -> Vec<AnyView> {
    let mut parts = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            parts.push("\n".into_any());
        }
        for (j, word) in line.split(' ').enumerate() {
            if j > 0 {
                parts.push(" ".into_any());
            }
            parts.push(view! { <span class="word">{word.to_string()}</span> }.into_any());
        }
    }
    parts
}

/// Copies text through the Clipboard API, or, where that is missing or refused (plain-HTTP
/// deployments are not a secure context), through a hidden text area.
#[cfg(feature = "csr")]
async fn copy_to_clipboard(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let navigator = window.navigator();
    let has_clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into())
        .map(|v| !v.is_undefined() && !v.is_null())
        .unwrap_or(false);
    if has_clipboard {
        let promise = navigator.clipboard().write_text(text);
        if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
            return true;
        }
    }
    copy_with_text_area(&window, text)
}

#[cfg(feature = "csr")]
fn copy_with_text_area(window: &web_sys::Window, text: &str) -> bool {
    use wasm_bindgen::JsCast;

    let Some(document) = window.document() else {
        return false;
    };
    let Some(body) = document.body() else {
        return false;
    };
    let Ok(area) = document.create_element("textarea") else {
        return false;
    };
    let Ok(area) = area.dyn_into::<web_sys::HtmlTextAreaElement>() else {
        return false;
    };
    area.set_value(text);
    let _ = area.set_attribute("readonly", "");
    let _ = area.set_attribute("style", "position:fixed;top:0;left:0;opacity:0");
    if body.append_child(&area).is_err() {
        return false;
    }
    area.select();
    let copied = document
        .dyn_into::<web_sys::HtmlDocument>()
        .ok()
        .and_then(|doc| doc.exec_command("copy").ok())
        .unwrap_or(false);
    area.remove();
    copied
}

#[cfg(not(feature = "csr"))]
async fn copy_to_clipboard(_text: &str) -> bool {
    false
}

/// A small label, such as "private".
#[component]
pub fn Badge(
    #[prop(into)] text: String,
    #[prop(optional, into)] kind: Option<String>,
) -> impl IntoView {
    let class = format!("badge badge-{}", kind.unwrap_or_else(|| "plain".into()));
    view! { <span class=class>{text}</span> }
}

/// One figure of a stats row.
#[component]
pub fn Stat(#[prop(into)] label: String, #[prop(into)] value: String) -> impl IntoView {
    view! {
        <div class="stat">
            <span class="stat-value">{value}</span>
            <span class="stat-label">{label}</span>
        </div>
    }
}

/// `<time>` with a machine-readable value.
#[component]
pub fn Time(at: crate::model::Timestamp) -> impl IntoView {
    view! { <time datetime=at.rfc3339.clone() title=at.rfc3339>{at.text}</time> }
}
