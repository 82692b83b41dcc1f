//! Commands an operator runs beside the serving nodes, on the same database:
//! `ticketing refund ORDER --reason TEXT` and `ticketing admin grant|revoke EMAIL` (the
//! operator's console will call the same services).

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

/// Gives (or with `None` takes away) the role of the account with this address.
pub async fn set_role(
    config: &Config,
    email: &str,
    role: Option<app::domain::role::Role>,
) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url).await?;
    let state = state(config, db)?;
    let result = app::ssr::services::roles::set_role(&Ctx::system(&state), email, role).await;
    state.db.close().await;
    result.map_err(|err| anyhow::anyhow!("{err}"))?;
    match role {
        Some(role) => println!("{} is now {}.", email.trim(), role.as_str()),
        None => println!("{} has no role now.", email.trim()),
    }
    Ok(())
}
