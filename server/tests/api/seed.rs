//! `ticketing seed --demo`: fills an empty database, and refuses one that has users.

use app::domain::BrowseQuery;
use app::ssr::clock::SystemClock;
use app::ssr::services::browse::browse_tickets;
use app::ssr::services::users::{Credentials, check_credentials};
use app::ssr::{Ctx, Db};
use server::Config;
use std::sync::Arc;

#[tokio::test]
async fn seeding_fills_an_empty_database_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::defaults();
    config.database_url = format!("sqlite://{}", dir.path().join("demo.db").display());

    server::seed::run(&config, 3, 120)
        .await
        .expect("seeding an empty database");

    let db = Db::connect(&config.database_url).await.unwrap();
    let state = server::startup::offline_state(&config, db.clone(), Arc::new(SystemClock)).unwrap();
    let ctx = Ctx::system(&state);
    let page = browse_tickets(&ctx, &BrowseQuery::default()).await.unwrap();
    assert_eq!(page.total, 120, "every demo listing is on sale");
    for category in ["sports", "concert", "theater", "other"] {
        let query = BrowseQuery {
            category: Some(category.to_string()),
            ..BrowseQuery::default()
        };
        assert!(
            browse_tickets(&ctx, &query).await.unwrap().total > 0,
            "some {category} listings"
        );
    }
    let users = app::ssr::storage::users::count_users(&mut db.read.acquire().await.unwrap())
        .await
        .unwrap();
    assert_eq!(users, 3);
    let demo = Credentials {
        email: "demo1@example.com".into(),
        password: server::seed::DEMO_PASSWORD.into(),
        ..Default::default()
    };
    let signed_in = check_credentials(&ctx, &demo).await;
    assert!(
        signed_in.is_ok(),
        "the demo account signs in with the documented password"
    );
    db.close().await;

    let again = server::seed::run(&config, 3, 120)
        .await
        .expect_err("a database with users is refused");
    assert!(again.to_string().contains("already has 3 users"), "{again}");
}
