//! Commands an operator runs beside the serving nodes, on the same database:
//! `ticketing refund ORDER --reason TEXT`, `ticketing admin grant|revoke EMAIL [--role R]` (the
//! operator's console calls the same services) and `ticketing backup PATH`.

use crate::Config;
use app::domain::Id;
use app::domain::money::format_money;
use app::ssr::Ctx;
use app::ssr::clock::SystemClock;
use app::ssr::services::refunds::{self, RefundOrder};
use app::ssr::{AppState, Db};

/// The application state with this deployment's real gateway and mailer, without serving.
fn state(config: &Config, db: Db) -> anyhow::Result<AppState> {
    let settings = config.settings(config.site_addr);
    let mailer = config.mailer(&settings.public_url)?;
    Ok(AppState::new(
        db,
        std::sync::Arc::new(SystemClock),
        settings,
        crate::payments::gateway(config)?,
        mailer,
        crate::startup::leptos_options(config, config.site_addr)?,
        // Commands sign no links.
        Default::default(),
    ))
}

/// Refunds a paid order in full and says what happened; the buyer and the seller are emailed.
pub async fn refund(config: &Config, order: &str, reason: &str) -> anyhow::Result<()> {
    let order_id = Id::parse(order).map_err(|_| anyhow::anyhow!("`{order}` is not an order id"))?;
    let reason = refunds::parse_reason(reason).map_err(|err| anyhow::anyhow!("{err}"))?;
    let db = Db::connect(&config.database_url).await?;
    let state = state(config, db)?;
    let ctx = Ctx::system(&state);
    let result = refunds::refund_order(
        &ctx,
        RefundOrder {
            order_id,
            ticket_id: None,
            reason,
            by: refunds::Operator::CommandLine,
        },
    )
    .await;
    // The messages are in the outbox either way; sending them now saves waiting for a node.
    let _ = app::ssr::services::mail::deliver_due(&ctx).await;
    state.db.close().await;
    let order = result.map_err(|err| anyhow::anyhow!("{err}"))?;
    println!(
        "Order {} refunded: {} back to the buyer; the ticket is on sale again.",
        order.id,
        format_money(order.total_cents(), &state.settings.currency)
    );
    Ok(())
}

/// Gives the account with this address a role.
pub async fn grant_role(
    config: &Config,
    email: &str,
    role: app::domain::role::Role,
) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url).await?;
    let state = state(config, db)?;
    let result = app::ssr::services::roles::grant_role(&Ctx::system(&state), email, role).await;
    state.db.close().await;
    result.map_err(|err| anyhow::anyhow!("{err}"))?;
    println!("{} is now {}.", email.trim(), role.as_str());
    Ok(())
}

/// Takes a role (with `None`, every role) from the account with this address.
pub async fn revoke_role(
    config: &Config,
    email: &str,
    role: Option<app::domain::role::Role>,
) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url).await?;
    let state = state(config, db)?;
    let result = app::ssr::services::roles::revoke_role(&Ctx::system(&state), email, role).await;
    state.db.close().await;
    result.map_err(|err| anyhow::anyhow!("{err}"))?;
    match role {
        Some(role) => println!("{} is no longer {}.", email.trim(), role.as_str()),
        None => println!("{} has no role now.", email.trim()),
    }
    Ok(())
}

/// Writes a consistent copy of the running SQLite database to `path` (a new file), and checks
/// that the copy opens and passes SQLite's integrity check. PostgreSQL has `pg_dump` for this.
pub async fn backup(config: &Config, path: &std::path::Path) -> anyhow::Result<()> {
    if !config.database_url.starts_with("sqlite:") {
        anyhow::bail!(
            "`ticketing backup` copies SQLite databases; for PostgreSQL use its own tool: \
             pg_dump --format=custom --file=backup.dump \"$DATABASE_URL\""
        );
    }
    if path.exists() {
        anyhow::bail!("{} exists already; choose a new file", path.display());
    }
    let target = path
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the backup path must be valid UTF-8"))?;
    let db = Db::open(&config.database_url).await?;
    let copied = async {
        let mut conn = db.read.acquire().await?;
        app::ssr::storage::backup::vacuum_into(&mut conn, target).await?;
        anyhow::Ok(())
    }
    .await;
    db.close().await;
    copied?;
    let copy = Db::open(&format!("sqlite://{target}")).await?;
    let check = app::ssr::storage::backup::integrity_check(&mut *copy.read.acquire().await?).await;
    copy.close().await;
    match check? {
        problems if problems == ["ok"] => {
            println!("Backed up to {} (integrity check: ok).", path.display());
            Ok(())
        }
        problems => anyhow::bail!(
            "the copy failed SQLite's integrity check: {}",
            problems.join("; ")
        ),
    }
}
