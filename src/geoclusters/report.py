"""A self-contained HTML report of clusters and conurbations, to hand on.

One file, no external requests: the maps are PNGs embedded as base64 data URIs,
the CSS is inline and there is no JavaScript, so the report opens offline, can
be mailed or archived, and prints cleanly. Every string that comes from the
data (names, groups, parameters, notes) is HTML-escaped.
"""

from __future__ import annotations

import base64
import io
import json
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from importlib import resources
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._style import (
    CLUSTER_TYPES,
    NOT_CLUSTERS,
    SHOWN_METRICS,
    SYNTHETIC_LABEL,
    TYPE_COLOURS,
    is_synthetic,
    lisa_labels,
    lisa_pairs,
    metric_lookup,
    metrics_of,
    pair_label,
    pairs,
    table_of,
)
from .errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    from libpysal.graph import Graph
    from matplotlib.figure import Figure

__all__ = ["flatten_parameters", "write_report"]

_DPI = 100
_CRITERIA_TEXT = {
    "concentration": (
        "High concentration: among the areas whose count in the later period is large "
        "enough (at or above the size threshold), those with the highest location quotient "
        "in the later period."
    ),
    "growth": (
        "High growth: among the areas whose count in the earlier period is large enough, "
        "those with the largest relative change in location quotient (LQ2 / LQ1 − 1)."
    ),
    "hotspot": (
        "Hotspots: areas in statistically significant High-High local clusters (local "
        "Moran's I with conditional permutation inference), whose neighbours are also high."
    ),
    "threshold": "Thresholds: areas whose value passes a fixed threshold.",
}


# --------------------------------------------------------------------------- small pieces


def _e(value: Any) -> str:
    """Escape anything for HTML text or attribute values."""
    return escape("" if value is None else str(value), quote=True)


def _plain(value: Any) -> str:
    """A parameter value as text: JSON spelling for scalars, lists joined by commas."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value) if value else "[]"
    return json.dumps(value, default=str)


def flatten_parameters(parameters: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Flatten nested parameters into dotted keys with plain-text values.

    Parameters
    ----------
    parameters : mapping
        Nested parameters, e.g. ``provenance["parameters"]``.
    prefix : str, optional
        Prepended (with a dot) to every key.

    Returns
    -------
    dict
        ``"outer.inner"`` → value as text: strings as they are, numbers and
        booleans in JSON spelling, lists joined with ", ", dicts inside lists
        as JSON. An empty dict or list is kept as ``"{}"`` / ``"[]"``.

    Examples
    --------
    >>> flatten_parameters({"quantile": 0.75, "groups": {"businesses": ["a", "b"]},
    ...                     "hubs": None, "fuzzy": False})
    {'quantile': '0.75', 'groups.businesses': 'a, b', 'hubs': 'null', 'fuzzy': 'false'}
    """
    flat: dict[str, str] = {}
    for key, value in parameters.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            flat.update(flatten_parameters(value, name))
        elif isinstance(value, Mapping):
            flat[name] = "{}"
        else:
            flat[name] = _plain(value)
    return flat


def _table(
    headers: list[str],
    rows: list[list[str]],
    numeric: Iterable[int] = (),
    widths: Iterable[int] | None = None,
) -> str:
    """An HTML table; cells are already-escaped HTML.

    With ``widths`` (percentages) the columns are fixed and long cells wrap
    inside them, so a wide table keeps to the page's column.
    """
    numeric = set(numeric)
    columns = (
        "<colgroup>" + "".join(f'<col style="width:{w}%">' for w in widths) + "</colgroup>"
        if widths is not None
        else ""
    )
    fixed = ' class="fixed"' if widths is not None else ""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "\n".join(
        "<tr>"
        + "".join(
            f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="scroll"><table{fixed}>{columns}\n<thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{body}\n</tbody>\n</table></div>"
    )


def _png(fig: Figure) -> str:
    """A figure as a PNG data URI; the figure is released afterwards."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI, bbox_inches="tight", facecolor="white")
    fig.clear()
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(uri: str, alt: str, caption: str) -> str:
    return (
        f'<figure><img src="{uri}" alt="{_e(alt)}"><figcaption>{_e(caption)}</figcaption></figure>'
    )


def _grid(n: int, panel: tuple[float, float]) -> tuple[Figure, list]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    # one or two panels get the room of three, so a lone map stays legible
    scale = 3 / ncols if ncols < 3 else 1.0
    scale = min(scale, 1.6)
    fig = Figure(figsize=(panel[0] * ncols * scale, panel[1] * nrows * scale), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_axis_off()
    return fig, axes[:n]


def _split_groups(text: Any) -> list[str]:
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return []
    return [part.strip() for part in str(text).split(";") if part.strip()]


def _metrics_html(lookup: dict, code: str, chosen: Iterable[tuple[str, str]]) -> str:
    """Count, LQ and LQ change of the chosen (measure, group) pairs of one area."""
    lines = [
        _metric_line(lookup[(str(code), m, g)], m, g)
        for m, g in chosen
        if (str(code), m, g) in lookup
    ]
    return "<br>".join(lines) if lines else "–"


def _metric_line(values: Mapping[str, float], measure: str, group: str) -> str:
    parts = [
        f"{heading if heading != 'LQ change' else 'growth'} {formatter(values[metric])}"
        for metric, heading, formatter in SHOWN_METRICS
        if metric in values
    ]
    return f"<b>{_e(pair_label(measure, group))}</b>: {_e(' · '.join(parts))}"


def _breakable(text: str) -> str:
    """Escaped ``measure:group`` text that may wrap after the colon in a narrow column."""
    return _e(text).replace(":", ":<wbr>")


def _swatch(cluster_type: str) -> str:
    colour = TYPE_COLOURS.get(cluster_type, "#ffffff")
    return f'<span class="swatch" style="background:{colour}"></span>{_e(cluster_type)}'


# --------------------------------------------------------------------------- sections


def _check(areas: Any, clusters: Any, conurbations: Any) -> None:
    import geopandas as gpd

    if not isinstance(areas, gpd.GeoDataFrame):
        raise InputError(f"areas must be a GeoDataFrame, not {type(areas).__name__}")
    missing = [c for c in ("name", "cluster_type") if c not in areas.columns]
    if missing:
        raise InputError(
            f"areas lacks the column(s) {', '.join(missing)}",
            fix="pass the areas returned by the pipeline",
        )
    if areas.index.has_duplicates:
        raise InputError(
            "areas have duplicate codes", rows=areas.index[areas.index.duplicated()].tolist()
        )
    if not isinstance(clusters, pd.DataFrame) or "area" not in clusters.columns:
        raise InputError(
            "clusters must be a DataFrame with an 'area' column",
            fix="pass the cluster table returned by the detection step",
        )
    unknown = sorted(set(clusters["area"].astype(str)) - set(areas.index.astype(str)))
    if unknown:
        raise InputError(
            "clusters name areas that are not in areas",
            rows=unknown,
            fix="pass the areas and clusters from the same run",
        )
    if conurbations is not None and len(conurbations) and "name" not in conurbations.columns:
        raise InputError("conurbations lacks the column 'name'")


def _summary(areas: gpd.GeoDataFrame, clusters: pd.DataFrame, conurbations: Any) -> str:
    types = areas["cluster_type"].value_counts()
    n_clusters = int(sum(types.get(t, 0) for t in CLUSTER_TYPES if t not in NOT_CLUSTERS))
    by_type = "".join(
        f"<li>{_swatch(t)}: {int(types.get(t, 0))}</li>"
        for t in CLUSTER_TYPES
        if t not in NOT_CLUSTERS
    )
    n_no_data = int(types.get("no data", 0))
    n_con = 0 if conurbations is None else len(conurbations)
    in_con = (
        int((areas["conurbation"].fillna("").astype(str) != "").sum())
        if "conurbation" in areas
        else 0
    )
    methods = sorted(set(clusters["method"].astype(str))) if "method" in clusters else []
    return (
        '<ul class="summary">'
        f"<li><b>{len(areas) - n_no_data}</b> areas analysed ({_e(_crs(areas))}).</li>"
        f"<li><b>{n_clusters}</b> cluster areas, by type:<ul>{by_type}</ul></li>"
        f"<li><b>{int(types.get('none', 0))}</b> areas are not clusters.</li>"
        + (
            f"<li>{_swatch('no data')}: <b>{n_no_data}</b> areas had no counts "
            "and were left out of the analysis.</li>"
            if n_no_data
            else ""
        )
        + f"<li><b>{n_con}</b> conurbation{'s' if n_con != 1 else ''}"
        + (f", joining {in_con} areas" if n_con else "")
        + ".</li>"
        + (f"<li>Detection method: {_e(', '.join(methods))}.</li>" if methods else "")
        + "</ul>"
    )


def _crs(areas: gpd.GeoDataFrame) -> str:
    if areas.crs is None:
        return "no CRS"
    epsg = areas.crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else areas.crs.name


def _figures(
    areas: gpd.GeoDataFrame,
    conurbations: Any,
    graph: Graph | None,
    synthetic: bool,
    metrics: pd.DataFrame | None,
    lisa: pd.DataFrame | None,
    focus: Any = None,
) -> str:
    from .maps import lisa_maps, moran_scatterplot, typology_map

    mark = f"{SYNTHETIC_LABEL}. " if synthetic else ""
    parts = [
        _figure(
            _png(typology_map(areas, conurbations)),
            "Map of cluster types with conurbations outlined",
            f"{mark}Cluster type of every area; conurbations outlined in black and named.",
        )
    ]
    if focus is not None:
        parts.append(
            _figure(
                _png(
                    typology_map(
                        areas, conurbations, extent=focus, title="Detail", label_areas=True
                    )
                ),
                "Detail map of the focus areas",
                f"{mark}Detail of the chosen areas, at a larger scale; conurbations named.",
            )
        )
    lisas = lisa_pairs(lisa)
    if lisas:
        parts.append(
            _figure(
                _png(lisa_maps(areas, lisa)),
                "Local Moran (LISA) cluster maps",
                f"{mark}Local spatial clusters (LISA) by measure and sector group, in GeoDa's "
                "colours: High-High red, Low-Low blue, Low-High light blue, High-Low pink; "
                "white areas have no data (no value, or no neighbour).",
            )
        )
    if graph is not None:
        lookup = metric_lookup(metrics)
        chosen = [p for p in (lisas or pairs(metrics)) if p in set(pairs(metrics))]
        if chosen:
            fig, axes = _grid(len(chosen), (4.2, 4.2))
            left_out = []
            codes = areas.index.astype(str)
            for (measure, group), ax in zip(chosen, axes, strict=True):
                lq = [lookup.get((c, measure, group), {}).get("lq") for c in codes]
                values = pd.Series(lq, index=areas.index, dtype=float).rename(
                    pair_label(measure, group) + " LQ"
                )
                values.attrs = dict(areas.attrs)
                known = values.dropna()
                if len(known) < len(values):
                    left_out.append(f"{values.name}: {len(values) - len(known)}")
                clusters = (
                    lisa_labels(lisa, measure, group, known.index)
                    if (measure, group) in set(lisas)
                    else None
                )
                moran_scatterplot(known, graph.subgraph(known.index), ax=ax, result=clusters)
            note = (
                " Areas without a value were left out (" + "; ".join(left_out) + ")."
                if left_out
                else ""
            )
            parts.append(
                _figure(
                    _png(fig),
                    "Moran scatterplots",
                    f"{mark}Moran scatterplots of the location quotients: standardised value "
                    "against the mean of the neighbours (row-standardised); the slope of the "
                    "red line is Moran's I."
                    + (
                        " Points are coloured by their LISA cluster, as on the maps."
                        if lisas
                        else ""
                    )
                    + note,
                )
            )
    return "\n".join(parts)


def _cluster_table(
    areas: gpd.GeoDataFrame, clusters: pd.DataFrame, metrics: pd.DataFrame | None
) -> str:
    chosen = areas[~areas["cluster_type"].isin(NOT_CLUSTERS)]
    if chosen.empty:
        return "<p>No area was selected as a cluster.</p>"
    order = {t: i for i, t in enumerate(CLUSTER_TYPES)}
    chosen = chosen.assign(
        _order=chosen["cluster_type"].map(order), _name=chosen["name"].astype(str)
    ).sort_values(["_order", "_name"])
    lookup = metric_lookup(metrics)
    selections = clusters.assign(area=clusters["area"].astype(str))
    several_methods = "method" in selections and selections["method"].nunique() > 1
    rows = []
    for code, row in chosen.iterrows():
        concentration = _split_groups(row.get("concentration_groups"))
        growth = _split_groups(row.get("growth_groups"))
        mine = selections[selections["area"] == str(code)]
        chosen = (
            list(dict.fromkeys(zip(mine["measure"], mine["group"], strict=True)))
            if {"measure", "group"} <= set(mine.columns)
            else []
        )
        by = []
        for _, sel in mine.iterrows():
            text = f"{sel.get('criterion', '')} {sel.get('measure', '')}:{sel.get('group', '')}"
            if "rank" in sel and pd.notna(sel["rank"]):
                text += f" (rank {int(sel['rank'])})"
            if several_methods:
                text = f"{sel['method']}: {text}"
            by.append(_e(text.strip()))
        rows.append(
            [
                f'<span class="code">{_e(code)}</span>',
                _e(row["name"]),
                f'<span class="type">{_swatch(str(row["cluster_type"]))}</span>',
                _conurbation_cell(row.get("conurbation", "")),
                _breakable("; ".join(concentration) or "–"),
                _breakable("; ".join(growth) or "–"),
                _metrics_html(lookup, code, chosen),
                "<br>".join(by) or "–",
            ]
        )
    return f"<p>{len(rows)} cluster areas, by type then name.</p>" + _table(
        [
            "Code",
            "Name",
            "Type",
            "Conurbation",
            "High concentration in",
            "High growth in",
            "Key metrics",
            "Selected by",
        ],
        rows,
        widths=(10, 10, 10, 13, 14, 11, 18, 14),
    )


def _conurbation_cell(name: Any) -> str:
    """A conurbation's first members and how many more; the full list is in its own table."""
    if name is None or (isinstance(name, float) and math.isnan(name)) or not str(name):
        return "–"
    members = str(name).split(" – ")
    if len(members) <= 4:
        return _e(name)
    return (
        f'<span title="{_e(name)}">{_e(" – ".join(members[:3]))} + {len(members) - 3} more</span>'
    )


def _conurbation_table(conurbations: Any, areas: gpd.GeoDataFrame) -> str:
    merged = metrics_of(conurbations)
    conurbations = table_of(conurbations)
    if conurbations is None or len(conurbations) == 0:
        return "<p>No conurbations: no two touching cluster areas share a specialisation.</p>"
    lookup = metric_lookup(merged)
    available = pairs(merged)
    names = areas["name"].astype(str)
    rows = []
    for code, row in conurbations.iterrows():
        members = _split_groups(row.get("members", ""))
        member_text = "<br>".join(
            f'{_e(names.get(c, c))} <span class="code">({_e(c)})</span>' for c in members
        )
        sectors = _split_groups(row.get("sectors", ""))
        n_members = row.get("n_members", len(members))
        rows.append(
            [
                _e(row["name"]),
                _e(n_members),
                member_text or "–",
                _e("; ".join(sectors) or "–"),
                _metrics_html(lookup, code, _shared_pairs(available, sectors)),
                _e(row.get("rule", "") or "–"),
            ]
        )
    return _table(
        ["Name", "Areas", "Members", "Shared sectors", "Key metrics", "Rule"], rows, numeric=[1]
    )


def _shared_pairs(available: list[tuple[str, str]], sectors: list[str]) -> list[tuple[str, str]]:
    """The (measure, group) pairs a conurbation's shared sectors stand for.

    A sector is a group name (any measure) or a ``"measure:group"`` label,
    as :func:`geoclusters.merge_conurbations` writes them.
    """
    wanted = set(sectors)
    return [(m, g) for m, g in available if g in wanted or pair_label(m, g) in wanted]


def _selections_table(clusters: pd.DataFrame, areas: gpd.GeoDataFrame) -> str:
    if clusters.empty:
        return "<p>No selections.</p>"
    frame = clusters.copy()
    if "name" not in frame:
        frame.insert(1, "name", frame["area"].astype(str).map(areas["name"]))
    numeric = [i for i, c in enumerate(frame.columns) if pd.api.types.is_numeric_dtype(frame[c])]

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "–" if math.isnan(value) else _e(f"{value:.4g}")
        return _e(value)

    rows = [[cell(v) for v in record] for record in frame.itertuples(index=False)]
    return f"<p>{len(rows)} selections, one row per area and criterion.</p>" + _table(
        [str(c) for c in frame.columns], rows, numeric=numeric
    )


_LINK_COLUMNS = (
    "from",
    "to",
    "from_name",
    "to_name",
    "shared",
    "flow",
    "similarity",
    "strength",
    "kept",
    "why",
)
_MAX_LINKS = 300


def _number(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}"
    return _e(value)


def _links_section(links: Any, areas: gpd.GeoDataFrame) -> str:
    """The links between touching clusters, strongest first, with why each was kept or cut."""
    if not isinstance(links, pd.DataFrame) or links.empty:
        return ""
    frame = links.rename(columns={"area": "from", "neighbour": "to"})
    if not {"from", "to"} <= set(frame.columns):
        return ""
    names = areas["name"].astype(str)
    for end in ("from", "to"):
        if f"{end}_name" not in frame:
            frame[f"{end}_name"] = frame[end].astype(str).map(names)
    order = [c for c in ("kept", "strength") if c in frame]
    if order:
        frame = frame.sort_values(order, ascending=False, kind="stable")
    shown = frame.head(_MAX_LINKS)
    numeric = [c for c in ("flow", "similarity", "strength") if c in frame]
    headers = ["Between", "Shared", *(c.capitalize() for c in numeric)]
    headers += [h for c, h in (("kept", "Kept"), ("why", "Why")) if c in frame]
    rows = []
    for _, row in shown.iterrows():
        cells = [
            f'{_e(row["from_name"])} <span class="code">({_e(row["from"])})</span> – '
            f'{_e(row["to_name"])} <span class="code">({_e(row["to"])})</span>',
            _e("; ".join(_split_groups(row.get("shared"))) or "–"),
            *(_number(row[c]) for c in numeric),
        ]
        if "kept" in frame:
            cells.append(_number(bool(row["kept"])) if pd.notna(row["kept"]) else "–")
        if "why" in frame:
            cells.append(_e(row["why"]) if pd.notna(row["why"]) else "–")
        rows.append(cells)
    more = (
        f" The {len(frame) - _MAX_LINKS} weakest are left out here."
        if len(frame) > _MAX_LINKS
        else ""
    )
    explained = (
        "Each row is a pair of touching cluster areas: the specialisations they share, "
        + (
            "the commuting between them (flow), how alike their sector profiles are "
            "(similarity), the strength of the tie, "
            if "strength" in frame
            else ""
        )
        + (
            "and whether the link was kept to build a conurbation, and why."
            if "kept" in frame
            else "the links the conurbations were merged along."
        )
    )
    return (
        '<section id="links">\n  <h2>Links between clusters</h2>\n'
        f"<p>{explained}{more}</p>"
        + _table(headers, rows, numeric=range(2, 2 + len(numeric)))
        + "\n</section>"
    )


def _robust_section(
    sensitivity: Any, areas: gpd.GeoDataFrame, conurbations: Any, synthetic: bool
) -> str:
    """How often each area stays a cluster, and each conurbation whole, over varied runs."""
    table = getattr(sensitivity, "areas", None)
    if not isinstance(table, pd.DataFrame) or table.empty or "cluster_share" not in table:
        return ""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ._style import cartography

    share = table["cluster_share"].reindex(areas.index.astype(str))
    share.index = areas.index
    minx, miny, maxx, maxy = areas.total_bounds
    aspect = (maxy - miny) / (maxx - minx) if maxx > minx else 1.0
    fig = Figure(figsize=(8.0, float(min(max(6.0 * aspect, 4.0), 11.0))), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    shaded = areas[[areas.geometry.name]].assign(share=share.to_numpy())
    shaded.plot(
        ax=ax,
        column="share",
        cmap="Purples",
        vmin=0.0,
        vmax=1.0,
        edgecolor="#8c8c8c",
        linewidth=0.3,
        legend=True,
        legend_kwds={"label": "share of runs in which the area is a cluster", "shrink": 0.6},
        missing_kwds={"color": "#ffffff", "edgecolor": "#8c8c8c", "label": "no data"},
    )
    drawn = table_of(conurbations)
    if drawn is not None and len(drawn):
        drawn = drawn.to_crs(areas.crs) if drawn.crs != areas.crs else drawn
        drawn.boundary.plot(ax=ax, color="#222222", linewidth=1.6)
    ax.set_axis_off()
    ax.set_title("How often each area is a cluster", fontsize=11)
    cartography(ax, areas)
    runs = int(pd.to_numeric(table.get("runs"), errors="coerce").max()) if "runs" in table else None
    n_robust = int(table["robust"].fillna(False).astype(bool).sum()) if "robust" in table else None
    mark = f"{SYNTHETIC_LABEL}. " if synthetic else ""
    parts = [
        '<section id="robustness">\n  <h2>How robust</h2>',
        "<p>The analysis was repeated with its choices varied"
        + (f" ({runs} runs)" if runs else "")
        + "; the map shades each area by the share of runs in which it is a cluster."
        + (
            f" <b>{n_robust}</b> areas are clusters in most runs (robust)."
            if n_robust is not None
            else ""
        )
        + "</p>",
        _figure(
            _png(fig),
            "Map of how often each area is a cluster",
            f"{mark}Share of runs in which each area is a cluster; conurbations outlined.",
        ),
    ]
    stability = getattr(sensitivity, "conurbations", None)
    if isinstance(stability, pd.DataFrame) and not stability.empty and "stability" in stability:
        names = areas["name"].astype(str)
        rows = []
        for _, row in stability.sort_values("stability", ascending=False).iterrows():
            members = _split_groups(row.get("members", ""))
            rows.append(
                [
                    _e(row.get("conurbation", "")),
                    ", ".join(_e(names.get(c, c)) for c in members) or "–",
                    _e(f"{float(row['stability']):.0%}") if pd.notna(row["stability"]) else "–",
                ]
            )
        parts.append(
            "<p>How often each conurbation comes out whole (its members together) over the "
            "runs.</p>" + _table(["Conurbation", "Members", "Stability"], rows, numeric=[2])
        )
    parts.append("</section>")
    return "\n".join(parts)


def _method(
    method: str | None,
    areas: gpd.GeoDataFrame,
    clusters: pd.DataFrame,
    conurbations: Any,
    graph_given: bool,
    metrics: pd.DataFrame | None,
    lisa: pd.DataFrame | None,
) -> str:
    if method:
        paragraphs = [p.strip() for p in str(method).split("\n\n") if p.strip()]
        return "".join(f"<p>{_e(p)}</p>" for p in paragraphs)
    groups = ", ".join(pair_label(m, g) for m, g in pairs(metrics)) or "the sector groups"
    text = [
        f"The {len(areas)} areas were compared on their counts by measure and sector group "
        f"({groups}). The location quotient (LQ) of a group in an area is the area's share "
        "of the group's total divided by its share of all-industry activity: above 1, the "
        "group is more concentrated there than across all areas. Growth is the relative "
        "change in LQ between the earlier and the later period (LQ2 / LQ1 − 1).",
    ]
    criteria = (
        [c for c in dict.fromkeys(clusters["criterion"].astype(str)) if c]
        if "criterion" in clusters
        else []
    )
    for criterion in criteria:
        text.append(_CRITERIA_TEXT.get(criterion, f"{criterion.capitalize()} (see parameters)."))
    text.append(
        "An area selected for high concentration and for high growth (in any group) is "
        "typed “both”. Areas that were not selected are typed “none”."
    )
    if conurbations is not None and len(conurbations):
        rules = (
            sorted({str(r) for r in conurbations["rule"] if str(r)})
            if "rule" in conurbations
            else []
        )
        text.append(
            "Cluster areas that touch and share a specialisation (the same sector group high "
            "in concentration or growth) were merged into conurbations: the connected groups "
            "of that graph, with their counts summed and LQ and growth recomputed."
            + (f" Rule: {'; '.join(rules)}." if rules else "")
        )
    if lisa_pairs(lisa):
        text.append(
            "Local spatial clusters (LISA) are local Moran's I on the location quotients with "
            "conditional permutation inference; High-High areas are high and surrounded by "
            "high values."
            + (" The Moran scatterplots show the global pattern." if graph_given else "")
        )
    text.append("Every parameter of the run is listed below, so the result can be reproduced.")
    return "".join(f"<p>{_e(p)}</p>" for p in text)


#: Parameters only one detection method reads; the others' are left out of the report.
_METHOD_PARAMETERS = {
    "nesta2016": ("quantile", "top_n"),
    "thresholds": ("lq_min", "count_min", "lq_change_min"),
    "hotspots": ("statistic", "variable"),
}
#: Read by the hot-spot detector and by the LISA maps: kept for either.
_INFERENCE_PARAMETERS = ("correction", "alpha", "permutations", "permutations_used", "seed")


def _used_parameters(parameters: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The parameters the chosen method (and the LISA step, if run) read; the names left out."""
    method = parameters.get("method")
    if method not in _METHOD_PARAMETERS:
        return dict(parameters), []
    unused = {
        name for other, names in _METHOD_PARAMETERS.items() if other != method for name in names
    }
    if method != "hotspots" and parameters.get("lisa") is False:
        unused |= set(_INFERENCE_PARAMETERS)
    if not parameters.get("permutations_used"):
        unused.add("permutations_used")
    left_out = [k for k in parameters if k in unused]
    return {k: v for k, v in parameters.items() if k not in unused}, left_out


def _parameters(provenance: Mapping[str, Any]) -> str:
    used, left_out = _used_parameters(provenance.get("parameters") or {})
    flat = flatten_parameters(used)
    if not flat:
        return "<p>No parameters were recorded.</p>"
    rows = [[f"<code>{_e(k)}</code>", _e(v)] for k, v in flat.items()]
    note = (
        f'<p class="note">Left out, as the {_e(used.get("method"))} method does not use them: '
        + ", ".join(f"<code>{_e(k)}</code>" for k in left_out)
        + " (they are in provenance.json).</p>"
        if left_out
        else ""
    )
    return _table(["Parameter", "Value"], rows) + note


def _inputs(provenance: Mapping[str, Any]) -> str:
    inputs = provenance.get("inputs") or {}
    if not inputs:
        return "<p>No input fingerprints were recorded.</p>"
    rows = [[_e(k), f"<code>{_e(v)}</code>"] for k, v in inputs.items()]
    return (
        "<p>Content fingerprints of the inputs (a hash of values and geometry): the same "
        "fingerprint means the same data.</p>" + _table(["Input", "Fingerprint"], rows)
    )


def _notes(provenance: Mapping[str, Any], synthetic: bool) -> str:
    notes = [str(n) for n in provenance.get("notes") or []]
    if synthetic and not any(SYNTHETIC_LABEL.lower() in n.lower() for n in notes):
        notes.insert(0, f"{SYNTHETIC_LABEL}: the counts are made up for demonstration.")
    if not notes:
        return "<p>No notes.</p>"
    return "<h3>Notes</h3><ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>"


# --------------------------------------------------------------------------- entry point


def write_report(
    areas: gpd.GeoDataFrame,
    clusters: pd.DataFrame,
    conurbations: Any,
    provenance: Mapping[str, Any],
    *legacy: Any,
    metrics: pd.DataFrame | None = None,
    lisa: pd.DataFrame | None = None,
    graph: Graph | None = None,
    title: str | None = None,
    method: str | None = None,
    path: str | Path | None = None,
    links: pd.DataFrame | None = None,
    sensitivity: Any = None,
    focus: Sequence[float] | Sequence[str] | None = None,
) -> Path:
    """Write one self-contained HTML report of the clusters and conurbations.

    The report has a title and summary (areas, clusters by type,
    conurbations), the typology map (plus LISA maps when ``lisa_*`` columns
    exist and Moran scatterplots of the LQs when ``graph`` is given), the
    cluster table (one row per cluster area), the conurbation table, the method
    in plain language, every parameter, the input fingerprints and the notes,
    and an appendix with every selection. It makes no external request: images
    are data URIs, CSS is inline, there is no JavaScript.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Indexed by area code, with ``name``, ``cluster_type`` and optionally
        ``conurbation``, ``concentration_groups``, ``growth_groups``.
        ``areas.attrs["synthetic"]`` marks demo data.
    clusters : Detection or pandas.DataFrame
        One row per selection: ``area`` and, when known, ``name, method,
        criterion, measure, group, rank, value, threshold, size,
        size_threshold``. Every ``area`` must be in ``areas``.
    conurbations : Conurbations, geopandas.GeoDataFrame or None
        One row per conurbation (``name, members, n_members, sectors,
        rule``); may be empty. A :class:`~geoclusters.conurbations.Conurbations`
        also brings the merged areas' metrics.
    provenance : mapping or Provenance
        ``{"library", "version", "created", "parameters", "inputs", "notes"}``;
        a truthy ``"synthetic"`` key also marks demo data.
    metrics : pandas.DataFrame, optional
        The long per-area metrics (:func:`geoclusters.measures.metrics`), for
        the key metrics of each cluster and the Moran scatterplots.
    lisa : pandas.DataFrame, optional
        LISA labels, ``area, measure, group, label``, for the LISA maps.
    graph : libpysal.graph.Graph, optional
        Spatial weights over the areas, for the Moran scatterplots.
    title : str, optional
        By default "Industry clusters and conurbations".
    method : str, optional
        Plain-language method text (paragraphs separated by blank lines);
        by default a description built from the results.
    links : pandas.DataFrame, optional
        The links between touching clusters (``RunResult.links``: ``from, to,
        from_name, to_name, shared, flow, similarity, strength, kept, why``);
        by default the links of ``conurbations`` when it has them. Shown in
        "Links between clusters", which is left out when there are none.
    sensitivity : object, optional
        ``RunResult.sensitivity``: ``.areas`` (indexed by area, with
        ``cluster_share``, ``robust``, ...) and ``.conurbations``
        (``conurbation, members, stability``), for a "How robust" section
        with a map shaded by ``cluster_share``. Left out when absent.
    focus : sequence, optional
        Area codes (or a bounding box) for an extra detail map, e.g. Kent.
    path : str or Path
        Where to write the HTML file (parent folders are created). Required,
        by keyword: the 0.1 order ``write_report(path, areas, clusters,
        conurbations, provenance, graph, title, method)`` still works with a
        DeprecationWarning until 0.3.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InputError
        When ``clusters`` names areas that are not in ``areas``, or a required
        column is missing.

    Examples
    --------
    >>> import tempfile, pandas as pd, geopandas as gpd
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame(
    ...     {"name": ["Alpha", "Beta"], "cluster_type": ["high growth", "none"],
    ...      "conurbation": ["", ""]},
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=27700,
    ...     index=pd.Index(["A", "B"], name="area"),
    ... )
    >>> clusters = pd.DataFrame({"area": ["A"], "criterion": ["growth"]})
    >>> out = write_report(areas, clusters, None, {"parameters": {"top_n": 10}},
    ...                    path=tempfile.mkdtemp() + "/report.html")
    >>> html = out.read_text(encoding="utf-8")
    >>> "Alpha" in html and "top_n" in html and "https://" not in html
    True
    """
    if isinstance(areas, str | Path):
        warnings.warn(
            "write_report(path, areas, clusters, conurbations, provenance, ...) is deprecated "
            "and will be removed in 0.3; use write_report(areas, clusters, conurbations, "
            "provenance, path=...)",
            DeprecationWarning,
            stacklevel=2,
        )
        old = [areas, clusters, conurbations, provenance, *legacy]
        path, areas, clusters, conurbations, provenance = old[:5]
        positional = dict(zip(("graph", "title", "method"), old[5:], strict=False))
        graph = positional.get("graph", graph)
        title = positional.get("title", title)
        method = positional.get("method", method)
    if path is None:
        raise InputError("write_report needs path=", fix="pass path='report.html'")
    clusters = getattr(clusters, "selections", clusters)
    if hasattr(provenance, "to_dict"):
        provenance = provenance.to_dict()
    provenance = dict(provenance or {})
    _check(areas, clusters, table_of(conurbations))
    synthetic = is_synthetic(areas) or bool(provenance.get("synthetic"))
    if synthetic and not is_synthetic(areas):
        # the maps read the mark from the areas; keep the caller's frame untouched
        areas = areas.copy()
        areas.attrs["synthetic"] = True

    heading = title or "Industry clusters and conurbations"
    if synthetic:
        heading = f"{SYNTHETIC_LABEL} – {heading}"
    banner = (
        f'<div class="synthetic">{SYNTHETIC_LABEL}: the numbers in this report are made up '
        "for demonstration. Do not use them for decisions.</div>"
        if synthetic
        else ""
    )
    library = provenance.get("library", "geoclusters")
    version = provenance.get("version", "")
    created = provenance.get("created", "")
    meta = " · ".join(
        part
        for part in (
            f"Made with {_e(library)} {_e(version)}".strip(),
            f"created {_e(created)}" if created else "",
            f"step {_e(provenance['step'])}" if provenance.get("step") else "",
        )
        if part
    )
    if links is None:
        links = getattr(conurbations, "links", None)
    links_section = _links_section(links, areas)
    robust_section = _robust_section(sensitivity, areas, conurbations, synthetic)
    nav_extra = ('<a href="#links">Links</a>' if links_section else "") + (
        '<a href="#robustness">How robust</a>' if robust_section else ""
    )
    template = Template(
        resources.files("geoclusters").joinpath("templates", "report.html").read_text("utf-8")
    )
    html = template.substitute(
        generator=_e(f"{library} {version}".strip()),
        title=_e(heading),
        banner=banner,
        meta=meta,
        summary=_summary(areas, clusters, table_of(conurbations)),
        figures=_figures(areas, table_of(conurbations), graph, synthetic, metrics, lisa, focus),
        cluster_table=_cluster_table(areas, clusters, metrics),
        conurbation_table=_conurbation_table(conurbations, areas),
        nav_extra=nav_extra,
        links_section=links_section,
        robust_section=robust_section,
        method=_method(
            method, areas, clusters, table_of(conurbations), graph is not None, metrics, lisa
        ),
        parameters=_parameters(provenance),
        inputs=_inputs(provenance),
        notes=_notes(provenance, synthetic),
        selections=_selections_table(clusters, areas),
        footer=(f"{SYNTHETIC_LABEL} · " if synthetic else "") + meta,
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path
