//! The one HTTP router: every protocol surface, the SPA's server functions and the SPA.
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::provide_context;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::state::AppState;
use crate::{edge, keyserver, library, rest, spa, sregistry};

/// Builds the complete application for `state`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(library::routes())
        .merge(keyserver::routes())
        .merge(sregistry::routes())
        .merge(rest::routes())
        .merge(crate::oci::routes())
        .route("/api/events", get(crate::events::stream))
        .merge(crate::web_upload::routes())
        .merge(crate::auth::oauth::routes::routes(&state))
        .merge(crate::auth::ldap_login::routes())
        .merge(crate::share::routes())
        .route(
            "/rpc/{*fn_name}",
            post(server_function).layer(axum::middleware::map_response(edge::envelopes::server_fn)),
        )
        .route("/healthz", get(health))
        .merge(crate::observability::routes())
        .fallback(spa::serve)
        // A body that sends nothing for this long is cut; one that keeps moving never is.
        .layer(RequestBodyTimeoutLayer::new(
            state.config.limits.body_idle_timeout(),
        ))
        .layer(from_fn_with_state(
            state.clone(),
            edge::proxy::resolve_client,
        ))
        .layer(from_fn_with_state(
            state.clone(),
            forget_cached_lookups_after_writes,
        ))
        .layer(CatchPanicLayer::new())
        .layer(from_fn_with_state(
            state.clone(),
            edge::security_headers::add_security_headers,
        ))
        .layer(state.observability.layer())
        .with_state(state)
}

/// After every request that may have written (any method but GET, HEAD and OPTIONS), and
/// before its response leaves, the registry catches up with what it wrote: whoever learns
/// of a change from a response finds it in the next lookup (`silo_domain` `lookup_cache.rs`).
async fn forget_cached_lookups_after_writes(
    State(state): State<AppState>,
    request: Request<Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::Method;
    let reads_only = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let response = next.run(request).await;
    if !reads_only {
        state.registry.catch_up_with_writes().await;
    }
    response
}

/// Runs a Leptos server function with the registry, branding and viewer in its context.
/// Sign-in and sign-out always, and other calls made with the session cookie, must pass
/// the same-origin rule (`session.rs`).
/// Token sign-in and token creation count against `limits.token_requests_per_minute`, and
/// bodies are refused beyond `limits.json_body_kib` (413).
async fn server_function(
    State(state): State<AppState>,
    client: edge::proxy::ClientAddress,
    request: Request<Body>,
) -> axum::response::Response {
    let path = request.uri().path();
    let token_login = path.ends_with("/login");
    let always_same_origin = token_login || path.ends_with("/logout");
    let token_request =
        token_login || path.ends_with("/tokens/create") || path.ends_with("/robot_token_create");
    if token_request {
        if let Err(refusal) = state.edge.requests.check_token_request(client).await {
            return refusal.server_fn_response();
        }
    }
    let (parts, body) = request.into_parts();
    let body =
        match edge::limits::read_small_body(body, state.config.limits.json_body_bytes()).await {
            Ok(body) => body,
            Err(err) => {
                let refusal = app::error::SiloError::BadRequest(err.to_string());
                return (err.status(), axum::Json(refusal)).into_response();
            }
        };
    let request = Request::from_parts(parts, Body::from(body));
    let caller =
        match crate::session::web_caller(&state, request.headers(), always_same_origin).await {
            Ok(caller) => caller,
            Err(err) => return crate::session::server_fn_refusal(err),
        };
    let context = app::context::SiloContext {
        registry: state.registry.clone(),
        branding: app::context::Branding {
            name: state.config.branding.name.clone(),
            help_email: state.config.branding.help_email.clone(),
            institution_name: state.config.branding.institution_name.clone(),
            institution_url: state.config.branding.institution_url.clone(),
            logo_url: state.config.branding.logo_url.clone(),
            about: state.config.branding.about.clone(),
            terms: state.config.branding.terms.clone(),
        },
        public_url: state.public_url.to_string(),
        viewer: caller.actor,
        session_secret: caller.session_secret,
        session_limits: state.config.web.session_limits(),
    };
    let run = |request| async move {
        leptos_axum::handle_server_fns_with_context(
            move || provide_context(context.clone()),
            request,
        )
        .await
        .into_response()
    };
    if token_login {
        // Signing in with a token counts against the login rate limit.
        return crate::auth::login_limits::limit_token_login(&state, request, run).await;
    }
    run(request).await
}

/// `GET /healthz`: 200 when the database answers, 503 otherwise (for load balancers and
/// service managers).
async fn health(State(state): State<AppState>) -> impl IntoResponse {
    match state.registry.db().ping().await {
        Ok(()) => (
            http::StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ok"})),
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                http::StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"status": "database unavailable"})),
            )
        }
    }
}
