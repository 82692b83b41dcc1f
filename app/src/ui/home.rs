//! `/`: the front page.

use super::Account;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> impl IntoView {
    let user = expect_context::<Account>().user;
    view! {
        <Title text="" />
        <section class="hero">
            <h1>"Tickets for live events, from people who can't go"</h1>
            <p>"Sports, concerts, theater and more. Reserve a ticket and you have 15 minutes to pay — nobody else can buy it meanwhile."</p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(current)) => view! { <p class="welcome">"Welcome back, " {current.email} "."</p> }.into_any(),
                        _ => view! {
                            <p><a href="/auth/signup" class="button">"Create an account"</a></p>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
