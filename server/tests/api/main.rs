//! Black-box tests of the JSON API against a real server on port 0 with a temporary database.
//! One module per route family; test names are the behaviour they pin.

mod errors;
mod helpers;
mod orders;
mod payments;
mod security;
mod seed;
mod tickets;
mod users;
