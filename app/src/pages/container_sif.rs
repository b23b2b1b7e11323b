//! What Silo read from a SIF image, on the container page: signing keys, labels, and the
//! definition file, runscript and environment (collapsed).
use leptos::prelude::*;

use crate::components::Time;
use crate::model::SifDetails;

/// A collapsed block of text, shown only when there is some.
fn text_block(title: &'static str, class: &'static str, text: Option<String>) -> impl IntoView {
    text.filter(|t| !t.trim().is_empty()).map(|text| {
        view! {
            <details class=format!("sif-text {class}")>
                <summary>{title}</summary>
                <pre class="readme">{text}</pre>
            </details>
        }
    })
}

#[component]
pub fn SifSection(sif: SifDetails) -> impl IntoView {
    let signature = if sif.fingerprints.is_empty() {
        view! { <span class="muted" data-testid="unsigned">"unsigned"</span> }.into_any()
    } else {
        let keys = sif
            .fingerprints
            .iter()
            .map(|fp| view! { <li class="mono sha" data-testid="fingerprint">{fp.clone()}</li> })
            .collect_view();
        view! { <ul class="fingerprints">{keys}</ul> }.into_any()
    };
    let built = sif.created_at.clone().map(|at| {
        view! {
            <div class="fact">
                <dt>"Built"</dt>
                <dd><Time at=at /></dd>
            </div>
        }
    });
    let labels = (!sif.labels.is_empty()).then(|| {
        let rows = sif
            .labels
            .iter()
            .map(|(name, value)| {
                view! {
                    <tr>
                        <th scope="row" class="mono">{name.clone()}</th>
                        <td>{value.clone()}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="labels" data-testid="labels">
                <caption>"Labels"</caption>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    view! {
        <div class="sif">
            <dl class="facts">
                <div class="fact wide">
                    <dt title="The fingerprint recorded in the image; Silo does not verify signatures">"Signing key (not verified)"</dt>
                    <dd>{signature}</dd>
                </div>
                {built}
            </dl>
            {labels}
            {text_block("Definition file", "sif-definition", sif.definition.clone())}
            {text_block("Runscript", "sif-runscript", sif.runscript.clone())}
            {text_block("Environment", "sif-environment", sif.environment.clone())}
        </div>
    }
}
