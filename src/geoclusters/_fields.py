"""Flat field names for files, and back: the only place measure, group and
metric names become column names.

GeoPackage, CSV, QGIS and ArcGIS want flat field names without spaces; in
memory the metrics stay in the long table of
:func:`geoclusters.measures.metrics`. :func:`flatten` makes a field per
(measure, group, metric) and the mapping from each field back to its three
names; :func:`unflatten` reads the fields back through that mapping, so any
measure or group name round-trips exactly, underscores and spaces included.
The mapping is written beside the outputs (:data:`FIELDS_FILE`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from .measures import METRIC_DTYPE, METRICS_COLUMNS

FIELDS_FILE = "fields.json"
LISA = "lisa"
"""The pseudo-metric under which LISA labels are flattened."""

_UNSAFE = re.compile(r"[^0-9A-Za-z]+")


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", str(text)).strip("_") or "x"


def flatten(
    metrics: pd.DataFrame, lisa: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Wide fields of the long metrics (and LISA labels) for a file.

    Parameters
    ----------
    metrics : pandas.DataFrame
        ``area, measure, group, metric, value``.
    lisa : pandas.DataFrame, optional
        ``area, measure, group, label``.

    Returns
    -------
    fields : pandas.DataFrame
        Indexed by area, one column per field (``lisa`` labels as strings).
    mapping : dict
        Field name -> ``[measure, group, metric]``.
    """
    parts = [metrics.assign(metric=metrics["metric"].astype(str))]
    if lisa is not None and len(lisa):
        parts.append(lisa.rename(columns={"label": "value"}).assign(metric=LISA))
    long = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    keys = long[["measure", "group", "metric"]].drop_duplicates()
    mapping: dict[str, list[str]] = {}
    names: dict[tuple[str, str, str], str] = {}
    for measure, group, metric in keys.itertuples(index=False):
        if metric == LISA:
            base = f"{LISA}_{_safe(measure)}_{_safe(group)}"
        elif metric == "total":
            base = f"{_safe(measure)}_total"
        else:
            base = f"{_safe(measure)}_{_safe(group)}_{metric}"
        name, n = base, 1
        while name in mapping:
            n += 1
            name = f"{base}_{n}"
        mapping[name] = [str(measure), str(group), str(metric)]
        names[(measure, group, metric)] = name
    field = pd.Series(
        [names[k] for k in zip(long["measure"], long["group"], long["metric"], strict=True)],
        index=long.index,
    )
    long = long.assign(field=field)
    numeric = long["metric"] != LISA
    # numbers and labels pivoted apart, so each block keeps its dtype (and stays one block)
    parts = [
        long[numeric].pivot(index="area", columns="field", values="value").astype(float),
        long[~numeric].pivot(index="area", columns="field", values="value"),
    ]
    parts = [p for p in parts if p.shape[1]]
    wide = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=pd.Index([], name="area"))
    wide = wide[list(mapping)].copy()
    wide.columns.name = None
    wide.index.name = "area"
    return wide, mapping


def unflatten(
    frame: pd.DataFrame, mapping: dict[str, list[str]]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Split a frame read from a file back into its other columns, metrics and LISA labels.

    Returns
    -------
    rest : pandas.DataFrame
        ``frame`` without the mapped fields.
    metrics : pandas.DataFrame
        ``area, measure, group, metric, value`` (area from the frame's index).
    lisa : pandas.DataFrame
        ``area, measure, group, label``.
    """
    present = [name for name in mapping if name in frame.columns]
    rows, labels = [], []
    for name in present:
        measure, group, metric = mapping[name]
        column = frame[name]
        target = labels if metric == LISA else rows
        part = pd.DataFrame({"area": frame.index.astype(str), "measure": measure, "group": group})
        if metric == LISA:
            part["label"] = column.to_numpy()
        else:
            part["metric"] = metric
            part["value"] = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        target.append(part)
    metrics = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=METRICS_COLUMNS)
    metrics["metric"] = metrics["metric"].astype(METRIC_DTYPE)
    lisa = (
        pd.concat(labels, ignore_index=True)
        if labels
        else pd.DataFrame(columns=["area", "measure", "group", "label"])
    )
    return frame.drop(columns=present), metrics[METRICS_COLUMNS], lisa


def write_mapping(path: str | Path, mapping: dict[str, dict[str, list[str]]]) -> Path:
    """Write ``{layer: {field: [measure, group, metric]}}`` as JSON."""
    path = Path(path)
    path.write_text(json.dumps(mapping, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_mapping(path: str | Path) -> dict[str, dict[str, list[str]]]:
    """Read the mapping written by :func:`write_mapping`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
