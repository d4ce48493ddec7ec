//! Verification of real episodes on the bundled worlds, and of tampered ones.

use proptest::prelude::*;
use std::sync::OnceLock;
use worldsmith_core::episode::{Episode, Message};
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
        assert!(v.success && v.valid && v.reward == 1.0, "{v:?}");
        assert!((v.f1.recall - 1.0).abs() < 1e-12, "{v:?}");
        assert!(v.f1.f1 > 0.0);
        assert_eq!(v.exact_match.is_some(), v.kind != "write");
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
        // Success and the binary reward agree. A failure by state or answers never has a
        // perfect F1 (a read task can reach every answer by a path other than the gold one:
        // the strict exact match fails it, F1 does not).
        assert_eq!(v.reward, f64::from(u8::from(v.success)));
        if !v.success && v.valid && v.exact_match != Some(false) {
            assert!(v.f1.f1 < 1.0, "{v:#?}");
        }
    }
    let metrics = worldsmith_verify::metrics(&verdicts);
    let noisy_metrics = &metrics.policies["noisy"];
    assert_eq!(noisy_metrics.pass_hat_k.len(), 4);
    assert!(noisy_metrics.pass_hat_k.windows(2).all(|w| w[1] <= w[0]));
    assert!((noisy_metrics.pass_hat_k[0] - noisy_metrics.success.rate).abs() < 1e-9);
}

fn first(kind_is_write: bool) -> Episode {
    let (oracle, _) = episodes();
    oracle.iter().find(|e| (e.task.kind.as_deref() == Some("write")) == kind_is_write).unwrap().clone()
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
    let v = verify(&e, w);
    assert!(v.valid, "{v:?}");
    assert_eq!(v.state_aligned, Some(false));
    assert!(!v.success && v.f1.recall < 1.0, "{v:?}");
}

#[test]
fn an_extra_read_breaks_the_exact_match_of_a_read_task() {
    let mut e = first(false);
    let extra = e.calls[0].clone();
    e.calls.insert(0, extra.clone());
    let mut call_message = e.messages.iter().find(|m| !m.tool_calls.is_empty()).unwrap().clone();
    call_message.tool_calls[0].id = "extra".to_owned();
    let result = Message::tool_result("extra", "{}");
    e.messages.splice(2..2, [call_message, result]);
    let v = verify(&e, world(&e.world).unwrap());
    assert!(v.valid, "{v:?}");
    assert_eq!(v.exact_match, Some(false));
    assert!(!v.success);
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
    looping.messages.insert(n - 1, Message::text("assistant", "let me check that for you ".repeat(6)));
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
