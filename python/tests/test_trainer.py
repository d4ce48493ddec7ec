"""`worldsmith export verl` and `export trl`: the files open with pyarrow and `datasets` as
verl's RLHFDataset and TRL load them, every column has its documented type, and every row
says what its arena line says."""

import json
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import read_jsonl
from datasets import List, Value, load_dataset

STRING = "string not null"
MESSAGES = "list<item: struct<role: string not null, content: string not null> not null> not null"
WORLD_KWARGS = "struct<create_kwargs: struct<arena: string not null, world: string not null, digest: string not null> not null>"
ASK_KWARGS = "struct<create_kwargs: struct<arena: string not null, scenario: string not null> not null>"


def export(worldsmith: Path, target: str, arenas: Path, out: Path, *flags: str) -> str:
    done = subprocess.run(
        [str(worldsmith), "export", target, "--arenas", str(arenas), "--out", str(out), *flags],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


@pytest.fixture(scope="module")
def arenas(worldsmith: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Arenas of two worlds; every fifth is marked as needing the user (synthesis on the
    bundled worlds makes none today, and the export reads only the flag)."""
    d = tmp_path_factory.mktemp("arenas")
    for args in (
        ["synth", "--worlds", "retail", "airline", "--per-world", "8", "--out", str(d / "synth")],
        ["arenas", "--tasks", str(d / "synth" / "tasks.jsonl"), "--out", str(d / "arenas")],
    ):
        done = subprocess.run([str(worldsmith), *args], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    lines = read_jsonl(d / "arenas" / "arenas.jsonl")
    for i, line in enumerate(lines):
        line["needs_user"] = i % 5 == 0
    path = d / "arenas.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def by_id(path: Path) -> dict[str, dict]:
    return {a["id"]: a for a in read_jsonl(path)}


def ground_truth(arena: dict) -> dict:
    return {"arena": arena["id"], "reward": arena["reward"], "subgoals": arena["subgoals"], "gold": arena["gold"]}


def prompt(arena: dict) -> list[dict]:
    return [{"role": m["role"], "content": m["content"]} for m in arena["messages"]]


ASK_USER = {
    "type": "function",
    "function": {
        "name": "ask_user",
        "description": "Ask the user a question and get their reply: for a detail you need that the user has not given (an id, a name, an email), or to confirm (yes/no) before you change anything.",
        "parameters": {
            "type": "object",
            "properties": {
                "question": {"type": "string", "description": "The question, as you would ask it in the chat."}
            },
            "required": ["question"],
        },
    },
}


def check_verl_file(path: Path, split: str, arenas: dict[str, dict], ask_user: bool) -> list[str]:
    """Checks every column of one verl file; returns its arena ids in row order."""
    table = pq.read_table(path)
    schema = table.schema
    assert schema.names == ["data_source", "agent_name", "prompt", "ability", "reward_model", "extra_info"]
    for name in ("data_source", "agent_name", "ability"):
        assert str(schema.field(name).type) + " not null" == STRING
    assert f"{schema.field('prompt').type} not null" == MESSAGES
    assert str(schema.field("reward_model").type) == "struct<style: string not null, ground_truth: string not null>"
    extra = schema.field("extra_info").type
    names = [extra.field(i).name for i in range(extra.num_fields)]
    assert names == [
        "split", "index", "arena", "task", "hop", "world", "init_digest", "need_tools_kwargs",
        "tools_kwargs", "interaction_kwargs", "tools", "scenario", "max_turns", "needs_user",
    ]  # fmt: skip
    assert extra.field("index").type == pa.int64() and extra.field("max_turns").type == pa.int64()
    assert extra.field("hop").type == pa.int64() and extra.field("hop").nullable
    assert extra.field("need_tools_kwargs").type == pa.bool_() and extra.field("needs_user").type == pa.bool_()
    for name in ("split", "arena", "task", "world", "init_digest", "tools", "scenario"):
        assert extra.field(name).type == pa.string() and not extra.field(name).nullable
    kwargs = extra.field("tools_kwargs").type
    tool_names = sorted({t["function"]["name"] for a in arenas.values() for t in a["tools"]} | ({"ask_user"} if ask_user else set()))
    assert [kwargs.field(i).name for i in range(kwargs.num_fields)] == tool_names
    for i in range(kwargs.num_fields):
        expected = ASK_KWARGS if kwargs.field(i).name == "ask_user" else WORLD_KWARGS
        assert str(kwargs.field(i).type) == expected and kwargs.field(i).nullable
    assert str(extra.field("interaction_kwargs").type) == (
        "struct<name: string not null, arena: string not null, scenario: string not null>"
    )

    ids = []
    for index, row in enumerate(table.to_pylist()):
        info = row["extra_info"]
        arena = arenas[info["arena"]]
        ids.append(arena["id"])
        tools = arena["tools"] + ([ASK_USER] if ask_user else [])
        assert row["data_source"] == f"worldsmith/{arena['world']}"
        assert row["agent_name"] == "tool_agent" and row["ability"] == "tool_use"
        assert row["prompt"] == prompt(arena)
        assert row["reward_model"]["style"] == "rule"
        assert json.loads(row["reward_model"]["ground_truth"]) == ground_truth(arena)
        assert info["split"] == split and info["index"] == index
        assert info["task"] == arena["task"] and info["hop"] == arena.get("hop")
        assert info["world"] == arena["world"] and info["init_digest"] == arena["init"]["digest"]
        assert info["need_tools_kwargs"] is True
        offered = {t["function"]["name"] for t in tools}
        for name, entry in info["tools_kwargs"].items():
            if name not in offered:
                assert entry is None, name
            elif name == "ask_user":
                create = entry["create_kwargs"]
                assert create["arena"] == arena["id"] and json.loads(create["scenario"]) == arena["scenario"]
            else:
                assert entry["create_kwargs"] == {
                    "arena": arena["id"], "world": arena["init"]["world"], "digest": arena["init"]["digest"]
                }  # fmt: skip
        assert offered <= set(info["tools_kwargs"])
        assert info["interaction_kwargs"]["name"] == "worldsmith_user"
        assert info["interaction_kwargs"]["arena"] == arena["id"]
        assert json.loads(info["interaction_kwargs"]["scenario"]) == arena["scenario"]
        assert json.loads(info["tools"]) == tools
        assert json.loads(info["scenario"]) == arena["scenario"]
        assert info["max_turns"] == arena["max_turns"] and info["needs_user"] == arena["needs_user"]
        if not ask_user:
            assert not arena["needs_user"]
    return ids


def test_verl_files_have_what_rlhf_dataset_reads(worldsmith: Path, arenas: Path, tmp_path: Path) -> None:
    out = tmp_path / "verl"
    table = export(worldsmith, "verl", arenas, out, "--test-fraction", "0.25", "--seed", "1")
    assert "need the user (--ask-user keeps them)" in table
    lines = by_id(arenas)
    manifest = json.loads((out / "manifest.json").read_text())
    needs_user = sum(a["needs_user"] for a in lines.values())
    assert needs_user > 0 and manifest["left_out"] == {"needs_user": needs_user}
    ids = {split: check_verl_file(out / f"{split}.parquet", split, lines, False) for split in ("train", "test")}
    for split in ("train", "test"):
        assert manifest["files"][f"{split}.parquet"]["arenas"] == ids[split]
        assert manifest["rows"][split] == len(ids[split]) > 0
    assert sorted(ids["train"] + ids["test"]) == sorted(i for i, a in lines.items() if not a["needs_user"])
    # Whole tasks: no task (nor any of its hops) in both files.
    tasks = {split: {lines[i]["task"] for i in ids[split]} for split in ids}
    assert tasks["train"].isdisjoint(tasks["test"])
    assert manifest["groups"] == {"train": len(tasks["train"]), "test": len(tasks["test"])}

    # As verl loads them: datasets' parquet builder, with the types the schema gives.
    ds = load_dataset(
        "parquet", data_files={s: str(out / f"{s}.parquet") for s in ("train", "test")}, cache_dir=str(tmp_path / "hf")
    )
    for split in ("train", "test"):
        f = ds[split].features
        assert f["prompt"] == List({"role": Value("string"), "content": Value("string")})
        assert f["reward_model"] == {"style": Value("string"), "ground_truth": Value("string")}
        assert f["data_source"] == f["ability"] == f["agent_name"] == Value("string")
        assert f["extra_info"]["index"] == Value("int64") and f["extra_info"]["need_tools_kwargs"] == Value("bool")
        assert f["extra_info"]["tools_kwargs"]["get_order"] == {
            "create_kwargs": {"arena": Value("string"), "world": Value("string"), "digest": Value("string")}
        }
        rows = pq.read_table(out / f"{split}.parquet").to_pylist()
        assert len(ds[split]) == len(rows)
        for row, expected in zip(ds[split], rows):
            assert row == expected
            # What RLHFDataset.__getitem__ does with the row.
            info = row["extra_info"]
            assert isinstance(info["index"], int) and isinstance(info["tools_kwargs"], dict)
            name = json.loads(info["tools"])[0]["function"]["name"]
            assert info["tools_kwargs"].get(name, {}).get("create_kwargs", {})["arena"] == info["arena"]


def test_verl_ask_user_keeps_every_arena_and_offers_the_tool(worldsmith: Path, arenas: Path, tmp_path: Path) -> None:
    out = tmp_path / "verl"
    export(worldsmith, "verl", arenas, out, "--ask-user")
    lines = by_id(arenas)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["ask_user"] is True and manifest["left_out"] == {}
    ids = [i for split in ("train", "test") for i in check_verl_file(out / f"{split}.parquet", split, lines, True)]
    assert sorted(ids) == sorted(lines)


def test_trl_dataset_loads_with_prompt_tools_and_arena(worldsmith: Path, arenas: Path, tmp_path: Path) -> None:
    out = tmp_path / "trl"
    table = export(worldsmith, "trl", arenas, out, "--split-by", "world", "--ask-user")
    assert "worlds" in table
    lines = by_id(arenas)
    schema = pq.read_schema(out / "data" / "train-00000-of-00001.parquet")
    assert schema.names == [
        "prompt", "tools", "arena", "task", "hop", "world", "init_digest", "ground_truth", "scenario",
        "max_turns", "needs_user",
    ]  # fmt: skip
    assert f"{schema.field('prompt').type} not null" == MESSAGES
    for name in ("tools", "arena", "task", "world", "init_digest", "ground_truth", "scenario"):
        assert schema.field(name).type == pa.string() and not schema.field(name).nullable
    assert schema.field("hop").type == pa.int64() and schema.field("hop").nullable
    assert schema.field("max_turns").type == pa.int64() and schema.field("needs_user").type == pa.bool_()

    # The standard layout: `load_dataset(DIR)` finds both splits through the card.
    ds = load_dataset(str(out), cache_dir=str(tmp_path / "hf"))
    assert set(ds) == {"train", "test"}
    manifest = json.loads((out / "manifest.json").read_text())
    worlds = {}
    for split in ("train", "test"):
        f = ds[split].features
        assert f["prompt"] == List({"role": Value("string"), "content": Value("string")})
        assert f["tools"] == f["arena"] == f["ground_truth"] == Value("string")
        assert f["hop"] == f["max_turns"] == Value("int64") and f["needs_user"] == Value("bool")
        ids = []
        for row in ds[split]:
            arena = lines[row["arena"]]
            ids.append(arena["id"])
            assert row["prompt"] == prompt(arena)
            tools = json.loads(row["tools"])  # a JSON string: TRL json.loads a string `tools`
            assert tools == arena["tools"] + [ASK_USER]
            assert row["task"] == arena["task"] and row["hop"] == arena.get("hop")
            assert row["world"] == arena["world"] and row["init_digest"] == arena["init"]["digest"]
            assert json.loads(row["ground_truth"]) == ground_truth(arena)
            assert json.loads(row["scenario"]) == arena["scenario"]
            assert row["max_turns"] == arena["max_turns"] and row["needs_user"] == arena["needs_user"]
        assert manifest["files"][f"data/{split}-00000-of-00001.parquet"]["arenas"] == ids
        worlds[split] = {lines[i]["world"] for i in ids}
    # By world: the test worlds are never trained on.
    assert worlds["train"] and worlds["test"] and worlds["train"].isdisjoint(worlds["test"])
    assert sum(len(ds[s]) for s in ds) == len(lines)
