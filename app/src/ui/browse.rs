//! `/tickets`: other listings (tickets for events not on this site), with search, category
//! filter, sort and pages. The filter form is a
//! plain GET form, so every view has its own shareable URL, with or without JavaScript.

use super::Account;
use super::form::LoadError;
use crate::domain::{BrowseQuery, Category};
use crate::server_fns::{TicketPageView, TicketView, browse_tickets};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

#[component]
pub fn BrowsePage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        let query = query.read();
        BrowseQuery {
            q: query.get("q"),
            category: query.get("category"),
            sort: query.get("sort"),
            page: query.get("page"),
            event_id: None,
        }
    });
    let listing = Resource::new(
        move || filters.get(),
        |f| browse_tickets(f.q, f.category, f.sort, f.page),
    );
    let user = expect_context::<Account>().user;

    view! {
        <Title text="Other listings" />
        <Meta name="description" content="Tickets people sell for events not on sale here: sports, concerts, theater and more. Reserve a ticket and you have 15 minutes to pay." />
        <section class="browse">
            <div class="browse-head">
                <h1>"Other listings"</h1>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match user.await {
                            Ok(Some(_)) => view! { <a href="/tickets/new" class="button">"Sell a ticket"</a> }.into_any(),
                            _ => view! { <a href="/auth/signup" class="button secondary">"Sign up to sell"</a> }.into_any(),
                        }
                    })}
                </Transition>
            </div>
            <Form method="GET" action="/tickets" attr:class="filters" attr:role="search">
                <input
                    type="search"
                    name="q"
                    aria-label="Search by title"
                    placeholder="Search events"
                    prop:value=move || filters.read().q.clone().unwrap_or_default()
                    value=move || filters.read().q.clone().unwrap_or_default()
                />
                <select name="category" aria-label="Category">
                    <option value="" selected=move || filters.read().category.as_deref().unwrap_or_default().is_empty()>"All categories"</option>
                    {Category::ALL
                        .into_iter()
                        .map(|c| view! {
                            <option value=c.as_str() selected=move || filters.read().category.as_deref() == Some(c.as_str())>{c.label()}</option>
                        })
                        .collect_view()}
                </select>
                <select name="sort" aria-label="Sort by">
                    <option value="new" selected=move || matches!(filters.read().sort.as_deref(), None | Some("" | "new"))>"Newest"</option>
                    <option value="date" selected=move || filters.read().sort.as_deref() == Some("date")>"Event date"</option>
                    <option value="price" selected=move || filters.read().sort.as_deref() == Some("price")>"Lowest price"</option>
                </select>
                <button type="submit">"Search"</button>
            </Form>
            <LiveUpdates />
            <Transition fallback=|| view! { <p class="muted">"Loading tickets…"</p> }>
                {move || Suspend::new(async move {
                    match listing.await {
                        Ok(page) => view! { <Listing page filters=filters.get_untracked() /> }.into_any(),
                        Err(error) => view! { <LoadError error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The live-update script (`/pkg/live.js`, JavaScript only) and the polite live region it
/// announces changes in; the page renders the region empty and never touches it again.
#[component]
pub fn LiveUpdates() -> impl IntoView {
    view! {
        <div class="live-slot" role="status" aria-live="polite"></div>
        <script type="module" src="/pkg/live.js" nonce=leptos::nonce::use_nonce()></script>
    }
}

#[component]
fn Listing(page: TicketPageView, filters: BrowseQuery) -> impl IntoView {
    if page.tickets.is_empty() {
        return view! {
            <p class="empty">"No tickets match. Try other words or another category."</p>
        }
        .into_any();
    }
    let previous = (page.page > 1).then(|| filters.href(page.page - 1));
    let next = page.has_next.then(|| filters.href(page.page + 1));
    let summary = match page.total_pages {
        Some(pages) => format!(
            "{} ticket{} · page {} of {}",
            page.total,
            if page.total == 1 { "" } else { "s" },
            page.page,
            pages
        ),
        None => format!(
            "More than {} tickets · page {}",
            crate::domain::format_count(page.total),
            page.page
        ),
    };
    view! {
        <p class="muted" data-testid="listing-summary">{summary}</p>
        <ul class="ticket-grid">
            {page.tickets.into_iter().map(|ticket| view! { <li><TicketCard ticket /></li> }).collect_view()}
        </ul>
        <nav class="pagination" aria-label="Pages">
            {previous.map(|href| view! { <a href=href rel="prev">"← Previous"</a> })}
            {next.map(|href| view! { <a href=href rel="next">"Next →"</a> })}
        </nav>
    }
    .into_any()
}

#[component]
pub fn TicketCard(ticket: TicketView) -> impl IntoView {
    let href = format!("/tickets/{}", ticket.id);
    view! {
        <article class="ticket-card" data-category=ticket.category.clone() data-ticket-id=ticket.id.clone()>
            <span class="badge">{ticket.category_label}</span>
            <h2><a href=href>{ticket.title}</a></h2>
            <p class="meta">
                {match (ticket.starts_at, ticket.starts_at_rfc3339) {
                    (Some(shown), Some(at)) => view! { <time datetime=at>{shown}</time> }.into_any(),
                    _ => "Date to be announced".into_any(),
                }}
            </p>
            {ticket.venue.map(|venue| view! { <p class="meta">{venue}</p> })}
            <p class="price">{ticket.price}</p>
        </article>
    }
}
