//! Mail: the outbox, the `.eml` default, and delivery to a real SMTP server (aiosmtpd),
//! including an outage while messages are queued.

use crate::helpers::*;
use crate::smtp::SmtpSink;
use app::ssr::Ctx;
use app::ssr::mail::letter::Letter;
use app::ssr::services::mail;
use app::ssr::storage::outbox;
use futures::future::join_all;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

/// A seller lists `title` at 20.00 and a buyer reserves it: (seller email, buyer, buyer email, order).
async fn reserved(app: &TestApp, title: &str) -> (String, Client, String, Value) {
    let (seller, seller_email) = app.signed_in_user().await;
    let ticket = app
        .create_ticket(&seller, &json!({ "title": title, "price": 20 }))
        .await;
    let (buyer, buyer_email) = app.signed_in_user().await;
    let response = app
        .post_json(&buyer, "/api/orders", &json!({ "ticketId": ticket["id"] }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    (
        seller_email,
        buyer,
        buyer_email,
        response.json().await.unwrap(),
    )
}

async fn pay(app: &TestApp, buyer: &Client, order: &Value, token: &str) -> StatusCode {
    app.post_json(
        buyer,
        "/api/payments",
        &json!({ "orderId": order["id"], "token": token }),
    )
    .await
    .status()
}

async fn ticket_code(app: &TestApp, order: &Value) -> String {
    let mut conn = app.state.db.read.acquire().await.unwrap();
    sqlx::query_scalar("SELECT code FROM ticket_codes WHERE ticket_id = $1 AND status = 'valid'")
        .bind(order["ticket"]["id"].as_str().unwrap())
        .fetch_one(&mut *conn)
        .await
        .unwrap()
}

/// What the app mailed, leaving out the sign-up verification links (accounts.rs tests those).
async fn mailed(app: &TestApp) -> Vec<Mail> {
    app.mailbox()
        .await
        .into_iter()
        .filter(|m| m.subject != "Confirm your email address")
        .collect()
}

async fn outbox_of(app: &TestApp) -> Vec<outbox::MailRecord> {
    let mut conn = app.state.db.read.acquire().await.unwrap();
    outbox::list_mail(&mut conn).await.unwrap()
}

fn addressed_to<'a>(mail: &'a [Mail], to: &str) -> Vec<&'a Mail> {
    mail.iter().filter(|m| m.to == to).collect()
}

#[tokio::test]
async fn a_sale_mails_the_buyer_a_receipt_with_the_code_and_tells_the_seller() {
    let app = spawn_app().await;
    let (seller, buyer, buyer_email, order) = reserved(&app, "Cup final").await;
    assert!(mailed(&app).await.is_empty(), "reserving sends nothing");
    assert_eq!(
        pay(&app, &buyer, &order, "tok_visa").await,
        StatusCode::CREATED
    );

    let mail = mailed(&app).await;
    assert_eq!(mail.len(), 2, "{mail:#?}");
    let receipt = addressed_to(&mail, &buyer_email);
    assert_eq!(receipt.len(), 1);
    let receipt = receipt[0];
    assert_eq!(receipt.subject, "Your ticket: Cup final");
    let code = ticket_code(&app, &order).await;
    assert!(receipt.text.contains(&code), "{}", receipt.text);
    assert!(receipt.html.contains(&code), "{}", receipt.html);
    assert!(receipt.text.contains("$20.00"));
    assert!(receipt.link("http").ends_with("/tickets/mine"));

    let sold = addressed_to(&mail, &seller);
    assert_eq!(sold.len(), 1);
    assert_eq!(sold[0].subject, "Sold: Cup final");
    assert!(
        !sold[0].text.contains(&code),
        "the seller never sees the code"
    );

    // Delivered mail is delivered once, however often the worker runs.
    assert_eq!(app.deliver_mail().await, 0);
    assert_eq!(mailed(&app).await.len(), 2);
    let records = outbox_of(&app).await;
    assert!(
        records
            .iter()
            .all(|r| r.sent_at.is_some() && r.attempts == 1)
    );
}

#[tokio::test]
async fn a_declined_card_mails_the_buyer_the_banks_reason() {
    let app = spawn_app().await;
    let (seller, buyer, buyer_email, order) = reserved(&app, "Cup final").await;
    assert_eq!(
        pay(&app, &buyer, &order, "tok_chargeDeclined").await,
        StatusCode::PAYMENT_REQUIRED
    );
    let mail = mailed(&app).await;
    assert_eq!(mail.len(), 1, "{mail:#?}");
    assert_eq!(mail[0].to, buyer_email);
    assert_eq!(mail[0].subject, "Payment declined: Cup final");
    assert!(
        mail[0].text.contains("Your card was declined."),
        "{}",
        mail[0].text
    );
    assert!(addressed_to(&mail, &seller).is_empty());
}

#[tokio::test]
async fn a_sellers_markup_in_a_title_reaches_mail_as_text_never_as_html() {
    let app = spawn_app().await;
    let title = "<img src=x onerror=alert(1)> \"Final\" & <b>co</b>";
    let (_, buyer, buyer_email, order) = reserved(&app, title).await;
    assert_eq!(
        pay(&app, &buyer, &order, "tok_visa").await,
        StatusCode::CREATED
    );
    let mail = mailed(&app).await;
    let receipt = addressed_to(&mail, &buyer_email)[0];
    assert_eq!(receipt.subject, format!("Your ticket: {title}"));
    assert!(receipt.text.contains(title));
    // The only images are the message's own QR codes, each carried inside it.
    assert_eq!(
        receipt.html.matches("<img").count(),
        receipt.html.matches("<img src=\"cid:qr.").count(),
        "{}",
        receipt.html
    );
    assert_eq!(receipt.qr_codes.len(), 1);
    assert!(!receipt.html.contains("<img src=x"), "{}", receipt.html);
    assert!(!receipt.html.contains("<b>co"), "{}", receipt.html);
    assert!(receipt.html.contains("&lt;img src=x onerror=alert(1)&gt;"));
}

#[tokio::test]
async fn queued_mail_survives_a_restart_and_is_sent_once() {
    let app = spawn_app().await;
    let (_, buyer, _, order) = reserved(&app, "Cup final").await;
    assert_eq!(
        pay(&app, &buyer, &order, "tok_visa").await,
        StatusCode::CREATED
    );
    // Stopped before any delivery round: the receipt, the "sold" notice and the two sign-up
    // links wait in the database.
    let app = app.stop().await.start().await;
    assert_eq!(app.deliver_mail().await, 4);
    assert_eq!(app.deliver_mail().await, 0);
    assert_eq!(mailed(&app).await.len(), 2);
}

/// `count` letters queued straight into the outbox, as services do inside their transactions.
async fn queue_letters(app: &TestApp, count: usize) -> Vec<String> {
    let mut tx = app.state.db.begin_write().await.unwrap();
    let mut recipients = Vec::new();
    for n in 0..count {
        let to = format!("fan{n}@example.com");
        let letter = Letter::new("test", &to, format!("Message {n}")).text("Hello.");
        mail::queue(&mut tx, &letter, app.clock.now())
            .await
            .unwrap();
        recipients.push(to);
    }
    tx.commit().await.unwrap();
    recipients
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_on_every_node_deliver_each_message_exactly_once() {
    let nodes = spawn_nodes(3, |_| {}).await;
    let recipients = queue_letters(&nodes[0], 60).await;
    // Two delivery rounds per node, all at once.
    let rounds =
        join_all(nodes.iter().chain(nodes.iter()).map(|node| async move {
            mail::deliver_due(&Ctx::system(&node.state)).await.unwrap()
        }))
        .await;
    assert_eq!(rounds.iter().sum::<usize>(), 60, "rounds: {rounds:?}");
    // Each node writes to its own folder: together they hold each message once.
    let mut delivered: Vec<String> = Vec::new();
    for node in &nodes {
        delivered.extend(read_mail_dir(&node.mail_dir()).into_iter().map(|m| m.to));
    }
    delivered.sort();
    let mut expected = recipients.clone();
    expected.sort();
    assert_eq!(delivered, expected);
    let records = outbox_of(&nodes[1]).await;
    assert!(
        records
            .iter()
            .all(|r| r.sent_at.is_some() && r.attempts == 1)
    );
}

#[tokio::test]
#[ignore = "needs aiosmtpd; .ci/test runs it with --ignored"]
async fn mail_reaches_a_real_smtp_server_with_both_parts() {
    let sink = SmtpSink::start();
    let app = spawn_app_with(|config| config.smtp_url = Some(sink.url())).await;
    let (seller, buyer, buyer_email, order) = reserved(&app, "Cup final — “quoted”").await;
    assert_eq!(
        pay(&app, &buyer, &order, "tok_visa").await,
        StatusCode::CREATED
    );
    assert_eq!(
        app.deliver_mail().await,
        4,
        "two sign-up links, a receipt, a sale"
    );

    let received = sink.received();
    assert_eq!(received.len(), 4, "{received:#?}");
    let receipt = addressed_to(&received, &buyer_email)
        .into_iter()
        .find(|m| m.subject.starts_with("Your ticket"))
        .expect("a receipt");
    assert_eq!(receipt.subject, "Your ticket: Cup final — “quoted”");
    assert!(receipt.raw.contains("multipart/alternative"));
    assert!(receipt.raw.contains("From: Ticketing <tickets@localhost>"));
    let code = ticket_code(&app, &order).await;
    assert!(receipt.text.contains(&code) && receipt.html.contains(&code));
    assert_eq!(
        addressed_to(&received, &seller)
            .iter()
            .filter(|m| m.subject.starts_with("Sold:"))
            .count(),
        1
    );
    assert!(
        read_mail_dir(&app.mail_dir()).is_empty(),
        "no .eml files with SMTP"
    );
}

#[tokio::test]
#[ignore = "needs aiosmtpd; .ci/test runs it with --ignored"]
async fn an_smtp_outage_delays_mail_but_loses_none_and_sends_none_twice() {
    let mut sink = SmtpSink::start();
    let app = spawn_app_with(|config| config.smtp_url = Some(sink.url())).await;
    sink.stop();
    let recipients = queue_letters(&app, 5).await;

    // The server is down: nothing is delivered, every message waits for its retry.
    assert_eq!(app.deliver_mail().await, 0);
    let records = outbox_of(&app).await;
    assert_eq!(records.len(), 5);
    for record in &records {
        assert!(record.sent_at.is_none() && record.failed_at.is_none());
        assert_eq!(record.attempts, 1);
        assert!(record.last_error.is_some());
    }
    // Not yet due: a round before the backoff has passed tries nothing.
    sink.resume();
    assert_eq!(app.deliver_mail().await, 0);
    assert!(sink.received().is_empty());

    // The retry comes due (the test clock moves, nobody waits), the server is back.
    app.clock.advance(app::domain::mail::retry_delay_ms(1));
    assert_eq!(app.deliver_mail().await, 5);
    assert_eq!(app.deliver_mail().await, 0);
    let mut delivered: Vec<String> = sink.received().into_iter().map(|m| m.to).collect();
    delivered.sort();
    assert_eq!(delivered, recipients);
    let records = outbox_of(&app).await;
    assert!(
        records
            .iter()
            .all(|r| r.sent_at.is_some() && r.attempts == 2)
    );
}
