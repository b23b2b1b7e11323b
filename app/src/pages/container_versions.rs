//! The container page's version history: every image by hash, newest first, with its push
//! time, size, architecture and the tags that point at it.
use leptos::prelude::*;

use crate::components::{Badge, Time};
use crate::format::{human_bytes, short_sha};
use crate::model::ImageInfo;

#[component]
pub fn VersionHistory(images: Vec<ImageInfo>) -> impl IntoView {
    let rows = images
        .into_iter()
        .map(|image| {
            let tags = if image.tags.is_empty() {
                view! { <span class="muted">"untagged"</span> }.into_any()
            } else {
                image
                    .tags
                    .iter()
                    .map(|t| {
                        view! {
                            <span class="tag-name" title=format!("{} ({})", t.name, t.arch)>{t.name.clone()}</span>
                        }
                    })
                    .collect_view()
                    .into_any()
            };
            view! {
                <tr data-sha256=image.sha256.clone()>
                    <td class="mono" title=image.sha256.clone()>{short_sha(&image.sha256).to_string()}</td>
                    <td><Time at=image.pushed_at.clone() /></td>
                    <td class="num" title=format!("{} bytes", image.size)>{human_bytes(image.size)}</td>
                    <td>{image.arch.clone().unwrap_or_else(|| "—".into())}</td>
                    <td class="tag-list">
                        {tags}
                        {(!image.uploaded).then(|| view! { <Badge text="upload incomplete" kind="warn" /> })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card" data-testid="versions">
            <h2>"Version history"</h2>
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr>
                            <th>"Image (sha256)"</th>
                            <th>"Pushed"</th>
                            <th class="num">"Size"</th>
                            <th>"Arch"</th>
                            <th>"Tags"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}
