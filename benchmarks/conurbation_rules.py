"""Which merging rule makes conurbations a planner would recognise: measured on the real map.

Builds the links between the creative clusters of the 218 GB Travel to Work
Areas (the examples' approximate counts: local-authority business counts moved
by population-proxy weights, or by area with ``--area``, see
``examples/_realdata.py``), with 2021 Census commuting moved from local
authorities onto TTWAs, and merges them by every rule tried. For each
rule it prints the conurbation holding Tunbridge Wells, the largest
conurbation, the number of conurbations and the checks of issue 9; then every
link of Tunbridge Wells with its strength and why.

Run it::

    GEOCLUSTERS_DATA=../shared/data python benchmarks/conurbation_rules.py \
        [--area] [--scale] [--sensitivity]

``--scale`` also times the merging rules on synthetic grids of 400 to 6,400
cluster areas (queen neighbours, strengths drawn uniformly, seeded), where the
TTWAs have 42 or 43; ``--sensitivity`` times :func:`geoclusters.sensitivity`
(20 runs) on the TTWAs.
"""

from __future__ import annotations

import sys
import time
from functools import cache

import pandas as pd
from _timing import REPO

sys.path.insert(0, str(REPO / "examples"))

import _realdata as real

import geoclusters as gc
from geoclusters import _linkage as linkage

TUNBRIDGE_WELLS = "E30000281"
LONDON = "E30000234"
CORE = ["Tunbridge Wells", "Hastings", "Eastbourne", "Brighton"]


@cache
def real_case(weighting: str = "population"):
    """Areas, counts, graph, detection and flows of the examples' GB TTWA run."""
    with real.quiet_repairs():
        counts = real.ttwa_counts(weighting)
    areas = real.gb_ttwas()
    detection = gc.detect_nesta2016(
        areas, counts, groups=real.CREATIVE_GROUPS, periods=["2010", "2015"]
    )
    graph = gc.contiguity(areas)
    return areas, counts, graph, detection, real.ttwa_flows()


def links(weighting: str = "population", **options) -> pd.DataFrame:
    _, counts, graph, detection, flows = real_case(weighting)
    return linkage.link_table(counts, graph, detection, flows, **options)


def clusters(weighting: str = "population") -> list[str]:
    """Every cluster area, linked or not."""
    return sorted(real_case(weighting)[3].selections["area"].unique())


RULES = {
    "components (naive, the 0.1 merge)": {"method": "components", "hubs": None},
    "components, London a hub by hand": {"method": "components", "hubs": [LONDON]},
    "components, hubs found": {"method": "components"},
    "cohesion, single linkage, no caps": {
        "linkage": "single",
        "max_members": None,
        "max_diameter": None,
    },
    "cohesion, single linkage, diameter 3": {"linkage": "single", "max_diameter": 3},
    "cohesion, single linkage, diameter 2": {"linkage": "single"},
    "cohesion, average linkage": {"linkage": "average"},
    "cohesion, geometric linkage": {"linkage": "geometric"},
    "cohesion, geometric, diameter 3": {"linkage": "geometric", "max_diameter": 3},
    "cohesion, member, diameter 3": {"max_diameter": 3},
    "cohesion, member, no caps": {"max_members": None, "max_diameter": None},
    "cohesion, member, no hubs": {"hubs": None},
    "cohesion, member, diameter 2 (default)": {},
    "louvain, resolution 1 (seed 0)": {"method": "louvain"},
    "louvain, resolution 2 (seed 0)": {"method": "louvain", "resolution": 2.0},
    "louvain, no hubs (seed 0)": {"method": "louvain", "hubs": None},
}

WEIGHTS = (
    {"shared": 1 / 3, "flow": 1 / 3, "similarity": 1 / 3},
    {"shared": 0.5, "flow": 0.25, "similarity": 0.25},
    {"shared": 0.3, "flow": 0.4, "similarity": 0.3},
    {"shared": 0.4, "flow": 0.0, "similarity": 0.3},
    {"shared": 0.4, "flow": 0.3, "similarity": 0.0},
    {"shared": 1.0, "flow": 0.0, "similarity": 0.0},
)

STRENGTHS = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55)


def describe(table: pd.DataFrame, areas) -> dict:
    """One merge's figures: the Tunbridge Wells conurbation, sizes and the checks of issue 9."""
    tw = table.loc[TUNBRIDGE_WELLS]
    members = sorted(table.index[table["group"] == tw["group"]]) if tw["conurbation"] else []
    sizes = table[table["conurbation"] != ""].groupby("conurbation").size()
    core = set(real.codes_by_name(areas, CORE))
    largest = int(sizes.max()) if len(sizes) else 0
    return {
        "tw_size": len(members),
        "core_in": core <= set(members),
        "london_in": LONDON in members,
        "largest": largest,
        "n_conurbations": len(sizes),
        "passes": core <= set(members)
        and len(members) <= 6
        and LONDON not in members
        and largest <= 8,
        "hubs": ", ".join(areas.loc[table.index[table["hub"]], "name"]) or "-",
        "tw_members": ", ".join(areas.loc[members, "name"]) or "-",
    }


def main(weighting: str = "population") -> int:
    start = time.perf_counter()
    areas, *_ = real_case(weighting)
    table = links(weighting)
    codes = clusters(weighting)
    built = time.perf_counter() - start
    flows = real.ttwa_flows()
    print(f"Counts moved onto the TTWAs by {weighting} weights")
    print(
        f"Inputs: {len(codes)} cluster TTWAs of 218 in GB, {len(table)} links "
        f"between neighbouring clusters, {int(table['kept'].sum())} kept "
        f"(share a group, strength >= {linkage.DEFAULT_MIN_STRENGTH});"
    )
    print(
        f"  {len(flows):,} TTWA flows ({flows['count'].sum():,.0f} commuters, Census 2021, "
        f"England and Wales); weights {linkage.DEFAULT_WEIGHTS}; built in {built:.1f} s"
    )
    print(f"\nEvery rule at min_strength {linkage.DEFAULT_MIN_STRENGTH}")
    rows = []
    for name, options in RULES.items():
        t = time.perf_counter()
        merged = linkage.cohesive_conurbations(table, codes, **options)
        rows.append({"rule": name, **describe(merged, areas), "seconds": time.perf_counter() - t})
    result = pd.DataFrame(rows)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_colwidth", 140)
    shown = result.drop(columns=["tw_members", "hubs"])
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("\nTunbridge Wells's conurbation and the hubs found, by rule")
    for row in rows:
        print(f"  {row['rule']}: hubs {row['hubs']}")
        print(f"      with Tunbridge Wells ({row['tw_size']}): {row['tw_members']}")

    print(
        "\nRobustness: passes the checks? (Y/.) Tunbridge Wells conurbation size / largest, "
        "by min_strength"
    )
    grid = []
    for name, options in RULES.items():
        row = {"rule": name}
        for strength in STRENGTHS:
            merged = linkage.cohesive_conurbations(table, codes, min_strength=strength, **options)
            figures = describe(merged, areas)
            mark = "Y" if figures["passes"] else "."
            row[strength] = f"{mark} {figures['tw_size']}/{figures['largest']}"
        grid.append(row)
    print(pd.DataFrame(grid).to_string(index=False))

    print("\nThe default rule with other link weights (and without a score)")
    for weights in WEIGHTS:
        merged = linkage.cohesive_conurbations(links(weighting, weights=weights), codes)
        figures = describe(merged, areas)
        print(
            f"  {weights}: passes {figures['passes']}; Tunbridge Wells with "
            f"{figures['tw_size']} ({figures['tw_members']}); largest {figures['largest']}; "
            f"hubs {figures['hubs']}"
        )

    skater_section(table, areas, weighting)

    print("\nLinks of Tunbridge Wells (default link table)")
    own = table[(table["from"] == TUNBRIDGE_WELLS) | (table["to"] == TUNBRIDGE_WELLS)]
    for _, link in own.iterrows():
        other = link["to_name"] if link["from"] == TUNBRIDGE_WELLS else link["from_name"]
        print(f"  {other:<16} {link['strength']:.2f}  {link['why']}")
    return 0


def skater_section(table: pd.DataFrame, areas, weighting: str) -> None:
    """SKATER (spopt) on the kept links, if spopt is installed: it is not a dependency.

    SKATER cuts a minimum spanning tree of the kept-link graph, built on the
    areas' log-LQ profiles, into ``n_clusters`` regions; the number of regions
    has to be chosen, so several are tried.
    """
    try:
        from libpysal.weights import W
        from spopt.region import Skater
    except ImportError:
        print("\nSKATER: spopt is not installed (not a dependency of geoclusters); skipped")
        return
    import warnings

    import geopandas as gpd

    _, counts, _, detection, _ = real_case(weighting)
    profiles = linkage._profiles(counts, detection, None)
    codes = clusters(weighting)
    print("\nSKATER (spopt) on the kept links, log-LQ profiles, by number of regions")
    for label, hubs in (("hubs found", linkage.find_hubs(table)), ("no hubs", [])):
        kept = table[table["kept"] & ~table["from"].isin(hubs) & ~table["to"].isin(hubs)]
        neighbours = {code: [] for code in codes}
        for a, b in zip(kept["from"], kept["to"], strict=True):
            neighbours[a].append(b)
            neighbours[b].append(a)
        weights = W(neighbours, silence_warnings=True)
        frame = profiles.loc[weights.id_order]
        frame.columns = [f"lq{i}" for i in range(frame.shape[1])]
        frame = gpd.GeoDataFrame(frame, geometry=areas.loc[weights.id_order].geometry)
        for k in (10, 14, 18, 22):
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = Skater(frame, weights, list(frame.columns[:-1]), n_clusters=k, floor=1)
                model.solve()
            labels = pd.Series(model.labels_, index=frame.index)
            merged = pd.DataFrame({"group": labels, "conurbation": ""})
            sizes = labels.map(labels.value_counts())
            merged.loc[sizes >= 2, "conurbation"] = "C" + labels[sizes >= 2].astype(str)
            merged["hub"] = merged.index.isin(hubs)
            figures = describe(merged, areas)
            print(
                f"  {label}, {k} regions: Tunbridge Wells with {figures['tw_size']} "
                f"({figures['tw_members']}); largest {figures['largest']}; "
                f"passes {figures['passes']}; {time.perf_counter() - t:.2f} s"
            )


def scale_section() -> None:
    """Time every method and hub finding on grids of clusters, all neighbours linked."""
    import numpy as np

    print("\nScale: synthetic grids, every area a cluster, strengths uniform in [0, 1] (seed 0)")
    rng = np.random.default_rng(0)
    for side in (20, 40, 80):
        codes = [f"a{i:05d}" for i in range(side * side)]
        pairs = [
            (codes[i * side + j], codes[(i + di) * side + j + dj])
            for i in range(side)
            for j in range(side)
            for di, dj in ((0, 1), (1, 0), (1, 1))
            if i + di < side and j + dj < side
        ]
        table = pd.DataFrame(pairs, columns=["from", "to"])
        table["strength"] = rng.uniform(0, 1, len(table))
        table["n_shared"] = 1
        table["kept"] = table["strength"] >= linkage.DEFAULT_MIN_STRENGTH
        times = {}
        for method in linkage.METHODS:
            t = time.perf_counter()
            linkage.cohesive_conurbations(table, codes, method=method, hubs=None)
            times[method] = time.perf_counter() - t
        t = time.perf_counter()
        linkage.find_hubs(table, codes)
        times["find_hubs"] = time.perf_counter() - t
        shown = ", ".join(f"{key} {value:.2f} s" for key, value in times.items())
        print(f"  {len(codes):>5} clusters, {len(table):>6} links: {shown}")


def sensitivity_section(runs: int = 20) -> None:
    """Time gc.sensitivity on the GB TTWAs: the default grid and perturbations, seed 0."""
    areas, *_ = real_case()
    with real.quiet_repairs():
        counts = real.ttwa_counts()
    t = time.perf_counter()
    result = gc.sensitivity(
        areas,
        counts,
        runs=runs,
        groups=real.CREATIVE_GROUPS,
        periods=["2010", "2015"],
        flows=real.ttwa_flows(),
        progress=False,
    )
    seconds = time.perf_counter() - t
    ever = result.areas[result.areas["cluster_share"] > 0]
    print(
        f"\nSensitivity: {runs} runs on the 218 GB TTWAs in {seconds:.1f} s "
        f"({seconds / (runs + 1):.2f} s a run, the unperturbed one included)"
    )
    print(
        f"  {len(ever)} TTWAs a cluster in at least one run, {int(result.areas['robust'].sum())} "
        f"robust (>= 80% of runs); {int((ever['cluster_share'] < 0.5).sum())} in under half"
    )
    for _, row in result.conurbations.iterrows():
        print(f"  stability {row['stability']:.2f}  {row['name']}")


if __name__ == "__main__":
    arguments = sys.argv[1:]
    code = main("area" if "--area" in arguments else "population")
    if "--scale" in arguments:
        scale_section()
    if "--sensitivity" in arguments:
        sensitivity_section()
    raise SystemExit(code)
