//! `GET /api/events`: the registry's changes as server-sent events, for live views (the SPA's
//! treemap). Each event is `event: registry` with JSON data `{"kind":"pushed"|"deleted",
//! "path":"entity/collection/container"}`; a viewer only hears about containers it may read
//! (the policy decides, per event, for the caller of this stream), so private names never
//! leak. `{"kind":"changed"}` (no path) means this stream fell behind, or the replica lost its
//! connection to the other replicas' events for a moment, and events it might have been
//! allowed to see were missed: refresh everything. Comment lines keep the connection alive
//! every 15 seconds.
//!
//! With PostgreSQL, changes made through every replica arrive (the domain relays them with
//! LISTEN/NOTIFY; `silo serve` starts the relay, see `background.rs`).
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use silo_domain::services::{ChangeKind, RegistryEvent};
use silo_domain::Actor;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::broadcast::Receiver;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// How often an idle stream sends a keep-alive comment.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The SSE name of every event.
pub const EVENT_NAME: &str = "registry";

/// `GET /api/events`. The viewer is the bearer token's user, else the browser session's
/// (the SPA's `EventSource` sends the cookie, and cannot send headers), else anonymous.
pub async fn stream(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Response> {
    let viewer = crate::session::web_caller(&state, &headers, false)
        .await
        .map_err(|err| crate::rest::error::RestError::from(err).into_response())?
        .actor;
    let events = state.registry.subscribe();
    let stop = state.shutdown.clone();
    let stream = futures::stream::unfold(
        (events, viewer, stop),
        |(mut events, viewer, stop)| async move {
            let event = next_visible(&mut events, &viewer, &stop).await?;
            Some((Ok(event), (events, viewer, stop)))
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// The next event `viewer` may see; None ends the stream (server shutting down).
async fn next_visible(
    events: &mut Receiver<RegistryEvent>,
    viewer: &Actor,
    stop: &CancellationToken,
) -> Option<Event> {
    loop {
        let received = tokio::select! {
            () = stop.cancelled() => return None,
            received = events.recv() => received,
        };
        let data = match received {
            Ok(event) if event.kind == ChangeKind::Missed => serde_json::json!({"kind": "changed"}),
            Ok(event) => match event.path_for(viewer) {
                Some(path) => serde_json::json!({"kind": event.kind.as_str(), "path": path}),
                None => continue,
            },
            Err(RecvError::Lagged(_)) => serde_json::json!({"kind": "changed"}),
            Err(RecvError::Closed) => return None,
        };
        return Some(Event::default().event(EVENT_NAME).data(data.to_string()));
    }
}
