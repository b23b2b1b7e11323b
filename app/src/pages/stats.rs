//! `/stats`: registry-wide totals, pulls per day and storage growth (over what the viewer may
//! see).
use leptos::prelude::*;

use crate::api::{get_highlights, get_home};
use crate::charts::UsagePanel;
use crate::components::{PageTitle, Stat};
use crate::format::human_bytes;

#[component]
pub fn StatsPage() -> impl IntoView {
    let home = LocalResource::new(get_home);
    let highlights = LocalResource::new(get_highlights);
    let totals = move || {
        let home = home.get().and_then(Result::ok)?;
        let more = highlights.get().and_then(Result::ok)?;
        Some(view! {
            <div class="stats stats-auto" data-testid="registry-totals">
                <Stat label="entities" value=more.entities.to_string() />
                <Stat label="collections" value=home.collections.to_string() />
                <Stat label="containers" value=home.containers.to_string() />
                <Stat label="images" value=home.images.to_string() />
                <Stat label="stored" value=human_bytes(home.total_bytes) />
                <Stat label="pulls" value=more.downloads.to_string() />
                <Stat label="stars" value=more.stars.to_string() />
            </div>
        })
    };
    view! {
        <PageTitle text="Usage" />
        <div class="page-head">
            <h1>"Usage"</h1>
            <p class="muted">"Pulls and storage of the whole registry, day by day (UTC)."</p>
        </div>
        {totals}
        <UsagePanel path="" title="Registry usage" />
    }
}
