//! The container page's "Share" panel (collection owners only): create an expiring link that
//! lets anyone holding it pull this container (the URL is shown once, with its `curl` and
//! `shub://` commands), list the links with their expiry and uses, revoke them.
use leptos::prelude::*;

use crate::api::tokens::{create_share_link, get_share_links, revoke_share_link};
use crate::components::{Badge, Command, Time};
use crate::model::tokens::{ShareLinkCreatedData, ShareLinkRow, SHARE_EXPIRY_DAYS};
use crate::model::ContainerRef;

#[component]
pub fn SharePanel(container: ContainerRef) -> impl IntoView {
    let version = RwSignal::new(0u32);
    let target = container.clone();
    let links = LocalResource::new(move || {
        version.track();
        let c = target.clone();
        get_share_links(c.entity, c.collection, c.container)
    });
    let created = RwSignal::new(None::<ShareLinkCreatedData>);
    let label = RwSignal::new(String::new());
    let days = RwSignal::new("7".to_string());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let c = container.clone();
        let (name, span) = (label.get_untracked(), days.get_untracked());
        let span: u32 = span.parse().unwrap_or(7);
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match create_share_link(c.entity, c.collection, c.container, name, span).await {
                Ok(made) => {
                    created.set(Some(made));
                    label.set(String::new());
                    version.update(|v| *v += 1);
                }
                Err(err) => error.set(Some(err.to_string())),
            }
            busy.set(false);
        });
    };
    let choices = SHARE_EXPIRY_DAYS
        .iter()
        .map(|(d, text)| view! { <option value=d.to_string()>{*text}</option> })
        .collect_view();
    view! {
        <section class="card share-panel" data-testid="share-panel">
            <h2>"Share"</h2>
            <p class="muted">
                "A share link lets anyone who has it pull this container, and nothing else, until it expires or you revoke it."
            </p>
            <form class="form share-form" on:submit=on_submit>
                <label class="field">
                    <span>"Label"</span>
                    <input type="text" maxlength="100" placeholder="who it is for" data-testid="share-label" bind:value=label />
                </label>
                <label class="field">
                    <span>"Expires in"</span>
                    <select data-testid="share-expiry" prop:value=move || days.get() on:change=move |ev| days.set(event_target_value(&ev))>
                        {choices}
                    </select>
                </label>
                <button type="submit" class="button primary" data-testid="create-share" disabled=move || busy.get()>"Create link"</button>
            </form>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            {move || created.get().map(|made| view! {
                <div class="new-share" role="status" data-testid="new-share" data-url=made.url.clone()>
                    <p class="note"><strong>"Copy the link now: it is shown only this once."</strong></p>
                    <Command text=made.url.clone() label="Copy share link" />
                    <p>"Download with curl:"</p>
                    <Command text=made.curl.clone() label="Copy curl command" />
                    <p>"Pull with Apptainer:"</p>
                    <Command text=made.shub.clone() label="Copy shub pull command" />
                </div>
            })}
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match links.await {
                        Ok(rows) if rows.is_empty() => view! { <p class="muted">"No share links yet."</p> }.into_any(),
                        Ok(rows) => view! { <ShareLinkTable rows=rows version=version error=error /> }.into_any(),
                        Err(err) => view! { <p class="form-error">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ShareLinkTable(
    rows: Vec<ShareLinkRow>,
    version: RwSignal<u32>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let confirming = RwSignal::new(None::<i64>);
    let body = rows
        .into_iter()
        .map(|link| {
            let id = link.id;
            let revoke = move |_| {
                leptos::task::spawn_local(async move {
                    match revoke_share_link(id).await {
                        Ok(()) => {
                            confirming.set(None);
                            version.update(|v| *v += 1);
                        }
                        Err(err) => error.set(Some(err.to_string())),
                    }
                });
            };
            let active = link.status == "active";
            let kind = if active { "ok" } else { "plain" };
            let label = if link.label.is_empty() {
                "(no label)".to_string()
            } else {
                link.label.clone()
            };
            view! {
                <tr data-testid="share-row" data-status=link.status.clone()>
                    <td>{label}</td>
                    <td>{link.created_by.clone()}</td>
                    <td><Time at=link.expires_at.clone() /></td>
                    <td class="num">{link.use_count}</td>
                    <td>{link.last_used_at.clone().map_or_else(|| view! { <span class="muted">"never"</span> }.into_any(), |t| view! { <Time at=t /> }.into_any())}</td>
                    <td><Badge text=link.status.clone() kind=kind /></td>
                    <td>
                        {active.then(|| view! {
                            {move || if confirming.get() == Some(id) {
                                view! {
                                    <span class="confirm-revoke">
                                        <button type="button" class="button danger" data-testid="confirm-revoke-share" on:click=revoke>"Revoke link"</button>
                                        <button type="button" class="button" on:click=move |_| confirming.set(None)>"Cancel"</button>
                                    </span>
                                }
                                .into_any()
                            } else {
                                view! {
                                    <button type="button" class="button" data-testid="revoke-share" on:click=move |_| confirming.set(Some(id))>"Revoke"</button>
                                }
                                .into_any()
                            }}
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="table share-table">
                <thead>
                    <tr>
                        <th>"Label"</th>
                        <th>"Created by"</th>
                        <th>"Expires"</th>
                        <th class="num">"Uses"</th>
                        <th>"Last used"</th>
                        <th>"Status"</th>
                        <th><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}
