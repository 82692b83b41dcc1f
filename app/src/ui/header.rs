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
                    // A landmark of its own, so that no content sits outside one.
                    <aside class="test-banner" aria-label="Test mode" data-testid="test-mode-banner">
                        "Test mode — no real payments"
                    </aside>
                })
            })}
        </Transition>
        <header class="site-header">
            // The ticket glyph is drawn here, not taken from an emoji font a device may lack.
            <a href="/" class="brand">
                <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                    <path fill="currentColor" d="M3 6a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2v3a3 3 0 0 0 0 6v3a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-3a3 3 0 0 0 0-6V6Zm11 0v2h2V6h-2Zm0 5v2h2v-2h-2Zm0 5v2h2v-2h-2Z" />
                </svg>
                "Ticketing"
            </a>
            <nav class="site-nav" aria-label="Site">
                <a href="/" class="home-link">"Events"</a>
                <a href="/tickets">"Other listings"</a>
            </nav>
            <nav class="account" aria-label="Account">
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match user.await {
                            Ok(Some(current)) => {
                                let (staff, admin, organiser) = (current.staff, current.admin, current.organiser);
                                view! {
                                    <a href="/tickets/mine" class="wide">"My tickets"</a>
                                    <a href="/orders" class="wide">"My orders"</a>
                                    <a href="/payouts" class="wide">"Payouts"</a>
                                    {organiser.then(|| view! { <a href="/organise" class="wide">"Organise"</a> })}
                                    {staff.then(|| view! { <a href="/check-in" class="wide">"Check-in"</a> })}
                                    {admin.then(|| view! { <a href="/admin" class="wide">"Admin"</a> })}
                                    <a href="/account" class="whoami wide" data-testid="current-user">{current.email.clone()}</a>
                                    <ActionForm action=account.sign_out attr:class="inline wide">
                                        <button type="submit" class="link-button">"Sign out"</button>
                                    </ActionForm>
                                    // Phones: the same links folded into one menu (no script needed).
                                    <details class="account-menu">
                                        <summary>"Menu"</summary>
                                        <ul>
                                            <li class="menu-email">{current.email}</li>
                                            <li><a href="/tickets/mine">"My tickets"</a></li>
                                            <li><a href="/orders">"My orders"</a></li>
                                            <li><a href="/payouts">"Payouts"</a></li>
                                            {organiser.then(|| view! { <li><a href="/organise">"Organise"</a></li> })}
                                            {staff.then(|| view! { <li><a href="/check-in">"Check-in"</a></li> })}
                                            {admin.then(|| view! { <li><a href="/admin">"Admin"</a></li> })}
                                            <li><a href="/account">"Account"</a></li>
                                            <li>
                                                <ActionForm action=account.sign_out attr:class="inline">
                                                    <button type="submit" class="link-button">"Sign out"</button>
                                                </ActionForm>
                                            </li>
                                        </ul>
                                    </details>
                                }
                                .into_any()
                            }
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
