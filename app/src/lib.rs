//! Silo's browser SPA: Leptos components (client-side rendered) and the server functions they
//! call. Server-only code sits behind the `ssr` feature.
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub mod context;

/// The application root.
#[component]
pub fn App() -> impl IntoView {
    view! { <main id="silo-app">"Silo"</main> }
}
