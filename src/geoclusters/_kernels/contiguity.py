"""Contiguity pairs of polygons: shared vertices and edges by hashing, GEOS for the rest.

Every function takes an array of shapely geometries and returns the
neighbouring pairs ``(i, j)``, ``i < j``, as two int64 arrays. The rules are
those documented in :func:`geoclusters.contiguity`: queen pairs are exactly the
pairs that ``intersects``, rook pairs those that also share a boundary of
positive length or overlap.

Time is linear in the number of vertices: coordinates are hashed and sorted
once, and runs of equal hashes are walked by a compiled loop that compares
the coordinates themselves, so a hash collision never makes a pair. GEOS
decides only what hashing cannot: bounding-box candidates that share no
vertex (a vertex on another area's edge, an overlap) and, for rook, pairs
that share vertices but no whole edge.
"""

from __future__ import annotations

import numba
import numpy as np
import shapely

_MIX_X = np.uint64(0x9E3779B97F4A7C15)
_MIX_Y = np.uint64(0xC2B2AE3D27D4EB4F)
_MIX_Z = np.uint64(0x165667B19E3779F9)


def _bits(values: np.ndarray) -> np.ndarray:
    # + 0.0 turns -0.0 into 0.0, the same point with other bits
    return np.ascontiguousarray(values + 0.0).view(np.uint64)


def _hash(*columns: np.ndarray) -> np.ndarray:
    key = np.zeros(len(columns[0]), dtype=np.uint64)
    for column, mix in zip(columns, (_MIX_X, _MIX_Y, _MIX_Z, _MIX_X ^ _MIX_Z), strict=False):
        key = (key ^ _bits(column)) * mix
        key ^= key >> np.uint64(29)
    return key


@numba.njit(cache=True, nogil=True)
def _vertices(key, coords, owner):
    """Walk coordinates sorted by hash: vertex ids, and pairs of owners sharing a vertex.

    Within a run of equal hashes the coordinates themselves are compared, so a
    collision never joins two points. Returns ``(vid, left, right)`` with
    ``vid[k]`` the id of coordinate ``k``'s point and ``left < right`` owners of
    one point (with repeats).
    """
    m = len(key)
    vid = np.empty(m, dtype=np.int64)
    next_id = 0
    start = 0
    total = 0
    while start < m:
        end = start + 1
        while end < m and key[end] == key[start]:
            end += 1
        for s in range(start, end):
            vid[s] = -1
            for t in range(start, s):
                if coords[s, 0] == coords[t, 0] and coords[s, 1] == coords[t, 1]:
                    vid[s] = vid[t]
                    break
            if vid[s] < 0:
                vid[s] = next_id
                next_id += 1
        for s in range(start, end):
            for t in range(s + 1, end):
                if owner[s] != owner[t] and vid[s] == vid[t]:
                    total += 1
        start = end
    left = np.empty(total, dtype=np.int64)
    right = np.empty(total, dtype=np.int64)
    count = 0
    start = 0
    while start < m:
        end = start + 1
        while end < m and key[end] == key[start]:
            end += 1
        for s in range(start, end):
            for t in range(s + 1, end):
                if owner[s] != owner[t] and vid[s] == vid[t]:
                    left[count] = min(owner[s], owner[t])
                    right[count] = max(owner[s], owner[t])
                    count += 1
        start = end
    return vid, left, right


@numba.njit(cache=True, nogil=True)
def _ring_ends(owner, vid):
    """Index of the closing coordinate of each ring, and each ring's owner.

    A polygon's coordinates come ring after ring, each ring closed (its last
    point repeats its first), so a ring ends at the first return to its start
    after at least three edges.
    """
    m = len(owner)
    ends = np.empty(m, dtype=np.int64)
    count = 0
    start = 0
    k = 1
    while k < m:
        if owner[k] != owner[start]:
            # an unclosed ring (not produced by shapely): end it where its owner ends
            ends[count] = k - 1
            count += 1
            start = k
        elif k - start >= 3 and vid[k] == vid[start]:
            ends[count] = k
            count += 1
            start = k + 1
            k += 1
        k += 1
    if start < m:
        ends[count] = m - 1
        count += 1
    return ends[:count]


@numba.njit(cache=True, nogil=True)
def _edges(coords, owner, vid, ends, first_ring):
    """Edges as (smaller vertex id, larger vertex id, owner, interior on the left).

    The side of the owner's interior comes from the ring's orientation (signed
    area): on the left of a counter-clockwise outer ring and of a clockwise
    hole. ``first_ring[k]`` says whether ring ``k`` is its polygon's outer ring.
    Degenerate edges (a point repeated) are skipped.
    """
    m = len(owner)
    lo = np.empty(m, dtype=np.int64)
    hi = np.empty(m, dtype=np.int64)
    who = np.empty(m, dtype=np.int64)
    left = np.empty(m, dtype=np.bool_)
    count = 0
    start = 0
    for r in range(len(ends)):
        end = ends[r]
        area = 0.0
        for k in range(start, end):
            area += coords[k, 0] * coords[k + 1, 1] - coords[k + 1, 0] * coords[k, 1]
        ccw = area > 0
        interior_left = ccw if first_ring[r] else not ccw
        for k in range(start, end):
            a, b = vid[k], vid[k + 1]
            if a != b:
                lo[count] = min(a, b)
                hi[count] = max(a, b)
                who[count] = owner[k]
                # walking from lo to hi, is the interior on the left?
                left[count] = interior_left if a < b else not interior_left
                count += 1
        start = end + 1
    return lo[:count], hi[:count], who[:count], left[:count]


@numba.njit(cache=True, nogil=True)
def _edge_runs(order, key, who, side):
    """Pairs of owners of one edge, and which edges (by position) are not cleanly shared.

    An edge is cleanly shared when exactly two areas have it, one on each side.
    Any other edge (on the map's edge, or had by areas that overlap or
    coincide) marks its owners for the geometric check.
    """
    m = len(order)
    total = 0
    left = np.empty(0, dtype=np.int64)
    right = np.empty(0, dtype=np.int64)
    lonely = np.zeros(m, dtype=np.bool_)
    for sweep in range(2):
        if sweep == 1:
            left = np.empty(total, dtype=np.int64)
            right = np.empty(total, dtype=np.int64)
        count = 0
        start = 0
        while start < m:
            end = start + 1
            while end < m and key[order[end]] == key[order[start]]:
                end += 1
            for s in range(start, end):
                for t in range(s + 1, end):
                    a, b = who[order[s]], who[order[t]]
                    if a != b:
                        if sweep == 1:
                            left[count] = min(a, b)
                            right[count] = max(a, b)
                        count += 1
            if sweep == 0:
                clean = end - start == 2 and (
                    who[order[start]] != who[order[start + 1]]
                    and side[order[start]] != side[order[start + 1]]
                )
                if not clean:
                    for s in range(start, end):
                        lonely[order[s]] = True
            start = end
        total = count
    return left, right, lonely


def _packed_order(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions sorting ``key`` by its high bits, and those bits, with one ``np.sort``.

    The positions are packed into the low bits of the hash, which costs a third
    of an ``argsort`` and a gather; equal truncated hashes still only make a
    run whose points the walk compares exactly.
    """
    bits = np.uint64(max(1, (len(key) - 1).bit_length()))
    packed = (key >> bits) << bits
    packed |= np.arange(len(key), dtype=np.uint64)
    packed.sort()
    return (packed & ((np.uint64(1) << bits) - np.uint64(1))).astype(np.int64), packed >> bits


def sorted_unique(keys: np.ndarray) -> np.ndarray:
    """``np.unique`` by sorting (numpy 2.4's hash-based unique is 10-100x slower here)."""
    keys = np.sort(keys)
    if len(keys) == 0:
        return keys
    return keys[np.r_[True, keys[1:] != keys[:-1]]]


class Boundaries:
    """The vertices and edges of a set of polygons, hashed once.

    Attributes
    ----------
    vertex_pairs : int64 array
        Sorted keys ``i * n + j`` (``i < j``) of the areas sharing a vertex.
    edge_pairs : int64 array
        Sorted keys of the areas sharing a whole edge.
    lonely : int64 array
        Areas with an edge that is not cleanly shared (exactly two areas, one
        on each side): on the edge of the map, or where boundaries meet other
        than vertex to vertex (T-junctions, gaps, overlaps, duplicates), and
        multi-part areas.
    """

    def __init__(self, values: np.ndarray):
        n = len(values)
        coords, owner = shapely.get_coordinates(values, return_index=True)
        owner = owner.astype(np.int64, copy=False)
        order, key = _packed_order(_hash(coords[:, 0], coords[:, 1]))
        # gathered once into hash order, the walk below reads memory in sequence
        # (np.take: fancy indexing of rows is several times slower at this size)
        vid_sorted, left, right = _vertices(
            key, np.take(coords, order, axis=0), np.take(owner, order)
        )
        vid = np.empty_like(vid_sorted)
        vid[order] = vid_sorted
        self.vertex_pairs = sorted_unique(left * n + right)
        ends = _ring_ends(owner, vid)
        ring_owner = owner[ends]
        first_ring = np.r_[True, ring_owner[1:] != ring_owner[:-1]]
        lo, hi, who, side = _edges(coords, owner, vid, ends, first_ring)
        edge_key = lo * (int(vid.max()) + 1 if len(vid) else 1) + hi
        order = np.argsort(edge_key)
        # gathered into key order, the walk reads memory in sequence
        left, right, lonely_sorted = _edge_runs(
            np.arange(len(order)), np.take(edge_key, order), np.take(who, order), side[order]
        )
        lonely = np.zeros(len(order), dtype=bool)
        lonely[order] = lonely_sorted
        self.edge_pairs = sorted_unique(left * n + right)
        # a multi-part area's later parts cannot be told from holes in the coordinate
        # stream, so the side of their edges is unknown: check those areas geometrically
        multi = np.flatnonzero(shapely.get_type_id(values) == 6)
        self.lonely = sorted_unique(np.concatenate([who[lonely], multi]))


def _member(keys: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """``np.isin(keys, sorted_keys)`` for sorted, unique ``sorted_keys``, by binary search."""
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), dtype=bool)
    at = np.searchsorted(sorted_keys, keys)
    at[at == len(sorted_keys)] = 0
    return sorted_keys[at] == keys


def touching_pairs(values: np.ndarray, boundaries: Boundaries | None = None) -> np.ndarray:
    """Sorted keys ``i * n + j`` (``i < j``) of the geometries that intersect.

    Areas sharing a vertex intersect. Two areas that intersect without sharing
    a vertex meet where an edge of one is not cleanly shared with another area
    on its other side (a vertex on another's edge, crossing edges, one area
    inside or on top of another), so only the areas with such an edge are
    looked up in an STR-tree, and GEOS ``intersects`` decides their
    bounding-box candidates. The result is exactly ``intersects``.
    """
    n = len(values)
    boundaries = boundaries or Boundaries(values)
    known = boundaries.vertex_pairs
    suspects = boundaries.lonely
    if len(suspects) == 0:
        return known
    found, other = shapely.STRtree(values).query(values[suspects])
    a, b = suspects[found], other.astype(np.int64)
    keys = sorted_unique(np.minimum(a, b) * n + np.maximum(a, b))
    keys = keys[(keys // n != keys % n) & ~_member(keys, known)]
    if len(keys):
        first, second = values[keys // n], values[keys % n]
        shapely.prepare(first)
        keys = keys[shapely.intersects(first, second)]
    # a few keys, none of them known: inserted in place rather than sorted in again
    return np.insert(known, np.searchsorted(known, keys), keys)


def rook_pairs(a: np.ndarray, b: np.ndarray, tolerance: float) -> np.ndarray:
    """Which candidate pairs share a boundary of positive length (or overlap)."""
    if tolerance == 0:
        matrix = shapely.relate(a, b)
        # DE-9IM: position 0 is interior/interior, 4 is boundary/boundary
        interior = np.array([m[0] == "2" for m in matrix], dtype=bool)
        boundary = np.array([m[4] == "1" for m in matrix], dtype=bool)
        return interior | boundary
    near_a = shapely.length(shapely.intersection(shapely.boundary(b), shapely.buffer(a, tolerance)))
    near_b = shapely.length(shapely.intersection(shapely.boundary(a), shapely.buffer(b, tolerance)))
    return np.maximum(near_a, near_b) > 2 * tolerance


def _strict_rook(values: np.ndarray, keys: np.ndarray, boundaries: Boundaries) -> np.ndarray:
    """Which touching pairs are rook: a shared whole edge, else GEOS ``relate``."""
    n = len(values)
    left, right = keys // n, keys % n
    keep = _member(keys, boundaries.edge_pairs)
    ask = np.flatnonzero(~keep)
    a, b = left[ask], right[ask]
    # bounding boxes meeting in a single point: the areas can only meet in that point
    bounds = shapely.bounds(values)
    bounds_a, bounds_b = np.take(bounds, a, axis=0), np.take(bounds, b, axis=0)
    lo = np.maximum(bounds_a[:, :2], bounds_b[:, :2])
    hi = np.minimum(bounds_a[:, 2:], bounds_b[:, 2:])
    ask = ask[~(lo == hi).all(axis=1)]
    keep[ask] = rook_pairs(values[left[ask]], values[right[ask]], 0.0)
    return keep


def neighbour_pairs(
    values: np.ndarray, rook: bool, tolerance: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i < j) of neighbouring geometries, by the rule of ``geoclusters.contiguity``."""
    n = len(values)
    if tolerance > 0:
        left, right = shapely.STRtree(values).query(values, predicate="dwithin", distance=tolerance)
        once = left < right
        left, right = left[once].astype(np.int64), right[once].astype(np.int64)
        if rook:
            keep = rook_pairs(values[left], values[right], tolerance)
            left, right = left[keep], right[keep]
        return left, right
    boundaries = Boundaries(values)
    keys = touching_pairs(values, boundaries)
    if rook:
        keys = keys[_strict_rook(values, keys, boundaries)]
    return keys // n, keys % n


def chunk_pairs(
    rook: bool, tolerance: float, own: np.ndarray, near: np.ndarray, geometries
) -> tuple:
    """Neighbouring pairs ``(i, j)``, ``i < j``, with ``i`` in ``own``; global positions.

    ``near`` (sorted) holds ``own`` and its halo, ``geometries`` theirs, as
    shapely geometries or as WKB (what travels to a Dask worker). Each pair is
    kept only in the chunk that holds its first area, so chunks together find
    every pair once.
    """
    values = np.asarray(geometries, dtype=object)
    if len(values) and isinstance(values[0], bytes):
        values = shapely.from_wkb(values)
    left, right = neighbour_pairs(values, rook, tolerance)
    # near is sorted, so local order is global order: left < right in both
    mine = _member(near, own)[left]
    return near[left[mine]], near[right[mine]]
