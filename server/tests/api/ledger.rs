//! The ledger in the database (docs/RULES.md, "Fees and the resale cap"): every completed sale writes one balanced transaction
//! in the same database transaction, and balances are sums of entries.

use crate::helpers::*;
use app::domain::Id;
use app::domain::ledger::Account;
use app::ssr::storage::ledger;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn with_fees(config: &mut server::Config) {
    config.buyer_fee_percent = app::domain::fees::Percent::parse("10").unwrap();
    config.seller_fee_percent = app::domain::fees::Percent::parse("5").unwrap();
    config.max_live_orders = 0;
    config.order_rate_limit = 0;
}

async fn sums(app: &TestApp, sellers: &[Id]) -> (i64, i64, Vec<(i64, i64)>) {
    let mut conn = app.state.db.read.acquire().await.unwrap();
    let provider = ledger::sum(&mut conn, &Account::Provider).await.unwrap();
    let fees = -ledger::sum(&mut conn, &Account::PlatformFees)
        .await
        .unwrap();
    let mut owed = Vec::new();
    for seller in sellers {
        let pending = -ledger::sum(&mut conn, &Account::SellerPending(seller.clone()))
            .await
            .unwrap();
        let available = -ledger::sum(&mut conn, &Account::SellerAvailable(seller.clone()))
            .await
            .unwrap();
        owed.push((pending, available));
    }
    (provider, fees, owed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_sale_writes_one_balanced_transaction_and_balances_add_up() {
    let app = spawn_app_with(with_fees).await;
    let mut sellers = Vec::new();
    let mut tickets = Vec::new();
    for (n, price) in [20.5, 13.33, 99.99].iter().enumerate() {
        let (seller, _) = app.signed_in_user().await;
        sellers.push(Id::parse(app.current_user(&seller).await["id"].as_str().unwrap()).unwrap());
        for k in 0..3 {
            tickets.push(
                app.create_ticket(
                    &seller,
                    &json!({ "title": format!("Seat {n}-{k}"), "price": price }),
                )
                .await,
            );
        }
    }
    let (buyer, _) = app.signed_in_user().await;
    let mut orders = Vec::new();
    for ticket in &tickets {
        let order: Value = app
            .post_json(&buyer, "/api/orders", &json!({ "ticketId": ticket["id"] }))
            .await
            .json()
            .await
            .unwrap();
        orders.push(order);
    }
    // Every payment at once, and each one twice: one sale per order whatever races.
    let paid = join_all(orders.iter().chain(orders.iter()).map(|order| {
        let body = json!({ "orderId": order["id"], "token": "tok_visa" });
        let buyer = &buyer;
        let app = &app;
        async move { app.post_json(buyer, "/api/payments", &body).await.status() }
    }))
    .await;
    // The second payment of an order finds it paid or waits for the first.
    assert!(
        paid.iter()
            .all(|s| [StatusCode::CREATED, StatusCode::BAD_REQUEST].contains(s)),
        "{paid:?}"
    );

    let mut conn = app.state.db.read.acquire().await.unwrap();
    assert_eq!(ledger::unbalanced_transactions(&mut conn).await.unwrap(), 0);
    let sales: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM ledger_transactions WHERE kind = 'sale'")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    assert_eq!(sales, 9, "one sale per paid order");
    drop(conn);

    let (provider, fees, owed) = sums(&app, &sellers).await;
    // 3 × (22.55 + 14.66 + 109.99) taken from the buyer's card.
    assert_eq!(provider, 3 * (2255 + 1466 + 10999));
    // Pending per seller: 3 × the price less 5 %.
    assert_eq!(owed, vec![(3 * 1947, 0), (3 * 1266, 0), (3 * 9499, 0)]);
    assert_eq!(
        provider,
        owed.iter().map(|(p, a)| p + a).sum::<i64>() + fees
    );
}
