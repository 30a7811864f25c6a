"""Conurbations: neighbouring clusters that share a specialisation, merged.

A naive union of every touching cluster area makes one giant blob wherever a
large area touches many clusters (London touches almost every cluster around
it). Merging is therefore sector-aware: two cluster areas are *linked* when
they are neighbours in the graph and share a specialisation — the same sector
group selected for them, in concentration or in growth. A conurbation is a
connected component of the links with at least ``min_members`` areas; a
single-area cluster stays a cluster.

Options:

- ``match="group"`` compares group names across measures (businesses
  *content* links with employment *content*); ``"measure_group"`` requires the
  same measure too;
- ``sectors`` restricts linking to named groups;
- ``hubs`` keeps named areas out of every merge (they stay clusters), and
  ``hub_min_links`` treats any cluster area linked to at least that many other
  cluster areas as a hub;
- the graph is any :class:`libpysal.graph.Graph` over the area codes:
  contiguity, fuzzy contiguity (a tolerance for generalised boundaries) or
  commuting links, see :mod:`geoclusters.graph`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .counts import TOTAL, sum_counts, validate_counts
from .errors import InputError, check_choice
from .measures import area_profile, prepare
from .provenance import ATTRS_KEY, Provenance, attach

SEPARATOR = " – "


def merge_conurbations(
    clusters: pd.DataFrame,
    graph,
    areas: gpd.GeoDataFrame,
    counts: pd.DataFrame | None = None,
    *,
    match: Literal["group", "measure_group"] = "group",
    sectors: Sequence[str] | None = None,
    hubs: Iterable[str] | None = None,
    hub_min_links: int | None = None,
    min_members: int = 2,
    periods: Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Merge neighbouring clusters that share a specialisation into conurbations.

    Parameters
    ----------
    clusters : pandas.DataFrame
        Selections from a detector (columns ``area, criterion, measure,
        group``).
    graph : libpysal.graph.Graph
        Neighbours over the area codes (contiguity, fuzzy contiguity,
        commuting, ...).
    areas : geopandas.GeoDataFrame
        Areas indexed by code with ``name`` and geometry; the conurbation
        polygon is the union of its members'.
    counts : pandas.DataFrame, optional
        Tidy counts with totals, to sum the members' counts and recompute LQ
        and growth for each conurbation; either already in the two periods
        (the first output of :func:`geoclusters.measures.prepare`) or raw, in
        which case the groups and periods recorded in the clusters'
        provenance are applied.
    match : {"group", "measure_group"}, default "group"
        What counts as the same specialisation.
    sectors : sequence of str, optional
        Only these groups (or ``"measure:group"`` labels with
        ``match="measure_group"``) link areas.
    hubs : iterable of str, optional
        Area codes kept out of every merge.
    hub_min_links : int, optional
        Also treat as a hub any cluster area with at least this many links.
    min_members : int, default 2
        Smallest conurbation.
    periods : pair of str, optional
        First and second period of ``counts``; read from the clusters'
        provenance by default.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per conurbation, indexed ``C1``, ``C2``, … by size: ``name``
        (members' names, largest first, joined by " – "), ``members`` (codes
        joined by ";", largest first), ``n_members``, ``sectors`` (the
        specialisations shared along its links, most shared first),
        ``core_sectors`` (shared by every member), ``rule``, with counts
        the measures of :func:`geoclusters.measures.area_profile` recomputed
        for the merged area, and the dissolved geometry. ``attrs`` holds the
        provenance, the ``links`` used and the ``hubs`` excluded.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from geoclusters.graph import contiguity
    >>> from geoclusters.detect import selections_from_mapping
    >>> areas = gpd.GeoDataFrame({"name": ["W", "M", "E"]}, index=["a", "b", "c"],
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)], crs=27700)
    >>> clusters = selections_from_mapping({"a": [("concentration", "jobs", "film")],
    ...     "b": [("growth", "jobs", "film")], "c": [("growth", "jobs", "music")]})
    >>> merged = merge_conurbations(clusters, contiguity(areas), areas)
    >>> merged[["members", "sectors"]].values.tolist()
    [['a;b', 'film']]
    """
    check_choice("match", match, ("group", "measure_group"))
    ids = pd.Index(graph.unique_ids).astype(str)
    cluster_codes = pd.Index(clusters["area"].astype(str).unique())
    outside = cluster_codes.difference(ids)
    if len(outside):
        raise InputError(
            "clusters name areas that are not in the graph",
            rows=outside,
            fix="build the graph from the same areas as the clusters",
        )
    missing_geometry = cluster_codes.difference(areas.index.astype(str))
    if len(missing_geometry):
        raise InputError("clusters name areas that are not in the areas", rows=missing_geometry)

    labels = _labels(clusters, match, sectors)
    links = _links(graph, labels)
    hub_set = set(map(str, hubs or ()))
    if hub_min_links is not None:
        degree = Counter(links["area"]) + Counter(links["neighbour"])
        hub_set |= {code for code, d in degree.items() if d >= hub_min_links}
    links = links[~links["area"].isin(hub_set) & ~links["neighbour"].isin(hub_set)]

    size = _sizes(areas, counts, clusters, periods)
    groups = _components(links, min_members)
    groups.sort(key=lambda members: (-sum(size.get(m, 0.0) for m in members), sorted(members)))
    rule = _rule(match, sectors, hub_set, hub_min_links)
    rows = []
    for number, members in enumerate(groups, start=1):
        ordered = sorted(members, key=lambda m: (-size.get(m, 0.0), m))
        own = links[links["area"].isin(members)]
        shared = Counter(label for labels_ in own["shared"] for label in labels_.split(";"))
        core = set.intersection(*(labels[m] for m in ordered))
        rows.append(
            {
                "conurbation": f"C{number}",
                "name": SEPARATOR.join(areas.loc[ordered, "name"].astype(str)),
                "members": ";".join(ordered),
                "n_members": len(ordered),
                "sectors": "; ".join(label for label, _ in shared.most_common()),
                "core_sectors": "; ".join(sorted(core)),
                "rule": rule,
                "geometry": shapely.union_all(areas.loc[ordered].geometry.to_numpy()),
            }
        )
    columns = ["conurbation", "name", "members", "n_members", "sectors", "core_sectors", "rule"]
    table = pd.DataFrame(rows, columns=[*columns, "geometry"]).set_index("conurbation")
    result = gpd.GeoDataFrame(table, geometry="geometry", crs=areas.crs)
    if counts is not None and len(result):
        metrics = _merged_metrics(result, counts, clusters, periods)
        result = result.join(metrics)
        result = result[[c for c in result.columns if c != "geometry"] + ["geometry"]]
    parameters = {
        "match": match,
        "sectors": sectors,
        "hubs": sorted(hub_set),
        "hub_min_links": hub_min_links,
        "min_members": min_members,
        "periods": periods,
    }
    attach(result, Provenance.record("merge_conurbations", parameters, clusters=clusters))
    result.attrs["links"] = links.to_dict("records")
    result.attrs["hubs"] = sorted(hub_set)
    return result


def membership(conurbations: gpd.GeoDataFrame, areas) -> pd.DataFrame:
    """The conurbation of every area (empty strings for areas in none).

    Parameters
    ----------
    conurbations : geopandas.GeoDataFrame
        The output of :func:`merge_conurbations`.
    areas : geopandas.GeoDataFrame or pandas.Index
        All areas.

    Returns
    -------
    pandas.DataFrame
        Indexed by area: ``conurbation`` (name) and ``conurbation_id``.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> table = gpd.GeoDataFrame({"name": ["X – Y"], "members": ["x;y"]},
    ...                          index=pd.Index(["C1"], name="conurbation"), geometry=[None])
    >>> membership(table, pd.Index(["x", "y", "z"]))["conurbation_id"].tolist()
    ['C1', 'C1', '']
    """
    index = pd.Index(areas.index if hasattr(areas, "geometry") else areas).astype(str)
    out = pd.DataFrame({"conurbation": "", "conurbation_id": ""}, index=index)
    for conurbation_id, row in conurbations.iterrows():
        members = row["members"].split(";")
        out.loc[members, "conurbation"] = row["name"]
        out.loc[members, "conurbation_id"] = conurbation_id
    out.index.name = "area"
    return out


def _labels(clusters, match, sectors) -> dict[str, set[str]]:
    if match == "group":
        label = clusters["group"].astype(str)
    else:
        label = clusters["measure"].astype(str) + ":" + clusters["group"].astype(str)
    frame = pd.DataFrame({"area": clusters["area"].astype(str), "label": label})
    if sectors is not None:
        frame = frame[frame["label"].isin([str(s) for s in sectors])]
    labels = {code: set() for code in clusters["area"].astype(str)}
    for code, rows in frame.groupby("area"):
        labels[code] = set(rows["label"])
    return labels


def _links(graph, labels) -> pd.DataFrame:
    adjacency = graph.adjacency.reset_index()
    focal, neighbour = adjacency.columns[:2]
    pairs = adjacency[adjacency[focal] != adjacency[neighbour]]
    pairs = pairs[pairs[focal].astype(str).isin(labels) & pairs[neighbour].astype(str).isin(labels)]
    records = []
    seen = set()
    for a, b in zip(pairs[focal].astype(str), pairs[neighbour].astype(str), strict=True):
        key = (a, b) if a < b else (b, a)
        if key in seen:
            continue
        seen.add(key)
        shared = labels[a] & labels[b]
        if shared:
            records.append(
                {"area": key[0], "neighbour": key[1], "shared": ";".join(sorted(shared))}
            )
    return pd.DataFrame(records, columns=["area", "neighbour", "shared"])


def _components(links: pd.DataFrame, min_members: int) -> list[list[str]]:
    if links.empty:
        return []
    codes = pd.Index(sorted(set(links["area"]) | set(links["neighbour"])))
    rows = codes.get_indexer(links["area"])
    cols = codes.get_indexer(links["neighbour"])
    matrix = sparse.coo_array((np.ones(len(rows)), (rows, cols)), shape=(len(codes),) * 2)
    _, label = connected_components(matrix, directed=False)
    groups = pd.Series(codes, index=label).groupby(level=0).agg(list)
    return [sorted(g) for g in groups if len(g) >= min_members]


def _periods(clusters, periods) -> tuple[str, str] | None:
    if periods is not None:
        start, end = (str(p) for p in periods)
        return start, end
    parameters = clusters.attrs.get(ATTRS_KEY, {}).get("parameters", {})
    if "start" in parameters and "end" in parameters:
        return str(parameters["start"]), str(parameters["end"])
    return None


def _prepared(counts, clusters, periods) -> tuple[pd.DataFrame, str, str]:
    span = _periods(clusters, periods)
    if span is None:
        raise InputError(
            "cannot tell which two periods of the counts to use",
            fix="pass periods=(first, second), or clusters carrying their provenance",
        )
    start, end = span
    counts = validate_counts(counts)
    if {start, end} <= set(counts["period"]):
        return counts, start, end
    parameters = clusters.attrs.get(ATTRS_KEY, {}).get("parameters", {})
    table, start, end = prepare(
        counts, parameters.get("groups", "nesta2016"), parameters.get("periods")
    )
    return table, start, end


def _sizes(areas, counts, clusters, periods) -> dict[str, float]:
    """Second-period total of the cluster groups, to order members largest first."""
    if counts is None:
        return {code: float(shapely.area(g)) for code, g in areas.geometry.items()}
    table, _, end = _prepared(counts, clusters, periods)
    rows = table[(table["period"] == end) & (table["sector"] != TOTAL)]
    return rows.groupby("area")["value"].sum().to_dict()


def _merged_metrics(conurbations, counts, clusters, periods) -> pd.DataFrame:
    table, start, end = _prepared(counts, clusters, periods)
    relabel = {}
    for conurbation_id, members in conurbations["members"].items():
        relabel.update(dict.fromkeys(members.split(";"), conurbation_id))
    merged = table.assign(area=table["area"].map(relabel).fillna(table["area"]))
    summed = sum_counts(merged, ["area", "sector", "period", "measure"])
    profile = area_profile(summed, start, end)
    return profile.loc[conurbations.index]


def _rule(match, sectors, hubs, hub_min_links) -> str:
    what = "the same sector group" if match == "group" else "the same measure and sector group"
    parts = [f"neighbours in the graph that share {what} (concentration or growth)"]
    if sectors is not None:
        parts.append("only " + ", ".join(map(str, sectors)))
    if hubs:
        parts.append("hubs kept out: " + ", ".join(sorted(hubs)))
    if hub_min_links is not None:
        parts.append(f"hub = linked to at least {hub_min_links} clusters")
    return "; ".join(parts)
