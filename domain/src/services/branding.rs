//! Branding set by administrators in the web interface. It is stored in `settings` (key
//! `branding`) and overrides the configuration file's `[branding]` field by field: a field
//! left empty here falls back to the configured value.
use sea_orm::{EntityTrait, Set};
use serde::{Deserialize, Serialize};

use super::{now, Registry};
use crate::entities::setting;
use crate::error::{DomainError, Result};
use crate::policy::Actor;

const BRANDING_SETTING: &str = "branding";
/// Longest accepted name, e-mail, institution name or URL.
const MAX_SHORT: usize = 500;
/// Longest accepted About or Terms text.
const MAX_TEXT: usize = 50_000;

/// Branding fields that override the configuration; `None` keeps the configured value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BrandingOverride {
    pub name: Option<String>,
    pub help_email: Option<String>,
    pub institution_name: Option<String>,
    pub institution_url: Option<String>,
    pub logo_url: Option<String>,
    pub about: Option<String>,
    pub terms: Option<String>,
}

impl BrandingOverride {
    /// The effective value of a field: the override when set, else the configured one.
    pub fn pick(over: &Option<String>, configured: &str) -> String {
        over.clone().unwrap_or_else(|| configured.to_string())
    }

    /// Trims every field and turns empty ones into `None`; refuses over-long text and
    /// addresses that are neither `http(s)://` URLs nor paths on this server (no
    /// `javascript:` links in the header).
    fn normalised(self) -> Result<Self> {
        let short = |label: &str, v: Option<String>| -> Result<Option<String>> {
            let v = v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
            if v.as_ref().is_some_and(|s| s.chars().count() > MAX_SHORT) {
                return Err(DomainError::invalid(format!(
                    "{label} is longer than {MAX_SHORT} characters"
                )));
            }
            Ok(v)
        };
        let text = |label: &str, v: Option<String>| -> Result<Option<String>> {
            let v = v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
            if v.as_ref().is_some_and(|s| s.chars().count() > MAX_TEXT) {
                return Err(DomainError::invalid(format!(
                    "{label} is longer than {MAX_TEXT} characters"
                )));
            }
            Ok(v)
        };
        let link = |label: &str, v: Option<String>| -> Result<Option<String>> {
            let v = short(label, v)?;
            if let Some(url) = &v {
                let lower = url.to_ascii_lowercase();
                let ok = lower.starts_with("https://")
                    || lower.starts_with("http://")
                    || (url.starts_with('/') && !url.starts_with("//"));
                if !ok || url.chars().any(|c| c.is_whitespace() || c == '"') {
                    return Err(DomainError::invalid(format!(
                        "{label} must be an http(s) address or a path on this server starting with /"
                    )));
                }
            }
            Ok(v)
        };
        let help_email = short("the help e-mail", self.help_email)?;
        if help_email
            .as_ref()
            .is_some_and(|e| !e.contains('@') || e.chars().any(char::is_whitespace))
        {
            return Err(DomainError::invalid(
                "the help e-mail must be an e-mail address",
            ));
        }
        Ok(BrandingOverride {
            name: short("the name", self.name)?,
            help_email,
            institution_name: short("the institution name", self.institution_name)?,
            institution_url: link("the institution address", self.institution_url)?,
            logo_url: link("the logo address", self.logo_url)?,
            about: text("the About text", self.about)?,
            terms: text("the Terms text", self.terms)?,
        })
    }
}

impl Registry {
    /// The branding overrides in force (none when never set). Public: the header shows them.
    pub async fn branding_override(&self) -> Result<BrandingOverride> {
        let stored = setting::Entity::find_by_id(BRANDING_SETTING.to_string())
            .one(&self.db)
            .await?;
        Ok(stored
            .and_then(|s| serde_json::from_str(&s.value).ok())
            .unwrap_or_default())
    }

    /// Replaces the branding overrides: administrators only; audited with the fields that
    /// changed.
    pub async fn set_branding(
        &self,
        actor: &Actor,
        branding: BrandingOverride,
    ) -> Result<BrandingOverride> {
        let admin = actor.require_admin()?;
        let branding = branding.normalised()?;
        let before = self.branding_override().await?;
        let value =
            serde_json::to_string(&branding).map_err(|e| DomainError::invalid(e.to_string()))?;
        let row = setting::ActiveModel {
            key: Set(BRANDING_SETTING.to_string()),
            value: Set(value),
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
        let pairs = [
            ("name", &before.name, &branding.name),
            ("help_email", &before.help_email, &branding.help_email),
            (
                "institution_name",
                &before.institution_name,
                &branding.institution_name,
            ),
            (
                "institution_url",
                &before.institution_url,
                &branding.institution_url,
            ),
            ("logo_url", &before.logo_url, &branding.logo_url),
            ("about", &before.about, &branding.about),
            ("terms", &before.terms, &branding.terms),
        ];
        let changed: serde_json::Map<String, serde_json::Value> = pairs
            .into_iter()
            .filter(|(_, a, b)| a != b)
            .map(|(field, _, b)| {
                let shown: Option<String> = b.as_deref().map(|v| v.chars().take(200).collect());
                (field.to_string(), serde_json::json!(shown))
            })
            .collect();
        self.record_audit(
            &self.db,
            Some(admin.user_id),
            "branding.update",
            "settings:branding",
            serde_json::Value::Object(changed),
        )
        .await?;
        Ok(branding)
    }
}
