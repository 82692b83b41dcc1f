//! The site header: the brand, and either the signed-in email with a sign-out button or links to
//! sign in and sign up.

use super::Account;
use leptos::prelude::*;

#[component]
pub fn Header() -> impl IntoView {
    let account = expect_context::<Account>();
    let user = account.user;
    let mode = expect_context::<super::PaymentModeResource>();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                mode.await.ok().filter(|m| m.test_mode).map(|_| view! {
                    <p class="test-banner" role="note" data-testid="test-mode-banner">
                        "Test mode — no real payments"
                    </p>
                })
            })}
        </Transition>
        <header class="site-header">
            <a href="/" class="brand">"Ticketing"</a>
            <nav class="account" aria-label="Account">
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match user.await {
                            Ok(Some(current)) => view! {
                                <a href="/tickets/mine">"My tickets"</a>
                                <a href="/orders">"My orders"</a>
                                <a href="/payouts">"Payouts"</a>
                                {current.staff.then(|| view! { <a href="/check-in">"Check-in"</a> })}
                                {current.admin.then(|| view! { <a href="/admin">"Admin"</a> })}
                                <a href="/account" class="whoami" data-testid="current-user">{current.email}</a>
                                <ActionForm action=account.sign_out attr:class="inline">
                                    <button type="submit" class="link-button">"Sign out"</button>
                                </ActionForm>
                            }
                            .into_any(),
                            _ => view! {
                                <a href="/auth/signin">"Sign in"</a>
                                <a href="/auth/signup" class="button">"Sign up"</a>
                            }
                            .into_any(),
                        }
                    })}
                </Transition>
            </nav>
        </header>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                user.await.ok().flatten().filter(|u| !u.email_verified).map(|_| view! {
                    <p class="verify-reminder" role="note" data-testid="verify-reminder">
                        "Please confirm your email address: follow the link we sent you. "
                        <a href="/account">"Send it again"</a>
                    </p>
                })
            })}
        </Transition>
    }
}
