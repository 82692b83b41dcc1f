//! `/tickets/mine`: tickets I bought (with the QR code that gets me in, and a resale form) and
//! tickets I sell, with their status.

use super::browse::TicketCard;
use super::form::{Field, FormErrors, LoadError, field_error};
use crate::error::AppError;
use crate::server_fns::{
    BoughtTicketView, CancelTransfer, MyTicketsView, ResellTicket, TransferTicket, my_tickets,
};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

fn notice_text(notice: &str) -> Option<&'static str> {
    Some(match notice {
        "transferred" => "The ticket is theirs now: they have the code, and yours no longer works.",
        "invited" => {
            "We have emailed them. The ticket moves to them when they make an account with that address; until then you can cancel."
        }
        "transfer-cancelled" => "The transfer is cancelled; the ticket stays yours.",
        _ => return None,
    })
}

/// The forms each bought ticket can post.
#[derive(Clone, Copy)]
struct Actions {
    resell: ServerAction<ResellTicket>,
    transfer: ServerAction<TransferTicket>,
    cancel: ServerAction<CancelTransfer>,
}

#[component]
pub fn MyTicketsPage() -> impl IntoView {
    let actions = Actions {
        resell: ServerAction::<ResellTicket>::new(),
        transfer: ServerAction::<TransferTicket>::new(),
        cancel: ServerAction::<CancelTransfer>::new(),
    };
    let tickets = Resource::new(
        move || {
            (
                actions.resell.version().get(),
                actions.transfer.version().get(),
                actions.cancel.version().get(),
            )
        },
        |_| my_tickets(),
    );
    let query = use_query_map();
    let notice = Signal::derive(move || {
        let done = match (actions.transfer.value().get(), actions.cancel.value().get()) {
            (_, Some(Ok(()))) => Some("transfer-cancelled"),
            (Some(Ok(true)), _) => Some("transferred"),
            (Some(Ok(false)), _) => Some("invited"),
            _ => None,
        };
        done.map(str::to_string)
            .or_else(|| query.read().get("notice"))
            .and_then(|n| notice_text(&n))
    });
    view! {
        <Title text="My tickets" />
        <Meta name="description" content="The tickets you bought, with their entry codes, and the tickets you sell." />
        {move || notice.get().map(|text| view! { <p class="notice" role="status">{text}</p> })}
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match tickets.await {
                    Ok(mine) => view! { <MyTickets mine actions /> }.into_any(),
                    Err(AppError::Unauthenticated) => view! {
                        <section class="card narrow">
                            <h1>"My tickets"</h1>
                            <p>"Sign in to see the tickets you bought and the ones you sell."</p>
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
fn MyTickets(mine: MyTicketsView, actions: Actions) -> impl IntoView {
    let MyTicketsView { bought, selling } = mine;
    view! {
        <section class="my-tickets">
            <h1>"My tickets"</h1>
            <h2>"Bought"</h2>
            {if bought.is_empty() {
                view! { <p class="empty">"Tickets you buy appear here, with the code that gets you in."</p> }.into_any()
            } else {
                view! {
                    <ul class="bought-list">
                        {bought.into_iter().map(|b| view! { <li><BoughtTicket bought=b actions /></li> }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
            <h2>"Selling"</h2>
            {if selling.is_empty() {
                view! { <p class="empty">"Nothing listed. " <a href="/tickets/new">"Sell a ticket"</a></p> }.into_any()
            } else {
                view! {
                    <ul class="ticket-grid">
                        {selling
                            .into_iter()
                            .map(|ticket| {
                                let status = ticket.status.clone();
                                view! {
                                    <li>
                                        <TicketCard ticket />
                                        <span class=format!("status status-{status}")>{status_label(&status)}</span>
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

fn status_label(status: &str) -> &'static str {
    match status {
        "reserved" => "Reserved",
        "sold" => "Sold",
        _ => "On sale",
    }
}

#[component]
fn BoughtTicket(bought: BoughtTicketView, actions: Actions) -> impl IntoView {
    let Actions {
        resell,
        transfer,
        cancel,
    } = actions;
    let error: Signal<Option<AppError>> =
        Signal::derive(move || resell.value().get().and_then(Result::err));
    let transfer_error: Signal<Option<AppError>> =
        Signal::derive(move || transfer.value().get().and_then(Result::err));
    let BoughtTicketView {
        ticket,
        code_status,
        code,
        qr_svg,
        note,
        resale_id,
        pending_transfer,
    } = bought;
    let (ticket_id, resell_label, price_input) = (
        ticket.id.clone(),
        format!("Resell {}", ticket.title),
        ticket.price_input.clone(),
    );
    let valid = code_status == "valid";
    let waiting = pending_transfer.is_some();
    let (cancel_id, give_id) = (ticket_id.clone(), ticket_id.clone());
    // Each ticket's inputs have ids of their own: the page lists many tickets.
    let (email_id, price_id) = (format!("email-{ticket_id}"), format!("price-{ticket_id}"));
    let (pending_label, give_label) = (
        format!("Transfer of {}", ticket.title),
        format!("Give {} to a friend", ticket.title),
    );
    let give = match (pending_transfer, valid && resale_id.is_none()) {
        (Some(email), _) => Some(
            view! {
                <ActionForm action=cancel attr:class="form transfer-pending" attr:aria-label=pending_label>
                    <p>"Waiting for " <strong>{email}</strong> " to make an account."</p>
                    <input type="hidden" name="ticket_id" value=cancel_id />
                    <button type="submit" class="secondary">"Cancel the transfer"</button>
                </ActionForm>
            }
            .into_any(),
        ),
        (None, true) => Some(
            view! {
                <ActionForm action=transfer attr:class="form transfer" attr:aria-label=give_label>
                    <FormErrors error=transfer_error fields=&["email"] />
                    <input type="hidden" name="ticket_id" value=give_id />
                    <Field
                        label="Friend's email"
                        name="email"
                        id=email_id
                        kind="email"
                        autocomplete="email"
                        error=field_error(transfer_error, "email")
                    />
                    <button type="submit" class="secondary">"Give to a friend"</button>
                </ActionForm>
            }
            .into_any(),
        ),
        (None, false) => None,
    };
    let resale = match (resale_id, valid && !waiting) {
        (Some(id), _) => Some(
            view! {
                <p class="muted">"Back on sale: " <a href=format!("/tickets/{id}")>"see the listing"</a></p>
            }
            .into_any(),
        ),
        (None, true) => Some(
            view! {
                <ActionForm action=resell attr:class="form resell" attr:aria-label=resell_label>
                    <FormErrors error fields=&["price"] />
                    <input type="hidden" name="ticket_id" value=ticket_id />
                    <Field
                        label="Resale price"
                        name="price"
                        id=price_id
                        inputmode="decimal"
                        value=price_input
                        error=field_error(error, "price")
                    />
                    <button type="submit" class="secondary">"Resell"</button>
                </ActionForm>
            }
            .into_any(),
        ),
        (None, false) => None,
    };
    let code_view = match (qr_svg, code.clone()) {
        (Some(svg), Some(code)) => view! {
            <div class="qr" role="img" aria-label=format!("QR code for ticket code {code}") inner_html=svg></div>
        }
        .into_any(),
        _ => view! { <div class="qr void" aria-hidden="true"></div> }.into_any(),
    };
    view! {
        <article class=format!("card bought-ticket code-{code_status}") data-testid="bought-ticket">
            {code_view}
            <div>
                <h3><a href=format!("/tickets/{}", ticket.id)>{ticket.title.clone()}</a></h3>
                <p class="meta">{ticket.starts_at.clone().unwrap_or_else(|| "Date to be announced".to_string())}</p>
                {ticket.venue.clone().map(|venue| view! { <p class="meta">{venue}</p> })}
                {ticket.seat.clone().map(|seat| view! { <p class="meta" data-testid="ticket-seat">{seat}</p> })}
                {code.map(|code| view! {
                    <p class="code">"Ticket code " <code data-testid="ticket-code">{code}</code></p>
                })}
                {note.map(|note| view! { <p class="code-note" data-testid="code-note">{note}</p> })}
                {resale}
                {give}
            </div>
        </article>
    }
}
