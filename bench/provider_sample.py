"""A sample of a tool pool by provider: every tool of N providers drawn at random (seeded)
among those with between MIN and MAX tools, in pool order.

    python3 bench/provider_sample.py tools.jsonl sample.jsonl [--providers 54] [--seed 7] [--min 20] [--max 400]

The embedders are compared on such a sample (BENCHMARKS.md, "Embedders compared"): whole
providers, so NMI against provider and category labels means the same as on the pool.
"""

import argparse
import collections
import json
import random


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tools")
    parser.add_argument("out")
    parser.add_argument("--providers", type=int, default=54)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--min", type=int, default=20)
    parser.add_argument("--max", type=int, default=400)
    args = parser.parse_args()
    counts = collections.Counter()
    with open(args.tools) as f:
        for line in f:
            counts[json.loads(line)["provenance"]["provider"]] += 1
    eligible = sorted(p for p, n in counts.items() if args.min <= n <= args.max)
    chosen = set(random.Random(args.seed).sample(eligible, min(args.providers, len(eligible))))
    kept = 0
    with open(args.tools) as f, open(args.out, "w") as out:
        for line in f:
            if json.loads(line)["provenance"]["provider"] in chosen:
                out.write(line)
                kept += 1
    print(f"{len(chosen)} of {len(eligible)} eligible providers, {kept} tools -> {args.out}")


if __name__ == "__main__":
    main()
