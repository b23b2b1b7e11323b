//! Live updates: listens to the server's `/api/events` stream (server-sent events) and calls
//! back, debounced, when the registry changed, so the treemap redraws without a reload.
/// Wait this long after an event for more before refreshing once.
pub const DEBOUNCE_MS: u64 = 400;

/// Calls `refresh` (at most once per [`DEBOUNCE_MS`] burst) whenever the server reports a
/// change, and after the stream reconnects (it may have missed some). The stream closes
/// when the calling component goes away.
#[cfg(feature = "csr")]
pub fn on_registry_change(refresh: impl Fn() + Clone + 'static) {
    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    let Ok(source) = web_sys::EventSource::new("/api/events") else {
        return;
    };
    let pending = StoredValue::new_local(false);
    let schedule = move || {
        if pending.get_value() {
            return;
        }
        pending.set_value(true);
        let refresh = refresh.clone();
        set_timeout(
            move || {
                pending.set_value(false);
                refresh();
            },
            std::time::Duration::from_millis(DEBOUNCE_MS),
        );
    };
    let on_event = {
        let schedule = schedule.clone();
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| schedule())
    };
    let opened_before = StoredValue::new_local(false);
    let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        if opened_before.get_value() {
            schedule();
        }
        opened_before.set_value(true);
    });
    let _ = source.add_event_listener_with_callback("registry", on_event.as_ref().unchecked_ref());
    let _ = source.add_event_listener_with_callback("open", on_open.as_ref().unchecked_ref());
    let kept = StoredValue::new_local(Some((source, on_event, on_open)));
    on_cleanup(move || {
        let _ = kept.try_update_value(|held| {
            if let Some((source, _, _)) = held.take() {
                source.close();
            }
        });
    });
}

/// Without a browser there is nothing to listen to.
#[cfg(not(feature = "csr"))]
pub fn on_registry_change(_refresh: impl Fn() + Clone + 'static) {}
