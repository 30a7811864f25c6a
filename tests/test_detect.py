"""Cluster detection: the Nesta 2016 rule by hand, thresholds, hot spots, typology."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

import geoclusters as gc
from geoclusters.detect import SELECTION_COLUMNS, TYPES
from geoclusters.errors import InputError

# One sector, totals of 1,000 everywhere. Second-period film counts:
#   A 40, B 40, C 30, D 20, E 10, F 8, G suppressed, H 2   (known sum 150 over 7 areas)
#   so LQ2 = count * 7 / 150: A = B = 1.867, C = 1.4, D = 0.933, ...
# First-period film counts:
#   A 40, B 20, C 10, D 20, E 20, F 4, G 15, H suppressed  (known sum 129 over 7 areas)
#   so LQ1 = count * 7 / 129 and LQ2 / LQ1 - 1 is:
#   A -0.14, B +0.72, C +1.58, D -0.14, E -0.57, F +0.72, G and H missing.
SECOND = {"A": 40, "B": 40, "C": 30, "D": 20, "E": 10, "F": 8, "G": np.nan, "H": 2}
FIRST = {"A": 40, "B": 20, "C": 10, "D": 20, "E": 20, "F": 4, "G": 15, "H": np.nan}
NAMES = pd.Series({code: f"Area {code}" for code in SECOND})


def hand_counts():
    rows = []
    for period, values in (("1", FIRST), ("2", SECOND)):
        for area, value in values.items():
            rows.append((area, "film", period, "jobs", value))
            rows.append((area, gc.TOTAL, period, "jobs", 1000.0))
    return pd.DataFrame(rows, columns=["area", "sector", "period", "measure", "value"])


def nesta(**options):
    return gc.detect_nesta2016(
        NAMES, hand_counts(), groups=None, periods=["1", "2"], **options
    ).selections


def test_nesta_rule_by_hand_with_ties_missing_values_and_the_quantile():
    found = nesta(top_n=2)
    assert list(found.columns) == SELECTION_COLUMNS
    concentration = found[found["criterion"] == "concentration"].set_index("area")
    # 75th percentile of [2, 8, 10, 20, 30, 40, 40] (G missing) = 35: only A and B are
    # eligible, tied at rank 1
    assert sorted(concentration.index) == ["A", "B"]
    assert concentration["rank"].tolist() == [1, 1]
    assert concentration["size_threshold"].iloc[0] == pytest.approx(35.0)
    assert concentration.loc["A", "value"] == pytest.approx(40 * 7 / 150)
    growth = found[found["criterion"] == "growth"].set_index("area")
    # 75th percentile of first-period [4, 10, 15, 20, 20, 20, 40] = 20: A, B, D, E eligible
    # (C grew most but is too small); top 2 by LQ change: B, then A and D tied
    assert sorted(growth.index) == ["A", "B", "D"]
    assert growth.loc["B", "rank"] == 1 and growth.loc["A", "rank"] == growth.loc["D", "rank"] == 2
    assert growth.loc["B", "value"] == pytest.approx(40 * 129 / (150 * 20) - 1)
    assert growth["threshold"].iloc[0] == pytest.approx(129 / 150 - 1)
    types = gc.typology(NAMES, found)["cluster_type"]
    assert types.to_dict() == {
        "A": "both",
        "B": "both",
        "C": "none",
        "D": "high growth",
        "E": "none",
        "F": "none",
        "G": "none",
        "H": "none",
    }


def test_an_area_exactly_at_the_quantile_is_eligible():
    # median of [2, 8, 10, 20, 30, 40, 40] is exactly D's 20
    found = nesta(quantile=0.5, top_n=10)
    concentration = set(found.loc[found["criterion"] == "concentration", "area"])
    assert concentration == {"A", "B", "C", "D"}


def test_nesta_rule_records_its_parameters():
    found = gc.detect_nesta2016(
        NAMES, hand_counts(), groups=None, periods=["1", "2"], top_n=2, quantile=0.8
    )
    provenance = found.provenance.to_dict()
    assert provenance["step"] == "detect_nesta2016"
    assert provenance["parameters"]["top_n"] == 2
    assert provenance["parameters"]["quantile"] == 0.8
    assert provenance["version"] == gc.__version__
    assert provenance["inputs"]["counts"].startswith("sha256:")
    assert found.params == provenance["parameters"]
    assert (found.start, found.end) == ("1", "2")


def test_counts_must_cover_every_area():
    names = pd.concat([NAMES, pd.Series({"Z": "Zed"})])
    with pytest.raises(InputError, match="have no counts") as caught:
        gc.detect_nesta2016(names, hand_counts(), groups=None, periods=["1", "2"])
    assert list(caught.value.rows) == ["Z"]


def test_threshold_rule_by_hand():
    found = gc.detect_thresholds(
        NAMES,
        hand_counts(),
        lq_min=1.3,
        count_min=25,
        lq_change_min=0.5,
        groups=None,
        periods=["1", "2"],
    ).selections
    concentration = set(found.loc[found["criterion"] == "concentration", "area"])
    growth = set(found.loc[found["criterion"] == "growth", "area"])
    assert concentration == {"A", "B", "C"}  # LQ 1.87, 1.87, 1.4; D's 0.93 is below
    # LQ change >= 0.5 and first-period count >= 25: B (+0.72) has only 20, C only 10
    assert growth == set()
    found = gc.detect_thresholds(
        NAMES,
        hand_counts(),
        lq_min=1.3,
        count_min=4,
        lq_change_min=0.5,
        groups=None,
        periods=["1", "2"],
    ).selections
    assert set(found.loc[found["criterion"] == "growth", "area"]) == {"B", "C", "F"}


def grid_with_a_hot_block(n=9):
    """An n×n grid of unit squares; a 3×3 block in the middle has five times the film share."""
    cells, codes, rows = [], [], []
    for i in range(n):
        for j in range(n):
            code = f"r{i}c{j}"
            codes.append(code)
            cells.append(box(j, i, j + 1, i + 1))
            hot = abs(i - n // 2) <= 1 and abs(j - n // 2) <= 1
            film = 50.0 if hot else 10.0 + (i * 7 + j * 3) % 5
            rows.append((code, "film", "1", "jobs", film))
            rows.append((code, gc.TOTAL, "1", "jobs", 1000.0))
    areas = gpd.GeoDataFrame(
        {"name": codes}, geometry=cells, index=pd.Index(codes, name="area"), crs=27700
    )
    counts = pd.DataFrame(rows, columns=["area", "sector", "period", "measure", "value"])
    block = {f"r{i}c{j}" for i in range(3, 6) for j in range(3, 6)}
    return areas, counts, block


@pytest.mark.parametrize("statistic", ["local_moran", "gi_star"])
def test_hotspots_find_the_planted_block(statistic):
    areas, counts, block = grid_with_a_hot_block()
    found = gc.detect_hotspots(
        areas,
        counts,
        statistic=statistic,
        groups=None,
        periods=["1", "1"],
        permutations=999,
        seed=1,
        correction="fdr",
    )
    selected = set(found.selections["area"])
    assert "r4c4" in selected  # the centre of the block
    assert selected <= block
    assert (found.selections["threshold"] == 0.05).all()
    assert found.provenance.parameters["seed"] == 1
    again = gc.detect_hotspots(
        areas,
        counts,
        statistic=statistic,
        groups=None,
        periods=["1", "1"],
        permutations=999,
        seed=1,
        correction="fdr",
    )
    pd.testing.assert_frame_equal(found.selections, again.selections)


def test_typology_summary_counts_every_area_by_nation():
    table = pd.DataFrame(
        {"cluster_type": ["both", "none", "high growth", "high concentration", "none"]},
        index=["E30000001", "S22000002", "E30000003", "W22000004", "DEMO001"],
    )
    summary = gc.typology_summary(table)
    assert summary.loc["areas", "total"] == 5
    assert summary.loc["all clusters", "total"] == 3
    assert summary.loc["all clusters", "England"] == 2
    assert summary.loc["none", "all"] == 1  # a non-GSS code falls in "all"
    assert list(summary.index[:4]) == list(TYPES[:4])
    assert "no data" not in summary.index


def test_typology_refuses_unknown_areas():
    clusters = pd.DataFrame(
        {"area": ["Q"], "criterion": ["growth"], "measure": ["jobs"], "group": ["film"]}
    )
    with pytest.raises(InputError, match="not in the areas"):
        gc.typology(NAMES, clusters)


def test_detection_used_as_a_dataframe_still_works_with_a_deprecation_warning():
    found = gc.detect_nesta2016(NAMES, hand_counts(), groups=None, periods=["1", "2"], top_n=2)
    with pytest.warns(DeprecationWarning, match=r"\.selections"):
        assert list(found.columns) == SELECTION_COLUMNS
    with pytest.warns(DeprecationWarning):
        assert len(found) == len(found.selections) == 5
    with pytest.warns(DeprecationWarning):
        assert found["area"].tolist() == found.selections["area"].tolist()
    assert found.to_frame() is found.selections


def test_detection_repr_is_short_and_has_an_html_table():
    found = gc.detect_nesta2016(NAMES, hand_counts(), groups=None, periods=["1", "2"], top_n=2)
    assert repr(found) == ("Detection(detect_nesta2016: 5 selections of 3 areas, periods 1->2)")
    html = found._repr_html_()
    assert html.startswith("<table>") and "top_n" in html


def test_typology_old_argument_order_is_deprecated_but_works():
    found = nesta(top_n=2)
    with pytest.warns(DeprecationWarning, match=r"typology\(areas, clusters\)"):
        old = gc.typology(found, NAMES)
    pd.testing.assert_frame_equal(old, gc.typology(NAMES, found))


def underscore_counts():
    """``jobs_film`` + ``tv`` beside ``jobs`` + ``film_tv``: the same "jobs_film_tv" joined."""
    rows = []
    values = {"A": (30, 5), "B": (10, 25), "C": (5, 5), "D": (8, 9)}
    for area, (first, second) in values.items():
        for period, scale in (("1", 1), ("2", 2)):
            rows += [
                (area, "tv", period, "jobs_film", first * scale),
                (area, gc.TOTAL, period, "jobs_film", 100.0),
                (area, "film_tv", period, "jobs", second),
                (area, gc.TOTAL, period, "jobs", 100.0),
                (area, "units", period, "local_units", first + second),
                (area, gc.TOTAL, period, "local_units", 200.0),
            ]
    return pd.DataFrame(rows, columns=["area", "sector", "period", "measure", "value"])


def test_measure_and_group_names_with_underscores_stay_apart():
    names = pd.Series(["Ay", "Bee", "Cee", "Dee"], index=list("ABCD"))
    found = gc.detect_nesta2016(
        names, underscore_counts(), groups=None, periods=["1", "2"], top_n=1, quantile=0
    )
    pairs = set(zip(found.selections["measure"], found.selections["group"], strict=True))
    assert pairs == {("jobs_film", "tv"), ("jobs", "film_tv"), ("local_units", "units")}
    concentration = found.selections[found.selections["criterion"] == "concentration"]
    by_pair = concentration.set_index(["measure", "group"])["area"].to_dict()
    assert by_pair[("jobs_film", "tv")] == "A"
    assert by_pair[("jobs", "film_tv")] == "B"
    types = gc.typology(names, found)
    assert (
        "local_units:units" in types.loc[by_pair[("local_units", "units")], "concentration_groups"]
    )
    assert types.loc["A", "concentration_groups"].split("; ")[0] == "jobs_film:tv"


def test_one_area_is_refused_not_typed_both():
    rows = []
    for period, film in (("1", 5.0), ("2", 9.0)):
        rows += [("A", "film", period, "jobs", film), ("A", "_total", period, "jobs", 100.0)]
    counts = pd.DataFrame(rows, columns=["area", "sector", "period", "measure", "value"])
    names = pd.Series(["Ay"], index=["A"])
    with pytest.raises(InputError, match="counts cover 1 area") as caught:
        gc.detect_nesta2016(names, counts, groups=None, periods=["1", "2"])
    assert caught.value.rows == ["A"]


def test_a_measure_without_groups_names_the_cause():
    rows = []
    for area in ("A", "B"):
        for period in ("2010", "2015"):
            rows += [(area, "Film", period, "enterprises", 3.0)]
            rows += [(area, "_total", period, "enterprises", 50.0)]
    counts = pd.DataFrame(rows, columns=["area", "sector", "period", "measure", "value"])
    names = pd.Series(["Ay", "Bee"], index=["A", "B"])
    with pytest.raises(InputError, match="no sector groups") as caught:
        gc.detect_nesta2016(names, counts, periods=["2010", "2015"])
    assert caught.value.rows == ["enterprises"]
    assert "businesses" in str(caught.value)
