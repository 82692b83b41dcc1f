//! Stripe webhook signatures: `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`, where
//! the HMAC is keyed with the endpoint's secret over `"<t>.<raw body>"`. A signature is good when
//! any `v1` matches (compared in constant time) and `t` is within the tolerance of now, so a
//! captured request cannot be replayed later.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Stripe's default: five minutes either way.
pub const TOLERANCE_SECONDS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing or malformed Stripe-Signature header")]
    Malformed,
    #[error("signature timestamp outside the tolerance")]
    Stale,
    #[error("no signature matches")]
    Mismatch,
}

fn mac(secret: &str, timestamp: i64, payload: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}

/// Checks `header` against `payload` and `secret` at `now_seconds`.
pub fn verify(
    payload: &[u8],
    header: &str,
    secret: &str,
    now_seconds: i64,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.extend(hex::decode(value).ok()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now_seconds - timestamp).abs() > TOLERANCE_SECONDS {
        return Err(SignatureError::Stale);
    }
    let expected = mac(secret, timestamp, payload);
    if signatures
        .iter()
        .any(|signature| expected.clone().verify_slice(signature).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Checks `header` against each of the comma-separated `secrets` (Stripe signs the platform's
/// own events and its connected accounts' events, such as `account.updated`, with the secrets of
/// two different endpoints, which may share one URL). Accepted when any one verifies.
pub fn verify_any(
    payload: &[u8],
    header: &str,
    secrets: &str,
    now_seconds: i64,
) -> Result<(), SignatureError> {
    let mut outcome = Err(SignatureError::Mismatch);
    for secret in secrets.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match verify(payload, header, secret, now_seconds) {
            Ok(()) => return Ok(()),
            Err(err) => outcome = Err(err),
        }
    }
    outcome
}

/// The header Stripe would send for `payload` at `timestamp` (for tests and tools).
pub fn sign(payload: &[u8], secret: &str, timestamp: i64) -> String {
    let signature = hex::encode(mac(secret, timestamp, payload).finalize().into_bytes());
    format!("t={timestamp},v1={signature}")
}

/// A verified Stripe delivery, decoded into what the payments service acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    /// Stripe's event id: a repeated delivery carries the same one.
    pub id: String,
    /// The event type as Stripe names it (kept in the record of applied events).
    pub event_type: String,
    pub kind: EventKind,
}

/// Which of our charges a Stripe object is about: the `charge_id` we put in its metadata (or
/// as a checkout's `client_reference_id`), and Stripe's own id of it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChargeRef {
    pub charge_id: Option<String>,
    pub stripe_id: Option<String>,
}

/// The events the service uses; any other type is acknowledged and ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// `payment_intent.succeeded`.
    PaymentSucceeded {
        charge: ChargeRef,
        payment_intent: String,
    },
    /// `payment_intent.payment_failed`, with the bank's reason.
    PaymentFailed {
        charge: ChargeRef,
        payment_intent: Option<String>,
        message: String,
    },
    /// `checkout.session.completed` with `payment_status: paid`.
    CheckoutPaid {
        charge: ChargeRef,
        payment_intent: String,
    },
    /// `charge.refunded`: a refund made at Stripe (for example from its dashboard).
    Refunded {
        charge: ChargeRef,
        refund_id: String,
    },
    /// `account.updated`: a seller's connected account changed (onboarding finished, or the
    /// provider restricted it).
    AccountUpdated {
        account: String,
        state: crate::domain::payout::ProviderAccount,
    },
    /// Anything else, including a checkout completed without payment.
    Ignored,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("The request body is not valid JSON")]
    NotJson,
    #[error("The event has no id or type")]
    NoIdOrType,
}

/// Decodes a delivery whose signature was verified.
pub fn decode(body: &[u8]) -> Result<WebhookEvent, DecodeError> {
    let event: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| DecodeError::NotJson)?;
    let (Some(id), Some(event_type)) = (event["id"].as_str(), event["type"].as_str()) else {
        return Err(DecodeError::NoIdOrType);
    };
    let object = &event["data"]["object"];
    let text = |value: &serde_json::Value| value.as_str().map(str::to_string);
    let ours =
        text(&object["metadata"]["charge_id"]).or_else(|| text(&object["client_reference_id"]));
    let charge = |stripe_id: Option<String>| ChargeRef {
        charge_id: ours.clone(),
        stripe_id,
    };
    let kind = match event_type {
        "payment_intent.succeeded" => match text(&object["id"]) {
            Some(pi) => EventKind::PaymentSucceeded {
                charge: charge(Some(pi.clone())),
                payment_intent: pi,
            },
            None => EventKind::Ignored,
        },
        "payment_intent.payment_failed" => EventKind::PaymentFailed {
            charge: charge(text(&object["id"])),
            payment_intent: text(&object["id"]),
            message: text(&object["last_payment_error"]["message"])
                .unwrap_or_else(|| "Your card was declined.".to_string()),
        },
        "checkout.session.completed" => {
            match (
                object["payment_status"].as_str(),
                text(&object["payment_intent"]),
            ) {
                (Some("paid"), Some(pi)) => EventKind::CheckoutPaid {
                    charge: charge(text(&object["id"])),
                    payment_intent: pi,
                },
                _ => EventKind::Ignored,
            }
        }
        "charge.refunded" => EventKind::Refunded {
            charge: charge(text(&object["payment_intent"])),
            refund_id: text(&object["refunds"]["data"][0]["id"])
                .unwrap_or_else(|| "refunded at Stripe".to_string()),
        },
        "account.updated" => match text(&object["id"]) {
            Some(account) => EventKind::AccountUpdated {
                account,
                state: crate::domain::payout::ProviderAccount {
                    transfers_active: object["capabilities"]["transfers"].as_str()
                        == Some("active"),
                    details_submitted: object["details_submitted"].as_bool().unwrap_or(false),
                    disabled_reason: text(&object["requirements"]["disabled_reason"]),
                },
            },
            None => EventKind::Ignored,
        },
        _ => EventKind::Ignored,
    };
    Ok(WebhookEvent {
        id: id.to_string(),
        event_type: event_type.to_string(),
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;

    #[test]
    fn either_of_two_endpoint_secrets_verifies() {
        let header = sign(BODY, "whsec_connect", 1_000);
        assert_eq!(
            verify_any(BODY, &header, "whsec_platform, whsec_connect", 1_000),
            Ok(())
        );
        assert_eq!(verify_any(BODY, &header, "whsec_connect", 1_000), Ok(()));
        assert_eq!(
            verify_any(BODY, &header, "whsec_platform", 1_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_any(BODY, &header, " , ", 1_000),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn deliveries_decode_into_the_events_the_service_uses() {
        let succeeded = br#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","metadata":{"charge_id":"c1"}}}}"#;
        assert_eq!(
            decode(succeeded).unwrap().kind,
            EventKind::PaymentSucceeded {
                charge: ChargeRef {
                    charge_id: Some("c1".into()),
                    stripe_id: Some("pi_1".into())
                },
                payment_intent: "pi_1".into()
            }
        );
        let failed = br#"{"id":"evt_2","type":"payment_intent.payment_failed","data":{"object":{"id":"pi_2"}}}"#;
        assert_eq!(
            decode(failed).unwrap().kind,
            EventKind::PaymentFailed {
                charge: ChargeRef {
                    charge_id: None,
                    stripe_id: Some("pi_2".into())
                },
                payment_intent: Some("pi_2".into()),
                message: "Your card was declined.".into()
            }
        );
        let unpaid = br#"{"id":"evt_3","type":"checkout.session.completed","data":{"object":{"id":"cs_1","payment_status":"unpaid","client_reference_id":"c3"}}}"#;
        assert_eq!(decode(unpaid).unwrap().kind, EventKind::Ignored);
        let paid = br#"{"id":"evt_4","type":"checkout.session.completed","data":{"object":{"id":"cs_1","payment_status":"paid","payment_intent":"pi_4","client_reference_id":"c4"}}}"#;
        assert_eq!(
            decode(paid).unwrap().kind,
            EventKind::CheckoutPaid {
                charge: ChargeRef {
                    charge_id: Some("c4".into()),
                    stripe_id: Some("cs_1".into())
                },
                payment_intent: "pi_4".into()
            }
        );
        let account = br#"{"id":"evt_6","type":"account.updated","data":{"object":{"id":"acct_1","capabilities":{"transfers":"active"},"details_submitted":true,"requirements":{"disabled_reason":null}}}}"#;
        assert_eq!(
            decode(account).unwrap().kind,
            EventKind::AccountUpdated {
                account: "acct_1".into(),
                state: crate::domain::payout::ProviderAccount {
                    transfers_active: true,
                    details_submitted: true,
                    disabled_reason: None,
                },
            }
        );
        let refunded = br#"{"id":"evt_5","type":"charge.refunded","data":{"object":{"payment_intent":"pi_5","refunds":{"data":[{"id":"re_5"}]}}}}"#;
        assert_eq!(
            decode(refunded).unwrap().kind,
            EventKind::Refunded {
                charge: ChargeRef {
                    charge_id: None,
                    stripe_id: Some("pi_5".into())
                },
                refund_id: "re_5".into()
            }
        );
        let other = decode(br#"{"id":"evt_6","type":"customer.created"}"#).unwrap();
        assert_eq!(
            (other.event_type.as_str(), other.kind),
            ("customer.created", EventKind::Ignored)
        );
        assert_eq!(decode(b"<xml/>"), Err(DecodeError::NotJson));
        assert_eq!(decode(br#"{"type":"x"}"#), Err(DecodeError::NoIdOrType));
    }

    #[test]
    fn a_fresh_signature_of_the_exact_body_verifies() {
        let header = sign(BODY, SECRET, 1_000_000);
        assert_eq!(verify(BODY, &header, SECRET, 1_000_000), Ok(()));
        assert_eq!(verify(BODY, &header, SECRET, 1_000_300), Ok(()));
        // Stripe may send several signatures (secret rotation): any match counts.
        let rotated = format!("{header},v1={}", "00".repeat(32));
        assert_eq!(verify(BODY, &rotated, SECRET, 1_000_000), Ok(()));
    }

    #[test]
    fn tampering_a_wrong_secret_or_a_stale_timestamp_is_refused() {
        let header = sign(BODY, SECRET, 1_000_000);
        let tampered = br#"{"id":"evt_1","type":"payment_intent.succeeded","x":1}"#;
        assert_eq!(
            verify(tampered, &header, SECRET, 1_000_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(BODY, &header, "whsec_other", 1_000_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(BODY, &header, SECRET, 1_000_301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(BODY, "", SECRET, 1_000_000),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(BODY, "t=1000000", SECRET, 1_000_000),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(BODY, "v1=abcd", SECRET, 1_000_000),
            Err(SignatureError::Malformed)
        );
    }
}
