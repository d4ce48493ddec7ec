//! Integration tests of the `worldsmith` command line: snapshots of what people read.

mod bundled;
mod cli;
mod stages;
mod guide;
mod hardening;
mod llm;
mod tau_retail;
mod trust;
