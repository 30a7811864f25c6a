"""Maps of clusters and conurbations: static (matplotlib) and interactive (folium).

Static maps are drawn on the Agg backend and returned as
:class:`matplotlib.figure.Figure` objects, so they work on servers without a
display and never touch pyplot's global state. The interactive map goes through
:meth:`geopandas.GeoDataFrame.explore` (folium/Leaflet).

matplotlib and folium are the ``maps`` extra: they are imported inside the
functions, so ``import geoclusters`` does not need them.

The inputs are the pipeline's outputs:

- ``areas``: a GeoDataFrame indexed by area code, projected CRS, with ``name``,
  ``cluster_type`` (one of :data:`CLUSTER_TYPES`), ``conurbation`` (``""`` when
  none); the per-area metrics come apart, as the long table of
  :func:`geoclusters.measures.metrics` (``metrics=``), and the LISA labels as a
  long table ``area, measure, group, label`` (``lisa=``, values in
  :data:`LISA_COLOURS`).
- ``conurbations``: a GeoDataFrame with one dissolved polygon per conurbation
  and ``name``, ``members``, ``n_members``, ``sectors``, ``rule``.

A dataset marked synthetic (``areas.attrs["synthetic"]`` true) gets
"SYNTHETIC DEMO DATA" in every title, so a demo map can never be passed on as a
real one.
"""

from __future__ import annotations

import math
import textwrap
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._results import keyword_options
from ._style import (
    CLUSTER_TYPES,
    LISA_COLOURS,
    LISA_NAMES,
    NOT_CLUSTERS,
    SHOWN_METRICS,
    SYNTHETIC_LABEL,
    TYPE_COLOURS,
    is_synthetic,
    lisa_labels,
    lisa_pairs,
    metric_lookup,
    pair_label,
    pairs,
    table_of,
    titled,
)
from .errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import folium
    import geopandas as gpd
    from libpysal.graph import Graph
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "CLUSTER_TYPES",
    "LISA_COLOURS",
    "NOT_CLUSTERS",
    "SYNTHETIC_LABEL",
    "TYPE_COLOURS",
    "interactive_map",
    "lisa_map",
    "moran_scatterplot",
    "typology_map",
]

_NO_DATA_COLOUR = "#ffffff"
_EDGE = "#8c8c8c"
_OUTLINE = "#222222"

# --------------------------------------------------------------------------- helpers


def _require_geoframe(frame: Any, what: str, columns: Iterable[str]) -> None:
    import geopandas as gpd

    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(
            f"{what} must be a GeoDataFrame, not {type(frame).__name__}",
            fix="pass the GeoDataFrame returned by the pipeline",
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"{what} lacks the column(s) {', '.join(missing)}",
            fix="pass the pipeline's output, which carries these columns",
        )
    if frame.crs is None:
        raise InputError(f"{what} has no CRS", fix="set it with .set_crs(...)")


def _check_types(areas: gpd.GeoDataFrame) -> pd.Series:
    types = areas["cluster_type"]
    bad = ~types.isin(CLUSTER_TYPES)
    if bad.any():
        raise InputError(
            "cluster_type must be one of " + ", ".join(repr(t) for t in CLUSTER_TYPES),
            rows=[f"{code}: {types[code]!r}" for code in areas.index[bad.to_numpy()]],
            fix="use 'none' for areas that are not clusters",
        )
    return types


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """A fresh Agg figure (no pyplot state) or the caller's axes."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _map_figsize(bounds: Sequence[float]) -> tuple[float, float]:
    minx, miny, maxx, maxy = bounds
    aspect = (maxy - miny) / (maxx - minx) if maxx > minx else 1.0
    return (10.0, float(np.clip(7.0 * aspect, 4.5, 12.0)))


def _resolve_extent(
    areas: gpd.GeoDataFrame, extent: Sequence[float] | Iterable[str] | None
) -> tuple[float, float, float, float] | None:
    """A bounding box in the areas' CRS from a bbox or from a list of area codes."""
    if extent is None:
        return None
    items = list(extent)
    if len(items) == 4 and all(isinstance(v, int | float | np.number) for v in items):
        minx, miny, maxx, maxy = (float(v) for v in items)
        if not (maxx > minx and maxy > miny):
            raise InputError(
                f"extent {tuple(items)} is not (minx, miny, maxx, maxy) with min < max",
                fix="pass a bounding box in the areas' CRS, or a list of area codes",
            )
        return minx, miny, maxx, maxy
    codes = [str(v) for v in items]
    unknown = [c for c in codes if c not in areas.index]
    if unknown or not codes:
        raise InputError(
            "extent names area codes that are not in areas" if codes else "extent is empty",
            rows=unknown,
            fix="pass codes from areas.index, or a bounding box (minx, miny, maxx, maxy)",
        )
    minx, miny, maxx, maxy = areas.loc[codes].total_bounds
    pad = 0.05 * max(maxx - minx, maxy - miny)
    return minx - pad, miny - pad, maxx + pad, maxy + pad


def _crs_note(areas: gpd.GeoDataFrame) -> str:
    epsg = areas.crs.to_epsg() if areas.crs is not None else None
    crs = f"EPSG:{epsg}" if epsg else (areas.crs.name if areas.crs is not None else "no CRS")
    return f"North up · {crs} · not to scale"


def _short_name(name: str, keep: int = 3) -> str:
    """A conurbation's first members and how many more, so big ones stay legible."""
    members = name.split(" – ")
    if len(members) <= keep + 1:
        return name
    return " – ".join(members[:keep]) + f" + {len(members) - keep} more"


def _place_labels(ax: Axes, points: list[tuple[float, float, str]]) -> list:
    """Annotate points, nudging each label off the ones already placed.

    Greedy: try the point itself, then rings of offsets around it, and keep the
    first spot whose box overlaps no earlier label and stays inside the axes.
    When nothing fits the label is left out: an unreadable pile of labels helps
    nobody, and the conurbation table names every conurbation.
    """
    import matplotlib.patheffects as pe

    offsets = [(0.0, 0.0)]
    for radius in (18, 36, 54):
        for angle in range(90, 450, 45):
            rad = math.radians(angle)
            offsets.append((radius * math.cos(rad), radius * math.sin(rad)))
    ax.figure.draw_without_rendering()
    axes_box = ax.get_window_extent()
    placed_boxes: list = []
    texts = []
    for x, y, text in points:
        annotation = None
        for dx, dy in offsets:
            candidate = ax.annotate(
                text,
                xy=(x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                ha="center",
                va="center",
                fontsize=8,
                fontweight="bold",
                color=_OUTLINE,
                path_effects=[pe.withStroke(linewidth=3, foreground="white")],
                arrowprops=(
                    {"arrowstyle": "-", "color": _OUTLINE, "lw": 0.8} if (dx or dy) else None
                ),
                annotation_clip=False,
                zorder=5,
            )
            box = candidate.get_window_extent().expanded(1.05, 1.15)
            inside = (
                box.x0 >= axes_box.x0
                and box.x1 <= axes_box.x1
                and box.y0 >= axes_box.y0
                and box.y1 <= axes_box.y1
            )
            if inside and not any(box.overlaps(other) for other in placed_boxes):
                annotation = candidate
                placed_boxes.append(box)
                break
            candidate.remove()
        if annotation is not None:
            texts.append(annotation)
    return texts


# --------------------------------------------------------------------------- static maps


@keyword_options
def typology_map(
    areas: gpd.GeoDataFrame,
    conurbations: gpd.GeoDataFrame | None = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    label_conurbations: bool = True,
    extent: Sequence[float] | Iterable[str] | None = None,
) -> Figure:
    """Map the cluster typology, with conurbations outlined and labelled.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Indexed by area code, with ``cluster_type`` in :data:`CLUSTER_TYPES`.
    conurbations : geopandas.GeoDataFrame, optional
        One dissolved polygon per conurbation with a ``name`` column; drawn as
        thick dark outlines. Reprojected to the areas' CRS if it differs. May be
        empty.
    ax : matplotlib.axes.Axes, optional
        Draw on these axes; by default a new Agg figure is made.
    title : str, optional
        Title; by default "Industry cluster typology". Synthetic data get
        "SYNTHETIC DEMO DATA" above it.
    label_conurbations : bool, default True
        Write each conurbation's name at a representative point of its polygon,
        nudged off the other labels where practical.
    extent : sequence, optional
        Zoom to a bounding box ``(minx, miny, maxx, maxy)`` in the areas' CRS,
        or to the bounds (plus 5%) of a list of area codes.

    Returns
    -------
    matplotlib.figure.Figure
        The areas are one ``PatchCollection`` with ``gid="areas"`` (face colours
        in row order); the outlines have ``gid="conurbations"``. The legend lists
        the four types with their counts, and "conurbation" when any is drawn.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame(
    ...     {"name": ["A", "B"], "cluster_type": ["both", "none"], "conurbation": ["", ""]},
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=27700,
    ... )
    >>> fig = typology_map(areas)
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['high concentration (0)', 'high growth (0)', 'both (1)', 'none (1)']
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    _require_geoframe(areas, "areas", ["cluster_type"])
    types = _check_types(areas)
    box = _resolve_extent(areas, extent)
    fig, ax = _new_axes(ax, _map_figsize(box or areas.total_bounds))

    colours = types.map(TYPE_COLOURS).tolist()
    areas.plot(ax=ax, color=colours, edgecolor=_EDGE, linewidth=0.3)
    ax.collections[-1].set_gid("areas")

    counts = types.value_counts()
    handles = [
        Patch(facecolor=TYPE_COLOURS[t], edgecolor=_EDGE, label=f"{t} ({int(counts.get(t, 0))})")
        for t in CLUSTER_TYPES
        if t != "no data" or counts.get(t, 0)
    ]

    drawn = None
    conurbations = table_of(conurbations)
    if conurbations is not None and len(conurbations):
        _require_geoframe(conurbations, "conurbations", ["name"])
        drawn = conurbations.to_crs(areas.crs) if conurbations.crs != areas.crs else conurbations
        drawn.boundary.plot(ax=ax, color=_OUTLINE, linewidth=2.2, zorder=4)
        ax.collections[-1].set_gid("conurbations")
        handles.append(
            Line2D([], [], color=_OUTLINE, linewidth=2.2, label=f"conurbation ({len(drawn)})")
        )

    if box is not None:
        ax.set_xlim(box[0], box[2])
        ax.set_ylim(box[1], box[3])
    ax.set_axis_off()
    ax.set_title(titled(title or "Industry cluster typology", is_synthetic(areas)))
    ax.legend(
        handles=handles,
        title="Cluster type",
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        borderaxespad=0.0,
        frameon=False,
        fontsize=8,
        title_fontsize=9,
    )
    ax.text(
        0.0,
        0.0,
        _crs_note(areas),
        transform=ax.transAxes,
        fontsize=7,
        color="#555555",
        ha="left",
        va="bottom",
    )

    if drawn is not None and label_conurbations:
        # biggest first, so the largest conurbations keep the spot on their polygon
        order = drawn.geometry.area.sort_values(ascending=False).index
        xmin, xmax = ax.get_xlim()
        ymin, ymax = ax.get_ylim()
        points = []
        for key in order:
            point = drawn.geometry[key].representative_point()
            if xmin <= point.x <= xmax and ymin <= point.y <= ymax:
                text = textwrap.fill(_short_name(str(drawn.loc[key, "name"])), 26)
                points.append((point.x, point.y, text))
        placed = _place_labels(ax, points)
        if len(placed) < len(points):
            ax.text(
                0.0,
                -0.005,
                f"{len(points) - len(placed)} conurbation labels left out where they would "
                "overlap; the conurbation table names them all",
                transform=ax.transAxes,
                fontsize=7,
                color="#555555",
                ha="left",
                va="top",
            )
    return fig


@keyword_options
def lisa_map(
    areas: gpd.GeoDataFrame,
    column: str,
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Map local Moran (LISA) clusters in GeoDa's colours.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Indexed by area code.
    column : str
        Column of LISA labels: "HH", "LL", "LH", "HL" or "ns" (not
        significant). Missing values (e.g. islands without neighbours) are drawn
        white as "no data".
    ax : matplotlib.axes.Axes, optional
        Draw on these axes; by default a new Agg figure is made.
    title : str, optional
        By default "LISA clusters: <column>".

    Returns
    -------
    matplotlib.figure.Figure
        The areas are one collection with ``gid="areas"``; the legend lists the
        five categories (plus "no data" when present) with their counts.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame(
    ...     {"lisa_businesses_content": ["HH", "ns"]},
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=27700,
    ... )
    >>> fig = lisa_map(areas, "lisa_businesses_content")
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['not significant (1)', 'High-High (1)', 'Low-Low (0)', 'Low-High (0)', 'High-Low (0)']
    """
    from matplotlib.patches import Patch

    _require_geoframe(areas, "areas", [column])
    labels = areas[column]
    known = labels.isin(list(LISA_COLOURS)) | labels.isna()
    if not known.all():
        raise InputError(
            f"{column} must hold HH, LL, LH, HL or ns",
            rows=[f"{code}: {labels[code]!r}" for code in areas.index[~known.to_numpy()]],
            fix="label areas that are not significant 'ns'",
        )
    fig, ax = _new_axes(ax, _map_figsize(areas.total_bounds))
    colours = labels.map(LISA_COLOURS).fillna(_NO_DATA_COLOUR).tolist()
    areas.plot(ax=ax, color=colours, edgecolor=_EDGE, linewidth=0.3)
    ax.collections[-1].set_gid("areas")

    counts = labels.value_counts()
    handles = [
        Patch(
            facecolor=colour,
            edgecolor=_EDGE,
            label=f"{LISA_NAMES[key]} ({int(counts.get(key, 0))})",
        )
        for key, colour in LISA_COLOURS.items()
    ]
    n_missing = int(labels.isna().sum())
    if n_missing:
        handles.append(
            Patch(facecolor=_NO_DATA_COLOUR, edgecolor=_EDGE, label=f"no data ({n_missing})")
        )
    ax.set_axis_off()
    ax.set_title(
        titled(title or f"LISA clusters: {column}", is_synthetic(areas)),
        fontsize=10,
    )
    ax.legend(handles=handles, loc="best", fontsize=7, framealpha=0.85)
    return fig


def _as_graph(graph: Any) -> Graph:
    from libpysal.graph import Graph
    from libpysal.weights import W

    if isinstance(graph, Graph):
        return graph
    if isinstance(graph, W):
        return Graph.from_W(graph)
    raise InputError(
        f"graph must be a libpysal Graph (or W), not {type(graph).__name__}",
        fix="build one with geoclusters.contiguity(areas) or libpysal.graph.Graph",
    )


@keyword_options
def moran_scatterplot(
    values: pd.Series,
    graph: Graph,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    labels: Mapping[str, str] | Iterable[str] | None = None,
) -> Figure:
    """Moran scatterplot: standardised values against their spatial lag.

    Values are standardised as z = (y − ȳ) / σ (population σ, as in esda and
    GeoDa); the lag uses the row-standardised graph. The line through the
    origin has slope Moran's I = (n / S₀) · zᵀWz / zᵀz, computed here directly;
    without islands S₀ = n and it is the least-squares slope of lag on z.
    Islands (no neighbours) have lag 0 and are drawn hollow.

    Parameters
    ----------
    values : pandas.Series
        Indexed by area code; every id of ``graph`` must have a value and every
        value an id. Array-likes are taken in the graph's id order.
    graph : libpysal.graph.Graph
        Spatial weights (any transform: it is row-standardised here). A
        ``libpysal.weights.W`` is converted.
    ax : matplotlib.axes.Axes, optional
        Draw on these axes; by default a new Agg figure is made.
    title : str, optional
        By default "Moran scatterplot: <values.name>".
    labels : mapping or iterable, optional
        Areas to label: a mapping code → text, or codes (labelled with the code).

    Returns
    -------
    matplotlib.figure.Figure
        The slope line has ``gid="moran_slope"`` and is labelled with I.

    Examples
    --------
    >>> import pandas as pd
    >>> from libpysal.graph import Graph
    >>> graph = Graph.from_dicts({"a": ["b"], "b": ["a", "c"], "c": ["b"]})
    >>> fig = moran_scatterplot(pd.Series({"a": 1.0, "b": 2.0, "c": 4.0}), graph)

    By hand: z ∝ (−4, −1, 5), its row-standardised lag ∝ (−1, 0.5, −1), so
    I = (3 / 3) · (4 − 0.5 − 5) / (16 + 1 + 25) = −1.5 / 42 ≈ −0.036.

    >>> [line.get_label() for line in fig.axes[0].lines if line.get_gid() == "moran_slope"]
    ["Moran's I = -0.036"]
    """
    graph = _as_graph(graph)
    ids = pd.Index(graph.unique_ids)
    if isinstance(values, pd.Series):
        series = values
        missing = ids.difference(series.index)
        extra = series.index.difference(ids)
        if len(missing) or len(extra):
            raise InputError(
                "values and graph must cover the same areas",
                rows=[f"{c}: no value" for c in missing] + [f"{c}: not in graph" for c in extra],
                fix="subset the graph or the values so that they match",
            )
        if series.index.has_duplicates:
            raise InputError(
                "values have duplicate area codes",
                rows=series.index[series.index.duplicated()].tolist(),
            )
        series = series.reindex(ids)
    else:
        array = np.asarray(values, dtype=float)
        if array.shape != (len(ids),):
            raise InputError(
                f"values have shape {array.shape}; the graph has {len(ids)} areas",
                fix="pass a Series indexed by area code",
            )
        series = pd.Series(array, index=ids)
    y = series.astype(float)
    if y.isna().any():
        raise InputError(
            "values are missing (NaN) for some areas",
            rows=y.index[y.isna().to_numpy()].tolist(),
            fix="drop those areas from values and graph, or fill the values",
        )
    sd = float(y.std(ddof=0))
    if not sd > 0:
        raise InputError("values are constant; the Moran scatterplot is undefined")
    z = ((y - y.mean()) / sd).to_numpy()
    rowstd = graph.transform("r")
    lag = np.asarray(rowstd.lag(z), dtype=float)
    s0 = float(rowstd.sparse.sum())
    if s0 == 0:
        raise InputError("the graph has no links; every area is an island")
    moran_i = (len(z) / s0) * float(z @ lag) / float(z @ z)

    name = str(values.name) if getattr(values, "name", None) is not None else "value"
    fig, ax = _new_axes(ax, (6.0, 6.0))
    islands = ids.isin(graph.isolates)
    ax.scatter(z[~islands], lag[~islands], s=16, color="#3b6ea8", alpha=0.75, linewidths=0)
    if islands.any():
        ax.scatter(
            z[islands],
            lag[islands],
            s=16,
            facecolors="none",
            edgecolors="#3b6ea8",
            label=f"islands ({int(islands.sum())}, lag 0)",
        )
    ax.axhline(0, color="#777777", linewidth=0.8)
    ax.axvline(0, color="#777777", linewidth=0.8)
    low, high = float(min(z.min(), lag.min())), float(max(z.max(), lag.max()))
    span = np.array([low, high]) + np.array([-0.1, 0.1]) * (high - low)
    ax.plot(
        span,
        moran_i * span,
        color="#c0392b",
        linewidth=1.5,
        gid="moran_slope",
        label=f"Moran's I = {moran_i:.3f}",
    )
    for quadrant, (qx, qy) in {"HH": (1, 1), "LL": (0, 0), "LH": (0, 1), "HL": (1, 0)}.items():
        ax.text(
            0.02 + 0.96 * qx,
            0.02 + 0.96 * qy,
            quadrant,
            transform=ax.transAxes,
            ha="right" if qx else "left",
            va="top" if qy else "bottom",
            color="#999999",
            fontsize=9,
        )

    if labels is not None:
        chosen = dict(labels) if isinstance(labels, Mapping) else {c: c for c in labels}
        chosen = {str(k): str(v) for k, v in chosen.items()}
        unknown = [c for c in chosen if c not in ids]
        if unknown:
            raise InputError("labels name areas that are not in the graph", rows=unknown)
        position = {code: i for i, code in enumerate(ids)}
        for code, text in chosen.items():
            i = position[code]
            ax.annotate(text, (z[i], lag[i]), xytext=(4, 4), textcoords="offset points", fontsize=7)

    ax.set_xlabel(f"{name} (standardised)")
    ax.set_ylabel(f"spatial lag of {name}\n(row-standardised)")
    ax.set_title(titled(title or f"Moran scatterplot: {name}", is_synthetic(values)), fontsize=10)
    ax.legend(loc="best", fontsize=8, framealpha=0.85)
    return fig


# --------------------------------------------------------------------------- interactive


def _popup_frame(
    areas: gpd.GeoDataFrame, metrics: pd.DataFrame | None, lisa: pd.DataFrame | None
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Areas with human-readable, pre-formatted popup columns (strings, "–" when missing)."""
    import geopandas as gpd

    data: dict[str, Any] = {
        "name": areas["name"].astype(str) if "name" in areas else areas.index.astype(str),
        "code": areas.index.astype(str),
        "type": areas["cluster_type"].astype(str),
        "conurbation": areas["conurbation"].fillna("").astype(str)
        if "conurbation" in areas
        else "",
    }
    for column, label in (
        ("concentration_groups", "high concentration in"),
        ("growth_groups", "high growth in"),
    ):
        if column in areas:
            data[label] = areas[column].fillna("").astype(str)
    lookup = metric_lookup(metrics)
    codes = areas.index.astype(str)
    for measure, group in pairs(metrics):
        label = pair_label(measure, group)
        for metric, heading, formatter in SHOWN_METRICS:
            values = [lookup.get((c, measure, group), {}).get(metric) for c in codes]
            data[f"{label} {heading}"] = pd.Series(values, index=areas.index).map(formatter)
    for measure, group in lisa_pairs(lisa):
        labels = lisa_labels(lisa, measure, group, codes)
        data[f"LISA {pair_label(measure, group)}"] = pd.Series(
            labels.to_numpy(), index=areas.index
        ).map(lambda v: LISA_NAMES.get(v, "–"))
    frame = gpd.GeoDataFrame(
        pd.DataFrame(data, index=areas.index).reset_index(drop=True),
        geometry=areas.geometry.to_numpy(),
        crs=areas.crs,
    )
    return frame, list(data)


def interactive_map(
    areas: gpd.GeoDataFrame,
    conurbations: gpd.GeoDataFrame | None = None,
    *legacy: Any,
    metrics: pd.DataFrame | None = None,
    lisa: pd.DataFrame | None = None,
    title: str | None = None,
    path: str | Path | None = None,
) -> folium.Map:
    """An interactive (Leaflet) map of the typology, one popup per area.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Indexed by area code, with ``name`` and ``cluster_type``; the popup also
        shows ``conurbation`` and the groups.
    conurbations : Conurbations or geopandas.GeoDataFrame, optional
        Drawn as a second, switchable layer of outlines with their own popups.
    metrics : pandas.DataFrame, optional
        The long per-area metrics (:func:`geoclusters.measures.metrics`): the
        popup shows every measure and group's count, LQ and LQ change.
    lisa : pandas.DataFrame, optional
        LISA labels, ``area, measure, group, label``, shown in the popup.
    title : str, optional
        Heading shown on the map; by default "Industry cluster typology" (with
        "SYNTHETIC DEMO DATA" for synthetic data).
    path : str or Path, optional
        Save the map as an HTML file here (keyword only: passing it, or the
        title, by position is deprecated and removed in 0.3).

    Returns
    -------
    folium.Map

    Notes
    -----
    The page loads Leaflet and the base tiles from the web when opened; the
    areas themselves are embedded as GeoJSON in EPSG:4326.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame(
    ...     {"name": ["A", "B"], "cluster_type": ["both", "none"], "conurbation": ["", ""]},
    ...     geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)], crs=27700,
    ... )
    >>> m = interactive_map(areas)
    >>> type(m).__name__
    'Map'
    """
    import folium

    if legacy:
        warnings.warn(
            "interactive_map(areas, conurbations, path, title) is deprecated and will be "
            "removed in 0.3; pass path= and title= by keyword",
            DeprecationWarning,
            stacklevel=2,
        )
        path = legacy[0]
        title = legacy[1] if len(legacy) > 1 else title
    conurbations = table_of(conurbations)
    _require_geoframe(areas, "areas", ["cluster_type"])
    types = _check_types(areas)
    frame, fields = _popup_frame(areas, metrics, lisa)
    frame = frame.to_crs(4326)
    present = [t for t in CLUSTER_TYPES if (types == t).any()]
    fmap = frame.explore(
        column="type",
        categorical=True,
        categories=present,
        cmap=[TYPE_COLOURS[t] for t in present],
        tooltip=["name", "code", "type", "conurbation"],
        popup=fields,
        name="Areas",
        tiles="OpenStreetMap",
        style_kwds={"color": _EDGE, "weight": 0.6, "fillOpacity": 0.75},
        legend_kwds={"caption": "Cluster type"},
    )
    if conurbations is not None and len(conurbations):
        _require_geoframe(conurbations, "conurbations", ["name"])
        names = areas["name"].astype(str) if "name" in areas else None
        shown = pd.DataFrame({"conurbation": conurbations["name"].astype(str)})
        if "members" in conurbations:
            shown["members"] = (
                conurbations["members"]
                .fillna("")
                .astype(str)
                .map(
                    lambda s: ", ".join(
                        f"{names.get(c, c) if names is not None else c} ({c})"
                        for c in s.split(";")
                        if c
                    )
                )
            )
        for column in ("n_members", "sectors", "rule"):
            if column in conurbations:
                shown[column.replace("_", " ")] = conurbations[column].astype(str)
        layer = _with_geometry(shown, conurbations).to_crs(4326)
        layer.explore(
            m=fmap,
            color=_OUTLINE,
            style_kwds={"fill": False, "weight": 3},
            tooltip=["conurbation"],
            popup=list(shown.columns),
            name="Conurbations",
        )
    folium.LayerControl(collapsed=False).add_to(fmap)

    heading = titled(title or "Industry cluster typology", is_synthetic(areas))
    from html import escape

    banner = (
        '<div style="position:fixed;top:10px;left:60px;z-index:1000;background:white;'
        "padding:4px 10px;border:1px solid #999;font:bold 14px sans-serif;"
        f'{"color:#b00000;" if is_synthetic(areas) else ""}">'
        + "<br>".join(escape(line) for line in heading.splitlines())
        + "</div>"
    )
    fmap.get_root().html.add_child(folium.Element(banner))
    if path is not None:
        fmap.save(str(path))
    return fmap


def _with_geometry(table: pd.DataFrame, source: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``table`` (same length as ``source``) with ``source``'s geometry and CRS."""
    import geopandas as gpd

    return gpd.GeoDataFrame(
        table.reset_index(drop=True), geometry=source.geometry.to_numpy(), crs=source.crs
    )
