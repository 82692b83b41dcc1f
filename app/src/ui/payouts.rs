//! `/payouts`: what a seller has earned and where it is — in escrow, available, paid out —,
//! the payout account with its connect button, and the history of earnings and payouts.
//! Usable without JavaScript: connecting is a plain form.

use super::form::{FormErrors, LoadError};
use crate::error::AppError;
use crate::server_fns::{
    ConnectPayoutAccount, EarningItem, PayoutItem, PayoutsView, payouts_overview,
};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

fn notice_text(notice: &str) -> Option<&'static str> {
    Some(match notice {
        "connected" => "Your payout account is connected.",
        _ => return None,
    })
}

#[component]
pub fn PayoutsPage() -> impl IntoView {
    let connect = ServerAction::<ConnectPayoutAccount>::new();
    let query = use_query_map();
    let onboarding = query.read_untracked().get("onboarding");
    let came_back = onboarding.clone();
    let overview = Resource::new(
        move || connect.version().get(),
        move |_| payouts_overview(came_back.clone()),
    );
    let notice = Signal::derive(move || {
        let from_query = query.read().get("notice");
        connect
            .value()
            .get()
            .is_some_and(|r| r.is_ok())
            .then(|| "connected".to_string())
            .or(from_query)
            .and_then(|n| notice_text(&n))
    });
    view! {
        <Title text="Payouts" />
        <Meta name="description" content="What your ticket sales have earned: in escrow, available and paid out, and your payout account." />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let onboarding = onboarding.clone();
                Suspend::new(async move {
                    match overview.await {
                        Ok(view) => view! {
                            <section class="payouts-page">
                                <h1>"Payouts"</h1>
                                {move || notice.get().map(|text| view! { <p class="notice" role="status">{text}</p> })}
                                {(onboarding.as_deref() == Some("refresh")).then(|| view! {
                                    <p class="notice" role="status">"That onboarding link has expired. Continue with a new one below."</p>
                                })}
                                <Payouts view connect />
                            </section>
                        }
                        .into_any(),
                        Err(AppError::Unauthenticated) => view! {
                            <section class="card narrow">
                                <h1>"Payouts"</h1>
                                <p>"Sign in to see what your sales have earned and when it is paid."</p>
                                <p><a href="/auth/signin" class="button">"Sign in"</a></p>
                            </section>
                        }
                        .into_any(),
                        Err(error) => view! { <LoadError error /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn Payouts(view: PayoutsView, connect: ServerAction<ConnectPayoutAccount>) -> impl IntoView {
    let PayoutsView {
        pending,
        available,
        paid_out,
        owing,
        next_release,
        escrow,
        account,
        account_label,
        email_verified,
        test_mode,
        payouts,
        earnings,
    } = view;
    let error: Signal<Option<AppError>> =
        Signal::derive(move || connect.value().get().and_then(Result::err));
    let connect_form = if account == "ready" {
        None
    } else if !email_verified {
        Some(
            view! {
                <p>"Confirm your email address before connecting a payout account. "
                    <a href="/account">"Your account"</a></p>
            }
            .into_any(),
        )
    } else {
        let (label, help) = match (account.as_str(), test_mode) {
            (_, true) => (
                "Connect a test payout account",
                "Test mode: the account is simulated and ready at once; no money moves.",
            ),
            ("none", false) => (
                "Connect with Stripe",
                "Stripe asks for your details and bank account, then sends you back here.",
            ),
            _ => (
                "Continue with Stripe",
                "Stripe needs a few more details before it can send you money.",
            ),
        };
        Some(
            view! {
                <ActionForm action=connect attr:class="form connect-payouts">
                    <FormErrors error fields=&[] />
                    <p class="muted">{help}</p>
                    <button type="submit">{label}</button>
                </ActionForm>
            }
            .into_any(),
        )
    };
    view! {
        <dl class="balances" data-testid="balances">
            <div class="balance">
                <dt>"In escrow"</dt>
                <dd data-testid="pending">{pending}</dd>
            </div>
            <div class=if owing { "balance owing" } else { "balance" }>
                <dt>"Available"</dt>
                <dd data-testid="available">{available}</dd>
            </div>
            <div class="balance">
                <dt>"Paid out"</dt>
                <dd data-testid="paid-out">{paid_out}</dd>
            </div>
        </dl>
        <p class="muted">
            {match next_release {
                Some(at) => format!("Next release from escrow: {at}."),
                None => "Nothing is waiting in escrow.".to_string(),
            }}
            {format!(
                " Earnings are released {escrow} after the event (or the sale, for tickets without a date) and paid automatically to a connected account."
            )}
        </p>
        {owing.then(|| view! {
            <p class="notice warning" role="status">"A refund after a payout left you owing this amount; it is taken from your next earnings."</p>
        })}
        <h2>"Payout account"</h2>
        <p data-testid="account-status" class=format!("account-status status-{account}")>{account_label}</p>
        {connect_form}
        <h2>"Earnings"</h2>
        {if earnings.is_empty() {
            view! { <p class="empty">"Earnings from your sales appear here."</p> }.into_any()
        } else {
            view! { <EarningsTable earnings /> }.into_any()
        }}
        <h2>"Payouts"</h2>
        {if payouts.is_empty() {
            view! { <p class="empty">"No payouts yet."</p> }.into_any()
        } else {
            view! { <PayoutsTable payouts /> }.into_any()
        }}
    }
}

fn earning_label(status: &str) -> &'static str {
    match status {
        "available" => "Available",
        "paid" => "Paid out",
        "reversed" => "Refunded",
        _ => "In escrow",
    }
}

#[component]
fn EarningsTable(earnings: Vec<EarningItem>) -> impl IntoView {
    view! {
        <table class="history" data-testid="earnings">
            <thead>
                <tr><th scope="col">"Ticket"</th><th scope="col">"You receive"</th><th scope="col">"Status"</th><th scope="col">"Released"</th></tr>
            </thead>
            <tbody>
                {earnings
                    .into_iter()
                    .map(|e| view! {
                        <tr>
                            <td><a href=format!("/tickets/{}", e.ticket_id)>{e.title}</a></td>
                            <td class="amount">{e.amount}</td>
                            <td><span class=format!("status status-{}", e.status)>{earning_label(&e.status)}</span></td>
                            <td>{e.release}</td>
                        </tr>
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

fn payout_label(status: &str) -> &'static str {
    match status {
        "paid" => "Sent",
        "failed" => "Failed",
        _ => "Sending",
    }
}

#[component]
fn PayoutsTable(payouts: Vec<PayoutItem>) -> impl IntoView {
    view! {
        <table class="history" data-testid="payouts">
            <thead>
                <tr><th scope="col">"Date"</th><th scope="col">"Amount"</th><th scope="col">"Status"</th></tr>
            </thead>
            <tbody>
                {payouts
                    .into_iter()
                    .map(|p| view! {
                        <tr>
                            <td>{p.date}</td>
                            <td class="amount">{p.amount}</td>
                            <td>
                                <span class=format!("status status-{}", p.status)>{payout_label(&p.status)}</span>
                                {p.failure.filter(|_| p.status == "failed").map(|why| view! { <span class="muted">" " {why}</span> })}
                            </td>
                        </tr>
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
