//! `/admin/users?q=&page=`: the accounts list with search, role and status toggles, quotas,
//! and the delete dialog; the pre-create form and team quotas below it.
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::users_forms::{CreateUserForm, DeleteDialog, QuotaEditor, TeamQuotas};
use super::{AdminGate, AdminNav, Feedback, Pager};
use crate::api::admin::{admin_set_active, admin_set_role, admin_users};
use crate::components::{Badge, ErrorView, Loading, PageTitle, Time};
use crate::format::human_bytes;
use crate::model::admin::AdminUser;
use crate::model::encode_query_value;

/// Shared by the rows and forms of the page: feedback, a reload trigger, the dialog target.
#[derive(Clone, Copy)]
pub(super) struct UsersState {
    pub message: RwSignal<Option<Result<String, String>>>,
    pub reload: RwSignal<u32>,
    pub deleting: RwSignal<Option<String>>,
}

impl UsersState {
    /// Reports the outcome of an action and reloads the list after a success.
    pub fn done(&self, result: Result<String, String>) {
        if result.is_ok() {
            self.reload.update(|n| *n += 1);
        }
        self.message.set(Some(result));
    }
}

fn users_href(search: &str, page: u64) -> String {
    let mut query = Vec::new();
    if !search.is_empty() {
        query.push(format!("q={}", encode_query_value(search)));
    }
    if page > 1 {
        query.push(format!("page={page}"));
    }
    if query.is_empty() {
        "/admin/users".into()
    } else {
        format!("/admin/users?{}", query.join("&"))
    }
}

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    view! {
        <PageTitle text="Users · Administration" />
        <AdminGate>
            <UsersBody />
        </AdminGate>
    }
}

#[component]
fn UsersBody() -> impl IntoView {
    let query = use_query_map();
    let search = Memo::new(move |_| query.with(|q| q.get("q").unwrap_or_default()));
    let page = Memo::new(move |_| {
        query.with(|q| {
            q.get("page")
                .and_then(|p| p.parse::<u64>().ok())
                .unwrap_or(1)
        })
    });
    let state = UsersState {
        message: RwSignal::new(None),
        reload: RwSignal::new(0),
        deleting: RwSignal::new(None),
    };
    let list = LocalResource::new(move || {
        state.reload.track();
        admin_users(search.get(), page.get())
    });
    let typed = RwSignal::new(search.get_untracked());
    let navigate = use_navigate();
    let on_search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        navigate(
            &users_href(typed.get_untracked().trim(), 1),
            Default::default(),
        );
    };
    view! {
        <div class="page-head">
            <h1>"Users"</h1>
            <AdminNav />
        </div>
        <form class="listing-controls admin-search" role="search" aria-label="Find users" on:submit=on_search>
            <label class="control">
                <span>"Name or e-mail"</span>
                <input type="search" name="q" bind:value=typed placeholder="part of a name or e-mail" />
            </label>
            <button type="submit" class="btn">"Search"</button>
        </form>
        <Feedback message=state.message />
        <DeleteDialog state=state />
        <Transition fallback=|| view! { <Loading what="users" /> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(users) => {
                        let search = search.get_untracked();
                        let pages = users.pages();
                        let count = format!("{} account{}", users.total, if users.total == 1 { "" } else { "s" });
                        let rows = users
                            .users
                            .into_iter()
                            .map(|u| view! { <UserRow user=u state=state /> })
                            .collect_view();
                        view! {
                            <p class="muted" data-testid="users-count">{count}</p>
                            <div class="table-wrap">
                                <table class="table admin-users">
                                    <thead>
                                        <tr>
                                            <th scope="col">"User"</th>
                                            <th scope="col">"Role"</th>
                                            <th scope="col">"Kind"</th>
                                            <th scope="col">"Status"</th>
                                            <th scope="col">"Last sign-in"</th>
                                            <th scope="col" class="num">"Storage"</th>
                                            <th scope="col">"Quota"</th>
                                            <th scope="col"><span class="visually-hidden">"Delete"</span></th>
                                        </tr>
                                    </thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            </div>
                            <Pager page=users.page pages=pages href=move |p| users_href(&search, p) />
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorView error=error /> }.into_any(),
                }
            })}
        </Transition>
        <CreateUserForm state=state />
        <TeamQuotas state=state />
    }
}

/// Storage used, against the quota when there is one.
fn usage_text(used: u64, quota: u64) -> String {
    if quota == 0 {
        human_bytes(used)
    } else {
        format!("{} of {}", human_bytes(used), human_bytes(quota))
    }
}

#[component]
fn UserRow(user: AdminUser, state: UsersState) -> impl IntoView {
    let name = user.username.clone();
    let busy = RwSignal::new(false);
    let toggle_role = {
        let name = name.clone();
        let make_admin = !user.is_admin;
        move |_| {
            let name = name.clone();
            busy.set(true);
            leptos::task::spawn_local(async move {
                let result = admin_set_role(name.clone(), make_admin).await;
                let role = if make_admin {
                    "an administrator"
                } else {
                    "a user"
                };
                state.done(
                    result
                        .map(|_| format!("{name} is now {role}."))
                        .map_err(|e| e.to_string()),
                );
                busy.set(false);
            });
        }
    };
    let toggle_active = {
        let name = name.clone();
        let activate = !user.active;
        move |_| {
            let name = name.clone();
            busy.set(true);
            leptos::task::spawn_local(async move {
                let result = admin_set_active(name.clone(), activate).await;
                let what = if activate { "enabled" } else { "disabled" };
                state.done(
                    result
                        .map(|_| format!("{name} is {what}."))
                        .map_err(|e| e.to_string()),
                );
                busy.set(false);
            });
        }
    };
    let open_delete = {
        let name = name.clone();
        move |_| state.deleting.set(Some(name.clone()))
    };
    let role = if user.is_admin { "admin" } else { "user" };
    let status = if user.active { "active" } else { "disabled" };
    let last_login = match user.last_login.clone() {
        Some(at) => view! { <Time at=at /> }.into_any(),
        None => view! { <span class="muted">"never"</span> }.into_any(),
    };
    let over = user.quota > 0 && user.storage_used > user.quota;
    view! {
        <tr data-user=name.clone() data-active=user.active.to_string() data-role=role>
            <td>
                <strong>{name.clone()}</strong>
                <br />
                <span class="muted">{user.email.clone()}</span>
            </td>
            <td>
                <Badge text=role kind=if user.is_admin { "warn" } else { "plain" } />
                " "
                <button type="button" class="btn btn-small" data-testid="toggle-role" disabled=move || busy.get() on:click=toggle_role>
                    {if user.is_admin { "Make user" } else { "Make admin" }}
                </button>
            </td>
            <td>{user.kind.clone()}</td>
            <td>
                <Badge text=status kind=if user.active { "ok" } else { "private" } />
                " "
                <button type="button" class="btn btn-small" data-testid="toggle-active" disabled=move || busy.get() on:click=toggle_active>
                    {if user.active { "Disable" } else { "Enable" }}
                </button>
            </td>
            <td>{last_login}</td>
            <td class="num" class:over-quota=over data-testid="storage">{usage_text(user.storage_used, user.quota)}</td>
            <td><QuotaEditor kind="user" name=name.clone() quota=user.quota state=state /></td>
            <td>
                <button type="button" class="btn btn-small btn-danger" data-testid="delete-user" on:click=open_delete>
                    "Delete…"
                </button>
            </td>
        </tr>
    }
}
