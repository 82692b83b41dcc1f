//! Listings: list, edit, browse and show tickets.

use crate::domain::fees::{check_cap, inherited_face_value};
use crate::domain::ticket::STALE_VERSION;
use crate::domain::{
    Category, DomainError, Id, Price, Ticket, TicketDraft, Timestamp, Title, Zone,
};
use crate::error::{AppError, ErrorDetail};
use crate::ssr::Ctx;
use crate::ssr::clock;
use crate::ssr::storage::events::insert_event;
use crate::ssr::storage::tickets::{self, BrowseFilter, Sort};
use serde_json::json;

/// A bought ticket already back on sale.
pub const ALREADY_RESOLD: &str = "This ticket is already listed for resale";

/// Counting stops here: "more than 1,000 tickets" is as useful as an exact number, and keeps
/// the cost of every browse page bounded.
pub const COUNT_CAP: i64 = 1000;

/// Listings per page on `/` and `GET /api/tickets`.
pub const PAGE_SIZE: i64 = 24;

pub(super) fn event_payload(ticket: &Ticket) -> serde_json::Value {
    json!({
        "id": ticket.id,
        "title": ticket.title,
        "priceCents": ticket.price.cents(),
        "category": ticket.category,
        "venue": ticket.venue,
        "startsAt": ticket.starts_at.map(|at| at.rfc3339_in(ticket.time_zone)),
        "timeZone": ticket.time_zone,
        "userId": ticket.seller_id,
        "version": ticket.version,
        "status": ticket.status,
        "resoldFrom": ticket.resold_from,
    })
}

/// Puts a new listing on sale for the signed-in seller. With a resale cap set, the listing
/// needs a face value and may ask at most the cap's share of it.
pub async fn list_ticket(ctx: &Ctx, draft: TicketDraft) -> Result<Ticket, AppError> {
    let seller = ctx.user()?;
    check_cap(ctx.settings().resale_cap, draft.price, draft.face_value)?;
    let now = ctx.now();
    let id = clock::new_id();
    let mut tx = ctx.db().begin_write().await?;
    let ticket = tickets::insert_ticket(&mut tx, &id, seller, &draft, None, now).await?;
    insert_event(
        &mut tx,
        "TicketCreated",
        &ticket.id,
        event_payload(&ticket),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(ticket)
}

/// The zone the listing form offers: the signed-in seller's last choice, else the site's
/// default (`DEFAULT_TIME_ZONE`).
pub async fn listing_time_zone(ctx: &Ctx) -> Result<Zone, AppError> {
    let last = match ctx.actor() {
        Some(seller) => {
            tickets::last_time_zone(&mut *ctx.db().read.acquire().await?, seller).await?
        }
        None => None,
    };
    Ok(last.unwrap_or(ctx.settings().default_time_zone))
}

/// A seller's change to a listing: the new fields as parsed (their errors are reported only to
/// the seller, after the checks below), and the version the seller edited, if they say.
#[derive(Debug, Clone)]
pub struct EditTicket {
    pub ticket_id: Id,
    pub draft: Result<TicketDraft, DomainError>,
    pub expected_version: Option<i64>,
}

/// Changes a listing. Inside one write transaction: the ticket must exist (404), belong to the
/// signed-in user (403), be neither held nor sold (400), and, when a version is given, still be
/// at that version (409). The draft's own errors come after those checks.
pub async fn edit_ticket(ctx: &Ctx, input: EditTicket) -> Result<Ticket, AppError> {
    let user = ctx.user()?;
    let now = ctx.now();
    let ticket_id = &input.ticket_id;
    let mut tx = ctx.db().begin_write().await?;
    let current = tickets::lock_ticket(&mut tx, ticket_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if &current.seller_id != user {
        return Err(AppError::Forbidden);
    }
    let mut draft = input.draft?;
    current.can_be_edited_by(user, now)?;
    // A change that does not give the face value keeps the one the listing has.
    draft.face_value = draft.face_value.or(current.face_value);
    check_cap(ctx.settings().resale_cap, draft.price, draft.face_value)?;
    if input
        .expected_version
        .is_some_and(|version| version != current.version)
    {
        return Err(AppError::Conflict(ErrorDetail::field(
            "version",
            STALE_VERSION,
        )));
    }
    // A lapsed reservation is recorded as expired before the edit lands (it moves the version).
    let version = if super::orders::release_lapsed_hold(&mut tx, &current, now).await? {
        tickets::find_ticket(&mut tx, ticket_id)
            .await?
            .ok_or(AppError::NotFound)?
            .version
    } else {
        current.version
    };
    let updated = tickets::update_ticket_fields(&mut tx, ticket_id, version, &draft, now)
        .await?
        .ok_or_else(|| AppError::Conflict(ErrorDetail::field("version", STALE_VERSION)))?;
    insert_event(
        &mut tx,
        "TicketUpdated",
        &updated.id,
        event_payload(&updated),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(updated)
}

/// What a buyer asked the browse page for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BrowseQuery {
    pub q: Option<String>,
    pub category: Option<String>,
    pub sort: Option<String>,
    pub page: Option<String>,
}

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
    /// JSON, its HTML) stays good while [`BrowseCache::current`] still gives this version.
    pub version: PageVersion,
}

/// See [`TicketPage::version`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PageVersion {
    /// The cache entry the page came from (numbered from 1 for each read; 0: not cached).
    entry: u64,
    /// How many of that entry's listings were hidden as reserved.
    hidden: usize,
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
    fn same_listings(&self, other: &TicketPage) -> bool {
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
    let category = match query
        .category
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty() && *c != "all")
    {
        None => None,
        Some(name) => match Category::parse(Some(name)) {
            Ok(category) => Some(category),
            Err(err) => {
                errors.push(err);
                None
            }
        },
    };
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
    let page = match query
        .page
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => 1,
        Some(text) => match text.parse::<i64>() {
            Ok(page) if (1..=100_000).contains(&page) => page,
            _ => {
                errors.push(ErrorDetail::field(
                    "page",
                    "Page must be a whole number from 1",
                ));
                1
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
            limit: PAGE_SIZE,
            offset: (page - 1) * PAGE_SIZE,
        },
        page,
    ))
}

/// Recent browse pages, shared by every visitor: a burst of people opening the home page costs
/// one query, not one each. An entry serves for at most [`BrowseCache::MAX_AGE_MS`], so a
/// listing is never more than a second behind (and reservations never rely on it: they decide
/// inside their transaction), and only while no write transaction has begun since it was read,
/// except reservations: during an on-sale there is one every millisecond, and a cache that each
/// of them emptied would send every visitor to the database. A reservation only takes a listing
/// off sale, so instead it tells the cache which one ([`BrowseCache::taken`]) and pages are
/// served without it from then on.
#[derive(Default)]
pub struct BrowseCache {
    state: std::sync::Mutex<CacheState>,
    /// Pages read from the database so far.
    pages_read: std::sync::atomic::AtomicU64,
    /// A lock for each page being read from the database, so that it is read once.
    reads: std::sync::Mutex<
        std::collections::HashMap<BrowseFilter, std::sync::Arc<tokio::sync::Mutex<()>>>,
    >,
}

#[derive(Default)]
struct CacheState {
    entries: std::collections::HashMap<BrowseFilter, CachedPage>,
    /// Listings reserved under `taken_generation`, hidden from every page cached under it.
    taken: std::collections::HashSet<Id>,
    taken_generation: u64,
    /// The number of the last entry read.
    entries_read: u64,
    /// Bytes of renderings kept.
    kept_bytes: usize,
    /// Counts uses of entries and renderings, so that the least recently used goes first.
    uses: u64,
}

struct CachedPage {
    generation: u64,
    at: Timestamp,
    /// When it was last read or served (see [`CacheState::uses`]).
    used: u64,
    page: TicketPage,
    /// What callers made of this page (see [`BrowseCache::keep_rendering`]).
    renderings: Vec<Rendering>,
}

/// One rendering of a cached page: its kind, its variant, and how many of the page's listings
/// were hidden when it was made.
struct Rendering {
    kind: std::any::TypeId,
    variant: Box<str>,
    hidden: usize,
    value: std::sync::Arc<dyn std::any::Any + Send + Sync>,
    /// About how much memory it holds.
    bytes: usize,
    /// When it was last kept or served (see [`CacheState::uses`]).
    used: u64,
}

impl CachedPage {
    fn fresh(&self, generation: u64, now: Timestamp) -> bool {
        self.generation == generation
            && now.millis() >= self.at.millis()
            && now.millis() - self.at.millis() < BrowseCache::MAX_AGE_MS
    }

    /// How many of this page's listings are among `taken`.
    fn hidden(&self, taken: &std::collections::HashSet<Id>) -> usize {
        if taken.is_empty() {
            return 0;
        }
        self.page
            .tickets
            .iter()
            .filter(|t| taken.contains(&t.id))
            .count()
    }
}

impl CacheState {
    /// Counts afresh the bytes the renderings of the entries kept hold.
    fn count_kept_bytes(&mut self) {
        self.kept_bytes = self
            .entries
            .values()
            .flat_map(|e| &e.renderings)
            .map(|r| r.bytes)
            .sum();
    }

    /// A new moment of use, later than every one before.
    fn use_now(&mut self) -> u64 {
        self.uses += 1;
        self.uses
    }

    /// Drops the least recently used rendering of any entry. Returns whether there was one.
    fn evict_least_used_rendering(&mut self) -> bool {
        let oldest = self
            .entries
            .iter()
            .flat_map(|(filter, e)| {
                e.renderings
                    .iter()
                    .enumerate()
                    .map(move |(n, r)| (r.used, filter, n))
            })
            .min_by_key(|(used, _, _)| *used)
            .map(|(_, filter, n)| (filter.clone(), n));
        let Some((filter, n)) = oldest else {
            return false;
        };
        if let Some(entry) = self.entries.get_mut(&filter) {
            let gone = entry.renderings.swap_remove(n);
            self.kept_bytes = self.kept_bytes.saturating_sub(gone.bytes);
        }
        true
    }

    /// Forgets what was taken under an older generation: pages cached then no longer serve.
    fn at_generation(&mut self, generation: u64) {
        if self.taken_generation != generation {
            self.taken.clear();
            self.taken_generation = generation;
        }
    }
}

impl BrowseCache {
    pub const MAX_AGE_MS: i64 = 1_000;
    /// The most memory renderings of cached pages may hold together.
    pub const MAX_KEPT_BYTES: usize = 16 << 20;
    const MAX_ENTRIES: usize = 512;
    const MAX_TAKEN: usize = 4_096;

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, filter: &BrowseFilter, generation: u64, now: Timestamp) -> Option<TicketPage> {
        let mut state = self.lock();
        state.at_generation(generation);
        let used = state.use_now();
        let state = &mut *state;
        let cached = state
            .entries
            .get_mut(filter)
            .filter(|e| e.fresh(generation, now))?;
        cached.used = used;
        let mut page = cached.page.clone();
        let hidden = cached.hidden(&state.taken);
        if hidden > 0 {
            page.tickets.retain(|t| !state.taken.contains(&t.id));
            page.total = (page.total - hidden as i64).max(page.tickets.len() as i64);
            page.version.hidden = hidden;
        }
        Some(page)
    }

    /// The rendering of the page cached for `filter` that [`BrowseCache::keep_rendering`] kept
    /// as a `T` under `variant`, while the page still shows what a new read would.
    pub fn rendering<T: std::any::Any + Send + Sync>(
        &self,
        filter: &BrowseFilter,
        variant: &str,
        generation: u64,
        now: Timestamp,
    ) -> Option<std::sync::Arc<T>> {
        let mut state = self.lock();
        state.at_generation(generation);
        let used = state.use_now();
        let state = &mut *state;
        let cached = state
            .entries
            .get_mut(filter)
            .filter(|e| e.fresh(generation, now))?;
        let hidden = cached.hidden(&state.taken);
        let kind = std::any::TypeId::of::<T>();
        let kept = cached
            .renderings
            .iter_mut()
            .find(|r| r.kind == kind && &*r.variant == variant)?;
        if kept.hidden != hidden {
            return None;
        }
        kept.used = used;
        cached.used = used;
        kept.value.clone().downcast::<T>().ok()
    }

    /// Keeps `value`, made from the page `filter` read at `version`, with that page while it is
    /// cached and shows the same listings. `variant` tells renderings of one kind apart (the
    /// page's address, when it shows more than the listings). `bytes` is about how much memory
    /// it holds: all renderings together hold at most [`BrowseCache::MAX_KEPT_BYTES`], so that
    /// visitors making up addresses cannot fill the memory with copies of one page. To make
    /// room, renderings of pages no longer served go first, then the least recently used ones,
    /// one at a time: a page that visitors keep asking for stays however many others come.
    pub fn keep_rendering<T: std::any::Any + Send + Sync>(
        &self,
        filter: &BrowseFilter,
        variant: &str,
        version: PageVersion,
        kept: Kept<T>,
    ) {
        const MAX_RENDERINGS: usize = 8;
        const MAX_VARIANT: usize = 512;
        let Kept {
            value,
            bytes,
            generation,
            now,
        } = kept;
        if variant.len() > MAX_VARIANT || bytes > Self::MAX_KEPT_BYTES / 16 {
            return;
        }
        let mut guard = self.lock();
        let state = &mut *guard;
        let Some(cached) = state.entries.get_mut(filter) else {
            return;
        };
        if cached.page.version.entry != version.entry
            || cached.hidden(&state.taken) != version.hidden
        {
            return;
        }
        let kind = std::any::TypeId::of::<T>();
        let mut freed = 0;
        cached.renderings.retain(|r| {
            let same = r.kind == kind && &*r.variant == variant;
            if same {
                freed += r.bytes;
            }
            !same
        });
        if cached.renderings.len() >= MAX_RENDERINGS
            && let Some((n, _)) = cached
                .renderings
                .iter()
                .enumerate()
                .min_by_key(|(_, r)| r.used)
        {
            freed += cached.renderings.swap_remove(n).bytes;
        }
        state.kept_bytes = state.kept_bytes.saturating_sub(freed);
        if state.kept_bytes + bytes > Self::MAX_KEPT_BYTES {
            // What is kept with pages no longer served goes first; then count afresh.
            for entry in state.entries.values_mut() {
                if !entry.fresh(generation, now) {
                    entry.renderings.clear();
                }
            }
            state.count_kept_bytes();
        }
        while state.kept_bytes + bytes > Self::MAX_KEPT_BYTES {
            if !state.evict_least_used_rendering() {
                return;
            }
        }
        let used = state.use_now();
        let Some(cached) = state.entries.get_mut(filter) else {
            return;
        };
        cached.used = used;
        cached.renderings.push(Rendering {
            kind,
            variant: variant.into(),
            hidden: version.hidden,
            value,
            bytes,
            used,
        });
        state.kept_bytes += bytes;
    }

    /// Forgets the pages no longer served (read a second or more before `now`) and what was
    /// made of them. Otherwise what a burst left stays until 512 other pages replace it: after
    /// an on-sale, hundreds of pages and their renderings that can never be served again.
    /// Returns how many were forgotten.
    pub fn forget_stale(&self, now: Timestamp) -> usize {
        let mut state = self.lock();
        let before = state.entries.len();
        state.entries.retain(|_, e| e.fresh(e.generation, now));
        state.entries.shrink_to_fit();
        state.count_kept_bytes();
        before - state.entries.len()
    }

    /// How many pages have been read from the database (the rest were served from the cache).
    pub fn pages_read(&self) -> u64 {
        self.pages_read.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The lock that readers of `filter`'s page take turns on.
    fn read_turn(&self, filter: &BrowseFilter) -> std::sync::Arc<tokio::sync::Mutex<()>> {
        let mut reads = self.reads.lock().unwrap_or_else(|p| p.into_inner());
        if reads.len() >= Self::MAX_ENTRIES {
            // Left by readers whose requests were dropped midway.
            reads.retain(|_, turn| std::sync::Arc::strong_count(turn) > 1);
        }
        reads.entry(filter.clone()).or_default().clone()
    }

    /// Forgets `filter`'s lock once no reader holds or awaits it (clones are only made under
    /// the map's lock, so none can appear meanwhile).
    fn end_turn(&self, filter: &BrowseFilter, turn: std::sync::Arc<tokio::sync::Mutex<()>>) {
        let mut reads = self.reads.lock().unwrap_or_else(|p| p.into_inner());
        if std::sync::Arc::strong_count(&turn) == 2 {
            reads.remove(filter);
        }
    }

    /// Keeps `page` (read at `generation`) and numbers it as a new entry, unless the entry it
    /// replaces showed exactly the same: then that entry is renewed, and what was made of it
    /// stays good. (Each page is read again every second; during an on-sale most reads find
    /// what the last one did, and replacing the entry would have every kept rendering remade.)
    fn put(&self, filter: BrowseFilter, generation: u64, now: Timestamp, page: &mut TicketPage) {
        self.pages_read
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut state = self.lock();
        state.at_generation(generation);
        if let Some(cached) = state.entries.get_mut(&filter)
            && cached.page.same_listings(page)
        {
            // Renderings made while some of its listings were hidden stay keyed by how many
            // were: with a new generation none are, and those renderings are no longer served.
            cached.generation = generation;
            cached.at = now;
            page.version = PageVersion {
                entry: cached.page.version.entry,
                hidden: 0,
            };
            return;
        }
        state.entries_read += 1;
        page.version = PageVersion {
            entry: state.entries_read,
            hidden: 0,
        };
        if state.entries.len() >= Self::MAX_ENTRIES && !state.entries.contains_key(&filter) {
            // Pages no longer served go first; then the least recently used, one at a time.
            state.entries.retain(|_, e| {
                e.generation == generation && now.millis() - e.at.millis() < Self::MAX_AGE_MS
            });
            while state.entries.len() >= Self::MAX_ENTRIES {
                let oldest = state
                    .entries
                    .iter()
                    .min_by_key(|(_, e)| e.used)
                    .map(|(filter, _)| filter.clone());
                match oldest {
                    Some(oldest) => state.entries.remove(&oldest),
                    None => break,
                };
            }
            state.count_kept_bytes();
        }
        let used = state.use_now();
        if let Some(replaced) = state.entries.insert(
            filter,
            CachedPage {
                generation,
                at: now,
                used,
                page: page.clone(),
                renderings: Vec::new(),
            },
        ) {
            let freed: usize = replaced.renderings.iter().map(|r| r.bytes).sum();
            state.kept_bytes = state.kept_bytes.saturating_sub(freed);
        }
    }

    /// `ticket` was just reserved (in a write transaction that did not move the generation on):
    /// no cached page shows it any more.
    pub fn taken(&self, ticket: &Id, generation: u64) {
        let mut state = self.lock();
        state.at_generation(generation);
        if state.taken.len() >= Self::MAX_TAKEN {
            state.entries.clear();
            state.taken.clear();
            state.kept_bytes = 0;
        }
        state.taken.insert(ticket.clone());
    }
}

/// The listings a buyer can reserve now, searched, filtered, sorted and paged.
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
/// [`BrowseCache::rendering`]).
pub fn kept_rendering<T: std::any::Any + Send + Sync>(
    ctx: &Ctx,
    filter: &BrowseFilter,
    variant: &str,
) -> Option<std::sync::Arc<T>> {
    ctx.app()
        .browse_cache
        .rendering(filter, variant, ctx.db().write_generation(), ctx.now())
}

/// A rendering to keep, about how much memory it holds, and when (see
/// [`BrowseCache::keep_rendering`]).
pub struct Kept<T> {
    pub value: std::sync::Arc<T>,
    pub bytes: usize,
    pub generation: u64,
    pub now: Timestamp,
}

/// Keeps a rendering of the page read for `filter` at `version`, holding about `bytes` (see
/// [`BrowseCache::keep_rendering`]).
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

/// [`browse_tickets`] for a query already parsed by [`browse_filter`].
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

/// One listing in any status.
pub async fn get_ticket(ctx: &Ctx, id: &Id) -> Result<Ticket, AppError> {
    tickets::find_ticket(&mut *ctx.db().read.acquire().await?, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// What the signed-in user holds: every ticket they have held a code for (with that code and
/// its state: valid, used, or revoked by a resale, transfer or refund) and the ones they list,
/// newest first.
pub struct MyTickets {
    pub bought: Vec<HeldTicket>,
    pub selling: Vec<Ticket>,
}

pub struct HeldTicket {
    pub ticket: Ticket,
    pub code: crate::ssr::storage::codes::StoredCode,
    /// The listing its holder made to resell it, if any.
    pub resale_id: Option<Id>,
    /// The address a transfer of it waits on, if any.
    pub pending_transfer: Option<String>,
}

pub async fn my_tickets(ctx: &Ctx) -> Result<MyTickets, AppError> {
    let user = ctx.user()?;
    let mut conn = ctx.db().read.acquire().await?;
    let mut bought = Vec::new();
    for code in crate::ssr::storage::codes::list_held(&mut conn, user).await? {
        let Some(ticket) = tickets::find_ticket(&mut conn, &code.ticket_id).await? else {
            continue;
        };
        let resale_id = tickets::resale_of(&mut conn, &ticket.id).await?;
        let pending_transfer = if code.status == crate::domain::custody::CodeStatus::Valid {
            super::transfers::pending_to(&mut conn, &ticket.id).await?
        } else {
            None
        };
        bought.push(HeldTicket {
            ticket,
            code,
            resale_id,
            pending_transfer,
        });
    }
    Ok(MyTickets {
        bought,
        selling: tickets::list_tickets_by_seller(&mut conn, user).await?,
    })
}

/// A bought ticket to put back on sale, at this price.
#[derive(Debug, Clone)]
pub struct ResellTicket {
    pub ticket_id: Id,
    pub price: Price,
    /// Used only when the original listing gave no face value (else the original's counts).
    pub face_value: Option<Price>,
}

/// Puts a bought ticket back on sale as a new listing linked to it (`resold_from`). Only its
/// owner may, and only once.
pub async fn resell_ticket(ctx: &Ctx, input: ResellTicket) -> Result<Ticket, AppError> {
    let owner = ctx.user()?;
    let now = ctx.now();
    let (ticket_id, price) = (&input.ticket_id, input.price);
    let mut tx = ctx.db().begin_write().await?;
    let bought = tickets::lock_ticket(&mut tx, ticket_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if tickets::find_owner(&mut tx, ticket_id).await?.as_ref() != Some(owner) {
        return Err(AppError::Forbidden);
    }
    if tickets::resale_of(&mut tx, ticket_id).await?.is_some() {
        return Err(AppError::invalid(ALREADY_RESOLD));
    }
    super::custody::check_transferable(&mut tx, ticket_id, owner).await?;
    if crate::ssr::storage::transfers::pending_for_ticket(&mut tx, ticket_id)
        .await?
        .is_some()
    {
        return Err(AppError::invalid(super::transfers::PENDING));
    }
    // The face value travels with the ticket: the original listing's, or what was paid for it.
    let face_value = inherited_face_value(bought.face_value.or(input.face_value), bought.price);
    check_cap(ctx.settings().resale_cap, price, Some(face_value))?;
    let draft = TicketDraft {
        title: Title::parse(&bought.title)?,
        price,
        face_value: Some(face_value),
        category: bought.category,
        venue: bought.venue.clone(),
        starts_at: bought.starts_at,
        time_zone: bought.time_zone,
    };
    let listing = match tickets::insert_ticket(
        &mut tx,
        &clock::new_id(),
        owner,
        &draft,
        Some(ticket_id),
        now,
    )
    .await
    {
        Err(err)
            if crate::ssr::storage::refused_by(&err)
                == Some(crate::ssr::storage::Guard::ResoldOnce) =>
        {
            return Err(AppError::invalid(ALREADY_RESOLD));
        }
        other => other?,
    };
    insert_event(
        &mut tx,
        "TicketCreated",
        &listing.id,
        event_payload(&listing),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(total: i64) -> TicketPage {
        TicketPage {
            tickets: Vec::new(),
            page: 1,
            total,
            total_exact: true,
            has_next: false,
            version: PageVersion::default(),
        }
    }

    fn listed(n: u8) -> Ticket {
        let id = |n: u8| Id::from_trusted(format!("00000000-0000-7000-8000-0000000000{n:02}"));
        Ticket {
            id: id(n),
            title: format!("Seat {n}"),
            price: Price::from_stored(5000),
            face_value: None,
            seller_id: id(99),
            order_id: None,
            version: 0,
            category: Category::Sports,
            venue: None,
            starts_at: None,
            time_zone: None,
            status: crate::domain::TicketStatus::Available,
            reserved_until: None,
            resold_from: None,
            created_at: Timestamp(0),
        }
    }

    fn to_keep(value: &'static str, at: i64) -> Kept<&'static str> {
        Kept {
            value: std::sync::Arc::new(value),
            bytes: 1_000,
            generation: 7,
            now: Timestamp(at),
        }
    }

    /// Renderings together hold at most `MAX_KEPT_BYTES`: those of pages no longer served go
    /// to make room, and past that nothing more is kept (the page is still served, rendered).
    #[test]
    fn renderings_never_hold_more_than_their_budget() {
        let cache = BrowseCache::default();
        let share = BrowseCache::MAX_KEPT_BYTES / 16;
        let filter = |n: i64| BrowseFilter {
            limit: PAGE_SIZE + 1,
            offset: n * PAGE_SIZE,
            ..BrowseFilter::default()
        };
        let keep = |n: i64, at: i64, variant: &str| {
            let mut read = page(1);
            cache.put(filter(n), 7, Timestamp(at), &mut read);
            let big = Kept {
                value: std::sync::Arc::new(n),
                bytes: share,
                generation: 7,
                now: Timestamp(at),
            };
            cache.keep_rendering(&filter(n), variant, read.version, big);
            cache
                .rendering::<i64>(&filter(n), variant, 7, Timestamp(at))
                .is_some()
        };
        let still_kept = |n: i64, at: i64| {
            cache
                .rendering::<i64>(&filter(n), "a", 7, Timestamp(at))
                .is_some()
        };
        for n in 0..16 {
            assert!(keep(n, 10_000, "a"), "room for {n}");
        }
        // Page 0 is asked for again; the others are not.
        assert!(still_kept(0, 10_000));
        assert!(
            keep(16, 10_000, "a"),
            "over budget: the least used one makes room"
        );
        assert!(!still_kept(1, 10_000), "the least recently used went");
        assert!(still_kept(0, 10_000) && still_kept(2, 10_000) && still_kept(16, 10_000));
        assert!(cache.lock().kept_bytes <= BrowseCache::MAX_KEPT_BYTES);
        // A second later the old pages are no longer served, so theirs make room first.
        assert!(keep(17, 11_000, "a"));
        assert_eq!(cache.lock().kept_bytes, share);
        // Addresses past 512 bytes are not kept at all.
        assert!(!keep(18, 11_000, &"q".repeat(513)));
    }

    /// Visitors making up addresses (one variant after another of a page, or page after page)
    /// never push out the page everybody else asks for: room is made one least recently used
    /// rendering at a time, never by clearing the lot.
    #[test]
    fn made_up_variants_never_push_out_the_page_everybody_asks_for() {
        let cache = BrowseCache::default();
        let home = BrowseFilter {
            limit: PAGE_SIZE + 1,
            ..BrowseFilter::default()
        };
        let mut read = page(3);
        cache.put(home.clone(), 7, Timestamp(10_000), &mut read);
        cache.keep_rendering(&home, "", read.version, to_keep("home", 10_000));
        let home_kept = || {
            cache
                .rendering::<&str>(&home, "", 7, Timestamp(10_500))
                .is_some()
        };
        // Many variants of the same page, and the home page asked for between them.
        for n in 0..100 {
            let variant = format!("q=made-up-{n}");
            cache.keep_rendering(&home, &variant, read.version, to_keep("variant", 10_000));
            assert!(home_kept(), "after variant {n}");
        }
        // And many other pages, each read and kept once, with 1,000 entries' worth of pages.
        for n in 1..1_000 {
            let other = BrowseFilter {
                offset: n * PAGE_SIZE,
                ..home.clone()
            };
            let mut read = page(1);
            cache.put(other.clone(), 7, Timestamp(10_000), &mut read);
            cache.keep_rendering(&other, "", read.version, to_keep("other", 10_000));
            assert!(home_kept(), "after page {n}");
        }
        let state = cache.lock();
        assert!(state.entries.len() <= BrowseCache::MAX_ENTRIES);
        assert!(state.kept_bytes <= BrowseCache::MAX_KEPT_BYTES);
    }

    /// A rendering serves while its page shows the same listings: another page's seat taken
    /// leaves it, its own seat taken, a write or the second passing ends it.
    #[test]
    fn a_rendering_lasts_exactly_as_long_as_the_listings_it_shows() {
        let cache = BrowseCache::default();
        let filter = BrowseFilter {
            limit: PAGE_SIZE + 1,
            ..BrowseFilter::default()
        };
        let mut read = TicketPage {
            tickets: vec![listed(1), listed(2)],
            ..page(2)
        };
        cache.put(filter.clone(), 7, Timestamp(10_000), &mut read);
        let shown = cache.get(&filter, 7, Timestamp(10_000)).unwrap();
        cache.keep_rendering(&filter, "", shown.version, to_keep("two seats", 10_000));
        let kept = |at: i64, generation: u64| {
            cache
                .rendering::<&str>(&filter, "", generation, Timestamp(at))
                .map(|r| *r)
        };
        assert_eq!(kept(10_500, 7), Some("two seats"));
        assert_eq!(
            cache.rendering::<&str>(&filter, "/?q=x", 7, Timestamp(10_500)),
            None,
            "another variant is not served"
        );
        assert_eq!(
            cache.rendering::<String>(&filter, "", 7, Timestamp(10_500)),
            None,
            "nor another kind"
        );

        cache.taken(&listed(42).id, 7);
        assert_eq!(
            kept(10_500, 7),
            Some("two seats"),
            "a seat on no page of ours"
        );
        cache.taken(&listed(2).id, 7);
        assert_eq!(kept(10_500, 7), None, "one of its seats was taken");

        // Made again from the page as it now reads (one seat), it serves again.
        let shown = cache.get(&filter, 7, Timestamp(10_600)).unwrap();
        assert_eq!(shown.tickets.len(), 1);
        cache.keep_rendering(&filter, "", shown.version, to_keep("one seat", 10_600));
        assert_eq!(kept(10_600, 7), Some("one seat"));
        // A rendering of an older version of the page is not kept.
        cache.keep_rendering(&filter, "", read.version, to_keep("stale", 10_600));
        assert_eq!(kept(10_600, 7), Some("one seat"));

        assert_eq!(kept(10_600, 8), None, "a write began");
        assert_eq!(kept(11_000, 7), None, "a second old");
    }

    /// A read that finds what the cached page showed renews it with what was made of it; one
    /// that finds anything else (a price, a seat fewer) starts afresh.
    #[test]
    fn a_rendering_outlives_a_read_that_finds_the_same_listings() {
        let cache = BrowseCache::default();
        let filter = BrowseFilter {
            limit: PAGE_SIZE + 1,
            ..BrowseFilter::default()
        };
        let two = || TicketPage {
            tickets: vec![listed(1), listed(2)],
            ..page(2)
        };
        let mut read = two();
        cache.put(filter.clone(), 7, Timestamp(10_000), &mut read);
        cache.keep_rendering(&filter, "", read.version, to_keep("two seats", 10_000));
        let kept = |at: i64, generation: u64| {
            cache
                .rendering::<&str>(&filter, "", generation, Timestamp(at))
                .map(|r| *r)
        };

        // A second later, a write began; the page is read again and shows the same.
        assert_eq!(kept(11_000, 8), None, "stale until read again");
        let mut again = two();
        cache.put(filter.clone(), 8, Timestamp(11_000), &mut again);
        assert_eq!(again.version, read.version, "the same entry, renewed");
        assert_eq!(kept(11_500, 8), Some("two seats"));
        assert_eq!(kept(12_000, 8), None, "a second after the renewal");

        // A seat taken, then a read without it: a new entry, nothing kept for it yet.
        cache.taken(&listed(2).id, 8);
        let mut one = TicketPage {
            tickets: vec![listed(1)],
            ..page(1)
        };
        cache.put(filter.clone(), 8, Timestamp(12_000), &mut one);
        assert_ne!(one.version, read.version);
        assert_eq!(kept(12_000, 8), None);
        cache.keep_rendering(&filter, "", one.version, to_keep("one seat", 12_000));
        assert_eq!(kept(12_000, 8), Some("one seat"));

        // A price changed: the same seats, but not the same listings.
        let mut repriced = TicketPage {
            tickets: vec![Ticket {
                price: Price::from_stored(6000),
                ..listed(1)
            }],
            ..page(1)
        };
        cache.put(filter.clone(), 9, Timestamp(12_100), &mut repriced);
        assert_ne!(repriced.version, one.version);
        assert_eq!(kept(12_100, 9), None);
    }

    #[test]
    fn pages_no_longer_served_are_forgotten_with_their_renderings_and_fresh_ones_stay() {
        let cache = BrowseCache::default();
        let filter = |n: i64| BrowseFilter {
            limit: PAGE_SIZE + 1,
            offset: n * PAGE_SIZE,
            ..BrowseFilter::default()
        };
        for n in 0..3 {
            let mut read = page(n + 1);
            cache.put(filter(n), 7, Timestamp(10_000 + n * 400), &mut read);
            cache.keep_rendering(
                &filter(n),
                "a",
                read.version,
                to_keep("kept", 10_000 + n * 400),
            );
        }
        // At 11,000 the first page is a second old; the others still serve.
        assert_eq!(cache.forget_stale(Timestamp(11_000)), 1);
        assert!(
            cache.get(&filter(0), 7, Timestamp(10_999)).is_none(),
            "forgotten"
        );
        for n in 1..3 {
            assert_eq!(
                cache.get(&filter(n), 7, Timestamp(11_000)).map(|p| p.total),
                Some(n + 1)
            );
            assert!(
                cache
                    .rendering::<&str>(&filter(n), "a", 7, Timestamp(11_000))
                    .is_some()
            );
        }
        assert_eq!(
            cache.lock().kept_bytes,
            2_000,
            "the forgotten rendering is uncounted"
        );
        assert_eq!(cache.forget_stale(Timestamp(11_000)), 0);
        assert_eq!(cache.forget_stale(Timestamp(20_000)), 2);
        assert_eq!(cache.lock().kept_bytes, 0);
    }

    #[test]
    fn a_cached_page_serves_until_a_write_begins_or_a_second_passes() {
        let cache = BrowseCache::default();
        let filter = BrowseFilter {
            limit: PAGE_SIZE + 1,
            ..BrowseFilter::default()
        };
        let other = BrowseFilter {
            category: Some(Category::Sports),
            ..filter.clone()
        };
        cache.put(filter.clone(), 7, Timestamp(10_000), &mut page(3));
        assert_eq!(
            cache.get(&filter, 7, Timestamp(10_999)).map(|p| p.total),
            Some(3)
        );
        assert!(
            cache.get(&other, 7, Timestamp(10_000)).is_none(),
            "another query is not served"
        );
        assert!(
            cache.get(&filter, 8, Timestamp(10_001)).is_none(),
            "a write began since"
        );
        assert!(
            cache.get(&filter, 7, Timestamp(11_000)).is_none(),
            "a second old"
        );
        assert!(
            cache.get(&filter, 7, Timestamp(9_999)).is_none(),
            "read in the future"
        );
    }
}
