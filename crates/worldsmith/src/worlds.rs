//! Resolving a world argument: a bundled world's name, or a directory.

use anyhow::{Result, anyhow};
use std::path::Path;
use worldsmith_engine::World;

/// Loads the world named by a command-line argument: a path when it contains `/` (or names
/// an existing directory with a `world.json`), else a bundled world.
pub fn load(arg: &str) -> Result<World> {
    let as_path = Path::new(arg);
    if arg.contains('/') || as_path.join("world.json").is_file() {
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
pub fn load_bundled(name: &str) -> Result<World> {
    let loaded = worldsmith_worlds::load(name).ok_or_else(|| {
        anyhow!(
            "unknown world `{name}`\nhint: bundled worlds are: {}; a path to a world directory must contain `/`",
            bundled_list()
        )
    })?;
    Ok(loaded?)
}

/// The gold tasks shipped with a bundled world (`tasks.jsonl`), if any.
pub fn bundled_tasks(name: &str) -> Option<&'static str> {
    worldsmith_worlds::file(name, "tasks.jsonl")
}

fn bundled_list() -> String {
    let names: Vec<&str> = worldsmith_worlds::names().collect();
    if names.is_empty() { "(none)".to_owned() } else { names.join(", ") }
}
