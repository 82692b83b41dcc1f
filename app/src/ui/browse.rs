//! `/`: the tickets on sale, with search, category filter, sort and pages. The filter form is a
//! plain GET form, so every view has its own shareable URL, with or without JavaScript.

use super::Account;
use super::form::LoadError;
use crate::domain::Category;
use crate::server_fns::{TicketPageView, TicketView, browse_tickets};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

#[derive(Debug, Clone, PartialEq, Default)]
struct Filters {
    q: String,
    category: String,
    sort: String,
    page: Option<String>,
}

impl Filters {
    /// The URL of page `page` with the same search, filter and sort.
    fn href(&self, page: i64) -> String {
        let mut pairs = Vec::new();
        for (key, value) in [
            ("q", &self.q),
            ("category", &self.category),
            ("sort", &self.sort),
        ] {
            if !value.is_empty() {
                pairs.push(format!("{key}={}", urlencode(value)));
            }
        }
        if page > 1 {
            pairs.push(format!("page={page}"));
        }
        if pairs.is_empty() {
            "/".to_string()
        } else {
            format!("/?{}", pairs.join("&"))
        }
    }
}

pub(super) fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[component]
pub fn BrowsePage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        let query = query.read();
        Filters {
            q: query.get("q").unwrap_or_default(),
            category: query.get("category").unwrap_or_default(),
            sort: query.get("sort").unwrap_or_default(),
            page: query.get("page"),
        }
    });
    let listing = Resource::new(
        move || filters.get(),
        |f| browse_tickets(Some(f.q), Some(f.category), Some(f.sort), f.page),
    );
    let user = expect_context::<Account>().user;

    view! {
        <Title text="" />
        <Meta name="description" content="Buy and sell tickets for sports, concerts, theater and other live events. Reserve a ticket and you have 15 minutes to pay." />
        <section class="browse">
            <div class="browse-head">
                <h1>"Tickets on sale"</h1>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match user.await {
                            Ok(Some(_)) => view! { <a href="/tickets/new" class="button">"Sell a ticket"</a> }.into_any(),
                            _ => view! { <a href="/auth/signup" class="button secondary">"Sign up to sell"</a> }.into_any(),
                        }
                    })}
                </Transition>
            </div>
            <Form method="GET" action="/" attr:class="filters" attr:role="search">
                <input
                    type="search"
                    name="q"
                    aria-label="Search by title"
                    placeholder="Search events"
                    prop:value=move || filters.read().q.clone()
                    value=move || filters.read().q.clone()
                />
                <select name="category" aria-label="Category">
                    <option value="" selected=move || filters.read().category.is_empty()>"All categories"</option>
                    {Category::ALL
                        .into_iter()
                        .map(|c| view! {
                            <option value=c.as_str() selected=move || filters.read().category == c.as_str()>{c.label()}</option>
                        })
                        .collect_view()}
                </select>
                <select name="sort" aria-label="Sort by">
                    <option value="new" selected=move || matches!(filters.read().sort.as_str(), "" | "new")>"Newest"</option>
                    <option value="date" selected=move || filters.read().sort == "date">"Event date"</option>
                    <option value="price" selected=move || filters.read().sort == "price">"Lowest price"</option>
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
fn Listing(page: TicketPageView, filters: Filters) -> impl IntoView {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_keep_the_filters() {
        let filters = Filters {
            q: "rock & roll".into(),
            category: "concert".into(),
            sort: String::new(),
            page: None,
        };
        assert_eq!(filters.href(2), "/?q=rock+%26+roll&category=concert&page=2");
        assert_eq!(Filters::default().href(1), "/");
    }
}
