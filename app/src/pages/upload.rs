//! `/images/upload` (`/upload` is the sregistry API's): a signed-in user uploads a SIF image from the browser into
//! `entity/collection/container:tag`, with a progress bar. The file goes as the raw body of
//! `POST /web/upload` through `XMLHttpRequest` (for its upload progress events); the browser
//! streams it from disk and the server streams it into the store.
use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::{Loading, PageTitle};
use crate::model::session::UploadDone;
use crate::session::use_viewer;

/// Where an upload stands.
#[derive(Clone, Debug, PartialEq)]
enum Status {
    Idle,
    Uploading,
    /// Bytes sent; the server checks and stores the image.
    Checking,
    Done(UploadDone),
    Failed(String),
}

#[component]
pub fn UploadPage() -> impl IntoView {
    let viewer = use_viewer();
    view! {
        <PageTitle text="Upload an image" />
        <div class="page-head">
            <h1>"Upload an image"</h1>
            <p class="muted">"Upload a SIF image built with " <code>"apptainer build"</code> " into one of your collections."</p>
        </div>
        {move || {
            if !viewer.known() {
                return view! { <Loading /> }.into_any();
            }
            match viewer.get() {
                None => view! {
                    <section class="card" data-testid="upload-sign-in">
                        <p>"Please " <A href="/login?next=/images/upload">"sign in"</A> " to upload images."</p>
                    </section>
                }
                .into_any(),
                Some(v) if !v.can_push => view! {
                    <section class="card">
                        <p>"You signed in with a read-only token; sign in with a push token to upload."</p>
                    </section>
                }
                .into_any(),
                Some(v) => view! { <UploadForm owner=v.username /> }.into_any(),
            }
        }}
    }
}

/// A container name suggested by a file name: `My Tool.sif` -> `my-tool`.
fn name_from_file(file_name: &str) -> String {
    let stem = file_name.strip_suffix(".sif").unwrap_or(file_name);
    let mut name = String::new();
    for ch in stem.chars() {
        if ch.is_ascii_alphanumeric() || ch == '.' || ch == '_' {
            name.push(ch.to_ascii_lowercase());
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    name.trim_matches(|c| c == '-' || c == '.').to_string()
}

fn upload_url(entity: &str, collection: &str, container: &str, tag: &str, private: bool) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    format!(
        "/web/upload?entity={}&collection={}&container={}&tag={}&private={private}",
        enc(entity.trim()),
        enc(collection.trim()),
        enc(container.trim()),
        enc(tag.trim()),
    )
}

#[component]
fn UploadForm(owner: String) -> impl IntoView {
    let entity = RwSignal::new(owner);
    let collection = RwSignal::new(String::new());
    let container = RwSignal::new(String::new());
    let tag = RwSignal::new("latest".to_string());
    let private = RwSignal::new(false);
    let file_input = NodeRef::<leptos::html::Input>::new();
    let percent = RwSignal::new(0.0_f64);
    let status = RwSignal::new(Status::Idle);

    let on_file = move |_| {
        if let Some(name) = chosen_file_name(&file_input) {
            if container.get_untracked().is_empty() {
                container.set(name_from_file(&name));
            }
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if matches!(status.get_untracked(), Status::Uploading | Status::Checking) {
            return;
        }
        if [entity, collection, container, tag]
            .iter()
            .any(|s| s.get_untracked().trim().is_empty())
        {
            status.set(Status::Failed(
                "Fill in entity, collection, container and tag.".into(),
            ));
            return;
        }
        let url = upload_url(
            &entity.get_untracked(),
            &collection.get_untracked(),
            &container.get_untracked(),
            &tag.get_untracked(),
            private.get_untracked(),
        );
        percent.set(0.0);
        status.set(Status::Uploading);
        let started = send_file(
            &file_input,
            &url,
            move |p| {
                percent.set(p);
                if p >= 100.0 {
                    status.set(Status::Checking);
                }
            },
            move |result| match result {
                Ok(done) => {
                    percent.set(100.0);
                    status.set(Status::Done(done));
                }
                Err(message) => status.set(Status::Failed(message)),
            },
        );
        if let Err(message) = started {
            status.set(Status::Failed(message));
        }
    };
    let busy = move || matches!(status.get(), Status::Uploading | Status::Checking);
    let show_progress = move || !matches!(status.get(), Status::Idle);
    view! {
        <section class="card upload-card">
            <form class="form upload-form" on:submit=on_submit>
                <div class="field-row">
                    <label class="field">
                        <span>"Entity"</span>
                        <input type="text" name="entity" required bind:value=entity />
                    </label>
                    <label class="field">
                        <span>"Collection"</span>
                        <input type="text" name="collection" required placeholder="e.g. tools" bind:value=collection />
                    </label>
                </div>
                <div class="field-row">
                    <label class="field">
                        <span>"Container"</span>
                        <input type="text" name="container" required bind:value=container />
                    </label>
                    <label class="field">
                        <span>"Tag"</span>
                        <input type="text" name="tag" required bind:value=tag />
                    </label>
                </div>
                <label class="check">
                    <input type="checkbox" name="private" bind:checked=private />
                    <span>"Make the collection private (when this upload creates it)"</span>
                </label>
                <label class="field">
                    <span>"SIF image"</span>
                    <input type="file" name="file" accept=".sif,application/octet-stream" required node_ref=file_input on:change=on_file />
                </label>
                <button type="submit" class="button primary" disabled=busy>
                    {move || if busy() { "Uploading…" } else { "Upload" }}
                </button>
            </form>
            <Show when=show_progress>
                <div class="upload-progress" aria-live="polite">
                    <progress
                        max="100"
                        value=move || format!("{:.0}", percent.get())
                        data-testid="upload-progress"
                        aria-label="Upload progress"
                    ></progress>
                    <span class="upload-percent" data-testid="upload-percent">
                        {move || format!("{:.0}%", percent.get())}
                    </span>
                    {move || match status.get() {
                        Status::Checking => Some(view! { <span class="muted">"Checking the image…"</span> }.into_any()),
                        _ => None,
                    }}
                </div>
            </Show>
            {move || match status.get() {
                Status::Done(done) => Some(view! {
                    <p class="form-ok" role="status" data-testid="upload-done">
                        "Uploaded " <A href=done.href.clone()>{format!("{}:{}", done.path, done.tag)}</A> "."
                    </p>
                }.into_any()),
                Status::Failed(message) => Some(view! {
                    <p class="form-error" role="alert" data-testid="upload-error">{message}</p>
                }.into_any()),
                _ => None,
            }}
        </section>
    }
}

#[cfg(feature = "csr")]
fn chosen_file(input: &NodeRef<leptos::html::Input>) -> Option<web_sys::File> {
    input.get_untracked()?.files()?.get(0)
}

#[cfg(feature = "csr")]
fn chosen_file_name(input: &NodeRef<leptos::html::Input>) -> Option<String> {
    chosen_file(input).map(|f| f.name())
}

/// Sends the chosen file; `progress` gets percentages, `done` the outcome.
#[cfg(feature = "csr")]
fn send_file(
    input: &NodeRef<leptos::html::Input>,
    url: &str,
    progress: impl Fn(f64) + 'static,
    done: impl FnOnce(Result<UploadDone, String>) + 'static,
) -> Result<(), String> {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    let file = chosen_file(input).ok_or("Choose a SIF file to upload.")?;
    let failed = |_| "The browser could not start the upload.".to_string();
    let xhr = web_sys::XmlHttpRequest::new().map_err(failed)?;
    xhr.open_with_async("POST", url, true).map_err(failed)?;
    xhr.set_request_header("Content-Type", "application/octet-stream")
        .map_err(failed)?;
    let on_progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
            if ev.length_computable() && ev.total() > 0.0 {
                progress((ev.loaded() / ev.total() * 100.0).min(100.0));
            }
        });
    xhr.upload()
        .map_err(failed)?
        .set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    let answered = xhr.clone();
    let on_end = Closure::once(move |_: web_sys::Event| {
        let status = answered.status().unwrap_or(0);
        let text = answered.response_text().ok().flatten().unwrap_or_default();
        done(outcome(status, &text));
    });
    xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
    // The handlers live as long as the request, which the browser owns; one small leak per
    // upload.
    on_progress.forget();
    on_end.forget();
    xhr.send_with_opt_blob(Some(&*file)).map_err(failed)
}

/// The result of a finished request: the server's answer or its error message.
#[cfg(feature = "csr")]
fn outcome(status: u16, body: &str) -> Result<UploadDone, String> {
    if (200..300).contains(&status) {
        return serde_json::from_str(body)
            .map_err(|_| "The server's answer was unreadable.".into());
    }
    if status == 0 {
        return Err("The upload was interrupted (network error).".into());
    }
    let message = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| format!("The server refused the upload (HTTP {status})."));
    Err(match status {
        401 => format!("{message}: please sign in again."),
        _ => capitalise(&message),
    })
}

#[cfg(feature = "csr")]
fn capitalise(message: &str) -> String {
    let mut chars = message.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(not(feature = "csr"))]
fn chosen_file_name(_input: &NodeRef<leptos::html::Input>) -> Option<String> {
    None
}

#[cfg(not(feature = "csr"))]
fn send_file(
    _input: &NodeRef<leptos::html::Input>,
    _url: &str,
    _progress: impl Fn(f64) + 'static,
    _done: impl FnOnce(Result<UploadDone, String>) + 'static,
) -> Result<(), String> {
    Err("uploads need the browser".into())
}

#[cfg(test)]
mod tests {
    use super::{name_from_file, upload_url};

    #[test]
    fn container_names_come_from_file_names() {
        assert_eq!(name_from_file("My Tool.sif"), "my-tool");
        assert_eq!(name_from_file("lolcow_1.0.sif"), "lolcow_1.0");
        assert_eq!(name_from_file("--x--"), "x");
    }

    #[test]
    fn upload_urls_encode_the_target() {
        assert_eq!(
            upload_url("alice", "a b", "c&d", "latest", true),
            "/web/upload?entity=alice&collection=a%20b&container=c%26d&tag=latest&private=true"
        );
    }
}
