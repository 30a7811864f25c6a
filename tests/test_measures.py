"""Location quotients, shares, period means, growth and LQ change."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import geoclusters as gc
from geoclusters.errors import InputError
from geoclusters.measures import METRICS, area_profile, metric_frame, metrics, prepare


def _table(rows):
    return pd.DataFrame(rows, columns=["area", "sector", "period", "measure", "value"])


def test_location_quotient_by_hand():
    # A: film 30 of 100; B: film 10 of 300. National film share 40 / 400 = 0.1.
    counts = _table(
        [
            ("A", "film", "1", "b", 30),
            ("A", gc.TOTAL, "1", "b", 100),
            ("B", "film", "1", "b", 10),
            ("B", gc.TOTAL, "1", "b", 300),
        ]
    )
    lq = gc.location_quotients(counts).set_index("area")["lq"]
    assert lq["A"] == pytest.approx(0.3 / 0.1)
    assert lq["B"] == pytest.approx((10 / 300) / 0.1)


def test_zero_and_missing_denominators_give_missing_lqs():
    counts = _table(
        [
            ("A", "film", "1", "b", 5),
            ("A", gc.TOTAL, "1", "b", 50),
            ("Z", "film", "1", "b", 0),
            ("Z", gc.TOTAL, "1", "b", 0),  # an area with no businesses at all
            ("S", "film", "1", "b", np.nan),  # suppressed
            ("S", gc.TOTAL, "1", "b", 70),
            ("A", "harp", "1", "b", 0),  # a sector absent everywhere
            ("Z", "harp", "1", "b", 0),
            ("S", "harp", "1", "b", 0),
        ]
    )
    lq = gc.location_quotients(counts).set_index(["area", "sector"])["lq"]
    assert lq["A", "film"] == pytest.approx(1.0)  # A is the only usable area
    assert np.isnan(lq["Z", "film"]) and np.isnan(lq["S", "film"])
    assert lq.xs("harp", level="sector").isna().all()


def test_counts_without_totals_are_refused():
    counts = _table([("A", "film", "1", "b", 5)])
    with pytest.raises(InputError, match="no all-industry totals"):
        gc.location_quotients(counts)


def test_real_lqs_weighted_by_area_share_average_to_one(data):
    """Issue test: LQs of local authorities from the 64-segment file (row sum = total)."""
    counts = gc.read_counts(
        data / "counts/business_counts_lad14_by_segment_2015.csv",
        columns={"area": "Unnamed: 0"},
        layout="wide",
        measure="businesses",
        period="2015",
        ignore=["LAD14NM"],
        rounded_to=5,
    )
    counts = gc.add_totals(counts)
    lq = gc.location_quotients(counts)
    totals = counts[counts["sector"] == gc.TOTAL].set_index("area")["value"]
    assert totals.sum() == 2_340_065  # the file's all-industry total
    weights = lq["area"].map(totals / totals.sum())
    average = (lq["lq"] * weights).groupby(lq["sector"]).sum()
    assert len(average) == 64
    np.testing.assert_allclose(average.to_numpy(), 1.0, rtol=0, atol=1e-12)
    # and creative content is concentrated where we know it is: London boroughs
    content = lq[lq["sector"] == "services_creative_content"].set_index("area")["lq"]
    assert content["E09000033"] > 3  # Westminster
    assert content.median() < 1


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 500), st.integers(1, 5000)), min_size=2, max_size=30).filter(
        lambda rows: sum(x for x, _ in rows) > 0
    )
)
def test_weighted_lq_average_is_one_for_any_table(rows):
    records = []
    for i, (sector, rest) in enumerate(rows):
        records += [(f"a{i}", "s", "1", "m", sector), (f"a{i}", gc.TOTAL, "1", "m", sector + rest)]
    counts = _table(records)
    lq = gc.location_quotients(counts)
    share = lq["total"] / lq["total"].sum()
    assert (lq["lq"] * share).sum() == pytest.approx(1.0, abs=1e-12)


def test_period_means_and_missing_years():
    counts = _table(
        [
            ("A", "film", "2010", "b", 2),
            ("A", "film", "2011", "b", 4),
            ("B", "film", "2010", "b", 6),
            ("B", "film", "2011", "b", np.nan),
        ]
    )
    strict = gc.period_means(counts, {"p": [2010, 2011]}).set_index("area")
    assert strict.loc["A", "value"] == 3.0 and strict.loc["A", "status"] == "ok"
    assert np.isnan(strict.loc["B", "value"]) and strict.loc["B", "status"] == "suppressed"
    lenient = gc.period_means(counts, {"p": [2010, 2011]}, skipna=True).set_index("area")
    with pytest.warns(DeprecationWarning, match="skipna="):
        by_position = gc.period_means(counts, {"p": [2010, 2011]}, True).set_index("area")
    pd.testing.assert_frame_equal(by_position, lenient)
    assert lenient.loc["B", "value"] == 6.0 and lenient.loc["B", "status"] == "suppressed"
    with pytest.raises(InputError, match="names periods not in the counts"):
        gc.period_means(counts, {"p": [2009, 2010]})


def test_growth_and_lq_change_by_hand():
    counts = _table(
        [
            ("A", "film", "1", "b", 10),
            ("A", gc.TOTAL, "1", "b", 100),
            ("A", "film", "2", "b", 30),
            ("A", gc.TOTAL, "2", "b", 150),
            ("B", "film", "1", "b", 0),
            ("B", gc.TOTAL, "1", "b", 100),
            ("B", "film", "2", "b", 10),
            ("B", gc.TOTAL, "2", "b", 50),
        ]
    )
    growth = gc.growth(counts, 1, 2).set_index(["area", "sector"])["growth"]
    assert growth["A", "film"] == pytest.approx(2.0)
    assert np.isnan(growth["B", "film"])  # growth from nothing is not a rate
    assert growth["A", gc.TOTAL] == pytest.approx(0.5)
    lq = gc.location_quotients(counts)
    change = gc.lq_change(lq, 1, 2).set_index("area")
    # period 1: A holds all film, LQ = 1 / (100/200) = 2; period 2: (30/40) / (150/200) = 1
    assert change.loc["A", "lq_start"] == pytest.approx(2.0)
    assert change.loc["A", "lq_end"] == pytest.approx(1.0)
    assert change.loc["A", "lq_change"] == pytest.approx(-0.5)
    assert np.isnan(change.loc["B", "lq_change"])  # LQ from zero


def test_aggregate_sectors_by_measure_keeps_totals_and_gaps():
    counts = _table(
        [
            ("A", "film", "1", "jobs", 1),
            ("A", "music", "1", "jobs", 2),
            ("A", "film", "1", "firms", 5),
            ("A", "music", "1", "firms", np.nan),
            ("A", gc.TOTAL, "1", "jobs", 10),
            ("A", gc.TOTAL, "1", "firms", 20),
        ]
    )
    groups = {
        "jobs": {"content": ["film", "music"]},
        "firms": {"screen": ["film"], "all": ["film", "music"]},
    }
    grouped = gc.aggregate_sectors(counts, groups).set_index(["measure", "sector"])
    assert grouped.loc[("jobs", "content"), "value"] == 3
    assert grouped.loc[("firms", "screen"), "value"] == 5
    assert np.isnan(grouped.loc[("firms", "all"), "value"])
    assert grouped.loc[("firms", "all"), "status"] == "suppressed"
    assert grouped.loc[("jobs", gc.TOTAL), "value"] == 10
    with pytest.raises(InputError, match="names sectors not in the counts") as caught:
        gc.aggregate_sectors(counts, {"x": ["film", "opera"]})
    assert caught.value.rows == ["opera"]


def test_prepare_with_nesta_groups_and_profile_columns():
    region = gc.datasets.demo_region(seed=3, n_areas=80)
    table, start, end = prepare(region.counts)
    assert (start, end) == ("2007-2010", "2011-2014")
    assert set(table["sector"]) == {"services", "architecture", "content", "publishing", gc.TOTAL}
    profile = area_profile(table, start, end)
    assert len(profile) == 80
    assert {
        ("businesses", "architecture", "lq"),
        ("employment", "publishing", "lq_change"),
        ("businesses", gc.TOTAL, "total"),
    } <= set(profile.columns)
    # businesses content = film + music + publishing, summed by hand for one area
    code = profile.index[0]
    subsectors = [
        "Film, TV, video, radio and photography",
        "Music, performing and visual arts",
        "Publishing",
    ]
    counts = region.counts
    raw = counts[
        (counts["area"] == code)
        & (counts["measure"] == "businesses")
        & counts["sector"].isin(subsectors)
        & counts["period"].isin(["2011", "2012", "2013", "2014"])
    ]
    assert profile.loc[code, ("businesses", "content", "count")] == pytest.approx(
        raw["value"].sum() / 4
    )
    # the wide view is a pivot of the long metrics table, value for value
    long = metrics(table, start, end)
    assert list(long.columns) == ["area", "measure", "group", "metric", "value"]
    assert list(long["metric"].cat.categories) == list(METRICS)
    assert long.duplicated(["area", "measure", "group", "metric"]).sum() == 0
    assert len(long) == profile.notna().sum().sum() + profile.isna().sum().sum()
    row = long[(long["area"] == code) & (long["group"] == "content") & (long["metric"] == "count")]
    assert row[row["measure"] == "businesses"]["value"].item() == pytest.approx(
        raw["value"].sum() / 4
    )


def _plain_metrics(counts, start, end):
    """metrics by its definition: LQs, LQ change and growth joined and melted."""
    lq = gc.location_quotients(counts[counts["period"].isin([start, end])])
    changed = gc.lq_change(lq, start, end).merge(
        gc.growth(lq, start, end), on=["area", "sector", "measure"]
    )
    named = changed.rename(
        columns={"value_end": "count", "value_start": "count_start", "lq_end": "lq"}
    )
    long = named.melt(
        id_vars=["area", "measure", "sector"], value_vars=list(METRICS[:-1]), var_name="metric"
    ).rename(columns={"sector": "group"})
    totals = counts[(counts["sector"] == "_total") & (counts["period"] == end)]
    totals = totals[["area", "measure", "value"]].assign(group="_total", metric="total")
    table = pd.concat([long, totals], ignore_index=True)
    table["metric"] = pd.Categorical(table["metric"], categories=list(METRICS), ordered=True)
    table["value"] = table["value"].astype(float)
    table = table[["area", "measure", "group", "metric", "value"]]
    return table.sort_values(["area", "measure", "group", "metric"]).reset_index(drop=True)


def test_metrics_by_codes_equal_the_plain_definition():
    # unsorted rows, two measures, a suppressed cell, a zero total, a zero first
    # count, a sector missing from the first period, a period that is not compared
    rows = []
    for area, base in (("b", 1.0), ("a", 2.0), ("C", 3.0), ("10", 0.5)):
        for measure in ("jobs", "businesses"):
            for period, grow in (("2015", 1.0), ("2010", 0.8), ("2012", 0.9)):
                total = 100.0 * base * grow
                rows += [
                    (area, "film", period, measure, round(total * 0.2)),
                    (area, "music", period, measure, round(total * 0.1 * base)),
                    (area, "_total", period, measure, total),
                ]
                if period != "2010":
                    rows.append((area, "games", period, measure, 3.0 * base))
    counts = _table(rows).sample(frac=1, random_state=0)
    counts.loc[(counts["area"] == "a") & (counts["sector"] == "film"), "value"] = np.nan
    counts.loc[(counts["area"] == "C") & (counts["period"] == "2010"), "value"] = 0.0
    counts.loc[(counts["area"] == "10") & (counts["sector"] == "music"), "value"] = 0.0
    counts = gc.validate_counts(counts)
    got = metrics(counts, "2010", "2015")
    want = _plain_metrics(counts, "2010", "2015")
    pd.testing.assert_frame_equal(got, want, check_dtype=False, check_exact=True)
    assert got["value"].notna().sum() > got["value"].isna().sum() > 0
    # the detectors' frame, made with the table, is its pivot
    long, frame = metrics(counts, "2010", "2015", _frame=True)
    pd.testing.assert_frame_equal(long, got)
    pd.testing.assert_frame_equal(frame, metric_frame(got), check_exact=True)


def test_metric_frame_by_codes_equals_the_pivot():
    table = pd.DataFrame(
        {
            "area": ["b", "b", "a", "a", "b", "C"],
            "measure": ["jobs", "jobs", "jobs", "jobs", "units", "jobs"],
            "group": ["film", "film", "film", "music", "film", "film"],
            "metric": ["lq", "count", "growth", "lq", "total", "other"],
            "value": [2.0, 5.0, 0.5, 1.5, 9.0, 4.0],
        }
    )
    rows = table[table["metric"] != "total"]
    want = rows.set_index(["area", "measure", "group", "metric"])["value"].unstack("metric")
    want = want.reindex(columns=list(METRICS[:-1]))
    want.columns.name = None
    got = metric_frame(table)
    pd.testing.assert_frame_equal(got, want.reset_index(), check_dtype=False, check_exact=True)
    with pytest.raises(ValueError, match="duplicate"):
        metric_frame(pd.concat([table, table.iloc[:1]]))
