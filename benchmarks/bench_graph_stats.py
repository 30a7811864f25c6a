"""Time geoclusters' graph and statistics against libpysal, esda and GeoDa (pygeoda).

Run from the repository root::

    python benchmarks/bench_graph_stats.py [--repeat 3]

The real data is read from ``GEOCLUSTERS_DATA`` (default ``../shared/data``):
the 228 TTWAs (EPSG:27700) and the 7,201 MSOAs (EPSG:4326, projected to
EPSG:27700 first). Each timing is the best of ``--repeat`` runs, in seconds;
"ratio" is the other tool's time over ours (above 1: we are faster). The
local statistics use 999 permutations and the log of each area's size (m²) as
the variable. Nothing is tuned or switched off: every library runs with its
defaults on this machine (pygeoda uses its own threads).
"""

from __future__ import annotations

import argparse
import os
import platform
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
from _timing import best, data_dir

import geoclusters as gc


def load(data: Path) -> dict[str, gpd.GeoDataFrame]:
    ttwa = gc.read_areas(
        data / "ttwa2011" / "ttwa_2011_uk_bsc_bng.gpkg", code="ttwa11cd", name="ttwa11nm"
    )
    msoa = gc.read_areas(
        data / "msoa2011" / "msoa_2011_ew_vsimple_wgs84.gpkg",
        code="msoa11cd",
        name="msoa11nm",
        crs="EPSG:27700",
        repair=True,  # four very simplified MSOAs self-intersect
    )
    return {"TTWA (228)": ttwa, f"MSOA ({len(msoa):,})": msoa}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import esda
    import pygeoda
    from libpysal.graph import Graph

    warnings.simplefilter("ignore")  # esda's deprecation notices would drown the table
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; best of {args.repeat}"
    )
    rows = []
    for label, areas in load(data_dir()).items():
        ours_t, ours = best(lambda a=areas: gc.contiguity(a), args.repeat)
        lib_t, lib = best(lambda a=areas: Graph.build_contiguity(a, rook=False), args.repeat)
        frame = areas.reset_index()
        open_t, geoda_map = best(lambda f=frame: pygeoda.open(f), 1)
        geo_t, geo_w = best(lambda m=geoda_map: pygeoda.queen_weights(m), args.repeat)
        pairs = gc.graph_report(ours).n_edges
        rows.append(
            (label, "queen contiguity", "geoclusters.contiguity", ours_t, ours_t, f"{pairs} pairs")
        )
        rows.append(
            (
                label,
                "",
                "libpysal Graph.build_contiguity",
                lib_t,
                ours_t,
                f"{lib.n_edges // 2} pairs",
            )
        )
        rows.append(
            (
                label,
                "",
                "pygeoda.queen_weights",
                geo_t,
                ours_t,
                f"{round(geo_w.mean_neighbors() * geo_w.num_obs) // 2} pairs "
                f"(+{open_t:.3f} s pygeoda.open)",
            )
        )

        y = np.log(areas.geometry.area)
        ours_t, _ = best(lambda g=ours, v=y: gc.local_moran(v, g, 999, seed=1), args.repeat)
        esda_t, _ = best(
            lambda g=ours, v=y: esda.Moran_Local(v.to_numpy(), g, permutations=999, seed=1),
            args.repeat,
        )
        values = list(y.to_numpy())
        geo_t, _ = best(
            lambda w=geo_w, v=values: pygeoda.local_moran(w, v, permutations=999, seed=1),
            args.repeat,
        )
        rows.append(
            (label, "local Moran, 999 perm.", "geoclusters.local_moran", ours_t, ours_t, "")
        )
        rows.append((label, "", "esda.Moran_Local", esda_t, ours_t, ""))
        rows.append((label, "", "pygeoda.local_moran", geo_t, ours_t, ""))

        ours_t, _ = best(lambda g=ours, v=y: gc.local_g(v, g, 999, seed=1), args.repeat)
        esda_t, _ = best(
            lambda g=ours, v=y: esda.G_Local(v.to_numpy(), g, star=True, permutations=999, seed=1),
            args.repeat,
        )
        rows.append((label, "local G*, 999 perm.", "geoclusters.local_g", ours_t, ours_t, ""))
        rows.append((label, "", "esda.G_Local(star=True)", esda_t, ours_t, ""))

    print()
    print("| areas | task | implementation | seconds | ratio to ours | note |")
    print("|---|---|---|---:|---:|---|")
    for label, task, impl, seconds, ours_seconds, note in rows:
        print(
            f"| {label} | {task} | {impl} | {seconds:.3f} | {seconds / ours_seconds:.2f} | {note} |"
        )


if __name__ == "__main__":
    main()
