"""A new process, cold: what a command-line user waits for on the 228 TTWAs.

Run from the repository root::

    python benchmarks/bench_cold.py [--repeat 5]

Each measurement is a fresh ``python`` process (wall time, imports
included): read the TTWA boundaries, build the queen graph, run local Moran
with 999 permutations. geoclusters' compiled kernels are cached by numba
(``cache=True``) next to the package, so only the very first process after an
install or an edit compiles them; that first run is reported apart (the
cache is cleared before it). ``import mapclassify`` is timed alone: with numba
installed it compiles a function on import, which a map-drawing command pays
if anything imports it. The whole demo job (``geoclusters demo``: run, maps,
report) is timed in a new process too, and the heavy packages it imported
are listed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from _timing import REPO, data_dir

SCRIPT = """
import numpy as np
import geoclusters as gc
areas = gc.read_areas({path!r}, code="ttwa11cd", name="ttwa11nm")
graph = gc.contiguity(areas)
result = gc.local_moran(np.log(areas.geometry.area), graph, permutations=999, seed=1)
assert len(result.ids) == 228
"""


DEMO_IMPORTS = """
import sys
from geoclusters.cli import main
assert main(["demo", "--out", {out!r}, "--quiet"]) == 0
heavy = [m for m in ("mapclassify", "libpysal", "sklearn", "numba") if m in sys.modules]
print("imported " + ", ".join(heavy))
"""


def wall(code: str) -> float:
    # this checkout's package, whatever is installed
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    code = SCRIPT.format(path=str(data_dir() / "ttwa2011" / "ttwa_2011_uk_bsc_bng.gpkg"))
    cache = REPO / "src" / "geoclusters" / "_kernels" / "__pycache__"
    shutil.rmtree(cache, ignore_errors=True)
    first = wall(code)
    cold = statistics.median(wall(code) for _ in range(args.repeat))
    python_only = statistics.median(wall("import numpy, pandas") for _ in range(args.repeat))
    imports = statistics.median(
        wall("import geoclusters.stats, geoclusters.graph") for _ in range(3)
    )
    mapclassify = statistics.median(wall("import mapclassify") for _ in range(3))
    with tempfile.TemporaryDirectory() as out:
        demo = statistics.median(
            wall(
                "import sys; from geoclusters.cli import main; "
                f"sys.exit(main(['demo', '--out', {out + f'/run{k}'!r}, '--quiet']))"
            )
            for k in range(3)
        )
        drawn = subprocess.run(
            [sys.executable, "-c", DEMO_IMPORTS.format(out=out + "/imports")],
            check=True, capture_output=True, text=True, cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        ).stdout.strip()  # fmt: skip
    print("| new process on the 228 TTWAs | median s |")
    print("|---|---:|")
    print(f"| read + queen + local Moran (999), numba cache empty (compiles) | {first:.2f} |")
    print(f"| read + queen + local Moran (999), numba cache filled | {cold:.2f} |")
    print(f"| of which `import numpy, pandas` alone | {python_only:.2f} |")
    print(f"| `import geoclusters.stats, geoclusters.graph` | {imports:.2f} |")
    print(f"| `import mapclassify` (numba installed) | {mapclassify:.2f} |")
    print(f"| `geoclusters demo` (whole job, maps and report), new process | {demo:.2f} |")
    print(f"\nAfter `geoclusters demo`: {drawn}")


if __name__ == "__main__":
    main()
