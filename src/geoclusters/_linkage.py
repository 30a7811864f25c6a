"""Link strength between neighbouring clusters, and conurbations that do not chain.

A connected component of "touching and sharing a sector group" chains across
any dense region: one link is enough, however weak. This module scores every
link between neighbouring cluster areas and builds conurbations from the
scores, so that one weak link cannot join two blocs.

- :func:`read_census_flows` reads an ONS Census origin-destination table
  (residence -> workplace) into the generic ``origin, destination, count``
  shape; :func:`move_flows` moves any such table onto other areas through any
  weighted lookup (local authorities -> TTWAs, for example);
- :func:`link_table` gives every pair of neighbouring cluster areas a row
  ``from, to, shared, flow, similarity, strength, kept, why``;
- :func:`find_hubs` finds, from the links, the areas that tie together blocs
  that are not otherwise tied;
- :func:`cohesive_conurbations` partitions the cluster areas into
  conurbations, by the cohesion rule (the default), by community detection or
  by the old connected components.

The strength of a link is a weighted mean of three scores in [0, 1]:

- ``shared_score``: the share of the two areas' specialised sector groups that
  they share (Jaccard index of their groups, in concentration or growth);
- ``flow_score``: the share of the commuters living in either area who work in
  the other (``flow``), divided by ``flow_scale`` and capped at 1;
- ``similarity``: how alike their sector profiles are, the cosine of their
  log location quotients over every measure and group in the second period,
  floored at 0 (opposite profiles tie no more than unrelated ones).

A missing score (no commuting data, no counts) is left out of the mean and the
other weights are rescaled, and the ``why`` sentence says so.

This module is private: :func:`geoclusters.merge_conurbations` calls it.
"""

from __future__ import annotations

import heapq
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import networkx as nx
import numpy as np
import pandas as pd

from ._flows import flow_values
from .counts import TOTAL, validate_counts
from .errors import InputError, check_choice, check_policy
from .measures import location_quotients, prepare

DEFAULT_WEIGHTS: dict[str, float] = {"shared": 0.4, "flow": 0.3, "similarity": 0.3}
"""Weights of the three scores in a link's strength (rescaled over the scores known)."""

DEFAULT_MIN_STRENGTH = 0.3
"""Weakest link that may join a conurbation."""

LINK_COLUMNS = [
    "from",
    "to",
    "from_name",
    "to_name",
    "shared",
    "n_shared",
    "shared_score",
    "flow",
    "flow_score",
    "similarity",
    "strength",
    "kept",
    "why",
]

LQ_FLOOR = 0.05
"""Smallest LQ used in the profile similarity: log(0) has no direction."""

# ONS census codes that are not places: -8 "does not apply", offshore, outside the UK
_NOT_PLACES = {"-8", "888888888", "999999999"}


# --------------------------------------------------------------------------- commuting data


def read_census_flows(
    path: str | os.PathLike, *, return_excluded: bool = False
) -> pd.DataFrame | tuple[pd.DataFrame, dict[str, float]]:
    """Read an ONS Census 2021 origin-destination table of commuting (ODWP01EW and alike).

    The file's columns are, in order: residence code and label, workplace code
    and label, place-of-work indicator code and label, count. Only the people
    who travel to a workplace in the UK are kept (indicator 3): home workers,
    people with no fixed place, offshore or abroad, and people to whom the
    question does not apply (code ``-8``) are not commuters between areas.

    Parameters
    ----------
    path : str or path-like
        The CSV (gzip is read transparently).
    return_excluded : bool, default False
        Also return the number of people left out, by reason.

    Returns
    -------
    pandas.DataFrame or (pandas.DataFrame, dict)
        ``origin`` (residence), ``destination`` (workplace), ``count``; with
        ``return_excluded``, also ``{reason: people left out}``.

    Raises
    ------
    InputError
        If the file is missing or does not have seven columns.
    """
    if not os.path.exists(path):
        raise InputError(f"commuting file not found: {path}")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if table.shape[1] != 7:
        raise InputError(
            f"expected the 7 columns of an ONS origin-destination table, got {table.shape[1]}",
            rows=list(table.columns),
            fix="read other tables yourself into origin, destination, count columns",
        )
    origin, _, destination, _, indicator, indicator_label, count = table.columns
    values = pd.to_numeric(table[count], errors="coerce")
    if values.isna().any():
        raise InputError(
            "non-numeric counts in the commuting table", rows=table.index[values.isna()].tolist()
        )
    commuters = (table[indicator] == "3") & ~table[destination].isin(_NOT_PLACES)
    excluded = values[~commuters].groupby(table.loc[~commuters, indicator_label]).sum()
    out = pd.DataFrame(
        {
            "origin": table.loc[commuters, origin].to_numpy(),
            "destination": table.loc[commuters, destination].to_numpy(),
            "count": values[commuters].to_numpy(dtype=float),
        }
    )
    if return_excluded:
        return out, {str(k): float(v) for k, v in excluded.items()}
    return out


def move_flows(
    flows: pd.DataFrame,
    lookup: pd.DataFrame,
    *,
    origin: str = "origin",
    destination: str = "destination",
    count: str = "count",
    source: str = "source",
    target: str = "target",
    weight: str | None = "weight",
    within: Literal["diagonal", "spread"] = "diagonal",
    unmatched: Literal["raise", "warn", "ignore"] = "raise",
    return_unmatched: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, dict[str, float]]:
    """Move an origin-destination table onto other areas through a weighted lookup.

    A flow ``i -> j`` goes to ``A -> B`` in proportion ``w(i, A) * w(j, B)``:
    where a unit is split, its residents and its jobs are assumed spread over
    the pieces by the same weights, independently. That is an approximation,
    and a poor one for the flow *inside* a split unit (people who live and work
    in one local authority mostly live and work in the same part of it), so by
    default (``within="diagonal"``) a unit's internal flow stays internal to
    each of its pieces; ``within="spread"`` spreads it like any other flow.
    Totals are conserved either way.

    Parameters
    ----------
    flows : pandas.DataFrame
        Origin-destination table.
    lookup : pandas.DataFrame
        ``source -> target`` pairs with weights; each source's weights must sum
        to 1.
    origin, destination, count : str
        Columns of ``flows``.
    source, target, weight : str
        Columns of ``lookup``; ``weight=None`` means every pair weighs 1 (a
        one-to-one or many-to-one lookup).
    within : {"diagonal", "spread"}, default "diagonal"
        Where a unit's internal flow goes.
    unmatched : {"raise", "warn", "ignore"}, default "raise"
        What to do with flows whose origin or destination the lookup lacks;
        with ``"warn"`` and ``"ignore"`` they are left out.
    return_unmatched : bool, default False
        Also return what was left out: ``{"rows": flows, "count": people}``
        (empty when nothing was).

    Returns
    -------
    pandas.DataFrame or (pandas.DataFrame, dict)
        ``origin, destination, count`` on the target areas, self-flows
        included; with ``return_unmatched``, also what was left out.

    Raises
    ------
    InputError
        For missing columns, missing or negative counts, weights that do not
        sum to 1, or (by default) codes the lookup lacks.

    Examples
    --------
    >>> import pandas as pd
    >>> od = pd.DataFrame({"origin": ["a", "a", "b"], "destination": ["a", "b", "b"],
    ...                    "count": [10.0, 4.0, 6.0]})
    >>> lookup = pd.DataFrame({"source": ["a", "a", "b"], "target": ["X", "Y", "Y"],
    ...                        "weight": [0.5, 0.5, 1.0]})
    >>> move_flows(od, lookup).values.tolist()
    [['X', 'X', 5.0], ['X', 'Y', 2.0], ['Y', 'Y', 13.0]]
    """
    check_choice("within", within, ("diagonal", "spread"))
    unmatched = check_policy("unmatched", unmatched)
    _require_columns(flows, [origin, destination, count], "flows")
    _require_columns(lookup, [source, target] + ([weight] if weight else []), "lookup")
    values = flow_values(flows, count)
    pairs = pd.DataFrame(
        {
            "source": lookup[source].astype(str),
            "target": lookup[target].astype(str),
            "weight": pd.to_numeric(lookup[weight], errors="coerce") if weight else 1.0,
        }
    )
    totals = pairs.groupby("source")["weight"].sum()
    off = totals[~np.isclose(totals, 1.0, atol=1e-6)]
    if len(off) or pairs["weight"].isna().any():
        raise InputError(
            "the lookup's weights do not sum to 1 for these sources (commuters would be lost "
            "or invented)",
            rows=off.index.tolist() or pairs.loc[pairs["weight"].isna(), "source"].tolist(),
            fix="normalise the weights within each source",
        )
    table = pd.DataFrame(
        {
            "o": flows[origin].astype(str).to_numpy(),
            "d": flows[destination].astype(str).to_numpy(),
            "n": values.to_numpy(dtype=float),
        }
    )
    known = set(pairs["source"])
    lost = ~table["o"].isin(known) | ~table["d"].isin(known)
    moved_out = {}
    if lost.any():
        codes = sorted(set(table.loc[lost, "o"]).union(table.loc[lost, "d"]) - known)
        if unmatched == "raise":
            raise InputError(
                "the lookup lacks these origin or destination codes",
                rows=codes,
                fix="add them to the lookup, or pass unmatched='warn' to leave their flows out",
            )
        moved_out = {"rows": int(lost.sum()), "count": float(table.loc[lost, "n"].sum())}
        if unmatched == "warn":
            warnings.warn(
                f"move_flows: left out {moved_out['rows']} flows ({moved_out['count']:.0f} "
                f"people) whose codes the lookup lacks: {', '.join(codes[:12])}"
                f"{' ...' if len(codes) > 12 else ''}",
                UserWarning,
                stacklevel=2,
            )
        table = table[~lost]
    inside = table["o"] == table["d"]
    spread = table if within == "spread" else table[~inside]
    moved = spread.merge(pairs.rename(columns={"source": "o", "target": "to", "weight": "wo"}))
    moved = moved.merge(pairs.rename(columns={"source": "d", "target": "td", "weight": "wd"}))
    pieces = [
        pd.DataFrame(
            {
                "origin": moved["to"],
                "destination": moved["td"],
                "count": moved["n"] * moved["wo"] * moved["wd"],
            }
        )
    ]
    if within == "diagonal":
        own = table[inside].merge(pairs.rename(columns={"source": "o"}))
        count = own["n"] * own["weight"]
        pieces.append(
            pd.DataFrame({"origin": own["target"], "destination": own["target"], "count": count})
        )
    out = (
        pd.concat(pieces, ignore_index=True)
        .groupby(["origin", "destination"], as_index=False)["count"]
        .sum()
    )
    if return_unmatched:
        return out, moved_out
    return out


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"the {what} table lacks columns",
            rows=missing,
            fix=f"name the columns present: {list(frame.columns)}",
        )


# --------------------------------------------------------------------------- links


def link_table(
    counts: pd.DataFrame | None,
    graph,
    selections: pd.DataFrame,
    flows: pd.DataFrame | None = None,
    *,
    periods: Sequence[str] | None = None,
    weights: Mapping[str, float] | None = None,
    flow_scale: float = 0.05,
    min_strength: float = DEFAULT_MIN_STRENGTH,
    _validated: bool = False,
) -> pd.DataFrame:
    """Score and explain every link between neighbouring cluster areas.

    Parameters
    ----------
    counts : pandas.DataFrame or None
        Tidy counts with all-industry totals, for the profile similarity:
        either already in the two periods of the sector groups (the first
        output of :func:`geoclusters.measures.prepare`), or raw, in which case
        the groups and periods of the detection are applied. ``None`` leaves
        similarity out.
    graph : libpysal.graph.Graph
        Neighbours over the area codes; its weights are ignored.
    selections : Detection or pandas.DataFrame
        What a detector selected: a :class:`~geoclusters.detect.Detection`
        (which also says which periods and groups the counts are in) or a
        selections table (columns ``area, criterion, measure, group``; a
        ``name`` column is used in the sentences). Every area in it is a
        cluster area.
    flows : pandas.DataFrame, optional
        Commuting on the same areas (``origin, destination, count``, e.g. from
        :func:`move_flows`), self-flows included. ``None`` leaves flow out.
    periods : pair of str, optional
        First and second period of ``counts``; the detection's by default
        (required with counts and a plain selections table). Only the second
        is used (the LQs of the profiles).
    weights : mapping, optional
        Weights of ``shared``, ``flow`` and ``similarity`` in the strength;
        :data:`DEFAULT_WEIGHTS` by default; a score left out weighs 0.
    flow_scale : float, default 0.05
        The commuting share that counts as a full tie (flow score 1).
    min_strength : float, default 0.3
        A link is *kept* (may join a conurbation) when the two areas share at
        least one specialisation and its strength reaches this.

    Returns
    -------
    pandas.DataFrame
        One row per pair of neighbouring cluster areas (``from`` < ``to``),
        strongest first, with the columns of :data:`LINK_COLUMNS`:
        ``shared`` (the shared groups, e.g. ``"content (concentration,
        businesses); publishing (growth, businesses)"``), ``n_shared``,
        ``shared_score``, ``flow`` (share of the pair's commuters who cross
        between them), ``flow_score``, ``similarity``, ``strength``, ``kept``
        and ``why``. The cluster areas (linked or not) are the areas of
        ``selections``.

    Raises
    ------
    InputError
        If the selections lack columns or name areas outside the graph, or an
        option is out of range.
    """
    detection = selections if hasattr(selections, "selections") else None
    selections = getattr(selections, "selections", selections)
    _require_columns(selections, ["area", "criterion", "measure", "group"], "selections")
    given = DEFAULT_WEIGHTS if weights is None else weights
    unknown = sorted(set(given) - set(DEFAULT_WEIGHTS))
    weights = {key: float(given.get(key, 0.0)) for key in DEFAULT_WEIGHTS}
    if unknown or any(not np.isfinite(w) or w < 0 for w in weights.values()):
        raise InputError(
            "weights must be non-negative numbers for shared, flow and similarity",
            rows=unknown or list(weights),
        )
    if not flow_scale > 0:
        raise InputError(f"flow_scale must be positive, got {flow_scale!r}")
    if not 0 <= min_strength <= 1:
        raise InputError(f"min_strength is a strength in [0, 1], got {min_strength!r}")
    ids = pd.Index(graph.unique_ids).astype(str)
    codes = pd.Index(sorted(selections["area"].astype(str).unique()))
    outside = codes.difference(ids)
    if len(outside):
        raise InputError(
            "selections name areas that are not in the graph",
            rows=outside,
            fix="build the graph from the same areas as the selections",
        )
    names = _names(selections)
    specialisms = _specialisms(selections)
    pairs = _neighbour_pairs(graph, codes)
    profiles = None if counts is None else _profiles(counts, detection, periods, _validated, codes)
    commuting = None if flows is None else _pair_flows(flows, pairs)

    records = []
    for index, (a, b) in enumerate(pairs):
        shared = _shared(specialisms[a], specialisms[b], names.get(a, a), names.get(b, b))
        groups_a = {g for g, _, _ in specialisms[a]}
        groups_b = {g for g, _, _ in specialisms[b]}
        scores = {"shared": len(shared) / len(groups_a | groups_b)}
        flow = np.nan if commuting is None else commuting[index]
        if np.isfinite(flow):
            scores["flow"] = min(1.0, flow / flow_scale)
        similarity = np.nan
        if profiles is not None and a in profiles.index and b in profiles.index:
            similarity = _cosine(profiles.loc[a].to_numpy(), profiles.loc[b].to_numpy())
        if np.isfinite(similarity):
            scores["similarity"] = max(0.0, similarity)
        total = sum(weights[k] for k in scores)
        strength = sum(weights[k] * v for k, v in scores.items()) / total if total else 0.0
        kept = bool(shared) and strength >= min_strength
        records.append(
            {
                "from": a,
                "to": b,
                "from_name": names.get(a, a),
                "to_name": names.get(b, b),
                "shared": "; ".join(
                    _shared_text(group, detail) for group, detail in shared.items()
                ),
                "n_shared": len(shared),
                "shared_score": scores["shared"],
                "flow": flow,
                "flow_score": scores.get("flow", np.nan),
                "similarity": similarity,
                "strength": strength,
                "kept": kept,
                "why": _why(shared, flow, similarity, strength, kept, min_strength),
            }
        )
    links = pd.DataFrame(records, columns=LINK_COLUMNS)
    links = links.sort_values(["strength", "from", "to"], ascending=[False, True, True])
    links = links.reset_index(drop=True)
    return links


def _names(selections: pd.DataFrame) -> dict[str, str]:
    if "name" not in selections.columns:
        return {}
    pairs = selections[["area", "name"]].dropna().astype(str).drop_duplicates("area")
    return dict(zip(pairs["area"], pairs["name"], strict=True))


def _specialisms(selections: pd.DataFrame) -> dict[str, set[tuple[str, str, str]]]:
    """Every area's (group, criterion, measure) selections."""
    table = selections[["area", "group", "criterion", "measure"]].astype(str)
    out: dict[str, set[tuple[str, str, str]]] = {}
    for area, group, criterion, measure in table.itertuples(index=False):
        out.setdefault(area, set()).add((group, criterion, measure))
    return out


def _shared(left: set, right: set, left_name: str, right_name: str) -> dict[str, dict]:
    """The groups both areas are selected in, with the criteria and measures they share.

    Two areas share a group when both are selected in it, whatever the
    criterion; the criteria listed are those both have or, when they differ,
    each area's own, named.
    """
    out = {}
    for group in sorted({g for g, _, _ in left} & {g for g, _, _ in right}):
        a = {(c, m) for g, c, m in left if g == group}
        b = {(c, m) for g, c, m in right if g == group}
        criteria = sorted({c for c, _ in a} & {c for c, _ in b})
        if not criteria:
            criteria = [
                f"{'/'.join(sorted({c for c, _ in side}))} in {name}"
                for side, name in ((a, left_name), (b, right_name))
            ]
        measures = sorted({m for _, m in a} & {m for _, m in b}) or sorted({m for _, m in a | b})
        out[group] = {"criteria": criteria, "measures": measures}
    return out


def _shared_text(group: str, detail: Mapping[str, list[str]]) -> str:
    return f"{group} ({' and '.join(detail['criteria'])}, {', '.join(detail['measures'])})"


def _why(shared, flow, similarity, strength, kept, min_strength) -> str:
    if shared:
        texts = [_shared_text(g, d) for g, d in shared.items()]
        parts = [
            "share "
            + (texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " and " + texts[-1])
        ]
    else:
        parts = ["share no specialisation"]
    parts.append("commuting unknown" if not np.isfinite(flow) else f"{flow:.1%} of commuters")
    if np.isfinite(similarity):
        parts.append(f"profiles {similarity:.2f} alike")
    else:
        parts.append("profiles unknown")
    verdict = (
        f"strength {strength:.2f}, kept"
        if kept
        else f"strength {strength:.2f}, not kept ("
        + ("nothing shared" if not shared else f"below {min_strength:.2f}")
        + ")"
    )
    return "; ".join(parts) + f" -> {verdict}"


def _neighbour_pairs(graph, codes: pd.Index) -> list[tuple[str, str]]:
    adjacency = graph.adjacency.reset_index()
    focal = adjacency.iloc[:, 0].astype(str)
    neighbour = adjacency.iloc[:, 1].astype(str)
    usable = (focal != neighbour) & focal.isin(codes) & neighbour.isin(codes)
    pairs = {
        (a, b) if a < b else (b, a) for a, b in zip(focal[usable], neighbour[usable], strict=True)
    }
    return sorted(pairs)


def _profiles(
    counts: pd.DataFrame, detection, periods, validated: bool, codes: pd.Index
) -> pd.DataFrame:
    """Log LQs of the areas ``codes`` over every measure and group, second period.

    The LQs are of every area (the national sums need them all); only the
    cluster areas' profiles are compared, so only theirs are kept.
    """
    if periods is not None:
        start, end = (str(p) for p in periods)
    elif detection is not None:
        start, end = str(detection.start), str(detection.end)
    else:
        raise InputError(
            "cannot tell which period of the counts the profiles are in",
            fix="pass periods=(first, second), or the Detection itself instead of its selections",
        )
    if not validated:
        counts = validate_counts(counts)
    if end not in set(counts["period"].unique()):
        if detection is None:
            raise InputError(
                f"the counts have no period {end!r}: they are raw, and a selections table does "
                "not say how to group and average them",
                fix="pass the counts of geoclusters.prepare, or the Detection itself",
            )
        parameters = detection.params
        counts, start, end = prepare(
            counts,
            parameters.get("groups", "nesta2016"),
            parameters.get("periods", (start, end)),
            _validated=True,
        )
    lq = location_quotients(counts[counts["period"] == end], _validated=True)
    lq = lq[(lq["sector"] != TOTAL) & lq["area"].isin(codes)]
    wide = lq.pivot_table(index="area", columns=["measure", "sector"], values="lq", dropna=False)
    return np.log(wide.clip(lower=LQ_FLOOR))


def _cosine(x: np.ndarray, y: np.ndarray) -> float:
    known = np.isfinite(x) & np.isfinite(y)
    x, y = x[known], y[known]
    norm = np.linalg.norm(x) * np.linalg.norm(y)
    return float(x @ y / norm) if norm > 0 else np.nan


def _pair_flows(flows: pd.DataFrame, pairs: list[tuple[str, str]]) -> np.ndarray:
    """Share of the commuters living in a or b who work in the other; NaN without data."""
    _require_columns(flows, ["origin", "destination", "count"], "flows")
    table = pd.DataFrame(
        {
            "o": flows["origin"].astype(str),
            "d": flows["destination"].astype(str),
            "n": flow_values(flows, "count"),
        }
    )
    residents = table.groupby("o")["n"].sum()
    between = table.groupby(["o", "d"])["n"].sum()
    out = np.full(len(pairs), np.nan)
    for index, (a, b) in enumerate(pairs):
        base = residents.get(a, 0.0) + residents.get(b, 0.0)
        if a in residents.index and b in residents.index and base > 0:
            out[index] = (between.get((a, b), 0.0) + between.get((b, a), 0.0)) / base
    return out


# --------------------------------------------------------------------------- merging

METHODS = ("cohesion", "louvain", "components")
LINKAGES = ("geometric", "member", "average", "single")


def kept_graph(links: pd.DataFrame, clusters: Iterable[str] | None = None) -> nx.Graph:
    """The graph of the kept links, weighted by ``strength``, over every cluster area."""
    _require_columns(links, ["from", "to", "strength", "kept"], "links")
    graph = nx.Graph()
    graph.add_nodes_from(_clusters(links, clusters))
    kept = links[links["kept"].astype(bool)]
    graph.add_weighted_edges_from(
        zip(kept["from"].astype(str), kept["to"].astype(str), kept["strength"], strict=True),
        weight="strength",
    )
    return graph


def find_hubs(
    links: pd.DataFrame,
    clusters: Iterable[str] | None = None,
    *,
    min_bloc: int = 2,
    min_blocs: int = 2,
    min_degree: int = 4,
) -> list[str]:
    """Areas that tie together blocs of clusters that are not otherwise tied.

    On the graph of kept links, a hub is a cut vertex whose removal splits its
    part of the graph into at least ``min_blocs`` pieces of at least
    ``min_bloc`` cluster areas each, and that has at least ``min_degree`` kept
    links.

    Parameters
    ----------
    links : pandas.DataFrame
        The output of :func:`link_table`.
    clusters : iterable of str, optional
        Every cluster area; the areas in the links by default.
    min_bloc : int, default 2
        Smallest piece that counts as a bloc.
    min_blocs : int, default 2
        How many blocs a hub must tie together.
    min_degree : int, default 4
        Fewest kept links a hub has. Two would do to tie two blocs; four keeps
        an ordinary member of a chain (Brighton between Eastbourne and Crawley
        when the weaker Sussex links are not kept) from being taken for a hub.

    Returns
    -------
    list of str
        The hubs' codes, sorted.
    """
    if min_bloc < 1 or min_blocs < 2:
        raise InputError(f"min_bloc must be >= 1 and min_blocs >= 2, got {min_bloc}, {min_blocs}")
    graph = kept_graph(links, clusters)
    hubs = [
        node
        for node, pieces in _pieces_without(graph).items()
        if graph.degree(node) >= min_degree
        and sum(size >= min_bloc for size in pieces) >= min_blocs
    ]
    return sorted(hubs)


def _pieces_without(graph: nx.Graph) -> dict[str, list[int]]:
    """For every cut vertex, the sizes of the pieces its removal leaves of its component.

    Read off the block-cut tree (blocks and cut vertices, linked where a cut
    vertex belongs to a block) instead of removing each vertex in turn: a
    block counts its members that are not cut vertices, a cut vertex itself,
    and the pieces left by a cut vertex are the subtrees hanging from it.
    """
    cuts = set(nx.articulation_points(graph))
    tree = nx.Graph()
    weight: dict = {}
    for index, block in enumerate(nx.biconnected_components(graph)):
        weight[("block", index)] = len(block - cuts)
        tree.add_edges_from((("block", index), ("cut", node)) for node in block & cuts)
    for node in cuts:
        weight[("cut", node)] = 1
    pieces: dict[str, list[int]] = {}
    for component in nx.connected_components(tree):
        root = next(iter(component))
        total = sum(weight[t] for t in component)
        parent = dict(nx.bfs_predecessors(tree, root))
        below = {t: weight[t] for t in component}
        for t in reversed(list(nx.bfs_tree(tree, root))):
            if t in parent:
                below[parent[t]] += below[t]
        for t in component:
            if t[0] != "cut":
                continue
            sizes = [below[child] for child in tree[t] if parent.get(child) == t]
            if t != root:
                sizes.append(total - below[t])
            pieces[t[1]] = sizes
    return pieces


def cohesive_conurbations(
    links: pd.DataFrame,
    clusters: Iterable[str] | None = None,
    *,
    method: Literal["cohesion", "louvain", "components"] = "cohesion",
    hubs: Iterable[str] | Literal["auto"] | None = "auto",
    min_strength: float = DEFAULT_MIN_STRENGTH,
    linkage: Literal["member", "geometric", "average", "single"] = "member",
    max_members: int | None = 8,
    max_diameter: int | None = 2,
    min_members: int = 2,
    resolution: float = 1.0,
    seed: int = 0,
    hub_options: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Partition the cluster areas into conurbations that one weak link cannot join.

    Methods:

    - ``"cohesion"`` (default): start from single areas and repeatedly merge
      the two groups most strongly tied, while their tie reaches
      ``min_strength``, the merged group has at most ``max_members`` areas and
      at most ``max_diameter`` kept links between any two members. The tie of
      two groups is, with ``linkage="member"``, the summed strength of the
      kept links between them divided by the size of the smaller group: each
      member of the smaller group must be, on average, that strongly tied to
      the other. One link of strength s joins a single area to a group when
      s >= ``min_strength``, but joins two groups of three only when
      s / 3 >= ``min_strength``. ``linkage="geometric"`` divides by the
      geometric mean of the sizes, ``"average"`` by their product (every pair
      counts, untied pairs as 0); ``"single"`` takes the strongest link (a
      chain, held back only by the size and diameter caps).
    - ``"louvain"``: Louvain communities of the kept-link graph weighted by
      strength (:func:`networkx.community.louvain_communities`, with
      ``resolution`` and ``seed``), split into connected pieces.
    - ``"components"``: connected components of the links whose areas share a
      specialisation, whatever their strength: the old merge, for comparison.

    Hubs are kept out of every merge and stay clusters on their own.

    Parameters
    ----------
    links : pandas.DataFrame
        The output of :func:`link_table`.
    clusters : iterable of str, optional
        Every cluster area, linked or not; the areas in the links by default.
    method : {"cohesion", "louvain", "components"}, default "cohesion"
        The rule, see above.
    hubs : "auto", iterable of str or None, default "auto"
        ``"auto"`` finds them with :func:`find_hubs` (options in
        ``hub_options``); codes name them by hand; ``None`` keeps none out.
    min_strength : float, default 0.3
        Weakest link that is kept (the links' ``kept`` column is recomputed:
        a shared group and this strength), and smallest tie that merges
        (``"cohesion"``).
    linkage : {"member", "geometric", "average", "single"}, default "member"
        The tie between two groups (``"cohesion"``).
    max_members : int or None, default 8
        Largest conurbation (``"cohesion"``); ``None`` for no cap. A safety
        net: on the GB TTWAs the diameter already keeps every conurbation
        below it.
    max_diameter : int or None, default 2
        Largest number of kept links between two members (``"cohesion"``).
    min_members : int, default 2
        Smallest group called a conurbation.
    resolution : float, default 1.0
        Louvain resolution; higher gives smaller communities.
    seed : int, default 0
        Louvain seed; the same seed gives the same communities.
    hub_options : mapping, optional
        Keyword options of :func:`find_hubs`.

    Returns
    -------
    pandas.DataFrame
        Indexed by cluster area (a partition: every area in exactly one
        group): ``group`` (0, 1, … by size), ``size``, ``conurbation``
        (``"C1"``, ``"C2"``, … for groups of at least ``min_members``, else
        ``""``) and ``hub`` (kept out of every merge).
    """
    check_choice("method", method, METHODS)
    check_choice("linkage", linkage, LINKAGES)
    if not 0 <= min_strength <= 1:
        raise InputError(f"min_strength is a strength in [0, 1], got {min_strength!r}")
    for name, value in (("max_members", max_members), ("max_diameter", max_diameter)):
        if value is not None and value < 1:
            raise InputError(f"{name} must be at least 1 or None, got {value!r}")
    codes = _clusters(links, clusters)
    links = links.assign(kept=(links["n_shared"] > 0) & (links["strength"] >= min_strength))
    if isinstance(hubs, str) and hubs != "auto":
        raise InputError(
            f"hubs={hubs!r}: pass 'auto', None or a list of area codes", fix=f"hubs=[{hubs!r}]"
        )
    if isinstance(hubs, str):
        hub_list = find_hubs(links, codes, **dict(hub_options or {}))
    else:
        hub_list = sorted({str(h) for h in hubs or ()})
        absent = sorted(set(hub_list) - set(codes))
        if absent:
            raise InputError(
                "hubs that are not cluster areas", rows=absent, fix="name hubs among the clusters"
            )
    graph = kept_graph(links, codes)
    graph.remove_edges_from(list(graph.edges(hub_list)))
    if method == "components":
        shared = links[links["n_shared"] > 0]
        graph = nx.Graph()
        graph.add_nodes_from(codes)
        graph.add_edges_from(
            (a, b)
            for a, b in zip(shared["from"].astype(str), shared["to"].astype(str), strict=True)
            if a not in hub_list and b not in hub_list
        )
        groups = [set(c) for c in nx.connected_components(graph)]
    elif method == "louvain":
        communities = nx.community.louvain_communities(
            graph, weight="strength", resolution=resolution, seed=seed
        )
        groups = [
            set(piece) for c in communities for piece in nx.connected_components(graph.subgraph(c))
        ]
    else:
        groups = _agglomerate(graph, min_strength, linkage, max_members, max_diameter)
    return _partition(groups, codes, hub_list, min_members)


def _clusters(links: pd.DataFrame, clusters) -> list[str]:
    if clusters is None:
        clusters = pd.concat([links["from"], links["to"]]).unique()
    codes = sorted({str(c) for c in clusters})
    stray = sorted((set(links["from"].astype(str)) | set(links["to"].astype(str))) - set(codes))
    if stray:
        raise InputError(
            "the links name areas that are not among the clusters",
            rows=stray,
            fix="pass every cluster area, or the links of these clusters only",
        )
    return codes


def _agglomerate(
    graph: nx.Graph, floor: float, linkage: str, max_members, max_diameter
) -> list[set[str]]:
    """Greedy agglomeration on the kept links; see :func:`cohesive_conurbations`.

    The ties between groups are kept up to date as groups merge (only the
    merged group's ties change), and the candidates wait in a heap; an entry
    whose groups have changed since it was pushed is stale and skipped. A
    refused pair is therefore tried again only once one of its groups grows.
    """
    codes = sorted(graph.nodes)
    position = {code: index for index, code in enumerate(codes)}
    groups = {index: {code} for index, code in enumerate(codes)}
    first = {index: code for index, code in enumerate(codes)}
    version = dict.fromkeys(groups, 0)
    # between[g][h] = [summed strength, strongest] of the kept links between g and h
    between: dict[int, dict[int, list[float]]] = {index: {} for index in groups}
    for a, b, strength in graph.edges(data="strength"):
        ga, gb = position[a], position[b]
        between[ga][gb] = between[gb][ga] = [strength, strength]

    def tie(ga: int, gb: int) -> float:
        total, strongest = between[ga][gb]
        na, nb = len(groups[ga]), len(groups[gb])
        if linkage == "member":
            return total / min(na, nb)
        if linkage == "geometric":
            return total / np.sqrt(na * nb)
        if linkage == "average":
            return total / (na * nb)
        return strongest

    heap: list[tuple] = []

    def push(ga: int, gb: int) -> None:
        low, high = min(ga, gb), max(ga, gb)
        value = tie(low, high)
        if value >= floor - 1e-12:
            key = min(first[low], first[high])
            heapq.heappush(heap, (-value, key, low, high, version[low], version[high]))

    for ga in list(between):
        for gb in between[ga]:
            if ga < gb:
                push(ga, gb)
    while heap:
        _, _, ga, gb, seen_a, seen_b = heapq.heappop(heap)
        if ga not in groups or gb not in groups or (version[ga], version[gb]) != (seen_a, seen_b):
            continue
        union = groups[ga] | groups[gb]
        if max_members is not None and len(union) > max_members:
            continue
        if max_diameter is not None and nx.diameter(graph.subgraph(union)) > max_diameter:
            continue
        groups[ga] = union
        first[ga] = min(first[ga], first[gb])
        version[ga] += 1
        del groups[gb], first[gb], version[gb]
        for other, (total, strongest) in between.pop(gb).items():
            del between[other][gb]
            if other == ga:
                continue
            merged = between[ga].setdefault(other, [0.0, 0.0])
            merged[0] += total
            merged[1] = max(merged[1], strongest)
            between[other][ga] = merged
        for other in between[ga]:
            push(ga, other)
    return list(groups.values())


def _partition(groups, codes, hubs, min_members) -> pd.DataFrame:
    ordered = sorted(groups, key=lambda g: (-len(g), min(g)))
    rows = []
    number = 0
    for index, members in enumerate(ordered):
        label = ""
        if len(members) >= min_members:
            number += 1
            label = f"C{number}"
        rows += [(code, index, len(members), label, code in hubs) for code in members]
    table = pd.DataFrame(rows, columns=["area", "group", "size", "conurbation", "hub"])
    table = table.set_index("area").loc[codes]
    return table
