//! `ticketing seed --demo`: fills an empty database with demo sellers and realistic listings so a
//! newcomer (or a benchmark) sees a living site. Refuses to touch a database that has users.

use crate::Config;
use anyhow::{Context, bail};
use app::domain::{Category, Email, Price, TicketDraft, Title};
use app::ssr::clock::{Clock, ManualClock, SystemClock};
use app::ssr::{Ctx, Db, services};
use std::sync::Arc;

/// Password of every demo account (`demo1@example.com`, `demo2@example.com`, …).
pub const DEMO_PASSWORD: &str = "ticketing-demo";

const SPORTS: &[&str] = &[
    "City Rovers vs Harbor United",
    "Northside Derby",
    "Cup Semi-final: Athletic vs Rangers",
    "Basketball: Comets vs Falcons",
    "Tennis Open — Quarter-finals",
    "Rugby Sevens Weekend",
    "Ice Hockey: Wolves vs Bears",
    "Marathon Grandstand Seats",
    "Boxing Night: Title Fight",
    "Baseball: Mariners Doubleheader",
];
const CONCERTS: &[&str] = &[
    "The Midnight Owls — World Tour",
    "Luna Vega Live",
    "Symphony Orchestra: Beethoven 9",
    "Jazz at the Riverside",
    "Electric Pines — Farewell Show",
    "Summer Beats Festival Day Pass",
    "Indie Night with Paper Lanterns",
    "Opera Gala: Verdi Favourites",
    "Hip-Hop All Stars",
    "Acoustic Sessions: Mara Quinn",
];
const THEATER: &[&str] = &[
    "Hamlet",
    "The Phantom of the Opera",
    "A Midsummer Night's Dream",
    "Les Misérables",
    "Improv Comedy Night",
    "The Nutcracker Ballet",
    "Death of a Salesman",
    "Stand-up: Jo Carter",
    "Chicago — The Musical",
    "Swan Lake",
];
const OTHER: &[&str] = &[
    "Food & Wine Fair",
    "Tech Conference All-Access",
    "Comic Con Weekend Pass",
    "Planetarium Night Show",
    "Craft Beer Festival",
    "Wine Tasting Masterclass",
    "Circus Spectacular",
    "Film Festival Opening Night",
];
/// Venues and the time zones they are in.
const VENUES: &[(&str, &str)] = &[
    ("Riverside Arena", "Europe/London"),
    ("Grand Theatre", "America/New_York"),
    ("City Stadium", "Europe/Berlin"),
    ("The Velvet Room", "Europe/London"),
    ("Harbor Hall", "America/Los_Angeles"),
    ("Opera House", "Australia/Sydney"),
    ("Northside Park", "America/Chicago"),
    ("Convention Centre", "Asia/Tokyo"),
    ("The Old Mill", "Europe/Dublin"),
    ("Sunset Amphitheatre", "America/Los_Angeles"),
];
const SEATS: &[&str] = &[
    "Row A",
    "Row F",
    "Balcony",
    "Front Row",
    "Standing",
    "Block 12",
    "VIP",
    "Box 3",
];

/// A tiny deterministic generator: the same seed gives the same demo site.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

pub async fn run(config: &Config, users: usize, tickets: usize) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url).await?;
    // Listings are put on sale one millisecond apart, ending now, so "newest first" shows them
    // in the order they were made.
    let clock = Arc::new(ManualClock::at(
        SystemClock.now().plus_millis(-(tickets as i64)),
    ));
    let state = crate::startup::offline_state(config, db.clone(), clock.clone())?;
    let result = seed(&Ctx::system(&state), &clock, users.max(1), tickets).await;
    db.close().await;
    let (users, tickets) = result?;
    println!(
        "Seeded {users} demo users and {tickets} listings into {}.",
        config.database_url
    );
    println!("Sign in as demo1@example.com with password `{DEMO_PASSWORD}`.");
    Ok(())
}

async fn seed(
    ctx: &Ctx,
    clock: &ManualClock,
    user_count: usize,
    ticket_count: usize,
) -> anyhow::Result<(usize, usize)> {
    let existing =
        app::ssr::storage::users::count_users(&mut *ctx.db().read.acquire().await?).await?;
    if existing > 0 {
        bail!(
            "the database already has {existing} users; `seed --demo` only fills an empty database"
        );
    }
    let emails: Vec<Email> = (1..=user_count)
        .map(|n| {
            Email::parse(&format!("demo{n}@example.com")).map_err(|e| anyhow::anyhow!(e.message))
        })
        .collect::<Result<_, _>>()?;
    let sellers = services::users::create_demo_users(ctx, &emails, DEMO_PASSWORD)
        .await
        .map_err(|e| anyhow::anyhow!("creating demo users failed: {e}"))?;

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let now = ctx.now();
    for n in 0..ticket_count {
        let category = Category::ALL[rng.below(4)];
        let (names, base_price) = match category {
            Category::Sports => (SPORTS, 4_500),
            Category::Concert => (CONCERTS, 6_000),
            Category::Theater => (THEATER, 5_500),
            Category::Other => (OTHER, 2_500),
        };
        let title = format!("{} · {}", rng.pick(names), rng.pick(SEATS));
        let price_cents =
            base_price + (rng.below(40) as i64) * 250 + if rng.below(3) == 0 { 99 } else { 0 };
        let days_ahead = 1 + rng.below(180) as i64;
        let hour = [14, 18, 19, 20][rng.below(4)];
        let day_start = (now.millis() / 86_400_000 + days_ahead) * 86_400_000;
        let price = Price::from_cents(price_cents).map_err(|e| anyhow::anyhow!(e.message))?;
        let (venue, zone) = rng.pick(VENUES);
        let zone = app::domain::Zone::parse(zone).map_err(|e| anyhow::anyhow!(e.message))?;
        let draft = TicketDraft {
            title: Title::parse(&title).map_err(|e| anyhow::anyhow!(e.message))?,
            price,
            // Demo tickets are listed at face value, so a resale cap never refuses them.
            face_value: Some(price),
            category,
            venue: Some(venue.to_string()),
            // The show starts at `hour` on the venue's clock (a listing in 12 has no date yet).
            starts_at: (rng.below(12) != 0)
                .then(|| {
                    let local = chrono::DateTime::from_timestamp_millis(day_start)?
                        .naive_utc()
                        .date()
                        .and_hms_opt(hour, 0, 0)?;
                    zone.instant_of(local).ok()
                })
                .flatten(),
            time_zone: Some(zone),
        };
        let seller = ctx.acting_as(sellers[n % sellers.len()].clone());
        clock.advance(1);
        services::tickets::list_ticket(&seller, draft)
            .await
            .map_err(|e| anyhow::anyhow!("listing a demo ticket failed: {e}"))
            .context("seeding tickets")?;
    }
    Ok((sellers.len(), ticket_count))
}
