//! `/admin/settings`: registration rules and branding overrides.
use leptos::prelude::*;

use super::{AdminGate, AdminNav, Feedback};
use crate::api::admin::{admin_set_branding, admin_set_registration, admin_settings};
use crate::components::{use_site, ErrorView, Loading, PageTitle};
use crate::model::admin::{BrandingFields, SettingsData};

#[component]
pub fn AdminSettingsPage() -> impl IntoView {
    view! {
        <PageTitle text="Settings · Administration" />
        <AdminGate>
            <SettingsBody />
        </AdminGate>
    }
}

#[component]
fn SettingsBody() -> impl IntoView {
    let settings = LocalResource::new(admin_settings);
    view! {
        <div class="page-head">
            <h1>"Settings"</h1>
            <AdminNav />
        </div>
        <Transition fallback=|| view! { <Loading what="settings" /> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(s) => view! { <SettingsForms settings=s /> }.into_any(),
                    Err(error) => view! { <ErrorView error=error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SettingsForms(settings: SettingsData) -> impl IntoView {
    view! {
        <RegistrationForm settings=settings.clone() />
        <BrandingForm configured=settings.branding_configured over=settings.branding_override />
    }
}

#[component]
fn RegistrationForm(settings: SettingsData) -> impl IntoView {
    let reg = settings.registration;
    let mode = RwSignal::new(reg.mode.clone());
    let domains = RwSignal::new(reg.email_domains.join("\n"));
    let groups = RwSignal::new(reg.groups.join("\n"));
    let message = RwSignal::new(None::<Result<String, String>>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (m, d, g) = (
            mode.get_untracked(),
            domains.get_untracked(),
            groups.get_untracked(),
        );
        leptos::task::spawn_local(async move {
            let result = admin_set_registration(m, d, g).await;
            message.set(Some(
                result
                    .map(|_| "Registration rules saved.".to_string())
                    .map_err(|e| e.to_string()),
            ));
        });
    };
    let radio = move |value: &'static str, label: &'static str| {
        view! {
            <label class="check">
                <input type="radio" name="registration" value=value
                    prop:checked=move || mode.get() == value
                    on:change=move |_| mode.set(value.to_string()) />
                <span>{label}</span>
            </label>
        }
    };
    view! {
        <section class="card admin-section" data-testid="registration-settings">
            <h2>"Registration"</h2>
            <p class="muted">"Who gets an account by signing in with an institutional login (GitHub, GitLab, Google, OpenID Connect, LDAP) for the first time. Accounts that already exist, including those created on the Users page, can always sign in unless disabled."</p>
            <form class="form" on:submit=submit>
                <fieldset class="admin-choice">
                    <legend>"New accounts"</legend>
                    {radio("open", "Open: anyone who signs in gets an account")}
                    {radio("closed", "Closed: only accounts an administrator created")}
                    {radio("restricted", "Restricted: verified e-mail addresses in these domains, or members of these groups")}
                </fieldset>
                <div class="field-row">
                    <label class="field">
                        <span>"E-mail domains (one per line)"</span>
                        <textarea name="email_domains" rows="3" bind:value=domains placeholder="uni.example.edu"></textarea>
                    </label>
                    <label class="field">
                        <span>"Groups (one per line)"</span>
                        <textarea name="groups" rows="3" bind:value=groups placeholder="hpc-users"></textarea>
                    </label>
                </div>
                <Feedback message=message />
                <button type="submit" class="button primary">"Save registration rules"</button>
            </form>
        </section>
    }
}

#[component]
fn BrandingForm(configured: BrandingFields, over: BrandingFields) -> impl IntoView {
    let site = use_site();
    let name = RwSignal::new(over.name);
    let help_email = RwSignal::new(over.help_email);
    let institution_name = RwSignal::new(over.institution_name);
    let institution_url = RwSignal::new(over.institution_url);
    let logo_url = RwSignal::new(over.logo_url);
    let about = RwSignal::new(over.about);
    let terms = RwSignal::new(over.terms);
    let message = RwSignal::new(None::<Result<String, String>>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let fields = [
            name,
            help_email,
            institution_name,
            institution_url,
            logo_url,
            about,
            terms,
        ]
        .map(|s| s.get_untracked());
        leptos::task::spawn_local(async move {
            let [n, h, i, u, l, a, t] = fields;
            let result = admin_set_branding(n, h, i, u, l, a, t).await;
            if result.is_ok() {
                // The header and footer show the new values at once.
                site.0.refetch();
            }
            message.set(Some(
                result
                    .map(|_| "Branding saved.".to_string())
                    .map_err(|e| e.to_string()),
            ));
        });
    };
    let line = move |label: &'static str,
                     field: &'static str,
                     value: RwSignal<String>,
                     from_config: String| {
        view! {
            <label class="field">
                <span>{label}</span>
                <input type="text" name=field bind:value=value placeholder=from_config />
            </label>
        }
    };
    view! {
        <section class="card admin-section" data-testid="branding-settings">
            <h2>"Branding"</h2>
            <p class="muted">"Each field overrides the configuration file's " <code>"[branding]"</code> " value (shown greyed when the field is empty); clear a field to use the configured value again."</p>
            <form class="form" on:submit=submit>
                <div class="field-row">
                    {line("Name", "branding_name", name, configured.name)}
                    {line("Help e-mail", "branding_help_email", help_email, configured.help_email)}
                </div>
                <div class="field-row">
                    {line("Institution", "branding_institution_name", institution_name, configured.institution_name)}
                    {line("Institution address", "branding_institution_url", institution_url, configured.institution_url)}
                </div>
                {line("Logo address (https://… or /path)", "branding_logo_url", logo_url, configured.logo_url)}
                <label class="field">
                    <span>"About page text"</span>
                    <textarea name="branding_about" rows="5" bind:value=about placeholder=configured.about></textarea>
                </label>
                <label class="field">
                    <span>"Terms page text"</span>
                    <textarea name="branding_terms" rows="5" bind:value=terms placeholder=configured.terms></textarea>
                </label>
                <Feedback message=message />
                <button type="submit" class="button primary">"Save branding"</button>
            </form>
        </section>
    }
}
