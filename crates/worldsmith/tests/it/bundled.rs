//! Every bundled world loads, passes its check, and replays its gold tasks exactly.

use worldsmith_core::task::TaskLine;
use worldsmith_engine::World;

fn load(name: &str) -> World {
    worldsmith_worlds::load(name).expect("bundled").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_bundled_world_checks_and_replays_its_tasks() {
    let names: Vec<&str> = worldsmith_worlds::default_names().collect();
    assert!(names.contains(&"retail"), "bundled worlds: {names:?}");
    for name in names {
        let world = load(name);
        let report = worldsmith_engine::check(&world);
        assert!(report.passed(), "{name} fails its check: {report:#?}");
        assert!(world.tools().len() >= 12, "{name} has {} tools", world.tools().len());
        assert!(world.initial_state().total_len() >= 500, "{name} has {} records", world.initial_state().total_len());
        let tasks = worldsmith_worlds::file(name, "tasks.jsonl").unwrap_or_else(|| panic!("{name} has no tasks.jsonl"));
        let mut count = 0;
        let mut with_failing_calls = 0;
        for (i, line) in tasks.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let task: TaskLine =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{name} tasks.jsonl:{}: {e}", i + 1));
            let expected =
                task.changed_records.as_ref().unwrap_or_else(|| panic!("task {} has no changed_records", task.id));
            // The expected digest is derived from the hand-checked changed records.
            let derived = world.initial_state().with_changes(expected).expect("known collections").digest();
            assert_eq!(
                task.expected_digest,
                Some(derived),
                "{name} task {}: expected_digest is not derived from changed_records",
                task.id
            );
            let result = worldsmith_engine::replay(&world, &task);
            assert_eq!(result.passed, Some(true), "{name} task {}: {}", task.id, result.mismatch.unwrap_or_default());
            count += 1;
            with_failing_calls += usize::from(result.results.iter().any(|r| !r.ok));
        }
        assert!(count >= 30, "{name} has {count} tasks");
        assert!(with_failing_calls > 0, "{name}: no task has a deliberately failing call");
    }
}
