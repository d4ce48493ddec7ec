//! docs/writing-worlds.md builds a world file by file; this test builds it from the page,
//! checks it, replays its tasks, and keeps the CLI fixture identical to it.

use std::path::Path;

/// The files the guide shows: each fenced block preceded by `<!-- file: PATH -->`.
fn guide_files() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/writing-worlds.md");
    let text = std::fs::read_to_string(root).expect("docs/writing-worlds.md");
    let mut files = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(path) = line.strip_prefix("<!-- file: ").and_then(|l| l.strip_suffix(" -->")) else { continue };
        let fence = lines.next().expect("a code block follows");
        assert!(fence.starts_with("```"), "{path}: expected a code block");
        let body: Vec<&str> = lines.by_ref().take_while(|l| !l.starts_with("```")).collect();
        files.push((path.to_owned(), body.join("\n") + "\n"));
    }
    files
}

#[test]
fn the_guide_world_checks_and_its_tasks_pass() {
    let files = guide_files();
    let names: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(names, ["world.json", "tools/sell.star", "data/items.json", "tasks.jsonl"]);
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in &files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
    let world = worldsmith_engine::World::load_dir(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert!(worldsmith_engine::check(&world).passed());
    let tasks = &files.iter().find(|(p, _)| p == "tasks.jsonl").unwrap().1;
    for line in tasks.lines() {
        let task: worldsmith_core::task::TaskLine = serde_json::from_str(line).unwrap();
        let result = worldsmith_engine::replay(&world, &task);
        assert_eq!(result.passed, Some(true), "{}: {:?}", task.id, result.mismatch);
    }
}

#[test]
fn the_cli_fixture_is_the_guide_world() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shop");
    for (path, text) in guide_files().iter().filter(|(p, _)| p != "tasks.jsonl") {
        let on_disk = std::fs::read_to_string(fixture.join(path)).unwrap();
        assert_eq!(on_disk.trim_end(), text.trim_end(), "tests/fixtures/shop/{path} differs from the guide");
    }
}
