"""Shared fixtures: the worldsmith binary under test and one run of its main job."""

import json
import os
import subprocess
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def worldsmith() -> Path:
    """The binary `scripts/test.sh` built (or the one WORLDSMITH_BIN names)."""
    path = os.environ.get("WORLDSMITH_BIN")
    assert path, "set WORLDSMITH_BIN to the worldsmith binary (scripts/test.sh does)"
    binary = Path(path)
    assert binary.is_file(), f"{binary} does not exist; build it with `cargo build -p worldsmith`"
    return binary


@pytest.fixture(scope="session")
def run_dir(worldsmith: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output of `worldsmith run` on the embedded default, made once per session."""
    out = tmp_path_factory.mktemp("run") / "out"
    done = subprocess.run(
        [str(worldsmith), "run", "--out", str(out)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return out


def read_jsonl(path: Path) -> list[dict]:
    """Every line of a JSON Lines file, parsed."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
