//! `/teams`: the viewer's teams (every team, for administrators who ask) and a form to create
//! one. Each team owns the entity named after it.
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::api::teams::{create_team, list_teams};
use crate::components::{Badge, EmptyState, ErrorView, Loading, NoAccess, PageTitle};
use crate::format::plural;
use crate::model::teams::TeamRow;
use crate::session::use_viewer;

#[component]
pub fn TeamsPage() -> impl IntoView {
    let viewer = use_viewer();
    view! {
        <PageTitle text="Teams" />
        {move || match (viewer.known(), viewer.get()) {
            (false, _) => view! { <Loading what="your account" /> }.into_any(),
            (true, None) => view! { <NoAccess signed_in=false /> }.into_any(),
            (true, Some(user)) => view! { <TeamsBody is_admin=user.is_admin can_push=user.can_push /> }.into_any(),
        }}
    }
}

#[component]
fn TeamsBody(is_admin: bool, can_push: bool) -> impl IntoView {
    let all = RwSignal::new(false);
    let teams = LocalResource::new(move || list_teams(all.get()));
    view! {
        <div class="page-head">
            <h1>"Teams"</h1>
            <p class="lead">
                "A team owns the entity named after it: its owners manage the team and own the entity's "
                "collections, its members push into them. Give a team a role on any collection from that "
                "collection's Access panel."
            </p>
        </div>
        {is_admin.then(|| view! {
            <label class="inline-check">
                <input type="checkbox" data-testid="all-teams" bind:checked=all />
                " Show every team (administrator)"
            </label>
        })}
        <section class="card">
            <Transition fallback=|| view! { <Loading what="teams" /> }>
                {move || Suspend::new(async move {
                    match teams.await {
                        Ok(rows) if rows.is_empty() => view! {
                            <EmptyState title="No teams yet">
                                <p>"Create one below, or ask a team's owner to add you."</p>
                            </EmptyState>
                        }.into_any(),
                        Ok(rows) => view! { <TeamTable rows=rows /> }.into_any(),
                        Err(error) => view! { <ErrorView error=error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        {can_push.then(|| view! { <CreateTeam /> })}
    }
}

#[component]
fn TeamTable(rows: Vec<TeamRow>) -> impl IntoView {
    let rows = rows
        .into_iter()
        .map(|t| {
            let role = t.my_role.clone().map(|r| {
                let kind = if r == "owner" { "owner" } else { "plain" };
                view! { <Badge text=r kind=kind /> }
            });
            view! {
                <tr data-testid="team-row">
                    <td>
                        <A href=t.href()><strong>{t.name.clone()}</strong></A>
                        {(!t.description.is_empty()).then(|| view! { <div class="muted small">{t.description.clone()}</div> })}
                    </td>
                    <td>{role}</td>
                    <td class="num">{plural(t.members, "member", "members")}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr><th>"Team"</th><th>"Your role"</th><th class="num">"Members"</th></tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn CreateTeam() -> impl IntoView {
    let navigate = use_navigate();
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let navigate = navigate.clone();
        let (n, d) = (name.get_untracked(), description.get_untracked());
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match create_team(n, d).await {
                Ok(created) => navigate(&format!("/teams/{created}"), Default::default()),
                Err(err) => error.set(Some(err.to_string())),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="card team-create">
            <h2>"Create a team"</h2>
            <p class="muted small">
                "The name is also the team's entity: " <code>"library://<host>/<team>/<collection>/<container>"</code>
                ". Lower-case letters and digits, separated by single '.', '_' or '-'."
            </p>
            <form class="form form-row" on:submit=on_submit>
                <label class="field">
                    <span>"Team name"</span>
                    <input type="text" name="team" required bind:value=name />
                </label>
                <label class="field grow">
                    <span>"Description"</span>
                    <input type="text" name="description" bind:value=description />
                </label>
                <button type="submit" class="button primary" disabled=move || busy.get()>"Create team"</button>
            </form>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
        </section>
    }
}
