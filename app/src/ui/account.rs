//! `/account`: the address (and whether it is confirmed), the password, and where the user is
//! signed in — every part usable without JavaScript.

use super::form::{Field, FormErrors, LoadError, field_error};
use super::{Account, successes};
use crate::error::AppError;
use crate::server_fns::{
    ChangeEmail, ChangePassword, CurrentUser, EndOtherSessions, EndSession, ResendVerification,
    SessionItem, TwoFactorDisable, TwoFactorEnable, TwoFactorSetup, list_sessions,
    pending_two_factor, take_recovery_codes,
};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

/// What a completed form says at the top of the page (plain forms come back with `?notice=`).
fn notice_text(notice: &str) -> Option<&'static str> {
    Some(match notice {
        "verify-sent" => "We have sent you a new link to confirm your address.",
        "email-sent" => {
            "We have sent a link to the new address. Your account moves there when you follow it."
        }
        "password-changed" => "Your password is changed. Every other device has been signed out.",
        "session-ended" => "That session is signed out.",
        "sessions-ended" => "Every other session is signed out.",
        "2fa-setup" => "Scan the QR code with your authenticator app, then type the code it shows.",
        "2fa-on" => "Two-factor sign-in is on.",
        "2fa-off" => "Two-factor sign-in is off.",
        _ => return None,
    })
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let account = expect_context::<Account>();
    let resend = ServerAction::<ResendVerification>::new();
    let change_email = ServerAction::<ChangeEmail>::new();
    let change_password = ServerAction::<ChangePassword>::new();
    let end_session = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let setup = ServerAction::<TwoFactorSetup>::new();
    let enable = ServerAction::<TwoFactorEnable>::new();
    let disable = ServerAction::<TwoFactorDisable>::new();
    account.track(change_password);
    account.track(enable);
    account.track(disable);
    // Refetched only after a change went through: a wrong code or password leaves the form as
    // it is, with its error, for the person to correct.
    let (set_up, enabled, disabled) = (successes(setup), successes(enable), successes(disable));
    let pending = Resource::new(
        move || (set_up.get(), enabled.get(), disabled.get()),
        |_| pending_two_factor(),
    );
    // Reading the recovery codes removes them from the session, so this resource is made once,
    // here, and not inside the parts that may render more than once.
    let taken = Resource::new(move || enabled.get(), |_| take_recovery_codes());
    let sessions = Resource::new(
        move || {
            (
                end_session.version().get(),
                end_others.version().get(),
                change_password.version().get(),
            )
        },
        |_| list_sessions(),
    );
    let query = use_query_map();
    let notice = Signal::derive(move || {
        let from_query = query.read().get("notice");
        let done = [
            (
                resend.value().get().is_some_and(|r| r.is_ok()),
                "verify-sent",
            ),
            (
                change_email.value().get().is_some_and(|r| r.is_ok()),
                "email-sent",
            ),
            (
                change_password.value().get().is_some_and(|r| r.is_ok()),
                "password-changed",
            ),
            (
                end_session.value().get().is_some_and(|r| r.is_ok()),
                "session-ended",
            ),
            (
                end_others.value().get().is_some_and(|r| r.is_ok()),
                "sessions-ended",
            ),
        ];
        done.iter()
            .find(|(ok, _)| *ok)
            .map(|(_, n)| n.to_string())
            .or(from_query)
            .and_then(|n| notice_text(&n))
    });
    let user = account.user;
    view! {
        <Title text="Your account" />
        <Meta name="description" content="Your Ticketing account: email address, password, two-factor sign-in and signed-in sessions." />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(current)) => view! {
                        <section class="account-page">
                            <h1>"Your account"</h1>
                            {move || notice.get().map(|text| view! { <p class="notice" role="status">{text}</p> })}
                            <EmailSection current=current.clone() resend change_email />
                            <PasswordSection change_password />
                            <TwoFactorSection on=current.two_factor setup enable disable pending taken />
                            <SessionsSection sessions end_session end_others />
                        </section>
                    }
                    .into_any(),
                    Ok(None) | Err(AppError::Unauthenticated) => view! {
                        <section class="card narrow">
                            <h1>"Your account"</h1>
                            <p>"Sign in to manage your address, password and sessions."</p>
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
fn EmailSection(
    current: CurrentUser,
    resend: ServerAction<ResendVerification>,
    change_email: ServerAction<ChangeEmail>,
) -> impl IntoView {
    let resend_error: Signal<Option<AppError>> =
        Signal::derive(move || resend.value().get().and_then(Result::err));
    let error: Signal<Option<AppError>> =
        Signal::derive(move || change_email.value().get().and_then(Result::err));
    view! {
        <section class="card" aria-labelledby="email-heading">
            <h2 id="email-heading">"Email address"</h2>
            <p>
                <span data-testid="account-email">{current.email.clone()}</span>
                {if current.email_verified {
                    view! { <span class="badge badge-ok">"Confirmed"</span> }.into_any()
                } else {
                    view! { <span class="badge badge-warn">"Not confirmed yet"</span> }.into_any()
                }}
            </p>
            {(!current.email_verified).then(|| view! {
                <ActionForm action=resend attr:class="form inline-form" attr:aria-label="Resend confirmation link">
                    <FormErrors error=resend_error fields=&[] />
                    <p>"Follow the link we sent you to confirm it. Payouts need a confirmed address."</p>
                    <button type="submit" disabled=move || resend.pending().get()>"Send the link again"</button>
                </ActionForm>
            })}
            <h3>"Change address"</h3>
            <ActionForm action=change_email attr:class="form" attr:aria-label="Change email address">
                <FormErrors error fields=&["email", "password"] />
                <Field label="New email address" name="email" id="new-email" kind="email" autocomplete="email" error=field_error(error, "email") />
                <Field label="Your password" name="password" id="email-change-password" kind="password" autocomplete="current-password" error=field_error(error, "password") />
                <button type="submit" disabled=move || change_email.pending().get()>"Send a confirmation link"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn PasswordSection(change_password: ServerAction<ChangePassword>) -> impl IntoView {
    let error: Signal<Option<AppError>> =
        Signal::derive(move || change_password.value().get().and_then(Result::err));
    view! {
        <section class="card" aria-labelledby="password-heading">
            <h2 id="password-heading">"Password"</h2>
            <ActionForm action=change_password attr:class="form" attr:aria-label="Change password">
                <FormErrors error fields=&["current_password", "currentPassword", "password"] />
                <Field
                    label="Current password"
                    name="current_password"
                    kind="password"
                    autocomplete="current-password"
                    error=field_error(error, "currentPassword")
                />
                <Field
                    label="New password"
                    name="password"
                    id="new-password"
                    kind="password"
                    autocomplete="new-password"
                    minlength=8
                    error=field_error(error, "password")
                />
                <p class="hint">"Changing it signs out every other device."</p>
                <button type="submit" disabled=move || change_password.pending().get()>"Change password"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn SessionsSection(
    sessions: Resource<Result<Vec<SessionItem>, AppError>>,
    end_session: ServerAction<EndSession>,
    end_others: ServerAction<EndOtherSessions>,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">"Where you are signed in"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) => {
                            let others = list.iter().filter(|s| !s.current).count();
                            view! {
                                <ul class="session-list" data-testid="sessions">
                                    {list.into_iter().map(|s| view! { <SessionRow session=s end_session /> }).collect_view()}
                                </ul>
                                {(others > 0).then(|| view! {
                                    <ActionForm action=end_others attr:class="inline" attr:aria-label="Sign out everywhere else">
                                        <button type="submit">"Sign out everywhere else"</button>
                                    </ActionForm>
                                })}
                            }
                            .into_any()
                        }
                        Err(error) => view! { <LoadError error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn SessionRow(session: SessionItem, end_session: ServerAction<EndSession>) -> impl IntoView {
    let agent = if session.user_agent.is_empty() {
        "Unknown browser".to_string()
    } else {
        session.user_agent.clone()
    };
    view! {
        <li class="session">
            <span class="session-agent">{agent}</span>
            {session.current.then(|| view! { <span class="badge badge-ok">"This device"</span> })}
            <span class="muted">"Signed in " {session.signed_in.clone()} " · last seen " {session.last_seen.clone()}</span>
            {(!session.current).then(|| view! {
                <ActionForm action=end_session attr:class="inline" attr:aria-label="Sign out this session">
                    <input type="hidden" name="id" value=session.id.clone() />
                    <button type="submit" class="link-button">"Sign out"</button>
                </ActionForm>
            })}
        </li>
    }
}

#[component]
fn TwoFactorSection(
    on: bool,
    setup: ServerAction<TwoFactorSetup>,
    enable: ServerAction<TwoFactorEnable>,
    disable: ServerAction<TwoFactorDisable>,
    pending: Resource<Result<Option<crate::server_fns::TwoFactorSetupView>, AppError>>,
    /// Recovery codes are shown once: from the answer (with JavaScript) or from the session
    /// (the page a plain form lands on), which reading empties.
    taken: Resource<Result<Vec<String>, AppError>>,
) -> impl IntoView {
    let setup_error: Signal<Option<AppError>> =
        Signal::derive(move || setup.value().get().and_then(Result::err));
    let enable_error: Signal<Option<AppError>> =
        Signal::derive(move || enable.value().get().and_then(Result::err));
    let disable_error: Signal<Option<AppError>> =
        Signal::derive(move || disable.value().get().and_then(Result::err));
    view! {
        <section class="card" id="two-factor" aria-labelledby="two-factor-heading">
            <h2 id="two-factor-heading">"Two-factor sign-in"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let from_answer = enable.value().get().and_then(Result::ok).unwrap_or_default();
                    let codes = if from_answer.is_empty() {
                        taken.await.unwrap_or_default()
                    } else {
                        from_answer
                    };
                    (!codes.is_empty()).then(|| view! {
                        <div class="recovery-codes" role="status">
                            <p><strong>"Your recovery codes."</strong>" Each signs you in once if you lose your phone. "
                                "Keep them somewhere safe: they are not shown again."</p>
                            <ul data-testid="recovery-codes">
                                {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
                            </ul>
                        </div>
                    })
                })}
            </Transition>
            {if on {
                view! {
                    <p>"On: signing in asks for a code from your authenticator app."</p>
                    <ActionForm action=disable attr:class="form" attr:aria-label="Turn off two-factor sign-in">
                        <FormErrors error=disable_error fields=&["password", "code"] />
                        <Field label="Your password" name="password" id="disable-password" kind="password" autocomplete="current-password" error=field_error(disable_error, "password") />
                        <Field label="Code from the app, or a recovery code" name="code" id="disable-code" autocomplete="one-time-code" error=field_error(disable_error, "code") />
                        <button type="submit" disabled=move || disable.pending().get()>"Turn off two-factor sign-in"</button>
                    </ActionForm>
                }
                .into_any()
            } else {
                view! {
                    <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            match pending.await {
                                Ok(Some(started)) => view! {
                                    <p>"Scan this with your authenticator app (or type the key), then enter the code it shows."</p>
                                    <div class="totp-qr" inner_html=started.qr_svg></div>
                                    <p>"Key: "<code class="totp-secret" data-testid="totp-secret">{started.secret}</code></p>
                                    <ActionForm action=enable attr:class="form" attr:aria-label="Confirm two-factor sign-in">
                                        <FormErrors error=enable_error fields=&["code"] />
                                        <Field label="Code from the app" name="code" id="enable-code" autocomplete="one-time-code" inputmode="numeric" error=field_error(enable_error, "code") />
                                        <button type="submit" disabled=move || enable.pending().get()>"Turn on two-factor sign-in"</button>
                                    </ActionForm>
                                }
                                .into_any(),
                                Ok(None) => view! {
                                    <p>"Off. With it on, signing in also asks for a code from an authenticator app on your phone."</p>
                                    <ActionForm action=setup attr:class="form" attr:aria-label="Set up two-factor sign-in">
                                        <FormErrors error=setup_error fields=&["password"] />
                                        <Field label="Your password" name="password" id="setup-password" kind="password" autocomplete="current-password" error=field_error(setup_error, "password") />
                                        <button type="submit" disabled=move || setup.pending().get()>"Set up two-factor sign-in"</button>
                                    </ActionForm>
                                }
                                .into_any(),
                                Err(error) => view! { <LoadError error /> }.into_any(),
                            }
                        })}
                    </Transition>
                }
                .into_any()
            }}
        </section>
    }
}
