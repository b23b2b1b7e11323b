//! Silo's browser SPA: Leptos components (client-side rendered) and the server functions they
//! call. Server-only code sits behind the `ssr` feature.
use leptos::prelude::*;
use leptos_meta::provide_meta_context;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

pub mod api;
pub mod charts;
pub mod components;
#[cfg(feature = "ssr")]
pub mod context;
pub mod error;
pub mod format;
pub mod model;
mod pages;
pub mod pull;

use components::{Footer, Header, NotFound, Site};
use pages::{CollectionPage, CollectionsPage, ContainerPage, EntityPage, HomePage, StatsPage};

/// The application root.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(Site(LocalResource::new(api::get_site)));
    // Set once the WASM app has rendered and its effects run: browser tests wait for it.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    view! {
        <Router>
            <div class="layout">
                <Header />
                <main id="silo-app" class="wrap content" data-ready=move || ready.get().to_string()>
                    <Routes fallback=|| view! { <NotFound /> }>
                        <Route path=path!("/") view=HomePage />
                        <Route path=path!("/collections") view=CollectionsPage />
                        <Route path=path!("/stats") view=StatsPage />
                        <Route path=path!("/c/:entity") view=EntityPage />
                        <Route path=path!("/c/:entity/:collection") view=CollectionPage />
                        <Route path=path!("/c/:entity/:collection/:container") view=ContainerPage />
                    </Routes>
                </main>
                <Footer />
            </div>
        </Router>
    }
}
