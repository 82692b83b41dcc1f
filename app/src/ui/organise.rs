//! `/organise`: an organiser's events with their sales; `/organise/new`: a new event;
//! `/organise/:id`: one event — its details, sections and seated rows, publishing, door staff,
//! sales per day (an SVG chart drawn on the server, with its table), attendees with their CSV,
//! and cancelling with a confirmation box and the refunds' progress. Plain forms throughout.

use super::form::{Field, FormErrors, LoadError, field_error};
use crate::domain::Category;
use crate::error::AppError;
use crate::server_fns::{
    AddDoorStaff, CancelEvent, OrganisedEventView, OrganiserSection, PublishEvent, RemoveDoorStaff,
    RemoveEventImage, RemoveSection, RunEventItem, SaveEvent, SaveSection, my_events,
    organised_event,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// Who may not see organiser pages, in place of them.
fn refused(error: AppError) -> AnyView {
    match error {
        AppError::Unauthenticated => view! {
            <section class="card narrow">
                <h1>"Organise"</h1>
                <p>"Organisers sign in to run their events."</p>
                <p><a href="/auth/signin" class="button">"Sign in"</a></p>
            </section>
        }
        .into_any(),
        AppError::Forbidden => view! {
            <section class="card narrow">
                <h1>"Organise"</h1>
                <p>"This page is for organisers. Ask the site's operator to make your account an organiser."</p>
            </section>
        }
        .into_any(),
        AppError::NotFound => view! { <super::not_found::NotFound /> }.into_any(),
        error => view! { <LoadError error /> }.into_any(),
    }
}

#[component]
pub fn OrganisePage() -> impl IntoView {
    let events = Resource::new(|| (), |_| my_events());
    view! {
        <Title text="Organise" />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Ok(events) => view! { <EventList events /> }.into_any(),
                    Err(error) => refused(error),
                }
            })}
        </Transition>
    }
}

fn status_label(status: &str, is_past: bool) -> &'static str {
    match (status, is_past) {
        ("draft", _) => "Draft",
        ("cancelled", _) => "Cancelled",
        (_, true) => "Over",
        _ => "On sale",
    }
}

#[component]
fn EventList(events: Vec<RunEventItem>) -> impl IntoView {
    view! {
        <section class="organise">
            <div class="browse-head">
                <h1>"Your events"</h1>
                <a href="/organise/new" class="button">"New event"</a>
            </div>
            {if events.is_empty() {
                view! { <p class="empty">"No events yet. Create one, add its sections, then publish it."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="data" data-testid="my-events">
                            <thead>
                                <tr><th scope="col">"Event"</th><th scope="col">"Date"</th><th scope="col">"Status"</th><th scope="col">"Sold"</th><th scope="col">"Gross"</th></tr>
                            </thead>
                            <tbody>
                                {events.into_iter().map(|event| view! {
                                    <tr>
                                        <td><a href=format!("/organise/{}", event.id)>{event.name}</a></td>
                                        <td>{event.starts_at}</td>
                                        <td>{status_label(&event.status, event.is_past)}</td>
                                        <td>{format!("{} of {}", event.sold, event.capacity)}</td>
                                        <td>{event.gross}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                .into_any()
            }}
        </section>
    }
}

#[component]
pub fn NewEventPage() -> impl IntoView {
    let save = ServerAction::<SaveEvent>::new();
    view! {
        <Title text="New event" />
        <section class="card narrow">
            <h1>"New event"</h1>
            <p class="muted">"It stays a draft, seen only by you, until you publish it. Add its sections on the next page."</p>
            <EventForm event=None save />
        </section>
    }
}

/// The fields an API error names for the details form.
const DETAIL_FIELDS: &[&str] = &[
    "name",
    "category",
    "venue",
    "city",
    "timeZone",
    "startsAt",
    "endsAt",
    "description",
    "maxPerBuyer",
    "resale.capPercent",
];

/// The details of an event: empty for a new one, else as `event` has them.
#[component]
fn EventForm(event: Option<OrganisedEventView>, save: ServerAction<SaveEvent>) -> impl IntoView {
    let error: Signal<Option<AppError>> =
        Signal::derive(move || save.value().get().and_then(Result::err));
    let value =
        |pick: fn(&OrganisedEventView) -> String| event.as_ref().map(pick).unwrap_or_default();
    let (id, version, name, venue, city) = (
        value(|e| e.id.clone()),
        value(|e| e.version.to_string()),
        value(|e| e.name.clone()),
        value(|e| e.venue.clone()),
        value(|e| e.city.clone()),
    );
    let (starts_at, ends_at, resale_cap, description) = (
        value(|e| e.starts_at_input.clone()),
        value(|e| e.ends_at_input.clone()),
        value(|e| e.resale_cap_input.clone()),
        value(|e| e.description.clone()),
    );
    let category = Some(value(|e| e.category.clone()))
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "concert".to_string());
    let zone = Some(value(|e| e.time_zone.clone()))
        .filter(|z| !z.is_empty())
        .unwrap_or_else(|| "UTC".to_string());
    let max_per_buyer = event
        .as_ref()
        .map_or_else(|| "8".to_string(), |e| e.max_per_buyer.to_string());
    let resale_on = event.as_ref().is_none_or(|e| e.resale_enabled);
    let editing = event.is_some();
    let zone_error = field_error(error, "timeZone");
    let description_error = field_error(error, "description");
    view! {
        <ActionForm action=save attr:class="form" attr:aria-label="Event details">
            <FormErrors error fields=DETAIL_FIELDS />
            <input type="hidden" name="id" value=id />
            <input type="hidden" name="version" value=version />
            <Field label="Name" name="name" value=name error=field_error(error, "name") />
            <div class="field">
                <label for="category">"Category"</label>
                <select id="category" name="category">
                    {Category::ALL.into_iter().map(|c| view! {
                        <option value=c.as_str() selected=c.as_str() == category>{c.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <Field label="Venue" name="venue" value=venue error=field_error(error, "venue") />
            <Field label="City (optional)" name="city" required=false value=city error=field_error(error, "city") />
            <div class="field" class:invalid=move || zone_error.get().is_some()>
                <label for="time_zone">"Time zone of the venue"</label>
                <select id="time_zone" name="time_zone" aria-describedby="time_zone-error">
                    <super::ticket_form::ZoneOptions selected=zone />
                </select>
                <p class="field-error" id="time_zone-error">{move || zone_error.get()}</p>
            </div>
            <Field label="Starts (venue's time)" name="starts_at" kind="datetime-local" value=starts_at error=field_error(error, "startsAt") />
            <Field label="Ends (optional)" name="ends_at" kind="datetime-local" required=false value=ends_at error=field_error(error, "endsAt") />
            <div class="field" class:invalid=move || description_error.get().is_some()>
                <label for="description">"Description (optional; blank lines make paragraphs)"</label>
                <textarea id="description" name="description" rows="6" maxlength="5000" aria-describedby="description-error">{description}</textarea>
                <p class="field-error" id="description-error">{move || description_error.get()}</p>
            </div>
            <Field label="Tickets one buyer may hold (1–20)" name="max_per_buyer" inputmode="numeric" value=max_per_buyer error=field_error(error, "maxPerBuyer") />
            <div class="field checkbox">
                <input type="checkbox" id="resale" name="resale" value="yes" checked=resale_on />
                <label for="resale">"Buyers may resell their tickets"</label>
            </div>
            <Field label="Resale cap, % of face value (optional)" name="resale_cap" required=false inputmode="numeric" value=resale_cap error=field_error(error, "resale.capPercent") />
            <button type="submit" disabled=move || save.pending().get()>
                {if editing { "Save details" } else { "Create draft" }}
            </button>
        </ActionForm>
    }
}

/// The forms of one event's page, whose every success reloads it.
#[derive(Clone, Copy)]
struct Actions {
    save: ServerAction<SaveEvent>,
    section: ServerAction<SaveSection>,
    remove: ServerAction<RemoveSection>,
    publish: ServerAction<PublishEvent>,
    cancel: ServerAction<CancelEvent>,
    add_staff: ServerAction<AddDoorStaff>,
    remove_staff: ServerAction<RemoveDoorStaff>,
    remove_image: ServerAction<RemoveEventImage>,
}

#[component]
pub fn OrganiseEventPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let actions = Actions {
        save: ServerAction::new(),
        section: ServerAction::new(),
        remove: ServerAction::new(),
        publish: ServerAction::new(),
        cancel: ServerAction::new(),
        add_staff: ServerAction::new(),
        remove_staff: ServerAction::new(),
        remove_image: ServerAction::new(),
    };
    // Created once: each counts its form's successes, and any of them reloads the event.
    let successes = [
        super::successes(actions.save),
        super::successes(actions.section),
        super::successes(actions.remove),
        super::successes(actions.publish),
        super::successes(actions.cancel),
        super::successes(actions.add_staff),
        super::successes(actions.remove_staff),
        super::successes(actions.remove_image),
    ];
    let changes = move || successes.iter().map(|count| count.get()).sum::<u32>();
    let event = Resource::new(move || (id.get(), changes()), |(id, _)| organised_event(id));
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match event.await {
                    Ok(event) => view! { <OrganisedEvent event actions /> }.into_any(),
                    Err(error) => refused(error),
                }
            })}
        </Transition>
    }
}

#[component]
fn OrganisedEvent(event: OrganisedEventView, actions: Actions) -> impl IntoView {
    let publish_error: Signal<Option<AppError>> =
        Signal::derive(move || actions.publish.value().get().and_then(Result::err));
    let editable = event.status != "cancelled";
    let public_href = format!("/events/{}", event.slug);
    let publish_id = event.id.clone();
    let public_link =
        (event.status != "draft").then(|| view! { <a href=public_href>"See its public page"</a> });
    view! {
        <Title text=event.name.clone() />
        <section class="organise">
            <p><a href="/organise">"← Your events"</a></p>
            <h1>{event.name.clone()}</h1>
            <p class="muted" data-testid="event-status">
                {format!("{} · {} · ", status_label(&event.status, event.is_past), event.starts_at)}
                {public_link}
            </p>
            {event.cancel_reason.clone().map(|reason| view! {
                <div class="notice cancelled" data-testid="refund-progress">
                    <p>{format!("Cancelled: {reason}")}</p>
                    <p>{format!("Refunds: {} of {} done", event.refunds_done, event.refunds_all)}</p>
                </div>
            })}
            <dl class="facts" data-testid="event-sales">
                <dt>"Sold"</dt><dd>{format!("{} of {}", event.sold, event.capacity)}</dd>
                <dt>"Gross"</dt><dd>{event.gross.clone()}</dd>
            </dl>
            {(event.status == "draft").then(|| view! {
                <section class="card">
                    <h2>"Publish"</h2>
                    <p>"Publishing puts every seat on sale at once. The address and sections stay; prices can still change and sections can still grow."</p>
                    <ActionForm action=actions.publish attr:class="inline">
                        <FormErrors error=publish_error fields=&[] />
                        <input type="hidden" name="event_id" value=publish_id />
                        <button type="submit" disabled=move || actions.publish.pending().get()>"Publish now"</button>
                    </ActionForm>
                </section>
            })}
            <Sections event=event.clone() actions editable />
            {editable.then(|| view! { <ImageForm event=event.clone() actions /> })}
            {editable.then(|| view! {
                <section class="card">
                    <h2>"Details"</h2>
                    <EventForm event=Some(event.clone()) save=actions.save />
                </section>
            })}
            <Staff event=event.clone() actions />
            <Sales event=event.clone() />
            <Attendees event=event.clone() />
            {(editable && !event.is_past).then(|| view! { <Cancel event=event.clone() actions /> })}
        </section>
    }
}

#[component]
fn Sections(event: OrganisedEventView, actions: Actions, editable: bool) -> impl IntoView {
    // A section's form and the remove buttons say what went wrong above the list.
    let error: Signal<Option<AppError>> = Signal::derive(move || {
        actions
            .section
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| actions.remove.value().get().and_then(Result::err))
    });
    let event_id = event.id.clone();
    let sections = event.sections.clone();
    view! {
        <section class="card">
            <h2>"Sections"</h2>
            <FormErrors error fields=&[] />
            {if sections.is_empty() {
                view! { <p class="muted">"No sections yet: add one below, standing or seated."</p> }.into_any()
            } else {
                view! {
                    <ul class="section-list" data-testid="sections">
                        {sections.into_iter().map(|section| {
                            let heading = format!(
                                "{} — {} · {} of {} sold{}",
                                section.name,
                                section.price,
                                section.sold,
                                section.capacity,
                                if section.seated { " · seated" } else { "" }
                            );
                            let (form_id, remove_id) = (event_id.clone(), event_id.clone());
                            let version = event.version;
                            view! {
                                <li>
                                    <details>
                                        <summary>{heading}</summary>
                                        {editable.then(|| view! {
                                            <SectionForm event_id=form_id version section=Some(section.clone()) actions />
                                            {(section.sold == 0 && section.reserved == 0).then(|| view! {
                                                <ActionForm action=actions.remove attr:class="inline">
                                                    <input type="hidden" name="event_id" value=remove_id />
                                                    <input type="hidden" name="version" value=event.version />
                                                    <input type="hidden" name="section_id" value=section.id.clone() />
                                                    <button type="submit" class="secondary">{format!("Remove {}", section.name)}</button>
                                                </ActionForm>
                                            })}
                                        })}
                                    </details>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
            {editable.then(|| view! {
                <h3>"Add a section"</h3>
                <SectionForm event_id=event_id.clone() version=event.version section=None actions />
            })}
        </section>
    }
}

#[component]
fn SectionForm(
    event_id: String,
    version: i64,
    section: Option<OrganiserSection>,
    actions: Actions,
) -> impl IntoView {
    let save = actions.section;
    let key = section.as_ref().map(|s| s.id.clone()).unwrap_or_default();
    let prefix = if key.is_empty() {
        "new".to_string()
    } else {
        key.clone()
    };
    let id_of = move |name: &str| format!("{prefix}-{name}");
    let seated = section.as_ref().is_some_and(|s| s.seated);
    let (name_id, price_id, capacity_id, rows_id, general_id, seated_id) = (
        id_of("name"),
        id_of("price"),
        id_of("capacity"),
        id_of("rows"),
        id_of("general"),
        id_of("seated"),
    );
    let label = section
        .as_ref()
        .map(|s| format!("Section {}", s.name))
        .unwrap_or_else(|| "New section".to_string());
    view! {
        <ActionForm action=save attr:class="form section-form" attr:aria-label=label>
            <input type="hidden" name="event_id" value=event_id />
            <input type="hidden" name="version" value=version />
            <input type="hidden" name="section_id" value=key />
            <div class="field">
                <label for=name_id.clone()>"Section name"</label>
                <input id=name_id name="name" required maxlength="60" value=section.as_ref().map(|s| s.name.clone()) />
            </div>
            <div class="field">
                <label for=price_id.clone()>"Price"</label>
                <input id=price_id name="price" required inputmode="decimal" value=section.as_ref().map(|s| s.price_input.clone()) />
            </div>
            <fieldset class="field">
                <legend>"Seating"</legend>
                <input type="radio" id=general_id.clone() name="seating" value="general" checked=!seated />
                <label for=general_id>"General admission"</label>
                <input type="radio" id=seated_id.clone() name="seating" value="seated" checked=seated />
                <label for=seated_id>"Seated rows"</label>
            </fieldset>
            <div class="field">
                <label for=capacity_id.clone()>"Capacity (general admission)"</label>
                <input id=capacity_id name="capacity" inputmode="numeric" value=section.as_ref().map(|s| s.capacity_input.clone()) />
            </div>
            <div class="field">
                <label for=rows_id.clone()>"Rows (seated): one per line, its label and seats, like “A 20”"</label>
                <textarea id=rows_id name="rows" rows="4">{section.as_ref().map(|s| s.rows_input.clone()).unwrap_or_default()}</textarea>
            </div>
            <button type="submit" disabled=move || save.pending().get()>
                {if section.is_some() { "Save section" } else { "Add section" }}
            </button>
        </ActionForm>
    }
}

#[component]
fn Staff(event: OrganisedEventView, actions: Actions) -> impl IntoView {
    let error: Signal<Option<AppError>> =
        Signal::derive(move || actions.add_staff.value().get().and_then(Result::err));
    let event_id = event.id.clone();
    view! {
        <section class="card">
            <h2>"Door staff"</h2>
            <p class="muted">"They may scan this event's tickets at its door, and nothing else."</p>
            {if event.staff.is_empty() {
                view! { <p class="muted">"Nobody yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="staff-list" data-testid="door-staff">
                        {event.staff.iter().cloned().map(|(id, email)| {
                            let event_id = event_id.clone();
                            view! {
                            <li>
                                {email.clone()}
                                " "
                                <ActionForm action=actions.remove_staff attr:class="inline">
                                    <input type="hidden" name="event_id" value=event_id.clone() />
                                    <input type="hidden" name="user_id" value=id />
                                    <button type="submit" class="link-button">{format!("Remove {email}")}</button>
                                </ActionForm>
                            </li>
                        }}).collect_view()}
                    </ul>
                }
                .into_any()
            }}
            <ActionForm action=actions.add_staff attr:class="form inline-form" attr:aria-label="Add door staff">
                <FormErrors error fields=&["email"] />
                <input type="hidden" name="event_id" value=event.id.clone() />
                <Field label="Their account's email" name="email" id="staff-email" kind="email" error=field_error(error, "email") />
                <button type="submit">"Add"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn Sales(event: OrganisedEventView) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Sales per day"</h2>
            {if event.sales_per_day.is_empty() {
                view! { <p class="muted">"No sales yet."</p> }.into_any()
            } else {
                view! {
                    <figure class="chart" data-testid="sales-chart" inner_html=event.chart_svg.clone()></figure>
                    <details>
                        <summary>"The figures"</summary>
                        <table class="data">
                            <thead><tr><th scope="col">"Day"</th><th scope="col">"Tickets"</th></tr></thead>
                            <tbody>
                                {event.sales_per_day.iter().cloned().map(|(day, n)| view! { <tr><td>{day}</td><td>{n}</td></tr> }).collect_view()}
                            </tbody>
                        </table>
                    </details>
                }
                .into_any()
            }}
        </section>
    }
}

#[component]
fn Attendees(event: OrganisedEventView) -> impl IntoView {
    let csv = format!("/api/events/{}/attendees?format=csv", event.id);
    view! {
        <section class="card">
            <h2>"Attendees"</h2>
            {if event.attendees.is_empty() {
                view! { <p class="muted">"Nobody holds a ticket yet."</p> }.into_any()
            } else {
                view! {
                    <p><a href=csv download="">"Download the list (CSV)"</a></p>
                    <div class="table-wrap">
                        <table class="data" data-testid="attendees">
                            <thead>
                                <tr><th scope="col">"Email"</th><th scope="col">"Section"</th><th scope="col">"Seat"</th><th scope="col">"Code"</th><th scope="col">"Checked in"</th></tr>
                            </thead>
                            <tbody>
                                {event.attendees.iter().cloned().map(|a| view! {
                                    <tr>
                                        <td>{a.email}</td>
                                        <td>{a.section}</td>
                                        <td>{a.seat.unwrap_or_default()}</td>
                                        <td>{a.code_status}</td>
                                        <td>{a.checked_in_at.unwrap_or_default()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                .into_any()
            }}
        </section>
    }
}

#[component]
fn Cancel(event: OrganisedEventView, actions: Actions) -> impl IntoView {
    let error: Signal<Option<AppError>> =
        Signal::derive(move || actions.cancel.value().get().and_then(Result::err));
    let confirm_error = field_error(error, "confirm");
    view! {
        <section class="card danger-zone">
            <h2>"Cancel this event"</h2>
            <p>"Every ticket bought, from you or on resale, is refunded in full; every code stops admitting; holders are emailed the reason. This cannot be undone."</p>
            <ActionForm action=actions.cancel attr:class="form" attr:aria-label="Cancel this event">
                <FormErrors error fields=&["reason", "confirm"] />
                <input type="hidden" name="event_id" value=event.id.clone() />
                <div class="field" class:invalid=move || field_error(error, "reason").get().is_some()>
                    <label for="cancel-reason">"Reason (sent to every holder)"</label>
                    <textarea id="cancel-reason" name="reason" rows="3" maxlength="500" required aria-describedby="cancel-reason-error"></textarea>
                    <p class="field-error" id="cancel-reason-error">{move || field_error(error, "reason").get()}</p>
                </div>
                <div class="field checkbox" class:invalid=move || confirm_error.get().is_some()>
                    <input type="checkbox" id="cancel-confirm" name="confirm" value="yes" aria-describedby="cancel-confirm-error" />
                    <label for="cancel-confirm">"Yes, cancel it and refund every buyer"</label>
                    <p class="field-error" id="cancel-confirm-error">{move || confirm_error.get()}</p>
                </div>
                <button type="submit" class="danger" disabled=move || actions.cancel.pending().get()>"Cancel event"</button>
            </ActionForm>
        </section>
    }
}

/// What the upload form's redirect says about an upload (`?image=…`, a word from a fixed list).
fn upload_outcome(word: &str) -> Option<(bool, &'static str)> {
    Some(match word {
        "saved" => (true, "Image saved."),
        "too-big" => (false, "That file is over 5 MB."),
        "too-large" => (false, "Image is too large: at most 40 megapixels."),
        "unreadable" => (
            false,
            "Image could not be read: send a JPEG, PNG or WebP picture.",
        ),
        "refused" => (false, "The image was refused."),
        "failed" => (false, "Something went wrong; try again."),
        _ => return None,
    })
}

#[component]
fn ImageForm(event: OrganisedEventView, actions: Actions) -> impl IntoView {
    let query = use_query_map();
    let outcome = move || query.read().get("image").and_then(|w| upload_outcome(&w));
    let action = format!("/organise/{}/image", event.id);
    let remove_id = event.id.clone();
    view! {
        <section class="card">
            <h2>"Image"</h2>
            {move || outcome().map(|(ok, text)| if ok {
                view! { <p class="saved" role="status">{text}</p> }.into_any()
            } else {
                view! { <div class="form-errors" role="alert"><p>{text}</p></div> }.into_any()
            })}
            {event.image_url.clone().map(|url| view! {
                <img class="hero-image" data-testid="event-image" src=url alt="The event's image" />
                <ActionForm action=actions.remove_image attr:class="inline">
                    <input type="hidden" name="event_id" value=remove_id />
                    <button type="submit" class="secondary">"Remove the image"</button>
                </ActionForm>
            })}
            // A plain multipart form: files go up without JavaScript too.
            <form method="post" action=action enctype="multipart/form-data" class="form">
                <div class="field">
                    <label for="image">"Image (JPEG, PNG or WebP, at most 5 MB)"</label>
                    <input type="file" id="image" name="image" accept="image/jpeg,image/png,image/webp" required />
                </div>
                <button type="submit">"Upload image"</button>
            </form>
        </section>
    }
}
