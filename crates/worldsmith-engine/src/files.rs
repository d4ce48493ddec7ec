//! Where a world's files come from: a directory, or memory (the bundled worlds).
//!
//! Loading a world reads files only through [`WorldFiles`], so the engine's execution core
//! does no I/O and tests can load worlds from memory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Read access to a world's files by path relative to the world's root (`world.json`,
/// `tools/refund.star`, `data/orders.json`).
pub trait WorldFiles {
    /// A name for messages: the directory, or `bundled:<name>`.
    fn label(&self) -> String;
    /// The text of one file.
    ///
    /// # Errors
    /// A message saying why the file cannot be read.
    fn read(&self, path: &str) -> Result<String, String>;

    /// The text of a file that may lie outside the world: only the external data directory
    /// of a world that declares one (`data.dir` with `data.dir_env`) is read this way. By
    /// default the same as [`WorldFiles::read`].
    ///
    /// # Errors
    /// A message saying why the file cannot be read.
    fn read_external(&self, path: &str) -> Result<String, String> {
        self.read(path)
    }
}

/// Checks that a path names a file inside the world: relative, without `..` components
/// (nor a drive or root on any platform). Every [`WorldFiles`] read goes through it, so a
/// manifest's `script`, `data` and `generator` paths and a script's `load()` cannot reach
/// outside the world's directory.
///
/// # Errors
/// A message naming the path and the rule it breaks.
pub fn check_world_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("an empty path names no file".to_owned());
    }
    let shown = crate::error::quote_prefix(path);
    if path.starts_with('/') || path.starts_with('\\') || path.as_bytes().get(1) == Some(&b':') {
        return Err(format!("path `{shown}` is absolute: paths are relative to the world's directory"));
    }
    if path.split(['/', '\\']).any(|c| c == "..") {
        return Err(format!("path `{shown}` leaves the world's directory (`..` is not allowed)"));
    }
    if path.contains('\0') {
        return Err(format!("path `{shown}` contains a NUL byte"));
    }
    Ok(())
}

/// A world in a directory.
#[derive(Debug, Clone)]
pub struct DirFiles {
    root: PathBuf,
}

impl DirFiles {
    /// The world whose `world.json` is in `root`.
    pub fn new(root: impl Into<PathBuf>) -> DirFiles {
        DirFiles { root: root.into() }
    }

    /// The directory.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl WorldFiles for DirFiles {
    fn label(&self) -> String {
        self.root.display().to_string()
    }

    fn read_external(&self, path: &str) -> Result<String, String> {
        let full = self.root.join(path);
        std::fs::read_to_string(&full).map_err(|e| format!("cannot read {}: {e}", full.display()))
    }

    fn read(&self, path: &str) -> Result<String, String> {
        check_world_path(path)?;
        let full = self.root.join(path);
        // A symbolic link inside the world may not lead outside it either.
        if let (Ok(root), Ok(target)) = (self.root.canonicalize(), full.canonicalize())
            && !target.starts_with(&root)
        {
            return Err(format!("path `{path}` leads outside the world's directory (to {})", target.display()));
        }
        std::fs::read_to_string(&full).map_err(|e| format!("cannot read {}: {e}", full.display()))
    }
}

/// A world held in memory: path -> text, optionally backed by a directory for paths that are
/// not in memory (a bundled world whose data lives on disk).
#[derive(Debug, Clone, Default)]
pub struct MemFiles {
    label: String,
    files: BTreeMap<String, String>,
    disk_root: Option<PathBuf>,
}

impl MemFiles {
    /// An in-memory world named `label` in messages.
    pub fn new(label: impl Into<String>) -> MemFiles {
        MemFiles { label: label.into(), files: BTreeMap::new(), disk_root: None }
    }

    /// Adds (or replaces) a file.
    #[must_use]
    pub fn with(mut self, path: impl Into<String>, text: impl Into<String>) -> MemFiles {
        self.files.insert(path.into(), text.into());
        self
    }

    /// Reads paths that are not in memory from `root` (relative paths resolve against it).
    #[must_use]
    pub fn with_disk_root(mut self, root: impl Into<PathBuf>) -> MemFiles {
        self.disk_root = Some(root.into());
        self
    }

    /// Adds (or replaces) a file in place.
    pub fn insert(&mut self, path: impl Into<String>, text: impl Into<String>) {
        self.files.insert(path.into(), text.into());
    }
}

impl WorldFiles for MemFiles {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn read_external(&self, path: &str) -> Result<String, String> {
        if let Some(text) = self.files.get(path) {
            return Ok(text.clone());
        }
        match &self.disk_root {
            Some(root) => DirFiles::new(root).read_external(path),
            None => Err(format!("{}: no file {path}", self.label)),
        }
    }

    fn read(&self, path: &str) -> Result<String, String> {
        check_world_path(path)?;
        if let Some(text) = self.files.get(path) {
            return Ok(text.clone());
        }
        match &self.disk_root {
            Some(root) => DirFiles::new(root).read(path),
            None => Err(format!("{}: no file {path}", self.label)),
        }
    }
}
