//! The bundled worlds, compiled into the binary so an installed `worldsmith` has them.
//!
//! Every directory under the repository's `worlds/` with a `world.json` is embedded at build
//! time (its `.json`, `.jsonl`, `.star` and `.md` files). Worlds whose data lives outside the
//! repository (a `dir_env` data source, such as `tau-retail`) are embedded too, but they are
//! not part of the self-contained default set ([`default_names`]): their data is read from
//! disk when they load.
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

/// The bundled worlds that need nothing outside the binary: the embedded default of
/// `worldsmith run`.
pub fn default_names() -> impl Iterator<Item = &'static str> {
    names().filter(|n| !EXTERNAL_DATA.contains(n))
}

/// Whether a bundled world reads its data from outside the repository.
#[must_use]
pub fn has_external_data(name: &str) -> bool {
    EXTERNAL_DATA.contains(&name)
}

/// The directory a bundled world was built from (relative data paths resolve against it).
#[must_use]
pub fn source_dir(name: &str) -> Option<&'static std::path::Path> {
    SOURCES.iter().find(|(n, _)| *n == name).map(|(_, dir)| std::path::Path::new(*dir))
}

/// The files of one bundled world as a [`MemFiles`] the engine loads; paths that are not
/// embedded (external data) are read from the world's source directory.
#[must_use]
pub fn mem_files(name: &str) -> Option<worldsmith_engine::MemFiles> {
    let mut mem = worldsmith_engine::MemFiles::new(format!("bundled:{name}"));
    if let Some(dir) = source_dir(name) {
        mem = mem.with_disk_root(dir);
    }
    for (path, text) in files(name)? {
        mem.insert(*path, *text);
    }
    Some(mem)
}

/// Loads a bundled world; `None` when there is no bundled world of that name.
#[must_use]
pub fn load(name: &str) -> Option<Result<worldsmith_engine::World, worldsmith_engine::LoadError>> {
    mem_files(name).map(|files| worldsmith_engine::World::load(&files))
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
