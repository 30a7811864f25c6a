"""Maps of clusters and conurbations: static (matplotlib) and interactive (folium).

Static maps are drawn on the Agg backend and returned as
:class:`matplotlib.figure.Figure` objects, so they work on servers without a
display and never touch pyplot's global state. The interactive map is built
with folium (Leaflet) layers directly, not through
:meth:`geopandas.GeoDataFrame.explore`, which imports mapclassify (seconds of
numba compilation in a new process) even when nothing is classified.

matplotlib and folium are the ``maps`` extra: they are imported inside the
functions, so ``import geoclusters`` does not need them.

Maps of many areas (more than :data:`DETAIL_LIMIT`, 20,000 by default; the
``detail_limit`` keyword of every map) are drawn for their size: the static
maps fill the areas of each class as one shape, without outlines, rasterised
in SVG and PDF; the interactive map embeds only the cluster areas, merged by
type and simplified to the map's pixel size, and says so on the map. Every
area stays in the tables.

The inputs are the pipeline's outputs:

- ``areas``: a GeoDataFrame indexed by area code, projected CRS, with ``name``,
  ``cluster_type`` (one of :data:`CLUSTER_TYPES`), ``conurbation`` (``""`` when
  none); the per-area metrics come apart, as the long table of
  :func:`geoclusters.measures.metrics` (``metrics=``), and the LISA labels as a
  long table ``area, measure, group, label`` (``lisa=``, labels from the one
  vocabulary: "High-High", ..., "not significant", "no data"; the older "HH"
  and "ns" are read too).
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

from ._keywords import options_were_positional
from ._labels import (
    COLD,
    G_LABELS,
    HOT,
    MORAN_LABELS,
    NO_DATA,
    NOT_SIGNIFICANT,
    QUADRANT_LABELS,
    normalise_label,
    normalise_labels,
)
from ._style import (
    CLUSTER_TYPES,
    G_COLOURS,
    LISA_COLOURS,
    NO_DATA_COLOUR,
    NOT_CLUSTERS,
    SHOWN_METRICS,
    SYNTHETIC_LABEL,
    TYPE_COLOURS,
    cartography,
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
    "DETAIL_LIMIT",
    "LISA_COLOURS",
    "NOT_CLUSTERS",
    "SYNTHETIC_LABEL",
    "TYPE_COLOURS",
    "interactive_map",
    "lisa_map",
    "lisa_maps",
    "lisa_panel",
    "moran_scatterplot",
    "typology_map",
]

_NO_DATA_COLOUR = NO_DATA_COLOUR
_EDGE = "#8c8c8c"
_OUTLINE = "#222222"

#: Above this many areas the maps are drawn for their size (see the module notes):
#: at 20,000 areas a national map gives each area a few pixels, where outlines
#: are a grey haze and a browser struggles with one polygon and popup per area.
DETAIL_LIMIT = 20_000

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


def _check_limit(detail_limit: Any) -> int:
    if isinstance(detail_limit, bool) or not isinstance(detail_limit, int | np.integer):
        raise InputError(
            f"detail_limit={detail_limit!r} is not a number of areas",
            fix=f"pass a whole number, e.g. {DETAIL_LIMIT} (the default)",
        )
    if detail_limit < 0:
        raise InputError(f"detail_limit={detail_limit} is negative", fix="pass 0 or more")
    return int(detail_limit)


def _rings(geometry: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every ring of every area as one vertex array: vertices, Path codes, area of each vertex.

    Exteriors run anticlockwise and holes clockwise, so that in a compound
    path (filled by the non-zero winding rule) the edge two neighbours share
    cancels out: the fill has no seam between areas of one class, and holes
    stay holes. Missing and empty geometries have no rings.
    """
    import shapely
    from matplotlib.path import Path as _Path

    geometry = np.asarray(geometry, dtype=object)
    present = np.flatnonzero(~(shapely.is_missing(geometry) | shapely.is_empty(geometry)))
    if not len(present):
        return np.empty((0, 2)), np.empty(0, dtype=_Path.code_type), np.empty(0, dtype=int)
    # one pass in GEOS's C code: coordinates and the offsets of rings, parts and areas
    kind, xy, offsets = shapely.to_ragged_array(geometry[present], include_z=False)
    ring_start = offsets[0]
    if kind == shapely.GeometryType.POLYGON:
        part_rings, area_parts = offsets[1], np.arange(len(present) + 1)
    else:
        part_rings, area_parts = offsets[1], offsets[2]
    counts = np.diff(ring_start)
    starts = ring_start[:-1]
    ring_part = np.repeat(np.arange(len(part_rings) - 1), np.diff(part_rings))
    part_area = np.repeat(present, np.diff(area_parts))
    exterior = np.zeros(len(counts), dtype=bool)
    exterior[part_rings[:-1][np.diff(part_rings) > 0]] = True
    ring_of = np.repeat(np.arange(len(counts)), counts)
    # signed area (shoelace), from each ring's first vertex so large coordinates keep precision
    local = xy - xy[starts][ring_of]
    cross = local[:-1, 0] * local[1:, 1] - local[1:, 0] * local[:-1, 1]
    cross = np.append(cross, 0.0)
    cross[starts + counts - 1] = 0.0  # the last vertex closes its ring: no pair with the next
    anticlockwise = np.add.reduceat(cross, starts) > 0 if len(starts) else np.array([], bool)
    flip = exterior != anticlockwise
    if flip.any():
        position = np.arange(len(xy))
        turned = 2 * starts[ring_of] + counts[ring_of] - 1 - position
        xy = xy[np.where(flip[ring_of], turned, position)]
    codes = np.full(len(xy), _Path.LINETO, dtype=_Path.code_type)
    codes[starts] = _Path.MOVETO
    codes[starts + counts - 1] = _Path.CLOSEPOLY
    return xy, codes, part_area[ring_part[ring_of]]


def _draw_areas(
    ax: Axes,
    areas: gpd.GeoDataFrame,
    colours: Sequence[str],
    *,
    detail_limit: int,
    linewidth: float = 0.3,
    rings: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> None:
    """Fill the areas with their colours, outlined up to ``detail_limit`` areas.

    Up to ``detail_limit`` areas: one patch per area with its outline
    (geopandas). Above: one compound path per colour, without outlines, which
    looks the same as the areas of a class dissolved, costs no union, and
    draws a million areas in seconds; it is rasterised in SVG and PDF, where
    a million vector shapes would make a file no viewer opens. ``rings`` are
    the areas' :func:`_rings`, when several maps of the same areas share them.
    """
    if len(areas) <= detail_limit:
        areas.plot(ax=ax, color=list(colours), edgecolor=_EDGE, linewidth=linewidth)
        ax.collections[-1].set_gid("areas")
        return
    from matplotlib.collections import PathCollection
    from matplotlib.path import Path as _Path

    xy, codes, area_of = rings if rings is not None else _rings(areas.geometry.to_numpy())
    keys, class_of = np.unique(np.asarray(colours, dtype=object).astype(str), return_inverse=True)
    vertex_class = class_of[area_of]
    paths, faces = [], []
    for k, colour in enumerate(keys):
        chosen = vertex_class == k
        if chosen.any():
            paths.append(_Path(xy[chosen], codes[chosen]))
            faces.append(colour)
    shapes = PathCollection(
        paths, facecolors=faces, edgecolors="none", linewidths=0, gid="areas", rasterized=True
    )
    ax.add_collection(shapes, autolim=False)
    # the data limits and margins geopandas gives a map, without its walk over the paths
    minx, miny, maxx, maxy = areas.total_bounds
    ax.update_datalim([(minx, miny), (maxx, maxy)])
    ax.autoscale_view()
    ax.set_aspect(_aspect(areas))


def _aspect(areas: gpd.GeoDataFrame) -> float | str:
    """The aspect geopandas gives a map: equal, or 1 / cos(latitude) in degrees."""
    if areas.crs is not None and areas.crs.is_geographic:
        miny, maxy = areas.total_bounds[[1, 3]]
        return 1.0 / math.cos(math.radians((miny + maxy) / 2))
    return "equal"


def _legend_title(title: str, n: int, detail_limit: int, what: str) -> str:
    """A legend's title, and how a map of more than ``detail_limit`` areas was drawn.

    The note goes with the legend, outside the data, where it is read with
    the colours it qualifies.
    """
    if n <= detail_limit:
        return title
    note = f"{n:,} areas filled by {what}, without outlines (more than {detail_limit:,})"
    return f"{title}\n" + textwrap.fill(note, 30) if title else textwrap.fill(note, 30)


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


def _short_name(name: str, keep: int = 3) -> str:
    """A conurbation's first members and how many more, so big ones stay legible."""
    members = name.split(" – ")
    if len(members) <= keep + 1:
        return name
    return " – ".join(members[:keep]) + f" + {len(members) - keep} more"


def _place_labels(
    ax: Axes, points: list[tuple[float, float, str]], avoid: Iterable[Any] = ()
) -> list:
    """Annotate points, nudging each label off the ones already placed.

    Greedy: try the point itself, then rings of offsets around it, and keep the
    first spot whose box overlaps no earlier label and stays inside the axes.
    When nothing fits the label is left out: an unreadable pile of labels helps
    nobody, and the conurbation table names every conurbation. ``avoid`` are
    artists already drawn (area names, the north arrow) that labels keep off.
    """
    import matplotlib.patheffects as pe

    offsets = [(0.0, 0.0)]
    for radius in (10, 18, 36, 54):
        for angle in range(90, 450, 45):
            rad = math.radians(angle)
            offsets.append((radius * math.cos(rad), radius * math.sin(rad)))
    ax.figure.draw_without_rendering()
    axes_box = ax.get_window_extent()
    placed_boxes: list = [artist.get_window_extent() for artist in avoid]
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


@options_were_positional("ax", "title", "label_conurbations", "extent")
def typology_map(
    areas: gpd.GeoDataFrame,
    conurbations: gpd.GeoDataFrame | None = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    label_conurbations: bool = True,
    extent: Sequence[float] | Iterable[str] | None = None,
    inset: Sequence[float] | Iterable[str] | None = None,
    label_areas: bool = False,
    detail_limit: int = DETAIL_LIMIT,
) -> Figure:
    """Map the cluster typology, with conurbations outlined and labelled.

    The map has a scale bar (projected CRS), a north arrow and its legend
    outside the data.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Indexed by area code, with ``cluster_type`` in :data:`CLUSTER_TYPES`.
    conurbations : Conurbations or geopandas.GeoDataFrame, optional
        One dissolved polygon per conurbation with a ``name`` column; drawn as
        thick dark outlines on a white halo. Reprojected to the areas' CRS if
        it differs. May be empty.
    ax : matplotlib.axes.Axes, optional
        Draw on these axes; by default a new Agg figure is made.
    title : str, optional
        Title; by default "Industry cluster typology". Synthetic data get
        "SYNTHETIC DEMO DATA" above it.
    label_conurbations : bool, default True
        Write each conurbation's name at a representative point of its polygon,
        nudged off the other labels; a conurbation whose name does not fit is
        numbered instead, and the numbers are listed under the legend.
    extent : sequence, optional
        Zoom to a bounding box ``(minx, miny, maxx, maxy)`` in the areas' CRS,
        or to the bounds (plus 5%) of a list of area codes.
    inset : sequence, optional
        A dense part of the map (a bounding box or area codes, as ``extent``)
        drawn again, enlarged, in an inset at the right of the map, with its
        frame marked on the main map: London on a map of local authorities.
    label_areas : bool, default False
        Name the areas in view (when at most 40 are): for a zoomed map
        (``extent``), where names help and fit.
    detail_limit : int, default :data:`DETAIL_LIMIT` (20,000)
        Above this many areas in view, each type's areas are filled as one
        shape, without outlines (a note under the map says so), and
        rasterised in SVG and PDF. A zoomed map (``extent``) counts only the
        areas in its box, so a detail of a million-area map keeps its outlines.

    Returns
    -------
    matplotlib.figure.Figure
        The areas are one ``PatchCollection`` with ``gid="areas"`` (face colours
        in row order; above ``detail_limit``, one compound path and colour per
        type drawn); the outlines have ``gid="conurbations"``; the scale bar
        ``gid="scale_bar"``, the north arrow ``gid="north_arrow"`` and the inset
        axes ``gid="inset"``. The legend lists the four types with their
        counts (of every area, in view or not), and "conurbation" when any is
        drawn.

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
    detail_limit = _check_limit(detail_limit)
    box = _resolve_extent(areas, extent)
    zoom = _resolve_extent(areas, inset)
    fig, ax = _new_axes(ax, _map_figsize(box or areas.total_bounds))

    colours = types.map(TYPE_COLOURS)
    shown = _in_view(areas, box, detail_limit)
    _draw_areas(ax, shown, colours[shown.index].tolist(), detail_limit=detail_limit)

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
        _outline(ax, drawn, gid="conurbations")
        handles.append(
            Line2D([], [], color=_OUTLINE, linewidth=2.2, label=f"conurbation ({len(drawn)})")
        )

    if box is not None:
        ax.set_xlim(box[0], box[2])
        ax.set_ylim(box[1], box[3])
    ax.set_axis_off()
    ax.set_title(titled(title or "Industry cluster typology", is_synthetic(areas)))
    legend = ax.legend(
        handles=handles,
        title=_legend_title("Cluster type", len(shown), detail_limit, "type"),
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        borderaxespad=0.0,
        frameon=False,
        fontsize=8,
        title_fontsize=9,
    )
    cartography(ax, areas)

    inner = _inset(ax, areas, colours, drawn, zoom, detail_limit) if zoom is not None else None

    named = _label_areas(ax, areas) if label_areas else []
    if drawn is not None and label_conurbations:
        on_main = drawn
        if inner is not None:
            from shapely.geometry import box as _box

            # conurbations of the dense part are named in the inset, where they fit
            inside = drawn.geometry.representative_point().within(_box(*zoom)).to_numpy()
            if inside.any():
                _label_conurbations(inner, drawn[inside], None)
            on_main = drawn[~inside]
        arrow = [t for t in ax.texts if t.get_gid() == "north_arrow"]
        _label_conurbations(ax, on_main, legend, avoid=[*named, *arrow])
    return fig


def _in_view(
    areas: gpd.GeoDataFrame, box: tuple[float, float, float, float] | None, detail_limit: int
) -> gpd.GeoDataFrame:
    """The areas a map zoomed to ``box`` shows; all of them for a map of the whole."""
    if box is None or len(areas) <= detail_limit:
        return areas
    from shapely.geometry import box as _box

    hits = np.sort(areas.sindex.query(_box(*box), predicate="intersects"))
    return areas.iloc[hits]


def _label_areas(ax: Axes, areas: gpd.GeoDataFrame, most: int = 40) -> list:
    """Each area's name at a point of it in view, small, when few enough are in view."""
    import matplotlib.patheffects as pe
    import shapely
    from shapely.geometry import box as _box

    (xmin, xmax), (ymin, ymax) = ax.get_xlim(), ax.get_ylim()
    view = _box(xmin, ymin, xmax, ymax)
    names = areas["name"].astype(str) if "name" in areas else areas.index.astype(str)
    # one vectorised pass: a map of a million areas has no Python loop over them
    hits = np.sort(areas.sindex.query(view, predicate="intersects"))
    visible = shapely.intersection(areas.geometry.to_numpy()[hits], view)
    large = shapely.area(visible) >= 0.004 * view.area
    if large.sum() > most:
        return []
    points = list(
        zip(
            shapely.point_on_surface(visible[large]),
            names.to_numpy()[hits[large]],
            strict=True,
        )
    )
    return [
        ax.annotate(
            textwrap.fill(name, 14),
            xy=(point.x, point.y),
            ha="center",
            va="center",
            fontsize=7,
            color="#333333",
            path_effects=[pe.withStroke(linewidth=2, foreground="white")],
            zorder=4.5,
            gid="area_label",
        )
        for point, name in points
    ]


def _outline(ax: Axes, drawn: gpd.GeoDataFrame, gid: str | None = None) -> None:
    """Conurbation outlines, dark on a white halo so they read over any fill."""
    drawn.boundary.plot(ax=ax, color="white", linewidth=4.0, zorder=3.9)
    drawn.boundary.plot(ax=ax, color=_OUTLINE, linewidth=2.2, zorder=4)
    if gid:
        ax.collections[-1].set_gid(gid)


def _inset(
    ax: Axes,
    areas: gpd.GeoDataFrame,
    colours: list[str],
    drawn: gpd.GeoDataFrame | None,
    zoom: tuple[float, float, float, float],
    detail_limit: int,
) -> Axes:
    """The ``zoom`` box drawn again, larger, beside the main map, its frame marked."""
    from matplotlib.patches import Rectangle

    minx, miny, maxx, maxy = zoom
    aspect = (maxy - miny) / (maxx - minx)
    width = 0.42
    height = min(0.6, width * aspect)
    width = height / aspect if aspect > 0 else width
    inner = ax.inset_axes([1.02, 0.0, width, height])
    inner.set_gid("inset")
    shown = _in_view(areas, zoom, detail_limit)
    _draw_areas(
        inner, shown, colours[shown.index].tolist(), detail_limit=detail_limit, linewidth=0.4
    )
    if drawn is not None:
        _outline(inner, drawn)
    inner.set_xlim(minx, maxx)
    inner.set_ylim(miny, maxy)
    inner.set_xticks([])
    inner.set_yticks([])
    inner.set_aspect("equal")
    for spine in inner.spines.values():
        spine.set_edgecolor(_OUTLINE)
        spine.set_linewidth(1.2)
    ax.add_patch(
        Rectangle(
            (minx, miny),
            maxx - minx,
            maxy - miny,
            fill=False,
            edgecolor=_OUTLINE,
            linewidth=1.2,
            zorder=6,
        )
    )
    inner.set_xlabel("")
    inner.set_ylabel("")
    fig = ax.figure
    fig.draw_without_rendering()
    # how much larger the inset draws a kilometre than the main map does
    main_scale = ax.get_window_extent().width / (ax.get_xlim()[1] - ax.get_xlim()[0])
    inner_scale = inner.get_window_extent().width / (maxx - minx)
    inner.set_title(f"enlarged ×{inner_scale / main_scale:.1f}", fontsize=8, loc="left")
    return inner


def _label_conurbations(
    ax: Axes, drawn: gpd.GeoDataFrame, legend: Any, avoid: Iterable[Any] = ()
) -> None:
    """Names where they fit, numbers (listed beside the map) where they do not."""
    # biggest first, so the largest conurbations keep the spot on their polygon
    order = drawn.geometry.area.sort_values(ascending=False).index
    xmin, xmax = ax.get_xlim()
    ymin, ymax = ax.get_ylim()
    from shapely.geometry import box as _box

    view = _box(xmin, ymin, xmax, ymax)
    points = []
    for key in order:
        geometry = drawn.geometry[key]
        point = geometry.representative_point()
        if not view.contains(point):
            # zoomed in: label the part in view, so a conurbation is never left nameless
            visible = geometry.intersection(view)
            if visible.is_empty or visible.area < 0.02 * view.area:
                continue
            point = visible.representative_point()
        text = textwrap.fill(_short_name(str(drawn.loc[key, "name"])), 26)
        points.append((point.x, point.y, text, str(drawn.loc[key, "name"])))
    avoid = list(avoid)
    placed = _place_labels(ax, [(x, y, text) for x, y, text, _ in points], avoid)
    shown = {t.get_text() for t in placed}
    missing = [(x, y, name) for x, y, text, name in points if text not in shown]
    if not missing or legend is None:
        return
    # numbered one at a time, so the numbers on the map run 1, 2, 3 ... without gaps
    taken = [*avoid, *placed]
    lines = []
    for x, y, name in missing:
        number = str(len(lines) + 1)
        found = _place_labels(ax, [(x, y, number)], taken)
        if found:
            taken.extend(found)
            lines.append(f"{number}  {textwrap.shorten(name, 60, placeholder=' …')}")
    keyed = lines
    if lines:
        ax.annotate(
            "Conurbations by number\n" + "\n".join(lines),
            xy=(0.0, 0.0),
            xycoords=legend,
            xytext=(0, -8),
            textcoords="offset points",
            va="top",
            ha="left",
            fontsize=7,
            color=_OUTLINE,
            annotation_clip=False,
        )
    if len(keyed) < len(missing):
        ax.text(
            0.0,
            -0.005,
            f"{len(missing) - len(keyed)} conurbation labels left out where they would "
            "overlap; the conurbation table names them all",
            transform=ax.transAxes,
            fontsize=7,
            color="#555555",
            ha="left",
            va="top",
        )


_QUADRANT_NUMBERS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}
"""esda's ``Moran_Local.q`` codes."""


def _is_esda(result: Any, name: str) -> bool:
    return type(result).__name__ == name and type(result).__module__.startswith("esda")


def _esda_ids(result: Any) -> pd.Index:
    return pd.Index(getattr(result.w, "id_order", range(len(result.p_sim)))).astype(str)


def _result_labels(
    result: Any, *, alpha: float = 0.05, correction: str | None = "fdr"
) -> tuple[pd.Series, pd.Series | None]:
    """Cluster labels (and p-values) of a local statistic, indexed by area code.

    Accepts a geoclusters :class:`~geoclusters.stats.LocalResult` (its own
    ``cluster`` labels, any spelling) or esda's ``Moran_Local`` / ``G_Local``
    (labelled here from ``q`` or ``Zs`` and ``p_sim``, tested at ``alpha``
    after ``correction``, as geoclusters does).
    """
    from .stats import adjust_pvalues

    if _is_esda(result, "Moran_Local") or _is_esda(result, "G_Local"):
        ids = _esda_ids(result)
        p = pd.Series(np.asarray(result.p_sim, dtype=float), index=ids)
        significant = np.asarray(adjust_pvalues(p.to_numpy(), correction, alpha))
        if _is_esda(result, "Moran_Local"):
            high = [QUADRANT_LABELS[_QUADRANT_NUMBERS[int(q)]] for q in np.asarray(result.q)]
        else:
            high = [HOT if z > 0 else COLD for z in np.asarray(result.Zs, dtype=float)]
        labels = np.where(significant, np.asarray(high, dtype=object), NOT_SIGNIFICANT)
        undefined = np.isnan(p.to_numpy())
        labels[undefined] = NO_DATA
        return pd.Series(labels, index=ids, dtype=object), p
    if isinstance(result, pd.Series):
        # labels already, indexed by area code (a column, or one group of RunResult.lisa)
        labels = normalise_labels(result)
        labels.index = pd.Index(result.index).astype(str)
        return labels.astype(object), None
    cluster = getattr(result, "cluster", None)
    ids = getattr(result, "ids", None)
    if cluster is None or ids is None:
        raise InputError(
            f"cannot read cluster labels from a {type(result).__name__}",
            fix="pass a geoclusters LocalResult, an esda Moran_Local or G_Local, or a column name",
        )
    index = pd.Index(ids).astype(str)
    labels = pd.Series([normalise_label(v) for v in cluster], index=index, dtype=object)
    p_value = getattr(result, "p_value", None)
    p = pd.Series(np.asarray(p_value, dtype=float), index=index) if p_value is not None else None
    return labels, p


def _labels_of(
    areas: gpd.GeoDataFrame, column: Any, alpha: float, correction: str | None
) -> tuple[pd.Series, str]:
    """Normalised labels on ``areas.index`` from a column name or a local result."""
    if isinstance(column, str):
        _require_geoframe(areas, "areas", [column])
        raw = areas[column]
        labels = normalise_labels(raw)
        name = column
    else:
        _require_geoframe(areas, "areas", [])
        found, _ = _result_labels(column, alpha=alpha, correction=correction)
        raw = found.reindex(areas.index.astype(str))
        raw.index = areas.index
        labels = normalise_labels(raw)
        name = getattr(column, "name", type(column).__name__)
    # one statistic per map: quadrants and hot spots in one column are a mix-up
    quadrants = labels.isin(list(QUADRANT_LABELS.values())).any()
    allowed = set(MORAN_LABELS) if quadrants else set(MORAN_LABELS) | set(G_LABELS)
    bad = ~labels.isin(allowed)
    if bad.any():
        raise InputError(
            f"{name} holds labels that are not "
            + ("local Moran cluster labels" if quadrants else "cluster labels"),
            rows=[f"{code}: {raw[code]!r}" for code in areas.index[bad.to_numpy()]],
            fix="use "
            + ", ".join(repr(v) for v in MORAN_LABELS + G_LABELS[:2])
            + " (or the older 'HH', 'LH', 'LL', 'HL', 'ns')",
        )
    return labels, name


def _palette(labels: pd.Series) -> dict[str, str]:
    """GeoDa's local Moran colours, or local G's when the labels are hot and cold spots."""
    if labels.isin([HOT, COLD]).any() and not labels.isin(list(QUADRANT_LABELS.values())).any():
        return G_COLOURS
    return LISA_COLOURS


def _label_handles(labels: pd.Series, palette: Mapping[str, str]) -> list:
    from matplotlib.patches import Patch

    counts = labels.value_counts()
    handles = [
        Patch(facecolor=colour, edgecolor=_EDGE, label=f"{key} ({int(counts.get(key, 0))})")
        for key, colour in palette.items()
    ]
    if counts.get(NO_DATA, 0):
        handles.append(
            Patch(
                facecolor=_NO_DATA_COLOUR, edgecolor=_EDGE, label=f"{NO_DATA} ({counts[NO_DATA]})"
            )
        )
    return handles


@options_were_positional("ax", "title")
def lisa_map(
    areas: gpd.GeoDataFrame,
    column: Any,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    legend: bool = True,
    alpha: float = 0.05,
    correction: str | None = "fdr",
    detail_limit: int = DETAIL_LIMIT,
) -> Figure:
    """Map local Moran (LISA) clusters in GeoDa's colours, or local G hot and cold spots.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Indexed by area code.
    column : str, LocalResult, esda.Moran_Local or esda.G_Local
        A column of cluster labels ("High-High", "Low-High", "Low-Low",
        "High-Low", "not significant", "no data", or "hot spot" / "cold spot";
        the older "HH", ..., "ns" are read too), or a local statistic's result,
        whose labels are used as they are (geoclusters) or made from ``p_sim``
        at ``alpha`` after ``correction`` (esda). Missing values (islands,
        areas without a value) are drawn white as "no data".
    ax : matplotlib.axes.Axes, optional
        Draw on these axes; by default a new Agg figure is made.
    title : str, optional
        By default "LISA clusters: <column>".
    legend : bool, default True
        Draw the legend (outside the data, at the right); small multiples
        share one instead.
    alpha : float, default 0.05
    correction : {"fdr", "bonferroni", None}, default "fdr"
        For esda results only: how their ``p_sim`` are tested.
    detail_limit : int, default :data:`DETAIL_LIMIT` (20,000)
        Above this many areas, each label's areas are filled as one shape,
        without outlines, as in :func:`typology_map`.

    Returns
    -------
    matplotlib.figure.Figure
        The areas are one collection with ``gid="areas"`` (one path per label
        above ``detail_limit``); the legend lists the five categories (plus
        "no data" when present) with their counts.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame(
    ...     {"lisa_businesses_content": ["High-High", "not significant"]},
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=27700,
    ... )
    >>> fig = lisa_map(areas, "lisa_businesses_content")
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['not significant (1)', 'High-High (1)', 'Low-Low (0)', 'Low-High (0)', 'High-Low (0)']
    """
    labels, name = _labels_of(areas, column, alpha, correction)
    detail_limit = _check_limit(detail_limit)
    fig, ax = _new_axes(ax, _map_figsize(areas.total_bounds))
    _draw_labels(
        ax,
        areas,
        labels,
        titled(title or f"LISA clusters: {name}", is_synthetic(areas)),
        legend=legend,
        detail_limit=detail_limit,
    )
    return fig


def _draw_labels(
    ax: Axes,
    areas: gpd.GeoDataFrame,
    labels: pd.Series,
    title: str,
    *,
    legend: bool,
    detail_limit: int,
    rings: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> None:
    """One LISA cluster map of normalised ``labels`` on ``ax`` (see :func:`lisa_map`)."""
    palette = _palette(labels)
    colours = labels.map(palette).fillna(_NO_DATA_COLOUR).tolist()
    _draw_areas(ax, areas, colours, detail_limit=detail_limit, rings=rings)
    ax.set_axis_off()
    ax.set_title(title, fontsize=10)
    if legend:
        ax.legend(
            handles=_label_handles(labels, palette),
            title=_legend_title("", len(areas), detail_limit, "label") or None,
            title_fontsize=7,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            borderaxespad=0.0,
            frameon=False,
            fontsize=7,
        )
    cartography(ax, areas, note=legend)


def lisa_maps(
    areas: gpd.GeoDataFrame,
    lisa: pd.DataFrame,
    *,
    title: str | None = None,
    ncols: int | None = None,
    extent: Sequence[float] | Iterable[str] | None = None,
    detail_limit: int = DETAIL_LIMIT,
) -> Figure:
    """Small multiples: one LISA cluster map per measure and group, one shared legend.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Indexed by area code (a run's areas).
    lisa : pandas.DataFrame
        The long LISA table ``area, measure, group, label``
        (``RunResult.lisa``); every measure and group gets a panel, empty
        ones too, so a grey panel says "nothing significant" rather than
        hiding.
    title : str, optional
        Figure title; by default "Local clusters (LISA) of the location quotients".
    ncols : int, optional
        Panels per row; by default up to three.
    extent : sequence, optional
        Zoom every panel, as in :func:`typology_map`.
    detail_limit : int, default :data:`DETAIL_LIMIT` (20,000)
        Above this many areas in view, each label's areas are filled as one
        shape, without outlines (said under the legend), as in
        :func:`typology_map`.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per group (titled ``measure:group`` with the number of
        significant areas); the legend counts every label over all panels.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=27700,
    ...                          index=pd.Index(["a", "b"], name="area"))
    >>> lisa = pd.DataFrame({"area": ["a", "b", "a", "b"], "measure": "jobs",
    ...                      "group": ["x", "x", "y", "y"],
    ...                      "label": ["High-High", "ns", "not significant", None]})
    >>> fig = lisa_maps(areas, lisa)
    >>> [ax.get_title() for ax in fig.axes if ax.get_title()]
    ['jobs:x (1 significant)', 'jobs:y (0 significant)']
    """
    import math as _math

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as _Figure

    _require_geoframe(areas, "areas", [])
    found = lisa_pairs(lisa)
    if not found:
        raise InputError(
            "the LISA table is empty", fix="run with lisa=True, or pass RunResult.lisa"
        )
    detail_limit = _check_limit(detail_limit)
    box = _resolve_extent(areas, extent)
    bounds = box or areas.total_bounds
    shown = _in_view(areas, box, detail_limit)
    # four panels read better as two by two than as three and one
    ncols = ncols or (2 if len(found) == 4 else min(3, len(found)))
    nrows = _math.ceil(len(found) / ncols)
    width, height = _map_figsize(bounds)
    panel = 4.2
    fig = _Figure(
        figsize=(panel * ncols + 1.8, panel * height / width * nrows + 0.9),
        layout="constrained",
    )
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel().tolist()
    scaled = len(shown) > detail_limit
    # the panels draw the same areas: their rings are gathered once
    rings = _rings(shown.geometry.to_numpy()) if scaled else None
    every = []
    for (measure, group), ax in zip(found, axes, strict=False):
        labels = lisa_labels(lisa, measure, group, areas.index)
        labels.index = areas.index
        every.append(labels)
        frame = shown[[shown.geometry.name]].assign(lisa=labels[shown.index].to_numpy())
        checked, _ = _labels_of(frame, "lisa", 0.05, None)
        significant = int((~labels.isin([NOT_SIGNIFICANT, NO_DATA])).sum())
        # the synthetic mark goes once, in the figure title
        _draw_labels(
            ax,
            frame,
            checked,
            f"{pair_label(measure, group)} ({significant} significant)",
            legend=False,
            detail_limit=detail_limit,
            rings=rings,
        )
        if box is not None:
            ax.set_xlim(box[0], box[2])
            ax.set_ylim(box[1], box[3])
    for ax in axes[len(found) :]:
        ax.set_axis_off()
    combined = pd.concat(every)
    fig.legend(
        handles=_label_handles(combined, _palette(combined)),
        loc="outside right upper",
        frameon=False,
        fontsize=8,
        title=_legend_title("areas over all panels", len(shown), detail_limit, "label"),
        title_fontsize=8,
    )
    fig.suptitle(
        titled(title or "Local clusters (LISA) of the location quotients", is_synthetic(areas)),
        fontsize=11,
    )
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


@options_were_positional("ax", "title", "labels")
def moran_scatterplot(
    values: pd.Series | Any,
    graph: Graph | None = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    labels: Mapping[str, str] | Iterable[str] | None = None,
    result: Any = None,
    alpha: float = 0.05,
    correction: str | None = "fdr",
) -> Figure:
    """Moran scatterplot: standardised values against their spatial lag.

    Values are standardised as z = (y − ȳ) / σ (population σ, as in esda and
    GeoDa); the lag uses the row-standardised graph. The line through the
    origin has slope Moran's I = (n / S₀) · zᵀWz / zᵀz, computed here directly;
    without islands S₀ = n and it is the least-squares slope of lag on z.
    Islands (no neighbours) have lag 0 and are drawn hollow.

    Parameters
    ----------
    values : pandas.Series or esda.Moran_Local
        Indexed by area code; every id of ``graph`` must have a value and every
        value an id. Array-likes are taken in the graph's id order. An esda
        ``Moran_Local`` brings its values, weights and significance.
    graph : libpysal.graph.Graph, optional
        Spatial weights (any transform: it is row-standardised here). A
        ``libpysal.weights.W`` is converted. Needed unless ``values`` is an
        esda ``Moran_Local``.
    ax : matplotlib.axes.Axes, optional
        Draw on these axes; by default a new Agg figure is made.
    title : str, optional
        By default "Moran scatterplot: <values.name>".
    labels : mapping or iterable, optional
        Areas to label: a mapping code → text, or codes (labelled with the code).
    result : LocalResult, esda.Moran_Local or pandas.Series, optional
        Colour the points by their cluster label (a Series of labels indexed
        by area code will do, e.g. one group of ``RunResult.lisa``) in GeoDa's colours
        (significant High-High red, ..., not significant grey), as splot does.
    alpha : float, default 0.05
    correction : {"fdr", "bonferroni", None}, default "fdr"
        For esda results only: how their ``p_sim`` are tested.

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
    if _is_esda(values, "Moran_Local"):
        result = values if result is None else result
        ids = _esda_ids(values)
        graph = values.w if graph is None else graph
        values = pd.Series(np.asarray(values.y, dtype=float), index=ids)
    if graph is None:
        raise InputError(
            "moran_scatterplot needs the graph", fix="pass graph=, the weights of the values"
        )
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
    if result is not None:
        found, _ = _result_labels(result, alpha=alpha, correction=correction)
        point_labels = found.reindex(ids.astype(str)).map(normalise_label).to_numpy()
        palette = _palette(pd.Series(point_labels))
        for key, colour in palette.items():
            chosen = (point_labels == key) & ~islands
            if chosen.any():
                ax.scatter(
                    z[chosen],
                    lag[chosen],
                    s=18 if key != NOT_SIGNIFICANT else 12,
                    color=colour if key != NOT_SIGNIFICANT else "#b8b8b8",
                    edgecolors=_EDGE if key != NOT_SIGNIFICANT else "none",
                    linewidths=0.3,
                    label=f"{key} ({int(chosen.sum())})",
                    gid=f"points:{key}",
                    zorder=3 if key != NOT_SIGNIFICANT else 2,
                )
        unlabelled = ~np.isin(point_labels, list(palette)) & ~islands
        if unlabelled.any():
            ax.scatter(
                z[unlabelled],
                lag[unlabelled],
                s=14,
                facecolors="none",
                edgecolors="#888888",
                linewidths=0.6,
                label=f"{NO_DATA} ({int(unlabelled.sum())})",
                gid=f"points:{NO_DATA}",
            )
    else:
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
    ax.set_ylabel(f"spatial lag of {textwrap.shorten(name, 40, placeholder='…')}")
    ax.set_title(titled(title or f"Moran scatterplot: {name}", is_synthetic(values)), fontsize=10)
    ax.legend(loc="best", fontsize=7, framealpha=0.85)
    return fig


def _quintiles(values: np.ndarray) -> tuple[list[str], list]:
    """Colours of five quantile classes (YlOrBr) and their legend, as mapclassify's Quantiles.

    Class bounds are the 20th, ..., 100th percentiles (linear interpolation),
    repeated bounds merged; a value belongs to the first class whose upper
    bound it does not exceed. numpy does in microseconds what importing
    mapclassify for it would take seconds to start.
    """
    from matplotlib import colormaps
    from matplotlib.colors import to_hex
    from matplotlib.patches import Patch

    known = ~np.isnan(values)
    if not known.any():
        return [_NO_DATA_COLOUR] * len(values), [
            Patch(facecolor=_NO_DATA_COLOUR, edgecolor=_EDGE, label=NO_DATA)
        ]
    bins = np.unique(np.percentile(values[known], [20, 40, 60, 80, 100]))
    cmap = colormaps["YlOrBr"].resampled(len(bins))
    fills = [to_hex(cmap(k)) for k in range(len(bins))]
    classes = np.searchsorted(bins, values[known], side="left")
    colours = np.full(len(values), _NO_DATA_COLOUR, dtype=object)
    colours[known] = np.asarray(fills, dtype=object)[classes]
    lower = [float(values[known].min()), *bins[:-1]]
    handles = [
        Patch(
            facecolor=fill,
            edgecolor=_EDGE,
            label=f"{'[' if k == 0 else '('}{low:,.2f}, {high:,.2f}]",
        )
        for k, (fill, low, high) in enumerate(zip(fills, lower, bins, strict=True))
    ]
    if not known.all():
        handles.append(Patch(facecolor=_NO_DATA_COLOUR, edgecolor=_EDGE, label=NO_DATA))
    return colours.tolist(), handles


def lisa_panel(
    areas: gpd.GeoDataFrame,
    result: Any,
    *,
    values: pd.Series | str | None = None,
    graph: Graph | None = None,
    title: str | None = None,
    alpha: float = 0.05,
    correction: str | None = "fdr",
    detail_limit: int = DETAIL_LIMIT,
) -> Figure:
    """The four views of a local Moran analysis side by side, as splot users know them.

    A choropleth of the values (quintiles), the Moran scatterplot coloured by
    cluster, the LISA cluster map and the significance map (pseudo p-value
    classes 0.001, 0.01, 0.05, as GeoDa draws it).

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Indexed by area code.
    result : LocalResult or esda.Moran_Local
        The local Moran result. An esda ``Moran_Local`` brings its values and
        weights; a geoclusters ``LocalResult`` needs ``values`` and ``graph``.
    values : pandas.Series or str, optional
        The values the statistic was computed on (or a column of ``areas``).
    graph : libpysal.graph.Graph, optional
        The weights the statistic used.
    title : str, optional
        Figure title; by default the values' name.
    alpha : float, default 0.05
    correction : {"fdr", "bonferroni", None}, default "fdr"
        For esda results only (see :func:`lisa_map`).
    detail_limit : int, default :data:`DETAIL_LIMIT` (20,000)
        Above this many areas the two maps of values fill each class as one
        shape, without outlines (see :func:`typology_map`).

    Returns
    -------
    matplotlib.figure.Figure
        Four axes: values, scatterplot, clusters, significance.

    Examples
    --------
    >>> import geopandas as gpd, numpy as np, pandas as pd
    >>> from shapely.geometry import box
    >>> from libpysal.graph import Graph
    >>> from geoclusters.stats import local_moran
    >>> cells = [box(x, y, x + 1, y + 1) for y in range(4) for x in range(4)]
    >>> areas = gpd.GeoDataFrame(geometry=cells, crs=27700,
    ...                          index=pd.Index([f"c{i}" for i in range(16)], name="area"))
    >>> y = pd.Series(np.arange(16.0), index=areas.index, name="jobs")
    >>> g = Graph.build_contiguity(areas)
    >>> fig = lisa_panel(areas, local_moran(y, g, permutations=99, seed=0), values=y, graph=g)
    >>> len([ax for ax in fig.axes if ax.get_title()])
    4
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as _Figure
    from matplotlib.patches import Patch

    _require_geoframe(areas, "areas", [values] if isinstance(values, str) else [])
    if _is_esda(result, "Moran_Local"):
        ids = _esda_ids(result)
        values = pd.Series(np.asarray(result.y, dtype=float), index=ids, name="value")
        graph = result.w
    else:
        if isinstance(values, str):
            values = areas[values].rename(values)
        if values is None or graph is None:
            raise InputError(
                "lisa_panel needs the values and the graph of a geoclusters LocalResult",
                fix="pass values= and graph= (or an esda Moran_Local, which carries them)",
            )
        values = pd.Series(values)
    name = str(values.name) if values.name is not None else "value"
    detail_limit = _check_limit(detail_limit)
    labels, p = _result_labels(result, alpha=alpha, correction=correction)
    codes = areas.index.astype(str)

    fig = _Figure(figsize=(12.0, 10.0), layout="constrained")
    FigureCanvasAgg(fig)
    (ax_values, ax_scatter), (ax_clusters, ax_p) = fig.subplots(2, 2)

    shown = pd.Series(values.to_numpy(), index=pd.Index(values.index).astype(str))
    value_colours, value_handles = _quintiles(shown.reindex(codes).to_numpy(dtype=float))
    _draw_areas(ax_values, areas, value_colours, detail_limit=detail_limit, linewidth=0.2)
    ax_values.legend(
        handles=value_handles,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        fontsize=7,
        frameon=False,
        title="quintiles",
        title_fontsize=7,
    )
    ax_values.set_axis_off()
    ax_values.set_title(f"{name}", fontsize=10)
    cartography(ax_values, areas, note=False)

    known = shown.dropna()
    sub = _as_graph(graph)
    sub = sub.subgraph(known.index) if len(known) < len(pd.Index(sub.unique_ids)) else sub
    moran_scatterplot(
        known.rename(name), sub, ax=ax_scatter, result=result, alpha=alpha, correction=correction
    )
    ax_scatter.set_title("Moran scatterplot, coloured by cluster", fontsize=10)

    labelled = areas[[areas.geometry.name]].assign(
        lisa=labels.reindex(codes).map(normalise_label).to_numpy()
    )
    lisa_map(labelled, "lisa", ax=ax_clusters, title="Clusters")

    classes = [(0.001, "#1a6b1a"), (0.01, "#3fae3f"), (0.05, "#9be09b")]
    pvals = (p if p is not None else pd.Series(np.nan, index=labels.index)).reindex(codes)
    significant = ~labels.reindex(codes).isin([NOT_SIGNIFICANT, NO_DATA]).to_numpy()
    colours, counts = [], dict.fromkeys([c for c, _ in classes], 0)
    for value, sig in zip(pvals.to_numpy(), significant, strict=True):
        if np.isnan(value):
            colours.append(_NO_DATA_COLOUR)
            continue
        colour = LISA_COLOURS[NOT_SIGNIFICANT]
        if sig:
            for cut, fill in classes:
                if value <= cut:
                    colour = fill
                    counts[cut] += 1
                    break
            else:
                colour, counts[classes[-1][0]] = classes[-1][1], counts[classes[-1][0]] + 1
        colours.append(colour)
    _draw_areas(ax_p, areas, colours, detail_limit=detail_limit, linewidth=0.2)
    ax_p.set_axis_off()
    ax_p.set_title("Significance (pseudo p-value of the significant areas)", fontsize=10)
    handles = [
        Patch(facecolor=fill, edgecolor=_EDGE, label=f"p ≤ {cut} ({counts[cut]})")
        for cut, fill in classes
    ] + [Patch(facecolor=LISA_COLOURS[NOT_SIGNIFICANT], edgecolor=_EDGE, label=NOT_SIGNIFICANT)]
    ax_p.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=7
    )
    cartography(ax_p, areas, note=False)
    fig.suptitle(titled(title or f"Local Moran's I: {name}", is_synthetic(areas)), fontsize=12)
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
        data[f"LISA {pair_label(measure, group)}"] = pd.Series(labels.to_numpy(), index=areas.index)
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
    notes: Iterable[str] = (),
    tiles: bool = True,
    focus: Sequence[float] | Iterable[str] | None = None,
    detail_limit: int = DETAIL_LIMIT,
) -> folium.Map:
    """An interactive (Leaflet) map of the typology, one popup per area, that works offline.

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
        Save the map as one self-contained HTML file here: Leaflet and every
        script and style it needs are inside the file (keyword only: passing
        it, or the title, by position is deprecated and removed in 0.3).
    notes : iterable of str, optional
        Caveats of the run (``RunResult.provenance.notes``): those that say the
        data are approximate or synthetic are shown under the title, so the
        map cannot be passed on without them.
    tiles : bool, default True
        Show the OpenStreetMap basemap. The tiles are the only part that comes
        from the web: offline they stay blank and the polygons, popups and
        legend work as usual.
    focus : sequence, optional
        Area codes (or a bounding box in the areas' CRS) the map opens on,
        e.g. Kent's TTWAs; every area is still on the map.
    detail_limit : int, default :data:`DETAIL_LIMIT` (20,000)
        Above this many areas the page would be hundreds of megabytes that no
        browser opens, so it shows only the cluster areas (types other than
        "none" and "no data"), merged by type into one shape per contiguous
        group (its popup: the type, how many areas, the first few) and
        simplified to about a pixel of the opening view (the map's width /
        2,000); the conurbation outlines are simplified alike. A note under
        the title says how many areas are left out. ``metrics`` and ``lisa``
        are then not shown: every area is in the run's tables.

    Returns
    -------
    folium.Map

    Notes
    -----
    The areas are embedded as GeoJSON in EPSG:4326; the saved page works
    without a network (see :func:`geoclusters._offline.save_offline`). The
    layers are folium ``GeoJson`` layers with their own style functions and a
    categorical legend, so drawing the map never imports mapclassify.

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
    detail_limit = _check_limit(detail_limit)
    scaled = len(areas) > detail_limit
    tolerance = _pixel(areas) if scaled else 0.0

    west, south, east, north = _lonlat_bounds(areas, areas.total_bounds)
    fmap = folium.Map(
        location=((south + north) / 2, (west + east) / 2),
        tiles="OpenStreetMap" if tiles else None,
        control_scale=True,
    )
    box = _resolve_extent(areas, focus)
    if box is not None:
        west, south, east, north = _lonlat_bounds(areas, box)
    fmap.fit_bounds([[south, west], [north, east]])

    if scaled:
        layer, shown_note = _cluster_shapes(areas, types, tolerance)
        tooltip, popup = ["type", "areas"], ["type", "areas", "first areas"]
        present = [t for t in CLUSTER_TYPES if t in set(layer["type"])]
    else:
        layer, popup = _popup_frame(areas, metrics, lisa)
        layer = layer.to_crs(4326)
        tooltip = ["name", "code", "type", "conurbation"]
        present = [t for t in CLUSTER_TYPES if (types == t).any()]
        shown_note = None
    layer["__folium_color"] = layer["type"].map(TYPE_COLOURS)
    _geojson(
        layer,
        "Areas",
        {"color": _EDGE, "weight": 0.6, "fillOpacity": 0.75},
        tooltip=tooltip,
        popup=popup,
        colour_column="__folium_color",
    ).add_to(fmap)
    _legend(fmap, "Cluster type", present)

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
        outlines = _with_geometry(shown, conurbations)
        if scaled:
            outlines = _simplified(outlines.to_crs(areas.crs), tolerance)
        else:
            outlines = outlines.to_crs(4326)
        _geojson(
            outlines,
            "Conurbations",
            {"color": _OUTLINE, "fill": False, "weight": 3, "fillOpacity": 0.5},
            tooltip=["conurbation"],
            popup=list(shown.columns),
        ).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)

    heading = titled(title or "Industry cluster typology", is_synthetic(areas))
    from html import escape

    caveats = _caveats(notes)
    banner = (
        '<div style="position:fixed;top:10px;left:60px;z-index:1000;background:white;'
        "padding:4px 10px;border:1px solid #999;font:bold 14px sans-serif;max-width:60%;"
        f'{"color:#b00000;" if is_synthetic(areas) else ""}">'
        + "<br>".join(escape(line) for line in heading.splitlines())
        + "".join(
            '<div class="caveat" style="font:12px sans-serif;color:#8a0000;margin-top:3px">'
            f"{escape(text)}</div>"
            for text in caveats
        )
        + (
            '<div class="scale-note" style="font:12px sans-serif;color:#333;margin-top:3px">'
            f"{escape(shown_note)}</div>"
            if shown_note
            else ""
        )
        + "</div>"
    )
    fmap.get_root().html.add_child(folium.Element(banner))
    if path is not None:
        from ._offline import save_offline

        save_offline(fmap, path, tiles=tiles, unknown="warn")
    return fmap


def _lonlat_bounds(areas: gpd.GeoDataFrame, box: Sequence[float]) -> tuple[float, ...]:
    """``box`` (in the areas' CRS) as west, south, east, north in degrees."""
    from pyproj import Transformer

    if areas.crs.equals(4326):
        return tuple(float(v) for v in box)
    to_lonlat = Transformer.from_crs(areas.crs, 4326, always_xy=True)
    return to_lonlat.transform_bounds(*box)


def _pixel(areas: gpd.GeoDataFrame) -> float:
    """About one pixel of a map that opens on all the areas, in the areas' CRS units."""
    minx, miny, maxx, maxy = areas.total_bounds
    return max(maxx - minx, maxy - miny) / 2000.0


def _simplified(frame: gpd.GeoDataFrame, tolerance: float) -> gpd.GeoDataFrame:
    """Simplified by ``tolerance`` (CRS units), in lon/lat rounded to 5 decimals (about 1 m)."""
    import shapely

    simple = frame.set_geometry(
        shapely.simplify(frame.geometry.to_numpy(), tolerance, preserve_topology=True),
        crs=frame.crs,
    ).to_crs(4326)
    rounded = shapely.transform(simple.geometry.to_numpy(), lambda xy: np.round(xy, 5))
    return simple.set_geometry(rounded, crs=simple.crs)


def _cluster_shapes(
    areas: gpd.GeoDataFrame, types: pd.Series, tolerance: float
) -> tuple[gpd.GeoDataFrame, str]:
    """The cluster areas merged by type, one row per contiguous shape, and the map's note.

    Each shape's popup counts its areas and names the first few, found by a
    point inside each area (so an area that touches its shape only at a
    corner still counts once).
    """
    import geopandas as gpd
    import shapely

    from ._style import _metres_per_unit

    chosen = ~types.isin(NOT_CLUSTERS).to_numpy()
    geometry = areas.geometry.to_numpy()[chosen]
    kinds = types.to_numpy()[chosen]
    codes = areas.index.astype(str).to_numpy()[chosen]
    names = areas["name"].astype(str).to_numpy()[chosen] if "name" in areas else codes
    rows = []
    for kind in CLUSTER_TYPES:
        mine = np.flatnonzero(kinds == kind)
        if not len(mine):
            continue
        shapes = shapely.get_parts(shapely.union_all(geometry[mine]))
        inside = shapely.point_on_surface(geometry[mine])
        point, shape = shapely.STRtree(shapes).query(inside, predicate="intersects")
        first = np.unique(point, return_index=True)[1]
        point, shape = point[first], shape[first]
        for k, members in pd.Series(mine[point]).groupby(shape):
            listed = [f"{names[i]} ({codes[i]})" for i in members.to_numpy()[:5]]
            more = len(members) - len(listed)
            rows.append(
                {
                    "type": kind,
                    "areas": f"{len(members):,}",
                    "first areas": ", ".join(listed) + (f" and {more:,} more" if more else ""),
                    "geometry": shapes[k],
                }
            )
    layer = gpd.GeoDataFrame(
        rows or {"type": [], "areas": [], "first areas": [], "geometry": []},
        geometry="geometry",
        crs=areas.crs,
    )
    layer = _simplified(layer, tolerance)
    left = types[~chosen].value_counts()
    metres = _metres_per_unit(areas.crs)
    detail = f"{tolerance * metres:,.0f} m" if metres else f"{tolerance:.2g}°"
    not_shown = ", ".join(f"{int(left[t]):,} {t!r}" for t in NOT_CLUSTERS if left.get(t, 0))
    note = (
        f"{len(areas):,} areas: this map shows the {int(chosen.sum()):,} cluster areas, "
        f"merged by type into {len(layer):,} shapes and simplified to about {detail}; "
        f"the {int((~chosen).sum()):,} other areas ({not_shown or 'none'}) are left out. "
        "The run's tables list every area."
    )
    return layer, note


def _geojson(
    frame: gpd.GeoDataFrame,
    name: str,
    style: Mapping[str, Any],
    *,
    tooltip: list[str],
    popup: list[str],
    colour_column: str | None = None,
) -> folium.GeoJson:
    """One folium GeoJSON layer: fixed style, fill from ``colour_column``, tooltip and popup.

    What :meth:`geopandas.GeoDataFrame.explore` built, without its import
    of mapclassify; the features keep explore's ``__folium_color`` property.
    """
    import folium

    fixed = dict(style)

    def styled(feature: dict) -> dict:
        if colour_column is None:
            return {"fillColor": fixed["color"], **fixed}
        return {"fillColor": feature["properties"][colour_column], **fixed}

    # folium checks the fields against the first feature: an empty layer has none
    empty = frame.empty
    return folium.GeoJson(
        frame.__geo_interface__,
        name=name,
        style_function=styled,
        highlight_function=lambda _: {"fillOpacity": 0.75},
        tooltip=None if empty else folium.GeoJsonTooltip(tooltip),
        popup=None if empty else folium.GeoJsonPopup(popup),
    )


# The draggable legend of geopandas' explore (after Michel Metran's package_folium,
# MIT licence), so the page looks as it did when explore drew it.
_LEGEND_HEAD = """
{% macro header(this, kwargs) %}
<script src="https://code.jquery.com/ui/1.12.1/jquery-ui.js"></script>
<script>$( function() {
    $( ".maplegend" ).draggable({
        start: function (event, ui) {
            $(this).css({right: "auto", top: "auto", bottom: "auto"});
        }
    });
});
</script>
<style type='text/css'>
  .maplegend {
    position: absolute; z-index: 9999; background-color: rgba(255, 255, 255, .8);
    border-radius: 5px; box-shadow: 0 0 15px rgba(0,0,0,0.2); padding: 10px;
    font: 12px/14px Arial, Helvetica, sans-serif; right: 10px; bottom: 20px;
  }
  .maplegend .legend-title { text-align: left; margin-bottom: 5px; font-weight: bold; }
  .maplegend .legend-scale ul {
    margin: 0; margin-bottom: 0px; padding: 0; float: left; list-style: none;
  }
  .maplegend .legend-scale ul li {
    list-style: none; margin-left: 0; line-height: 16px; margin-bottom: 2px;
  }
  .maplegend ul.legend-labels li span {
    display: block; float: left; height: 14px; width: 14px; margin-right: 5px;
    margin-left: 0; border: 0px solid #ccc;
  }
</style>
{% endmacro %}
"""


def _legend(fmap: folium.Map, title: str, categories: Sequence[str]) -> None:
    """The categorical legend: one coloured square per cluster type on the map."""
    from html import escape

    import branca

    head = branca.element.MacroElement()
    head._template = branca.element.Template(_LEGEND_HEAD)
    fmap.get_root().add_child(head)
    items = "".join(
        f"<li><span style='background:{TYPE_COLOURS[c]}'></span>{escape(c)}</li>"
        for c in categories
    )
    body = (
        f"<div id='maplegend {escape(title)}' class='maplegend'>"
        f"<div class='legend-title'>{escape(title)}</div>"
        f"<div class='legend-scale'><ul class='legend-labels'>{items}</ul></div></div>"
    )
    fmap.get_root().html.add_child(branca.element.Element(body, "legend"))


def _caveats(notes: Iterable[str]) -> list[str]:
    """The notes that say the data are approximate or synthetic, first sentence each."""
    shown = []
    for note in notes or ():
        text = str(note)
        if any(word in text.lower() for word in ("approximat", "synthetic")):
            first = text.split(". ")[0].rstrip(".")
            shown.append(textwrap.shorten(first, 200, placeholder=" …") + ".")
    return shown


def _with_geometry(table: pd.DataFrame, source: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``table`` (same length as ``source``) with ``source``'s geometry and CRS."""
    import geopandas as gpd

    return gpd.GeoDataFrame(
        table.reset_index(drop=True), geometry=source.geometry.to_numpy(), crs=source.crs
    )
