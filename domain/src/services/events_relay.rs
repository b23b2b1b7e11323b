//! The relay that brings other replicas' events into this one (PostgreSQL only): one task per
//! registry listens on [`EVENT_CHANNEL`] with its own connection from the pool, loads the
//! container each notification names and re-broadcasts it into the local channel. It skips
//! the notifications this registry sent itself (their subscribers heard them at once), so
//! every event reaches every subscriber exactly once.
//!
//! It also listens on [`CATALOGUE_CHANNEL`], where database triggers announce every change to
//! the tables the lookup cache reads (`lookup_cache.rs`), and forgets the cached lookups.
//!
//! When the listening connection is lost, the relay reconnects with exponential backoff
//! (from [`RELAY_BACKOFF_MIN`] up to [`RELAY_BACKOFF_MAX`]) and, once listening again, tells
//! the local subscribers that they may have missed events ([`ChangeKind::Missed`]).
use std::sync::atomic::Ordering;
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgListener, PgPool};
use sea_orm::DbBackend;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::events::{ChangeKind, Notice, RegistryEvent, EVENT_CHANNEL};
use super::lookup_cache::CATALOGUE_CHANNEL;
use super::Registry;

/// First wait before reconnecting a lost listener.
pub const RELAY_BACKOFF_MIN: Duration = Duration::from_millis(250);
/// Longest wait between reconnection attempts.
pub const RELAY_BACKOFF_MAX: Duration = Duration::from_secs(30);

impl Registry {
    /// Starts relaying the events other replicas publish (PostgreSQL), until `stop` is
    /// cancelled or the database is closed; None on SQLite, where there is nothing to relay,
    /// and when this registry (or a clone) runs a relay already (events would come twice).
    /// Returns once the first `LISTEN` succeeded (or failed: the task then keeps trying), so
    /// events published after it returns are not missed.
    pub async fn start_event_relay(&self, stop: CancellationToken) -> Option<JoinHandle<()>> {
        if self.db.get_database_backend() != DbBackend::Postgres
            || self.events.relay_running.swap(true, Ordering::SeqCst)
        {
            return None;
        }
        let pool = self.db.get_postgres_connection_pool().clone();
        let first = match listen(&pool).await {
            Ok(listener) => Some(listener),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for other replicas' events yet");
                None
            }
        };
        let relay = self.clone();
        Some(tokio::spawn(async move {
            let running = relay.events.relay_running.clone();
            relay.relay(pool, first, stop).await;
            running.store(false, Ordering::SeqCst);
        }))
    }

    async fn relay(self, pool: PgPool, mut listener: Option<PgListener>, stop: CancellationToken) {
        let mut backoff = RELAY_BACKOFF_MIN;
        loop {
            let mut current = match listener.take() {
                Some(current) => current,
                None => {
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(RELAY_BACKOFF_MAX);
                    match listen(&pool).await {
                        Ok(current) => {
                            tracing::info!("listening for other replicas' events again");
                            let _ = self.events.local.send(RegistryEvent::missed());
                            self.lookups_changed();
                            current
                        }
                        Err(e) if pool.is_closed() => {
                            tracing::debug!(error = %e, "database closed; event relay ends");
                            return;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, ?backoff, "cannot listen for events");
                            continue;
                        }
                    }
                }
            };
            backoff = RELAY_BACKOFF_MIN;
            loop {
                let received = tokio::select! {
                    () = stop.cancelled() => return,
                    received = current.try_recv() => received,
                };
                match received {
                    Ok(Some(notification)) if notification.channel() == CATALOGUE_CHANNEL => {
                        self.lookups_changed();
                    }
                    Ok(Some(notification)) => self.relay_one(notification.payload()).await,
                    Ok(None) => {
                        tracing::warn!("lost the connection carrying other replicas' events");
                        self.lookups_changed();
                        break;
                    }
                    Err(_) if pool.is_closed() => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "error receiving other replicas' events");
                        break;
                    }
                }
            }
        }
    }

    /// Re-broadcasts one notification unless this registry sent it.
    async fn relay_one(&self, payload: &str) {
        let notice: Notice = match serde_json::from_str(payload) {
            Ok(notice) => notice,
            Err(e) => {
                tracing::warn!(error = %e, payload, "ignored an unreadable event notification");
                return;
            }
        };
        if *notice.origin == *self.events.origin {
            return;
        }
        let event = match (
            notice.kind(),
            self.load_container_view(notice.container).await,
        ) {
            (Some(ChangeKind::Missed) | None, _) | (_, Err(_)) => RegistryEvent::missed(),
            (Some(kind), Ok(view)) => RegistryEvent::about(kind, &view),
        };
        let _ = self.events.local.send(event);
    }
}

/// A listener on [`EVENT_CHANNEL`] holding one of `pool`'s connections. A lost connection is
/// reported (`try_recv` answers `Ok(None)`) rather than silently replaced, so the relay can
/// tell its subscribers.
async fn listen(pool: &PgPool) -> Result<PgListener, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.eager_reconnect(false);
    listener
        .listen_all([EVENT_CHANNEL, CATALOGUE_CHANNEL])
        .await?;
    Ok(listener)
}
