-- Roles beyond buying and selling (see app/src/domain/role.rs): `staff` check tickets in at the
-- door, `admin` runs the marketplace. Granted from the command line (`ticketing admin grant`).
ALTER TABLE users ADD COLUMN role TEXT CHECK (role IN ('staff', 'admin'));
