//! How long-running stages report: log lines and progress bars, drawn by the caller.
//!
//! The library prints nothing itself. The command line draws bars with `indicatif` and
//! writes log lines to stderr; a server or the Python binding can forward them, and
//! [`Quiet`] drops them.

/// Receives a stage's log lines and makes its progress bars.
pub trait Progress: Sync {
    /// One line for people ("rollout: oracle, 1 trial(s) per task").
    fn log(&self, line: &str);
    /// A bar of `len` steps, labelled `what`.
    fn bar(&self, len: usize, what: &str) -> Box<dyn Bar + '_>;
}

/// One progress bar.
pub trait Bar: Sync {
    /// Sets the steps done.
    fn set_position(&self, done: u64);
    /// Adds `n` steps done.
    fn inc(&self, n: u64);
    /// Removes the bar (the work is over).
    fn finish(&self);
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Progress for Quiet {
    fn log(&self, _line: &str) {}

    fn bar(&self, _len: usize, _what: &str) -> Box<dyn Bar + '_> {
        Box::new(Quiet)
    }
}

impl Bar for Quiet {
    fn set_position(&self, _done: u64) {}

    fn inc(&self, _n: u64) {}

    fn finish(&self) {}
}
