//! Verification of real episodes on the bundled worlds, and of tampered ones.

// Tests may unwrap and report on the terminal (the library-code lints of the workspace).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod answers;

use proptest::prelude::*;
use serde_json::Value;
use std::sync::OnceLock;
use worldsmith_core::episode::{CallOutcome, Episode, Message, ToolCall};
use worldsmith_engine::World;
use worldsmith_rollout::scripted::Noise;
use worldsmith_rollout::{Policy, RolloutConfig, rollout};
use worldsmith_synth::{SynthConfig, synthesize};
use worldsmith_verify::{pass_hat_k, verify, verify_all};

fn worlds() -> &'static [World] {
    static WORLDS: OnceLock<Vec<World>> = OnceLock::new();
    WORLDS.get_or_init(|| {
        worldsmith_worlds::default_names().map(|n| worldsmith_worlds::load(n).unwrap().unwrap()).collect()
    })
}

fn world(name: &str) -> Option<&'static World> {
    worlds().iter().find(|w| w.name() == name)
}

/// Oracle and noisy episodes over synthesized tasks (made once).
fn episodes() -> &'static (Vec<Episode>, Vec<Episode>) {
    static EPISODES: OnceLock<(Vec<Episode>, Vec<Episode>)> = OnceLock::new();
    EPISODES.get_or_init(|| {
        let tasks = synthesize(worlds(), &SynthConfig { seed: 5, tasks_per_world: 8, ..SynthConfig::default() }).tasks;
        let pairs: Vec<_> =
            tasks.into_iter().map(|t| (world(t.world.as_deref().unwrap()).unwrap().clone(), t)).collect();
        let oracle = rollout(&pairs, &RolloutConfig::default()).0;
        let noisy = rollout(
            &pairs,
            &RolloutConfig { policy: Policy::Noisy(Noise::default()), trials: 4, seed: 1, ..RolloutConfig::default() },
        )
        .0;
        (oracle, noisy)
    })
}

#[test]
fn every_oracle_episode_is_kept_with_full_recall() {
    let (oracle, _) = episodes();
    let (verdicts, stats) = verify_all(oracle, world);
    assert_eq!(stats.kept, oracle.len(), "{stats:?}");
    for v in &verdicts {
        assert!(v.success && v.valid && v.rewards.success(), "{v:?}");
        // The gold path scores exactly 1, whatever lookups it holds.
        assert!((f1(v).f1 - 1.0).abs() < 1e-12, "{v:?}");
        assert!(v.exact_match, "{v:?}");
    }
}

#[test]
fn noisy_episodes_split_into_kept_and_dropped_with_reasons() {
    let (_, noisy) = episodes();
    let (verdicts, stats) = verify_all(noisy, world);
    assert!(stats.kept > 0 && stats.kept < noisy.len(), "{stats:?}");
    assert!(stats.kept_with_failed_calls > 0, "recovered episodes must be kept: {stats:?}");
    for v in &verdicts {
        assert_eq!(v.success, v.reason.is_none(), "{v:?}");
        // The typed failure names the check the reason describes.
        if let Some(failure) = v.failure() {
            let reason = v.reason.as_deref().unwrap_or_default();
            let reason = reason.strip_prefix("invalid: ").unwrap_or(reason);
            assert!(reason.starts_with(&format!("{}:", failure.name())), "{failure:?} vs {reason}");
        }
        // Success and the binary reward agree, and no failed episode scores as high as the
        // oracle (1.0) on its task.
        assert_eq!(v.rewards.success(), v.success);
        if !v.success {
            assert!(f1(v).f1 < 1.0, "{v:#?}");
        }
    }
    let metrics = worldsmith_verify::metrics(&verdicts);
    let noisy_metrics = &metrics.policies["noisy"];
    assert_eq!(noisy_metrics.pass_hat_k.len(), 4);
    assert!(noisy_metrics.pass_hat_k.windows(2).all(|w| w[1] <= w[0]));
    assert!((noisy_metrics.pass_hat_k[0] - noisy_metrics.success.rate).abs() < 1e-9);
}

/// The F1 reward of a verdict.
fn f1(v: &worldsmith_core::episode::Verdict) -> worldsmith_core::episode::F1Reward {
    *v.rewards.f1().expect("an f1 reward")
}

fn first(kind_is_write: bool) -> Episode {
    let (oracle, _) = episodes();
    oracle
        .iter()
        .find(|e| (e.task.kind == Some(worldsmith_core::task::TaskKind::Write)) == kind_is_write)
        .unwrap()
        .clone()
}

#[test]
fn a_forged_final_digest_is_caught_by_replaying_the_calls() {
    let mut e = first(true);
    e.final_digest = e.final_digest + e.final_digest;
    let v = verify(&e, world(&e.world).unwrap());
    assert!(!v.valid && v.reason.as_deref().unwrap().contains("replay"), "{v:?}");
}

#[test]
fn a_missing_write_fails_state_alignment_and_lowers_recall() {
    let mut e = first(true);
    let last_write = e.calls.iter().rposition(|c| c.wrote).unwrap();
    e.calls.remove(last_write);
    // Keep the turns consistent: drop the matching assistant call and tool result.
    let mut seen = 0;
    let mut remove = None;
    for (i, m) in e.messages.iter().enumerate() {
        if !m.tool_calls.is_empty() {
            if seen == last_write {
                remove = Some(i);
            }
            seen += m.tool_calls.len();
        }
    }
    let i = remove.unwrap();
    assert!(e.messages[i].tool_calls[0].id.starts_with("call_"));
    e.messages.drain(i..i + 2);
    let w = world(&e.world).unwrap();
    let mut session = w.session();
    for c in &e.calls {
        let _ = session.execute(&c.name, &c.arguments);
    }
    e.final_digest = session.digest();
    e.changes = Some(session.changes());
    let v = verify(&e, w);
    assert!(v.valid, "{v:?}");
    assert_eq!(v.state_aligned, Some(false));
    assert!(!v.success && f1(&v).recall < 1.0, "{v:?}");
}

/// The episode `base` with other calls: the same opening and closing, every call answered
/// by what running it gives (a well-formed transcript an outside agent could produce).
fn with_calls(base: &Episode, calls: &[(String, Value)]) -> Episode {
    let w = world(&base.world).unwrap();
    let mut session = w.session();
    let mut e = base.clone();
    let opening: Vec<Message> = base.messages.iter().take_while(|m| m.tool_calls.is_empty()).cloned().collect();
    let closing: Vec<Message> =
        base.messages[base.messages.iter().rposition(|m| m.role == "tool").unwrap() + 1..].to_vec();
    e.messages = opening;
    e.calls.clear();
    for (i, (name, arguments)) in calls.iter().enumerate() {
        let id = format!("call_x_{i}");
        e.messages.push(Message::calls(vec![ToolCall::new(id.clone(), name, arguments)]));
        let (ok, value) = match session.execute(name, arguments) {
            Ok(v) => (true, v),
            Err(err) => (false, Value::String(err.to_string())),
        };
        let outcome = CallOutcome { name: name.clone(), arguments: arguments.clone(), ok, value, wrote: false };
        e.messages.push(Message::tool_result(&id, outcome.observation()));
        e.calls.push(outcome);
    }
    e.messages.extend(closing);
    e.final_digest = session.digest();
    e.changes = Some(session.changes());
    e
}

fn gold_calls(e: &Episode) -> Vec<(String, Value)> {
    e.calls.iter().map(|c| (c.name.clone(), c.arguments.clone())).collect()
}

#[test]
fn an_extra_read_costs_precision_not_success() {
    let base = first(false);
    let mut calls = gold_calls(&base);
    calls.insert(0, calls[0].clone());
    let v = verify(&with_calls(&base, &calls), world(&base.world).unwrap());
    assert!(v.valid && v.success && !v.exact_match, "{v:?}");
    assert!(f1(&v).f1 < 1.0 && f1(&v).recall == 1.0, "{v:?}");
}

#[test]
fn independent_reads_in_another_order_and_skipped_redundant_lookups_succeed() {
    let (oracle, _) = episodes();
    let (mut swapped, mut skipped) = (0, 0);
    for base in
        oracle.iter().filter(|e| e.task.kind != Some(worldsmith_core::task::TaskKind::Write) && e.calls.len() >= 2)
    {
        let w = world(&base.world).unwrap();
        let gold = gold_calls(base);
        // Swap two neighbours; where every call still succeeds and none uses an id before a
        // message gave it (the reads are independent), the episode is as right.
        for i in 0..gold.len() - 1 {
            let mut calls = gold.clone();
            calls.swap(i, i + 1);
            let e = with_calls(base, &calls);
            if e.calls.iter().all(|c| c.ok) {
                let v = verify(&e, w);
                if v.invalid == Some(worldsmith_core::episode::Invalid::Ungrounded) {
                    assert!(!v.success && f1(&v).f1 == 0.0, "{v:?}");
                    continue;
                }
                assert!(v.success && !v.exact_match, "{}: swapped {i}: {v:?}", base.id);
                assert!((f1(&v).f1 - 1.0).abs() < 1e-12, "{v:?}");
                swapped += 1;
            }
        }
        // Drop one call; where every answer is still read somewhere and no id is used before
        // a message gave it (the call was a redundant lookup), nothing is missing.
        for i in 0..gold.len() {
            let mut calls = gold.clone();
            calls.remove(i);
            let e = with_calls(base, &calls);
            let grounded = base
                .task
                .answers
                .iter()
                .flat_map(|a| a.members())
                .all(|v| e.calls.iter().any(|c| c.ok && worldsmith_core::canonical::contains_scalar(&c.value, v)));
            if e.calls.iter().all(|c| c.ok) && grounded {
                let v = verify(&e, w);
                if v.invalid == Some(worldsmith_core::episode::Invalid::Ungrounded) {
                    continue;
                }
                assert!(v.success, "{}: without call {i}: {v:?}", base.id);
                skipped += 1;
            }
        }
    }
    assert!(swapped > 0 && skipped > 0, "swapped {swapped}, skipped {skipped}");
}

#[test]
fn tampered_transcripts_are_invalid() {
    let base = first(true);
    let w = world(&base.world).unwrap();
    let reason = |e: &Episode| verify(e, w).reason.unwrap_or_default();

    // A tool message the world never gave.
    let mut e = base.clone();
    let i = e.messages.iter().position(|m| m.role == "tool").unwrap();
    e.messages[i].content = Some(e.messages[i].content.clone().unwrap().replacen('"', "\"X", 1));
    assert!(reason(&e).contains("tool message of call 1"), "{}", reason(&e));

    // A recorded value other than the call's result.
    let mut e = base.clone();
    e.calls[0].value = Value::String("something else".to_owned());
    assert!(reason(&e).contains("records a result"), "{}", reason(&e));

    // The assistant message's arguments changed, the recorded call left alone.
    let mut e = base.clone();
    let i = e.messages.iter().position(|m| !m.tool_calls.is_empty()).unwrap();
    e.messages[i].tool_calls[0].function.arguments = r#"{"forged": true}"#.to_owned();
    assert!(reason(&e).contains("not the call the assistant message makes"), "{}", reason(&e));

    // A recorded call renamed.
    let mut e = base.clone();
    e.calls[0].name = "something_else".to_owned();
    assert!(!verify(&e, w).valid);

    // Recorded changes the calls did not make (a record claimed deleted).
    let mut e = base.clone();
    let changes = e.changes.as_mut().unwrap();
    let records = changes.values_mut().next().unwrap();
    *records.values_mut().next().unwrap() = None;
    assert!(reason(&e).contains("changes the episode records"), "{}", reason(&e));
}

#[test]
fn trusting_the_record_skips_the_replay_but_not_the_transcript_checks() {
    use worldsmith_verify::{Evidence, score};
    let base = first(true);
    let w = world(&base.world).unwrap();
    let arena = worldsmith_rollout::arena::arenas(w, &base.task, &worldsmith_rollout::arena::ArenaConfig::default())
        .swap_remove(0);
    let replayed = score(&arena, &base, w, Evidence::Replay);
    assert!(replayed.success, "{replayed:?}");
    assert_eq!(score(&arena, &base, w, Evidence::Recorded), replayed);

    // Trusted: recorded changes that reach the goal are believed, whatever the calls do;
    // replayed, the same episode is invalid. (Only trust episodes you produced.)
    let mut forged = with_calls(&base, &[]);
    forged.changes = base.changes.clone();
    forged.final_digest = base.final_digest;
    assert!(!score(&arena, &forged, w, Evidence::Replay).valid);
    let trusted = score(&arena, &forged, w, Evidence::Recorded);
    assert!(trusted.valid, "{trusted:?}");

    // The transcript is still checked against the record: a tool message the record does
    // not hold, or an assistant call other than the recorded one, is invalid either way.
    let mut e = base.clone();
    let i = e.messages.iter().position(|m| m.role == "tool").unwrap();
    e.messages[i].content = Some("{\"forged\": true}".to_owned());
    let line = score(&arena, &e, w, Evidence::Recorded);
    assert!(!line.valid && line.reason.unwrap().contains("tool message of call 1"));
    let mut e = base.clone();
    let i = e.messages.iter().position(|m| !m.tool_calls.is_empty()).unwrap();
    e.messages[i].tool_calls[0].function.name = "something_else".to_owned();
    assert!(!score(&arena, &e, w, Evidence::Recorded).valid);
}

#[test]
fn a_write_on_a_task_without_writes_fails_and_earns_nothing() {
    let (oracle, _) = episodes();
    let read = first(false);
    let write = oracle.iter().find(|e| e.world == read.world && e.calls.iter().any(|c| c.wrote)).unwrap();
    let mut calls = gold_calls(&read);
    let w = write.calls.iter().find(|c| c.wrote).unwrap();
    calls.push((w.name.clone(), w.arguments.clone()));
    let e = with_calls(&read, &calls);
    let v = verify(&e, world(&read.world).unwrap());
    // (The write's ids come from another task, so it is also ungrounded.)
    assert!(!v.success && v.calls_consistent == Some(false), "{v:?}");
    assert_eq!(f1(&v).f1, 0.0);
}

#[test]
fn malformed_turns_and_repetition_are_invalid() {
    let base = first(false);
    let w = world(&base.world).unwrap();
    let mut unanswered = base.clone();
    let i = unanswered.messages.iter().position(|m| m.role == "tool").unwrap();
    unanswered.messages.remove(i);
    assert!(verify(&unanswered, w).reason.unwrap().contains("turns"));

    let mut looping = base.clone();
    let n = looping.messages.len();
    looping.messages.insert(n - 1, Message::text("assistant", "let me check that for you ".repeat(12)));
    assert!(verify(&looping, w).reason.unwrap().contains("repetition"));

    let mut silent = base.clone();
    for m in &mut silent.messages {
        if m.role == "assistant" && m.tool_calls.is_empty() {
            m.content = Some("Done.".to_owned());
        }
    }
    let v = verify(&silent, w);
    assert!(v.valid && !v.success && v.reason.unwrap().starts_with("answers"));
}

proptest! {
    #[test]
    fn pass_hat_k_is_between_zero_and_one_and_falls_with_k(counts in prop::collection::vec((1usize..9, 0usize..9), 1..20)) {
        let tasks: Vec<(usize, usize)> = counts.into_iter().map(|(n, c)| (n, c.min(n))).collect();
        let mut previous = 1.0;
        for k in 1..=8 {
            if let Some(p) = pass_hat_k(&tasks, k) {
                prop_assert!((0.0..=1.0).contains(&p));
                if tasks.iter().all(|(n, _)| *n >= k) {
                    prop_assert!(p <= previous + 1e-12);
                    previous = p;
                }
            }
        }
    }
}

#[test]
fn a_successful_call_with_an_identifier_nothing_gave_is_invalid() {
    // Skipping the lookup that reveals an id and calling with it anyway: the agent knows
    // what it cannot know.
    let (oracle, _) = episodes();
    let mut found = 0;
    for base in oracle.iter().filter(|e| e.calls.len() >= 2) {
        let mut calls = gold_calls(base);
        calls.remove(0);
        let e = with_calls(base, &calls);
        let v = verify(&e, world(&e.world).unwrap());
        if v.invalid == Some(worldsmith_core::episode::Invalid::Ungrounded) {
            assert!(v.reason.as_deref().unwrap().contains("which no earlier message gave"), "{v:?}");
            assert!(!v.kept && f1(&v).f1 == 0.0, "{v:?}");
            found += 1;
        }
    }
    assert!(found > 0, "no episode used an id it had not seen");
}
