//! The listing form shared by "list a ticket" and the seller's edit form.

use super::form::{Field, FormErrors, field_error};
use crate::domain::Category;
use crate::error::AppError;
use crate::server_fns::TicketView;
use leptos::prelude::*;

const FIELDS: &[&str] = &[
    "title",
    "price",
    "faceValue",
    "face_value",
    "category",
    "venue",
    "startsAt",
    "starts_at",
];

/// The inputs of a listing, pre-filled from `ticket` when editing.
#[component]
pub fn TicketFields(
    ticket: Option<TicketView>,
    #[prop(into)] error: Signal<Option<AppError>>,
) -> impl IntoView {
    let category = ticket
        .as_ref()
        .map(|t| t.category.clone())
        .unwrap_or_else(|| "concert".to_string());
    let starts_at_error = Signal::derive(move || {
        error.get().and_then(|e| {
            e.field_message("startsAt")
                .or_else(|| e.field_message("starts_at"))
        })
    });
    let category_error = field_error(error, "category");
    let face_value_error = Signal::derive(move || {
        error.get().and_then(|e| {
            e.field_message("faceValue")
                .or_else(|| e.field_message("face_value"))
        })
    });
    view! {
        <FormErrors error fields=FIELDS />
        <Field
            label="Title"
            name="title"
            value=ticket.as_ref().map(|t| t.title.clone()).unwrap_or_default()
            error=field_error(error, "title")
        />
        <Field
            label="Price"
            name="price"
            inputmode="decimal"
            value=ticket.as_ref().map(|t| t.price_input.clone()).unwrap_or_default()
            error=field_error(error, "price")
        />
        <Field
            label="Face value as printed on the ticket (optional unless resales are capped)"
            name="face_value"
            inputmode="decimal"
            required=false
            value=ticket.as_ref().map(|t| t.face_value_input.clone()).unwrap_or_default()
            error=face_value_error
        />
        <div class="field" class:invalid=move || category_error.get().is_some()>
            <label for="category">"Category"</label>
            <select id="category" name="category" aria-describedby="category-error">
                {Category::ALL
                    .into_iter()
                    .map(|c| {
                        view! {
                            <option value=c.as_str() selected=c.as_str() == category>
                                {c.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <p class="field-error" id="category-error">{move || category_error.get()}</p>
        </div>
        <Field
            label="Venue (optional)"
            name="venue"
            required=false
            value=ticket.as_ref().and_then(|t| t.venue.clone()).unwrap_or_default()
            error=field_error(error, "venue")
        />
        <Field
            label="Event date and time, UTC (optional)"
            name="starts_at"
            kind="datetime-local"
            required=false
            value=ticket.as_ref().map(|t| t.starts_at_input.clone()).unwrap_or_default()
            error=starts_at_error
        />
    }
}
