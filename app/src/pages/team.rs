//! `/teams/:name`: a team's members (with role controls for its owners), its robots with
//! their tokens, the collections of its entity, and deleting the team.
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

use super::robots::{CreateRobot, RobotCard};
use crate::api::teams::{
    add_team_member, delete_team, get_team, remove_team_member, set_team_member_role,
};
use crate::components::{Badge, EmptyState, ErrorView, Loading, PageTitle, Time};
use crate::model::teams::{MemberRow, TeamData};

#[component]
pub fn TeamPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let version = RwSignal::new(0u32);
    let data = LocalResource::new(move || {
        version.track();
        get_team(name())
    });
    let reload = Callback::new(move |()| version.update(|v| *v += 1));
    // Outside the page body, so that a refused change's message survives the reload.
    let error = RwSignal::new(None::<String>);
    view! {
        <PageTitle text=Signal::derive(move || format!("Team {}", name())) />
        <Transition fallback=|| view! { <Loading what="the team" /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <TeamBody data=data reload=reload error=error /> }.into_any(),
                    Err(error) => {
                        let what = format!("team {}", name());
                        view! { <ErrorView error=error what=what /> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn TeamBody(
    data: TeamData,
    reload: Callback<()>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let team = data.name.clone();
    let owners = data.members.iter().filter(|m| m.role == "owner").count();
    let members = data
        .members
        .iter()
        .cloned()
        .map(|m| {
            view! {
                <MemberLine
                    member=m
                    team=team.clone()
                    can_manage=data.can_manage
                    viewer=data.viewer.clone()
                    last_owner=owners <= 1
                    reload=reload
                    error=error
                />
            }
        })
        .collect_view();
    let collections = if data.collections.is_empty() {
        let hint = format!(
            "apptainer push image.sif library://{}/<collection>/<container>:<tag>",
            data.entity.clone().unwrap_or_else(|| team.clone())
        );
        view! {
            <EmptyState title="No collections yet">
                <p>"Members create one by pushing: " <code>{hint.clone()}</code></p>
            </EmptyState>
        }
        .into_any()
    } else {
        let items = data
            .collections
            .clone()
            .into_iter()
            .map(|c| {
                view! {
                    <li>
                        <A href=c.href>{c.name}</A>
                        {c.private.then(|| view! { " " <Badge text="private" kind="private" /> })}
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="team-collections">{items}</ul> }.into_any()
    };
    let (team_for_add, team_for_robots, team_for_delete) =
        (team.clone(), team.clone(), team.clone());
    let entity_link = data.entity.clone().map(|e| {
        let href = format!("/c/{e}");
        view! { "Entity " <A href=href>{e}</A> }
    });
    let robots = data
        .robots
        .iter()
        .cloned()
        .map(|robot| view! { <RobotCard robot=robot on_deleted=reload /> })
        .collect_view();
    view! {
        <nav class="crumbs" aria-label="Breadcrumb">
            <A href="/teams">"Teams"</A>
            <span class="sep">"/"</span>
            <span aria-current="page">{data.name.clone()}</span>
        </nav>
        <div class="page-head">
            <h1>"Team " {data.name.clone()}</h1>
            {(!data.description.is_empty()).then(|| view! { <p class="lead">{data.description.clone()}</p> })}
            <p class="muted small">
                {entity_link}
                {data.my_role.clone().map(|r| format!(" · you are {}", if r == "owner" { "an owner" } else { "a member" }))}
            </p>
        </div>
        {move || error.get().map(|e| view! { <p class="form-error" role="alert" data-testid="team-error">{e}</p> })}
        <section class="card">
            <h2>"Members"</h2>
            <div class="table-wrap">
                <table class="table" data-testid="team-members">
                    <thead><tr><th>"Member"</th><th>"Role"</th><th>"Since"</th><th></th></tr></thead>
                    <tbody>{members}</tbody>
                </table>
            </div>
            {data.can_manage.then(|| view! { <AddMember team=team_for_add reload=reload error=error /> })}
        </section>
        <section class="card">
            <h2>"Collections"</h2>
            {collections}
        </section>
        {data.can_manage.then(|| view! {
            <h2 class="section-title">"Robots"</h2>
            <CreateRobot on_created=reload team=team_for_robots />
            {robots}
            <DeleteTeam team=team_for_delete error=error />
        })}
    }
}

#[component]
fn MemberLine(
    member: MemberRow,
    team: String,
    can_manage: bool,
    viewer: String,
    last_owner: bool,
    reload: Callback<()>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let is_owner = member.role == "owner";
    let is_self = member.username == viewer;
    // The select shows this; a refused change puts the old role back.
    let shown_role = RwSignal::new(member.role.clone());
    let on_role = {
        let (team, user) = (team.clone(), member.username.clone());
        move |ev: leptos::ev::Event| {
            let (team, user, role) = (team.clone(), user.clone(), event_target_value(&ev));
            let old = shown_role.get_untracked();
            shown_role.set(role.clone());
            leptos::task::spawn_local(async move {
                match set_team_member_role(team, user, role).await {
                    Ok(()) => {
                        error.set(None);
                        reload.run(());
                    }
                    Err(err) => {
                        shown_role.set(old);
                        error.set(Some(err.to_string()));
                    }
                }
            });
        }
    };
    let on_remove = {
        let (team, user) = (team.clone(), member.username.clone());
        move |_| {
            let (team, user) = (team.clone(), user.clone());
            leptos::task::spawn_local(async move {
                match remove_team_member(team, user).await {
                    Ok(()) => {
                        error.set(None);
                        reload.run(());
                    }
                    Err(err) => error.set(Some(err.to_string())),
                }
            });
        }
    };
    let role_cell = if can_manage && !member.is_robot {
        view! {
            <select
                name="role"
                aria-label=format!("Role of {}", member.username)
                prop:value=move || shown_role.get()
                on:change=on_role
            >
                <option value="member" selected=!is_owner>"member"</option>
                <option value="owner" selected=is_owner>"owner"</option>
            </select>
        }
        .into_any()
    } else {
        view! { <span>{member.role.clone()}</span> }.into_any()
    };
    let removable = (can_manage || is_self) && !(is_owner && last_owner);
    let remove_label = if is_self { "Leave team" } else { "Remove" };
    view! {
        <tr data-testid="team-member" data-member=member.username.clone()>
            <td>
                <strong>{member.username.clone()}</strong>
                {member.is_robot.then(|| view! { " " <Badge text="robot" kind="robot" /> })}
            </td>
            <td>{role_cell}</td>
            <td><Time at=member.joined_at.clone() /></td>
            <td>{removable.then(|| view! {
                <button type="button" class="link-button" on:click=on_remove>{remove_label}</button>
            })}</td>
        </tr>
    }
}

#[component]
fn AddMember(team: String, reload: Callback<()>, error: RwSignal<Option<String>>) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let role = RwSignal::new("member".to_string());
    let busy = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (t, u, r) = (team.clone(), username.get_untracked(), role.get_untracked());
        busy.set(true);
        leptos::task::spawn_local(async move {
            match add_team_member(t, u, r).await {
                Ok(()) => {
                    username.set(String::new());
                    error.set(None);
                    reload.run(());
                }
                Err(err) => error.set(Some(err.to_string())),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="form form-row add-member" on:submit=on_submit>
            <label class="field">
                <span>"User name"</span>
                <input type="text" name="member" required bind:value=username />
            </label>
            <label class="field">
                <span>"Team role"</span>
                <select name="member-role" on:change=move |ev| role.set(event_target_value(&ev))>
                    <option value="member" selected=true>"member"</option>
                    <option value="owner">"owner"</option>
                </select>
            </label>
            <button type="submit" class="button primary" disabled=move || busy.get()>"Add member"</button>
        </form>
    }
}

#[component]
fn DeleteTeam(team: String, error: RwSignal<Option<String>>) -> impl IntoView {
    let navigate = use_navigate();
    let confirm = RwSignal::new(false);
    let on_delete = move |_| {
        if !confirm.get_untracked() {
            confirm.set(true);
            return;
        }
        let (team, navigate) = (team.clone(), navigate.clone());
        leptos::task::spawn_local(async move {
            match delete_team(team).await {
                Ok(()) => navigate("/teams", Default::default()),
                Err(err) => error.set(Some(err.to_string())),
            }
        });
    };
    view! {
        <section class="card danger-zone">
            <h2>"Delete the team"</h2>
            <p class="muted small">
                "Possible once the team's entity holds no containers. Members keep their accounts; the "
                "team's robots stay with the people who created them."
            </p>
            <button type="button" class="button danger" on:click=on_delete>
                {move || if confirm.get() { "Really delete the team" } else { "Delete team" }}
            </button>
        </section>
    }
}
