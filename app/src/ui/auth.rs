//! `/auth/signup` and `/auth/signin`.

use super::Account;
use super::form::{Field, FormErrors, field_error};
use crate::error::AppError;
use crate::server_fns::{SignIn, SignUp};
use leptos::prelude::*;
use leptos_meta::Title;

const FIELDS: &[&str] = &["email", "password"];

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    expect_context::<Account>().track(action);
    let error: Signal<Option<AppError>> =
        Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Title text="Sign up" />
        <section class="card narrow">
            <h1>"Create your account"</h1>
            <p class="muted">"Sell tickets you can't use, buy tickets you want."</p>
            <ActionForm action=action attr:class="form" attr:aria-label="Sign up">
                <FormErrors error fields=FIELDS />
                <Field label="Email" name="email" kind="email" autocomplete="email" error=field_error(error, "email") />
                <Field
                    label="Password"
                    name="password"
                    kind="password"
                    autocomplete="new-password"
                    minlength=8
                    error=field_error(error, "password")
                />
                <p class="hint">"At least 8 characters."</p>
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
    let error: Signal<Option<AppError>> =
        Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Title text="Sign in" />
        <section class="card narrow">
            <h1>"Sign in"</h1>
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
                <button type="submit" disabled=move || action.pending().get()>"Sign in"</button>
            </ActionForm>
            <p class="muted">"New here? " <a href="/auth/signup">"Create an account"</a></p>
        </section>
    }
}
