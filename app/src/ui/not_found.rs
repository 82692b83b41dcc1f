//! The friendly 404 page, also answered with HTTP status 404.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <Meta name="description" content="There is nothing at this address on Ticketing." />
        <section class="card narrow">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. It may have been sold out of existence."</p>
            <p><a href="/">"Back to the tickets"</a></p>
        </section>
    }
}
