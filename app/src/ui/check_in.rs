//! `/check-in`: door staff first choose the event (today's first), then type (or scan) ticket
//! codes and see at once whether each admits: a large green "Valid", or a red "Already used at
//! 19:42 UTC", "Resold — this code is no longer valid", "Wrong event — …", "Unknown", with
//! "N of M checked in" above. Works without JavaScript: the form posts and the page shows the
//! result.

use super::form::{Field, FormErrors, LoadError, field_error};
use crate::error::AppError;
use crate::server_fns::{CheckInCode, CheckInView, DoorChoice, DoorView, OpenDoor, door_state};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

#[component]
pub fn CheckInPage() -> impl IntoView {
    let scan = ServerAction::<CheckInCode>::new();
    let query = use_query_map();
    let event = move || query.read().get("event");
    let page = Resource::new(
        move || (event(), scan.version().get()),
        |(event, _)| door_state(event),
    );
    view! {
        <Title text="Check-in" />
        <Meta name="description" content="Door check-in: scan or type a ticket code to see at once whether it admits." />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(DoorView::Open { door, last }) => {
                        view! { <Door door=*door last=last.map(|last| *last) scan /> }.into_any()
                    }
                    Ok(DoorView::Choose(doors)) => view! { <ChooseDoor doors /> }.into_any(),
                    Ok(DoorView::NotStaff) | Err(AppError::Forbidden) => view! {
                        <section class="card narrow">
                            <h1>"Check-in"</h1>
                            <p>"This page is for door staff. Ask the organiser to add your account to the event's door staff."</p>
                        </section>
                    }
                    .into_any(),
                    Err(AppError::Unauthenticated) => view! {
                        <section class="card narrow">
                            <h1>"Check-in"</h1>
                            <p>"Door staff sign in to check tickets."</p>
                            <p><a href="/auth/signin" class="button">"Sign in"</a></p>
                        </section>
                    }
                    .into_any(),
                    Err(error) => view! {
                        <LoadError error />
                        <p><a href="/check-in">"Choose the event"</a></p>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ChooseDoor(doors: Vec<DoorChoice>) -> impl IntoView {
    view! {
        <section class="check-in">
            <h1>"Check-in"</h1>
            <h2>"Choose the event"</h2>
            {if doors.is_empty() {
                view! { <p class="muted">"No upcoming events to check people in at."</p> }.into_any()
            } else {
                view! {
                    <ul class="door-list" data-testid="door-list">
                        {doors
                            .into_iter()
                            .map(|door| {
                                view! {
                                    <li>
                                        <a href=format!("/check-in?event={}", door.id)>{door.name}</a>
                                        <span class="muted">{format!(" — {}, {}", door.when, door.venue)}</span>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
    }
}

#[component]
fn Door(
    door: OpenDoor,
    last: Option<CheckInView>,
    scan: ServerAction<CheckInCode>,
) -> impl IntoView {
    let error: Signal<Option<AppError>> =
        Signal::derive(move || scan.value().get().and_then(Result::err));
    let OpenDoor {
        event,
        admitted,
        holders,
    } = door;
    view! {
        <section class="check-in">
            <h1>"Check-in: " {event.name}</h1>
            <p class="muted">{format!("{}, {}", event.when, event.venue)} " · " <a href="/check-in">"Choose another event"</a></p>
            <p class="door-count" data-testid="door-count" aria-live="polite">
                {format!("{admitted} of {holders} checked in")}
            </p>
            {last.map(|last| view! { <ScanResult last /> })}
            <ActionForm action=scan attr:class="form check-in-form">
                <FormErrors error fields=&["code"] />
                <input type="hidden" name="event_id" value=event.id />
                <Field
                    label="Ticket code"
                    name="code"
                    autocomplete="off"
                    value=String::new()
                    error=field_error(error, "code")
                />
                <button type="submit">"Check in"</button>
            </ActionForm>
            // Filled by the camera scanner (/pkg/check-in.js), which only this page loads.
            <div class="scanner-slot"></div>
            <script type="module" src="/pkg/check-in.js" nonce=leptos::nonce::use_nonce()></script>
        </section>
    }
}

#[component]
fn ScanResult(last: CheckInView) -> impl IntoView {
    let admitted = last.result == "valid";
    view! {
        <div
            class=format!("scan-result scan-{}", last.result)
            class:admit=admitted
            role="status"
            data-testid="scan-result"
        >
            <p class="scan-headline" data-testid="scan-headline">{last.headline}</p>
            {last.title.map(|title| view! { <p class="scan-title">{title}</p> })}
            {last.starts_at.map(|at| view! { <p class="scan-meta">{at}</p> })}
            <p class="scan-meta"><code>{last.code}</code></p>
        </div>
    }
}
