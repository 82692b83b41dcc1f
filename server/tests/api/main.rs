//! Black-box tests of the JSON API against a real server on port 0 with a temporary database.
//! One module per route family; test names are the behaviour they pin.

mod accounts;
mod admin;
mod backup;
mod cancellation;
mod contract;
mod custody;
mod custody_flow;
mod docs;
mod errors;
mod event_images;
mod event_pages;
mod event_races;
mod events;
mod fees;
mod fuzz;
mod hardening;
mod helpers;
mod kept_pages;
mod ledger;
#[path = "../support/localstripe.rs"]
mod localstripe;
mod mail;
mod metrics;
mod money_flow;
mod multi_seat;
mod nodes;
mod openapi;
mod orders;
mod organise_pages;
mod pages;
mod payments;
mod payouts;
#[path = "../support/recorded_stripe.rs"]
mod recorded_stripe;
mod reservations;
mod security;
mod seed;
#[path = "../support/smtp.rs"]
mod smtp;
mod stream;
mod stripe_gateway;
mod tickets;
mod time_zones;
mod two_factor;
mod users;
