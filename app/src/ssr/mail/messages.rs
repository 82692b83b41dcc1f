//! Every message the site sends, one function each. Links are absolute, under `PUBLIC_URL`.

use super::letter::Letter;
use crate::domain::money::format_money;

/// `PUBLIC_URL` without a trailing slash, joined to `path`.
pub fn link(public_url: &str, path: &str) -> String {
    format!("{}{}", public_url.trim_end_matches('/'), path)
}

/// After sign-up, and to a new address after an email change.
pub fn verify_email(to: &str, url: &str, new_address: bool) -> Letter {
    let opening = if new_address {
        "You asked to change the email address of your Ticketing account to this one."
    } else {
        "Welcome to Ticketing. Please confirm that this is your email address."
    };
    Letter::new("verify_email", to, "Confirm your email address")
        .text(opening)
        .action("Confirm my address", url)
        .text("The link works once and for 24 hours. If you did not ask for this, ignore this message.")
}

pub fn password_reset(to: &str, url: &str) -> Letter {
    Letter::new("password_reset", to, "Reset your password")
        .text("Someone (we hope you) asked to reset the password of your Ticketing account.")
        .action("Choose a new password", url)
        .text(
            "The link works once and for 30 minutes; using it signs you out everywhere else. \
             If you did not ask for this, ignore this message: your password stays as it is.",
        )
}

/// To the owner, after a password change or reset.
pub fn password_changed(to: &str) -> Letter {
    Letter::new("password_changed", to, "Your password was changed")
        .text(
            "The password of your Ticketing account was just changed, and every other place \
             you were signed in has been signed out.",
        )
        .text(
            "If this was not you, reset your password now with “Forgot password?” on the \
             sign-in page, and check your account's sessions.",
        )
}

/// To the owner, when two-factor sign-in is turned on or off.
pub fn two_factor_changed(to: &str, on: bool) -> Letter {
    let (subject, text) = if on {
        (
            "Two-factor sign-in is on",
            "Signing in to your Ticketing account now also asks for a code from your \
             authenticator app. Keep your recovery codes somewhere safe: each one signs you in \
             once if you lose your phone.",
        )
    } else {
        (
            "Two-factor sign-in is off",
            "Signing in to your Ticketing account no longer asks for a code from your \
             authenticator app.",
        )
    };
    Letter::new("two_factor", to, subject)
        .text(text)
        .text("If this was not you, change your password now and turn two-factor sign-in back on.")
}

/// To the old address, when the account moved to a new one.
pub fn email_changed(to: &str, new_address: &str) -> Letter {
    Letter::new("email_changed", to, "Your email address was changed")
        .text(format!(
            "Your Ticketing account now uses the address {new_address}; messages will go there \
             from now on."
        ))
        .text(
            "If this was not you, someone who knows your password has taken the account: \
             contact the site's operator at once.",
        )
}

/// To a buyer whose payment went through.
pub struct Receipt<'a> {
    pub to: &'a str,
    pub title: &'a str,
    pub price_cents: i64,
    pub currency: &'a str,
    pub order_id: &'a str,
    /// Each ticket of the order, in seat order: its seat's label (if it has one) and its code.
    pub tickets: &'a [(Option<String>, String)],
    pub tickets_url: &'a str,
}

/// An order's title in a subject or a sentence: its first ticket's, and how many more.
pub fn order_title(first: &str, tickets: usize) -> String {
    match tickets {
        0 | 1 => first.to_string(),
        2 => format!("{first} and 1 more ticket"),
        n => format!("{first} and {} more tickets", n - 1),
    }
}

pub fn receipt(r: &Receipt<'_>) -> Letter {
    let (subject, sentence) = match r.tickets.len() {
        0 | 1 => (
            format!("Your ticket: {}", r.title),
            format!(
                "Thank you for your purchase. Your ticket for “{}” is yours.",
                r.title
            ),
        ),
        n => (
            format!("Your {n} tickets: {}", r.title),
            format!(
                "Thank you for your purchase. Your {n} tickets for “{}” are yours.",
                r.title
            ),
        ),
    };
    let mut letter = Letter::new("receipt", r.to, subject)
        .text(sentence)
        .fact("Event", r.title)
        .fact("Paid", format_money(r.price_cents, r.currency))
        .fact("Order", r.order_id);
    for (n, (seat, code)) in r.tickets.iter().enumerate() {
        let label = match (r.tickets.len(), seat) {
            (1, None) => "Ticket code (show it at the door)".to_string(),
            (1, Some(seat)) => format!("{seat}: ticket code (show it at the door)"),
            (_, Some(seat)) => format!("{seat}: ticket code"),
            (_, None) => format!("Ticket {}: ticket code", n + 1),
        };
        letter = letter.code(label, code);
    }
    letter.action("See your tickets and QR codes", r.tickets_url)
}

/// To a seller whose listing was bought and paid; `earning_cents` is the price less the
/// seller's fee.
pub fn ticket_sold(to: &str, title: &str, earning_cents: i64, currency: &str, url: &str) -> Letter {
    Letter::new("ticket_sold", to, format!("Sold: {title}"))
        .text(format!(
            "Good news: your ticket “{title}” has been sold and paid for."
        ))
        .fact("Ticket", title)
        .fact("You receive", format_money(earning_cents, currency))
        .action("See your listings", url)
}

/// To a buyer whose bank said no.
pub fn payment_declined(to: &str, title: &str, reason: &str, url: &str) -> Letter {
    Letter::new("payment_declined", to, format!("Payment declined: {title}"))
        .text(format!(
            "Your payment for “{title}” was declined, so the reservation has ended and the ticket \
             is back on sale."
        ))
        .fact("Reason given by the bank", reason)
        .action("Find the ticket again", url)
}

/// To a buyer whose money arrived after the reservation had ended.
pub fn late_payment_refunded(
    to: &str,
    title: &str,
    amount_cents: i64,
    currency: &str,
    url: &str,
) -> Letter {
    Letter::new("late_payment_refunded", to, format!("Refunded: {title}"))
        .text(format!(
            "Your payment for “{title}” arrived after your reservation had run out, so the ticket \
         was no longer held for you. We have refunded the whole amount; your bank shows it within \
         a few days."
        ))
        .fact("Refunded", format_money(amount_cents, currency))
        .action("Browse tickets", url)
}

/// To a seller whose available balance was sent to their payout account.
pub fn payout_sent(to: &str, amount_cents: i64, currency: &str, url: &str) -> Letter {
    let amount = format_money(amount_cents, currency);
    Letter::new("payout_sent", to, format!("Payout sent: {amount}"))
        .text(
            "We have sent your available earnings to your payout account. Your bank usually \
             shows the money within a few working days.",
        )
        .fact("Amount", amount)
        .action("See your payouts", url)
}

/// To a buyer whose paid order was refunded in full.
pub fn order_refunded(
    to: &str,
    title: &str,
    amount_cents: i64,
    currency: &str,
    reason: &str,
    url: &str,
) -> Letter {
    Letter::new("order_refunded", to, format!("Refunded: {title}"))
        .text(format!(
            "Your order for “{title}” has been refunded in full and its ticket code no longer \
             admits anyone. Your bank shows the money within a few days."
        ))
        .fact("Refunded", format_money(amount_cents, currency))
        .fact("Reason", reason)
        .action("Browse tickets", url)
}

/// To the seller of a sale that was refunded: the earning is reversed and the ticket is on sale
/// again.
pub fn sale_refunded(
    to: &str,
    title: &str,
    earning_cents: i64,
    currency: &str,
    reason: &str,
    url: &str,
) -> Letter {
    Letter::new("sale_refunded", to, format!("Sale refunded: {title}"))
        .text(format!(
            "The sale of your ticket “{title}” was refunded to the buyer, so its earning is \
             reversed. The ticket is on sale again at its current price; you can edit or \
             withdraw the listing."
        ))
        .fact("Earning reversed", format_money(earning_cents, currency))
        .fact("Reason", reason)
        .action("See your payouts", url)
}

/// To someone with an account who was given a ticket.
pub fn ticket_received(to: &str, from: &str, title: &str, url: &str) -> Letter {
    Letter::new("ticket_received", to, format!("A ticket for you: {title}"))
        .text(format!(
            "{from} has given you their ticket “{title}”. It is in your account now, with the \
             code that gets you in."
        ))
        .fact("Ticket", title)
        .action("See your tickets", url)
}

/// To an address without an account that was given a ticket.
pub fn transfer_invitation(to: &str, from: &str, title: &str, url: &str) -> Letter {
    Letter::new(
        "transfer_invitation",
        to,
        format!("A ticket for you: {title}"),
    )
    .text(format!(
        "{from} wants to give you their ticket “{title}” on Ticketing. Make an account with \
             this email address and the ticket is yours, with the code that gets you in."
    ))
    .fact("Ticket", title)
    .action("Make my account", url)
    .text("If you do not know the sender, ignore this message.")
}

/// To a seller whose listing an admin took down.
pub fn listing_taken_down(to: &str, title: &str, reason: &str, url: &str) -> Letter {
    Letter::new(
        "listing_taken_down",
        to,
        format!("Listing taken down: {title}"),
    )
    .text(format!(
        "Your listing “{title}” was taken down by the site's operator and is no longer on \
             sale. Anyone holding a reservation for it has been released."
    ))
    .fact("Reason", reason)
    .text("If you think this is a mistake, reply to this message.")
    .action("See your listings", url)
}

/// To a buyer whose reservation ended because the listing was taken down.
pub fn reservation_withdrawn(to: &str, title: &str, url: &str) -> Letter {
    Letter::new(
        "reservation_withdrawn",
        to,
        format!("Your reservation ended: {title}"),
    )
    .text(format!(
        "The listing “{title}” you reserved was taken down by the site's operator, so your \
         reservation has ended. You have not been charged; if a payment was under way it is \
         refunded in full."
    ))
    .action("Browse other tickets", url)
}

/// To a holder of a ticket for an event whose date, time or venue changed.
pub fn event_changed(to: &str, event: &str, when: &str, venue: &str, url: &str) -> Letter {
    Letter::new("event_changed", to, format!("Changed: {event}"))
        .text(format!(
            "The organiser of “{event}” has changed its date, time or venue. Your ticket and \
             its code stay valid; this is when and where it is now."
        ))
        .fact("When", when)
        .fact("Where", venue)
        .action("See your tickets", url)
}

/// Who is told of an event's cancellation, and what it means for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelledFor {
    /// Holds a ticket, or paid for one: its code is void, the order that paid is refunded.
    Holder,
    /// Had a reservation, now ended.
    Reservation,
    /// Had a resale listing on sale, now withdrawn.
    Reseller,
    /// Runs the event: `refunds` orders are being refunded.
    Organiser { refunds: u64 },
}

/// To everyone an event's cancellation touches (see [`CancelledFor`]).
pub fn event_cancelled(
    to: &str,
    event: &str,
    reason: &str,
    part: CancelledFor,
    url: &str,
) -> Letter {
    let letter = Letter::new("event_cancelled", to, format!("Cancelled: {event}"));
    let letter = match part {
        CancelledFor::Holder => letter.text(format!(
            "“{event}” has been cancelled by its organiser. Every ticket for it is void, and \
             every order for it is refunded in full to the card that paid; if you paid for a \
             ticket, your bank shows the money within a few days."
        )),
        CancelledFor::Reservation => letter.text(format!(
            "“{event}” has been cancelled by its organiser, so your reservation has ended. You \
             have not been charged; if a payment was under way it is refunded in full."
        )),
        CancelledFor::Reseller => letter.text(format!(
            "“{event}” has been cancelled by its organiser, so your resale listing is \
             withdrawn. The ticket you bought for it is refunded to you in full."
        )),
        CancelledFor::Organiser { refunds } => letter
            .text(format!(
                "“{event}” is cancelled. Its seats are off sale, every code is void, and every \
                 order is being refunded in full; its holders and resale sellers have been told."
            ))
            .fact("Orders to refund", refunds.to_string()),
    };
    letter
        .fact("Reason", reason)
        .action("See your tickets", url)
}

/// To a user whose account was suspended.
pub fn account_suspended(to: &str, reason: &str) -> Letter {
    Letter::new("account_suspended", to, "Your account is suspended")
        .text(
            "The site's operator has suspended your Ticketing account: you have been signed \
             out, you cannot sign in, and your listings are off sale. Tickets you bought stay \
             yours.",
        )
        .fact("Reason", reason)
        .text("If you think this is a mistake, reply to this message.")
}

/// To a user whose suspension was lifted.
pub fn account_reinstated(to: &str, url: &str) -> Letter {
    Letter::new("account_reinstated", to, "Your account is active again")
        .text(
            "The suspension of your Ticketing account has been lifted: you can sign in again, \
             and your unsold listings are back on sale.",
        )
        .action("Sign in", url)
}

/// To a seller whose payouts an admin held or released.
pub fn payouts_held(to: &str, held: bool, reason: &str, url: &str) -> Letter {
    let letter = if held {
        Letter::new("payouts_held", to, "Your payouts are on hold").text(
            "The site's operator has put your payouts on hold: your earnings are kept safe \
             and still released from escrow, but nothing is sent until the hold is lifted.",
        )
    } else {
        Letter::new("payouts_released", to, "Your payouts are resumed").text(
            "The hold on your payouts has been lifted: your available earnings will be sent \
             to your payout account shortly.",
        )
    };
    letter
        .fact("Reason", reason)
        .action("See your payouts", url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_join_the_public_url_once() {
        assert_eq!(
            link("https://t.example/", "/auth/verify?token=abc"),
            "https://t.example/auth/verify?token=abc"
        );
        assert_eq!(
            link("http://127.0.0.1:3000", "/x"),
            "http://127.0.0.1:3000/x"
        );
    }

    #[test]
    fn a_receipt_carries_the_ticket_code_and_what_was_paid() {
        let letter = receipt(&Receipt {
            to: "b@example.com",
            title: "Cup <final>",
            price_cents: 2050,
            currency: "usd",
            order_id: "o1",
            tickets: &[(None, "ABCD-1234".into())],
            tickets_url: "https://t.example/tickets/mine",
        });
        let text = letter.plain_text();
        assert!(
            text.contains("ABCD-1234") && text.contains("$20.50"),
            "{text}"
        );
        assert!(letter.html().contains("Cup &lt;final&gt;"));
        assert_eq!(letter.subject, "Your ticket: Cup <final>");
    }

    #[test]
    fn a_receipt_of_several_seats_lists_each_seat_with_its_own_code() {
        let seats = [
            (Some("Row <A>, Seat 1".to_string()), "TKT-1111".to_string()),
            (Some("Row <A>, Seat 2".to_string()), "TKT-2222".to_string()),
            (Some("Row B, Seat 9".to_string()), "TKT-3333".to_string()),
        ];
        let letter = receipt(&Receipt {
            to: "b@example.com",
            title: "Show — Stalls",
            price_cents: 9000,
            currency: "usd",
            order_id: "o1",
            tickets: &seats,
            tickets_url: "https://t.example/tickets/mine",
        });
        assert_eq!(letter.subject, "Your 3 tickets: Show — Stalls");
        let text = letter.plain_text();
        for (seat, code) in &seats {
            let line = format!("{}: ticket code", seat.as_deref().unwrap());
            assert!(
                text.contains(&line) && text.contains(code.as_str()),
                "{text}"
            );
        }
        assert!(letter.html().contains("Row &lt;A&gt;, Seat 2"));
        assert!(!letter.html().contains("Row <A>"));
        assert_eq!(order_title("Show", 1), "Show");
        assert_eq!(order_title("Show", 2), "Show and 1 more ticket");
        assert_eq!(order_title("Show", 4), "Show and 3 more tickets");
    }
}
