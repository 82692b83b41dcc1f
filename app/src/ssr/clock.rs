//! The one place the server reads the wall clock; services pass the time on to the domain.

use crate::domain::Timestamp;

pub fn now() -> Timestamp {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp::from_millis(millis)
}

/// A fresh time-ordered id (UUID v7).
pub fn new_id() -> crate::domain::Id {
    crate::domain::Id::from_trusted(uuid::Uuid::now_v7().hyphenated().to_string())
}

/// An unguessable code for a bought ticket (128 random bits), shown as a QR code at the door:
/// `TKT-` and 32 upper-case hex digits in groups of eight.
pub fn new_ticket_code() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let hex = hex::encode_upper(bytes);
    format!(
        "TKT-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..16],
        &hex[16..24],
        &hex[24..32]
    )
}
