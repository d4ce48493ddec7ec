//! Integration tests of the world engine.

mod fixtures;
mod props;
mod scripts;
