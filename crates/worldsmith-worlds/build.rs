//! Embeds every world under `worlds/` (a directory with a `world.json`) into the crate.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(&path, out);
        } else if name.ends_with(".json")
            || name.ends_with(".jsonl")
            || name.ends_with(".star")
            || name.ends_with(".md")
        {
            out.push(path);
        }
    }
}

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let worlds = manifest_dir.join("../../worlds");
    println!("cargo:rerun-if-changed={}", worlds.display());
    let mut code = String::from(
        "/// Every bundled world: (name, [(relative path, text)]).\npub static WORLDS: &[(&str, &[(&str, &str)])] = &[\n",
    );
    let mut sources = String::from(
        "/// Where each bundled world's files were at build time.\npub static SOURCES: &[(&str, &str)] = &[\n",
    );
    let mut external = String::from(
        "/// Bundled worlds whose data lives outside the repository (`dir_env` in world.json).\npub static EXTERNAL_DATA: &[&str] = &[\n",
    );
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(&worlds).map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    dirs.sort();
    for dir in dirs {
        if !dir.join("world.json").is_file() {
            continue;
        }
        let name = dir.file_name().and_then(|n| n.to_str()).expect("utf-8 world name").to_owned();
        let mut files = Vec::new();
        collect(&dir, &mut files);
        let _ = writeln!(code, "    ({name:?}, &[");
        let abs_dir = dir.canonicalize().expect("exists");
        let _ = writeln!(sources, "    ({name:?}, {:?}),", abs_dir.display().to_string());
        let manifest = std::fs::read_to_string(dir.join("world.json")).unwrap_or_default();
        if manifest.contains("\"dir_env\"") {
            let _ = writeln!(external, "    {name:?},");
        }
        for f in files {
            println!("cargo:rerun-if-changed={}", f.display());
            let rel = f.strip_prefix(&dir).expect("inside").to_string_lossy().replace('\\', "/");
            let abs = f.canonicalize().expect("exists");
            let _ = writeln!(code, "        ({rel:?}, include_str!({:?})),", abs.display().to_string());
        }
        let _ = writeln!(code, "    ]),");
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    code.push_str("];\n");
    code.push_str(&sources);
    code.push_str("];\n");
    code.push_str(&external);
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("worlds.rs");
    std::fs::write(out, code).expect("write generated code");
}
