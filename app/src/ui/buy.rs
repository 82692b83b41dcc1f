//! The Buy button on a ticket page. It posts the price the page showed, so a buyer never pays a
//! price they did not see: if the seller changed it meanwhile, the page shows the new price and
//! asks again.

use super::Account;
use crate::error::AppError;
use crate::server_fns::{ReserveTicket, TicketView};
use leptos::prelude::*;

#[component]
pub fn BuySection(ticket: TicketView, reserve: ServerAction<ReserveTicket>) -> impl IntoView {
    let user = expect_context::<Account>().user;
    let error: Signal<Option<AppError>> =
        Signal::derive(move || reserve.value().get().and_then(Result::err));
    match ticket.status.as_str() {
        "reserved" => {
            return view! {
                <p class="notice" data-testid="buy-blocked">
                    "Someone is paying for this ticket right now. If they do not finish, it goes back on sale within minutes."
                </p>
            }
            .into_any();
        }
        "sold" => {
            return view! { <p class="notice" data-testid="buy-blocked">"This ticket has been sold."</p> }.into_any();
        }
        "removed" => {
            return view! { <p class="notice" data-testid="buy-blocked">"This listing is no longer on sale."</p> }.into_any();
        }
        _ => {}
    }
    let window_note =
        "Reserve it now and you have 15 minutes to pay; nobody else can buy it meanwhile.";
    view! {
        <section class="card buy">
            <Transition fallback=|| ()>
                {
                    let ticket = ticket.clone();
                    move || {
                        let ticket = ticket.clone();
                        Suspend::new(async move {
                            match user.await {
                                Ok(Some(_)) => {
                                    let shown_price = ticket.price.clone();
                                    view! {
                                    <ActionForm action=reserve attr:class="form" attr:aria-label="Buy">
                                        {move || error.get().map(|err| {
                                            let message = if err.field_message("price").is_some() {
                                                format!("{err} — it is now {shown_price}. Buy at the new price?")
                                            } else {
                                                err.to_string()
                                            };
                                            view! { <div class="form-errors" role="alert"><p>{message}</p></div> }
                                        })}
                                        <input type="hidden" name="ticket_id" value=ticket.id.clone() />
                                        <input type="hidden" name="price" value=ticket.price_input.clone() />
                                        <p class="muted">{window_note}</p>
                                        <button type="submit" disabled=move || reserve.pending().get()>
                                            {format!("Buy for {}", ticket.total)}
                                        </button>
                                    </ActionForm>
                                    }
                                    .into_any()
                                }
                                _ => view! {
                                    <p>
                                        <a href="/auth/signin" class="button">"Sign in to buy"</a>
                                        " "
                                        <a href="/auth/signup">"or create an account"</a>
                                    </p>
                                }
                                .into_any(),
                            }
                        })
                    }
                }
            </Transition>
        </section>
    }
    .into_any()
}
