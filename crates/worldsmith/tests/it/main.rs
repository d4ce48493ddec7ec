//! Integration tests of the `worldsmith` command line: snapshots of what people read.

mod bundled;
mod cli;
mod guide;
mod hardening;
mod llm;
mod semantics;
mod stages;
mod tau_retail;
mod trust;
