//! The administration pages (`/admin`, `/admin/users`, `/admin/settings`, `/admin/audit`):
//! for administrators signed in with an admin-scoped credential. Others get the no-access
//! page; the server functions refuse them anyway (`Registry` checks `require_admin`).
use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::{Loading, NoAccess, PageTitle};
use crate::session::use_viewer;

mod audit;
mod settings;
mod users;
mod users_forms;

pub use audit::AdminAuditPage;
pub use settings::AdminSettingsPage;
pub use users::AdminUsersPage;

/// Renders `children` for administrators, the no-access page for everyone else.
#[component]
fn AdminGate(children: ChildrenFn) -> impl IntoView {
    let viewer = use_viewer();
    move || {
        if !viewer.known() {
            return view! { <Loading /> }.into_any();
        }
        match viewer.get() {
            None => view! { <NoAccess signed_in=false /> }.into_any(),
            Some(v) if !v.is_admin => view! {
                <NoAccess signed_in=true reason="These pages are for administrators signed in with an admin token." />
            }
            .into_any(),
            Some(_) => children().into_any(),
        }
    }
}

/// The admin pages' own navigation.
#[component]
fn AdminNav() -> impl IntoView {
    view! {
        <nav class="admin-nav" aria-label="Administration">
            <A href="/admin" exact=true>"Overview"</A>
            <A href="/admin/users">"Users"</A>
            <A href="/admin/settings">"Settings"</A>
            <A href="/admin/audit">"Audit log"</A>
        </nav>
    }
}

/// A line of feedback after an action: `Ok` text as a status, `Err` text as an alert.
#[component]
fn Feedback(message: RwSignal<Option<Result<String, String>>>) -> impl IntoView {
    move || {
        message.get().map(|m| match m {
            Ok(text) => {
                view! { <p class="form-ok" role="status" data-testid="admin-ok">{text}</p> }
                    .into_any()
            }
            Err(text) => {
                view! { <p class="form-error" role="alert" data-testid="admin-error">{text}</p> }
                    .into_any()
            }
        })
    }
}

/// `/admin`: what administrators can do, with links.
#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <PageTitle text="Administration" />
        <AdminGate>
            <div class="page-head">
                <h1>"Administration"</h1>
                <AdminNav />
            </div>
            <div class="cards admin-cards">
                <section class="card">
                    <h2><A href="/admin/users">"Users"</A></h2>
                    <p>"Find accounts by name or e-mail; make people administrators; disable, enable or delete accounts (transferring or deleting their images); create accounts ahead of first sign-in; set storage quotas for users and teams."</p>
                </section>
                <section class="card">
                    <h2><A href="/admin/settings">"Settings"</A></h2>
                    <p>"Who may create an account by signing in (open, closed, or restricted to e-mail domains or directory groups), and the registry's name, contacts, logo and texts."</p>
                </section>
                <section class="card">
                    <h2><A href="/admin/audit">"Audit log"</A></h2>
                    <p>"Every sign-in failure, administrative and permission-changing action: when, who, what, and the details."</p>
                </section>
            </div>
        </AdminGate>
    }
}

/// Previous / next links of a paged admin list.
#[component]
fn Pager(page: u64, pages: u64, href: impl Fn(u64) -> String + 'static) -> impl IntoView {
    (pages > 1).then(|| {
        let prev = (page > 1).then(|| view! { <A href=href(page - 1)>"← Previous"</A> });
        let next = (page < pages).then(|| view! { <A href=href(page + 1)>"Next →"</A> });
        view! {
            <nav class="pager admin-pager" aria-label="Pages">
                {prev}
                <span class="muted">{format!("Page {page} of {pages}")}</span>
                {next}
            </nav>
        }
    })
}
