"""Conurbations: neighbouring clusters tied strongly enough, merged.

A naive union of every touching cluster area makes one giant blob wherever
clusters are dense: one link is enough, however weak, and a large area that
touches many clusters (London) chains them all. Merging is therefore done in
two steps (see the concepts page, "Conurbation linking"):

1. every pair of neighbouring cluster areas gets a *link* with a strength in
   [0, 1] from what really ties them: the sector groups they share, the
   commuting between them (any origin-destination table, ``flows=``) and how
   alike their sector profiles are; a link is *kept* when they share a group
   and its strength reaches ``min_strength``. The links table says why, in
   words, for every pair;
2. conurbations are built from the kept links by the *cohesion rule* (the
   default): bottom-up, strongest ties first, each member of the smaller group
   tied on average at least ``min_strength`` to the other, every member
   within ``max_diameter`` kept links of every other, at most ``max_members``.
   One weak link cannot join two blocs. *Hubs* — areas that alone tie
   together blocs not otherwise tied — are found from the links and kept out
   of every merge (``hubs="auto"``), or named by hand.

``method="louvain"`` uses community detection on the kept links instead, and
``method="components"`` is the 0.1 merge (connected components of the links
that share a group, whatever their strength), kept for comparison.
The graph is any :class:`libpysal.graph.Graph` over the area codes:
contiguity, fuzzy contiguity or commuting links, see :mod:`geoclusters.graph`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._linkage import (
    DEFAULT_MIN_STRENGTH,
    DEFAULT_WEIGHTS,
    METHODS,
    cohesive_conurbations,
    find_hubs,
    link_table,
    move_flows,
    read_census_flows,
)
from ._results import FrameForwarding, deprecated_order, html_table, is_selections
from ._tidy import key_codes
from .counts import TOTAL, sum_counts, validate_counts
from .detect import Detection, selections_of
from .errors import InputError, check_choice
from .measures import METRIC_DTYPE, metrics, prepare
from .provenance import Provenance

__all__ = ["Conurbations", "membership", "merge_conurbations", "move_flows", "read_census_flows"]

SEPARATOR = " – "
METRICS_DTYPES = {
    "area": object,
    "measure": object,
    "group": object,
    "metric": METRIC_DTYPE,
    "value": float,
}


@dataclass(frozen=True, repr=False, eq=False)
class Conurbations(FrameForwarding):
    """Conurbations, the links that made them and what they were made from.

    Attributes
    ----------
    table : geopandas.GeoDataFrame
        One row per conurbation, indexed ``C1``, ``C2``, … by size: ``name``
        (members' names, largest first, joined by " – "), ``members`` (codes
        joined by ";", largest first), ``n_members``, ``sectors`` (the
        specialisations shared along its links, most shared first),
        ``core_sectors`` (shared by every member), ``links`` (the links it
        was merged along, with their strengths), ``strength`` (their mean),
        ``rule`` and the dissolved geometry.
    metrics : pandas.DataFrame or None
        With counts: the long metrics (:func:`geoclusters.measures.metrics`)
        recomputed for each merged area, ``area`` being the conurbation id.
    links : pandas.DataFrame
        Every pair of neighbouring cluster areas, strongest first: ``from``,
        ``to`` (codes, ``from`` < ``to``), ``from_name``, ``to_name``,
        ``shared`` (the groups both are clusters in, with criteria and
        measures), ``n_shared``, ``shared_score``, ``flow`` (share of the
        pair's commuters crossing between them, NaN without data),
        ``flow_score``, ``similarity`` (cosine of log LQ profiles, NaN
        without counts), ``strength``, ``kept`` (may join a conurbation),
        ``why`` (the row in words) and ``conurbation`` (the one both ends are
        in, or ``""``).
    hubs : list of str
        Areas kept out of every merge (found or named).
    start, end : str or None
        The periods of the metrics.
    params : dict
    provenance : geoclusters.provenance.Provenance

    Notes
    -----
    ``merge_conurbations`` returned the table itself in 0.1; DataFrame-style
    use (indexing, ``len``, ``.iterrows()``, ...) still reaches ``.table``
    with a DeprecationWarning until 0.3.
    """

    table: gpd.GeoDataFrame
    metrics: pd.DataFrame | None
    links: pd.DataFrame
    hubs: list[str] = field(default_factory=list)
    start: str | None = None
    end: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    provenance: Provenance | None = None

    _frame_name = "table"

    def to_frame(self) -> gpd.GeoDataFrame:
        """The conurbations table."""
        return self.table

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        sizes = self.table["n_members"].tolist() if len(self.table) else []
        return f"Conurbations({len(self.table)} conurbations, members {sizes[:8]})"

    def _repr_html_(self) -> str:
        rows = [(code, row["name"]) for code, row in self.table.head(10).iterrows()]
        return html_table(
            f"Conurbations ({len(self.table)})", [*rows, ("hubs", ", ".join(self.hubs) or "–")]
        )


def merge_conurbations(
    areas: gpd.GeoDataFrame,
    counts: pd.DataFrame | None = None,
    graph=None,
    clusters=None,
    *,
    flows: pd.DataFrame | None = None,
    method: Literal["cohesion", "louvain", "components"] = "cohesion",
    weights: Mapping[str, float] | None = None,
    min_strength: float = DEFAULT_MIN_STRENGTH,
    max_diameter: int | None = 2,
    max_members: int | None = 8,
    hubs: Iterable[str] | Literal["auto"] | None = "auto",
    seed: int = 0,
    min_members: int = 2,
    match: Literal["group", "measure_group"] = "group",
    sectors: Sequence[str] | None = None,
    hub_min_links: int | None = None,
    flow_scale: float = 0.05,
    linkage: Literal["member", "geometric", "average", "single"] = "member",
    resolution: float = 1.0,
    hub_options: Mapping[str, int] | None = None,
    periods: Sequence[str] | Mapping[str, Sequence] | None = None,
    groups=None,
    _validated: bool = False,
) -> Conurbations:
    """Merge neighbouring clusters that are tied strongly enough into conurbations.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Areas indexed by code with ``name`` and geometry; the conurbation
        polygon is the union of its members'.
    counts : pandas.DataFrame, optional
        Tidy counts with totals, for the profile similarity of the links and
        to sum the members' counts and recompute LQ and growth for each
        conurbation; either already in the two periods (the first output of
        :func:`geoclusters.measures.prepare`) or raw, in which case the groups
        and periods of the detections (or ``groups=`` and ``periods=``) are
        applied. Without counts, links rest on shared groups and commuting.
    graph : libpysal.graph.Graph
        Neighbours over the area codes (contiguity, fuzzy contiguity,
        commuting, ...): only neighbours are linked.
    clusters : Detection, list of Detection, or pandas.DataFrame
        What detectors selected: a :class:`~geoclusters.detect.Detection`,
        several, or a selections table (columns ``area, criterion, measure,
        group``), for example ``pd.concat([a.selections, b.selections])``.
    flows : pandas.DataFrame, optional
        Commuting on the same areas: any origin-destination table with
        columns ``origin, destination, count`` (self-flows included), for
        example a Census table moved onto the areas. Without it, links rest
        on shared groups and profile likeness ("commuting unknown").
    method : {"cohesion", "louvain", "components"}, default "cohesion"
        How conurbations are built from the links: the cohesion rule,
        Louvain communities of the kept links (``seed``, ``resolution``), or
        connected components of the links that share a group, whatever their
        strength (the 0.1 merge).
    weights : mapping, optional
        Weights of the ``shared``, ``flow`` and ``similarity`` scores in a
        link's strength; 0.4, 0.3, 0.3 by default. Scores that cannot be
        computed are left out and the others rescaled.
    min_strength : float, default 0.3
        Weakest link kept, and weakest tie that merges two groups.
    max_diameter : int or None, default 2
        Most kept links between two members of a conurbation (cohesion).
    max_members : int or None, default 8
        Largest conurbation (cohesion); a safety net.
    hubs : "auto", iterable of str or None, default "auto"
        ``"auto"`` finds hubs from the links (areas whose removal leaves at
        least two blocs of at least two clusters not otherwise tied, with at
        least four kept links; see ``hub_options``); area codes name them by
        hand instead; ``None`` keeps none out. Hubs stay clusters on their
        own.
    seed : int, default 0
        Seed of the Louvain method (the others are deterministic).
    min_members : int, default 2
        Smallest conurbation.
    match : {"group", "measure_group"}, default "group"
        What counts as the same specialisation: the group name across
        measures, or the same measure and group.
    sectors : sequence of str, optional
        Only these groups (or ``"measure:group"`` labels with
        ``match="measure_group"``) link areas.
    hub_min_links : int, optional
        Also treat as a hub any cluster area that shares a group with at
        least this many neighbouring clusters (the 0.1 rule of thumb).
    flow_scale : float, default 0.05
        The commuting share that counts as a full tie.
    linkage : {"member", "geometric", "average", "single"}, default "member"
        The tie of two groups (cohesion): summed strength of the kept links
        between them over the smaller group's size, over the geometric mean
        of the sizes, over their product, or the strongest link.
    resolution : float, default 1.0
        Louvain resolution.
    hub_options : mapping, optional
        ``min_bloc`` (2), ``min_blocs`` (2) and ``min_degree`` (4) of the
        hubs found with ``hubs="auto"``.
    periods : pair of str or mapping, optional
        The two periods of ``counts`` (labels), or the spans to average raw
        counts over; taken from the detections by default. Needed with counts
        when ``clusters`` is a plain selections table.
    groups : "nesta2016", mapping or None, optional
        Sector groups to apply to raw counts; taken from the detections by
        default.

    Returns
    -------
    Conurbations
        ``.table`` (one row per conurbation), ``.links`` (every pair of
        neighbouring clusters, scored and explained), ``.metrics``,
        ``.hubs``, parameters and provenance.

    Raises
    ------
    InputError
        For clusters outside the graph or the areas, hubs outside the graph,
        options out of range, or counts whose periods cannot be told.

    Notes
    -----
    The order ``merge_conurbations(clusters, graph, areas, counts)`` of 0.1
    still works, with a DeprecationWarning, until 0.3. The 0.1 merge is
    ``method="components", hubs=None``.

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
    >>> merged = merge_conurbations(areas, graph=contiguity(areas), clusters=clusters)
    >>> merged.table[["members", "sectors"]].values.tolist()
    [['a;b', 'film']]
    >>> merged.links[["from", "to", "strength", "kept"]].values.tolist()
    [['a', 'b', 1.0, True], ['b', 'c', 0.0, False]]
    """
    if is_selections(areas):
        deprecated_order(
            "merge_conurbations", "clusters, graph, areas, counts", "areas, counts, graph, clusters"
        )
        areas, counts, graph, clusters = graph, clusters, counts, areas
    if graph is None or clusters is None:
        raise InputError(
            "merge_conurbations needs a graph and the clusters",
            fix="call merge_conurbations(areas, counts, graph, clusters)",
        )
    detections = _detections(clusters)
    selections = selections_of(clusters)
    check_choice("match", match, ("group", "measure_group"))
    check_choice("method", method, METHODS)
    ids = pd.Index(graph.unique_ids).astype(str)
    cluster_codes = pd.Index(selections["area"].astype(str).unique())
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
    named_hubs = None if hubs is None or isinstance(hubs, str) else sorted(map(str, hubs))
    if named_hubs:
        stray = sorted(set(named_hubs) - set(ids))
        if stray:
            raise InputError(
                "hubs name areas that are not in the graph",
                rows=stray,
                fix="name hubs by the codes of the areas",
            )

    table = start = end = None
    if counts is not None:
        if not _validated:
            counts = validate_counts(counts)
        table, start, end = _prepared(counts, detections, periods, groups)
    linking = _linking_selections(selections, match, sectors)
    links = link_table(
        table,
        graph,
        linking,
        flows,
        periods=None if table is None else (start, end),
        weights=weights,
        flow_scale=flow_scale,
        min_strength=min_strength,
        _validated=True,  # the counts were validated (or prepared) above
    )
    codes = sorted(cluster_codes)
    hub_list = _hubs(links, codes, hubs, named_hubs, hub_min_links, hub_options)
    partition = cohesive_conurbations(
        links,
        codes,
        method=method,
        hubs=[h for h in hub_list if h in set(codes)],
        min_strength=min_strength,
        linkage=linkage,
        max_members=max_members,
        max_diameter=max_diameter,
        min_members=min_members,
        resolution=resolution,
        seed=seed,
    )
    size = _sizes(areas, table, end, cluster_codes)
    members_of = [
        sorted(rows.index) for _, rows in partition[partition["conurbation"] != ""].groupby("group")
    ]
    members_of.sort(key=lambda members: (-sum(size.get(m, 0.0) for m in members), members))
    labels = _labels(linking)
    rule = _rule(method, match, sectors, hubs, hub_list, hub_min_links)
    ids_of: dict[str, str] = {}
    rows = []
    for number, members in enumerate(members_of, start=1):
        key = f"C{number}"
        ids_of.update(dict.fromkeys(members, key))
        ordered = sorted(members, key=lambda m: (-size.get(m, 0.0), m))
        inside = links[links["from"].isin(members) & links["to"].isin(members)]
        merged_along = inside[inside["kept"]] if method != "components" else inside
        merged_along = merged_along[merged_along["n_shared"] > 0]
        shared = Counter(
            group
            for a, b in zip(merged_along["from"], merged_along["to"], strict=True)
            for group in sorted(labels[a] & labels[b])
        )
        core = set.intersection(*(labels.get(m, set()) for m in ordered))
        rows.append(
            {
                "conurbation": key,
                "name": SEPARATOR.join(areas.loc[ordered, "name"].astype(str)),
                "members": ";".join(ordered),
                "n_members": len(ordered),
                "sectors": "; ".join(label for label, _ in shared.most_common()),
                "core_sectors": "; ".join(sorted(core)),
                "links": "; ".join(
                    f"{row['from_name']} – {row['to_name']} {row['strength']:.2f}"
                    for _, row in merged_along.iterrows()
                ),
                "strength": float(merged_along["strength"].mean()) if len(merged_along) else 0.0,
                "rule": rule,
                "geometry": shapely.union_all(areas.loc[ordered].geometry.to_numpy()),
            }
        )
    columns = [
        "conurbation",
        "name",
        "members",
        "n_members",
        "sectors",
        "core_sectors",
        "links",
        "strength",
        "rule",
    ]
    frame = pd.DataFrame(rows, columns=[*columns, "geometry"]).set_index("conurbation")
    frame["n_members"] = frame["n_members"].astype(int)
    frame["strength"] = frame["strength"].astype(float)
    result = gpd.GeoDataFrame(frame, geometry="geometry", crs=areas.crs)
    links = links.assign(
        conurbation=[
            ids_of.get(a, "") if ids_of.get(a, "") == ids_of.get(b, "") else ""
            for a, b in zip(links["from"], links["to"], strict=True)
        ]
    )
    merged_metrics = None
    if table is not None:
        merged_metrics = _merged_metrics(result, table, start, end)
    parameters = {
        "method": method,
        "weights": dict(DEFAULT_WEIGHTS if weights is None else weights),
        "min_strength": min_strength,
        "max_diameter": max_diameter,
        "max_members": max_members,
        "hubs": hubs if hubs is None or isinstance(hubs, str) else named_hubs,
        "hubs_found": hub_list,
        "seed": seed,
        "min_members": min_members,
        "match": match,
        "sectors": sectors,
        "hub_min_links": hub_min_links,
        "flow_scale": flow_scale,
        "linkage": linkage,
        "resolution": resolution,
        "hub_options": dict(hub_options or {}),
        "flows": flows is not None,
        "periods": periods,
        "groups": groups,
        "start": start,
        "end": end,
    }
    inputs = {"clusters": selections}
    if flows is not None:
        inputs["flows"] = flows
    provenance = Provenance.record("merge_conurbations", parameters, **inputs)
    return Conurbations(
        table=result,
        metrics=merged_metrics,
        links=links.reset_index(drop=True),
        hubs=hub_list,
        start=start,
        end=end,
        params=dict(provenance.parameters),
        provenance=provenance,
    )


def membership(areas, conurbations) -> pd.DataFrame:
    """The conurbation of every area (empty strings for areas in none).

    Parameters
    ----------
    areas : geopandas.GeoDataFrame or pandas.Index
        All areas.
    conurbations : Conurbations or geopandas.GeoDataFrame
        The output of :func:`merge_conurbations` (or its ``.table``).

    Returns
    -------
    pandas.DataFrame
        Indexed by area: ``conurbation`` (name) and ``conurbation_id``.

    Notes
    -----
    The order ``membership(conurbations, areas)`` of 0.1 still works, with a
    DeprecationWarning, until 0.3.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> table = gpd.GeoDataFrame({"name": ["X – Y"], "members": ["x;y"]},
    ...                          index=pd.Index(["C1"], name="conurbation"), geometry=[None])
    >>> membership(pd.Index(["x", "y", "z"]), table)["conurbation_id"].tolist()
    ['C1', 'C1', '']
    """
    if _is_conurbations(areas) and not _is_conurbations(conurbations):
        deprecated_order("membership", "conurbations, areas", "areas, conurbations")
        areas, conurbations = conurbations, areas
    if isinstance(conurbations, Conurbations):
        conurbations = conurbations.table
    index = pd.Index(areas.index if hasattr(areas, "geometry") else areas).astype(str)
    out = pd.DataFrame({"conurbation": "", "conurbation_id": ""}, index=index)
    for conurbation_id, row in conurbations.iterrows():
        members = row["members"].split(";")
        out.loc[members, "conurbation"] = row["name"]
        out.loc[members, "conurbation_id"] = conurbation_id
    out.index.name = "area"
    return out


def _is_conurbations(value) -> bool:
    return isinstance(value, Conurbations) or (
        isinstance(value, pd.DataFrame) and "members" in value.columns
    )


def _detections(clusters) -> list[Detection]:
    if isinstance(clusters, Detection):
        return [clusters]
    if isinstance(clusters, list | tuple):
        return [c for c in clusters if isinstance(c, Detection)]
    return []


def _linking_selections(selections, match, sectors) -> pd.DataFrame:
    """The selections that may link areas, their groups relabelled by what must match."""
    linking = selections.copy()
    linking["area"] = linking["area"].astype(str)
    if match == "measure_group":
        linking["group"] = linking["measure"].astype(str) + ":" + linking["group"].astype(str)
    if sectors is not None:
        linking = linking[linking["group"].astype(str).isin([str(s) for s in sectors])]
    return linking


def _labels(linking: pd.DataFrame) -> dict[str, set[str]]:
    return {
        code: set(rows["group"].astype(str)) for code, rows in linking.groupby("area", sort=False)
    }


def _hubs(links, codes, hubs, named, hub_min_links, hub_options) -> list[str]:
    found = set(named or ())
    if isinstance(hubs, str):
        if hubs != "auto":
            raise InputError(
                f"hubs={hubs!r}: pass 'auto', None or a list of area codes", fix=f"hubs=[{hubs!r}]"
            )
        found |= set(find_hubs(links, codes, **dict(hub_options or {})))
    if hub_min_links is not None:
        sharing = links[links["n_shared"] > 0]
        degree = Counter(sharing["from"]) + Counter(sharing["to"])
        found |= {code for code, d in degree.items() if d >= hub_min_links}
    return sorted(found)


def _prepared(counts, detections, periods, groups) -> tuple[pd.DataFrame, str, str]:
    """The counts in the two periods of sector groups, the periods taken explicitly."""
    spans = {(d.start, d.end) for d in detections}
    if len(spans) > 1:
        raise InputError(
            "the detections use different periods", rows=sorted(spans), fix="detect on one pair"
        )
    params = detections[0].params if detections else {}
    if periods is None and not detections:
        raise InputError(
            "cannot tell which two periods of the counts to use",
            fix="pass periods=(first, second) (the selections table carries no periods), "
            "or the Detection objects themselves",
        )
    if periods is not None and not isinstance(periods, Mapping):
        start, end = (str(p) for p in periods)
    elif periods is None:
        start, end = next(iter(spans))
    else:
        start, end = (str(p) for p in periods)
    if {start, end} <= set(counts["period"].unique()):
        return counts, start, end
    spec = periods if isinstance(periods, Mapping) else params.get("periods")
    scheme = groups if groups is not None else params.get("groups", "nesta2016")
    return prepare(counts, scheme, spec, _validated=True)


def _sizes(areas, table, end, codes) -> dict[str, float]:
    """Second-period total of the cluster groups of the areas ``codes``, to order members."""
    if table is None:
        return {code: float(shapely.area(g)) for code, g in areas.geometry.items()}
    rows = table[(table["period"] == end) & (table["sector"] != TOTAL) & table["area"].isin(codes)]
    return rows.groupby("area")["value"].sum().to_dict()


def _merged_metrics(conurbations, table, start, end) -> pd.DataFrame:
    relabel = {}
    for conurbation_id, members in conurbations["members"].items():
        relabel.update(dict.fromkeys(members.split(";"), conurbation_id))
    if not relabel:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in METRICS_DTYPES.items()})
    # The other areas stay in, so that national sums (the LQ denominators) are
    # unchanged. Only the members' rows are summed; each sum takes the place of
    # its first member row, the order a sum over every row would give, so the
    # national sums add up in the same order to the same last digit.
    key = ["area", "sector", "period", "measure"]
    member = table["area"].isin(list(relabel)).to_numpy()
    members = table[member].assign(area=table.loc[member, "area"].map(relabel))
    summed = sum_counts(members, key)
    group, _ = key_codes(members, key)
    first = np.flatnonzero(member)[np.unique(group, return_index=True)[1]]
    others = np.flatnonzero(~member)
    merged = pd.concat([table.loc[~member, summed.columns], summed], ignore_index=True)
    merged = merged.iloc[np.argsort(np.concatenate([others, first]), kind="stable")]
    merged = merged.reset_index(drop=True)
    return metrics(merged, start, end, _validated=True, _areas=conurbations.index)


def _rule(method, match, sectors, hubs, hub_list, hub_min_links) -> str:
    what = "the same sector group" if match == "group" else "the same measure and sector group"
    if method == "components":
        parts = [f"neighbours in the graph that share {what} (concentration or growth), chained"]
    else:
        parts = [
            f"neighbours sharing {what}, tied by shared groups, commuting and profile likeness; "
            + (
                "merged by cohesion (no weak link joins two blocs, compact)"
                if method == "cohesion"
                else "Louvain communities of the kept links"
            )
        ]
    if sectors is not None:
        parts.append("only " + ", ".join(map(str, sectors)))
    if hub_list:
        how = "found from the links" if isinstance(hubs, str) else "named"
        parts.append(f"hubs kept out ({how}): " + ", ".join(hub_list))
    if hub_min_links is not None:
        parts.append(f"hub = sharing a group with at least {hub_min_links} clusters")
    return "; ".join(parts)
