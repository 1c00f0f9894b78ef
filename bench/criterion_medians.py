#!/usr/bin/env python3
"""Prints the medians of the last `cargo bench` run as a Markdown table (Python stdlib).

    python3 bench/criterion_medians.py [target/criterion]

criterion's console line shows the mean-based estimate; docs/PERFORMANCE.md records the
median of the samples (and its 95 % confidence interval), read from
target/criterion/<group>/<bench>/new/estimates.json.
"""

import json
import pathlib
import sys


def fmt(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.3f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.1f} ns"


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
    rows = []
    for path in sorted(root.glob("**/new/estimates.json")):
        name = str(path.parent.parent.relative_to(root))
        median = json.loads(path.read_text())["median"]
        ci = median["confidence_interval"]
        rows.append((name, fmt(median["point_estimate"]),
                     f"{fmt(ci['lower_bound'])} to {fmt(ci['upper_bound'])}"))
    if not rows:
        print(f"no criterion results under {root}: run `cargo bench -p pas-domain` first")
        sys.exit(1)
    print("| benchmark | median | 95 % CI of the median |")
    print("|---|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
