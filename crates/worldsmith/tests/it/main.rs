//! Integration tests of the `worldsmith` command line: snapshots of what people read.

mod bundled;
mod cli;
mod guide;
mod tau_retail;
