"""Significance that can be reached: the p-value floor, the warning and run's increase.

The arithmetic is checked against the corrections themselves (``adjust_pvalues``
on p-values all at the floor), and the pipeline on the real TTWAs with the
examples' settings (199 permutations, FDR), where the LISA maps were all grey.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import geoclusters as gc
from geoclusters import _labels, _significance
from geoclusters.stats import adjust_pvalues


@pytest.mark.parametrize("permutations", [99, 199, 499, 999])
@pytest.mark.parametrize("tests", [20, 218, 1000])
@pytest.mark.parametrize("correction", ["fdr", "bonferroni", None])
def test_needed_agrees_with_the_correction(permutations, tests, correction):
    reach = _significance.reach(permutations, tests, correction=correction, alpha=0.05)
    floor = 1 / (permutations + 1)
    assert reach.p_min == pytest.approx(floor)

    def passes(k: int) -> bool:
        """Whether any test is significant when k of them sit at the floor, the rest at 1."""
        p = np.ones(tests)
        p[:k] = floor
        return bool(adjust_pvalues(p, correction, alpha=0.05).any())

    if reach.needed is None:
        assert not passes(tests)
    else:
        assert passes(reach.needed)
        assert reach.needed == 1 or not passes(reach.needed - 1)


def test_two_sided_doubles_the_floor():
    assert _significance.p_floor(199, "two-sided") == pytest.approx(2 * _significance.p_floor(199))
    one = _significance.reach(999, 218, correction="fdr")
    two = _significance.reach(999, 218, correction="fdr", alternative="two-sided")
    assert two.needed > one.needed
    assert _significance.p_floor(0) == 0.0


def test_the_issue_arithmetic():
    # 199 permutations, FDR over 218 tests: 22 areas must reach 1/200 before any is significant
    reach = _significance.reach(199, 218, correction="fdr", alpha=0.05)
    assert reach.needed == 22
    assert not reach.comfortable
    assert _significance.reach(999, 218, correction="fdr").comfortable
    chosen = _significance.permutations_needed(218, correction="fdr")
    assert _significance.reach(chosen, 218, correction="fdr").comfortable
    assert not _significance.reach(199, 218, correction="fdr").comfortable
    # bounded: Bonferroni over a million tests is beyond any count allowed
    assert _significance.permutations_needed(10**6, correction="bonferroni") == (
        _significance.MAX_PERMUTATIONS
    )


def test_warning_names_the_floor_and_a_way_out():
    with pytest.warns(UserWarning, match=r"nearly unreachable.*0\.005.*22 areas.*permutations="):
        _significance.warn_if_unreachable(199, 218, correction="fdr", alpha=0.05)
    with pytest.warns(UserWarning, match="no area can be significant"):
        _significance.warn_if_unreachable(99, 218, correction="bonferroni")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _significance.warn_if_unreachable(999, 218, correction="fdr")
        _significance.warn_if_unreachable(0, 218, correction="fdr")  # analytic p-values


def test_detect_hotspots_warns_when_nothing_can_pass():
    region = gc.datasets.demo_region(seed=0)
    with pytest.warns(UserWarning, match="detect_hotspots: no area can be significant"):
        gc.detect_hotspots(
            region.areas, region.counts, permutations=9, correction="bonferroni", seed=0
        )


@pytest.fixture(scope="module")
def uk_run():
    import uk_overview  # examples/ is on the path (conftest)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return uk_overview.analyse()


def test_run_raises_permutations_and_the_examples_lisa_has_significant_areas(uk_run):
    # the example asks for 199 permutations with FDR: unreachable on 213 connected TTWAs
    parameters = uk_run.provenance.parameters
    assert parameters["permutations"] == 199
    used = parameters["permutations_used"]
    assert used > 199
    assert used <= _significance.MAX_PERMUTATIONS
    assert any("used" in note and "instead of 199" in note for note in uk_run.provenance.notes)

    lisa = uk_run.lisa
    assert set(lisa["label"]) <= set(_labels.MORAN_LABELS)
    significant = lisa[~lisa["label"].isin([_labels.NOT_SIGNIFICANT, _labels.NO_DATA])]
    # every sector group has real significant areas, and London's neighbourhood is High-High
    by_group = significant.groupby("group").size()
    assert set(by_group.index) == set(lisa["group"])
    assert (by_group > 0).all()
    assert (significant["label"] == _labels.HIGH_HIGH).any()


def test_islands_are_no_data_in_the_lisa_table(uk_run):
    isolates = set(map(str, uk_run.graph.isolates))
    assert isolates  # Shetland, Orkney, the Western Isles, Isle of Wight ...
    labels = uk_run.lisa[uk_run.lisa["area"].isin(isolates)]["label"]
    assert len(labels) and (labels == _labels.NO_DATA).all()
    connected = uk_run.lisa[~uk_run.lisa["area"].isin(isolates)]["label"]
    assert not connected.isin([_labels.NO_DATA]).any()


def test_permutations_unchanged_when_already_enough():
    # two-sided (the default) over the demo's 220 areas: 1,999 give a floor of 0.001,
    # so FDR needs 5 areas (2%) there, which is comfortable; 999 would need 9 (4%)
    region = gc.datasets.demo_region(seed=0)
    result = gc.run(region.areas, region.counts, permutations=1999)
    assert result.provenance.parameters["permutations_used"] == 1999
    assert not any("instead of" in note for note in result.provenance.notes)
    assert isinstance(result.lisa, pd.DataFrame)
