"""The map outputs at 10k, 100k and 1M areas: time, peak memory and file size.

Run from the repository root::

    python benchmarks/bench_maps_scale.py --sizes 10000 100000 1000000 --label after
    python benchmarks/bench_maps_scale.py --table     # the README table from the results

Every (map, size, output) runs in a new process, so one output's memory does
not count against the next, and the parent stops a child that runs longer
than ``--timeout`` seconds or grows past ``--max-gb`` of resident memory
(recorded as such, with the time and memory at the stop). The maps are the
cached grid and Voronoi maps of ``_maps.py``. The typology is random with
clustered blocks: square blocks of about 250 areas (one every 5,000 areas),
each of one cluster type, plus 1 % of areas scattered at random, 0.1 % "no
data"; every fourth block is a conurbation. The LISA table has two groups
(High-High in the blocks, scattered other labels). Timed: drawing and saving,
as ``write_maps`` does it (``savefig`` at 150 dpi, ``bbox_inches="tight"``;
``map.html`` with the metrics and LISA popups). Not timed: making the inputs.

Results are appended to ``results/maps_scale.jsonl`` with ``--label``, so
the code before and after a change can be measured by pointing ``PYTHONPATH``
at either checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "maps_scale.jsonl"
OUTPUTS = ("typology", "lisa", "html")
FILES = {"typology": "map.png", "lisa": "lisa.png", "html": "map.html"}


def _rss(pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def inputs(kind: str, n: int, seed: int = 0):
    """Areas with a clustered random typology, their conurbations, LISA and metrics."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    sys.path.insert(0, str(HERE))
    import _maps

    cells = _maps.load(kind, n)
    rng = np.random.default_rng(seed)
    m = len(cells)
    xy = shapely.get_coordinates(shapely.centroid(cells.to_numpy()))
    types = np.full(m, "none", dtype=object)
    lisa = np.full(m, "not significant", dtype=object)
    block = np.full(m, -1)
    n_blocks = max(m // 5000, 2)
    centres = rng.choice(m, n_blocks, replace=False)
    radius = np.sqrt(200 / np.pi) * 1000.0  # the square around this circle: about 250 km²
    tree = shapely.STRtree(shapely.points(xy))
    for b, centre in enumerate(centres):
        inside = tree.query(shapely.points(xy[centre]).buffer(radius))
        block[inside] = b
        types[inside] = ("high concentration", "high growth", "both")[b % 3]
        lisa[inside] = "High-High"
    scattered = rng.random(m) < 0.01
    types[scattered] = rng.choice(["high concentration", "high growth", "both"], scattered.sum())
    lisa[scattered] = rng.choice(["High-Low", "Low-High", "Low-Low"], scattered.sum())
    types[rng.random(m) < 0.001] = "no data"
    codes = cells.index.astype(str)
    areas = gpd.GeoDataFrame(
        {"name": [f"Area {c}" for c in codes], "cluster_type": types, "conurbation": ""},
        geometry=cells.to_numpy(),
        crs=cells.crs,
        index=pd.Index(codes, name="area"),
    )
    rows = []
    for b in range(0, n_blocks, 4):
        members = codes[(block == b) & (types != "no data")]
        if len(members) < 2:
            continue
        name = f"Block {b}"
        areas.loc[members, "conurbation"] = name
        rows.append(
            {
                "name": name,
                "members": ";".join(members),
                "n_members": len(members),
                "sectors": "businesses:content",
                "rule": "benchmark block",
                "geometry": shapely.union_all(areas.loc[members].geometry.to_numpy()),
            }
        )
    conurbations = gpd.GeoDataFrame(rows, geometry="geometry", crs=cells.crs)
    groups = {"content": lisa, "services": np.where(lisa == "High-High", "Low-Low", lisa)}
    lisa_table = pd.concat(
        pd.DataFrame({"area": codes, "measure": "businesses", "group": g, "label": labels})
        for g, labels in groups.items()
    )
    count = rng.poisson(50, m).astype(float)
    metrics = pd.concat(
        pd.DataFrame(
            {
                "area": codes,
                "measure": "businesses",
                "group": "content",
                "metric": metric,
                "value": value,
            }
        )
        for metric, value in (
            ("count", count),
            ("lq", count / 50.0),
            ("lq_change", rng.normal(0, 0.1, m)),
        )
    )
    return areas, conurbations, lisa_table, metrics


def child(kind: str, n: int, output: str, out_dir: Path) -> dict:
    """Make the inputs, then time one output (in this process)."""
    import geoclusters as gc

    areas, conurbations, lisa, metrics = inputs(kind, n)
    target = out_dir / f"{kind}_{n}_{FILES[output]}"
    base = _rss()
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss())
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    if output == "html":
        gc.interactive_map(areas, conurbations, metrics=metrics, lisa=lisa, path=target)
    else:
        fig = (
            gc.typology_map(areas, conurbations)
            if output == "typology"
            else gc.lisa_maps(areas, lisa)
        )
        fig.savefig(target, dpi=150, bbox_inches="tight", facecolor="white")
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    clusters = int((~areas["cluster_type"].isin(["none", "no data"])).sum())
    return {
        "seconds": round(seconds, 2),
        "peak_mb": round((peak[0] - base) / 2**20),
        "file_mb": round(target.stat().st_size / 2**20, 2),
        "areas": len(areas),
        "cluster_areas": clusters,
        "conurbations": len(conurbations),
        "status": "ok",
    }


def run_one(kind: str, n: int, output: str, args: argparse.Namespace) -> dict:
    """One child process, stopped at the time or memory limit."""
    command = [sys.executable, __file__, "--child", kind, str(n), output, str(args.out_dir)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    start, peak = time.perf_counter(), 0
    status = None
    while proc.poll() is None:
        try:
            peak = max(peak, _rss(proc.pid))
        except OSError:
            pass
        elapsed = time.perf_counter() - start
        if elapsed > args.timeout:
            status = f"stopped after {args.timeout:.0f} s (inputs included)"
        elif peak > args.max_gb * 2**30:
            status = f"stopped at {args.max_gb:g} GB resident"
        if status:
            proc.kill()
            proc.wait()
            break
        time.sleep(0.2)
    out = proc.stdout.read() if proc.stdout else ""
    if status is None and proc.returncode == 0:
        return json.loads(out.strip().splitlines()[-1])
    return {
        "status": status or f"failed (exit {proc.returncode})",
        "seconds": None,
        "peak_mb": round(peak / 2**20),
        "file_mb": None,
    }


def table() -> str:
    rows = [json.loads(line) for line in RESULTS.read_text().splitlines() if line.strip()]
    latest: dict[tuple, dict] = {}
    for row in rows:
        latest[(row["label"], row["kind"], row["n"], row["output"])] = row
    labels = list(dict.fromkeys(r["label"] for r in rows))
    lines = [
        "| map | areas | output | "
        + " | ".join(f"{lab} s / peak MB / file MB" for lab in labels)
        + " |",
        "|---|---:|---|" + "---:|" * len(labels),
    ]
    keys = sorted({k[1:] for k in latest}, key=lambda k: (k[1], k[0], OUTPUTS.index(k[2])))
    for kind, n, output in keys:
        cells = []
        for lab in labels:
            row = latest.get((lab, kind, n, output))
            if row is None:
                cells.append("–")
            elif row["status"] != "ok":
                cells.append(f"{row['status']}, {row['peak_mb']:,} MB")
            else:
                cells.append(f"{row['seconds']:.1f} / {row['peak_mb']:,} / {row['file_mb']:g}")
        lines.append(f"| {kind} | {n:,} | {FILES[output]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--kinds", nargs="+", default=["grid", "voronoi"])
    parser.add_argument("--outputs", nargs="+", default=list(OUTPUTS), choices=OUTPUTS)
    parser.add_argument("--label", default="after")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--max-gb", type=float, default=12.0)
    parser.add_argument("--out-dir", type=Path, default=Path("/tmp/geoclusters-bench/maps"))
    parser.add_argument("--child", nargs=4, metavar=("KIND", "N", "OUTPUT", "DIR"))
    parser.add_argument("--table", action="store_true")
    args = parser.parse_args()
    if args.table:
        print(table())
        return
    if args.child:
        kind, n, output, out_dir = args.child
        print(json.dumps(child(kind, int(n), output, Path(out_dir))))
        return
    args.out_dir = args.out_dir / args.label
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for n in args.sizes:
        for kind in args.kinds:
            for output in args.outputs:
                row = run_one(kind, n, output, args)
                row = {"label": args.label, "kind": kind, "n": n, "output": output, **row}
                print(json.dumps(row), flush=True)
                with RESULTS.open("a") as f:
                    f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
