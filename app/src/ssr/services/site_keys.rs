//! Keys every node of one site must share, so that what one node signs another accepts (a
//! request may reach any node; a restart must not void what was signed before it): derived from
//! the `SECRET_KEY` setting when it is set, else made once and kept in the database, where every
//! node of that database, and every restart, finds the same one.

use crate::ssr::db::Db;
use crate::ssr::page_security::ErrorLinkKey;
use crate::ssr::storage::secrets;
use anyhow::Context;

/// The name the error-link key is kept under.
const ERROR_LINK_KEY: &str = "error_link_key";

/// The key that signs the error links of forms posted without JavaScript: derived from `secret`
/// (the `SECRET_KEY` setting) if given, else the one kept in the database, made now if this is
/// the first node to start.
#[tracing::instrument(skip_all)]
pub async fn error_link_key(db: &Db, secret: Option<&str>) -> anyhow::Result<ErrorLinkKey> {
    if let Some(secret) = secret {
        return Ok(ErrorLinkKey::derived_from(secret));
    }
    let fresh = ErrorLinkKey::default().to_hex();
    let mut tx = db
        .begin_write_keeping_reads()
        .await
        .context("failed to begin keeping the site's keys")?;
    secrets::insert_secret_if_absent(&mut tx, ERROR_LINK_KEY, &fresh)
        .await
        .context("failed to keep the error-link key")?;
    let kept = secrets::find_secret(&mut tx, ERROR_LINK_KEY)
        .await
        .context("failed to read the error-link key")?
        .context("the error-link key was not kept")?;
    tx.commit()
        .await
        .context("failed to keep the site's keys")?;
    ErrorLinkKey::from_hex(&kept).context("the kept error-link key is not 32 bytes of hex")
}
