//! Who may create an account by signing in with an external login: everyone (open), nobody
//! but users an admin created beforehand (closed), or people with an e-mail address in given
//! domains or in given directory groups (restricted). Stored in `settings`, changed by admins.
use sea_orm::{EntityTrait, Set};
use serde::{Deserialize, Serialize};

use super::{now, Registry};
use crate::entities::setting;
use crate::error::{DomainError, Result};
use crate::policy::Actor;

const REGISTRATION_SETTING: &str = "registration";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistrationMode {
    /// Any successful external login creates an account.
    #[default]
    Open,
    /// Only accounts that already exist (for example created by an admin) may sign in.
    Closed,
    /// New accounts only for verified e-mail addresses in `email_domains` or members of
    /// `groups`.
    Restricted,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegistrationSettings {
    pub mode: RegistrationMode,
    /// Lower-case domains such as `example.edu` (sub-domains are not included).
    pub email_domains: Vec<String>,
    /// Directory or OIDC group names.
    pub groups: Vec<String>,
}

impl RegistrationSettings {
    /// Whether a new account may be created for someone with this e-mail and these groups.
    pub fn admits(&self, email: &str, email_verified: bool, groups: &[String]) -> bool {
        match self.mode {
            RegistrationMode::Open => true,
            RegistrationMode::Closed => false,
            RegistrationMode::Restricted => {
                let domain = email.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase());
                let by_domain =
                    email_verified && domain.is_some_and(|d| self.email_domains.contains(&d));
                let by_group = groups.iter().any(|g| self.groups.contains(g));
                by_domain || by_group
            }
        }
    }

    fn normalised(mut self) -> Self {
        self.email_domains = self
            .email_domains
            .iter()
            .map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase())
            .filter(|d| !d.is_empty())
            .collect();
        self.groups = self
            .groups
            .iter()
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty())
            .collect();
        self
    }
}

impl Registry {
    /// The registration rules in force (open when never set).
    pub async fn registration(&self) -> Result<RegistrationSettings> {
        let stored = setting::Entity::find_by_id(REGISTRATION_SETTING.to_string())
            .one(&self.db)
            .await?;
        Ok(stored
            .and_then(|s| serde_json::from_str(&s.value).ok())
            .unwrap_or_default())
    }

    /// Replaces the registration rules: administrators only; audited.
    pub async fn set_registration(
        &self,
        actor: &Actor,
        settings: RegistrationSettings,
    ) -> Result<RegistrationSettings> {
        let admin = actor.require_admin()?;
        let settings = settings.normalised();
        if settings.mode == RegistrationMode::Restricted
            && settings.email_domains.is_empty()
            && settings.groups.is_empty()
        {
            return Err(DomainError::invalid(
                "restricted registration needs at least one e-mail domain or group",
            ));
        }
        let value =
            serde_json::to_string(&settings).map_err(|e| DomainError::invalid(e.to_string()))?;
        let row = setting::ActiveModel {
            key: Set(REGISTRATION_SETTING.to_string()),
            value: Set(value.clone()),
            updated_at: Set(now()),
        };
        setting::Entity::insert(row)
            .on_conflict(
                sea_orm::sea_query::OnConflict::column(setting::Column::Key)
                    .update_columns([setting::Column::Value, setting::Column::UpdatedAt])
                    .to_owned(),
            )
            .exec(&self.db)
            .await?;
        self.record_audit(
            &self.db,
            Some(admin.user_id),
            "registration.update",
            "settings:registration",
            serde_json::from_str(&value).unwrap_or_default(),
        )
        .await?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restricted_admits_verified_domains_and_groups_only() {
        let rules = RegistrationSettings {
            mode: RegistrationMode::Restricted,
            email_domains: vec!["Uni.EDU ".into()],
            groups: vec!["hpc".into()],
        }
        .normalised();
        assert!(rules.admits("a@uni.edu", true, &[]));
        assert!(!rules.admits("a@uni.edu", false, &[]), "unverified e-mail");
        assert!(!rules.admits("a@sub.uni.edu", true, &[]));
        assert!(!rules.admits("a@evil.com", true, &[]));
        assert!(rules.admits("a@evil.com", false, &["hpc".into()]));
        let closed = RegistrationSettings {
            mode: RegistrationMode::Closed,
            ..Default::default()
        };
        assert!(!closed.admits("a@uni.edu", true, &["hpc".into()]));
        assert!(RegistrationSettings::default().admits("", false, &[]));
    }
}
