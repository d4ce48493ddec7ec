//! The bundled worlds, compiled into the binary so an installed `worldsmith` has them.
//!
//! Every directory under the repository's `worlds/` with a `world.json` is embedded at build
//! time (its `.json`, `.jsonl`, `.star` and `.md` files).
//!
//! ```
//! for name in worldsmith_worlds::names() {
//!     assert!(worldsmith_worlds::file(name, "world.json").is_some());
//! }
//! ```

include!(concat!(env!("OUT_DIR"), "/worlds.rs"));

/// The names of the bundled worlds, sorted.
pub fn names() -> impl Iterator<Item = &'static str> {
    WORLDS.iter().map(|(name, _)| *name)
}

/// The files of one bundled world: (path relative to the world, text).
#[must_use]
pub fn files(name: &str) -> Option<&'static [(&'static str, &'static str)]> {
    WORLDS.iter().find(|(n, _)| *n == name).map(|(_, files)| *files)
}

/// One file of one bundled world.
#[must_use]
pub fn file(name: &str, path: &str) -> Option<&'static str> {
    files(name)?.iter().find(|(p, _)| *p == path).map(|(_, text)| *text)
}
