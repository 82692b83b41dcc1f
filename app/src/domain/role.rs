//! Roles beyond buying and selling: `staff` check tickets in at every door, `organiser` puts
//! events on sale (and checks in at its own events' doors), `admin` runs the marketplace (and
//! may do everything the others do). A user holds any set of them.

/// A role; users without one are buyers and sellers only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Staff,
    Organiser,
    Admin,
}

super::error::stored_status!(Role, "role");

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Organiser, Role::Staff];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Organiser => "organiser",
            Role::Admin => "admin",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Role::Staff => 1,
            Role::Organiser => 2,
            Role::Admin => 4,
        }
    }
}

/// The roles one user holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Roles(u8);

impl Roles {
    /// No role at all.
    pub const NONE: Roles = Roles(0);

    /// These roles and `role`.
    pub fn with(self, role: Role) -> Roles {
        Roles(self.0 | role.bit())
    }

    pub fn has(self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }

    /// The roles held, in [`Role::ALL`]'s order.
    pub fn iter(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |role| self.has(*role))
    }

    /// Reads roles as stored, one name each (a row each, or a comma-separated list).
    pub fn parse<'a>(
        stored: impl IntoIterator<Item = &'a str>,
    ) -> Result<Roles, super::UnknownStatus> {
        stored
            .into_iter()
            .flat_map(|names| names.split(','))
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .try_fold(
                Roles::NONE,
                |roles, name| Ok(roles.with(Role::parse(name)?)),
            )
    }

    /// May check tickets in at every door (staff and admins).
    pub fn checks_in(self) -> bool {
        self.has(Role::Staff) || self.has(Role::Admin)
    }

    /// May create and run events (organisers, and admins for every event).
    pub fn organises(self) -> bool {
        self.has(Role::Organiser) || self.has(Role::Admin)
    }

    pub fn is_admin(self) -> bool {
        self.has(Role::Admin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_back_and_say_what_they_allow() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert!(Role::parse("root").is_err());
        let cases = [
            ("", false, false, false),
            ("staff", true, false, false),
            ("organiser", false, true, false),
            ("admin", true, true, true),
            ("staff,organiser", true, true, false),
            ("organiser, staff", true, true, false),
        ];
        for (stored, checks_in, organises, admin) in cases {
            let roles = Roles::parse([stored]).unwrap();
            assert_eq!(roles.checks_in(), checks_in, "{stored}");
            assert_eq!(roles.organises(), organises, "{stored}");
            assert_eq!(roles.is_admin(), admin, "{stored}");
        }
        let both = Roles::parse(["staff", "admin"]).unwrap();
        assert_eq!(both.iter().collect::<Vec<_>>(), [Role::Admin, Role::Staff]);
        assert!(Roles::parse(["staff,root"]).is_err());
    }
}
