//! `/check-in`: door staff type (or scan) a ticket code and see at once whether it admits:
//! a large green "Valid", or a red "Already used at 19:42 UTC", "Resold — this code is no
//! longer valid", "Unknown". Works without JavaScript: the form posts and the page shows the
//! result.

use super::form::{Field, FormErrors, LoadError, field_error};
use crate::error::AppError;
use crate::server_fns::{CheckInCode, CheckInView, DoorView, door_state};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};

#[component]
pub fn CheckInPage() -> impl IntoView {
    let scan = ServerAction::<CheckInCode>::new();
    let page = Resource::new(move || scan.version().get(), |_| door_state());
    view! {
        <Title text="Check-in" />
        <Meta name="description" content="Door check-in: scan or type a ticket code to see at once whether it admits." />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(DoorView { staff: true, last }) => view! { <Door last scan /> }.into_any(),
                    Ok(DoorView { staff: false, .. }) | Err(AppError::Forbidden) => view! {
                        <section class="card narrow">
                            <h1>"Check-in"</h1>
                            <p>"This page is for door staff. Ask the organiser to give your account the staff role."</p>
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
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Door(last: Option<CheckInView>, scan: ServerAction<CheckInCode>) -> impl IntoView {
    let error: Signal<Option<AppError>> =
        Signal::derive(move || scan.value().get().and_then(Result::err));
    view! {
        <section class="check-in">
            <h1>"Check-in"</h1>
            {last.map(|last| view! { <ScanResult last /> })}
            <ActionForm action=scan attr:class="form check-in-form">
                <FormErrors error fields=&["code"] />
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
