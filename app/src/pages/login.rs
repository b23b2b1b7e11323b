//! `/login`: sign in with a user name and an API token (`silo token create <user>`).
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::session::login;
use crate::components::PageTitle;
use crate::session::use_viewer;

/// Where to go after signing in: a local path from `?return_to=` (or `?next=`), else home.
fn local_target(next: Option<String>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\"))
        .unwrap_or_else(|| "/".into())
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let viewer = use_viewer();
    let navigate = use_navigate();
    let query = use_query_map();
    let username = RwSignal::new(String::new());
    let token = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
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
    view! {
        <PageTitle text="Sign in" />
        <section class="card auth-card">
            <h1>"Sign in"</h1>
            <p class="muted">
                "Use your user name and one of your API tokens. An administrator creates one with "
                <code>"silo token create <user>"</code> "; it is the same token "
                <code>"apptainer remote login"</code> " uses."
            </p>
            {move || viewer.get().map(|v| view! {
                <p class="note" data-testid="already-signed-in">"You are signed in as " <strong>{v.username}</strong> "."</p>
            })}
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
    use super::local_target;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_target(Some("/c/a/b".into())), "/c/a/b");
        assert_eq!(local_target(Some("//evil.example".into())), "/");
        assert_eq!(local_target(Some("https://evil.example".into())), "/");
        assert_eq!(local_target(None), "/");
    }
}
