//! `ticketing seed --demo`: fills an empty database, and refuses one that has users.

use app::ssr::Db;
use app::ssr::clock::Clock;
use app::ssr::services::tickets::{BrowseCache, BrowseQuery, browse_tickets};
use server::Config;

#[tokio::test]
async fn seeding_fills_an_empty_database_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::defaults();
    config.database_url = format!("sqlite://{}", dir.path().join("demo.db").display());

    server::seed::run(&config, 3, 120)
        .await
        .expect("seeding an empty database");

    let db = Db::connect(&config.database_url).await.unwrap();
    let now = app::ssr::clock::SystemClock.now();
    let page = browse_tickets(&db, &BrowseCache::default(), &BrowseQuery::default(), now)
        .await
        .unwrap();
    assert_eq!(page.total, 120, "every demo listing is on sale");
    for category in ["sports", "concert", "theater", "other"] {
        let query = BrowseQuery {
            category: Some(category.to_string()),
            ..BrowseQuery::default()
        };
        assert!(
            browse_tickets(&db, &BrowseCache::default(), &query, now)
                .await
                .unwrap()
                .total
                > 0,
            "some {category} listings"
        );
    }
    let users = app::ssr::storage::users::count_users(&mut db.read.acquire().await.unwrap())
        .await
        .unwrap();
    assert_eq!(users, 3);
    let signed_in =
        app::ssr::services::users::sign_in(&db, "demo1@example.com", server::seed::DEMO_PASSWORD)
            .await;
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
