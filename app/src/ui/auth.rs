//! `/auth/signup`, `/auth/signin`, and the pages mailed links lead to: `/auth/verify`,
//! `/auth/forgot` and `/auth/reset`.

use super::Account;
use super::form::{Field, FormErrors, field_error};
use crate::error::AppError;
use crate::server_fns::{RequestPasswordReset, ResetPassword, SignIn, SignUp, VerifyEmail};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

/// A query parameter of the page's address.
fn query(name: &'static str) -> Memo<Option<String>> {
    let query = use_query_map();
    Memo::new(move |_| query.read().get(name))
}

const FIELDS: &[&str] = &["email", "password", "code"];

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    expect_context::<Account>().track(action);
    let error: Signal<Option<AppError>> =
        Signal::derive(move || action.value().get().and_then(Result::err));
    // A ticket given to this address links here with it filled in.
    let invited = leptos_router::hooks::use_query_map()
        .read_untracked()
        .get("email")
        .map(|email| email.chars().take(254).collect::<String>())
        .unwrap_or_default();
    view! {
        <Title text="Sign up" />
        <Meta name="description" content="Create a Ticketing account to buy and sell tickets for sports, concerts and theater." />
        <section class="card narrow">
            <h1>"Create your account"</h1>
            <p class="muted">"Sell tickets you can't use, buy tickets you want."</p>
            <ActionForm action=action attr:class="form" attr:aria-label="Sign up">
                <FormErrors error fields=FIELDS />
                <Field
                    label="Email"
                    name="email"
                    kind="email"
                    autocomplete="email"
                    value=invited
                    error=field_error(error, "email")
                />
                <Field
                    label="Password"
                    name="password"
                    kind="password"
                    autocomplete="new-password"
                    minlength=8
                    error=field_error(error, "password")
                />
                <p class="hint">"At least 8 characters, and not a commonly used password."</p>
                <button type="submit" disabled=move || action.pending().get()>"Sign up"</button>
            </ActionForm>
            <p class="muted">"Already have an account? " <a href="/auth/signin">"Sign in"</a></p>
        </section>
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    expect_context::<Account>().track(action);
    let notice = query("notice");
    let error: Signal<Option<AppError>> =
        Signal::derive(move || action.value().get().and_then(Result::err));
    let asks_for_code = Signal::derive(move || {
        error
            .get()
            .is_some_and(|e| e.field_message("code").is_some())
    });
    view! {
        <Title text="Sign in" />
        <Meta name="description" content="Sign in to Ticketing to buy tickets, sell yours and see your orders." />
        <section class="card narrow">
            <h1>"Sign in"</h1>
            {move || (notice.get().as_deref() == Some("password-reset")).then(|| view! {
                <p class="notice" role="status">"Your password is changed. Sign in with the new one."</p>
            })}
            <ActionForm action=action attr:class="form" attr:aria-label="Sign in">
                <FormErrors error fields=FIELDS />
                <Field label="Email" name="email" kind="email" autocomplete="email" error=field_error(error, "email") />
                <Field
                    label="Password"
                    name="password"
                    kind="password"
                    autocomplete="current-password"
                    error=field_error(error, "password")
                />
                // Asked for once the account turns out to have two-factor sign-in on.
                {move || asks_for_code.get().then(|| view! {
                    <Field
                        label="Two-factor code"
                        name="code"
                        autocomplete="one-time-code"
                        inputmode="numeric"
                        error=field_error(error, "code")
                    />
                    <p class="hint">"The 6-digit code from your authenticator app, or one of your recovery codes."</p>
                })}
                <button type="submit" disabled=move || action.pending().get()>"Sign in"</button>
            </ActionForm>
            <p class="muted"><a href="/auth/forgot">"Forgot password?"</a></p>
            <p class="muted">"New here? " <a href="/auth/signup">"Create an account"</a></p>
        </section>
    }
}

/// Where a verification link leads: a button confirms (mail scanners that open links must not
/// use them up), then the page says it is done.
#[component]
pub fn VerifyPage() -> impl IntoView {
    let action = ServerAction::<VerifyEmail>::new();
    expect_context::<Account>().track(action);
    let error: Signal<Option<AppError>> =
        Signal::derive(move || action.value().get().and_then(Result::err));
    let token = query("token");
    let done = Signal::derive(move || {
        query("done").get().is_some() || matches!(action.value().get(), Some(Ok(())))
    });
    view! {
        <Title text="Confirm your email address" />
        <Meta name="description" content="Confirm the email address of your Ticketing account." />
        <section class="card narrow">
            <h1>"Confirm your email address"</h1>
            {move || if done.get() {
                view! {
                    <p class="notice" role="status">"Thank you: your email address is confirmed."</p>
                    <p><a href="/">"Browse tickets"</a></p>
                }.into_any()
            } else {
                view! {
                    <ActionForm action=action attr:class="form" attr:aria-label="Confirm email address">
                        <FormErrors error fields=&[] />
                        <input type="hidden" name="token" value=move || token.get().unwrap_or_default() />
                        <p>"Press the button to confirm that this address is yours."</p>
                        <button type="submit" disabled=move || action.pending().get()>"Confirm my address"</button>
                    </ActionForm>
                }.into_any()
            }}
        </section>
    }
}

/// "Forgot password?": asks for the address and says the same thing whether it has an account.
#[component]
pub fn ForgotPage() -> impl IntoView {
    let action = ServerAction::<RequestPasswordReset>::new();
    let error: Signal<Option<AppError>> =
        Signal::derive(move || action.value().get().and_then(Result::err));
    let sent = Signal::derive(move || {
        query("sent").get().is_some() || matches!(action.value().get(), Some(Ok(())))
    });
    view! {
        <Title text="Forgot password" />
        <Meta name="description" content="Get a link to reset the password of your Ticketing account." />
        <section class="card narrow">
            <h1>"Forgot your password?"</h1>
            {move || sent.get().then(|| view! {
                <p class="notice" role="status">
                    "If an account uses that address, we have sent it a link to choose a new "
                    "password. The link works for 30 minutes."
                </p>
            })}
            <ActionForm action=action attr:class="form" attr:aria-label="Reset password">
                <FormErrors error fields=&["email"] />
                <Field label="Email" name="email" kind="email" autocomplete="email" error=field_error(error, "email") />
                <button type="submit" disabled=move || action.pending().get()>"Send me a link"</button>
            </ActionForm>
            <p class="muted"><a href="/auth/signin">"Back to sign in"</a></p>
        </section>
    }
}

/// Where a reset link leads: choose a new password.
#[component]
pub fn ResetPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let error: Signal<Option<AppError>> =
        Signal::derive(move || action.value().get().and_then(Result::err));
    let token = query("token");
    let done = Signal::derive(move || matches!(action.value().get(), Some(Ok(()))));
    view! {
        <Title text="Choose a new password" />
        <Meta name="description" content="Choose a new password for your Ticketing account." />
        <section class="card narrow">
            <h1>"Choose a new password"</h1>
            {move || if done.get() {
                view! {
                    <p class="notice" role="status">"Your password is changed. "
                        <a href="/auth/signin">"Sign in"</a></p>
                }.into_any()
            } else {
                view! {
                    <ActionForm action=action attr:class="form" attr:aria-label="Choose a new password">
                        <FormErrors error fields=&["password", "token"] />
                        {move || error.get().and_then(|e| e.field_message("token")).map(|message| view! {
                            <p class="form-errors" role="alert">{message}" — "
                                <a href="/auth/forgot">"ask for a new link"</a></p>
                        })}
                        <input type="hidden" name="token" value=move || token.get().unwrap_or_default() />
                        <Field
                            label="New password"
                            name="password"
                            kind="password"
                            autocomplete="new-password"
                            minlength=8
                            error=field_error(error, "password")
                        />
                        <p class="hint">"At least 8 characters, and not a commonly used password. "
                            "Every device signed in to your account will be signed out."</p>
                        <button type="submit" disabled=move || action.pending().get()>"Set password"</button>
                    </ActionForm>
                }.into_any()
            }}
        </section>
    }
}
