//! The time left on a reservation: minutes and seconds computed by the server, ticking every
//! second once the page has hydrated.

use leptos::prelude::*;

/// `14:05` for 845,000 ms; never negative.
pub fn format_left(millis: i64) -> String {
    let seconds = (millis.max(0) + 999) / 1000;
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// What a screen reader is told, politely: only when the time left crosses 15, 10, 5, 2 or 1
/// minutes, and when it is over, not at every tick.
pub fn announcement(millis: i64) -> String {
    if millis <= 0 {
        return "Time is up: the reservation has ended".to_string();
    }
    let minutes = (millis + 59_999) / 60_000;
    match [1, 2, 5, 10, 15].into_iter().find(|m| minutes <= *m) {
        Some(1) => "Less than a minute left to pay".to_string(),
        Some(m) => format!("Less than {m} minutes left to pay"),
        None => format!("{minutes} minutes left to pay"),
    }
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
        <span class="visually-hidden" role="status" aria-live="polite" data-testid="time-left-announcement">
            {move || announcement(left.get())}
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::{announcement, format_left};

    #[test]
    fn the_time_left_is_announced_at_a_few_milestones_only() {
        let said: Vec<String> = (0..=900).rev().map(|s| announcement(s * 1000)).collect();
        let mut changes = said.clone();
        changes.dedup();
        assert_eq!(
            changes,
            [
                "Less than 15 minutes left to pay",
                "Less than 10 minutes left to pay",
                "Less than 5 minutes left to pay",
                "Less than 2 minutes left to pay",
                "Less than a minute left to pay",
                "Time is up: the reservation has ended",
            ]
        );
        assert_eq!(announcement(20 * 60_000), "20 minutes left to pay");
    }

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
