-- A user holds a set of roles (see app/src/domain/role.rs): `admin` runs the marketplace,
-- `organiser` puts events on sale, `staff` check tickets in at every door. Users without one
-- buy and sell. The single `users.role` of before becomes one row here.
CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id),
    role    TEXT NOT NULL CHECK (role IN ('admin', 'organiser', 'staff')),
    PRIMARY KEY (user_id, role)
);

INSERT INTO user_roles (user_id, role) SELECT id, role FROM users WHERE role IS NOT NULL;
ALTER TABLE users DROP COLUMN role;
