"""What the maps and the report share: cluster-type colours and labels, number
formats, the synthetic-data mark, and reading the long metrics table."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from ._labels import (
    COLD,
    HIGH_HIGH,
    HIGH_LOW,
    HOT,
    LOW_HIGH,
    LOW_LOW,
    NOT_SIGNIFICANT,
    normalise_label,
    normalise_labels,
)

#: The cluster types, in legend order.
CLUSTER_TYPES: tuple[str, ...] = ("high concentration", "high growth", "both", "none", "no data")

#: Types that are not clusters: ``"no data"`` marks areas that had no counts.
NOT_CLUSTERS: tuple[str, ...] = ("none", "no data")

#: Fill colour of each cluster type (ColorBrewer Dark2, readable with the
#: common colour-vision deficiencies); areas that are not clusters stay light grey.
TYPE_COLOURS: dict[str, str] = {
    "high concentration": "#d95f02",
    "high growth": "#1b9e77",
    "both": "#7570b3",
    "none": "#e3e3e3",
    "no data": "#ffffff",
}

#: GeoDa's LISA cluster-map colours, keyed by the label vocabulary, in GeoDa's legend order.
LISA_COLOURS: dict[str, str] = {
    NOT_SIGNIFICANT: "#eeeeee",
    HIGH_HIGH: "#ff0000",
    LOW_LOW: "#0000ff",
    LOW_HIGH: "#a7adf9",
    HIGH_LOW: "#f4ada8",
}

#: Local G (hot and cold spot) colours, as in GeoDa's local G cluster map.
G_COLOURS: dict[str, str] = {NOT_SIGNIFICANT: "#eeeeee", HOT: "#ff0000", COLD: "#0000ff"}

#: Areas without a label (islands, missing values) are drawn white as "no data".
NO_DATA_COLOUR = "#ffffff"


def label_colour(label: object) -> str:
    """The fill colour of a cluster label in any spelling (``"HH"``, ``"ns"``, ``None`` ...)."""
    label = normalise_label(label)
    return LISA_COLOURS.get(label) or G_COLOURS.get(label) or NO_DATA_COLOUR


#: Printed in every title (and the report) when the data are synthetic.
SYNTHETIC_LABEL = "SYNTHETIC DEMO DATA"


def is_synthetic(*objects: Any) -> bool:
    """True when any of the objects carries ``attrs["synthetic"]``."""
    return any(bool(getattr(obj, "attrs", {}).get("synthetic", False)) for obj in objects)


def titled(text: str, synthetic: bool) -> str:
    return f"{SYNTHETIC_LABEL}\n{text}" if synthetic else text


def format_count(value: Any) -> str:
    """Counts with thousands separators; decimals only when the count is fractional."""
    if value is None or pd.isna(value):
        return "–"
    value = float(value)
    if value == round(value):
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def format_lq(value: Any) -> str:
    """Location quotients to two decimals."""
    if value is None or pd.isna(value):
        return "–"
    return f"{float(value):.2f}"


def format_change(value: Any) -> str:
    """Relative LQ change (LQ2 / LQ1 − 1) as a signed percentage."""
    if value is None or pd.isna(value):
        return "–"
    return f"{100 * float(value):+.1f}%"


SHOWN_METRICS = (
    ("count", "count", format_count),
    ("lq", "LQ", format_lq),
    ("lq_change", "LQ change", format_change),
)
"""The metrics shown beside a map or in the report: name, heading, format."""


def pair_label(measure: Any, group: Any) -> str:
    """``"measure:group"``, the spelling of the typology's group lists."""
    return f"{measure}:{group}"


def table_of(conurbations: Any):
    """The conurbations table of a Conurbations result (or the table itself)."""
    return getattr(conurbations, "table", conurbations)


def metrics_of(conurbations: Any) -> pd.DataFrame | None:
    """The merged metrics of a Conurbations result, if any."""
    return getattr(conurbations, "metrics", None)


def metric_lookup(metrics: pd.DataFrame | None) -> dict[tuple[str, str, str], dict[str, float]]:
    """``{(area, measure, group): {metric: value}}`` from the long metrics table."""
    if metrics is None or len(metrics) == 0:
        return {}
    shown = {name for name, _, _ in SHOWN_METRICS}
    rows = metrics[metrics["metric"].astype(str).isin(shown)]
    out: dict[tuple[str, str, str], dict[str, float]] = {}
    for area, measure, group, metric, value in rows[
        ["area", "measure", "group", "metric", "value"]
    ].itertuples(index=False):
        out.setdefault((str(area), str(measure), str(group)), {})[str(metric)] = value
    return out


def pairs(metrics: pd.DataFrame | None) -> list[tuple[str, str]]:
    """The (measure, group) pairs with shown metrics, in table order."""
    if metrics is None or len(metrics) == 0:
        return []
    rows = metrics[metrics["metric"].astype(str).isin([n for n, _, _ in SHOWN_METRICS])]
    return _pair_list(rows)


def lisa_pairs(lisa: pd.DataFrame | None) -> list[tuple[str, str]]:
    """The (measure, group) pairs of a long LISA table ``area, measure, group, label``."""
    if lisa is None or len(lisa) == 0:
        return []
    return _pair_list(lisa)


def _pair_list(table: pd.DataFrame) -> list[tuple[str, str]]:
    """The distinct (measure, group) pairs of a long table, in table order, without a
    Python loop over its rows (a million areas' table has millions)."""
    found = table[["measure", "group"]].drop_duplicates()
    return list(zip(found["measure"], found["group"], strict=True))


def lisa_labels(lisa: pd.DataFrame, measure: str, group: str, index: Iterable[str]) -> pd.Series:
    """The LISA labels of one measure and group, on ``index``."""
    rows = lisa[(lisa["measure"] == measure) & (lisa["group"] == group)]
    labels = rows.set_index(rows["area"].astype(str))["label"]
    return normalise_labels(labels.reindex(pd.Index(index).astype(str)))


def _crs_note(areas: Any, scaled: bool = False) -> str:
    epsg = areas.crs.to_epsg() if areas.crs is not None else None
    crs = f"EPSG:{epsg}" if epsg else (areas.crs.name if areas.crs is not None else "no CRS")
    return f"North up · {crs}" + ("" if scaled else " · not to scale")


def _metres_per_unit(crs: Any) -> float | None:
    """Metres per CRS unit of a projected CRS; None for degrees or no CRS."""
    if crs is None or not crs.is_projected:
        return None
    try:
        return float(crs.axis_info[0].unit_conversion_factor)
    except (AttributeError, IndexError, TypeError):
        return None


def cartography(ax: Any, areas: Any, *, note: bool = True) -> None:
    """A scale bar (projected CRS only), a north arrow and the CRS note.

    The scale bar sits at the lower right and the arrow at the upper left:
    on a map of Great Britain both corners are sea, and elsewhere they are
    the corners a reader looks at last.
    """
    metres = _metres_per_unit(areas.crs)
    scaled = False
    if metres is not None:
        try:
            from matplotlib_scalebar.scalebar import ScaleBar
        except ImportError:  # pragma: no cover - the maps extra brings it
            ScaleBar = None
        if ScaleBar is not None:
            bar = ScaleBar(
                metres,
                units="m",
                location="lower right",
                length_fraction=0.2,
                box_alpha=0.75,
                font_properties={"size": 7},
                border_pad=0.5,
            )
            bar.set_gid("scale_bar")
            ax.add_artist(bar)
            scaled = True
    ax.annotate(
        "N",
        xy=(0.04, 0.985),
        xytext=(0, -30),
        xycoords="axes fraction",
        textcoords="offset points",
        ha="center",
        va="center",
        fontsize=9,
        fontweight="bold",
        arrowprops={
            "facecolor": "#222222",
            "edgecolor": "none",
            "width": 3,
            "headwidth": 9,
            "headlength": 8,
        },
        gid="north_arrow",
    )
    if note:
        ax.text(
            0.0,
            0.0,
            _crs_note(areas, scaled),
            transform=ax.transAxes,
            fontsize=7,
            color="#555555",
            ha="left",
            va="bottom",
        )
