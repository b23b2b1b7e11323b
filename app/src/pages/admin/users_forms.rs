//! The forms of `/admin/users`: the delete dialog (transfer or delete the user's images,
//! confirmed by typing the name), quota editors, pre-creating accounts, and team quotas.
use leptos::prelude::*;

use super::users::UsersState;
use crate::api::admin::{admin_create_user, admin_delete_user, admin_set_quota, admin_teams};
use crate::format::human_bytes;
use crate::model::admin::mib_to_bytes;

/// Confirms and performs the deletion of `state.deleting`.
#[component]
pub(super) fn DeleteDialog(state: UsersState) -> impl IntoView {
    let choice = RwSignal::new("transfer".to_string());
    let heir = RwSignal::new(String::new());
    let typed = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let close = move || {
        state.deleting.set(None);
        typed.set(String::new());
        heir.set(String::new());
        choice.set("transfer".into());
    };
    move || {
        let name = state.deleting.get()?;
        let confirmed = {
            let name = name.clone();
            move || typed.get().trim() == name
        };
        let submit = {
            let name = name.clone();
            move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                let name = name.clone();
                busy.set(true);
                leptos::task::spawn_local(async move {
                    let how = choice.get_untracked();
                    let result = admin_delete_user(
                        name.clone(),
                        how.clone(),
                        heir.get_untracked(),
                        typed.get_untracked(),
                    )
                    .await;
                    busy.set(false);
                    match result {
                        Ok(done) => {
                            let what = if how == "delete" {
                                format!(
                                    "{} deleted with {} container(s) and {} image(s).",
                                    done.username, done.containers_deleted, done.images_deleted
                                )
                            } else {
                                format!(
                                    "{} deleted; {} entit{} transferred to {}.",
                                    done.username,
                                    done.entities,
                                    if done.entities == 1 { "y" } else { "ies" },
                                    heir.get_untracked().trim()
                                )
                            };
                            close();
                            state.done(Ok(what));
                        }
                        Err(e) => state.message.set(Some(Err(e.to_string()))),
                    }
                });
            }
        };
        let cancel = move |_| close();
        Some(view! {
            <section class="card admin-dialog" role="dialog" aria-modal="false" aria-labelledby="delete-title" data-testid="delete-dialog">
                <h2 id="delete-title">{format!("Delete {name}")}</h2>
                <p>"The account, its tokens, sessions, linked logins, stars, team memberships and roles are deleted. What happens to the entities and images it owns?"</p>
                <form class="form" on:submit=submit>
                    <fieldset class="admin-choice">
                        <legend>"Their images"</legend>
                        <label class="check">
                            <input type="radio" name="images" value="transfer"
                                prop:checked=move || choice.get() == "transfer"
                                on:change=move |_| choice.set("transfer".into()) />
                            <span>"Transfer their entities and images to another user (names stay the same, so pulls keep working)"</span>
                        </label>
                        <label class="field admin-heir">
                            <span>"Receiving user"</span>
                            <input type="text" name="transfer_to" bind:value=heir
                                disabled=move || choice.get() != "transfer" />
                        </label>
                        <label class="check">
                            <input type="radio" name="images" value="delete"
                                prop:checked=move || choice.get() == "delete"
                                on:change=move |_| choice.set("delete".into()) />
                            <span>"Delete their entities with every collection, container and image in them"</span>
                        </label>
                    </fieldset>
                    <label class="field">
                        <span>{format!("Type {name} to confirm")}</span>
                        <input type="text" name="confirm" autocomplete="off" bind:value=typed />
                    </label>
                    <div class="field-row">
                        <button type="submit" class="button danger" disabled=move || busy.get() || !confirmed()>
                            "Delete account"
                        </button>
                        <button type="button" class="button" on:click=cancel>"Cancel"</button>
                    </div>
                </form>
            </section>
        })
    }
}

/// A quota field in MiB (0 = unlimited) with its Save button.
#[component]
pub(super) fn QuotaEditor(
    #[prop(into)] kind: String,
    name: String,
    quota: u64,
    state: UsersState,
) -> impl IntoView {
    let value = RwSignal::new((quota / (1024 * 1024)).to_string());
    let label = format!("Quota of {name} in MiB (0 for unlimited)");
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(bytes) = mib_to_bytes(&value.get_untracked()) else {
            state
                .message
                .set(Some(Err("A quota is a whole number of MiB.".into())));
            return;
        };
        let (kind, name) = (kind.clone(), name.clone());
        leptos::task::spawn_local(async move {
            let result = admin_set_quota(kind, name.clone(), bytes).await;
            let text = if bytes == 0 {
                format!("{name} has no quota.")
            } else {
                format!("{name} may store {}.", human_bytes(bytes))
            };
            state.done(result.map(|_| text).map_err(|e| e.to_string()));
        });
    };
    view! {
        <form class="quota-form" on:submit=save>
            <input type="number" min="0" step="1" class="quota-input" aria-label=label bind:value=value />
            <span class="muted">"MiB"</span>
            <button type="submit" class="btn btn-small">"Save"</button>
        </form>
    }
}

/// Creates an account ahead of its owner's first sign-in.
#[component]
pub(super) fn CreateUserForm(state: UsersState) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let admin = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (name, mail, is_admin) = (
            username.get_untracked().trim().to_string(),
            email.get_untracked(),
            admin.get_untracked(),
        );
        leptos::task::spawn_local(async move {
            let result = admin_create_user(name.clone(), mail, is_admin).await;
            if result.is_ok() {
                username.set(String::new());
                email.set(String::new());
                admin.set(false);
            }
            state.done(
                result
                    .map(|_| format!("Created {name}."))
                    .map_err(|e| e.to_string()),
            );
        });
    };
    view! {
        <section class="card admin-section">
            <h2>"Create an account"</h2>
            <p class="muted">"For someone who has not signed in yet: their first institutional sign-in with this user name and a verified e-mail equal to this one uses it, even when registration is closed. Tokens: " <code>"silo token create <user>"</code> "."</p>
            <form class="form" on:submit=submit>
                <div class="field-row">
                    <label class="field">
                        <span>"User name"</span>
                        <input type="text" name="new_username" required bind:value=username />
                    </label>
                    <label class="field">
                        <span>"E-mail"</span>
                        <input type="text" name="new_email" bind:value=email />
                    </label>
                </div>
                <label class="check">
                    <input type="checkbox" name="new_admin" bind:checked=admin />
                    <span>"Administrator"</span>
                </label>
                <button type="submit" class="button primary">"Create account"</button>
            </form>
        </section>
    }
}

/// Teams with their storage use and quota.
#[component]
pub(super) fn TeamQuotas(state: UsersState) -> impl IntoView {
    let teams = LocalResource::new(move || {
        state.reload.track();
        admin_teams()
    });
    view! {
        <section class="card admin-section">
            <h2>"Team quotas"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match teams.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No teams yet."</p> }.into_any(),
                        Ok(list) => {
                            let rows = list
                                .into_iter()
                                .map(|t| view! {
                                    <tr data-team=t.name.clone()>
                                        <td>{t.name.clone()}</td>
                                        <td class="num">{human_bytes(t.storage_used)}</td>
                                        <td><QuotaEditor kind="team" name=t.name.clone() quota=t.quota state=state /></td>
                                    </tr>
                                })
                                .collect_view();
                            view! {
                                <table class="table">
                                    <thead><tr><th scope="col">"Team"</th><th scope="col" class="num">"Storage"</th><th scope="col">"Quota"</th></tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            }
                            .into_any()
                        }
                        Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
