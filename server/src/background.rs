//! What `silo serve` runs beside the HTTP server, safe with several replicas on one database:
//!
//! - the event relay (`Registry::start_event_relay`, PostgreSQL only), so `/api/events`
//!   streams hear about changes made through every replica (and cached lookups are
//!   forgotten when another replica or a `silo` command changes what they read);
//! - on SQLite, the watch of the catalogue change counter (`Registry::start_lookup_watch`);
//! - maintenance every `[maintenance] interval_seconds` (and once at start-up): expired upload
//!   sessions and ended browser sessions are forgotten and, unless `gc = false`, garbage is
//!   collected (`Registry::collect_garbage`), by one replica at a time
//!   (`Registry::maintenance` takes a PostgreSQL advisory lock; the others skip the round).
use serde::{Deserialize, Serialize};
use silo_domain::services::GcOptions;
use silo_domain::Registry;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use crate::config::Config;

/// `[maintenance]`: periodic housekeeping.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MaintenanceSettings {
    /// Seconds between maintenance rounds (0: only the round at start-up).
    pub interval_seconds: u64,
    /// Whether each round also collects garbage (`silo gc` works either way).
    pub gc: bool,
    /// Unreferenced blobs are deleted only once their lease is this many minutes old.
    pub grace_minutes: u64,
    /// Temporary files of uploads not written to for this many minutes (and belonging to no
    /// upload session) are removed, at start-up and in each round.
    pub abandoned_upload_minutes: u64,
}

impl Default for MaintenanceSettings {
    fn default() -> Self {
        MaintenanceSettings {
            interval_seconds: 600,
            gc: true,
            grace_minutes: 60,
            abandoned_upload_minutes: 60,
        }
    }
}

/// Shortest `abandoned_upload_minutes`: a live upload stalled for less is not abandoned.
pub const MIN_ABANDONED_UPLOAD_MINUTES: u64 = 10;

impl MaintenanceSettings {
    /// Everything wrong with these settings.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.interval_seconds > 7 * 86_400 {
            problems.push(
                "maintenance.interval_seconds (SILO_MAINTENANCE__INTERVAL_SECONDS): use 0 to 604800"
                    .to_string(),
            );
        }
        if self.grace_minutes > 525_600 {
            problems.push(
                "maintenance.grace_minutes (SILO_MAINTENANCE__GRACE_MINUTES): use 0 to 525600"
                    .to_string(),
            );
        }
        if !(MIN_ABANDONED_UPLOAD_MINUTES..=525_600).contains(&self.abandoned_upload_minutes) {
            problems.push(format!(
                "maintenance.abandoned_upload_minutes (SILO_MAINTENANCE__ABANDONED_UPLOAD_MINUTES): \
                 use {MIN_ABANDONED_UPLOAD_MINUTES} to 525600"
            ));
        }
        problems
    }

    /// Garbage collection as configured.
    pub fn gc_options(&self, dry_run: bool) -> GcOptions {
        GcOptions {
            dry_run,
            grace: Duration::from_secs(self.grace_minutes * 60),
            abandoned_after: Duration::from_secs(self.abandoned_upload_minutes * 60),
        }
    }
}

/// Starts the background tasks; they end when `stop` is cancelled. The first maintenance
/// round's quick part (expired upload and browser sessions) runs before this returns, as
/// start-up always did; its garbage collection starts at once beside serving, because with
/// many images it takes longer than a start-up should (300-400 ms at 10,000 containers).
pub async fn start(registry: &Registry, config: &Config, stop: &CancellationToken) {
    registry.start_event_relay(stop.clone()).await;
    registry.start_lookup_watch(stop.clone());
    let limits = config.web.session_limits();
    let gc = config
        .maintenance
        .gc
        .then(|| config.maintenance.gc_options(false));
    maintain(registry, limits, None).await;
    let interval = config.maintenance.interval_seconds;
    let (registry, stop) = (registry.clone(), stop.clone());
    tokio::spawn(async move {
        if gc.is_some() {
            tokio::select! {
                () = stop.cancelled() => return,
                () = maintain(&registry, limits, gc.as_ref()) => {}
            }
        }
        if interval == 0 {
            return;
        }
        let mut ticks = tokio::time::interval(Duration::from_secs(interval));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await; // the first tick is immediate: that round just ran
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticks.tick() => maintain(&registry, limits, gc.as_ref()).await,
            }
        }
    });
}

/// One maintenance round, logged; failures are logged and retried next round.
async fn maintain(
    registry: &Registry,
    limits: silo_domain::services::SessionLimits,
    gc: Option<&GcOptions>,
) {
    match registry.maintenance(limits, gc).await {
        Ok(Some(report)) => {
            if report.expired_uploads > 0 {
                tracing::info!(
                    swept = report.expired_uploads,
                    "forgot expired upload sessions"
                );
            }
            if report.ended_sessions > 0 {
                tracing::info!(
                    ended = report.ended_sessions,
                    "forgot ended browser sessions"
                );
            }
            if let Some(gc) = report.gc.filter(|gc| !gc.items.is_empty()) {
                use silo_domain::services::GcKind;
                tracing::info!(
                    blobs = gc.count(GcKind::Blob),
                    blob_bytes = gc.bytes(GcKind::Blob),
                    temporaries = gc.count(GcKind::Temporary),
                    temporary_bytes = gc.bytes(GcKind::Temporary),
                    expired_uploads = gc.count(GcKind::ExpiredUpload),
                    "collected garbage"
                );
            }
        }
        Ok(None) => tracing::debug!("another replica is doing the maintenance round"),
        Err(err) => tracing::error!(error = %err, "maintenance round failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::MaintenanceSettings;

    #[test]
    fn the_interval_is_checked() {
        assert!(MaintenanceSettings::default().problems().is_empty());
        let off = MaintenanceSettings {
            interval_seconds: 0,
            ..MaintenanceSettings::default()
        };
        assert!(off.problems().is_empty(), "0 turns the timer off");
        let absurd = MaintenanceSettings {
            interval_seconds: 30 * 86_400,
            ..MaintenanceSettings::default()
        };
        assert_eq!(absurd.problems().len(), 1);
        let hasty = MaintenanceSettings {
            abandoned_upload_minutes: 1,
            ..MaintenanceSettings::default()
        };
        assert_eq!(hasty.problems().len(), 1, "live uploads may stall a minute");
        let options = MaintenanceSettings::default().gc_options(true);
        assert_eq!(options.grace.as_secs(), 3600);
        assert!(options.dry_run);
    }
}
