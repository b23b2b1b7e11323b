//! A small builder for the hand-written, portable SQL of the metadata queries: text with `?`
//! placeholders and their values, rendered for SQLite or PostgreSQL. Only fixed fragments
//! from this module's callers become SQL text; every caller-supplied value is bound.
use sea_orm::{DbBackend, Statement, Value};

use crate::policy::ReadScope;

#[derive(Clone, Debug, Default)]
pub(super) struct Sql {
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub(super) fn new(text: &str) -> Self {
        Sql {
            text: text.to_string(),
            values: Vec::new(),
        }
    }

    /// Appends fixed SQL text (never caller input).
    pub(super) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(super) fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.text.push('?');
        self.values.push(value.into());
        self
    }

    pub(super) fn append(&mut self, other: &Sql) -> &mut Self {
        self.text.push_str(&other.text);
        self.values.extend(other.values.iter().cloned());
        self
    }

    /// Appends the policy's read rule for the collections aliased `c`: the SQL form of
    /// [`crate::policy::Actor::can_read`], as [`ReadScope`] states it.
    pub(super) fn readable(&mut self, scope: &ReadScope, c: &str) -> &mut Self {
        match scope.clone() {
            ReadScope::All => self.push("1 = 1"),
            ReadScope::Public => self.push(&format!("{c}.private = ")).bind(false),
            ReadScope::Granted {
                user_id,
                team_ids,
                collection_ids,
            } => {
                self.push(&format!("({c}.private = "))
                    .bind(false)
                    .push(&format!(" OR {c}.owner_id = "))
                    .bind(user_id)
                    .push(&format!(
                        " OR {c}.entity_id IN (SELECT id FROM entities WHERE owner_id = "
                    ))
                    .bind(user_id);
                if !team_ids.is_empty() {
                    self.push(" OR team_id IN (").list(team_ids).push(")");
                }
                self.push(")");
                if !collection_ids.is_empty() {
                    self.push(&format!(" OR {c}.id IN ("))
                        .list(collection_ids)
                        .push(")");
                }
                self.push(")")
            }
        }
    }

    /// Appends `?, ?, …` bound to `values` (callers make sure the list is not empty).
    pub(super) fn list(&mut self, values: Vec<i64>) -> &mut Self {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(value);
        }
        self
    }

    /// Appends `LOWER(column) LIKE '%needle%'`, with the needle's wildcards escaped.
    pub(super) fn contains(&mut self, column: &str, needle: &str) -> &mut Self {
        let escaped = escape_like(&needle.to_lowercase());
        self.push(&format!("LOWER({column}) LIKE "))
            .bind(format!("%{escaped}%"))
            .push(" ESCAPE '\\'")
    }

    /// The statement for `backend` (PostgreSQL numbers its placeholders).
    pub(super) fn build(self, backend: DbBackend) -> Statement {
        let text = match backend {
            DbBackend::Postgres => {
                let mut out = String::with_capacity(self.text.len() + 16);
                let mut n = 0;
                for ch in self.text.chars() {
                    if ch == '?' {
                        n += 1;
                        out.push_str(&format!("${n}"));
                    } else {
                        out.push(ch);
                    }
                }
                out
            }
            _ => self.text,
        };
        Statement::from_sql_and_values(backend, text, self.values)
    }
}

/// `text` with LIKE's wildcards and the escape character escaped (for `ESCAPE '\\'`).
pub(super) fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The UTC calendar day (`YYYY-MM-DD`) of a timestamp column.
pub(super) fn day_of(backend: DbBackend, column: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
        // SQLite keeps timestamps as RFC 3339 text in UTC.
        _ => format!("substr({column}, 1, 10)"),
    }
}

/// `CAST(COALESCE(SUM(expr), 0) AS BIGINT)`: PostgreSQL sums bigints as numeric.
pub(super) fn sum(expr: &str) -> String {
    format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        let mut sql = Sql::new("SELECT 1 FROM t WHERE a = ");
        sql.bind(1i64).push(" AND ").contains("b", "x_%");
        let pg = sql.clone().build(DbBackend::Postgres);
        assert_eq!(
            pg.sql,
            "SELECT 1 FROM t WHERE a = $1 AND LOWER(b) LIKE $2 ESCAPE '\\'"
        );
        let lite = sql.build(DbBackend::Sqlite);
        assert!(lite.sql.ends_with("LOWER(b) LIKE ? ESCAPE '\\'"));
        let values = lite.values.unwrap().0;
        assert_eq!(values[1], Value::from("%x\\_\\%%".to_string()));
    }
}
