//! `/`: upcoming events as cards, with search, category, day filters and pages; and
//! `/events/:slug`: one event with its sections to buy from and its resale listings. The filter
//! form is a plain GET form and Buy a plain POST, so both work without JavaScript.

use super::Account;
use super::form::LoadError;
use crate::domain::Category;
use crate::domain::browse::urlencode;
use crate::error::AppError;
use crate::server_fns::{
    CatalogueView, EventCardView, EventPageView, ResaleGroupView, ReserveSeat, ReserveSeats,
    SectionView, catalogue_events, event_page,
};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

/// What the home page is asked for, each parameter as given.
#[derive(Debug, Clone, Default, PartialEq)]
struct Filters {
    q: Option<String>,
    category: Option<String>,
    when: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<String>,
}

impl Filters {
    /// The address of page `page` with the same filters (empty ones left out).
    fn href(&self, page: i64) -> String {
        let mut pairs = Vec::new();
        for (key, value) in [
            ("q", &self.q),
            ("category", &self.category),
            ("when", &self.when),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
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

const WHEN_CHOICES: [(&str, &str); 4] = [
    ("", "Any day"),
    ("today", "Today"),
    ("weekend", "This weekend"),
    ("month", "This month"),
];

#[component]
pub fn CataloguePage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        let query = query.read();
        Filters {
            q: query.get("q"),
            category: query.get("category"),
            when: query.get("when"),
            from: query.get("from"),
            to: query.get("to"),
            page: query.get("page"),
        }
    });
    let found = Resource::new(
        move || filters.get(),
        |f| catalogue_events(f.q, f.category, f.when, f.from, f.to, f.page),
    );
    let value_of = move |pick: fn(&Filters) -> &Option<String>| {
        move || pick(&filters.read()).clone().unwrap_or_default()
    };

    view! {
        <Title text="" />
        <Meta name="description" content="Tickets for sports, concerts, theater and other live events: find an event, choose your seats, and pay within 15 minutes." />
        <section class="browse">
            <div class="browse-head">
                <h1>"Upcoming events"</h1>
                <a href="/tickets" class="button secondary">"Other listings"</a>
            </div>
            <Form method="GET" action="/" attr:class="filters" attr:role="search">
                <input
                    type="search"
                    name="q"
                    aria-label="Search by event, venue or city"
                    placeholder="Search events, venues, cities"
                    prop:value=value_of(|f| &f.q)
                    value=value_of(|f| &f.q)
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
                <select name="when" aria-label="When">
                    {WHEN_CHOICES
                        .into_iter()
                        .map(|(value, label)| view! {
                            <option value=value selected=move || filters.read().when.as_deref().unwrap_or_default() == value>{label}</option>
                        })
                        .collect_view()}
                </select>
                <label class="inline-label">
                    "From "
                    <input type="date" name="from" prop:value=value_of(|f| &f.from) value=value_of(|f| &f.from) />
                </label>
                <label class="inline-label">
                    "To "
                    <input type="date" name="to" prop:value=value_of(|f| &f.to) value=value_of(|f| &f.to) />
                </label>
                <button type="submit">"Search"</button>
            </Form>
            <Transition fallback=|| view! { <p class="muted">"Loading events…"</p> }>
                {move || Suspend::new(async move {
                    match found.await {
                        Ok(page) => view! { <Cards page filters=filters.get_untracked() /> }.into_any(),
                        Err(error) => view! { <LoadError error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Cards(page: CatalogueView, filters: Filters) -> impl IntoView {
    if page.events.is_empty() {
        return view! {
            <p class="empty" data-testid="no-events">
                {if page.page > 1 { "No more events." } else { "No upcoming events match. Try other words or another day." }}
            </p>
        }
        .into_any();
    }
    let previous = (page.page > 1).then(|| filters.href(page.page - 1));
    let next = page.has_next.then(|| filters.href(page.page + 1));
    view! {
        <ul class="ticket-grid event-grid">
            {page.events.into_iter().map(|event| view! { <li><EventCard event /></li> }).collect_view()}
        </ul>
        <nav class="pagination" aria-label="Pages">
            {previous.map(|href| view! { <a href=href rel="prev">"← Previous"</a> })}
            {next.map(|href| view! { <a href=href rel="next">"Next →"</a> })}
        </nav>
    }
    .into_any()
}

/// An event's picture, or a plain placeholder of the same size when it has none.
#[component]
fn EventImage(url: Option<String>, class: &'static str) -> impl IntoView {
    match url {
        Some(url) => {
            view! { <img class=class src=url alt="" loading="lazy" decoding="async" /> }.into_any()
        }
        None => {
            view! { <div class=format!("{class} placeholder") aria-hidden="true"></div> }.into_any()
        }
    }
}

#[component]
fn EventCard(event: EventCardView) -> impl IntoView {
    let href = format!("/events/{}", event.slug);
    let price = match (&event.from_price, &event.resale_from) {
        (Some(from), _) => view! { <p class="price">{format!("from {from}")}</p> }.into_any(),
        (None, Some(resale)) => view! {
            <p class="price"><span class="sold-out">"Sold out"</span>" · "{format!("Resale from {resale}")}</p>
        }
        .into_any(),
        (None, None) => view! { <p class="price"><span class="sold-out">"Sold out"</span></p> }.into_any(),
    };
    view! {
        <article class="ticket-card event-card" data-category=event.category.clone() data-event-id=event.id.clone()>
            <EventImage url=event.image_url.clone() class="card-image" />
            <span class="badge">{event.category_label}</span>
            <h2><a href=href>{event.name}</a></h2>
            <p class="meta"><time datetime=event.starts_at_rfc3339>{event.starts_at}</time></p>
            <p class="meta">{venue_and_city(&event.venue, &event.city)}</p>
            {price}
        </article>
    }
}

fn venue_and_city(venue: &str, city: &str) -> String {
    if city.is_empty() {
        venue.to_string()
    } else {
        format!("{venue}, {city}")
    }
}

#[component]
pub fn EventPage() -> impl IntoView {
    let params = use_params_map();
    let slug = Memo::new(move |_| params.read().get("slug").unwrap_or_default());
    let reserve = ServerAction::<ReserveSeat>::new();
    let choose = ServerAction::<ReserveSeats>::new();
    let actions = BuyActions { reserve, choose };
    // A refused reservation (sold out, a new price) shows the sections as they are now.
    let event = Resource::new(
        move || (slug.get(), reserve.version().get(), choose.version().get()),
        |(slug, _, _)| event_page(slug),
    );
    view! {
        <super::browse::LiveUpdates />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match event.await {
                    Ok(event) => view! { <EventDetails event actions /> }.into_any(),
                    Err(AppError::NotFound) => view! { <super::not_found::NotFound /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The event page's two ways to buy: best available by quantity, and chosen tickets (seats
/// ticked on a seat map, or a group of resale listings).
#[derive(Clone, Copy)]
struct BuyActions {
    reserve: ServerAction<ReserveSeat>,
    choose: ServerAction<ReserveSeats>,
}

impl BuyActions {
    fn pending(self) -> bool {
        self.reserve.pending().get() || self.choose.pending().get()
    }
}

#[component]
fn EventDetails(event: EventPageView, actions: BuyActions) -> impl IntoView {
    let BuyActions { reserve, choose } = actions;
    let card = event.card.clone();
    let description_text = event
        .description
        .first()
        .map(|lines| lines.join(" "))
        .unwrap_or_default();
    let summary = format!(
        "{} — {}, {}",
        card.starts_at,
        venue_and_city(&card.venue, &card.city),
        if description_text.is_empty() {
            "tickets on Ticketing.".to_string()
        } else {
            description_text.chars().take(200).collect()
        }
    );
    let error: Signal<Option<AppError>> = Signal::derive(move || {
        reserve
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| choose.value().get().and_then(Result::err))
    });
    let status_note = if let Some(reason) = event.cancel_reason.clone() {
        Some(view! { <p class="notice cancelled" data-testid="event-cancelled">{format!("Cancelled: {reason}")}</p> }.into_any())
    } else if event.card.status == "draft" {
        Some(view! { <p class="notice" data-testid="event-draft">"A draft: only you and admins can see it until it is published."</p> }.into_any())
    } else if event.is_past {
        Some(
            view! { <p class="notice" data-testid="event-past">"This event is over."</p> }
                .into_any(),
        )
    } else {
        None
    };
    view! {
        <Title text=card.name.clone() />
        <Meta name="description" content=summary.clone() />
        <Meta property="og:type" content="website" />
        <Meta property="og:title" content=card.name.clone() />
        <Meta property="og:description" content=summary />
        <Meta property="og:url" content=event.url.clone() />
        {event.image_absolute.clone().map(|image| view! { <Meta property="og:image" content=image /> })}
        <script type="application/ld+json" inner_html=event.json_ld.clone()></script>
        <article class="event-page" data-event-id=card.id.clone()>
            <EventImage url=event.image_large.clone() class="hero-image" />
            <p><span class="badge">{card.category_label.clone()}</span></p>
            <h1>{card.name.clone()}</h1>
            <dl class="facts">
                <dt>"When"</dt>
                <dd data-testid="event-when">
                    <time datetime=card.starts_at_rfc3339.clone()>{card.starts_at.clone()}</time>
                    {event.ends_at.clone().map(|end| format!(" until {end}"))}
                    <span class="muted">{format!(" · {} time", event.time_zone.replace('_', " "))}</span>
                </dd>
                <dt>"Where"</dt>
                <dd data-testid="event-where">{venue_and_city(&card.venue, &card.city)}</dd>
            </dl>
            {status_note}
            {(event.runs_it).then(|| view! {
                <p><a href=format!("/organise/{}", card.id) class="button secondary">"Manage this event"</a></p>
            })}
            <div class="description">
                {event.description.iter().map(|lines| view! {
                    <p>{lines.iter().enumerate().map(|(i, line)| view! {
                        {(i > 0).then(|| view! { <br /> })}
                        {line.clone()}
                    }).collect_view()}</p>
                }).collect_view()}
            </div>
        </article>
        <section class="card sections" aria-labelledby="sections-heading">
            <h2 id="sections-heading">"Tickets"</h2>
            {move || error.get().map(|err| view! { <div class="form-errors" role="alert"><p>{err.to_string()}</p></div> })}
            {if event.sections.is_empty() {
                view! { <p class="muted">"No tickets yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="section-list">
                        {event.sections.iter().cloned().map(|section| view! { <li><SectionRow section actions /></li> }).collect_view()}
                    </ul>
                    <p class="muted">"Buy and your seats are held for 15 minutes while you pay; nobody else can take them meanwhile."</p>
                }
                .into_any()
            }}
        </section>
        <section class="card resale" aria-labelledby="resale-heading">
            <h2 id="resale-heading">"Resale"</h2>
            {if event.resale_groups.is_empty() {
                view! { <p class="muted" data-testid="no-resale">"No resale tickets on sale."</p> }.into_any()
            } else {
                let more = event.resale_total - event.resale.len() as i64;
                view! {
                    <ul class="resale-list" data-testid="resale-list">
                        {event.resale_groups.iter().cloned().map(|group| view! { <li><ResaleGroup group choose /></li> }).collect_view()}
                    </ul>
                    {(more > 0).then(|| view! { <p class="muted">{format!("and {more} more")}</p> })}
                }
                .into_any()
            }}
        </section>
    }
}

/// One seller's resale listings of one section at one price: bought together, or one by one
/// from its page.
#[component]
fn ResaleGroup(group: ResaleGroupView, choose: ServerAction<ReserveSeats>) -> impl IntoView {
    let user = expect_context::<Account>().user;
    let count = group.ticket_ids.len();
    let each = format!(
        "{}{}{}",
        group.price,
        group
            .fee
            .as_ref()
            .map(|fee| format!(" + {fee} fee"))
            .unwrap_or_default(),
        if count > 1 { " each" } else { "" }
    );
    view! {
        <div class="resale-group">
            <a href=format!("/tickets/{}", group.first_id)>{group.label.clone()}</a>
            <span class="price">{each}</span>
            {(count > 1).then(|| view! {
                <Transition fallback=|| ()>
                    {
                        let group = group.clone();
                        move || {
                            let group = group.clone();
                            Suspend::new(async move {
                                matches!(user.await, Ok(Some(_))).then(|| view! {
                                    <ActionForm action=choose attr:class="inline">
                                        <input type="hidden" name="ticket_ids[]" value="" />
                                        {group.ticket_ids.iter().map(|id| view! {
                                            <input type="hidden" name="ticket_ids[]" value=id.clone() />
                                        }).collect_view()}
                                        <input type="hidden" name="price" value=group.price_input.clone() />
                                        <button type="submit" class="secondary" disabled=move || choose.pending().get()>
                                            {format!("Buy all {count}")}
                                            <span class="visually-hidden">{format!(" ({})", group.label)}</span>
                                        </button>
                                    </ActionForm>
                                })
                            })
                        }
                    }
                </Transition>
            })}
        </div>
    }
}

#[component]
fn SectionRow(section: SectionView, actions: BuyActions) -> impl IntoView {
    let BuyActions { reserve, .. } = actions;
    let user = expect_context::<Account>().user;
    let availability = section.availability();
    let on_sale = section.available > 0;
    let price = format!(
        "{}{}{}",
        section.price,
        section
            .fee
            .as_ref()
            .map(|fee| format!(" + {fee} fee"))
            .unwrap_or_default(),
        if section.seated { " · seated" } else { "" }
    );
    let (id, name) = (section.id.clone(), section.name.clone());
    let map = section.seat_map.clone();
    let map_section = section.clone();
    view! {
        <div class="section-row" data-section-id=id>
            <div>
                <h3>{name}</h3>
                <p class="muted">{price}</p>
            </div>
            // Always there (empty from 50 seats up), so the live updates have a place to write.
            <p class="availability" data-testid="availability">{availability.unwrap_or_default()}</p>
            {on_sale.then(|| view! {
                <Transition fallback=|| ()>
                    {
                        let section = section.clone();
                        move || {
                            let section = section.clone();
                            Suspend::new(async move {
                                match user.await {
                                    Ok(Some(_)) if section.max_quantity == 0 => view! {
                                        <p class="muted">"You hold as many tickets for this event as one buyer may."</p>
                                    }
                                    .into_any(),
                                    Ok(Some(_)) => view! {
                                        <ActionForm action=reserve attr:class="inline section-buy">
                                            <input type="hidden" name="section_id" value=section.id.clone() />
                                            <input type="hidden" name="price" value=section.price_input.clone() />
                                            <QuantityChoice section=section.clone() />
                                            // The section's name is said to screen readers after what
                                            // the button shows, so its spoken name starts as it reads.
                                            <button type="submit" disabled=move || actions.pending()>
                                                {format!("Buy — {}", section.total)}
                                                <span class="visually-hidden">{format!(" ({})", section.name)}</span>
                                            </button>
                                        </ActionForm>
                                    }
                                    .into_any(),
                                    _ => view! { <a href="/auth/signin" class="button">"Sign in to buy"</a> }.into_any(),
                                }
                            })
                        }
                    }
                </Transition>
            })}
        </div>
        {map.filter(|_| on_sale).map(|rows| view! { <SeatMap section=map_section rows actions /> })}
    }
}

/// How many best-available tickets: from 1 to the most the buyer may take now.
#[component]
fn QuantityChoice(section: SectionView) -> impl IntoView {
    let id = format!("quantity-{}", section.id);
    if section.max_quantity <= 1 {
        return view! { <input type="hidden" name="quantity" value="1" /> }.into_any();
    }
    view! {
        <label for=id.clone() class="quantity">
            "Tickets"
            <span class="visually-hidden">{format!(" in {}", section.name)}</span>
        </label>
        <select id=id name="quantity">
            {(1..=section.max_quantity).map(|n| view! { <option value=n.to_string()>{n.to_string()}</option> }).collect_view()}
        </select>
    }
    .into_any()
}

/// A seated section's seat map: a checkbox per seat, row by row (taken seats cannot be ticked),
/// and one Buy for the seats ticked. A plain form: it works without JavaScript.
#[component]
fn SeatMap(
    section: SectionView,
    rows: Vec<crate::server_fns::SeatRowView>,
    actions: BuyActions,
) -> impl IntoView {
    let BuyActions { choose, .. } = actions;
    let user = expect_context::<Account>().user;
    let heading = format!("Choose your seats in {}", section.name);
    view! {
        <details class="seat-map" data-testid="seat-map">
            <summary>{heading.clone()}</summary>
            <Transition fallback=|| ()>
                {
                    let (rows, section, heading) = (rows.clone(), section.clone(), heading.clone());
                    move || {
                        let (rows, section, heading) = (rows.clone(), section.clone(), heading.clone());
                        Suspend::new(async move {
                            let signed_in = matches!(user.await, Ok(Some(_)));
                            // With JavaScript the map counts the seats ticked and, at the buyer's
                            // limit, stops more being ticked; without it the order says so.
                            let chosen = RwSignal::new(0usize);
                            let max = section.max_quantity as usize;
                            view! {
                                <ActionForm action=choose attr:class="seat-form" attr:aria-label=heading.clone()>
                                    <input type="hidden" name="ticket_ids[]" value="" />
                                    <input type="hidden" name="price" value=section.price_input.clone() />
                                    <p class="muted">{format!("{} each; up to {} seats.", section.total, section.max_quantity)}</p>
                                    <p class="seat-count" role="status" data-testid="seats-chosen">{move || match chosen.get() {
                                        0 => String::new(),
                                        1 => format!("1 seat chosen of up to {max}"),
                                        n => format!("{n} seats chosen of up to {max}"),
                                    }}</p>
                                    {rows.into_iter().map(|row| {
                                        let legend = format!("Row {}", row.label);
                                        view! {
                                            <fieldset class="seat-row">
                                                <legend>{legend.clone()}</legend>
                                                {row.seats.into_iter().map(|seat| {
                                                    let name = crate::domain::event::seat_label(&row.label, seat.number);
                                                    let state = if seat.free { "" } else { " (taken)" };
                                                    let free = seat.free && signed_in;
                                                    let ticked = RwSignal::new(false);
                                                    view! {
                                                        <label class="seat" class:taken=!seat.free>
                                                            <input
                                                                type="checkbox"
                                                                name="ticket_ids[]"
                                                                value=seat.id
                                                                disabled=move || !free || (chosen.get() >= max && !ticked.get())
                                                                on:change=move |ev| {
                                                                    let on = event_target_checked(&ev);
                                                                    ticked.set(on);
                                                                    chosen.update(|n| *n = if on { *n + 1 } else { n.saturating_sub(1) });
                                                                }
                                                            />
                                                            <span aria-hidden="true">{seat.number.to_string()}</span>
                                                            <span class="visually-hidden">{format!("{name}{state}")}</span>
                                                        </label>
                                                    }
                                                }).collect_view()}
                                            </fieldset>
                                        }
                                    }).collect_view()}
                                    {if signed_in {
                                        view! {
                                            <button type="submit" disabled=move || actions.pending()>
                                                "Buy the seats I chose"
                                                <span class="visually-hidden">{format!(" ({})", section.name)}</span>
                                            </button>
                                        }
                                        .into_any()
                                    } else {
                                        view! { <a href="/auth/signin" class="button">"Sign in to buy"</a> }.into_any()
                                    }}
                                </ActionForm>
                            }
                        })
                    }
                }
            </Transition>
        </details>
    }
}
