//! What `silo serve` runs beside the HTTP server, safe with several replicas on one database:
//!
//! - the event relay (`Registry::start_event_relay`, PostgreSQL only), so `/api/events`
//!   streams hear about changes made through every replica;
//! - maintenance every `[maintenance] interval_seconds` (and once at start-up): expired upload
//!   sessions and ended browser sessions are forgotten, by one replica at a time
//!   (`Registry::maintenance` takes a PostgreSQL advisory lock; the others skip the round).
use serde::{Deserialize, Serialize};
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
}

impl Default for MaintenanceSettings {
    fn default() -> Self {
        MaintenanceSettings {
            interval_seconds: 600,
        }
    }
}

impl MaintenanceSettings {
    /// Everything wrong with these settings.
    pub fn problems(&self) -> Vec<String> {
        if self.interval_seconds > 7 * 86_400 {
            vec![
                "maintenance.interval_seconds (SILO_MAINTENANCE__INTERVAL_SECONDS): use 0 to 604800"
                    .to_string(),
            ]
        } else {
            Vec::new()
        }
    }
}

/// Starts the background tasks; they end when `stop` is cancelled. Runs the first
/// maintenance round before returning (as start-up always did).
pub async fn start(registry: &Registry, config: &Config, stop: &CancellationToken) {
    registry.start_event_relay(stop.clone()).await;
    let limits = config.web.session_limits();
    maintain(registry, limits).await;
    let interval = config.maintenance.interval_seconds;
    if interval == 0 {
        return;
    }
    let (registry, stop) = (registry.clone(), stop.clone());
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_secs(interval));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await; // the first tick is immediate: that round just ran
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticks.tick() => maintain(&registry, limits).await,
            }
        }
    });
}

/// One maintenance round, logged; failures are logged and retried next round.
async fn maintain(registry: &Registry, limits: silo_domain::services::SessionLimits) {
    match registry.maintenance(limits).await {
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
        };
        assert!(off.problems().is_empty(), "0 turns the timer off");
        let absurd = MaintenanceSettings {
            interval_seconds: 30 * 86_400,
        };
        assert_eq!(absurd.problems().len(), 1);
    }
}
