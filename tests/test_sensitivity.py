"""How robust clusters and conurbations are (geoclusters.sensitivity), on cases worked out
on paper: a strip of unit squares, one sector group, LQs chosen by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

import geoclusters as gc
from geoclusters.errors import InputError
from geoclusters.sensitivity import Sensitivity, adjusted_rand_index, perturb_counts

# west to east; a pair (a1, a2), a gap x, a pair (b1, b2), four fillers
CODES = ["a1", "a2", "x", "b1", "b2", "f1", "f2", "f3", "f4"]
# film businesses of 1,000 each; national film 1,000 of 9,000, so LQ = film / 111.1:
# a1, a2 2.7; b1 1.8; b2 1.35 (a cluster at an LQ floor of 1.2 or 1.3, not 1.4); the rest 0.09
FILM = {"a1": 300, "a2": 300, "x": 10, "b1": 200, "b2": 150, "f1": 10, "f2": 10, "f3": 10}
FILM["f4"] = 10


@pytest.fixture(scope="module")
def strip():
    areas = gpd.GeoDataFrame(
        {"name": [code.upper() for code in CODES]},
        index=pd.Index(CODES, name="area"),
        geometry=[box(i, 0, i + 1, 1) for i in range(len(CODES))],
        crs=27700,
    )
    rows = []
    for code in CODES:
        for period in ("1", "2"):
            rows += [
                (code, "film", period, "jobs", float(FILM[code])),
                (code, "other", period, "jobs", 1000.0 - FILM[code]),
                (code, gc.TOTAL, period, "jobs", 1000.0),
            ]
    counts = pd.DataFrame(rows, columns=["area", "sector", "period", "measure", "value"])
    return areas, counts


def lq_runs(strip, **options):
    areas, counts = strip
    settings = {
        "method": "thresholds",
        "options": {"lq_min": 1.25},
        "grid": {"lq_min": [1.2, 1.3, 1.4]},
        "perturbations": [],
        "runs": 6,
        "groups": None,
        "periods": ["1", "2"],
        "progress": False,
        **options,
    }
    return gc.sensitivity(areas, counts, **settings)


def test_a_robust_cluster_and_a_fragile_one(strip):
    result = lq_runs(strip)
    assert isinstance(result, Sensitivity)
    areas = result.areas
    assert list(areas.index) == CODES
    # each grid point twice in six runs: b2 is a cluster at 1.2 and 1.3, not at 1.4
    assert areas.loc["b2", "cluster_share"] == pytest.approx(4 / 6)
    assert areas.loc["b2", "concentration_share"] == pytest.approx(4 / 6)
    assert not areas.loc["b2", "robust"]
    for code in ("a1", "a2", "b1"):
        assert areas.loc[code, "cluster_share"] == 1.0 and areas.loc[code, "robust"]
    assert areas.loc["x", "cluster_share"] == 0.0 and not areas.loc["x", "robust"]
    assert (areas[["growth_share", "both_share"]] == 0).all().all()
    assert (areas["runs"] == 6).all()
    shares = areas[["concentration_share", "growth_share", "both_share"]].sum(axis=1)
    assert np.allclose(shares, areas["cluster_share"])
    # pairs: the a pair always together, the b pair when b2 is a cluster
    together = result.pairs.set_index(["a", "b"])["together_share"].to_dict()
    assert together == {("a1", "a2"): 1.0, ("b1", "b2"): pytest.approx(4 / 6)}
    # stability: the a pair is the same conurbation in every run; the b pair in four of
    # six, and in the other two b1 is alone (an adjusted Rand index of 0)
    stability = result.conurbations.set_index("members")["stability"]
    assert stability["a1;a2"] == 1.0
    assert stability["b1;b2"] == pytest.approx(4 / 6)
    assert list(result.conurbations.columns[:4]) == ["conurbation", "name", "members", "stability"]
    assert "6 runs" in repr(result) and result._repr_html_().startswith("<table>")
    assert result.params["grid"] == {"lq_min": [1.2, 1.3, 1.4]}
    assert result.provenance.step == "sensitivity"


def test_results_repeat_exactly_with_a_seed(strip):
    # rounding and Poisson noise on counts rounded to 5; small counts of 10 get noise
    areas, counts = strip
    rounded = counts.assign(rounded_to=5)
    options = {"perturbations": ["rounding", "poisson"], "runs": 5, "small": 12}
    first = lq_runs((areas, rounded), seed=3, **options)
    again = lq_runs((areas, rounded), seed=3, **options)
    pd.testing.assert_frame_equal(first.areas, again.areas)
    pd.testing.assert_frame_equal(first.pairs, again.pairs)
    pd.testing.assert_frame_equal(first.conurbations, again.conurbations)
    # the a pair is far above every floor: noise of a few businesses never moves it
    assert first.areas.loc[["a1", "a2"], "robust"].all()


def test_perturbations_respect_disclosure_control():
    counts = pd.DataFrame(
        {
            "value": [100.0, 5.0, 0.0, 3.0, np.nan, 1234.0],
            "rounded_to": [5, 5, 5, 1, 5, 1],
        }
    )
    rng = np.random.default_rng(0)
    draws = [perturb_counts(counts, rng, perturbations=["rounding"])["value"] for _ in range(200)]
    table = pd.concat(draws, axis=1)
    shift = table.sub(counts["value"], axis=0)
    # rounded cells move within +/-2 (never below 0), exact cells do not move
    assert shift.loc[[0, 1]].abs().max().max() == 2
    assert set(np.unique(shift.loc[0])) == {-2.0, -1.0, 0.0, 1.0, 2.0}
    assert (table.loc[2] >= 0).all() and (table.loc[2] > 0).any()
    assert (shift.loc[[3, 5]] == 0).all().all()
    assert table.loc[4].isna().all()
    poisson = pd.concat(
        [
            perturb_counts(counts, rng, perturbations=["poisson"], small=10)["value"]
            for _ in range(400)
        ],
        axis=1,
    )
    # small counts are redrawn around themselves, large ones kept
    assert (poisson.loc[5] == 1234.0).all() and (poisson.loc[0] == 100.0).all()
    assert poisson.loc[3].std() > 0
    assert poisson.loc[3].mean() == pytest.approx(3.0, abs=0.3)


def test_adjusted_rand_index_from_the_contingency_table():
    # by hand: 6 items, pairs together in both 1 ([0, 1]); in left 4, in right 2, of 15
    left = ["p", "p", "p", "q", "q", "q"]
    right = [1, 1, 2, 2, 3, 3]
    index, rows, columns, total = 2, 6, 3, 15
    expected = rows * columns / total
    assert adjusted_rand_index(left, right) == pytest.approx(
        (index - expected) / ((rows + columns) / 2 - expected)
    )
    assert adjusted_rand_index(left, left) == 1.0
    assert adjusted_rand_index(["a", "b"], ["a", "a"]) == 0.0


def test_bad_options_are_refused(strip):
    with pytest.raises(InputError, match="does not take") as caught:
        lq_runs(strip, grid={"quantile": [0.5]})
    assert caught.value.rows == ["quantile"]
    with pytest.raises(InputError, match="runs"):
        lq_runs(strip, runs=0)
    with pytest.raises(InputError, match="perturbations"):
        lq_runs(strip, perturbations=["jitter"])
    with pytest.raises(InputError, match="periods"):
        lq_runs(strip, periods=None)


def test_the_function_is_reached_as_gc_sensitivity_after_the_module_is_imported(strip):
    import geoclusters.sensitivity as module

    assert callable(gc.sensitivity)
    assert gc.sensitivity(*strip, **{**_quick(), "runs": 1}).params["runs"] == 1
    assert module.sensitivity is not module


def _quick():
    return {
        "method": "thresholds",
        "grid": {"lq_min": [1.25]},
        "groups": None,
        "periods": ["1", "2"],
        "progress": False,
    }


def test_a_run_with_sensitivity_runs_carries_the_result_and_writes_links(tmp_path):
    region = gc.datasets.demo_region(seed=0)
    result = gc.run(region.areas, region.counts, lisa=False, sensitivity_runs=2)
    assert isinstance(result.sensitivity, Sensitivity)
    assert result.sensitivity.params["runs"] == 2
    planted = list(region.planted["conurbation"])
    assert (result.sensitivity.areas.loc[planted, "cluster_share"] > 0).all()
    paths = result.write(tmp_path, maps=False, report=False)
    links = pd.read_csv(paths["links"])
    for column in ("from", "to", "from_name", "to_name", "shared", "flow", "similarity"):
        assert column in links.columns
    assert len(links) == len(result.links) > 0
    # off by default: a default run does not pay for it
    assert gc.run(region.areas, region.counts, lisa=False).sensitivity is None


def test_the_command_line_writes_the_sensitivity_tables(tmp_path, capsys):
    from geoclusters.cli import main

    region = gc.datasets.demo_region(seed=0)
    boundaries = tmp_path / "areas.gpkg"
    region.areas.reset_index().rename(columns={"area": "code", "name": "label"}).to_file(
        boundaries, engine="pyogrio"
    )
    counts = tmp_path / "counts.csv"
    region.counts.to_csv(counts, index=False)
    out = tmp_path / "out"
    arguments = ["run", "--boundaries", str(boundaries), "--code", "code"]
    arguments += ["--name", "label", "--counts", str(counts), "--sensitivity-runs", "2"]
    arguments += ["--out", str(out)]
    assert main([*arguments, "--no-maps", "--no-report", "--quiet"]) == 0
    areas = pd.read_csv(out / "sensitivity_areas.csv", index_col="area")
    assert (areas["runs"] == 2).all() and len(areas) == len(region.areas)
    assert {"a", "b", "together_share"} <= set(pd.read_csv(out / "sensitivity_pairs.csv"))
    assert (out / "sensitivity_conurbations.csv").is_file() and (out / "links.csv").is_file()
    again = [*arguments[:-4], "--sensitivity-runs", "-1", "--out", str(tmp_path / "again")]
    assert main(again) == 2
    assert "sensitivity_runs" in capsys.readouterr().err
