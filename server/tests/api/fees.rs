//! Fees and the resale price cap (docs/RULES.md, "Fees and the resale cap"): what a buyer is shown and charged, what the order
//! keeps, and the cap on listing, editing and reselling.

use crate::helpers::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

fn with_fees(config: &mut server::Config) {
    config.buyer_fee_percent = app::domain::fees::Percent::parse("10").unwrap();
    config.seller_fee_percent = app::domain::fees::Percent::parse("5").unwrap();
}

fn with_cap(config: &mut server::Config) {
    config.resale_price_cap_percent = Some(app::domain::fees::Percent::parse("120").unwrap());
}

async fn list(app: &TestApp, seller: &Client, body: Value) -> reqwest::Response {
    app.post_json(seller, "/api/tickets", &body).await
}

#[tokio::test]
async fn the_buyer_sees_the_fee_and_pays_the_total_fixed_at_reservation() {
    let app = spawn_app_with(with_fees).await;
    let (seller, seller_email) = app.signed_in_user().await;
    let ticket = app
        .create_ticket(&seller, &json!({ "title": "Cup final", "price": 20.5 }))
        .await;
    assert_eq!(ticket["price"], json!(20.5));
    assert_eq!(ticket["buyerPrice"], json!(22.55));
    assert_eq!(ticket["faceValue"], Value::Null);

    let (buyer, buyer_email) = app.signed_in_user().await;
    // The price the buyer saw is the listing price, not the total.
    let response = app
        .post_json(
            &buyer,
            "/api/orders",
            &json!({ "ticketId": ticket["id"], "price": 20.5 }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["price"], json!(20.5));
    assert_eq!(order["fee"], json!(2.05));
    assert_eq!(order["total"], json!(22.55));

    let paid = app
        .post_json(
            &buyer,
            "/api/payments",
            &json!({ "orderId": order["id"], "token": "tok_visa" }),
        )
        .await;
    assert_eq!(paid.status(), StatusCode::CREATED);
    let charge: Value = paid.json().await.unwrap();
    assert_eq!(charge["amount"], json!(22.55), "the charge is the total");
    let charges = app.charges_of(order["id"].as_str().unwrap()).await;
    assert_eq!(charges[0].amount.cents(), 2255);

    let mail = app.mailbox().await;
    let receipt = mail
        .iter()
        .find(|m| m.to == buyer_email && m.subject.starts_with("Your ticket"))
        .unwrap();
    assert!(receipt.text.contains("Paid: $22.55"), "{}", receipt.text);
    let sold = mail
        .iter()
        .find(|m| m.to == seller_email && m.subject.starts_with("Sold"))
        .unwrap();
    assert!(sold.text.contains("You receive: $19.47"), "{}", sold.text);
}

#[tokio::test]
async fn without_fees_the_total_is_the_price() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    let ticket = app
        .create_ticket(&seller, &json!({ "title": "Gig", "price": 35 }))
        .await;
    assert_eq!(ticket["buyerPrice"], json!(35));
    let (buyer, _) = app.signed_in_user().await;
    let order: Value = app
        .post_json(&buyer, "/api/orders", &json!({ "ticketId": ticket["id"] }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(order["fee"], json!(0));
    assert_eq!(order["total"], json!(35));
}

#[tokio::test]
async fn with_a_cap_a_listing_needs_a_face_value_and_may_not_ask_more_than_the_cap() {
    let app = spawn_app_with(with_cap).await;
    let (seller, _) = app.signed_in_user().await;
    assert_errors(
        list(&app, &seller, json!({ "title": "Cup final", "price": 100 })).await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Face value is required while resale prices are capped", "field": "faceValue" }]),
    )
    .await;
    assert_errors(
        list(
            &app,
            &seller,
            json!({ "title": "Cup final", "price": 130, "faceValue": 100 }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Price is above the resale cap of 120.00", "field": "price" }]),
    )
    .await;
    for (face_value, message) in [
        (json!("100"), "Face value must be a number"),
        (json!(-5), "Face value must be greater than 0"),
        (json!(1e12), "Face value must be at most 1,000,000.00"),
        (json!(10.005), "Face value must have at most 2 decimals"),
        (json!("<b>100</b>"), "Face value must be a number"),
    ] {
        assert_errors(
            list(
                &app,
                &seller,
                json!({ "title": "Cup final", "price": 100, "faceValue": face_value }),
            )
            .await,
            StatusCode::BAD_REQUEST,
            json!([{ "message": message, "field": "faceValue" }]),
        )
        .await;
    }

    let ticket = app
        .create_ticket(
            &seller,
            &json!({ "title": "Cup final", "price": 120, "faceValue": 100 }),
        )
        .await;
    assert_eq!(ticket["faceValue"], json!(100));
    let id = ticket["id"].as_str().unwrap();
    // An edit that leaves the face value out keeps it, and the cap still applies.
    let edit = |body: Value| {
        let url = app.url(&format!("/api/tickets/{id}"));
        let seller = seller.clone();
        async move { seller.put(url).json(&body).send().await.unwrap() }
    };
    assert_errors(
        edit(json!({ "title": "Cup final", "price": 120.01 })).await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Price is above the resale cap of 120.00", "field": "price" }]),
    )
    .await;
    let response = edit(json!({ "title": "Cup final", "price": 110 })).await;
    assert_eq!(response.status(), StatusCode::OK);
    let edited: Value = response.json().await.unwrap();
    assert_eq!(edited["faceValue"], json!(100));
    assert_eq!(edited["price"], json!(110));
}

/// Buys `ticket` for a new buyer and returns the buyer's client.
async fn bought(app: &TestApp, ticket: &Value) -> Client {
    let (buyer, _) = app.signed_in_user().await;
    app.buy(&buyer, ticket["id"].as_str().unwrap()).await;
    buyer
}

#[tokio::test]
async fn a_resale_inherits_the_face_value_and_the_cap_follows_it() {
    let app = spawn_app_with(with_cap).await;
    let (seller, _) = app.signed_in_user().await;
    let ticket = app
        .create_ticket(
            &seller,
            &json!({ "title": "Cup final", "price": 110, "faceValue": 100 }),
        )
        .await;
    let buyer = bought(&app, &ticket).await;
    let path = format!("/api/tickets/{}/resell", ticket["id"].as_str().unwrap());

    // Only the holder may resell, signed in.
    assert_eq!(
        app.post_json(&client(), &path, &json!({ "price": 100 }))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.post_json(&seller, &path, &json!({ "price": 100 }))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // A face value sent with it does not raise the cap: the original's counts.
    assert_errors(
        app.post_json(&buyer, &path, &json!({ "price": 125, "faceValue": 500 }))
            .await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Price is above the resale cap of 120.00", "field": "price" }]),
    )
    .await;
    let response = app.post_json(&buyer, &path, &json!({ "price": 120 })).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let listing: Value = response.json().await.unwrap();
    assert_eq!(listing["faceValue"], json!(100));
    assert_eq!(listing["price"], json!(120));
    assert_ne!(listing["id"], ticket["id"]);

    // And again down the chain.
    let second_buyer = bought(&app, &listing).await;
    let path = format!("/api/tickets/{}/resell", listing["id"].as_str().unwrap());
    assert_errors(
        app.post_json(&second_buyer, &path, &json!({ "price": 121 }))
            .await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Price is above the resale cap of 120.00", "field": "price" }]),
    )
    .await;
    // Reselling twice is refused.
    let again = app
        .post_json(
            &buyer,
            &format!("/api/tickets/{}/resell", ticket["id"].as_str().unwrap()),
            &json!({ "price": 90 }),
        )
        .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn without_an_original_face_value_a_resale_is_capped_by_what_was_paid() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    let ticket = app
        .create_ticket(&seller, &json!({ "title": "Cup final", "price": 50 }))
        .await;
    let buyer = bought(&app, &ticket).await;
    let response = app
        .post_json(
            &buyer,
            &format!("/api/tickets/{}/resell", ticket["id"].as_str().unwrap()),
            &json!({ "price": 500 }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED, "no cap is set");
    let listing: Value = response.json().await.unwrap();
    assert_eq!(listing["faceValue"], json!(50), "what was paid");
}
