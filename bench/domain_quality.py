"""Domain quality of two graph runs over the same pool, on the same tools.

NMI against provider and category labels over "the tools in domains" compares different
populations when one run places more tools than the other. This prints, for each run, NMI
and the share of tools whose domain's most common label is their own (purity), over all its
tools in domains and over the tools both runs hold; and a reference: the first run's domains
plus the second run's extra tools grouped perfectly by API (provider and service).

    python3 bench/domain_quality.py tools.jsonl graph-drop/domains.jsonl graph-place/domains.jsonl
"""

import collections
import json
import math
import sys


def labels(tools_path):
    out = {}
    with open(tools_path) as f:
        for line in f:
            t = json.loads(line)
            p = t["provenance"]
            category = (p.get("categories") or ["uncategorized"])[0]
            out[t["id"]] = {"provider": p["provider"], "api": (p["provider"], p.get("service") or ""), "category": category}
    return out


def domains(path):
    with open(path) as f:
        return [json.loads(line)["tools"] for line in f]


def nmi(found, truth):
    n = len(found)
    joint = collections.Counter(zip(found, truth))
    a, b = collections.Counter(truth), collections.Counter(found)
    mi = sum(v / n * math.log(n * v / (a[t] * b[f])) for (f, t), v in joint.items())
    h = lambda c: -sum(v / n * math.log(v / n) for v in c.values())  # noqa: E731
    return 2 * mi / (h(a) + h(b))


def quality(tools, parts, only=None):
    row = {}
    for field in ("provider", "category"):
        found, truth, pure = [], [], 0
        for i, part in enumerate(parts):
            top = collections.Counter(tools[t][field] for t in part).most_common(1)[0][0]
            for t in part:
                if only is None or t in only:
                    found.append(i)
                    truth.append(tools[t][field])
                    pure += tools[t][field] == top
        row[field] = (nmi(found, truth), pure / len(found))
    return len(found), row


def main():
    tools = labels(sys.argv[1])
    first, second = domains(sys.argv[2]), domains(sys.argv[3])
    held_first = {t for p in first for t in p}
    both = held_first & {t for p in second for t in p}
    extra = collections.defaultdict(list)
    for p in second:
        for t in p:
            if t not in held_first:
                extra[tools[t]["api"]].append(t)
    reference = [list(p) for p in first]
    for group in extra.values():
        pieces = -(-len(group) // 50)
        reference.extend(group[i::pieces] for i in range(pieces))
    print("| run | tools | provider NMI / purity | category NMI / purity |")
    print("|---|---:|---|---|")
    rows = [
        (sys.argv[2], first, None),
        (sys.argv[3], second, None),
        (f"{sys.argv[2]}, the tools both hold", first, both),
        (f"{sys.argv[3]}, the tools both hold", second, both),
        ("reference: the first, plus the second's extra tools grouped by API", reference, None),
    ]
    for name, parts, only in rows:
        n, q = quality(tools, parts, only)
        cells = " | ".join(f"{q[f][0]:.3f} / {q[f][1]:.3f}" for f in ("provider", "category"))
        print(f"| {name} | {n:,} | {cells} |")


if __name__ == "__main__":
    main()
