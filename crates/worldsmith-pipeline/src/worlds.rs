//! Resolving a world argument: a bundled world's name, or a directory.

use anyhow::{Result, anyhow};
use std::collections::BTreeMap;
use std::path::Path;
use worldsmith_engine::World;

/// Loads the world named by a command-line argument: a path when it contains `/` (or names
/// an existing directory with a `world.json`), else a bundled world.
///
/// # Errors
///
/// When the directory has no `world.json` or its world does not load, or when no
/// bundled world has the name (with a suggestion).
pub fn load(arg: &str) -> Result<World> {
    let as_path = Path::new(arg);
    if is_path(arg) {
        if !as_path.join("world.json").is_file() {
            return Err(anyhow!(
                "no world.json in {arg}\nhint: a world is a directory holding world.json; bundled worlds: {}",
                bundled_list()
            ));
        }
        return Ok(World::load_dir(as_path)?);
    }
    load_bundled(arg)
}

/// Loads a bundled world by name.
///
/// # Errors
///
/// When no bundled world has the name (with a suggestion), or it does not load.
pub fn load_bundled(name: &str) -> Result<World> {
    let loaded = worldsmith_worlds::load(name).ok_or_else(|| unknown_world(name))?;
    Ok(loaded?)
}

/// Whether a world argument is a path (contains `/` or names a directory with a
/// `world.json`) rather than a bundled world's name.
#[must_use]
pub fn is_path(arg: &str) -> bool {
    arg.contains('/') || Path::new(arg).join("world.json").is_file()
}

/// Checks that every world argument that is not a path names a bundled world, before any
/// work starts.
///
/// # Errors
/// The first unknown name, with the closest bundled name and the list of them.
pub fn check_names<'a>(args: impl IntoIterator<Item = &'a str>) -> Result<()> {
    for arg in args {
        if !is_path(arg) && !worldsmith_worlds::names().any(|n| n == arg) {
            return Err(unknown_world(arg));
        }
    }
    Ok(())
}

fn unknown_world(name: &str) -> anyhow::Error {
    let suggestion = worldsmith_core::suggest::closest(name, worldsmith_worlds::names(), 2)
        .map(|s| format!("did you mean `{s}`? "))
        .unwrap_or_default();
    anyhow!(
        "unknown world `{name}`\nhint: {suggestion}bundled worlds are: {}; a path to a world directory must contain `/`",
        bundled_list()
    )
}

/// The gold tasks of a world argument (its `tasks.jsonl`; empty when it has none), with a
/// name for messages.
///
/// # Errors
///
/// When the directory's `tasks.jsonl` exists but cannot be read.
pub fn gold_tasks(arg: &str) -> Result<(String, String)> {
    if let Some(text) = worldsmith_worlds::file(arg, "tasks.jsonl") {
        return Ok((format!("bundled:{arg}/tasks.jsonl"), text.to_owned()));
    }
    let path = Path::new(arg).join("tasks.jsonl");
    if !path.is_file() {
        return Ok((path.display().to_string(), String::new()));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
    Ok((path.display().to_string(), text))
}

fn bundled_list() -> String {
    let names: Vec<&str> = worldsmith_worlds::names().collect();
    if names.is_empty() { "(none)".to_owned() } else { names.join(", ") }
}

/// Worlds loaded by command-line argument, each once.
#[derive(Default)]
pub struct WorldCache {
    loaded: BTreeMap<String, World>,
}

impl WorldCache {
    /// Loads every distinct argument; returns a message per world that does not load.
    pub fn load_all<'a>(&mut self, args: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let mut errors = Vec::new();
        for arg in args {
            if self.loaded.contains_key(arg) {
                continue;
            }
            match load(arg) {
                Ok(w) => {
                    self.loaded.insert(arg.to_owned(), w);
                }
                Err(e) => errors.push(format!("world `{arg}` does not load: {e:#}")),
            }
        }
        errors.dedup();
        errors
    }

    /// A loaded world by the argument it was loaded with, or by its name.
    #[must_use]
    pub fn get(&self, arg: &str) -> Option<&World> {
        self.loaded.get(arg)
    }

    /// Adds a loaded world under its name (so task lines, which name their world, find it).
    pub fn insert(&mut self, world: World) {
        self.loaded.insert(world.name().to_owned(), world);
    }

    /// Loads world arguments (bundled names or paths) and files each under its name.
    ///
    /// # Errors
    ///
    /// The first argument whose world does not load (see [`load`]).
    pub fn with_worlds(args: &[String]) -> Result<WorldCache> {
        let mut cache = WorldCache::default();
        for arg in args {
            cache.insert(load(arg)?);
        }
        Ok(cache)
    }
}
