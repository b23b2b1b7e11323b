//! What the admin pages show: accounts, team quotas, registration and branding settings, and
//! the audit log.
use serde::{Deserialize, Serialize};

use super::Timestamp;

/// One account in the users list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUser {
    pub username: String,
    pub email: String,
    pub is_admin: bool,
    /// `human` or `robot`.
    pub kind: String,
    pub active: bool,
    pub created_at: Timestamp,
    pub last_login: Option<Timestamp>,
    /// Bytes the user's entities store.
    pub storage_used: u64,
    /// Bytes; 0 means unlimited.
    pub quota: u64,
}

/// A page of the users list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserList {
    pub users: Vec<AdminUser>,
    pub total: u64,
    /// 1-based.
    pub page: u64,
    pub per_page: u64,
}

/// A team with its quota and usage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamQuotaRow {
    pub name: String,
    pub storage_used: u64,
    pub quota: u64,
}

/// What deleting a user did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDeletedInfo {
    pub username: String,
    pub entities: u64,
    pub containers_deleted: u64,
    pub images_deleted: u64,
}

/// Registration rules as the settings form edits them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationForm {
    /// `open`, `closed` or `restricted`.
    pub mode: String,
    pub email_domains: Vec<String>,
    pub groups: Vec<String>,
}

/// The seven branding fields.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrandingFields {
    pub name: String,
    pub help_email: String,
    pub institution_name: String,
    pub institution_url: String,
    pub logo_url: String,
    pub about: String,
    pub terms: String,
}

/// The settings page: registration rules, and branding as configured and as overridden
/// (empty override fields fall back to the configuration).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsData {
    pub registration: RegistrationForm,
    pub branding_configured: BrandingFields,
    pub branding_override: BrandingFields,
}

/// One audit log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub at: Timestamp,
    /// The acting user's name, `#<id>` for deleted accounts, empty for the system.
    pub actor: String,
    pub action: String,
    pub target: String,
    /// JSON details.
    pub detail: String,
}

/// A page of the audit log, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditData {
    pub entries: Vec<AuditRow>,
    pub total: u64,
    /// 1-based.
    pub page: u64,
    pub per_page: u64,
}

impl AuditData {
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(self.per_page.max(1)).max(1)
    }
}

impl UserList {
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(self.per_page.max(1)).max(1)
    }
}

/// Splits a list typed by a person (commas, spaces or new lines) into its items.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Mebibytes typed in a form as bytes; `None` for anything but a whole number.
pub fn mib_to_bytes(text: &str) -> Option<u64> {
    text.trim().parse::<u64>().ok()?.checked_mul(1024 * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_quotas_from_form_text() {
        assert_eq!(
            split_list(" uni.edu,lab.org\nhpc.example  "),
            ["uni.edu", "lab.org", "hpc.example"]
        );
        assert!(split_list(" , ").is_empty());
        assert_eq!(mib_to_bytes("2"), Some(2 * 1024 * 1024));
        assert_eq!(mib_to_bytes("0"), Some(0));
        assert_eq!(mib_to_bytes("-1"), None);
        assert_eq!(mib_to_bytes("1.5"), None);
    }
}
