//! The signed-in user in the browser: loaded once, shared through context, refreshed after
//! signing in or out; and the header's sign-in / sign-out controls.
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::api::session::{get_viewer, logout};
use crate::error::SiloError;
use crate::model::session::Viewer;

/// Who is signed in, as loaded from the server.
#[derive(Clone, Copy)]
pub struct SignedIn(pub LocalResource<Result<Option<Viewer>, SiloError>>);

impl SignedIn {
    pub fn new() -> Self {
        SignedIn(LocalResource::new(get_viewer))
    }

    /// The signed-in user, once known.
    pub fn get(&self) -> Option<Viewer> {
        self.0.get().and_then(Result::ok).flatten()
    }

    /// Whether the answer has arrived.
    pub fn known(&self) -> bool {
        self.0.get().is_some()
    }

    /// Asks the server again (after signing in or out).
    pub fn refresh(&self) {
        self.0.refetch();
    }
}

impl Default for SignedIn {
    fn default() -> Self {
        Self::new()
    }
}

pub fn use_viewer() -> SignedIn {
    expect_context::<SignedIn>()
}

/// The header's account area: the user and "Sign out", or "Sign in".
#[component]
pub fn AccountNav() -> impl IntoView {
    let viewer = use_viewer();
    let navigate = use_navigate();
    let sign_out = move |_| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let _ = logout().await;
            viewer.refresh();
            navigate("/", Default::default());
        });
    };
    move || match viewer.get() {
        Some(user) => view! {
            <span class="account">
                {user.can_push.then(|| view! { <A href="/images/upload">"Upload"</A> })}
                {user.is_admin.then(|| view! {
                    <A href="/admin" attr:data-testid="admin-link">"Admin"</A>
                })}
                <A href="/auth/tokens" attr:data-testid="tokens-link">"Tokens"</A>
                <A href="/teams">"Teams"</A>
                <A href="/robots">"Robots"</A>
                <span class="account-name" data-testid="signed-in-user" title="Signed in">
                    {user.username.clone()}
                </span>
                <button type="button" class="link-button" on:click=sign_out.clone()>
                    "Sign out"
                </button>
            </span>
        }
        .into_any(),
        None => view! {
            <span class="account">
                <A href="/login">"Sign in"</A>
            </span>
        }
        .into_any(),
    }
}
