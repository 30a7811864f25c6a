"""The synthetic demo region: deterministic, labelled, with recoverable planted clusters."""

import pandas as pd
import pytest

import geoclusters as gc
from geoclusters.datasets import demo_region


@pytest.fixture(scope="module")
def region():
    return demo_region(seed=0)


def test_same_seed_same_region_and_different_seed_different_region(region):
    again = demo_region(seed=0)
    pd.testing.assert_frame_equal(region.counts, again.counts)
    assert region.areas.geometry.geom_equals_exact(again.areas.geometry, 0).all()
    assert region.planted == again.planted
    other = demo_region(seed=1)
    assert not region.counts["value"].equals(other.counts["value"])


def test_region_shape_and_labels(region):
    areas = region.areas
    assert 150 <= len(areas) <= 300
    assert areas.index.is_unique and areas["name"].is_unique
    assert areas.crs.to_epsg() == 27700
    assert areas.geometry.is_valid.all()
    assert areas.attrs["synthetic"] and region.counts.attrs["synthetic"]
    assert (areas["data"] == "SYNTHETIC DEMO DATA").all()
    # the cells tile the region: their areas add up to the 120 km × 90 km box
    assert areas.geometry.area.sum() == pytest.approx(120_000 * 90_000, rel=1e-9)
    counts = region.counts
    assert set(counts["measure"]) == {"businesses", "employment"}
    assert set(counts["period"]) == {str(y) for y in range(2007, 2015)}
    assert set(counts["sector"]) == set(gc.taxonomy.SUBSECTORS) | {gc.TOTAL}
    # every area has every sector, period and measure
    assert len(counts) == len(areas) * 10 * 8 * 2


def test_planted_areas_are_where_they_should_be(region):
    graph = gc.contiguity(region.areas)
    conurbation = list(region.planted["conurbation"])
    assert len(conurbation) == 4
    # the planted conurbation is connected
    assert len(gc.components(graph.subgraph(conurbation))) == 1
    others = [c for k in ("concentration", "growth", "both") for c in region.planted[k]]
    assert len(set(others)) == 10
    neighbours = {code: set(graph[code].index) for code in others}
    assert all(not (neighbours[c] & set(others)) for c in others)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_types_are_recovered_by_the_nesta_rule(seed):
    region = demo_region(seed=seed)
    types = gc.typology(region.areas, gc.detect_nesta2016(region.areas, region.counts))
    expected = {
        "conurbation": "high concentration",
        "concentration": "high concentration",
        "growth": "high growth",
        "both": "both",
    }
    for kind, cluster_type in expected.items():
        codes = list(region.planted[kind])
        assert (types.loc[codes, "cluster_type"] == cluster_type).all(), kind
    conurbation = types.loc[list(region.planted["conurbation"]), "concentration_groups"]
    assert conurbation.str.contains("businesses:architecture").all()
    growth = types.loc[list(region.planted["growth"]), "growth_groups"]
    assert growth.str.contains("businesses:content").all()
