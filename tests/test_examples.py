"""The worked examples in examples/, run as a planner runs them, on the real data.

Each script runs once per module (in-process through ``main``, except the UK
overview, which runs as ``python examples/uk_overview.py`` in a subprocess
started at the top of the module so it overlaps the in-process runs); the
tests then read what the scripts wrote.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections import deque
from pathlib import Path
from types import SimpleNamespace

import _realdata
import geopandas as gpd
import kent_creative_clusters
import local_authorities
import numpy as np
import pandas as pd
import pytest

import geoclusters as gc
from geoclusters._fields import read_mapping, unflatten

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

LONDON = "E30000234"
CORE = ["Tunbridge Wells", "Hastings", "Eastbourne", "Brighton"]
RUN_OUTPUTS = [
    "areas.gpkg",
    "clusters.csv",
    "conurbations.gpkg",
    "summary.csv",
    "provenance.json",
    "map.png",
    "lisa.png",
    "map.html",
    "report.html",
]


def run_main(module, out: Path) -> str:
    """Call the script's ``main`` with ``--out``; return what it printed."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), _realdata.quiet_repairs():
        assert module.main(["--out", str(out)]) == 0
    return printed.getvalue()


def read_areas(out: Path) -> gpd.GeoDataFrame:
    areas = gpd.read_file(out / "areas.gpkg", engine="pyogrio")
    return areas.set_index("area")


def read_metrics(out: Path) -> pd.DataFrame:
    """The long metrics of a run's areas.gpkg, through the field mapping written beside it."""
    mapping = read_mapping(out / "fields.json")
    return unflatten(read_areas(out), mapping["areas"])[1]


def codes(areas: pd.DataFrame, names: list[str]) -> list[str]:
    found = [areas.index[areas["name"] == name] for name in names]
    assert all(len(match) == 1 for match in found), names
    return [match[0] for match in found]


def groups_of(row) -> set[str]:
    """Sector groups from 'measure:group; measure:group' cells, measure dropped."""
    labels = []
    for cell in (row["concentration_groups"], row["growth_groups"]):
        if isinstance(cell, str) and cell:
            labels += [label.split(":", 1)[1] for label in cell.split("; ")]
    return set(labels)


def members(row) -> set[str]:
    return set(row["members"].split(";"))


def assert_outputs_written(out: Path, names: list[str]) -> None:
    for name in names:
        path = out / name
        assert path.is_file(), f"{name} was not written"
        assert path.stat().st_size > 0, f"{name} is empty"


# --------------------------------------------------------------------------- the planner's run


@pytest.fixture(scope="module", autouse=True)
def uk_process(data, tmp_path_factory):
    """``python examples/uk_overview.py`` from a fresh directory, with the default output."""
    cwd = tmp_path_factory.mktemp("planner")
    env = {**os.environ, "GEOCLUSTERS_DATA": str(data)}
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "uk_overview.py")],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield process, cwd
    if process.poll() is None:
        process.kill()
        process.communicate()


@pytest.fixture(scope="module")
def uk_files(uk_process):
    process, cwd = uk_process
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    return cwd / "examples-output" / "uk_overview", stdout


# --------------------------------------------------------------------------- Kent and Sussex


@pytest.fixture(scope="module")
def kent(tmp_path_factory):
    out = tmp_path_factory.mktemp("kent")
    return out, run_main(kent_creative_clusters, out)


def test_kent_writes_every_output(kent):
    out, printed = kent
    extra = ["naive_conurbations.gpkg", "hub_conurbations.gpkg", "kent_map.png", "map_focus.png"]
    assert_outputs_written(out, RUN_OUTPUTS + extra + ["kent_map_naive.png", "links.csv"])
    report = (out / "report.html").read_text()
    assert "Tunbridge Wells" in report and "APPROXIMATION" in report.upper()
    for name in ("kent_map.png", "kent_map_naive.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert str(out / name) in printed


def test_kent_keeps_every_gb_ttwa(kent):
    out, _ = kent
    areas = read_areas(out)
    assert areas.index.is_unique
    assert set(areas.index) == set(_realdata.gb_ttwas().index)
    assert len(areas) == 218
    assert areas["cluster_type"].notna().all()


def test_kent_and_sussex_conurbation_by_default_without_a_hub_named(kent):
    """The seed's case through gc.run with default options: the conurbation holding
    Tunbridge Wells holds the report's four, at most 6 TTWAs, not London; none above 8."""
    out, _ = kent
    areas = read_areas(out)
    core = codes(areas, CORE)
    assert areas.loc[core, "is_cluster"].all()
    shared = set.intersection(*(groups_of(areas.loc[code]) for code in core))
    assert shared, "the four areas share no sector group"

    ids = set(areas.loc[core, "conurbation_id"])
    assert len(ids) == 1 and "" not in ids and None not in ids
    assert areas.loc[LONDON, "is_cluster"]
    assert areas.loc[LONDON, "conurbation_id"] in ("", None)

    conurbations = gpd.read_file(out / "conurbations.gpkg", engine="pyogrio")
    holding = conurbations[conurbations["conurbation"] == ids.pop()].iloc[0]
    assert set(core) <= members(holding)
    assert LONDON not in members(holding)
    assert holding["n_members"] <= 6
    assert conurbations["n_members"].max() <= 8
    provenance = gc.pipeline.load_provenance(out / "provenance.json")
    assert provenance["parameters"]["hubs"] == []  # none named by hand
    assert LONDON in provenance["parameters"]["hubs_excluded"]  # found from the links
    # the written membership column and the conurbation table agree
    in_column = set(areas.index[areas["conurbation_id"] == holding["conurbation"]])
    assert in_column == members(holding)


def test_kent_naive_merge_lets_london_absorb_the_four(kent):
    out, _ = kent
    areas = read_areas(out)
    core = codes(areas, CORE)
    naive = gpd.read_file(out / "naive_conurbations.gpkg", engine="pyogrio")
    with_london = [members(row) for _, row in naive.iterrows() if LONDON in members(row)]
    assert len(with_london) == 1
    assert set(core) <= with_london[0]
    default = gpd.read_file(out / "conurbations.gpkg", engine="pyogrio")
    assert len(with_london[0]) > default["n_members"].max()
    # naming London a hub by hand still leaves a chain bigger than any default conurbation
    by_hand = gpd.read_file(out / "hub_conurbations.gpkg", engine="pyogrio")
    chained = [members(row) for _, row in by_hand.iterrows() if set(core) & members(row)]
    assert LONDON not in set().union(*chained)
    assert max(map(len, chained)) > default["n_members"].max()


def test_kent_links_explain_every_tunbridge_wells_link(kent):
    out, printed = kent
    links = pd.read_csv(out / "links.csv", dtype={"from": str, "to": str}, keep_default_na=False)
    tw = codes(read_areas(out), ["Tunbridge Wells"])[0]
    own = links[(links["from"] == tw) | (links["to"] == tw)]
    own = own.assign(kept=own["kept"].astype(str) == "True")
    assert len(own) >= 4
    for _, link in own.iterrows():
        other = link["to_name"] if link["from"] == tw else link["from_name"]
        assert f"{other}: {float(link['strength']):.2f}" in printed
        assert link["why"].endswith("kept" if link["kept"] else ")")
    assert own["kept"].any()


def test_kent_printout_explains_the_data_and_the_merges(kent):
    _, printed = kent
    assert "APPROXIMATION" in printed
    assert "architecture" in printed
    for name in [*CORE, "Medway", "Canterbury"]:
        assert name in printed
    assert "Naive (no hub)" in printed and "London named a hub by hand" in printed
    assert "Default (links scored, cohesion rule, hubs found)" in printed
    assert "with London" in printed and "without London" in printed
    # which weighting moved the counts, in the printout, the provenance and the report
    assert "population proxy" in printed and "area weights for Scotland" in printed


def test_every_output_says_which_weighting_moved_the_counts(kent, uk_files):
    for out in (kent[0], uk_files[0]):
        notes = " ".join(gc.pipeline.load_provenance(out / "provenance.json")["notes"])
        assert "population proxy" in notes and "area weights" in notes
        assert "population proxy" in (out / "report.html").read_text()


# --------------------------------------------------------------------------- UK overview


@pytest.fixture(scope="module")
def uk_result(uk_files):
    """The script's written outputs (the example runs once in the suite), with its graph."""
    out, _ = uk_files
    areas = read_areas(out)
    conurbations = gpd.read_file(out / "conurbations.gpkg", engine="pyogrio")
    analysed = _realdata.ttwas().loc[areas.index[areas["cluster_type"] != "no data"]]
    return SimpleNamespace(
        areas=areas,
        conurbations=conurbations.set_index("conurbation"),
        graph=gc.contiguity(analysed),
    )


def test_uk_script_runs_as_a_planner_runs_it(uk_files):
    out, printed = uk_files
    assert_outputs_written(out, RUN_OUTPUTS)
    assert "APPROXIMATION" in printed
    assert str(Path("examples-output", "uk_overview", "areas.gpkg")) in printed


def test_uk_keeps_every_ttwa_with_northern_ireland_as_no_data(uk_files):
    out, _ = uk_files
    areas = read_areas(out)
    assert areas.index.is_unique
    assert set(areas.index) == set(_realdata.ttwas().index)
    assert len(areas) == 228
    no_data = areas.index[areas["cluster_type"] == "no data"]
    assert sorted(no_data) == sorted(c for c in areas.index if c.startswith("N"))
    assert len(no_data) == 10


def test_uk_summary_totals_match_the_areas(uk_files):
    out, _ = uk_files
    summary = pd.read_csv(out / "summary.csv", index_col="type")
    areas = read_areas(out)
    types = ["high concentration", "high growth", "both", "none", "no data"]
    assert summary.loc["areas", "total"] == len(areas) == 228
    assert (summary.loc[types].sum() == summary.loc["areas"]).all()
    assert (summary.drop(columns="total").sum(axis=1) == summary["total"]).all()
    assert summary.loc["all clusters", "total"] == int(areas["is_cluster"].sum())
    observed = areas["cluster_type"].value_counts()
    for kind in types:
        assert summary.loc[kind, "total"] == observed.get(kind, 0)


def _connected(nodes: set[str], graph) -> bool:
    start = next(iter(nodes))
    seen, queue = {start}, deque([start])
    while queue:
        for neighbour in graph[queue.popleft()].index:
            if neighbour in nodes and neighbour not in seen:
                seen.add(neighbour)
                queue.append(neighbour)
    return seen == nodes


def test_uk_conurbations_are_contiguous_clusters(uk_result):
    conurbations = uk_result.conurbations
    areas = uk_result.areas
    assert len(conurbations) > 0
    for key, row in conurbations.iterrows():
        group = members(row)
        assert row["n_members"] == len(group) >= 2, key
        assert areas.loc[list(group), "is_cluster"].all(), key
        assert _connected(group, uk_result.graph), f"{key} is not contiguous"
        assert LONDON not in group


def test_uk_written_areas_and_conurbations_agree(uk_result):
    """The script's two GeoPackages tell the same membership (it once ran twice to check this)."""
    areas = uk_result.areas
    for key, row in uk_result.conurbations.iterrows():
        assert (areas.loc[sorted(members(row)), "conurbation_id"] == key).all(), key
    in_any = areas["conurbation_id"].fillna("") != ""
    assert in_any.sum() == uk_result.conurbations["n_members"].sum()


# --------------------------------------------------------------------------- local authorities


@pytest.fixture(scope="module")
def lads(tmp_path_factory):
    out = tmp_path_factory.mktemp("lads")
    return out, run_main(local_authorities, out)


def test_local_authorities_write_every_output(lads):
    out, printed = lads
    assert_outputs_written(out, RUN_OUTPUTS)
    assert "APPROXIMATION" in printed
    assert "functional economic areas" in printed


def test_local_authorities_keep_all_380(lads):
    out, _ = lads
    areas = read_areas(out)
    assert areas.index.is_unique
    assert len(areas) == 380
    assert set(areas.index) == set(_realdata.local_authorities().index)
    assert areas["cluster_type"].isin(["high concentration", "high growth", "both", "none"]).all()


def test_local_authority_lqs_average_to_one_weighted_by_total_share(lads):
    """Σ_a (X_a / ΣX) · LQ_as = Σ_a x_as / Σ x_s = 1, with X from the input counts."""
    out, _ = lads
    areas = read_areas(out)
    counts = _realdata.local_authority_counts()
    totals = counts[(counts["sector"] == gc.TOTAL) & (counts["period"] == "2015")]
    totals = totals.set_index("area")["value"].reindex(areas.index)
    assert totals.notna().all()
    weights = totals / totals.sum()
    metrics = read_metrics(out)
    for group in _realdata.CREATIVE_GROUPS:
        rows = metrics[(metrics["group"] == group) & (metrics["metric"] == "lq")]
        lq = rows.set_index("area")["value"].reindex(areas.index)
        assert lq.notna().all(), group
        assert np.isclose((weights * lq).sum(), 1.0, rtol=0, atol=1e-9), group
