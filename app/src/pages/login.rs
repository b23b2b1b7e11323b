//! `/login`: sign in with an institutional account (one button per configured OAuth 2 /
//! OpenID Connect provider, and a directory form when LDAP is configured — both listed by
//! `GET /auth/providers`), or with a user name and an API token (`silo token create <user>`).
//! Failed institutional sign-ins come back as `/login?error=<message>`, shown here.
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use serde::Deserialize;

use crate::api::session::login;
use crate::components::PageTitle;
use crate::session::use_viewer;

/// Where to go after signing in: a local path from `?return_to=` (or `?next=`), else home.
fn local_target(next: Option<String>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\"))
        .unwrap_or_else(|| "/".into())
}

/// One sign-in backend of `GET /auth/providers`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct SignInProvider {
    pub id: String,
    pub name: String,
    pub kind: String,
}

/// The address a provider's button leads to.
fn provider_href(id: &str, next: &str) -> String {
    format!("/auth/login/{id}?return_to={}", encode_component(next))
}

fn encode_component(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The configured sign-in backends (empty when none or on error).
#[cfg(feature = "csr")]
fn load_providers(into: RwSignal<Vec<SignInProvider>>) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    let Ok(xhr) = web_sys::XmlHttpRequest::new() else {
        return;
    };
    if xhr.open_with_async("GET", "/auth/providers", true).is_err() {
        return;
    }
    let answered = xhr.clone();
    let on_end = Closure::once(move |_: web_sys::Event| {
        if answered.status().unwrap_or(0) == 200 {
            let text = answered.response_text().ok().flatten().unwrap_or_default();
            if let Ok(list) = serde_json::from_str::<Vec<SignInProvider>>(&text) {
                into.set(list);
            }
        }
    });
    xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
    on_end.forget();
    let _ = xhr.send();
}

#[cfg(not(feature = "csr"))]
fn load_providers(_into: RwSignal<Vec<SignInProvider>>) {}

#[component]
pub fn LoginPage() -> impl IntoView {
    let viewer = use_viewer();
    let navigate = use_navigate();
    let query = use_query_map();
    let username = RwSignal::new(String::new());
    let token = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let providers = RwSignal::new(Vec::<SignInProvider>::new());
    load_providers(providers);
    let next = move || local_target(query.read().get("next"));
    let returned_error = move || query.read().get("error").filter(|e| !e.trim().is_empty());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let next = {
            let query = query.read_untracked();
            local_target(query.get("return_to").or_else(|| query.get("next")))
        };
        let navigate = navigate.clone();
        let (name, secret) = (username.get_untracked(), token.get_untracked());
        if name.trim().is_empty() || secret.trim().is_empty() {
            error.set(Some("Enter your user name and an API token.".into()));
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match login(name, secret).await {
                Ok(_) => {
                    token.set(String::new());
                    viewer.refresh();
                    navigate(&next, Default::default());
                }
                Err(err) => error.set(Some(err.to_string())),
            }
            busy.set(false);
        });
    };
    let oauth_buttons = move || {
        providers
            .get()
            .into_iter()
            .filter(|p| p.kind != "ldap")
            .map(|p| {
                let href = provider_href(&p.id, &next());
                view! {
                    <a class="button primary" rel="external" href=href data-testid=format!("provider-{}", p.id)>
                        {format!("Sign in with {}", p.name)}
                    </a>
                }
            })
            .collect_view()
    };
    let ldap_form = move || {
        providers.get().into_iter().find(|p| p.kind == "ldap").map(|p| view! {
            <form class="form" method="post" action="/auth/ldap" data-testid="ldap-form">
                <h2>{p.name.clone()}</h2>
                <input type="hidden" name="return_to" value=next />
                <label class="field">
                    <span>"Login"</span>
                    <input type="text" name="username" autocomplete="username" required />
                </label>
                <label class="field">
                    <span>"Password"</span>
                    <input type="password" name="password" autocomplete="current-password" required />
                </label>
                <button type="submit" class="button primary">{format!("Log in with {}", p.name)}</button>
            </form>
        })
    };
    view! {
        <PageTitle text="Sign in" />
        <section class="card auth-card">
            <h1>"Sign in"</h1>
            {move || viewer.get().map(|v| view! {
                <p class="note" data-testid="already-signed-in">"You are signed in as " <strong>{v.username}</strong> "."</p>
            })}
            {move || returned_error().map(|e| view! {
                <p class="form-error" role="alert" data-testid="login-error">{e}</p>
            })}
            <div class="form sign-in-providers" data-testid="sign-in-providers">{oauth_buttons}</div>
            {ldap_form}
            {move || (!providers.get().is_empty()).then(|| view! { <h2>"Or with an API token"</h2> })}
            <p class="muted">
                "Use your user name and one of your API tokens. An administrator creates one with "
                <code>"silo token create <user>"</code> "; it is the same token "
                <code>"apptainer remote login"</code> " uses."
            </p>
            <form class="form" on:submit=on_submit>
                <label class="field">
                    <span>"User name"</span>
                    <input type="text" name="username" autocomplete="username" required bind:value=username />
                </label>
                <label class="field">
                    <span>"API token"</span>
                    <input type="password" name="token" autocomplete="current-password" required bind:value=token />
                </label>
                {move || error.get().map(|e| view! { <p class="form-error" role="alert" data-testid="login-error">{e}</p> })}
                <button type="submit" class="button primary" disabled=move || busy.get()>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::{local_target, provider_href};

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_target(Some("/c/a/b".into())), "/c/a/b");
        assert_eq!(local_target(Some("//evil.example".into())), "/");
        assert_eq!(local_target(Some("https://evil.example".into())), "/");
        assert_eq!(local_target(None), "/");
    }

    #[test]
    fn provider_links_carry_the_return_path() {
        assert_eq!(
            provider_href("gitlab", "/c/a/b?x=1&y=2"),
            "/auth/login/gitlab?return_to=/c/a/b%3Fx%3D1%26y%3D2"
        );
    }
}
