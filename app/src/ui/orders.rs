//! `/orders` (my orders) and `/orders/:id` (one order: status, price, time left, cancel).

use super::Account;
use super::countdown::Countdown;
use super::form::{Field, FormErrors, LoadError, field_error};
use crate::error::AppError;
use crate::server_fns::{CancelOrder, OrderView, PayOrder, StartCheckout, get_order, list_orders};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

/// Shown instead of a page that needs an account.
#[component]
fn SignInFirst(what: &'static str) -> impl IntoView {
    view! {
        <section class="card narrow">
            <h1>{what}</h1>
            <p>"Sign in to see your orders."</p>
            <p><a href="/auth/signin" class="button">"Sign in"</a></p>
        </section>
    }
}

#[component]
pub fn OrdersPage() -> impl IntoView {
    let user = expect_context::<Account>().user;
    let orders = Resource::new(
        move || user.get().map(|u| u.ok().flatten().map(|u| u.id)),
        |_| list_orders(),
    );
    view! {
        <Title text="My orders" />
        <Meta name="description" content="Your Ticketing orders: reservations waiting for payment, paid tickets and cancelled orders." />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match orders.await {
                    Ok(orders) => view! { <OrderList orders /> }.into_any(),
                    Err(AppError::Unauthenticated) => view! { <SignInFirst what="My orders" /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn OrderList(orders: Vec<OrderView>) -> impl IntoView {
    view! {
        <section class="orders">
            <h1>"My orders"</h1>
            {if orders.is_empty() {
                view! { <p class="empty">"No orders yet. " <a href="/">"Find a ticket"</a></p> }.into_any()
            } else {
                view! {
                    <ul class="order-list">
                        {orders
                            .into_iter()
                            .map(|order| {
                                let href = format!("/orders/{}", order.id);
                                view! {
                                    <li class="card order-row" data-status=order.status.clone()>
                                        <a href=href>{order.ticket.title.clone()}</a>
                                        {(order.count > 1).then(|| view! { <span class="muted">{format!(" × {}", order.count)}</span> })}
                                        <span class="price">{order.total.clone()}</span>
                                        <span class=format!("status status-{}", status_class(&order))>{order.status_label()}</span>
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

fn status_class(order: &OrderView) -> &'static str {
    match order.status.as_str() {
        "created" | "awaiting:payment" => "reserved",
        "complete" => "available",
        _ => "sold",
    }
}

#[component]
pub fn OrderPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let cancel = ServerAction::<CancelOrder>::new();
    let pay = ServerAction::<PayOrder>::new();
    let checkout = ServerAction::<StartCheckout>::new();
    // Bumped when the countdown runs out, so the page asks the server what happened.
    let expired = RwSignal::new(0u32);
    let order = Resource::new(
        move || {
            (
                id.get(),
                cancel.version().get(),
                pay.version().get(),
                expired.get(),
            )
        },
        |(id, _, _, _)| get_order(id),
    );
    let actions = OrderActions {
        cancel,
        pay,
        checkout,
        expired,
    };
    view! {
        <Title text="Your order" />
        <Meta name="description" content="One of your Ticketing orders: its ticket, its price and its payment." />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match order.await {
                    Ok(order) => view! { <OrderDetails order actions /> }.into_any(),
                    Err(AppError::Unauthenticated) => view! { <SignInFirst what="Your order" /> }.into_any(),
                    Err(AppError::NotFound | AppError::Forbidden) => view! { <super::not_found::NotFound /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// What a buyer can do on the order page.
#[derive(Clone, Copy)]
struct OrderActions {
    cancel: ServerAction<CancelOrder>,
    pay: ServerAction<PayOrder>,
    checkout: ServerAction<StartCheckout>,
    expired: RwSignal<u32>,
}

#[component]
fn OrderDetails(order: OrderView, actions: OrderActions) -> impl IntoView {
    let OrderActions {
        cancel, expired, ..
    } = actions;
    let error: Signal<Option<AppError>> =
        Signal::derive(move || cancel.value().get().and_then(Result::err));
    let ticket_href = format!("/tickets/{}", order.ticket.id);
    let live = order.is_live();
    let for_pay = order.clone();
    let outcome = match order.status.as_str() {
        "complete" => Some(view! {
            <p class="notice ok" role="status">
                {if order.count > 1 { "Paid. The tickets are yours: " } else { "Paid. The ticket is yours: " }}
                <a href="/tickets/mine">{if order.count > 1 { "see them under My tickets" } else { "see it under My tickets" }}</a>
                "."
            </p>
        }
        .into_any()),
        "cancelled" => Some(view! {
            <p class="notice" role="status">"This order is cancelled and the ticket is back on sale."</p>
        }
        .into_any()),
        _ => None,
    };
    let problem = order.payment_problem.clone().map(|reason| {
        view! { <p class="notice problem" data-testid="payment-problem">{reason}</p> }
    });
    view! {
        <article class="card order-details" data-status=order.status.clone()>
            <p>
                <span class=format!("status status-{}", status_class(&order)) data-testid="order-status">
                    {order.status_label()}
                </span>
            </p>
            <h1><a href=ticket_href>{order.ticket.title.clone()}</a></h1>
            <dl class="facts">
                <dt>"Price"</dt>
                <dd class="price" data-testid="order-price">{order.price.clone()}</dd>
                {order.fee.clone().map(|fee| view! {
                    <dt>"Fee"</dt>
                    <dd data-testid="order-fee">{fee}</dd>
                    <dt>"Total"</dt>
                    <dd class="price" data-testid="order-total">{order.total.clone()}</dd>
                })}
                {(order.count > 1 || !order.seats.is_empty()).then(|| view! {
                    <dt>{if order.count > 1 { format!("{} tickets", order.count) } else { "Seat".to_string() }}</dt>
                    <dd>
                        <ul class="order-seats" data-testid="order-seats">
                            {order.seats.iter().map(|seat| view! { <li>{seat.clone()}</li> }).collect_view()}
                        </ul>
                    </dd>
                })}
                <dt>"When"</dt>
                <dd>{order.ticket.starts_at.clone().unwrap_or_else(|| "Date to be announced".to_string())}</dd>
                <dt>"Where"</dt>
                <dd>{order.ticket.venue.clone().unwrap_or_else(|| "Venue to be announced".to_string())}</dd>
            </dl>
            {outcome}
            {problem}
            {live.then(|| view! {
                <p class="time-left">
                    "The ticket is held for you. Time left to pay: "
                    <Countdown millis_left=order.millis_left on_expired=move |_| expired.update(|n| *n += 1) />
                </p>
                <PaySection order=for_pay.clone() actions />
                <ActionForm action=cancel attr:class="inline" attr:aria-label="Cancel order">
                    <FormErrorsInline error />
                    <input type="hidden" name="id" value=order.id.clone() />
                    <button type="submit" class="secondary" disabled=move || cancel.pending().get()>"Cancel order"</button>
                </ActionForm>
            })}
        </article>
        <p><a href="/orders">"All my orders"</a></p>
    }
}

/// Test mode: our own card form, for Stripe's test numbers only. Stripe: a button that opens
/// Stripe Checkout (a plain form post and redirect, no script needed).
#[component]
fn PaySection(order: OrderView, actions: OrderActions) -> impl IntoView {
    let OrderActions { pay, checkout, .. } = actions;
    let mode = expect_context::<super::PaymentModeResource>();
    let pay_error: Signal<Option<AppError>> =
        Signal::derive(move || pay.value().get().and_then(Result::err));
    let checkout_error: Signal<Option<AppError>> =
        Signal::derive(move || checkout.value().get().and_then(Result::err));
    let label = format!("Pay {}", order.total);
    view! {
        <Transition fallback=|| ()>
            {
                let order_id = order.id.clone();
                let label = label.clone();
                move || {
                    let order_id = order_id.clone();
                    let label = label.clone();
                    Suspend::new(async move {
                        let test_mode = mode.await.map(|m| m.test_mode).unwrap_or(true);
                        if test_mode {
                            view! {
                                <ActionForm action=pay attr:class="form pay-form" attr:aria-label="Pay">
                                    <p class="test-card-note">
                                        "Test mode — no real payments. Card 4242 4242 4242 4242 pays; 4000 0000 0000 0002 is declined."
                                    </p>
                                    <FormErrors error=pay_error fields=&["card_number"] />
                                    <input type="hidden" name="order_id" value=order_id />
                                    <Field
                                        label="Card number"
                                        name="card_number"
                                        autocomplete="cc-number"
                                        inputmode="numeric"
                                        error=field_error(pay_error, "card_number")
                                    />
                                    <button type="submit" disabled=move || pay.pending().get()>{label}</button>
                                </ActionForm>
                            }
                            .into_any()
                        } else {
                            view! {
                                <ActionForm action=checkout attr:class="form pay-form" attr:aria-label="Pay">
                                    <FormErrors error=checkout_error fields=&[] />
                                    <input type="hidden" name="order_id" value=order_id />
                                    <button type="submit" disabled=move || checkout.pending().get()>
                                        {format!("{label} with Stripe")}
                                    </button>
                                </ActionForm>
                            }
                            .into_any()
                        }
                    })
                }
            }
        </Transition>
    }
}

#[component]
fn FormErrorsInline(error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(
            |err| view! { <div class="form-errors" role="alert"><p>{err.to_string()}</p></div> },
        )
    }
}
