//! The operator's actions and their audit log: every action an admin takes (and every role
//! change made on the command line) is written down with who, what, on what, why and when.
//! Entries are only ever appended.

use super::ErrorDetail;
use super::{Id, Timestamp};

/// The longest reason kept with an action.
pub const MAX_REASON: usize = 500;

/// What an admin did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    TakeDown,
    Suspend,
    LiftSuspension,
    Refund,
    HoldPayouts,
    ReleasePayouts,
    GrantRole,
    RevokeRole,
}

super::error::stored_status!(AuditAction, "audit action");

impl AuditAction {
    pub const ALL: [AuditAction; 8] = [
        AuditAction::TakeDown,
        AuditAction::Suspend,
        AuditAction::LiftSuspension,
        AuditAction::Refund,
        AuditAction::HoldPayouts,
        AuditAction::ReleasePayouts,
        AuditAction::GrantRole,
        AuditAction::RevokeRole,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::TakeDown => "ticket.takedown",
            AuditAction::Suspend => "user.suspend",
            AuditAction::LiftSuspension => "user.unsuspend",
            AuditAction::Refund => "order.refund",
            AuditAction::HoldPayouts => "payouts.hold",
            AuditAction::ReleasePayouts => "payouts.release",
            AuditAction::GrantRole => "role.grant",
            AuditAction::RevokeRole => "role.revoke",
        }
    }

    /// What the console's log calls it.
    pub fn label(self) -> &'static str {
        match self {
            AuditAction::TakeDown => "Took down a listing",
            AuditAction::Suspend => "Suspended an account",
            AuditAction::LiftSuspension => "Lifted a suspension",
            AuditAction::Refund => "Refunded an order",
            AuditAction::HoldPayouts => "Held payouts",
            AuditAction::ReleasePayouts => "Released payouts",
            AuditAction::GrantRole => "Granted a role",
            AuditAction::RevokeRole => "Revoked a role",
        }
    }

    /// The kind of thing the action is done to.
    pub fn target_type(self) -> &'static str {
        match self {
            AuditAction::TakeDown => "ticket",
            AuditAction::Refund => "order",
            AuditAction::Suspend
            | AuditAction::LiftSuspension
            | AuditAction::HoldPayouts
            | AuditAction::ReleasePayouts
            | AuditAction::GrantRole
            | AuditAction::RevokeRole => "user",
        }
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    /// The admin; `None` for the command line.
    pub actor_id: Option<Id>,
    pub action: AuditAction,
    pub target_type: String,
    pub target_id: String,
    pub reason: String,
    pub created_at: Timestamp,
}

/// The reason as kept: control and invisible formatting characters (a right-to-left override
/// could reorder what the reader sees) become spaces, trimmed, at most [`MAX_REASON`]
/// characters; required.
pub fn parse_reason(input: &str) -> Result<String, ErrorDetail> {
    let reason: String = input
        .chars()
        .map(|c| {
            if c.is_control() || super::text::is_invisible_format(c) {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .trim()
        .to_string();
    if reason.is_empty() {
        return Err(ErrorDetail::field("reason", "Reason is required"));
    }
    if reason.chars().count() > MAX_REASON {
        return Err(ErrorDetail::field(
            "reason",
            &format!("Reason must be at most {MAX_REASON} characters"),
        ));
    }
    Ok(reason)
}

/// The page of the log an integrator or the console asks for: entries after `after` (an id,
/// exclusive), `limit` at most `max` (default `default`).
pub fn parse_page(
    after: Option<&str>,
    limit: Option<&str>,
    default: i64,
    max: i64,
) -> Result<(i64, i64), ErrorDetail> {
    let after = match after.map(str::trim) {
        None | Some("") => 0,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                ErrorDetail::field("after", "After must be a whole number of 0 or more")
            })?,
    };
    let limit = match limit.map(str::trim) {
        None | Some("") => default,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                ErrorDetail::field("limit", &format!("Limit must be between 1 and {max}"))
            })?,
    };
    Ok((after, limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_read_back_and_name_their_target() {
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()), Ok(action));
            assert!(["ticket", "order", "user"].contains(&action.target_type()));
        }
        assert!(AuditAction::parse("user.delete").is_err());
    }

    #[test]
    fn reasons_are_printable_trimmed_required_and_bounded() {
        assert_eq!(
            parse_reason("  fraud\u{0}\nreport ").unwrap(),
            "fraud  report"
        );
        assert_eq!(
            parse_reason(" \t\r\n").unwrap_err().message,
            "Reason is required"
        );
        assert!(parse_reason(&"é".repeat(MAX_REASON)).is_ok());
        assert!(parse_reason(&"é".repeat(MAX_REASON + 1)).is_err());
        assert_eq!(
            parse_reason("<script>x</script>").unwrap(),
            "<script>x</script>"
        );
    }

    #[test]
    fn pages_default_and_refuse_what_is_out_of_range() {
        assert_eq!(parse_page(None, None, 100, 1000), Ok((0, 100)));
        assert_eq!(
            parse_page(Some("7"), Some("1000"), 100, 1000),
            Ok((7, 1000))
        );
        for (after, limit) in [
            (Some("-1"), None),
            (Some("x"), None),
            (Some("99999999999999999999"), None),
            (None, Some("0")),
            (None, Some("1001")),
            (None, Some("1e3")),
        ] {
            assert!(
                parse_page(after, limit, 100, 1000).is_err(),
                "{after:?} {limit:?}"
            );
        }
    }
}
