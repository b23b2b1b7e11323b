//! The star toggle of collection and container pages.
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::stars::{get_stars, set_star};
use crate::model::stars::StarInfo;
use crate::session::use_viewer;

/// A button showing a target's star count; signed-in users toggle their star with it,
/// anonymous visitors are sent to the sign-in page. `container` empty: the collection.
#[component]
pub fn StarButton(
    #[prop(into)] entity: String,
    #[prop(into)] collection: String,
    #[prop(optional, into)] container: String,
) -> impl IntoView {
    let viewer = use_viewer();
    let navigate = use_navigate();
    let location = leptos_router::hooks::use_location();
    let target = (entity, collection, container);
    let state = RwSignal::new(None::<StarInfo>);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let initial = {
        let (e, c, n) = target.clone();
        LocalResource::new(move || get_stars(e.clone(), c.clone(), n.clone()))
    };
    Effect::new(move |_| {
        if let Some(Ok(info)) = initial.get() {
            state.set(Some(info));
        }
    });
    let toggle = move |_| {
        if viewer.get().is_none() {
            let next = location.pathname.get_untracked();
            navigate(&format!("/login?next={next}"), Default::default());
            return;
        }
        let on = !state.get_untracked().is_some_and(|s| s.starred);
        let (e, c, n) = target.clone();
        busy.set(true);
        leptos::task::spawn_local(async move {
            match set_star(e, c, n, on).await {
                Ok(info) => {
                    state.set(Some(info));
                    error.set(None);
                }
                Err(err) => error.set(Some(err.to_string())),
            }
            busy.set(false);
        });
    };
    let starred = move || state.get().is_some_and(|s| s.starred);
    let count = move || state.get().map_or(0, |s| s.count);
    let label = move || {
        if viewer.get().is_none() {
            "Sign in to star".to_string()
        } else if starred() {
            "Remove your star".to_string()
        } else {
            "Star".to_string()
        }
    };
    view! {
        <span class="star-wrap">
            <button
                type="button"
                class="star-button"
                class:starred=starred
                data-testid="star-toggle"
                aria-pressed=move || starred().to_string()
                title=label
                disabled=move || busy.get() || state.get().is_none()
                on:click=toggle
            >
                <span class="star-icon" aria-hidden="true">{move || if starred() { "★" } else { "☆" }}</span>
                <span class="star-label">{move || if starred() { "Starred" } else { "Star" }}</span>
                <span class="star-count" data-testid="star-count" aria-label="stars">{count}</span>
            </button>
            {move || error.get().map(|e| view! { <span class="star-error" role="alert">{e}</span> })}
        </span>
    }
}
