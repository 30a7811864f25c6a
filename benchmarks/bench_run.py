"""Whole run on the synthetic demo region: median wall time of ``gc.run``.

Also counts how often the run validates the counts and builds the per-area
metrics, the repeated work the architecture issue removed.

    PYTHONPATH=src python benchmarks/bench_run.py --repeat 7
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter

import geoclusters as gc
from geoclusters import counts as counts_module
from geoclusters import measures
from geoclusters.datasets import demo_region


def _counted(module, name: str, tally: Counter) -> None:
    """Wrap ``module.name`` and every module that imported it, counting calls."""
    import sys

    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        tally[name] += 1
        return original(*args, **kwargs)

    for loaded in list(sys.modules.values()):
        if getattr(loaded, "__name__", "").startswith("geoclusters") and (
            getattr(loaded, name, None) is original
        ):
            setattr(loaded, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    arguments = parser.parse_args()
    region = demo_region(seed=0)
    gc.run(region.areas, region.counts)  # warm-up: imports, numba compilation
    times = []
    for _ in range(arguments.repeat):
        start = time.perf_counter()
        gc.run(region.areas, region.counts)
        times.append(time.perf_counter() - start)
    print(
        f"run on the demo: median {statistics.median(times):.3f} s "
        f"(min {min(times):.3f}, max {max(times):.3f}, {arguments.repeat} runs)"
    )
    # every stage is loaded by now (the runs above), so each module's reference is wrapped
    tally: Counter = Counter()
    names = ["validate_counts", "area_profile", "metrics"]
    for name in names:
        for module in (counts_module, measures):
            if hasattr(module, name):
                _counted(module, name, tally)
    gc.run(region.areas, region.counts)
    print("calls in one run: " + ", ".join(f"{name} {tally[name]}" for name in names))


if __name__ == "__main__":
    main()
