"""Spatial graphs between areas: contiguity, nearest neighbours, distance bands, commuting.

Every builder returns a :class:`libpysal.graph.Graph` whose ids are the area codes
(the GeoDataFrame index) in the areas' order, so the graph plugs straight into
esda, libpysal and :mod:`geoclusters.stats`. Nothing is attached to the graph:
what a builder did (islands found, links added by an island policy) is
described by a :class:`GraphReport`, from :func:`graph_report` for any graph or
from ``contiguity(..., return_report=True)`` when the links added by the
``"nearest"`` island policy should be listed too (a graph alone cannot tell an
added link from a border).

Definitions used throughout:

* **queen** contiguity: two areas share at least one point (``intersects``);
* **rook** contiguity: they share a stretch of boundary of positive length (or
  overlap), so a single common corner is not enough;
* **fuzzy** contiguity (``tolerance > 0``, in CRS units): areas closer than the
  tolerance count as touching, for generalised boundaries with slivers and gaps.
  With ``rook=True`` the boundary of one area must run within the tolerance of
  the other for more than ``2 * tolerance``, which a corner contact cannot do
  along straight edges;
* **islands**: areas with no neighbour. They are kept and reported
  (``islands="keep"``), or linked, in both directions, to their nearest area(s)
  by polygon distance (``islands="nearest"``; ties are all kept).

Distances (tolerance, island links, k-nearest, distance bands) need a projected
CRS; a geographic one is refused rather than measured in degrees.
"""

from __future__ import annotations

import html
import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from libpysal.graph import Graph
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ._engine import chunk_size as _resolve_chunk_size
from ._engine import map_chunks
from ._flows import flow_values
from ._kernels import adjacency
from ._kernels import contiguity as kernels
from .errors import InputError
from .provenance import Provenance

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "GraphReport",
    "commuting",
    "components",
    "contiguity",
    "distance_band",
    "graph_report",
    "knn",
]

_ISLAND_POLICIES = ("keep", "nearest")


@dataclass(frozen=True)
class GraphReport:
    """What a graph looks like: size, islands, connected components.

    Attributes
    ----------
    n : int
        Number of areas (nodes).
    n_edges : int
        Number of neighbouring pairs, each unordered pair counted once.
    islands : tuple of str
        Areas without any neighbour in the graph as it stands.
    components : tuple of tuple of str
        Connected components (weakly connected for asymmetric graphs), largest
        first, each listing its area codes in graph order.
    mean_neighbours : float
        Mean number of neighbours per area, islands counting zero.
    symmetric : bool
        Whether every link i -> j has its j -> i.
    policy : str or None
        The island policy applied by the builder, when known.
    linked : tuple of (str, tuple of str)
        Islands the policy linked, each with the areas it was linked to.
    self_loops : tuple of str
        Areas linked to themselves in the graph (the statistics name them in
        their notes: G* uses the weight, the others ignore it).
    params : mapping
        The builder's parameters, when known.
    provenance : Provenance or None
        Step and parameters of the builder or of :func:`graph_report`.
    """

    n: int
    n_edges: int
    islands: tuple[str, ...]
    components: tuple[tuple[str, ...], ...]
    mean_neighbours: float
    symmetric: bool
    policy: str | None = None
    linked: tuple[tuple[str, tuple[str, ...]], ...] = ()
    self_loops: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict, compare=False)
    provenance: Provenance | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        return (
            f"GraphReport({self.n} areas, {self.n_edges} pairs, "
            f"{self.mean_neighbours:.2f} neighbours on average, {len(self.islands)} island(s), "
            f"{len(self.components)} component(s)"
            + (f", {len(self.linked)} island(s) linked" if self.linked else "")
            + (f", {len(self.self_loops)} self-loop(s)" if self.self_loops else "")
            + ")"
        )

    def _repr_html_(self) -> str:
        rows = {
            "areas": self.n,
            "neighbouring pairs": self.n_edges,
            "mean neighbours": f"{self.mean_neighbours:.2f}",
            "symmetric": self.symmetric,
            "islands": len(self.islands),
            "components": len(self.components),
            "largest component": len(self.components[0]) if self.components else 0,
            "island policy": self.policy,
            "islands linked": len(self.linked),
            "self-loops": len(self.self_loops),
        }
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td>{html.escape(str(v))}</td></tr>"
            for k, v in rows.items()
        )
        return f"<table><caption>graph report</caption>{cells}</table>"

    def __str__(self) -> str:
        lines = [
            f"{self.n} areas, {self.n_edges} neighbouring pairs, "
            f"{self.mean_neighbours:.2f} neighbours on average, "
            f"{'symmetric' if self.symmetric else 'asymmetric'}",
            f"{len(self.components)} connected component(s), sizes "
            + ", ".join(str(len(c)) for c in self.components[:10])
            + (" ..." if len(self.components) > 10 else ""),
        ]
        if self.islands:
            shown = ", ".join(self.islands[:20]) + (" ..." if len(self.islands) > 20 else "")
            lines.append(f"{len(self.islands)} area(s) without neighbours: {shown}")
        else:
            lines.append("no area without neighbours")
        if self.policy is not None:
            lines.append(f"island policy: {self.policy!r}")
        for island, targets in self.linked[:20]:
            lines.append(f"  linked {island} -> {', '.join(targets)}")
        if len(self.linked) > 20:
            lines.append(f"  ... and {len(self.linked) - 20} more")
        if self.self_loops:
            lines.append(f"{len(self.self_loops)} area(s) linked to themselves")
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# helpers


def _geoseries(areas, what: str) -> gpd.GeoSeries:
    """The geometry of ``areas`` as a GeoSeries indexed by code, checked."""
    if isinstance(areas, gpd.GeoDataFrame):
        geoms = areas.geometry
    elif isinstance(areas, gpd.GeoSeries):
        geoms = areas
    else:
        raise InputError(
            f"{what} needs a GeoDataFrame or GeoSeries indexed by area code, "
            f"got {type(areas).__name__}",
            fix="read the boundaries with geoclusters.read_areas",
        )
    index = geoms.index
    if index.has_duplicates:
        raise InputError(
            "area codes (the index) must be unique",
            rows=sorted(set(index[index.duplicated()].tolist())),
            fix="dissolve or rename the duplicated areas",
        )
    if index.hasnans:
        raise InputError("some areas have no code (NaN in the index)", fix="give every area a code")
    bad = geoms.isna() | geoms.is_empty
    if bad.any():
        raise InputError(
            "some areas have no geometry",
            rows=index[bad.to_numpy()].tolist(),
            fix="drop them explicitly or supply their boundaries",
        )
    return geoms


def _require_projected(geoms: gpd.GeoSeries, what: str) -> None:
    if geoms.crs is not None and geoms.crs.is_geographic:
        raise InputError(
            f"{what} measures distances, but the areas are in a geographic CRS "
            f"({geoms.crs.to_string()}), where units are degrees",
            fix="project first, e.g. areas.to_crs('EPSG:27700') for Great Britain",
        )


def _from_pairs(ids: pd.Index, rows, cols, weights=None) -> Graph:
    """A Graph on ``ids`` (in that order) from index pairs; absent ids become isolates.

    The adjacency is written directly in libpysal's canonical order (focal, then
    neighbour, both in id order; isolates as a zero-weight self-loop), which
    spares libpysal's re-sorting of large graphs.
    """
    focal, neighbor, weight = adjacency.canonical(len(ids), rows, cols, weights)
    labels = pd.Index(np.asarray(ids))
    index = pd.MultiIndex(
        levels=[labels, labels],
        codes=[focal, neighbor],
        names=["focal", "neighbor"],
        verify_integrity=False,
    )
    return Graph(pd.Series(weight, index=index, name="weight"), is_sorted=True)


def _symmetric_pairs(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both directions of the unordered pairs (left[k], right[k])."""
    return np.concatenate([left, right]), np.concatenate([right, left])


def _binary_sparse(graph: Graph) -> sparse.csr_array:
    return _binary(graph.sparse)


def _binary(matrix) -> sparse.csr_array:
    matrix = sparse.csr_array(matrix)
    matrix.eliminate_zeros()
    matrix.data[:] = 1.0
    return matrix


# ---------------------------------------------------------------------------
# builders


def contiguity(
    areas: gpd.GeoDataFrame | gpd.GeoSeries,
    rook: bool = False,
    tolerance: float = 0.0,
    islands: str = "keep",
    *,
    island_k: int = 1,
    return_report: bool = False,
    client: Client | None = None,
    chunk_size: int | None = None,
) -> Graph | tuple[Graph, GraphReport]:
    """Contiguity graph of polygons: queen or rook, strict or fuzzy.

    Strict queen pairs are the bounding-box candidates of an STR-tree that
    share a vertex (found by hashing coordinates) or, failing that, satisfy
    GEOS ``intersects``; fuzzy pairs are those within ``tolerance``
    (``dwithin``). Rook contiguity then keeps the pairs whose shared boundary
    has positive length. Multi-part areas are handled as one area. Weights are
    binary (1).

    Parameters
    ----------
    areas : geopandas.GeoDataFrame or geopandas.GeoSeries
        Polygons indexed by unique area code.
    rook : bool, default False
        Rook (shared edge) instead of queen (shared point) contiguity.
    tolerance : float, default 0.0
        Fuzzy contiguity: areas closer than this distance (CRS units) are
        neighbours. Needs a projected CRS.
    islands : {"keep", "nearest"}, default "keep"
        Policy for areas without neighbours: keep them isolated (they are
        reported), or link each to its ``island_k`` nearest area(s) by polygon
        distance, in both directions, keeping ties.
    island_k : int, default 1
        Number of nearest areas an island is linked to under ``"nearest"``.
    return_report : bool, default False
        Also return the :class:`GraphReport`, including which links the island
        policy added.
    client : dask.distributed.Client, optional
        Find the neighbouring pairs on this Dask cluster, in spatially compact
        chunks of areas (see :mod:`geoclusters.distributed`); the graph is
        identical to the local one.
    chunk_size : int, optional
        Areas per Dask task, with ``client`` only; by default about four tasks
        per worker thread.

    Returns
    -------
    libpysal.graph.Graph or (libpysal.graph.Graph, GraphReport)
        Symmetric binary graph with the area codes as ids, in the areas' order.

    Raises
    ------
    InputError
        For duplicate or missing codes, missing geometries, an unknown island
        policy, a negative tolerance, or distances asked of a geographic CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> squares = gpd.GeoSeries(
    ...     [box(0, 0, 1, 1), box(1, 0, 2, 1), box(1, 1, 2, 2), box(5, 5, 6, 6)],
    ...     index=["a", "b", "c", "d"], crs="EPSG:27700")
    >>> sorted(contiguity(squares)["a"].index)
    ['b', 'c']
    >>> sorted(contiguity(squares, rook=True)["a"].index)
    ['b']
    >>> g, report = contiguity(squares, islands="nearest", return_report=True)
    >>> report.linked
    (('d', ('c',)),)
    """
    geoms = _geoseries(areas, "contiguity")
    if islands not in _ISLAND_POLICIES:
        raise InputError(
            f"unknown island policy {islands!r}", fix=f"use one of {list(_ISLAND_POLICIES)}"
        )
    if not tolerance >= 0:
        raise InputError(f"tolerance must be zero or positive, got {tolerance!r}")
    if tolerance > 0 or islands == "nearest":
        _require_projected(geoms, "fuzzy contiguity and the 'nearest' island policy")
    if island_k < 1:
        raise InputError(f"island_k must be at least 1, got {island_k!r}")

    values = np.asarray(geoms.array, dtype=object)
    n = len(values)
    size = _resolve_chunk_size(client, n, chunk_size)
    if size is None:
        chunks = [(np.arange(n), np.arange(n), values)]
    else:
        chunks = _spatial_chunks(values, tolerance, size)
    parts = map_chunks(kernels.chunk_pairs, chunks, shared=(rook, float(tolerance)), client=client)
    left = np.concatenate([p[0] for p in parts]).astype(np.int64)
    right = np.concatenate([p[1] for p in parts]).astype(np.int64)

    linked: list[tuple[str, tuple[str, ...]]] = []
    if islands == "nearest":
        degree = np.bincount(np.concatenate([left, right]), minlength=n)
        lonely = np.flatnonzero(degree == 0)
        targets = _nearest_areas(values, lonely, island_k)
        extra_left = np.repeat(lonely, [len(t) for t in targets]).astype(np.int64)
        extra_right = np.asarray([j for t in targets for j in t], dtype=np.int64)
        codes = geoms.index
        linked = [
            (str(codes[i]), tuple(str(codes[j]) for j in t))
            for i, t in zip(lonely, targets, strict=True)
        ]
        left = np.concatenate([left, extra_left])
        right = np.concatenate([right, extra_right])

    graph = _from_pairs(geoms.index, *_symmetric_pairs(left, right))
    if not return_report:
        return graph
    params = {
        "rook": rook,
        "tolerance": tolerance,
        "islands": islands,
        "island_k": island_k,
        **({} if client is None else {"engine": "dask", "chunk_size": size}),
    }
    # the report is made from the pairs and ids at hand: reading them back from the Graph
    # costs seconds of string hashing at a million areas
    pairs = sparse.csr_array((np.ones(len(left)), (left, right)), shape=(len(geoms), len(geoms)))
    report = _report(
        graph,
        policy=islands,
        linked=tuple(linked),
        params=params,
        areas=geoms,
        matrix=_binary(pairs + pairs.T),
        ids=geoms.index,
    )
    return graph, report


def _spatial_chunks(values: np.ndarray, tolerance: float, size: int) -> list[tuple]:
    """Spatially compact chunks of areas for the Dask engine, each with its halo.

    The areas are ordered along a Hilbert curve and cut into runs of ``size``;
    a chunk travels with every area whose envelope comes within ``tolerance``
    of one of its own (found with one STR-tree query), as WKB, which keeps
    every coordinate exactly.
    """
    n = len(values)
    order = np.argsort(gpd.GeoSeries(values).hilbert_distance().to_numpy(), kind="stable")
    tree = shapely.STRtree(values)
    reach = np.array([-tolerance, -tolerance, tolerance, tolerance])
    bounds = shapely.bounds(values) + reach
    chunks = []
    for chunk in np.array_split(order, math.ceil(n / size)):
        own = np.sort(chunk)
        _, halo = tree.query(shapely.box(*bounds[own].T))
        near = kernels.sorted_unique(np.concatenate([own, halo.astype(own.dtype)]))
        chunks.append((own, near, shapely.to_wkb(values[near])))
    return chunks


def _nearest_areas(values: np.ndarray, islands: np.ndarray, k: int) -> list[list[int]]:
    """For each island, the ``k`` areas nearest by polygon distance, ties kept.

    An STR-tree gives each island's nearest distance; the areas within a
    growing radius are then measured exactly until ``k`` are found, so the
    work grows with the islands' surroundings, not with the whole map.
    """
    k = min(k, len(values) - 1)
    if k <= 0 or len(islands) == 0:
        return [[] for _ in islands]
    tree = shapely.STRtree(values)
    (found, _), nearest = tree.query_nearest(
        values[islands], return_distance=True, exclusive=True, all_matches=False
    )
    first = np.full(len(islands), np.inf)
    first[found] = nearest
    out = []
    for island, radius in zip(islands, first, strict=True):
        radius = max(float(radius), 1e-9)
        while True:
            near = tree.query(values[island], predicate="dwithin", distance=radius * (1 + 1e-9))
            near = near[near != island]
            if len(near) >= k or len(near) == len(values) - 1:
                break
            radius *= 2
        distance = shapely.distance(values[island], values[near])
        kth = np.partition(distance, k - 1)[k - 1]
        # floating noise in distances computed from different vertex orders
        chosen = distance <= kth * (1 + 1e-12)
        near, distance = near[chosen], distance[chosen]
        out.append(near[np.lexsort((near, distance))].tolist())
    return out


def _points(areas, what: str) -> tuple[pd.Index, np.ndarray]:
    geoms = _geoseries(areas, what)
    _require_projected(geoms, what)
    points = geoms.centroid if not (geoms.geom_type == "Point").all() else geoms
    return geoms.index, shapely.get_coordinates(np.asarray(points.array, dtype=object))


def knn(areas: gpd.GeoDataFrame | gpd.GeoSeries, k: int = 5) -> Graph:
    """k-nearest-neighbour graph between area centroids (or points).

    Parameters
    ----------
    areas : geopandas.GeoDataFrame or geopandas.GeoSeries
        Polygons (their centroids are used) or points, indexed by unique code,
        in a projected CRS.
    k : int, default 5
        Number of neighbours of each area; must be below the number of areas.

    Returns
    -------
    libpysal.graph.Graph
        Binary graph, generally asymmetric (i may be among j's nearest without
        the converse). Ties at the k-th distance are broken by the k-d tree.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoSeries([Point(0, 0), Point(1, 0), Point(3, 0), Point(10, 0)],
    ...                     index=list("abcd"), crs="EPSG:27700")
    >>> g = knn(pts, k=1)
    >>> [g[c].index[0] for c in "abcd"]
    ['b', 'a', 'b', 'c']
    """
    ids, xy = _points(areas, "knn")
    n = len(ids)
    if not 1 <= k < n:
        raise InputError(
            f"k must be between 1 and {n - 1} (the number of areas minus one), got {k}"
        )
    _, neighbours = cKDTree(xy).query(xy, k=k + 1)
    rows, cols = [], []
    for i in range(n):
        # the point itself is usually first, but not when duplicates share its position
        row = [j for j in neighbours[i] if j != i][:k]
        rows.extend([i] * len(row))
        cols.extend(row)
    return _from_pairs(ids, rows, cols)


def distance_band(
    areas: gpd.GeoDataFrame | gpd.GeoSeries,
    threshold: float,
    binary: bool = True,
    alpha: float = -1.0,
) -> Graph:
    """Graph linking areas whose centroids (or points) lie within ``threshold``.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame or geopandas.GeoSeries
        Polygons (their centroids are used) or points, indexed by unique code,
        in a projected CRS.
    threshold : float
        Maximum distance, in CRS units, inclusive.
    binary : bool, default True
        Weights 1; otherwise ``distance ** alpha`` (inverse distance by default).
    alpha : float, default -1.0
        Distance-decay exponent when ``binary`` is false.

    Returns
    -------
    libpysal.graph.Graph
        Symmetric graph; areas with nothing within the threshold are islands.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoSeries([Point(0, 0), Point(3, 4), Point(30, 0)],
    ...                     index=list("abc"), crs="EPSG:27700")
    >>> g = distance_band(pts, 5.0, binary=False)
    >>> float(g["a"]["b"]), list(g.isolates)
    (0.2, ['c'])
    """
    ids, xy = _points(areas, "distance_band")
    if not threshold > 0:
        raise InputError(f"threshold must be positive, got {threshold!r}")
    pairs = cKDTree(xy).query_pairs(threshold, output_type="ndarray")
    left, right = pairs[:, 0], pairs[:, 1]
    weights = None
    if not binary:
        distance = np.hypot(*(xy[left] - xy[right]).T)
        if alpha < 0 and (distance == 0).any():
            same = distance == 0
            raise InputError(
                "some areas share a position, so inverse-distance weights are infinite",
                rows=[f"{ids[a]}-{ids[b]}" for a, b in zip(left[same], right[same], strict=True)],
                fix="use binary=True or move the duplicated points apart",
            )
        weights = np.concatenate([distance, distance]) ** alpha
    return _from_pairs(ids, *_symmetric_pairs(left, right), weights)


def commuting(
    flows: pd.DataFrame,
    origin: str,
    destination: str,
    count: str,
    threshold: float = 0.05,
    areas: gpd.GeoDataFrame | Iterable[str] | None = None,
    *,
    return_excluded: bool = False,
) -> Graph | tuple[Graph, pd.DataFrame]:
    """Graph of areas tied by commuting: an edge where either flow share reaches ``threshold``.

    The share of ``b`` in ``a``'s commuting is the flow ``a -> b`` divided by
    all of ``a``'s flows to places of work among the areas, its own included
    (people living and working in ``a``). ``a`` and ``b`` are linked when the
    share of ``b`` in ``a``'s commuting, or of ``a`` in ``b``'s, is at least
    ``threshold``. Repeated origin-destination rows are summed.

    Rows that cannot be placed are excluded, never silently: destinations or
    origins that are not areas (``-8`` "does not apply", offshore and outside-UK
    codes, areas outside the study region). They are returned with a ``reason``
    column when ``return_excluded`` is true, and summarised in a
    :class:`UserWarning` otherwise. Self-flows make no edge but count in the
    denominator.

    Parameters
    ----------
    flows : pandas.DataFrame
        Origin-destination table, one row per flow.
    origin, destination, count : str
        Columns with the origin (residence) code, destination (workplace) code
        and the number of commuters.
    threshold : float, default 0.05
        Minimum share, in (0, 1].
    areas : GeoDataFrame or iterable of str, optional
        The areas (codes, or a GeoDataFrame indexed by code) and the order of
        the graph's ids. By default, every origin code, sorted: in a census
        table each origin is a place of residence.
    return_excluded : bool, default False
        Also return the excluded rows.

    Returns
    -------
    libpysal.graph.Graph or (libpysal.graph.Graph, pandas.DataFrame)
        Symmetric binary graph on the areas; with ``return_excluded``, also
        the excluded rows of ``flows`` with a ``reason`` column.

    Raises
    ------
    InputError
        For missing columns, missing or negative counts, or a threshold outside
        (0, 1].

    Examples
    --------
    >>> import pandas as pd
    >>> od = pd.DataFrame({"home": ["a", "a", "a", "b", "b", "c", "c"],
    ...                    "work": ["a", "b", "-8", "b", "a", "c", "a"],
    ...                    "n": [90, 10, 50, 100, 1, 99, 1]})
    >>> g, excluded = commuting(od, "home", "work", "n", threshold=0.05,
    ...                         return_excluded=True)
    >>> sorted(g["a"].index), list(g.isolates)
    (['b'], ['c'])
    >>> excluded["reason"].tolist()
    ['destination is not an area']
    """
    missing_columns = [c for c in (origin, destination, count) if c not in flows.columns]
    if missing_columns:
        raise InputError(
            "the flows table lacks columns",
            rows=missing_columns,
            fix=f"name the columns present: {list(flows.columns)}",
        )
    if not 0 < threshold <= 1:
        raise InputError(f"threshold is a share and must be in (0, 1], got {threshold!r}")
    values = flow_values(flows, count)
    orig = flows[origin].astype(str)
    dest = flows[destination].astype(str)
    if areas is None:
        ids = pd.Index(sorted(orig.unique()))
    elif isinstance(areas, gpd.GeoDataFrame | gpd.GeoSeries | pd.DataFrame | pd.Series):
        ids = pd.Index(areas.index.astype(str))
    else:
        ids = pd.Index([str(a) for a in areas])
    if ids.has_duplicates:
        raise InputError("area codes must be unique", rows=ids[ids.duplicated()].tolist())

    o_pos = ids.get_indexer(orig)
    d_pos = ids.get_indexer(dest)
    reason = np.where(
        o_pos < 0,
        "origin is not an area",
        np.where(d_pos < 0, "destination is not an area", ""),
    )
    excluded = flows.loc[reason != ""].assign(reason=reason[reason != ""])
    if len(excluded) and not return_excluded:
        summary = excluded.groupby("reason").size().to_dict()
        codes = sorted(set(orig[o_pos < 0]).union(dest[(o_pos >= 0) & (d_pos < 0)]), key=str)
        warnings.warn(
            f"commuting: excluded {len(excluded)} rows ({summary}); codes not among the "
            f"areas: {', '.join(codes[:12])}{' ...' if len(codes) > 12 else ''}. "
            "Pass return_excluded=True to get them.",
            UserWarning,
            stacklevel=2,
        )

    used = (o_pos >= 0) & (d_pos >= 0)
    n = len(ids)
    flow = sparse.csr_array(
        (values.to_numpy(dtype=float)[used], (o_pos[used], d_pos[used])), shape=(n, n)
    )
    flow.sum_duplicates()
    outgoing = np.asarray(flow.sum(axis=1)).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = sparse.csr_array(sparse.diags_array(np.where(outgoing > 0, 1 / outgoing, 0)) @ flow)
    share.setdiag(0)
    share.eliminate_zeros()
    strong = (share >= threshold).astype(float)
    strong = ((strong + strong.T) > 0).astype(float).tocoo()
    graph = _from_pairs(ids, strong.row, strong.col)
    if return_excluded:
        return graph, excluded
    return graph


# ---------------------------------------------------------------------------
# description


def components(graph: Graph) -> list[list[str]]:
    """Connected components of a graph, largest first.

    Asymmetric graphs (k-nearest neighbours) are taken as undirected: two
    areas are in one component when a path joins them ignoring direction.

    Parameters
    ----------
    graph : libpysal.graph.Graph

    Returns
    -------
    list of list of str
        Area codes of each component in graph order; components of equal size
        are ordered by their first area in the graph.

    Examples
    --------
    >>> import numpy as np
    >>> from libpysal.graph import Graph
    >>> g = Graph.from_arrays(np.array(["a", "b", "c"]), np.array(["b", "a", "c"]),
    ...                       np.array([1.0, 1.0, 0.0]))
    >>> components(g)
    [['a', 'b'], ['c']]
    """
    ids = graph.unique_ids
    count, labels = connected_components(_binary_sparse(graph), directed=True, connection="weak")
    return [[str(a) for a in ids[members]] for members in _component_members(count, labels)]


def _component_members(count: int, labels: np.ndarray) -> list[np.ndarray]:
    """Positions of each component's areas, largest first, then by first area; one pass."""
    n = len(labels)
    first = np.full(count, n)
    np.minimum.at(first, labels, np.arange(n))
    sizes = np.bincount(labels, minlength=count)
    ranked = np.lexsort((first, -sizes))
    rank = np.empty(count, dtype=np.int64)
    rank[ranked] = np.arange(count)
    # stable: areas keep graph order within their component
    order = np.argsort(rank[labels], kind="stable")
    return np.split(order, np.cumsum(sizes[ranked])[:-1])


def graph_report(graph: Graph) -> GraphReport:
    """Summarise a graph: size, islands, components and mean number of neighbours.

    The report describes the graph as it stands; to also list the links an
    island policy added, build with ``contiguity(..., return_report=True)``.

    Parameters
    ----------
    graph : libpysal.graph.Graph

    Returns
    -------
    GraphReport
        Frozen; ``str(report)`` reads as a short paragraph.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> squares = gpd.GeoSeries([box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 5, 6, 6)],
    ...                         index=["a", "b", "c"])
    >>> report = graph_report(contiguity(squares))
    >>> report.n_edges, report.islands, report.components
    (1, ('c',), (('a', 'b'), ('c',)))
    """
    return _report(graph)


def _report(
    graph: Graph,
    policy: str | None = None,
    linked=(),
    params=None,
    areas=None,
    matrix: sparse.csr_array | None = None,
    ids: pd.Index | None = None,
) -> GraphReport:
    """The report of ``graph``, whose weights (``matrix``) and ids may be given."""
    matrix = _binary_sparse(graph) if matrix is None else matrix
    loops = matrix.diagonal() != 0
    if loops.any():
        matrix.setdiag(0)
    matrix.eliminate_zeros()
    undirected = ((matrix + matrix.T) > 0).astype(float)
    degree = np.asarray(undirected.sum(axis=1)).ravel()
    ids = pd.Index(graph.unique_ids) if ids is None else ids
    params = dict(params or {})
    step = "contiguity" if areas is not None else "graph_report"
    inputs = {"areas": areas} if areas is not None else {}
    codes = ids.astype(str).to_numpy(dtype=object)
    count, labels = connected_components(undirected, directed=False)
    return GraphReport(
        n=len(ids),
        n_edges=int(undirected.nnz // 2),
        islands=tuple(codes[degree == 0]),
        components=tuple(tuple(codes[m]) for m in _component_members(count, labels)),
        mean_neighbours=float(np.asarray(matrix.sum(axis=1)).mean()) if len(ids) else 0.0,
        symmetric=bool((matrix != matrix.T).nnz == 0),
        policy=policy,
        linked=tuple(linked),
        self_loops=tuple(codes[loops]),
        params=params,
        provenance=Provenance.record(step, params, **inputs),
    )
