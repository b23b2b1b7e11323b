//! What the server hands to every server function.
use silo_domain::Registry;

/// The centre's branding, as configured.
#[derive(Clone, Debug, Default)]
pub struct Branding {
    pub name: String,
    pub help_email: String,
    pub institution_name: String,
    pub institution_url: String,
    pub logo_url: String,
    pub about: String,
    pub terms: String,
}

/// Provided to server functions with `provide_context` by the `silo` server.
#[derive(Clone)]
pub struct SiloContext {
    pub registry: Registry,
    pub branding: Branding,
    /// The registry's public base URL, without a trailing slash.
    pub public_url: String,
}
