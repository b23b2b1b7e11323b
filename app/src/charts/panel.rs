//! The "Usage" section of the container, collection and stats pages: a range picker, pulls per
//! day and (for collections and the registry) storage growth, each with a text summary and
//! the numbers as a table.
use leptos::html::Div;
use leptos::prelude::*;

use super::svg::{pulls_svg, storage_svg};
use crate::api::get_usage;
use crate::components::{EmptyState, Loading};
use crate::format::{human_bytes, plural};
use crate::model::{UsageData, UsageDay, DEFAULT_USAGE_RANGE, USAGE_RANGES};

/// Usage of `path` (empty: the whole registry; `entity/collection`;
/// `entity/collection/container`).
#[component]
pub fn UsagePanel(
    #[prop(into)] path: String,
    #[prop(into, default = "Usage".to_string())] title: String,
) -> impl IntoView {
    let range = RwSignal::new(DEFAULT_USAGE_RANGE);
    let usage = LocalResource::new(move || get_usage(path.clone(), range.get()));
    let pending = RwSignal::new(false);
    // Set once the first answer is in. Reading `usage` itself out here would register it with
    // the page's own <Transition>, which would then hold the whole page until usage arrives.
    let has_data = RwSignal::new(false);
    view! {
        <section class="card usage" data-testid="usage" aria-busy=move || pending.get().to_string()>
            <div class="usage-head">
                <h2>{title}</h2>
                <RangePicker range=range />
            </div>
            <Transition
                fallback=|| view! { <Loading what="usage" /> }
                set_pending=pending.write_only()
            >
                {move || Suspend::new(async move {
                    let answer = usage.await;
                    has_data.set(true);
                    match answer {
                        Ok(data) => view! { <UsageCharts data=data /> }.into_any(),
                        Err(error) => view! {
                            <p class="usage-error" role="alert">{format!("Usage is not available: {error}")}</p>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
            // Redrawing for another range: the old charts stay (dimmed) under an indicator.
            <Show when=move || pending.get() && has_data.get()>
                <div class="usage-updating"><Loading what="usage" /></div>
            </Show>
        </section>
    }
}

/// Buttons for the ranges of [`USAGE_RANGES`].
#[component]
fn RangePicker(range: RwSignal<u32>) -> impl IntoView {
    let buttons = USAGE_RANGES
        .iter()
        .map(|&days| {
            view! {
                <button
                    type="button"
                    class="range-btn"
                    data-range=days.to_string()
                    aria-pressed=move || (range.get() == days).to_string()
                    on:click=move |_| range.set(days)
                >
                    {format!("{days} days")}
                </button>
            }
        })
        .collect_view();
    view! { <div class="range-picker" role="group" aria-label="Range">{buttons}</div> }
}

#[component]
fn UsageCharts(data: UsageData) -> impl IntoView {
    let days = data.days.len() as u64;
    let pulls = match data.peak() {
        None => view! {
            <EmptyState title="No pulls in this range">
                <p>{format!("Nobody pulled from here in the last {}.", plural(days, "day", "days"))}</p>
            </EmptyState>
        }
        .into_any(),
        Some(peak) => {
            let summary = format!(
                "{} in the last {}; busiest day {} with {}.",
                plural(data.total_downloads(), "pull", "pulls"),
                plural(days, "day", "days"),
                peak.date,
                plural(peak.downloads, "pull", "pulls"),
            );
            let rows: Vec<(String, String)> = data
                .days
                .iter()
                .filter(|d| d.downloads > 0)
                .map(|d| (d.date.clone(), d.downloads.to_string()))
                .collect();
            view! {
                <ChartFigure
                    kind=ChartKind::Pulls
                    days=data.days.clone()
                    summary=summary
                    heading="Pulls"
                    rows=rows
                />
            }
            .into_any()
        }
    };
    let storage = data.has_storage.then(|| storage_view(&data.days));
    view! {
        <div class="usage-charts">
            <div class="usage-chart" data-chart="pulls">
                <h3>"Pulls per day"</h3>
                {pulls}
            </div>
            {storage}
        </div>
    }
}

fn storage_view(days: &[UsageDay]) -> impl IntoView {
    let last = days.last().map_or(0, |d| d.bytes_total);
    let first = days.first().map_or(0, |d| d.bytes_total);
    let body = if last == 0 && first == 0 {
        view! {
            <EmptyState title="Nothing stored in this range">
                <p>"Storage grows here as images are pushed."</p>
            </EmptyState>
        }
        .into_any()
    } else {
        let (from, to) = (
            days.first().map(|d| d.date.clone()).unwrap_or_default(),
            days.last().map(|d| d.date.clone()).unwrap_or_default(),
        );
        let change = if last >= first {
            format!("+{}", human_bytes(last - first))
        } else {
            format!("−{}", human_bytes(first - last))
        };
        let summary = format!(
            "{} stored on {to}; {change} since {from}.",
            human_bytes(last)
        );
        // The days on which storage changed, and the first day.
        let mut rows = Vec::new();
        let mut previous = None;
        for d in days {
            if previous != Some(d.bytes_total) {
                rows.push((d.date.clone(), human_bytes(d.bytes_total)));
            }
            previous = Some(d.bytes_total);
        }
        view! {
            <ChartFigure
                kind=ChartKind::Storage
                days=days.to_vec()
                summary=summary
                heading="Stored"
                rows=rows
            />
        }
        .into_any()
    };
    view! {
        <div class="usage-chart" data-chart="storage">
            <h3>"Storage over time"</h3>
            {body}
        </div>
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ChartKind {
    Pulls,
    Storage,
}

/// A chart drawn at the width of its box, its summary as caption, and its numbers in a table.
#[component]
fn ChartFigure(
    kind: ChartKind,
    days: Vec<UsageDay>,
    summary: String,
    heading: &'static str,
    rows: Vec<(String, String)>,
) -> impl IntoView {
    let holder = NodeRef::<Div>::new();
    let width = RwSignal::new(720u32);
    track_width(holder, width);
    let svg = move || {
        let drawn = match kind {
            ChartKind::Pulls => pulls_svg(&days, width.get()),
            ChartKind::Storage => storage_svg(&days, width.get()),
        };
        drawn.unwrap_or_default()
    };
    let table_rows = rows
        .into_iter()
        .map(|(date, value)| view! { <tr><td>{date}</td><td class="num">{value}</td></tr> })
        .collect_view();
    view! {
        <figure class="chart">
            <div class="chart-canvas" node_ref=holder role="img" aria-label=summary.clone() inner_html=svg></div>
            <figcaption class="chart-summary">{summary}</figcaption>
            <details class="chart-data">
                <summary>"Show the numbers"</summary>
                <table class="table compact">
                    <thead><tr><th>"Day"</th><th class="num">{heading}</th></tr></thead>
                    <tbody>{table_rows}</tbody>
                </table>
            </details>
        </figure>
    }
}

/// Keeps `width` at the box's width in CSS pixels, whatever changes it: the window, or the
/// page's layout settling after the chart first drew (a ResizeObserver calls back on every
/// change of the box's size, and once when it starts observing).
#[cfg(feature = "csr")]
fn track_width(holder: NodeRef<Div>, width: RwSignal<u32>) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let measure = move || {
        if let Some(el) = holder.get_untracked() {
            let w = u32::try_from(el.client_width()).unwrap_or(0);
            if w > 0 && w != width.get_untracked() {
                width.set(w);
            }
        }
    };
    let on_resize = Closure::<dyn FnMut(js_sys::Array)>::new(move |_: js_sys::Array| measure());
    let observer = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()).ok();
    let kept = StoredValue::new_local(Some((observer, on_resize)));
    Effect::new(move |_| {
        if let Some(el) = holder.get() {
            kept.with_value(|held| {
                if let Some((Some(observer), _)) = held {
                    observer.observe(&el);
                }
            });
            measure();
        }
    });
    on_cleanup(move || {
        let _ = kept.try_update_value(|held| {
            if let Some((Some(observer), _)) = held.take() {
                observer.disconnect();
            }
        });
    });
}

#[cfg(not(feature = "csr"))]
fn track_width(_holder: NodeRef<Div>, _width: RwSignal<u32>) {}
