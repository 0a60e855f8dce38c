//! The HTTP suite: every test drives the real server over loopback, once on SQLite and once
//! on PostgreSQL (each test with its own fresh database).

mod harness;

mod admin_people;
mod audit;
mod auth_and_roles;
mod case_edit;
mod cases;
mod files;
mod jobs;
mod lifecycle_choice;
mod lists;
mod mail;
mod packs;
mod packs_business;
mod packs_energy;
mod packs_information;
mod pages;
mod pages_admin;
mod pages_case;
mod pages_intake;
mod pages_portal;
mod print_queue;
mod report_offices;
mod reports;
mod routing;
mod saved;
mod schedules;
mod search;
mod search_many;
mod validation;
