//! The collection page's "Access" panel: the roles granted on the collection, granting one to
//! a user, robot or team, and revoking. Shown only to the collection's owners and admins (the
//! server refuses everyone else, and then the panel stays empty).
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::teams::{get_collection_roles, grant_collection_role, revoke_collection_role};
use crate::components::{Badge, Time};
use crate::model::teams::{RoleRow, COLLECTION_ROLES};

#[component]
pub fn AccessPanel(
    #[prop(into)] entity: String,
    #[prop(into)] collection: String,
) -> impl IntoView {
    let version = RwSignal::new(0u32);
    let target = (entity, collection);
    let roles = {
        let (e, c) = target.clone();
        LocalResource::new(move || {
            version.track();
            get_collection_roles(e.clone(), c.clone())
        })
    };
    let reload = Callback::new(move |()| version.update(|v| *v += 1));
    view! {
        <Transition fallback=|| ()>
            {move || {
                let target = target.clone();
                Suspend::new(async move {
                    // Not an owner: no panel.
                    roles.await.ok().flatten().map(|rows| view! { <AccessBody rows=rows target=target reload=reload /> })
                })
            }}
        </Transition>
    }
}

#[component]
fn AccessBody(rows: Vec<RoleRow>, target: (String, String), reload: Callback<()>) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let table = if rows.is_empty() {
        view! {
            <p class="muted" data-testid="no-roles">
                "No roles granted: only the owners of this collection (and of its entity) have access beyond the public."
            </p>
        }
        .into_any()
    } else {
        let lines = rows
            .into_iter()
            .map(|row| {
                let (e, c) = target.clone();
                let (kind, holder) = (row.holder_kind.clone(), row.holder.clone());
                let revoke = move |_| {
                    let (e, c, kind, holder) = (e.clone(), c.clone(), kind.clone(), holder.clone());
                    leptos::task::spawn_local(async move {
                        match revoke_collection_role(e, c, kind, holder).await {
                            Ok(()) => reload.run(()),
                            Err(err) => error.set(Some(err.to_string())),
                        }
                    });
                };
                let (name, href) = (row.holder.clone(), format!("/teams/{}", row.holder));
                let who = if row.holder_kind == "team" {
                    view! { "team " <A href=href>{name}</A> }.into_any()
                } else {
                    view! { <span>{name}</span> }.into_any()
                };
                view! {
                    <tr data-testid="role-row" data-holder=format!("{}:{}", row.holder_kind, row.holder)>
                        <td>{who} {row.is_robot.then(|| view! { " " <Badge text="robot" kind="robot" /> })}</td>
                        <td data-testid="role-name">{row.role.clone()}</td>
                        <td><Time at=row.granted_at.clone() /></td>
                        <td><button type="button" class="link-button" on:click=revoke>"Revoke"</button></td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="table-wrap">
                <table class="table compact">
                    <thead><tr><th>"Who"</th><th>"Role"</th><th>"Granted"</th><th></th></tr></thead>
                    <tbody>{lines}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="card access-panel" data-testid="access-panel">
            <h2>"Access"</h2>
            <p class="muted small">
                "Readers pull private images, contributors also push, owners also delete, share and grant "
                "roles. A team's role reaches all its members. Changes apply from their next request."
            </p>
            {table}
            <GrantForm target=target reload=reload error=error />
            {move || error.get().map(|e| view! { <p class="form-error" role="alert" data-testid="access-error">{e}</p> })}
        </section>
    }
}

#[component]
fn GrantForm(
    target: (String, String),
    reload: Callback<()>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let kind = RwSignal::new("user".to_string());
    let holder = RwSignal::new(String::new());
    let role = RwSignal::new("reader".to_string());
    let busy = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (e, c) = target.clone();
        let (k, h, r) = (
            kind.get_untracked(),
            holder.get_untracked(),
            role.get_untracked(),
        );
        busy.set(true);
        leptos::task::spawn_local(async move {
            match grant_collection_role(e, c, k, h, r).await {
                Ok(()) => {
                    holder.set(String::new());
                    error.set(None);
                    reload.run(());
                }
                Err(err) => error.set(Some(err.to_string())),
            }
            busy.set(false);
        });
    };
    let role_options = COLLECTION_ROLES
        .iter()
        .map(|(value, label)| view! { <option value=*value selected={*value == "reader"}>{*label}</option> })
        .collect_view();
    view! {
        <form class="form form-row grant-form" on:submit=on_submit>
            <label class="field">
                <span>"Grant to"</span>
                <select name="holder-kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                    <option value="user" selected=true>"user or robot"</option>
                    <option value="team">"team"</option>
                </select>
            </label>
            <label class="field">
                <span>"Name"</span>
                <input type="text" name="holder" required bind:value=holder />
            </label>
            <label class="field">
                <span>"Role"</span>
                <select name="role" on:change=move |ev| role.set(event_target_value(&ev))>{role_options}</select>
            </label>
            <button type="submit" class="button primary" disabled=move || busy.get()>"Grant"</button>
        </form>
    }
}
