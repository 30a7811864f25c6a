"""Properties of the input side and the measures, checked on generated tables (hypothesis).

Through the public API only (``geoclusters.<name>``). Kept fast: a few dozen examples each.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geoclusters as gc

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def count_tables(draw, suppressed: bool = False):
    """Tidy counts: sectors never above the total, every sector present somewhere."""
    n_areas = draw(st.integers(1, 8))
    n_sectors = draw(st.integers(1, 4))
    periods = draw(st.sampled_from([["2015"], ["2010", "2015"]]))
    rows = []
    for period in periods:
        for a in range(n_areas):
            values = draw(st.lists(st.integers(0, 10**6), min_size=n_sectors, max_size=n_sectors))
            if a == 0:  # every sector has a positive national count
                values = [v + 1 for v in values]
            extra = draw(st.integers(1, 10**6))
            for s, value in enumerate(values):
                hidden = suppressed and draw(st.integers(0, 9)) == 0
                rows.append((f"E{a:08d}", f"{7311 + s}", period, np.nan if hidden else value))
            rows.append((f"E{a:08d}", gc.TOTAL, period, float(sum(values) + extra)))
    frame = pd.DataFrame(rows, columns=["area", "sector", "period", "value"])
    frame["measure"] = "businesses"
    frame["value"] = frame["value"].astype(float)
    return frame


def _lq(counts: pd.DataFrame) -> pd.Series:
    table = gc.location_quotients(gc.validate_counts(counts))
    return table.set_index(["area", "sector", "period"])["lq"].sort_index()


@FAST
@given(count_tables(), st.sampled_from([0.001, 0.5, 3.0, 7.25, 1e6]))
def test_scaling_every_count_leaves_lqs_unchanged(counts, factor):
    scaled = counts.assign(value=counts["value"] * factor)
    pd.testing.assert_series_equal(_lq(scaled), _lq(counts), rtol=1e-12, atol=0)


@FAST
@given(count_tables())
def test_share_weighted_lq_of_every_sector_is_one(counts):
    table = gc.location_quotients(gc.validate_counts(counts))
    keys = ["sector", "period", "measure"]
    economy_share = table["total"] / table.groupby(keys)["total"].transform("sum")
    weighted = (economy_share * table["lq"]).groupby([table[k] for k in keys]).sum()
    assert np.allclose(weighted.to_numpy(), 1.0, rtol=0, atol=1e-12)


@st.composite
def lookups(draw, sources: list[str]):
    """A weighted lookup: each source split over 1-3 of four targets, weights not normalised."""
    rows = []
    for source in sources:
        targets = draw(st.lists(st.sampled_from("TUVW"), min_size=1, max_size=3, unique=True))
        for target in targets:
            weight = draw(st.floats(0.01, 100.0, allow_nan=False, allow_infinity=False))
            rows.append((source, target, weight))
    return pd.DataFrame(rows, columns=["from", "to", "w"])


@FAST
@given(st.data())
def test_a_crosswalk_conserves_totals(data):
    counts = gc.validate_counts(data.draw(count_tables()))
    lookup = data.draw(lookups(sorted(counts["area"].unique())))
    moved = gc.crosswalk(counts, lookup, source="from", target="to", weight="w", normalise=True)
    before = counts.groupby(["sector", "period"])["value"].sum()
    after = moved.groupby(["sector", "period"])["value"].sum()
    for key, value in before.items():
        assert math.isclose(after[key], value, rel_tol=1e-12, abs_tol=1e-9)
    assert set(moved["area"]) <= set("TUVW")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_results_do_not_depend_on_row_order(data):
    counts = data.draw(count_tables(suppressed=True))
    order = data.draw(st.permutations(list(range(len(counts)))))
    shuffled = counts.iloc[order].reset_index(drop=True)
    # validate: the canonical table is the same
    canonical = gc.validate_counts(counts)
    pd.testing.assert_frame_equal(gc.validate_counts(shuffled), canonical)
    # read: the same file in another row order reads the same
    with tempfile.TemporaryDirectory() as folder:
        first, second = Path(folder, "a.csv"), Path(folder, "b.csv")
        counts.to_csv(first, index=False)
        shuffled.to_csv(second, index=False)
        pd.testing.assert_frame_equal(gc.read_counts(second), gc.read_counts(first))
    # measures: the same LQs
    pd.testing.assert_series_equal(_lq(shuffled), _lq(counts), rtol=1e-12, atol=0)
    # crosswalk: a lookup in another row order moves the counts alike
    lookup = data.draw(lookups(sorted(counts["area"].unique())))
    turned = lookup.iloc[data.draw(st.permutations(list(range(len(lookup)))))]
    options = {"source": "from", "target": "to", "weight": "w", "normalise": True}
    a = gc.crosswalk(counts, lookup, **options)
    b = gc.crosswalk(shuffled, turned, **options)
    pd.testing.assert_frame_equal(a, b, rtol=1e-12, atol=1e-9)
