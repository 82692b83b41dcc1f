//! The browse cache: recent browse pages shared by every visitor, and what callers made of them
//! (a page's JSON, its HTML), kept while the page still shows what a new read would.
//!
//! # When a cached page stops serving (the one invalidation rule)
//!
//! A page read from the database serves for at most [`BrowseCache::MAX_AGE_MS`], and only while
//! no write transaction has begun since it was read: [`crate::ssr::Db::begin_write`] moves the
//! write generation on, and a page cached under an older generation is read again. So any
//! write, by any service on this node, empties the cache by default; other nodes' writes reach
//! it within the second.
//!
//! Writes that cannot change what a browse page shows may leave it alone by beginning with
//! [`crate::ssr::Db::begin_write_keeping_reads`] instead. Today these are:
//! - session bookkeeping (`services::accounts::record_session`): sessions show on no page;
//! - the site's signing keys (`services::site_keys`), written once at start;
//! - reservations and their release (`services::orders`): a reservation takes one listing off
//!   sale and says which ([`BrowseCache::taken`]); pages are then served without it, so that an
//!   on-sale with a reservation every millisecond does not send every visitor to the database.
//!   A release puts a listing back, which a page shows within the second.
//!
//! A new write that may change a listing, a price or what is on sale uses `begin_write`.

use super::services::browse::TicketPage;
use crate::domain::{Id, Timestamp};
use crate::ssr::storage::tickets::BrowseFilter;

/// See [`TicketPage::version`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PageVersion {
    /// The cache entry the page came from (numbered from 1 for each read; 0: not cached).
    pub(crate) entry: u64,
    /// How many of that entry's listings were hidden as reserved.
    pub(crate) hidden: usize,
}

/// A rendering to keep, about how much memory it holds, and when (see
/// [`BrowseCache::keep_rendering`]).
pub struct Kept<T> {
    pub value: std::sync::Arc<T>,
    pub bytes: usize,
    pub generation: u64,
    pub now: Timestamp,
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

    pub(crate) fn get(
        &self,
        filter: &BrowseFilter,
        generation: u64,
        now: Timestamp,
    ) -> Option<TicketPage> {
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
    pub(crate) fn read_turn(
        &self,
        filter: &BrowseFilter,
    ) -> std::sync::Arc<tokio::sync::Mutex<()>> {
        let mut reads = self.reads.lock().unwrap_or_else(|p| p.into_inner());
        if reads.len() >= Self::MAX_ENTRIES {
            // Left by readers whose requests were dropped midway.
            reads.retain(|_, turn| std::sync::Arc::strong_count(turn) > 1);
        }
        reads.entry(filter.clone()).or_default().clone()
    }

    /// Forgets `filter`'s lock once no reader holds or awaits it (clones are only made under
    /// the map's lock, so none can appear meanwhile).
    pub(crate) fn end_turn(
        &self,
        filter: &BrowseFilter,
        turn: std::sync::Arc<tokio::sync::Mutex<()>>,
    ) {
        let mut reads = self.reads.lock().unwrap_or_else(|p| p.into_inner());
        if std::sync::Arc::strong_count(&turn) == 2 {
            reads.remove(filter);
        }
    }

    /// Keeps `page` (read at `generation`) and numbers it as a new entry, unless the entry it
    /// replaces showed exactly the same: then that entry is renewed, and what was made of it
    /// stays good. (Each page is read again every second; during an on-sale most reads find
    /// what the last one did, and replacing the entry would have every kept rendering remade.)
    pub(crate) fn put(
        &self,
        filter: BrowseFilter,
        generation: u64,
        now: Timestamp,
        page: &mut TicketPage,
    ) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Category, Price, Ticket};
    use crate::ssr::services::browse::PAGE_SIZE;

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
            event_seat: None,
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
