//! Integration tests of the world engine.

mod bad_input;
mod fixtures;
mod hardening;
mod props;
mod scripts;
mod sqlite;
