//! `/auth/tokens` (the address `apptainer remote login` prints): the signed-in user's API
//! tokens with label, scope, expiry, last use and status; a form creating one (its secret is
//! shown once, with the `apptainer remote` commands that use it); revoking with a confirmation.
//! Signed-out visitors are sent to `/login?return_to=/auth/tokens`.
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use crate::api::tokens::{create_token, get_tokens, revoke_token};
use crate::components::{use_site, Badge, Command, ErrorView, Loading, PageTitle, Time};
use crate::error::SiloError;
use crate::model::tokens::{TokenCreatedData, TokenRow, TokensData, TOKEN_EXPIRY_CHOICES};
use crate::model::SiteInfo;

/// Where signed-out visitors go.
pub const TOKENS_LOGIN: &str = "/login?return_to=/auth/tokens";

#[component]
pub fn TokensPage() -> impl IntoView {
    let navigate = use_navigate();
    let version = RwSignal::new(0u32);
    let data = LocalResource::new(move || {
        version.track();
        get_tokens()
    });
    // The server's answer decides (not the header's cached viewer, which may still be
    // refreshing right after signing in).
    Effect::new(move |_| {
        if let Some(Err(SiloError::Unauthenticated)) = data.get() {
            navigate(
                TOKENS_LOGIN,
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });
    view! {
        <PageTitle text="API tokens" />
        <div class="page-head">
            <h1>"API tokens"</h1>
            <p class="muted">
                "Tokens let " <code>"apptainer"</code> ", " <code>"singularity"</code>
                ", CI jobs and scripts act as you. Each has a scope and an expiry; revoke the ones you no longer use."
            </p>
        </div>
        <TokensBody data=data version=version />
    }
}

#[component]
fn TokensBody(
    data: LocalResource<Result<TokensData, SiloError>>,
    version: RwSignal<u32>,
) -> impl IntoView {
    let created = RwSignal::new(None::<TokenCreatedData>);
    let site = use_site();
    view! {
        <Transition fallback=|| view! { <Loading what="your tokens" /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! {
                        {move || created.get().map(|c| view! { <NewTokenCard created=c site=site.get().unwrap_or_default() /> })}
                        {data.can_create.then(|| view! { <CreateTokenForm data=data.clone() created=created version=version /> })}
                        <TokenList tokens=data.tokens.clone() version=version />
                    }
                    .into_any(),
                    Err(SiloError::Unauthenticated) => view! { <Loading what="the sign-in page" /> }.into_any(),
                    Err(error) => view! { <ErrorView error=error what="your tokens" /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn CreateTokenForm(
    data: TokensData,
    created: RwSignal<Option<TokenCreatedData>>,
    version: RwSignal<u32>,
) -> impl IntoView {
    let label = RwSignal::new(String::new());
    let default_scope = if data.scopes.iter().any(|s| s == "push") {
        "push".to_string()
    } else {
        data.scopes
            .first()
            .cloned()
            .unwrap_or_else(|| "read".into())
    };
    let scope = RwSignal::new(default_scope);
    let expiry = RwSignal::new("90".to_string());
    let date = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = label.get_untracked();
        if name.trim().is_empty() {
            error.set(Some(
                "Give the token a label, for example the machine it is for.".into(),
            ));
            return;
        }
        let expires = match expiry.get_untracked().as_str() {
            "date" => date.get_untracked(),
            other => other.to_string(),
        };
        if expires.is_empty() {
            error.set(Some("Pick the expiry date.".into()));
            return;
        }
        busy.set(true);
        error.set(None);
        let chosen = scope.get_untracked();
        leptos::task::spawn_local(async move {
            match create_token(name, chosen, expires).await {
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
    let scopes = data
        .scopes
        .iter()
        .map(|s| view! { <option value=s.clone()>{s.clone()}</option> })
        .collect_view();
    let expiries = TOKEN_EXPIRY_CHOICES
        .iter()
        .map(|(value, text)| view! { <option value=*value>{*text}</option> })
        .collect_view();
    view! {
        <section class="card token-create">
            <h2>"Create a token"</h2>
            <form class="form token-form" on:submit=on_submit>
                <label class="field">
                    <span>"Label"</span>
                    <input type="text" name="label" maxlength="100" placeholder="laptop, CI of project X…"
                        data-testid="token-label" bind:value=label />
                </label>
                <label class="field">
                    <span>"Scope"</span>
                    <select name="scope" data-testid="token-scope" prop:value=move || scope.get()
                        on:change=move |ev| scope.set(event_target_value(&ev))>
                        {scopes}
                    </select>
                </label>
                <label class="field">
                    <span>"Expires"</span>
                    <select name="expires" data-testid="token-expiry" prop:value=move || expiry.get()
                        on:change=move |ev| expiry.set(event_target_value(&ev))>
                        {expiries}
                    </select>
                </label>
                {move || (expiry.get() == "date").then(|| view! {
                    <label class="field">
                        <span>"Expiry date"</span>
                        <input type="date" name="date" data-testid="token-date" bind:value=date />
                    </label>
                })}
                <p class="muted small scope-help">
                    <strong>"read"</strong> " pulls (private images you may see); "
                    <strong>"push"</strong> " also pushes, deletes and manages what you own; "
                    <strong>"admin"</strong> " also administers the registry (administrators only)."
                </p>
                {move || error.get().map(|e| view! { <p class="form-error" role="alert" data-testid="token-error">{e}</p> })}
                <button type="submit" class="button primary" data-testid="create-token" disabled=move || busy.get()>
                    {move || if busy.get() { "Creating…" } else { "Create token" }}
                </button>
            </form>
        </section>
    }
}

/// The secret of a token just created, with the commands that use it. Shown once.
#[component]
fn NewTokenCard(created: TokenCreatedData, site: SiteInfo) -> impl IntoView {
    let secret = created.secret.clone();
    let shown = secret.clone();
    let remote = if site.remote_name.is_empty() {
        "silo".to_string()
    } else {
        site.remote_name.clone()
    };
    let login = format!(
        "apptainer remote add --no-login {remote} {url}\napptainer remote login --tokenfile token.txt {remote}",
        url = site.public_url
    );
    let interactive = format!("apptainer remote add {remote} {}", site.public_url);
    view! {
        <section class="card new-token" role="status" data-testid="new-token" data-secret=shown>
            <h2>"Your new token “" {created.token.label.clone()} "”"</h2>
            <p class="note">
                <strong>"Copy it now: it is shown only this once."</strong>
                " Silo keeps only a hash of it."
            </p>
            <div data-testid="new-token-secret">
                <Command text=secret label="Copy token" />
            </div>
            <p>"Save it in a file (here " <code>"token.txt"</code> ") and log in with it:"</p>
            <Command text=login label="Copy remote login commands" />
            <p>"Or paste it when this asks for it:"</p>
            <Command text=interactive label="Copy remote add command" />
        </section>
    }
}

#[component]
fn TokenList(tokens: Vec<TokenRow>, version: RwSignal<u32>) -> impl IntoView {
    if tokens.is_empty() {
        return view! {
            <section class="card"><h2>"Your tokens"</h2><p class="muted">"You have no tokens yet."</p></section>
        }
        .into_any();
    }
    let confirming = RwSignal::new(None::<i64>);
    let error = RwSignal::new(None::<String>);
    let rows = tokens
        .into_iter()
        .map(|token| view! { <TokenTableRow token=token confirming=confirming error=error version=version /> })
        .collect_view();
    view! {
        <section class="card">
            <h2>"Your tokens"</h2>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <div class="table-wrap">
                <table class="table tokens-table" data-testid="tokens-table">
                    <thead>
                        <tr>
                            <th>"Label"</th>
                            <th>"Scope"</th>
                            <th>"Created"</th>
                            <th>"Expires"</th>
                            <th>"Last used"</th>
                            <th>"Status"</th>
                            <th><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn TokenTableRow(
    token: TokenRow,
    confirming: RwSignal<Option<i64>>,
    error: RwSignal<Option<String>>,
    version: RwSignal<u32>,
) -> impl IntoView {
    let id = token.id;
    let active = token.status == "active";
    let revoke = move |_| {
        leptos::task::spawn_local(async move {
            match revoke_token(id).await {
                Ok(()) => {
                    error.set(None);
                    confirming.set(None);
                    version.update(|v| *v += 1);
                }
                Err(err) => error.set(Some(err.to_string())),
            }
        });
    };
    let status_kind = match token.status.as_str() {
        "active" => "ok",
        "expired" => "warn",
        _ => "plain",
    };
    let label = token.label.clone();
    view! {
        <tr data-testid="token-row" data-label=token.label.clone() data-status=token.status.clone()>
            <td class="token-label">{token.label.clone()}</td>
            <td><Badge text=token.scope.clone() kind="plain" /></td>
            <td><Time at=token.created_at.clone() /></td>
            <td>{token.expires_at.clone().map_or_else(|| view! { <span class="muted">"never"</span> }.into_any(), |t| view! { <Time at=t /> }.into_any())}</td>
            <td>{token.last_used_at.clone().map_or_else(|| view! { <span class="muted">"never used"</span> }.into_any(), |t| view! { <Time at=t /> }.into_any())}</td>
            <td data-testid="token-status"><Badge text=token.status.clone() kind=status_kind /></td>
            <td class="token-actions">
                {active.then(|| view! {
                    {move || if confirming.get() == Some(id) {
                        view! {
                            <span class="confirm-revoke">
                                <span>"Revoke “" {label.clone()} "”? Clients using it stop working."</span>
                                <button type="button" class="button danger" data-testid="confirm-revoke" on:click=revoke>"Revoke"</button>
                                <button type="button" class="button" on:click=move |_| confirming.set(None)>"Cancel"</button>
                            </span>
                        }
                        .into_any()
                    } else {
                        view! {
                            <button type="button" class="button" data-testid="revoke-token" on:click=move |_| confirming.set(Some(id))>
                                "Revoke"
                            </button>
                        }
                        .into_any()
                    }}
                })}
            </td>
        </tr>
    }
}
