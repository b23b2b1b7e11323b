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
mod search;
pub mod session;
pub mod stars;
pub mod treemap;

use components::{Footer, Header, NotFound, Site};
use pages::{
    AboutPage, AdminAuditPage, AdminPage, AdminSettingsPage, AdminUsersPage, CollectionPage,
    CollectionsPage, ContainerPage, EntityPage, HomePage, LoginPage, SharePage, StatsPage,
    TermsPage, TokensPage, ToolsPage, UploadPage,
};
use pages::{RobotsPage, TeamPage, TeamsPage};
use search::SearchPage;

/// The application root.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(Site(LocalResource::new(api::get_site)));
    provide_context(session::SignedIn::new());
    // Set once the WASM app has rendered and its effects run: browser tests wait for it.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    view! {
        <Router>
            <div class="layout">
                <a class="skip-link" href="#silo-app">"Skip to content"</a>
                <Header />
                <main id="silo-app" tabindex="-1" class="wrap content" data-ready=move || ready.get().to_string()>
                    <Routes fallback=|| view! { <NotFound /> }>
                        <Route path=path!("/") view=HomePage />
                        <Route path=path!("/collections") view=CollectionsPage />
                        <Route path=path!("/search") view=SearchPage />
                        <Route path=path!("/about") view=AboutPage />
                        <Route path=path!("/tools") view=ToolsPage />
                        <Route path=path!("/terms") view=TermsPage />
                        <Route path=path!("/login") view=LoginPage />
                        <Route path=path!("/auth/tokens") view=TokensPage />
                        <Route path=path!("/share/:secret") view=SharePage />
                        <Route path=path!("/images/upload") view=UploadPage />
                        <Route path=path!("/stats") view=StatsPage />
                        <Route path=path!("/admin") view=AdminPage />
                        <Route path=path!("/admin/users") view=AdminUsersPage />
                        <Route path=path!("/admin/settings") view=AdminSettingsPage />
                        <Route path=path!("/admin/audit") view=AdminAuditPage />
                        <Route path=path!("/teams") view=TeamsPage />
                        <Route path=path!("/teams/:name") view=TeamPage />
                        <Route path=path!("/robots") view=RobotsPage />
                        <Route path=path!("/c/:entity") view=EntityPage />
                        <Route path=path!("/c/:entity/:collection") view=CollectionPage />
                        <Route path=path!("/c/:entity/:collection/:container") view=ContainerPage />
                        <Route path=path!("/treemap/:entity?/:collection?") view=treemap::TreemapPage />
                    </Routes>
                </main>
                <Footer />
            </div>
        </Router>
    }
}
