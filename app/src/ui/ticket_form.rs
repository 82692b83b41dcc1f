//! The listing form shared by "list a ticket" and the seller's edit form.

use super::form::{Field, FormErrors, field_error};
use crate::domain::{Category, Zone};
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
    "timeZone",
    "time_zone",
];

/// The inputs of a listing, pre-filled from `ticket` when editing. A new listing's time zone
/// starts on `zone` (the seller's last choice); an edited one keeps its own (UTC if it had none).
#[component]
pub fn TicketFields(
    ticket: Option<TicketView>,
    zone: Option<String>,
    #[prop(into)] error: Signal<Option<AppError>>,
) -> impl IntoView {
    let zone = match &ticket {
        Some(ticket) => ticket.time_zone.clone(),
        None => zone,
    }
    .unwrap_or_else(|| "UTC".to_string());
    let zone_error = Signal::derive(move || {
        error.get().and_then(|e| {
            e.field_message("timeZone")
                .or_else(|| e.field_message("time_zone"))
        })
    });
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
            label="Event date and time, on the venue's clock (optional)"
            name="starts_at"
            kind="datetime-local"
            required=false
            value=ticket.as_ref().map(|t| t.starts_at_input.clone()).unwrap_or_default()
            error=starts_at_error
        />
        <div class="field" class:invalid=move || zone_error.get().is_some()>
            <label for="time_zone">"Time zone of the venue"</label>
            <select
                id="time_zone"
                name="time_zone"
                aria-invalid=move || zone_error.get().is_some().then_some("true")
                aria-describedby="time_zone-error"
            >
                <ZoneOptions selected=zone />
            </select>
            <p class="field-error" id="time_zone-error">{move || zone_error.get()}</p>
        </div>
    }
}

/// Every offered zone, grouped by continent or ocean, with `selected` chosen (and offered
/// even when it is an alias the list leaves out).
#[component]
pub(super) fn ZoneOptions(selected: String) -> impl IntoView {
    let mut groups: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for name in Zone::choices().skip(1) {
        let area = crate::domain::zone::area(name).unwrap_or("Other");
        match groups.last_mut() {
            Some((last, names)) if *last == area => names.push(name),
            _ => groups.push((area, vec![name])),
        }
    }
    let listed = Zone::choices().any(|name| name == selected);
    let option = move |name: &str, selected: &str| {
        let label = name.replace('_', " ");
        view! { <option value=name.to_string() selected=name == selected>{label}</option> }
    };
    view! {
        {(!listed).then(|| option(&selected, &selected))}
        {option("UTC", &selected)}
        {groups
            .into_iter()
            .map(|(area, names)| {
                let selected = selected.clone();
                view! {
                    <optgroup label=area>
                        {names.into_iter().map(|name| option(name, &selected)).collect_view()}
                    </optgroup>
                }
            })
            .collect_view()}
    }
}
