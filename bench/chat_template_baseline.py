"""The Python baseline for the token benchmark: transformers' apply_chat_template renders and
tokenizes the same SFT lines (tokenize=True), one after another, as a Python SFT pipeline
does before training.

Usage: python bench/chat_template_baseline.py TOKENIZER_DIR SFT_JSONL [ROUNDS]
Prints one JSON object: lines, tokens, best seconds of ROUNDS (default 3), tokens per second.
"""

import json
import sys
import time

from transformers import AutoTokenizer


def main() -> None:
    directory, path = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    tokenizer = AutoTokenizer.from_pretrained(directory)
    with open(path, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f if line.strip()]
    best = float("inf")
    tokens = 0
    for _ in range(rounds):
        start = time.perf_counter()
        tokens = 0
        for line in lines:
            out = tokenizer.apply_chat_template(line["messages"], tools=line["tools"], tokenize=True)
            tokens += len(out["input_ids"])
        best = min(best, time.perf_counter() - start)
    print(json.dumps({"lines": len(lines), "tokens": tokens, "seconds": round(best, 3), "tokens_per_second": round(tokens / best)}))


if __name__ == "__main__":
    main()
