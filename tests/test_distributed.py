"""The Dask engine against the local path, libpysal, esda and grids worked out on paper.

One in-process cluster (two workers, one thread each) serves the module. It
listens on TCP over loopback and the tests reach it by address, so every task
and its data are serialised exactly as on a real cluster.
"""

from __future__ import annotations

import socket
import sys
import warnings

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from distributed import LocalCluster
from libpysal.graph import Graph
from shapely.geometry import box

import geoclusters as gc
from geoclusters.distributed import client
from geoclusters.errors import InputError

LOCAL_COLUMNS = ["statistic", "expected", "variance", "z", "p_value", "p_norm", "significant"]


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(
        processes=False,
        n_workers=2,
        threads_per_worker=1,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=":0",
    ) as local:
        yield local


@pytest.fixture(scope="module")
def dask_client(cluster):
    with client(cluster.scheduler_address) as connected:
        yield connected


@pytest.fixture(scope="module")
def ttwa(ttwa_path) -> gpd.GeoDataFrame:
    return gc.read_areas(ttwa_path, code="ttwa11cd", name="ttwa11nm")


@pytest.fixture(scope="module")
def msoa(data) -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        # four very simplified MSOAs self-intersect; read_areas names them as it repairs them
        warnings.simplefilter("ignore", UserWarning)
        return gc.read_areas(
            data / "msoa2011" / "msoa_2011_ew_vsimple_wgs84.gpkg",
            code="msoa11cd",
            name="msoa11nm",
            crs="EPSG:27700",
            repair=True,
        )


@pytest.fixture(scope="module")
def msoa_graph(msoa) -> Graph:
    return gc.contiguity(msoa)


def grid(size: int) -> gpd.GeoSeries:
    cells = [box(c, r, c + 1, r + 1) for r in range(size) for c in range(size)]
    return gpd.GeoSeries(cells, index=[f"r{i // size}c{i % size}" for i in range(size**2)])


def assert_same_local(ours: gc.LocalResult, reference: gc.LocalResult) -> None:
    pd.testing.assert_frame_equal(ours.to_frame(), reference.to_frame(), check_exact=True)


def assert_matches_esda(ours: gc.LocalResult, esda_values: np.ndarray, graph: Graph) -> None:
    """Equal where defined; undefined (NaN) exactly on the graph's islands."""
    undefined = np.isnan(ours.statistic)
    assert set(ours.ids[undefined]) == set(graph.isolates)
    np.testing.assert_allclose(ours.statistic[~undefined], esda_values[~undefined], rtol=1e-10)


# ---------------------------------------------------------------------------
# contiguity


def test_grid_chunks_of_one_area_find_every_pair(dask_client):
    # on paper, a 3 x 3 grid has 12 shared edges and 8 diagonal corner contacts
    squares = grid(3)
    queen = gc.contiguity(squares, client=dask_client, chunk_size=1)
    rook = gc.contiguity(squares, rook=True, client=dask_client, chunk_size=1)
    assert len(queen.adjacency) == 2 * 20 and len(rook.adjacency) == 2 * 12
    assert set(queen["r1c1"].index) == set(squares.index) - {"r1c1"}
    assert set(rook["r1c1"].index) == {"r0c1", "r1c0", "r1c2", "r2c1"}
    assert set(queen["r0c0"].index) == {"r0c1", "r1c0", "r1c1"}
    assert set(rook["r2c2"].index) == {"r1c2", "r2c1"}


def test_fuzzy_pairs_across_chunks(dask_client):
    # two columns of squares 0.5 apart: only a tolerance above 0.5 bridges them
    cells = [box(0, r, 1, r + 1) for r in range(4)] + [box(1.5, r, 2.5, r + 1) for r in range(4)]
    squares = gpd.GeoSeries(cells, index=[f"a{r}" for r in range(4)] + [f"b{r}" for r in range(4)])
    strict = gc.contiguity(squares, client=dask_client, chunk_size=2)
    fuzzy = gc.contiguity(squares, tolerance=0.6, client=dask_client, chunk_size=2)
    assert set(strict["a1"].index) == {"a0", "a2"}
    assert set(fuzzy["a1"].index) == {"a0", "a2", "b0", "b1", "b2"}


def test_ttwa_contiguity_on_dask_equals_local_and_libpysal(dask_client, ttwa):
    for rook in (False, True):
        local = gc.contiguity(ttwa, rook=rook)
        for chunk_size in (None, 20):
            on_dask = gc.contiguity(ttwa, rook=rook, client=dask_client, chunk_size=chunk_size)
            assert on_dask.equals(local)
            assert on_dask.equals(Graph.build_contiguity(ttwa, rook=rook))
    fuzzy = gc.contiguity(ttwa, tolerance=500, islands="nearest", return_report=True)
    on_dask = gc.contiguity(
        ttwa, tolerance=500, islands="nearest", return_report=True, client=dask_client
    )
    assert on_dask[0].equals(fuzzy[0]) and on_dask[1] == fuzzy[1]


def test_msoa_contiguity_on_dask_equals_local(dask_client, msoa, msoa_graph):
    queen = gc.contiguity(msoa, client=dask_client)
    pd.testing.assert_series_equal(queen.adjacency, msoa_graph.adjacency, check_exact=True)
    # the halo of a chunk of 500 is a large share of it: cross-chunk pairs everywhere
    rook = gc.contiguity(msoa, rook=True, client=dask_client, chunk_size=500)
    assert rook.equals(gc.contiguity(msoa, rook=True))
    assert rook.n_edges < queen.n_edges


# ---------------------------------------------------------------------------
# permutation inference


def test_msoa_local_moran_on_dask_equals_local_and_esda(dask_client, msoa, msoa_graph):
    y = np.log(msoa.geometry.area)
    local = gc.local_moran(y, msoa_graph, permutations=199, seed=8)
    on_dask = gc.local_moran(y, msoa_graph, permutations=199, seed=8, client=dask_client)
    assert_same_local(on_dask, local)
    # chunks that cut through the runs of areas with equal neighbour counts
    cut = gc.local_moran(
        y, msoa_graph, permutations=199, seed=8, client=dask_client, chunk_size=777
    )
    assert_same_local(cut, local)
    reference = esda.Moran_Local(y.to_numpy(), msoa_graph, permutations=0)
    assert_matches_esda(on_dask, reference.Is, msoa_graph)
    assert on_dask.params["engine"] == "dask" and cut.params["chunk_size"] == 777
    assert "engine" not in local.params


@pytest.mark.parametrize("star", [True, False])
def test_msoa_local_g_on_dask_equals_local_and_esda(dask_client, msoa, msoa_graph, star):
    y = msoa.geometry.area / 1e6
    local = gc.local_g(y, msoa_graph, permutations=99, seed=4, star=star, transform="b")
    on_dask = gc.local_g(
        y, msoa_graph, permutations=99, seed=4, star=star, transform="b", client=dask_client
    )
    assert_same_local(on_dask, local)
    with np.errstate(invalid="ignore"):  # esda divides by the zero variance of islands
        reference = esda.G_Local(y.to_numpy(), msoa_graph, transform="B", star=star, permutations=0)
    assert_matches_esda(on_dask, reference.Gs, msoa_graph)


def test_pvalues_depend_on_the_seed_only(dask_client, ttwa):
    graph = gc.contiguity(ttwa)
    y = np.log(ttwa.geometry.area)
    first = gc.local_moran(y, graph, permutations=499, seed=11, client=dask_client, chunk_size=7)
    again = gc.local_moran(y, graph, permutations=499, seed=11, client=dask_client, chunk_size=50)
    other = gc.local_moran(y, graph, permutations=499, seed=12, client=dask_client, chunk_size=7)
    np.testing.assert_array_equal(first.p_value, again.p_value)
    assert not np.array_equal(first.p_value, other.p_value, equal_nan=True)
    # a cluster of one worker thread, started and shut down by geoclusters.distributed.client
    with client(n_workers=1, processes=False, dashboard_address=":0") as single:
        alone = gc.local_moran(y, graph, permutations=499, seed=11, client=single)
    assert single.status == "closed" and single.cluster.status.name == "closed"
    assert_same_local(alone, first)
    g_star = gc.local_g(y, graph, permutations=199, seed=5, client=dask_client, chunk_size=9)
    np.testing.assert_array_equal(
        g_star.p_value, gc.local_g(y, graph, permutations=199, seed=5).p_value
    )


# ---------------------------------------------------------------------------
# errors


def test_engine_settings_are_checked(dask_client, ttwa):
    graph = gc.contiguity(ttwa)
    y = np.log(ttwa.geometry.area)
    with pytest.raises(InputError, match="chunk_size only applies"):
        gc.local_moran(y, graph, chunk_size=100)
    with pytest.raises(InputError, match="chunk_size only applies"):
        gc.contiguity(ttwa, chunk_size=100)
    with pytest.raises(InputError, match="at least 1"):
        gc.local_g(y, graph, client=dask_client, chunk_size=0)
    with pytest.raises(InputError, match=r"must be a dask\.distributed\.Client"):
        gc.contiguity(ttwa, client="tcp://127.0.0.1:8786")
    with pytest.raises(InputError, match="describe a local cluster"):
        client("tcp://127.0.0.1:8786", n_workers=4)


def test_unreachable_scheduler_is_named():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(InputError, match=f"127.0.0.1:{port}"):
        client(f"tcp://127.0.0.1:{port}", timeout=1)


def test_missing_dask_says_how_to_install_it(monkeypatch):
    # a None entry in sys.modules makes `import distributed` fail as if it were not installed
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match=r'pip install "geoclusters\[dask\]"'):
        client()


# ---------------------------------------------------------------------------
# global statistics


@pytest.mark.parametrize("name", ["moran", "geary"])
def test_global_statistics_on_dask_equal_local(dask_client, ttwa, name):
    graph = gc.contiguity(ttwa)
    y = np.log(ttwa.geometry.area)
    func = getattr(gc, name)
    local = func(y, graph, permutations=99, seed=3)
    for chunk_size in (None, 8, 50):
        on_dask = func(y, graph, permutations=99, seed=3, client=dask_client, chunk_size=chunk_size)
        assert on_dask == local  # every field, p-value included (provenance aside)
        assert on_dask.params["engine"] == "dask"
    if name == "moran":  # esda's Geary refuses graphs with islands; Columbus checks it
        reference = esda.Moran(y.to_numpy(), graph, permutations=0)
        assert local.statistic == pytest.approx(reference.I, abs=1e-10)
