"""The files `worldsmith run` writes load with Hugging Face `datasets` as users load them,
and what a trainer reads from them is what the JSON Lines say."""

import json
from pathlib import Path

from conftest import read_jsonl
from datasets import load_dataset


def test_sft_lines_load_with_their_roles_weights_and_tools(run_dir: Path) -> None:
    manifest = json.loads((run_dir / "sft" / "manifest.json").read_text())
    path = run_dir / "sft" / "stage2_vertical.jsonl"
    expected = manifest["stats"]["lines"]["stage2_vertical"]
    assert expected > 0
    ds = load_dataset("json", data_files=str(path), split="train")
    assert len(ds) == expected
    assert set(ds.column_names) == {"messages", "tools"}
    raw = read_jsonl(path)
    weights = set()
    for row, line in zip(ds, raw):
        messages = row["messages"]
        assert [m["role"] for m in messages[:2]] == ["system", "user"]
        assert len(messages) == len(line["messages"])
        for m, original in zip(messages, line["messages"]):
            assert m["role"] == original["role"]
            assert m.get("content") == original.get("content")
            if m["role"] == "assistant":
                # Never null: transformers drops null keys and chat templates then fail.
                assert isinstance(m["content"], str)
                assert m["weight"] in (0, 1)
                weights.add(m["weight"])
                for call in m.get("tool_calls") or []:
                    assert call["type"] == "function"
                    assert isinstance(json.loads(call["function"]["arguments"]), dict)
            else:
                assert m.get("weight") is None
            if m["role"] == "tool":
                assert m["tool_call_id"]
        names = [t["function"]["name"] for t in row["tools"]]
        assert names == [t["function"]["name"] for t in line["tools"]]
        assert all(t["type"] == "function" for t in row["tools"])
    # Both kinds of assistant turns occur: trained (1) and context (0, e.g. a recovered mistake).
    assert 1 in weights


def test_verdicts_load_with_every_reward_as_a_column(run_dir: Path) -> None:
    path = run_dir / "verify" / "verdicts.jsonl"
    ds = load_dataset("json", data_files=str(path), split="train")
    raw = read_jsonl(path)
    assert len(ds) == len(raw) > 0
    rewards = ds["rewards"]
    for loaded, line in zip(rewards, raw):
        assert loaded["success"] == line["rewards"]["success"]
        f1 = line["rewards"]["f1"]
        assert abs(loaded["f1"]["f1"] - f1["f1"]) < 1e-12
        assert loaded["f1"]["gold_calls"] == f1["gold_calls"]
    # The oracle earns every reward; the noisy policy does not always.
    by_policy: dict[str, list[int]] = {}
    for policy, r in zip(ds["policy"], rewards):
        by_policy.setdefault(policy, []).append(r["success"])
    assert set(by_policy["oracle"]) == {1}
    assert 0 in by_policy["noisy"]
