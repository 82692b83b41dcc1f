//! `/tickets/:id`: everything about one ticket; for its seller, the edit form or the reason it
//! cannot be edited right now.

use super::form::LoadError;
use super::ticket_form::TicketFields;
use crate::error::AppError;
use crate::server_fns::{EditTicket, ReserveTicket, TicketView, get_ticket};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

#[component]
pub fn TicketPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let edit = ServerAction::<EditTicket>::new();
    let reserve = ServerAction::<ReserveTicket>::new();
    // A refused reservation (say, the price changed) shows the ticket as it is now.
    let ticket = Resource::new(
        move || (id.get(), edit.version().get(), reserve.version().get()),
        |(id, _, _)| get_ticket(id),
    );

    view! {
        <super::browse::LiveUpdates />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match ticket.await {
                    Ok(ticket) => view! { <TicketDetails ticket edit reserve /> }.into_any(),
                    Err(AppError::NotFound) => view! { <super::not_found::NotFound /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn TicketDetails(
    ticket: TicketView,
    edit: ServerAction<EditTicket>,
    reserve: ServerAction<ReserveTicket>,
) -> impl IntoView {
    let status_label = match ticket.status.as_str() {
        "reserved" => "Reserved",
        "sold" => "Sold",
        "removed" => "No longer on sale",
        _ => "On sale",
    };
    let seller_section = ticket.is_mine.then(|| match ticket.status.as_str() {
        "available" => view! { <EditForm ticket=ticket.clone() edit /> }.into_any(),
        "reserved" => view! {
            <p class="notice" data-testid="edit-blocked">
                "A buyer is paying for this ticket right now, so it cannot be edited. If they do not pay within their reservation window, it goes back on sale and you can edit it again."
            </p>
        }
        .into_any(),
        "removed" => view! {
            <p class="notice" data-testid="edit-blocked">"This listing is no longer on sale: it was taken down, or your account is suspended. We have emailed you why."</p>
        }
        .into_any(),
        _ => view! {
            <p class="notice" data-testid="edit-blocked">"This ticket has been sold, so it can no longer be edited."</p>
        }
        .into_any(),
    });
    view! {
        <Title text=ticket.title.clone() />
        <Meta name="description" content=format!(
            "{} — {}, {}. {} on Ticketing.",
            ticket.title,
            ticket.starts_at.clone().unwrap_or_else(|| "date to be announced".to_string()),
            ticket.venue.clone().unwrap_or_else(|| "venue to be announced".to_string()),
            ticket.total,
        ) />
        <article class="card ticket-details" data-ticket-id=ticket.id.clone()>
            <p>
                <span class="badge">{ticket.category_label.clone()}</span>
                " "
                <span class=format!("status status-{}", ticket.status) data-status=ticket.status.clone() data-testid="ticket-status">{status_label}</span>
            </p>
            <h1>{ticket.title.clone()}</h1>
            <dl class="facts">
                <dt>"When"</dt>
                <dd data-testid="ticket-when">
                    {match (ticket.starts_at.clone(), ticket.starts_at_rfc3339.clone()) {
                        (Some(shown), Some(at)) => view! {
                            <time datetime=at>{shown}</time>
                            {ticket.time_zone.clone().map(|zone| view! {
                                <span class="muted">{format!(" · {} time", zone.replace('_', " "))}</span>
                            })}
                        }
                        .into_any(),
                        _ => "Date to be announced".into_any(),
                    }}
                </dd>
                <dt>"Where"</dt>
                <dd>{ticket.venue.clone().unwrap_or_else(|| "Venue to be announced".to_string())}</dd>
                {ticket.seat.clone().map(|seat| view! {
                    <dt>"Seat"</dt>
                    <dd data-testid="ticket-seat">{seat}</dd>
                })}
                <dt>"Price"</dt>
                <dd class="price" data-testid="ticket-price">{ticket.price.clone()}</dd>
                {ticket.buyer_fee.clone().map(|fee| view! {
                    <dt>"Fee"</dt>
                    <dd data-testid="ticket-fee">{fee}</dd>
                    <dt>"You pay"</dt>
                    <dd class="price" data-testid="ticket-total">{ticket.total.clone()}</dd>
                })}
                {ticket.face_value.clone().map(|face| view! {
                    <dt>"Face value"</dt>
                    <dd data-testid="ticket-face-value">{face}</dd>
                })}
                {(ticket.is_mine).then(|| ticket.seller_net.clone()).flatten().map(|net| view! {
                    <dt>"You receive"</dt>
                    <dd data-testid="ticket-seller-net">{net}</dd>
                })}
            </dl>
        </article>
        {if ticket.is_mine {
            seller_section.into_any()
        } else {
            view! { <super::buy::BuySection ticket=ticket.clone() reserve /> }.into_any()
        }}
    }
}

#[component]
fn EditForm(ticket: TicketView, edit: ServerAction<EditTicket>) -> impl IntoView {
    let error: Signal<Option<AppError>> =
        Signal::derive(move || edit.value().get().and_then(Result::err));
    let saved = move || matches!(edit.value().get(), Some(Ok(_)));
    view! {
        <section class="card">
            <h2>"Edit your listing"</h2>
            <ActionForm action=edit attr:class="form" attr:aria-label="Edit ticket">
                <input type="hidden" name="id" value=ticket.id.clone() />
                <input type="hidden" name="version" value=ticket.version />
                <TicketFields ticket=Some(ticket) zone=None error />
                <button type="submit" disabled=move || edit.pending().get()>"Save changes"</button>
                <Show when=saved>
                    <p class="saved" role="status">"Saved."</p>
                </Show>
            </ActionForm>
        </section>
    }
}
