//! `/tickets/new`: list a ticket for sale.

use super::Account;
use super::ticket_form::TicketFields;
use crate::error::AppError;
use crate::server_fns::{ListTicket, listing_time_zone};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};

#[component]
pub fn NewTicketPage() -> impl IntoView {
    let user = expect_context::<Account>().user;
    let zone = Resource::new(|| (), |_| listing_time_zone());
    view! {
        <Title text="Sell a ticket" />
        <Meta name="description" content="List a ticket for sale on Ticketing: title, price, category, venue and date." />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(_)) => {
                        let zone = zone.await.ok();
                        view! { <NewTicketForm zone /> }.into_any()
                    }
                    _ => view! {
                        <section class="card narrow">
                            <h1>"Sell a ticket"</h1>
                            <p>"Sign in to list a ticket for sale."</p>
                            <p>
                                <a href="/auth/signin" class="button">"Sign in"</a>
                                " "
                                <a href="/auth/signup">"Create an account"</a>
                            </p>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn NewTicketForm(zone: Option<String>) -> impl IntoView {
    let action = ServerAction::<ListTicket>::new();
    let error: Signal<Option<AppError>> =
        Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <section class="card narrow">
            <h1>"Sell a ticket"</h1>
            <ActionForm action attr:class="form" attr:aria-label="Sell a ticket">
                <TicketFields ticket=None zone error />
                <button type="submit" disabled=move || action.pending().get()>"List ticket"</button>
            </ActionForm>
        </section>
    }
}
