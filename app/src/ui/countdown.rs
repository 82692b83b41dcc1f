//! The time left on a reservation: minutes and seconds computed by the server, ticking every
//! second once the page has hydrated.

use leptos::prelude::*;

/// `14:05` for 845,000 ms; never negative.
pub fn format_left(millis: i64) -> String {
    let seconds = (millis.max(0) + 999) / 1000;
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// Shows `millis_left` as `m:ss` and counts down in the browser; calls `on_expired` once when
/// the window is over (the page then asks the server for the order's real state).
#[component]
pub fn Countdown(millis_left: i64, #[prop(into)] on_expired: Callback<()>) -> impl IntoView {
    let left = RwSignal::new(millis_left);
    #[cfg(feature = "hydrate")]
    {
        // Measured against the browser's clock from the moment the page came alive, so a
        // throttled timer in a background tab cannot make the countdown fall behind.
        let deadline = js_sys::Date::now() + millis_left as f64;
        let handle = set_interval_with_handle(
            move || {
                let remaining = (deadline - js_sys::Date::now()).max(0.0) as i64;
                left.set(remaining);
            },
            std::time::Duration::from_millis(250),
        )
        .ok();
        let fired = StoredValue::new(false);
        Effect::new(move |_| {
            if left.get() == 0 && !fired.get_value() {
                fired.set_value(true);
                if let Some(handle) = handle {
                    handle.clear();
                }
                on_expired.run(());
            }
        });
        on_cleanup(move || {
            if let Some(handle) = handle {
                handle.clear();
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = on_expired;
    view! {
        <span class="countdown" data-testid="time-left" role="timer">{move || format_left(left.get())}</span>
    }
}

#[cfg(test)]
mod tests {
    use super::format_left;

    #[test]
    fn time_left_reads_as_minutes_and_seconds_rounded_up() {
        assert_eq!(format_left(900_000), "15:00");
        assert_eq!(format_left(899_001), "15:00");
        assert_eq!(format_left(845_000), "14:05");
        assert_eq!(format_left(1), "0:01");
        assert_eq!(format_left(0), "0:00");
        assert_eq!(format_left(-5), "0:00");
    }
}
