//! Browsing: the listings a buyer can reserve now, searched, filtered, sorted and paged, read
//! through the browse cache ([`crate::ssr::browse_cache`]), and the renderings kept with it.

use crate::domain::{BrowseQuery, ErrorDetail, Id, Ticket};
use crate::error::AppError;
use crate::ssr::Ctx;
use crate::ssr::browse_cache::{Kept, PageVersion};
use crate::ssr::storage::tickets::{self, BrowseFilter, Sort};

/// Counting stops here: "more than 1,000 tickets" is as useful as an exact number, and keeps
/// the cost of every browse page bounded.
pub const COUNT_CAP: i64 = 1000;

/// Listings per page on `/` and `GET /api/tickets`.
pub const PAGE_SIZE: i64 = 24;

/// One page of listings, with what the page needs to offer the next and previous ones.
#[derive(Debug, Clone)]
pub struct TicketPage {
    pub tickets: Vec<Ticket>,
    /// 1-based.
    pub page: i64,
    /// Listings matching, exact up to [`COUNT_CAP`].
    pub total: i64,
    /// False when more than [`COUNT_CAP`] match (then `total` is the cap).
    pub total_exact: bool,
    pub has_next: bool,
    /// Which cached read this page is, and how many of its listings have been reserved since:
    /// two pages with the same version show the same listings. A rendering of the page (its
    /// JSON, its HTML) stays good while [`crate::ssr::browse_cache::BrowseCache::rendering`] still finds it.
    pub version: PageVersion,
}

/// Where a page render notes the browse page it showed (put among the request's extensions by
/// whoever wants to keep the render; the `browse_tickets` server function fills it in).
#[derive(Clone, Default)]
pub struct PageSeen(std::sync::Arc<std::sync::Mutex<Option<(BrowseFilter, PageVersion)>>>);

impl PageSeen {
    pub fn note(&self, filter: BrowseFilter, version: PageVersion) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((filter, version));
    }

    pub fn seen(&self) -> Option<(BrowseFilter, PageVersion)> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl TicketPage {
    /// How many pages there are, when the count is exact.
    pub fn total_pages(&self) -> Option<i64> {
        self.total_exact
            .then(|| ((self.total + PAGE_SIZE - 1) / PAGE_SIZE).max(1))
    }

    /// Whether `other` shows exactly what this page does (whichever read each came from).
    pub(crate) fn same_listings(&self, other: &TicketPage) -> bool {
        self.tickets == other.tickets
            && self.page == other.page
            && self.total == other.total
            && self.total_exact == other.total_exact
            && self.has_next == other.has_next
    }
}

/// Parses the browse query: unknown sorts and categories and bad page numbers are 400s with the
/// offending parameter as the field.
pub fn parse_browse_query(query: &BrowseQuery) -> Result<(BrowseFilter, i64), AppError> {
    let mut errors = Vec::new();
    let category = crate::domain::browse::parse_category_filter(query.category.as_deref())
        .unwrap_or_else(|err| {
            errors.push(err);
            None
        });
    let sort = match query.sort.as_deref().map(str::trim).unwrap_or_default() {
        "" | "new" => Sort::New,
        "date" => Sort::Date,
        "price" => Sort::Price,
        _ => {
            errors.push(ErrorDetail::field(
                "sort",
                "Sort must be one of date, price, new",
            ));
            Sort::New
        }
    };
    let page =
        crate::domain::browse::parse_page(query.page.as_deref(), 100_000).unwrap_or_else(|err| {
            errors.push(err);
            1
        });
    let scope = match query.event_id.as_deref().map(str::trim) {
        None | Some("") => tickets::Scope::All,
        Some(id) => match Id::parse(id) {
            Ok(id) => tickets::Scope::ResaleOf(id),
            Err(_) => {
                errors.push(ErrorDetail::field("eventId", "Invalid id"));
                tickets::Scope::All
            }
        },
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let search = query.q.as_deref().and_then(tickets::search_terms);
    Ok((
        BrowseFilter {
            search,
            category,
            sort,
            scope,
            limit: PAGE_SIZE,
            offset: (page - 1) * PAGE_SIZE,
        },
        page,
    ))
}

/// The listings a buyer can reserve now, searched, filtered, sorted and paged.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display))
)]
pub async fn browse_tickets(ctx: &Ctx, query: &BrowseQuery) -> Result<TicketPage, AppError> {
    let (filter, page) = browse_filter(query)?;
    browse_filtered(ctx, filter, page).await
}

/// What identifies a browse query's page in the cache, and the page number: the parsed query,
/// reading one row more than a page (which tells whether there is a next page).
pub fn browse_filter(query: &BrowseQuery) -> Result<(BrowseFilter, i64), AppError> {
    let (filter, page) = parse_browse_query(query)?;
    Ok((
        BrowseFilter {
            limit: PAGE_SIZE + 1,
            ..filter
        },
        page,
    ))
}

/// A rendering of the page `filter` reads that is still good (see
/// [`crate::ssr::browse_cache::BrowseCache::rendering`]).
pub fn kept_rendering<T: std::any::Any + Send + Sync>(
    ctx: &Ctx,
    filter: &BrowseFilter,
    variant: &str,
) -> Option<std::sync::Arc<T>> {
    ctx.app()
        .browse_cache
        .rendering(filter, variant, ctx.db().write_generation(), ctx.now())
}

/// Keeps a rendering of the page read for `filter` at `version`, holding about `bytes` (see
/// [`crate::ssr::browse_cache::BrowseCache::keep_rendering`]).
pub fn keep_rendering<T: std::any::Any + Send + Sync>(
    ctx: &Ctx,
    filter: &BrowseFilter,
    variant: &str,
    version: PageVersion,
    value: std::sync::Arc<T>,
    bytes: usize,
) {
    let kept = Kept {
        value,
        bytes,
        generation: ctx.db().write_generation(),
        now: ctx.now(),
    };
    ctx.app()
        .browse_cache
        .keep_rendering(filter, variant, version, kept);
}

/// The `/tickets` page's filter for `query`: as [`browse_filter`], narrowed to other listings
/// (listings for events not on this site; an event's resale listings are on its own page).
pub fn other_listings_filter(query: &BrowseQuery) -> Result<(BrowseFilter, i64), AppError> {
    let (filter, page) = browse_filter(query)?;
    Ok((
        BrowseFilter {
            scope: tickets::Scope::OtherListings,
            ..filter
        },
        page,
    ))
}

/// An event's resale listings on sale, cheapest first: the first page of them, and how many
/// there are.
pub async fn event_resale(ctx: &Ctx, event: &Id) -> Result<TicketPage, AppError> {
    let filter = BrowseFilter {
        sort: Sort::Price,
        scope: tickets::Scope::ResaleOf(event.clone()),
        limit: PAGE_SIZE + 1,
        ..BrowseFilter::default()
    };
    browse_filtered(ctx, filter, 1).await
}

/// [`browse_tickets`] for a query already parsed by [`browse_filter`].
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display))
)]
pub async fn browse_filtered(
    ctx: &Ctx,
    filter: BrowseFilter,
    page: i64,
) -> Result<TicketPage, AppError> {
    let (db, cache) = (ctx.db().clone(), ctx.app().browse_cache.clone());
    if let Some(cached) = cache.get(&filter, db.write_generation(), ctx.now()) {
        return Ok(cached);
    }
    let clock = ctx.app().clock.clone();
    // Visitors who miss the same page together wait for one read of it instead of each
    // reading the same rows (at the end of each second, every visitor of a busy page would).
    // The read runs as a task of its own, which always runs to its end and so always gives up
    // its turn: a render whose future stops being polled (a lost wake-up upstream,
    // leptos-rs/leptos#4647) must not hold every later visitor of the page behind it.
    let read = tokio::spawn(async move {
        let turn = cache.read_turn(&filter);
        let read = async {
            let _reading = turn.lock().await;
            let (generation, now) = (db.write_generation(), clock.now());
            if let Some(cached) = cache.get(&filter, generation, now) {
                return Ok(cached);
            }
            let mut conn = db.read.acquire().await?;
            // Counted before listed: a seat reserved in between is then counted but not listed
            // (a total one too high for at most a second), never listed but not counted, which
            // would make the cache's later subtraction of reserved seats count it twice.
            let counted =
                tickets::count_available_tickets(&mut conn, &filter, now, COUNT_CAP + 1).await?;
            let mut tickets = tickets::list_available_tickets(&mut conn, &filter, now).await?;
            let has_next = tickets.len() as i64 > PAGE_SIZE;
            tickets.truncate(PAGE_SIZE as usize);
            let mut result = TicketPage {
                tickets,
                page,
                total: counted.min(COUNT_CAP),
                total_exact: counted <= COUNT_CAP,
                has_next,
                version: PageVersion::default(),
            };
            cache.put(filter.clone(), generation, now, &mut result);
            Ok::<_, AppError>(result)
        }
        .await;
        cache.end_turn(&filter, turn);
        read
    });
    read.await.map_err(|err| {
        crate::ssr::error_response::internal(anyhow::anyhow!("the browse read ended: {err}"))
    })?
}
