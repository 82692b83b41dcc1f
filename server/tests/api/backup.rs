//! `ticketing backup PATH`: a consistent copy of a SQLite database that is being written to.

use crate::helpers::*;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_backup_taken_under_write_load_opens_and_passes_the_integrity_check() {
    if on_postgres() {
        return; // pg_dump is PostgreSQL's answer; `ticketing backup` refuses it (tested below).
    }
    let app = spawn_app_with(|config| {
        config.order_rate_limit = 0;
        config.max_live_orders = 0;
    })
    .await;
    let (seller, _) = app.signed_in_user().await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // The copy starts once each of four writers has listed a ticket; they go on listing until
    // it is done.
    let started = std::sync::Arc::new(tokio::sync::Barrier::new(5));
    let writers = (0..4).map(|w| {
        let (app, seller, stop, started) = (&app, seller.clone(), stop.clone(), started.clone());
        async move {
            let mut listed = 0;
            loop {
                let created = app
                    .post_json(
                        &seller,
                        "/api/tickets",
                        &json!({ "title": format!("Load {w}-{listed}"), "price": 10 }),
                    )
                    .await;
                assert_eq!(created.status(), StatusCode::CREATED);
                listed += 1;
                if listed == 1 {
                    started.wait().await;
                }
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    return listed;
                }
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("copy.db");
    let backup = {
        let (config, target, stop) = (app.config.clone(), target.clone(), stop.clone());
        let started = started.clone();
        async move {
            started.wait().await;
            let result = server::operator::backup(&config, &target).await;
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            result
        }
    };
    let (listed, backed_up) = futures::join!(join_all(writers), backup);
    backed_up.expect("the backup");
    let listed: usize = listed.iter().sum();

    // The copy is a database of its own: whole, with the schema, and as of one moment.
    let copy = app::ssr::Db::open(&format!("sqlite://{}", target.display()))
        .await
        .unwrap();
    let mut conn = copy.read.acquire().await.unwrap();
    assert_eq!(
        app::ssr::storage::backup::integrity_check(&mut conn)
            .await
            .unwrap(),
        vec!["ok".to_string()]
    );
    let copied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    // Each writer had listed one before the copy began, and the rest went on meanwhile.
    assert!(
        copied >= 4 && copied as usize <= listed,
        "{copied} of {listed}"
    );
    let events: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM event_log WHERE event_type = 'TicketCreated'")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    assert_eq!(
        events, copied,
        "each copied listing with its event, and no event without one"
    );
    drop(conn);
    copy.close().await;

    // A second backup to the same file is refused, leaving the first alone.
    let again = server::operator::backup(&app.config, &target).await;
    assert!(again.unwrap_err().to_string().contains("exists already"));
}

#[tokio::test]
async fn a_postgresql_deployment_is_told_to_use_pg_dump() {
    let mut config = server::Config::defaults();
    config.database_url = "postgres://u:p@127.0.0.1:1/db".to_string();
    let refused = server::operator::backup(&config, std::path::Path::new("/tmp/never.db")).await;
    assert!(refused.unwrap_err().to_string().contains("pg_dump"));
}
