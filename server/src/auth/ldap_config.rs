//! Settings of the direct LDAP bind backend (`[auth.ldap]`).
use serde::{Deserialize, Serialize};

/// Direct LDAP bind.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LdapSettings {
    /// `ldap://host:389` or `ldaps://host:636`.
    pub url: String,
    /// Label of the sign-in form on the login page (e.g. "University account").
    pub display_name: String,
}
