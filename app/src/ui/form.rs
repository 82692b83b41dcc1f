//! Form pieces shared by every page: a labelled input with its error beside it, and the errors
//! that belong to no single input.

use crate::error::AppError;
use leptos::prelude::*;

/// One labelled input. `error` is the message for this input, shown right under it and tied to
/// it with `aria-describedby` so screen readers announce it. `id` (default: the name) must be
/// unique on the page: give one when two forms on a page have an input of the same name.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(optional, into)] id: Option<String>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] minlength: Option<u32>,
    #[prop(optional, into)] value: Option<String>,
    #[prop(default = true)] required: bool,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let id = id.unwrap_or_else(|| name.to_string());
    let error_id = format!("{id}-error");
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                minlength=minlength
                value=value
                required=required
                inputmode=inputmode
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=error_id.clone()
            />
            <p class="field-error" id=error_id>{move || error.get()}</p>
        </div>
    }
}

/// Errors not tied to one of `fields` (such as "Invalid credentials" or "Too many attempts").
#[component]
pub fn FormErrors(
    #[prop(into)] error: Signal<Option<AppError>>,
    fields: &'static [&'static str],
) -> impl IntoView {
    move || {
        let messages = error
            .get()
            .map(|e| e.messages_except(fields))
            .unwrap_or_default();
        (!messages.is_empty()).then(|| {
            view! {
                <div class="form-errors" role="alert">
                    {messages.into_iter().map(|m| view! { <p>{m}</p> }).collect_view()}
                </div>
            }
        })
    }
}

/// The message for `field` in an optional error, as a signal for [`Field`].
pub fn field_error(error: Signal<Option<AppError>>, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || error.get().and_then(|e| e.field_message(field)))
}

/// What could not be loaded, in place of it. An unexpected failure shows "Something went wrong";
/// its cause is logged on the server, where the page is rendered.
#[component]
pub fn LoadError(error: AppError) -> impl IntoView {
    error.log_cause();
    view! { <p class="form-errors" role="alert">{error.to_string()}</p> }
}
