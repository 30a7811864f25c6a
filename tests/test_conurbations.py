"""Sector-aware merging of clusters into conurbations, on cases worked out on paper."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

import geoclusters as gc
from geoclusters import conurbations as conurbations_module
from geoclusters.conurbations import membership
from geoclusters.counts import sum_counts
from geoclusters.detect import selections_from_mapping
from geoclusters.errors import InputError
from geoclusters.measures import metrics


def strip(codes):
    """Unit squares in a row, west to east: each touches the next one only."""
    return gpd.GeoDataFrame(
        {"name": [f"Town {c}" for c in codes]},
        geometry=[box(i, 0, i + 1, 1) for i in range(len(codes))],
        index=pd.Index(codes, name="area"),
        crs=27700,
    )


def test_the_old_merge_chains_four_sharing_a_group_and_the_default_does_not():
    areas = strip(list("abcde"))
    clusters = selections_from_mapping(
        {
            "a": [("concentration", "jobs", "film")],
            "b": [("growth", "jobs", "film"), ("concentration", "jobs", "music")],
            "c": [("concentration", "firms", "film")],
            "d": [("growth", "jobs", "film")],
            # e touches d but specialises in something else
            "e": [("concentration", "jobs", "games")],
        }
    )
    graph = gc.contiguity(areas)
    merged = gc.merge_conurbations(areas, graph=graph, clusters=clusters, method="components").table
    assert len(merged) == 1
    row = merged.iloc[0]
    assert set(row["members"].split(";")) == {"a", "b", "c", "d"}
    assert row["n_members"] == 4
    assert row["sectors"] == "film"
    assert row["core_sectors"] == "film"
    assert row.geometry.area == pytest.approx(4.0)  # the four unit squares dissolved
    assert row.geometry.geom_type == "Polygon"
    # with the measure required to match, c (firms) breaks the chain into a–b and d alone
    strict = gc.merge_conurbations(
        areas, graph=graph, clusters=clusters, match="measure_group", method="components"
    ).table
    assert [set(m.split(";")) for m in strict["members"]] == [{"a", "b"}]
    # the default scores the links: c-d share all they have (1.0), a-b and b-c half (0.5);
    # c-d merge, then a-b; the two pairs are tied only by b-c, 0.5 over a pair: 0.25 < 0.3
    default = gc.merge_conurbations(areas, graph=graph, clusters=clusters)
    assert sorted(default.table["members"]) == ["a;b", "c;d"]
    strength = default.links.set_index(["from", "to"])["strength"]
    assert strength.to_dict() == {
        ("c", "d"): 1.0,
        ("a", "b"): 0.5,
        ("b", "c"): 0.5,
        ("d", "e"): 0.0,
    }
    assert default.links.set_index(["from", "to"]).loc[("b", "c"), "conurbation"] == ""


def test_touching_clusters_without_a_shared_group_stay_apart():
    areas = strip(["a", "b"])
    clusters = selections_from_mapping(
        {"a": [("concentration", "jobs", "film")], "b": [("concentration", "jobs", "music")]}
    )
    merged = gc.merge_conurbations(areas, graph=gc.contiguity(areas), clusters=clusters).table
    assert len(merged) == 0
    assert list(merged.columns[:3]) == ["name", "members", "n_members"]
    assert membership(areas, merged)["conurbation"].tolist() == ["", ""]


def hub_and_spokes():
    """A hub square with four spokes on its sides; the spokes touch only the hub."""
    cells = {
        "hub": box(1, 1, 2, 2),
        "n": box(1, 2, 2, 3),
        "s": box(1, 0, 2, 1),
        "w": box(0, 1, 1, 2),
        "e": box(2, 1, 3, 2),
    }
    return gpd.GeoDataFrame(
        {"name": list(cells)},
        geometry=list(cells.values()),
        index=pd.Index(list(cells), name="area"),
        crs=27700,
    )


def test_a_hub_touching_everything_is_kept_out_when_asked():
    areas = hub_and_spokes()
    graph = gc.contiguity(areas, rook=True)
    clusters = selections_from_mapping(
        {code: [("concentration", "jobs", "film")] for code in areas.index}
    )
    naive = gc.merge_conurbations(areas, graph=graph, clusters=clusters).table
    assert len(naive) == 1 and naive.iloc[0]["n_members"] == 5
    for kept_out in (
        gc.merge_conurbations(areas, graph=graph, clusters=clusters, hubs=["hub"]),
        gc.merge_conurbations(areas, graph=graph, clusters=clusters, hub_min_links=3),
    ):
        # without the hub no two spokes touch: no conurbation, and the hub is recorded
        assert len(kept_out.table) == 0
        assert kept_out.hubs == ["hub"]


def test_sectors_option_links_only_on_the_named_groups():
    areas = strip(["a", "b", "c"])
    clusters = selections_from_mapping(
        {
            "a": [("concentration", "jobs", "film")],
            "b": [("concentration", "jobs", "film"), ("growth", "jobs", "music")],
            "c": [("growth", "jobs", "music")],
        }
    )
    graph = gc.contiguity(areas)
    assert gc.merge_conurbations(areas, graph=graph, clusters=clusters).table[
        "n_members"
    ].tolist() == [3]
    only_music = gc.merge_conurbations(
        areas, graph=graph, clusters=clusters, sectors=["music"]
    ).table
    assert set(only_music.iloc[0]["members"].split(";")) == {"b", "c"}


def test_merged_counts_and_lq_are_recomputed_for_the_conurbation():
    areas = strip(["a", "b", "c"])
    # totals 100 each; film 30, 20 and 10: a and b are clusters and touch
    rows = []
    for code, film in (("a", 30.0), ("b", 20.0), ("c", 10.0)):
        for period in ("1", "2"):
            rows.append((code, "film", period, "jobs", film if period == "2" else 10.0))
            rows.append((code, gc.TOTAL, period, "jobs", 100.0))
    counts = pd.DataFrame(rows, columns=["area", "sector", "period", "measure", "value"])
    clusters = selections_from_mapping(
        {"a": [("concentration", "jobs", "film")], "b": [("concentration", "jobs", "film")]}
    )
    merged = gc.merge_conurbations(
        areas, counts, gc.contiguity(areas), clusters, periods=("1", "2")
    )
    row = merged.table.iloc[0]
    assert row["name"] == "Town a – Town b"  # largest first
    values = merged.metrics.set_index(["area", "measure", "group", "metric"])["value"]
    assert values[("C1", "jobs", "film", "count")] == 50.0
    # (50 / 60) / (200 / 300) = 1.25; first period (20 / 30) / (200 / 300) = 1.0
    assert values[("C1", "jobs", "film", "lq")] == pytest.approx(1.25)
    assert values[("C1", "jobs", "film", "lq_change")] == pytest.approx(0.25)
    assert values[("C1", "jobs", "film", "growth")] == pytest.approx(1.5)
    assert np.isclose(values[("C1", "jobs", gc.TOTAL, "total")], 200.0)


def test_merged_metrics_sum_only_the_members_and_match_a_sum_over_every_row():
    # the plain definition relabels every row and sums them all; the fast one
    # sums the members only, and must give the same numbers to the last digit
    rng = np.random.default_rng(3)
    codes = [f"A{i:02d}" for i in range(30)]
    rows = [
        (code, sector, period, measure, float(rng.integers(1, 40)))
        for code in codes
        for sector in ("film", "music")
        for period in ("1", "2")
        for measure in ("jobs", "firms")
    ]
    rows += [
        (code, gc.TOTAL, period, measure, 100.0 + rng.integers(0, 50))
        for code in codes
        for period in ("1", "2")
        for measure in ("jobs", "firms")
    ]
    table = gc.validate_counts(
        pd.DataFrame(rows, columns=["area", "sector", "period", "measure", "value"])
    )
    table.loc[(table["area"] == "A07") & (table["sector"] == "music"), "value"] = np.nan
    conurbations = pd.DataFrame(
        {"members": ["A03;A07;A12", "A20;A05"]}, index=pd.Index(["C1", "C2"], name="conurbation")
    )
    got = conurbations_module._merged_metrics(conurbations, table, "1", "2")
    relabel = {"A03": "C1", "A07": "C1", "A12": "C1", "A20": "C2", "A05": "C2"}
    every = table.assign(area=table["area"].map(relabel).fillna(table["area"]))
    summed = sum_counts(every, ["area", "sector", "period", "measure"])
    want = metrics(summed, "1", "2", _validated=True)
    want = want[want["area"].isin(["C1", "C2"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert want["value"].isna().any() and len(want) == 2 * 2 * (2 * 6 + 1)


def test_clusters_outside_the_graph_are_refused():
    areas = strip(["a", "b"])
    clusters = selections_from_mapping({"zz": [("concentration", "jobs", "film")]})
    with pytest.raises(InputError, match="not in the graph") as caught:
        gc.merge_conurbations(areas, graph=gc.contiguity(areas), clusters=clusters)
    assert list(caught.value.rows) == ["zz"]


def test_the_demo_planted_conurbation_is_recovered_exactly():
    region = gc.datasets.demo_region(seed=0)
    clusters = gc.detect_nesta2016(region.areas, region.counts)
    result = gc.merge_conurbations(
        region.areas, region.counts, gc.contiguity(region.areas), clusters
    )
    merged = result.table
    planted = set(region.planted["conurbation"])
    matches = [m for m in merged["members"] if set(m.split(";")) & planted]
    assert len(matches) == 1
    assert set(matches[0].split(";")) == planted
    row = merged[merged["members"] == matches[0]].iloc[0]
    assert "architecture" in row["core_sectors"].split("; ")
    values = result.metrics.set_index(["area", "measure", "group", "metric"])["value"]
    assert values[(row.name, "businesses", "architecture", "lq")] > 2.5


def test_fuzzy_contiguity_and_commuting_graphs_link_areas_that_do_not_touch():
    # two squares 10 m apart: strictly not neighbours, neighbours within 20 m
    areas = gpd.GeoDataFrame(
        {"name": ["West", "East"]},
        geometry=[box(0, 0, 1000, 1000), box(1010, 0, 2010, 1000)],
        index=pd.Index(["w", "e"], name="area"),
        crs=27700,
    )
    clusters = selections_from_mapping(
        {"w": [("concentration", "jobs", "film")], "e": [("growth", "jobs", "film")]}
    )
    assert (
        len(gc.merge_conurbations(areas, graph=gc.contiguity(areas), clusters=clusters).table) == 0
    )
    fuzzy = gc.merge_conurbations(
        areas, graph=gc.contiguity(areas, tolerance=20), clusters=clusters
    ).table
    assert fuzzy["n_members"].tolist() == [2]
    # commuting: 300 of West's 1,000 workers go to East (30 % >= 5 %)
    flows = pd.DataFrame(
        {"home": ["w", "w", "e"], "work": ["w", "e", "e"], "people": [700, 300, 900]}
    )
    graph = gc.commuting(flows, "home", "work", "people", threshold=0.05)
    linked = gc.merge_conurbations(areas, graph=graph, clusters=clusters).table
    assert set(linked.iloc[0]["members"].split(";")) == {"w", "e"}
    # a dissolved polygon of two separate squares is a multipolygon of their total area
    assert linked.iloc[0].geometry.area == pytest.approx(2_000_000)


def two_detections():
    region = gc.datasets.demo_region(seed=0)
    nesta = gc.detect_nesta2016(region.areas, region.counts)
    thresholds = gc.detect_thresholds(region.areas, region.counts, lq_min=2.0)
    return region, nesta, thresholds


def test_concatenated_detector_outputs_merge_with_explicit_periods():
    region, nesta, thresholds = two_detections()
    graph = gc.contiguity(region.areas)
    both = pd.concat([nesta.selections, thresholds.selections])
    from_list = gc.merge_conurbations(region.areas, region.counts, graph, [nesta, thresholds])
    # a plain selections table carries no periods: they are asked for, not guessed
    with pytest.raises(InputError, match="periods"):
        gc.merge_conurbations(region.areas, region.counts, graph, both)
    from_frame = gc.merge_conurbations(
        region.areas,
        region.counts,
        graph,
        both,
        periods=gc.measures.NESTA_2016_PERIODS,
        groups="nesta2016",
    )
    pd.testing.assert_frame_equal(from_list.table, from_frame.table)
    pd.testing.assert_frame_equal(from_list.metrics, from_frame.metrics)
    planted = set(region.planted["conurbation"])
    assert any(set(m.split(";")) == planted for m in from_list.table["members"])
    assert from_list.provenance.parameters["start"] == nesta.start


def test_old_argument_orders_are_deprecated_but_work():
    areas = strip(["a", "b"])
    clusters = selections_from_mapping(
        {"a": [("concentration", "jobs", "film")], "b": [("growth", "jobs", "film")]}
    )
    graph = gc.contiguity(areas)
    new = gc.merge_conurbations(areas, graph=graph, clusters=clusters)
    with pytest.warns(DeprecationWarning, match="areas, counts, graph, clusters"):
        old = gc.merge_conurbations(clusters, graph, areas)
    pd.testing.assert_frame_equal(old.table, new.table)
    with pytest.warns(DeprecationWarning, match=r"\.table"):
        assert old["n_members"].tolist() == [2]
    with pytest.warns(DeprecationWarning, match="membership"):
        assert membership(new.table, areas)["conurbation_id"].tolist() == ["C1", "C1"]
    assert "1 conurbations" in repr(new) and new._repr_html_().startswith("<table>")


def test_underscore_measure_and_group_names_merge_and_round_trip(tmp_path):
    from geoclusters._fields import flatten, unflatten

    areas = strip(["a", "b", "c"])
    rows = []
    for code, film in (("a", 30.0), ("b", 20.0), ("c", 10.0)):
        for period in ("1", "2"):
            for measure, group in (
                ("jobs_film", "tv"),
                ("jobs", "film_tv"),
                ("local units", "x y"),
            ):
                rows.append((code, group, period, measure, film))
                rows.append((code, gc.TOTAL, period, measure, 100.0))
    counts = pd.DataFrame(rows, columns=["area", "sector", "period", "measure", "value"])
    found = gc.detect_thresholds(areas, counts, lq_min=0.9, groups=None, periods=["1", "2"])
    merged = gc.merge_conurbations(areas, counts, gc.contiguity(areas), found)
    assert merged.table["members"].tolist() == ["a;b"]
    pairs = set(zip(merged.metrics["measure"], merged.metrics["group"], strict=True))
    assert {("jobs_film", "tv"), ("jobs", "film_tv"), ("local units", "x y")} <= pairs
    fields, mapping = flatten(found.metrics)
    assert not [name for name in fields.columns if " " in name]
    assert len(set(fields.columns)) == len(fields.columns)
    _, back, _ = unflatten(fields, mapping)
    keys = ["area", "measure", "group", "metric"]
    pd.testing.assert_frame_equal(
        back.sort_values(keys).reset_index(drop=True),
        found.metrics.sort_values(keys).reset_index(drop=True),
        check_dtype=False,
    )


# --------------------------------------------------------------------------- the default rule


def grid(cells):
    return gpd.GeoDataFrame(
        {"name": [c.upper() for c in cells]},
        index=pd.Index(list(cells), name="area"),
        geometry=[box(x, y, x + 1, y + 1) for x, y in cells.values()],
        crs=27700,
    )


def symmetric_flows(shares, codes, residents=1000.0):
    """Each pair's share of the pair's commuters crossing (half each way); the rest stay home."""
    rows, sent = [], dict.fromkeys(codes, 0.0)
    for (a, b), share in shares.items():
        rows += [(a, b, share * residents), (b, a, share * residents)]
        sent[a] += share * residents
        sent[b] += share * residents
    rows += [(code, code, residents - out) for code, out in sent.items()]
    return pd.DataFrame(rows, columns=["origin", "destination", "count"])


def test_two_blocs_joined_by_one_weak_link_split_and_a_strong_pair_stays():
    # bloc a-b-c, bloc d-e-f; b touches d (the one link between them); g-h far away
    areas = grid(
        {"a": (0, 0), "b": (1, 0), "c": (0, 1), "d": (2, 0), "e": (3, 0), "f": (3, 1)}
        | {"g": (10, 0), "h": (11, 0)}
    )
    film, music = ("concentration", "jobs", "film"), ("growth", "jobs", "music")
    tv = ("concentration", "jobs", "tv")
    clusters = selections_from_mapping(
        {c: [film, music] for c in "abc"}
        | {c: [film, tv] for c in "def"}
        | {"g": [film]}
        | {"h": [film]}
    )
    strong = dict.fromkeys([("a", "b"), ("a", "c"), ("b", "c"), ("d", "e"), ("d", "f")], 0.06)
    strong |= {("e", "f"): 0.06, ("g", "h"): 0.06, ("b", "d"): 0.02}
    flows = symmetric_flows(strong, areas.index)
    graph = gc.contiguity(areas)
    merged = gc.merge_conurbations(areas, graph=graph, clusters=clusters, flows=flows)
    assert sorted(merged.table["members"]) == ["a;b;c", "d;e;f", "g;h"]
    links = merged.links.set_index(["from", "to"])
    # the bridge is a kept link (strength (0.4/3 + 0.3 * 0.4) / 0.7), but it joins nothing
    assert links.loc[("b", "d"), "strength"] == pytest.approx((0.4 / 3 + 0.3 * 0.4) / 0.7)
    assert links.loc[("b", "d"), "kept"] and links.loc[("b", "d"), "conurbation"] == ""
    assert links.loc[("b", "d"), "why"] == (
        "share film (concentration, jobs); 2.0% of commuters; profiles unknown "
        f"-> strength {links.loc[('b', 'd'), 'strength']:.2f}, kept"
    )
    assert links.loc[("g", "h"), "conurbation"] != ""
    row = merged.table.set_index("members").loc["a;b;c"]
    assert row["core_sectors"] == "film; music" and row["strength"] == 1.0
    assert row["links"].count("1.00") == 3
    # the 0.1 merge chains the blocs through the one link; louvain is seeded
    naive = gc.merge_conurbations(
        areas, graph=graph, clusters=clusters, flows=flows, method="components", hubs=None
    )
    assert "a;b;c;d;e;f" in set(naive.table["members"])
    louvain = [
        gc.merge_conurbations(
            areas, graph=graph, clusters=clusters, flows=flows, method="louvain", seed=5
        ).table
        for _ in range(2)
    ]
    pd.testing.assert_frame_equal(louvain[0], louvain[1])
    assert merged.params["method"] == "cohesion" and merged.params["flows"] is True


def test_hubs_are_found_named_or_none():
    # x ties the pair p1-p2 to the pair q1-q2, which do not touch each other
    areas = grid({"x": (5, 5), "p1": (4, 5), "p2": (4, 6), "q1": (6, 5), "q2": (6, 6)})
    clusters = selections_from_mapping(
        {code: [("concentration", "jobs", "film")] for code in areas.index}
    )
    graph = gc.contiguity(areas)
    found = gc.merge_conurbations(areas, graph=graph, clusters=clusters)
    assert found.hubs == ["x"] and found.params["hubs"] == "auto"
    assert sorted(found.table["members"]) == ["p1;p2", "q1;q2"]
    assert "hubs kept out (found from the links): x" in found.table["rule"].iloc[0]
    none = gc.merge_conurbations(areas, graph=graph, clusters=clusters, hubs=None)
    assert none.hubs == [] and none.table["n_members"].tolist() == [5]
    named = gc.merge_conurbations(areas, graph=graph, clusters=clusters, hubs=["p1"])
    assert named.hubs == ["p1"] and "p1" not in named.table["members"].iloc[0].split(";")
    with pytest.raises(InputError, match="hubs name areas that are not in the graph"):
        gc.merge_conurbations(areas, graph=graph, clusters=clusters, hubs=["nowhere"])
    with pytest.raises(InputError, match="a list of area codes"):
        gc.merge_conurbations(areas, graph=graph, clusters=clusters, hubs="x")
    with pytest.raises(InputError, match="not one of"):
        gc.merge_conurbations(areas, graph=graph, clusters=clusters, method="ward")


def test_run_takes_commuting_as_a_table_or_a_csv_and_writes_the_links(tmp_path):
    region = gc.datasets.demo_region(seed=0)
    codes = region.areas.index
    graph = gc.contiguity(region.areas)
    pairs = {
        (a, b): 0.04
        for a, b in zip(
            graph.adjacency.index.get_level_values(0),
            graph.adjacency.index.get_level_values(1),
            strict=True,
        )
        if a < b
    }
    flows = symmetric_flows(pairs, codes, residents=10_000.0)
    path = tmp_path / "flows.csv"
    flows.to_csv(path, index=False)
    by_table = gc.run(region.areas, region.counts, lisa=False, flows=flows)
    by_path = gc.run(region.areas, region.counts, lisa=False, flows=str(path))
    by_config = gc.run(region.areas, region.counts, gc.Config(lisa=False, flows=str(path)))
    for result in (by_table, by_path, by_config):
        assert result.links["why"].str.contains("% of commuters").all()
        assert result.merged.params["flows"] is True
    pd.testing.assert_frame_equal(by_table.links, by_path.links)
    pd.testing.assert_frame_equal(by_table.links, by_config.links)
    without = gc.run(region.areas, region.counts, lisa=False)
    assert without.links["why"].str.contains("commuting unknown").all()
    planted = set(region.planted["conurbation"])
    assert any(set(m.split(";")) == planted for m in by_table.conurbations["members"])
    with pytest.raises(InputError, match="commuting file not found"):
        gc.run(region.areas, region.counts, lisa=False, flows=str(tmp_path / "none.csv"))
