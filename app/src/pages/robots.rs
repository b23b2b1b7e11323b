//! `/robots`: the robot (CI) accounts the viewer manages, a form to create one (for
//! themselves or for a team they own), and [`RobotCard`], which the team page shares: a
//! robot's tokens, creating one (shown once) and revoking them.
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::teams::{
    create_robot, create_robot_token, delete_robot, list_robots, list_teams, revoke_robot_token,
};
use crate::components::{
    use_site, Badge, Command, EmptyState, ErrorView, Loading, NoAccess, PageTitle, Time,
};
use crate::model::teams::{RobotData, RobotTokenRow};
use crate::session::use_viewer;

/// Default lifetime offered for a new robot token.
const DEFAULT_TOKEN_DAYS: u32 = 90;

#[component]
pub fn RobotsPage() -> impl IntoView {
    let viewer = use_viewer();
    view! {
        <PageTitle text="Robots" />
        {move || match (viewer.known(), viewer.get()) {
            (false, _) => view! { <Loading what="your account" /> }.into_any(),
            (true, None) => view! { <NoAccess signed_in=false /> }.into_any(),
            (true, Some(_)) => view! { <RobotsBody /> }.into_any(),
        }}
    }
}

#[component]
fn RobotsBody() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let robots = LocalResource::new(move || {
        version.track();
        list_robots()
    });
    let reload = Callback::new(move |()| version.update(|v| *v += 1));
    view! {
        <div class="page-head">
            <h1>"Robots"</h1>
            <p class="lead">
                "Robot accounts push and pull from CI with their own tokens (scope read or push, always "
                "expiring). They never sign in to these pages and never administer anything. Give a robot "
                "access with a role on a collection, or by making it a member of a team."
            </p>
        </div>
        <CreateRobot on_created=reload />
        <Transition fallback=|| view! { <Loading what="robots" /> }>
            {move || Suspend::new(async move {
                match robots.await {
                    Ok(list) if list.is_empty() => view! {
                        <section class="card">
                            <EmptyState title="No robots yet">
                                <p>"Create one above for a CI pipeline."</p>
                            </EmptyState>
                        </section>
                    }.into_any(),
                    Ok(list) => list
                        .into_iter()
                        .map(|robot| view! { <RobotCard robot=robot on_deleted=reload /> })
                        .collect_view()
                        .into_any(),
                    Err(error) => view! { <ErrorView error=error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Creating a robot for the viewer or for one of the teams they own (`team` fixed on team
/// pages).
#[component]
pub fn CreateRobot(
    on_created: Callback<()>,
    #[prop(optional, into)] team: Option<String>,
) -> impl IntoView {
    let viewer = use_viewer();
    let fixed_team = team.clone();
    let owner = RwSignal::new(team.unwrap_or_default());
    let label = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (t, l) = (owner.get_untracked(), label.get_untracked());
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match create_robot(t, l).await {
                Ok(_) => {
                    label.set(String::new());
                    on_created.run(());
                }
                Err(err) => error.set(Some(err.to_string())),
            }
            busy.set(false);
        });
    };
    let owner_field = match fixed_team {
        Some(_) => None,
        None => Some({
            let owned = LocalResource::new(|| list_teams(false));
            view! {
            <label class="field">
                <span>"For"</span>
                <select name="owner" on:change=move |ev| owner.set(event_target_value(&ev))>
                    <option value="">"me"</option>
                    {move || owned.get().and_then(Result::ok).unwrap_or_default()
                        .into_iter()
                        .filter(|t| t.my_role.as_deref() == Some("owner"))
                        .map(|t| {
                            let label = format!("team {}", t.name);
                            view! { <option value=t.name>{label}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            }
        }),
    };
    let prefix = move || {
        let o = owner.get();
        if o.is_empty() {
            viewer.get().map(|v| v.username).unwrap_or_default()
        } else {
            o
        }
    };
    view! {
        <section class="card robot-create">
            <h2>"Create a robot"</h2>
            <form class="form form-row" on:submit=on_submit>
                {owner_field}
                <label class="field">
                    <span>"Robot label"</span>
                    <input type="text" name="robot-label" required bind:value=label placeholder="ci" />
                </label>
                <button type="submit" class="button primary" disabled=move || busy.get()>"Create robot"</button>
            </form>
            <p class="muted small">
                "It will be called " <code>{move || format!("{}-bot-{}", prefix(), if label.get().is_empty() { "<label>".to_string() } else { label.get() })}</code> "."
            </p>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
        </section>
    }
}

/// One robot: its teams, tokens (revocable), a form for a new token, and deleting it.
#[component]
pub fn RobotCard(robot: RobotData, on_deleted: Callback<()>) -> impl IntoView {
    let name = robot.name.clone();
    let tokens = RwSignal::new(robot.tokens.clone());
    let error = RwSignal::new(None::<String>);
    let secret = RwSignal::new(None::<String>);
    let delete = {
        let name = name.clone();
        move |_| {
            let name = name.clone();
            leptos::task::spawn_local(async move {
                match delete_robot(name).await {
                    Ok(()) => on_deleted.run(()),
                    Err(err) => error.set(Some(err.to_string())),
                }
            });
        }
    };
    let teams = if robot.teams.is_empty() {
        None
    } else {
        let links = robot
            .teams
            .clone()
            .into_iter()
            .map(|t| {
                let href = format!("/teams/{t}");
                view! { " " <A href=href>{t}</A> }
            })
            .collect_view();
        Some(view! { <span>" · teams:" {links}</span> })
    };
    let secret_robot = name.clone();
    view! {
        <section class="card robot-card" data-testid="robot" data-robot=name.clone()>
            <div class="robot-head">
                <h3><code>{name.clone()}</code> " " <Badge text="robot" kind="robot" /></h3>
                <button type="button" class="button danger small" on:click=delete>"Delete robot"</button>
            </div>
            <p class="muted small">
                {robot.creator.clone().map(|c| format!("created by {c} · "))}
                "created " <Time at=robot.created_at.clone() />
                {teams}
            </p>
            <TokenTable robot=name.clone() tokens=tokens error=error />
            <NewTokenForm robot=name.clone() tokens=tokens secret=secret error=error />
            {move || secret.get().map(|s| view! { <ShownOnce robot=secret_robot.clone() secret=s /> })}
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
        </section>
    }
}

#[component]
fn TokenTable(
    robot: String,
    tokens: RwSignal<Vec<RobotTokenRow>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let rows = move || {
        tokens
            .get()
            .into_iter()
            .map(|t| {
                let robot = robot.clone();
                let id = t.id;
                let revoke = move |_| {
                    let robot = robot.clone();
                    leptos::task::spawn_local(async move {
                        match revoke_robot_token(robot, id).await {
                            Ok(()) => tokens.update(|list| {
                                if let Some(row) = list.iter_mut().find(|r| r.id == id) {
                                    row.revoked = true;
                                }
                            }),
                            Err(err) => error.set(Some(err.to_string())),
                        }
                    });
                };
                let state = if t.revoked {
                    "revoked"
                } else if t.expired {
                    "expired"
                } else {
                    "active"
                };
                view! {
                    <tr data-testid="robot-token">
                        <td>{t.label.clone()}</td>
                        <td>{t.scope.clone()}</td>
                        <td><Time at=t.created_at.clone() /></td>
                        <td>{t.expires_at.clone().map(|at| view! { <Time at=at /> })}</td>
                        <td>{t.last_used_at.clone().map_or_else(|| view! { <span class="muted">"never"</span> }.into_any(), |at| view! { <Time at=at /> }.into_any())}</td>
                        <td>{state}</td>
                        <td>{t.active().then(|| view! {
                            <button type="button" class="link-button" on:click=revoke.clone()>"Revoke"</button>
                        })}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <Show when=move || !tokens.get().is_empty() fallback=|| view! { <p class="muted">"No tokens yet."</p> }>
            <div class="table-wrap">
                <table class="table compact">
                    <thead>
                        <tr>
                            <th>"Label"</th><th>"Scope"</th><th>"Created"</th><th>"Expires"</th>
                            <th>"Last used"</th><th>"State"</th><th></th>
                        </tr>
                    </thead>
                    <tbody>{rows.clone()}</tbody>
                </table>
            </div>
        </Show>
    }
}

#[component]
fn NewTokenForm(
    robot: String,
    tokens: RwSignal<Vec<RobotTokenRow>>,
    secret: RwSignal<Option<String>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let label = RwSignal::new(String::new());
    let scope = RwSignal::new("push".to_string());
    let days = RwSignal::new(DEFAULT_TOKEN_DAYS.to_string());
    let busy = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let robot = robot.clone();
        let Ok(d) = days.get_untracked().trim().parse::<u32>() else {
            error.set(Some("Enter the token's lifetime in days.".into()));
            return;
        };
        let (l, s) = (label.get_untracked(), scope.get_untracked());
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match create_robot_token(robot, l, s, d).await {
                Ok(created) => {
                    tokens.update(|list| list.insert(0, created.token));
                    secret.set(Some(created.secret));
                    label.set(String::new());
                }
                Err(err) => error.set(Some(err.to_string())),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="form form-row" on:submit=on_submit>
            <label class="field">
                <span>"Token label"</span>
                <input type="text" name="token-label" required bind:value=label placeholder="gitlab-ci" />
            </label>
            <label class="field">
                <span>"Scope"</span>
                <select name="scope" on:change=move |ev| scope.set(event_target_value(&ev))>
                    <option value="push" selected=true>"push"</option>
                    <option value="read">"read"</option>
                </select>
            </label>
            <label class="field">
                <span>"Expires in (days)"</span>
                <input type="number" name="days" min="1" max="366" required bind:value=days />
            </label>
            <button type="submit" class="button" disabled=move || busy.get()>"Create token"</button>
        </form>
    }
}

/// A new token's secret, with the commands a CI job runs.
#[component]
fn ShownOnce(robot: String, secret: String) -> impl IntoView {
    let site = use_site();
    let host = move || {
        site.get()
            .map(|s| s.public_url)
            .unwrap_or_else(|| "https://<registry>".into())
    };
    let remote = move || site.get().map_or_else(|| "silo".into(), |s| s.remote_name);
    let login = move || {
        format!(
            "echo \"$SILO_TOKEN\" > token\napptainer remote add --no-login {} {}\napptainer remote login --tokenfile token {}",
            remote(),
            host(),
            remote()
        )
    };
    view! {
        <div class="note secret-once" role="status">
            <p>
                <strong>"Copy this token now: it is not shown again."</strong>
                " Store it as a masked CI variable (for example " <code>"SILO_TOKEN"</code> ") of " <code>{robot}</code> "."
            </p>
            <Command text=secret label="Copy the token" />
            <p class="muted small">"In the CI job:"</p>
            {move || view! { <Command text=login() label="Copy the login commands" /> }}
        </div>
    }
}
