//! Roles beyond buying and selling: `staff` check tickets in at the door; `admin` runs the
//! marketplace (and may do what staff do).

/// A user's role; users without one are buyers and sellers only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Staff,
    Admin,
}

super::error::stored_status!(Role, "role");

impl Role {
    pub const ALL: [Role; 2] = [Role::Staff, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }

    /// Whether this role may check tickets in at the door.
    pub fn checks_in(self) -> bool {
        matches!(self, Role::Staff | Role::Admin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_back_and_both_may_check_in() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
            assert!(role.checks_in());
        }
        assert!(Role::parse("root").is_err());
    }
}
