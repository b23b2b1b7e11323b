//! `/admin/audit?page=`: the audit log, newest first.
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{AdminGate, AdminNav, Pager};
use crate::api::admin::admin_audit;
use crate::components::{EmptyState, ErrorView, Loading, PageTitle, Time};
use crate::model::admin::AuditRow;

#[component]
pub fn AdminAuditPage() -> impl IntoView {
    view! {
        <PageTitle text="Audit log · Administration" />
        <AdminGate>
            <AuditBody />
        </AdminGate>
    }
}

fn audit_href(page: u64) -> String {
    if page > 1 {
        format!("/admin/audit?page={page}")
    } else {
        "/admin/audit".into()
    }
}

/// Details as `key: value` pairs, or the raw text when they are not a JSON object.
fn detail_text(detail: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(detail) {
        Ok(serde_json::Value::Object(map)) if map.is_empty() => String::new(),
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}: {s}"),
                other => format!("{k}: {other}"),
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => detail.to_string(),
    }
}

#[component]
fn AuditBody() -> impl IntoView {
    let query = use_query_map();
    let page = Memo::new(move |_| {
        query.with(|q| {
            q.get("page")
                .and_then(|p| p.parse::<u64>().ok())
                .unwrap_or(1)
        })
    });
    let log = LocalResource::new(move || admin_audit(page.get()));
    view! {
        <div class="page-head">
            <h1>"Audit log"</h1>
            <AdminNav />
        </div>
        <Transition fallback=|| view! { <Loading what="the audit log" /> }>
            {move || Suspend::new(async move {
                match log.await {
                    Ok(data) if data.entries.is_empty() => view! {
                        <EmptyState title="Nothing recorded yet">"Sign-in failures and administrative actions appear here."</EmptyState>
                    }
                    .into_any(),
                    Ok(data) => {
                        let pages = data.pages();
                        let rows = data.entries.into_iter().map(|e| view! { <AuditLine entry=e /> }).collect_view();
                        view! {
                            <p class="muted">{format!("{} entries", data.total)}</p>
                            <div class="table-wrap">
                                <table class="table admin-audit">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Time"</th>
                                            <th scope="col">"Actor"</th>
                                            <th scope="col">"Action"</th>
                                            <th scope="col">"Target"</th>
                                            <th scope="col">"Details"</th>
                                        </tr>
                                    </thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            </div>
                            <Pager page=data.page pages=pages href=audit_href />
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorView error=error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AuditLine(entry: AuditRow) -> impl IntoView {
    let actor = if entry.actor.is_empty() {
        "—".to_string()
    } else {
        entry.actor.clone()
    };
    view! {
        <tr data-action=entry.action.clone() data-target=entry.target.clone()>
            <td><Time at=entry.at.clone() /></td>
            <td>{actor}</td>
            <td><code>{entry.action.clone()}</code></td>
            <td>{entry.target.clone()}</td>
            <td class="audit-detail">{detail_text(&entry.detail)}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::detail_text;

    #[test]
    fn details_read_as_pairs() {
        assert_eq!(detail_text(r#"{"role":"admin"}"#), "role: admin");
        assert_eq!(detail_text(r#"{"from":0,"to":5}"#), "from: 0; to: 5");
        assert_eq!(detail_text("{}"), "");
        assert_eq!(detail_text("not json"), "not json");
    }
}
