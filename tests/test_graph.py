"""Spatial graphs: hand-built geometries worked out on paper, the real TTWA map,
cross-checks against libpysal and GeoDa, and the 2021 census commuting table."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from libpysal.graph import Graph
from shapely.geometry import MultiPolygon, Point, box

import geoclusters as gc
from geoclusters.errors import InputError
from geoclusters.graph import GraphReport

TUNBRIDGE_WELLS = "E30000281"
ISLANDS = {"Isle of Wight", "Western Isles", "Mull and Islay", "Orkney Islands", "Shetland Islands"}


@pytest.fixture(scope="module")
def ttwa(ttwa_path) -> gpd.GeoDataFrame:
    return gc.read_areas(ttwa_path, code="ttwa11cd", name="ttwa11nm")


@pytest.fixture(scope="module")
def queen(ttwa) -> tuple[Graph, GraphReport]:
    return gc.contiguity(ttwa, return_report=True)


def neighbours(graph: Graph, code: str) -> set[str]:
    return set(graph[code].index)


def grid(size: int = 3) -> gpd.GeoSeries:
    """A size x size grid of unit squares, codes 'r{row}c{col}'."""
    cells = {f"r{r}c{c}": box(c, r, c + 1, r + 1) for r in range(size) for c in range(size)}
    return gpd.GeoSeries(list(cells.values()), index=list(cells), crs="EPSG:27700")


# ---------------------------------------------------------------------------
# hand-built geometries


def test_queen_and_rook_on_a_grid():
    squares = grid()
    queen = gc.contiguity(squares)
    rook = gc.contiguity(squares, rook=True)
    # centre cell: 8 queen neighbours, 4 rook neighbours; a corner: 3 and 2
    assert len(neighbours(queen, "r1c1")) == 8
    assert neighbours(rook, "r1c1") == {"r0c1", "r2c1", "r1c0", "r1c2"}
    assert neighbours(queen, "r0c0") == {"r0c1", "r1c0", "r1c1"}
    assert neighbours(rook, "r0c0") == {"r0c1", "r1c0"}
    # 12 shared edges, plus 2 diagonal (corner-only) pairs in each of the four 2x2 blocks
    assert gc.graph_report(rook).n_edges == 12
    assert gc.graph_report(queen).n_edges == 12 + 8
    assert list(queen.unique_ids) == list(squares.index)


def test_multipart_area_touches_through_either_part():
    areas = gpd.GeoSeries(
        [
            MultiPolygon([box(0, 0, 1, 1), box(10, 0, 11, 1)]),
            box(1, 0, 2, 1),
            box(11, 0, 12, 1),
            box(5, 5, 6, 6),
        ],
        index=["split", "west", "east", "alone"],
        crs="EPSG:27700",
    )
    graph = gc.contiguity(areas, rook=True)
    assert neighbours(graph, "split") == {"west", "east"}
    assert list(graph.isolates) == ["alone"]


def test_fuzzy_contiguity_bridges_gaps_and_rook_ignores_near_corners():
    areas = gpd.GeoSeries(
        [box(0, 0, 1, 1), box(1.2, 0, 2.2, 1), box(2.4, 1.2, 3.4, 2.2)],
        index=["a", "b", "c"],
        crs="EPSG:27700",
    )
    # a-b: parallel edges 0.2 apart; b-c: corners 0.2*sqrt(2) ~ 0.283 apart
    assert gc.graph_report(gc.contiguity(areas)).n_edges == 0
    fuzzy = gc.contiguity(areas, tolerance=0.3)
    assert neighbours(fuzzy, "b") == {"a", "c"}
    fuzzy_rook = gc.contiguity(areas, rook=True, tolerance=0.3)
    assert neighbours(fuzzy_rook, "b") == {"a"}
    assert gc.graph_report(gc.contiguity(areas, tolerance=0.1)).n_edges == 0


def test_nearest_island_policy_keeps_ties():
    areas = gpd.GeoSeries(
        [box(0, 0, 1, 1), box(1, 0, 2, 1), box(0.5, 3, 1.5, 4), box(10, 0, 11, 1)],
        index=["left", "right", "island", "far"],
        crs="EPSG:27700",
    )
    # the island is 2 from both 'left' and 'right' (a tie); 'far' is 8 from 'right'
    graph, report = gc.contiguity(areas, islands="nearest", return_report=True)
    assert neighbours(graph, "island") == {"left", "right"}
    assert neighbours(graph, "far") == {"right"}
    assert "far" in neighbours(graph, "right")
    assert dict(report.linked) == {"island": ("left", "right"), "far": ("right",)}
    assert report.islands == ()
    assert report.policy == "nearest"
    # the plain report of the same graph cannot know which links were added
    assert gc.graph_report(graph).linked == ()


def test_knn_and_distance_band_by_hand():
    pts = gpd.GeoSeries(
        [Point(0, 0), Point(3, 4), Point(6, 8), Point(100, 0)],
        index=["a", "b", "c", "d"],
        crs="EPSG:27700",
    )
    two = gc.knn(pts, k=2)
    assert neighbours(two, "a") == {"b", "c"}
    assert neighbours(two, "d") == {"b", "c"}  # distances 97.1 and 95.3, a is 100 away
    band = gc.distance_band(pts, 5.0, binary=False)
    assert float(band["b"]["a"]) == pytest.approx(1 / 5)
    assert float(band["b"]["c"]) == pytest.approx(1 / 5)
    assert "c" not in neighbours(band, "a")
    assert list(band.isolates) == ["d"]
    report = gc.graph_report(two)
    assert not report.symmetric
    assert report.components == (("a", "b", "c", "d"),)
    with pytest.raises(InputError, match="k must be between"):
        gc.knn(pts, k=4)


def test_bad_input_is_named():
    dup = gpd.GeoSeries([box(0, 0, 1, 1), box(1, 0, 2, 1)], index=["x", "x"])
    with pytest.raises(InputError, match="unique") as err:
        gc.contiguity(dup)
    assert err.value.rows == ["x"]
    empty = gpd.GeoSeries([box(0, 0, 1, 1), None], index=["ok", "void"])
    with pytest.raises(InputError, match="no geometry") as err:
        gc.contiguity(empty)
    assert err.value.rows == ["void"]
    lonlat = grid().set_crs("EPSG:4326", allow_override=True)
    with pytest.raises(InputError, match="geographic CRS"):
        gc.contiguity(lonlat, tolerance=0.01)
    with pytest.raises(InputError, match="island policy"):
        gc.contiguity(grid(), islands="drop")


# ---------------------------------------------------------------------------
# the real TTWA map


def test_tunbridge_wells_neighbours(ttwa, queen):
    graph, _ = queen
    names = set(ttwa.loc[list(neighbours(graph, TUNBRIDGE_WELLS)), "name"])
    assert names == {"Ashford", "Crawley", "Eastbourne", "Hastings", "London", "Medway"}
    assert list(graph.unique_ids) == list(ttwa.index)


def test_ttwa_graph_is_symmetric_with_five_islands_and_seven_components(ttwa, queen):
    graph, report = queen
    assert report.symmetric
    assert graph.asymmetry().empty
    assert set(ttwa.loc[list(report.islands), "name"]) == ISLANDS
    assert len(report.islands) == 5
    assert len(report.components) == 7
    great_britain, northern_ireland, *singletons = report.components
    assert all(code.startswith("N") for code in northern_ireland)
    assert set(northern_ireland) == {c for c in ttwa.index if c.startswith("N")}
    assert len(great_britain) == 228 - 10 - 5
    assert {c[0] for c in singletons} == set(report.islands)
    assert report.n_edges == 528  # the MANIFEST's count of touching pairs
    assert report.mean_neighbours == pytest.approx(2 * 528 / 228)
    text = str(report)
    assert "E30000070" in text and "7 connected component(s)" in text


def test_ttwa_contiguity_matches_libpysal_and_geoda(ttwa, queen):
    pygeoda = pytest.importorskip("pygeoda")
    graph, _ = queen
    assert graph.equals(Graph.build_contiguity(ttwa, rook=False))
    rook = gc.contiguity(ttwa, rook=True)
    assert rook.equals(Graph.build_contiguity(ttwa, rook=True))
    weights = pygeoda.queen_weights(pygeoda.open(ttwa.reset_index()))
    codes = ttwa.index
    for i, code in enumerate(codes):
        assert {codes[j] for j in weights.get_neighbors(i)} == neighbours(graph, code)


def test_nearest_policy_links_every_ttwa_island(ttwa, queen):
    strict, _ = queen
    graph, report = gc.contiguity(ttwa, islands="nearest", return_report=True)
    assert report.islands == ()
    assert {code for code, _ in report.linked} == set(strict.isolates)
    for code, targets in report.linked:
        assert len(neighbours(graph, code)) >= 1
        # independently: the nearest other TTWA by polygon distance
        others = ttwa.drop(index=code)
        distance = others.distance(ttwa.geometry[code])
        assert targets[0] == distance.idxmin()
    # every strict border is still there and the graph stays symmetric
    assert strict.issubgraph(graph)
    assert report.symmetric
    assert report.n_edges == 528 + 5
    assert len(report.components) == 2  # Great Britain with its islands, Northern Ireland


@pytest.mark.parametrize("islands", ["keep", "nearest"])
def test_the_builders_report_is_the_report_of_its_graph(ttwa, islands):
    # contiguity reports from the pairs it found, graph_report from the Graph: the same
    graph, built = gc.contiguity(ttwa, islands=islands, return_report=True)
    read = gc.graph_report(graph)
    for field in ("n", "n_edges", "islands", "components", "symmetric", "self_loops"):
        assert getattr(built, field) == getattr(read, field), field
    assert built.mean_neighbours == pytest.approx(read.mean_neighbours, abs=1e-12)


def test_ttwa_knn_matches_libpysal(ttwa):
    centroids = ttwa.centroid
    ours = gc.knn(ttwa, k=4)
    reference = Graph.build_knn(centroids, k=4)
    assert ours.equals(reference)
    band = gc.distance_band(ttwa, 40_000)
    assert band.equals(Graph.build_distance_band(centroids, 40_000))


# ---------------------------------------------------------------------------
# commuting


@pytest.fixture(scope="module")
def census_flows(data) -> pd.DataFrame:
    return pd.read_csv(data / "commuting" / "census2021_odwp01ew_ltla.csv.gz", dtype=str).astype(
        {"Count": int}
    )


ORIGIN = "Lower tier local authorities code"
DESTINATION = "LTLA of workplace code"


def test_commuting_graph_on_the_2021_census(census_flows):
    flows = census_flows
    graph, excluded = gc.commuting(
        flows, ORIGIN, DESTINATION, "Count", threshold=0.05, return_excluded=True
    )
    origins = sorted(flows[ORIGIN].unique())
    assert list(graph.unique_ids) == origins
    # independently with pandas: shares of each residence's commuters to E&W workplaces
    inside = flows[flows[DESTINATION].isin(origins)]
    totals = inside.groupby(ORIGIN)["Count"].sum()
    pairs = inside.groupby([ORIGIN, DESTINATION])["Count"].sum().reset_index()
    pairs["share"] = pairs["Count"] / pairs[ORIGIN].map(totals)
    strong = pairs[(pairs["share"] >= 0.05) & (pairs[ORIGIN] != pairs[DESTINATION])]
    expected = {frozenset(p) for p in zip(strong[ORIGIN], strong[DESTINATION], strict=True)}
    assert gc.graph_report(graph).n_edges == len(expected)
    # Tunbridge Wells (E07000116) and Tonbridge and Malling (E07000115): both shares are
    # just under 5%, and only the T&M -> TW one reaches 4.8%, so 4.8% links them one way
    share = pairs.set_index([ORIGIN, DESTINATION])["share"]
    tw_tm, tm_tw = share["E07000116", "E07000115"], share["E07000115", "E07000116"]
    assert tw_tm < 0.048 <= tm_tw < 0.05
    assert "E07000115" not in neighbours(graph, "E07000116")
    closer = gc.commuting(flows, ORIGIN, DESTINATION, "Count", 0.048, return_excluded=True)[0]
    assert "E07000115" in neighbours(closer, "E07000116")
    assert "E07000116" in neighbours(closer, "E07000115")
    assert graph.asymmetry().empty
    # excluded rows: home working (-8), offshore, abroad and Scottish or Northern Irish workplaces
    outside = flows[~flows[DESTINATION].isin(origins)]
    assert len(excluded) == len(outside)
    assert set(excluded["reason"]) == {"destination is not an area"}
    assert {"-8", "888888888", "999999999"} <= set(excluded[DESTINATION])
    assert excluded["Count"].sum() == outside["Count"].sum()


def test_commuting_warns_about_exclusions_and_rejects_bad_counts(census_flows):
    sample = census_flows[census_flows[ORIGIN].isin(["E07000116", "E07000115"])]
    with pytest.warns(UserWarning, match="excluded .* rows"):
        graph = gc.commuting(sample, ORIGIN, DESTINATION, "Count", areas=["E07000116", "E07000115"])
    # shares are among commuters to the areas given: 2,656 of Tunbridge Wells residents'
    # 44,936 + 2,656 jobs in the two districts work in Tonbridge and Malling, 5.6% >= 5%
    assert neighbours(graph, "E07000116") == {"E07000115"}
    broken = sample.assign(Count=sample["Count"].astype(float))
    broken.loc[broken.index[3], "Count"] = np.nan
    with pytest.raises(InputError, match="missing") as err:
        gc.commuting(broken, ORIGIN, DESTINATION, "Count")
    assert err.value.rows == [broken.index[3]]


# ---------------------------------------------------------------------------
# the hashing builder against GEOS on every pair, and its properties

import shapely  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_boxes = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(1, 3), st.integers(1, 3)),
    min_size=2,
    max_size=14,
)


def _brute_force(cells: np.ndarray, rook: bool) -> set[tuple[int, int]]:
    pairs = set()
    for i in range(len(cells)):
        for j in range(i + 1, len(cells)):
            if not shapely.intersects(cells[i], cells[j]):
                continue
            if rook:
                matrix = shapely.relate(cells[i], cells[j])
                if matrix[0] != "2" and matrix[4] != "1":
                    continue
            pairs.add((i, j))
    return pairs


@settings(max_examples=60, deadline=None)
@given(_boxes, st.booleans(), st.randoms(use_true_random=False))
def test_contiguity_is_exactly_geos_on_every_pair_symmetric_and_order_free(boxes, rook, rnd):
    # integer boxes: shared corners, T-junctions (a vertex on another's edge), overlaps,
    # containment and duplicates, every case the vertex and edge hashing must get right
    cells = np.array([shapely.box(x, y, x + w, y + h) for x, y, w, h in boxes], dtype=object)
    codes = [f"a{i:02d}" for i in range(len(cells))]
    areas = gpd.GeoSeries(cells, index=codes, crs="EPSG:27700")
    graph = gc.contiguity(areas, rook=rook)
    sparse = graph.sparse
    assert (sparse != sparse.T).nnz == 0
    found = {
        (min(i, j), max(i, j))
        for i, j in zip(*sparse.nonzero(), strict=True)
        if i != j and sparse[i, j] > 0
    }
    assert found == _brute_force(cells, rook)
    shuffled = list(codes)
    rnd.shuffle(shuffled)
    again = gc.contiguity(areas.loc[shuffled], rook=rook)
    for code in codes:
        assert neighbours(again, code) == neighbours(graph, code)


def test_components_are_ordered_in_one_pass():
    # three components of sizes 2, 3, 2: largest first, ties by their first area
    ids = np.array(list("abcdefg"))
    focal = ids[[0, 1, 2, 3, 3, 4, 5, 6]]
    neighbor = ids[[1, 0, 3, 2, 4, 3, 6, 5]]
    graph = Graph.from_arrays(focal, neighbor, np.ones(8))
    assert gc.components(graph) == [["c", "d", "e"], ["a", "b"], ["f", "g"]]
    report = gc.graph_report(graph)
    assert report.components == (("c", "d", "e"), ("a", "b"), ("f", "g"))
    assert len(repr(report)) < 200 and "<table>" in report._repr_html_()


def test_nearest_island_links_use_the_spatial_index_and_keep_ties():
    # a ring of eight squares around an island at equal distance from four of them
    cells = {
        f"s{k}": box(x, y, x + 1, y + 1)
        for k, (x, y) in enumerate([(0, 0), (2, 0), (4, 0), (4, 2), (4, 4), (2, 4), (0, 4), (0, 2)])
    }
    cells["island"] = box(2, 2, 3, 3)
    areas = gpd.GeoSeries(list(cells.values()), index=list(cells), crs="EPSG:27700")
    _, report = gc.contiguity(areas, islands="nearest", return_report=True)
    linked = dict(report.linked)
    assert set(linked["island"]) == {"s1", "s3", "s5", "s7"}
    _, report_k = gc.contiguity(areas, islands="nearest", island_k=5, return_report=True)
    # the fifth nearest ties with the corners: all eight are kept
    assert len(dict(report_k.linked)["island"]) == 8
