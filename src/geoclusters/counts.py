"""Counts: one tidy long table of business and employment counts.

Every count table in geoclusters has the columns

``area, sector, period, measure, value, status, rounded_to``

- ``area``: area code (str), matching the index of the areas GeoDataFrame;
- ``sector``: sector label (str), a SIC code, a DCMS sub-sector or a group;
  the reserved label :data:`TOTAL` holds the all-industry total that location
  quotients divide by;
- ``period``: period label (str), a year such as ``"2015"`` or a span such as
  ``"2007-2010"`` after :func:`geoclusters.period_means`;
- ``measure``: what is counted (``"businesses"``, ``"employment"``, ...);
- ``value``: float; missing (NaN) where the source suppressed the cell;
- ``status``: ``"ok"``, ``"suppressed"`` (disclosure control in the source)
  or ``"missing"`` (blank in the source);
- ``rounded_to``: the rounding base the publisher applied (1 for exact, 5 for
  UK Business Counts).

Suppressed cells are never turned into zeros: a zero is a statement that no
business exists, a suppressed cell is a statement that some may.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from .errors import InputError

TOTAL = "_total"
"""Sector label of the all-industry total in a counts table."""

COLUMNS = ["area", "sector", "period", "measure", "value", "status", "rounded_to"]
KEY = ["area", "sector", "period", "measure"]
STATUSES = ("ok", "suppressed", "missing")

# Markers used by ONS, NOMIS and the devolved statistics offices for cells held
# back under disclosure control or not available.
SUPPRESSION_MARKERS = frozenset({"*", "**", "..", ".", "!", "-", "c", "x", ":", "~", "[c]", "[x]"})


def parse_values(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse published cell values into numbers and a status.

    Parameters
    ----------
    raw : pandas.Series
        Cell values as read from a file (strings or numbers).

    Returns
    -------
    values : pandas.Series of float
        The numbers, NaN where suppressed or blank.
    status : pandas.Series of str
        ``"ok"``, ``"suppressed"`` or ``"missing"``.

    Raises
    ------
    InputError
        If a cell is neither a number, a blank nor a known suppression marker.
    """
    text = raw.astype("string").str.strip().str.replace(",", "", regex=False)
    blank = text.isna() | (text == "")
    suppressed = text.isin(SUPPRESSION_MARKERS)
    values = pd.to_numeric(text.where(~(blank | suppressed)), errors="coerce")
    unreadable = values.isna() & ~blank & ~suppressed
    if unreadable.any():
        bad = raw[unreadable]
        raise InputError(
            "count values that are neither numbers nor known suppression markers "
            f"(first: {bad.iloc[0]!r})",
            rows=bad.index,
            fix="correct those cells, or mark suppressed cells with one of "
            + " ".join(sorted(SUPPRESSION_MARKERS)),
        )
    status = pd.Series(
        np.select([suppressed.to_numpy(), blank.to_numpy()], ["suppressed", "missing"], "ok"),
        index=raw.index,
    )
    return values.astype(float), status


def validate_counts(counts: pd.DataFrame, areas=None, allow_negative: bool = False) -> pd.DataFrame:
    """Check a counts table and return it in canonical form.

    Parameters
    ----------
    counts : pandas.DataFrame
        A table with at least ``area, sector, period, measure, value``;
        ``status`` and ``rounded_to`` are added when absent.
    areas : geopandas.GeoDataFrame or pandas.Index, optional
        When given, every count area must be one of these codes and every area
        must have counts.
    allow_negative : bool, default False
        Counts of businesses and jobs cannot be negative; set this for tables
        of changes.

    Returns
    -------
    pandas.DataFrame
        The columns :data:`COLUMNS`, string keys, float values, sorted by key.

    Raises
    ------
    InputError
        Naming the rows with missing columns or keys, duplicate keys, negative
        values or area codes that do not match the areas.
    """
    missing_columns = [
        c for c in ["area", "sector", "period", "measure", "value"] if c not in counts
    ]
    if missing_columns:
        raise InputError(
            f"counts table lacks the columns {missing_columns}",
            fix="rename the columns, or pass a column mapping to read_counts",
        )
    out = counts.copy()
    for column in KEY:
        out[column] = out[column].astype("string").str.strip()
    if "status" not in out:
        out["status"] = np.where(out["value"].isna(), "missing", "ok")
    if "rounded_to" not in out:
        out["rounded_to"] = 1
    out["value"] = pd.to_numeric(out["value"], errors="raise").astype(float)
    blank_key = out[KEY].isna().any(axis=1) | (out[KEY] == "").any(axis=1)
    if blank_key.any():
        raise InputError(
            "count rows with a blank area, sector, period or measure",
            rows=out.index[blank_key],
            fix="fill in or drop those rows before reading",
        )
    duplicated = out.duplicated(KEY, keep=False)
    if duplicated.any():
        raise InputError(
            "the same area, sector, period and measure appears more than once",
            rows=out.index[duplicated],
            fix="aggregate the duplicates (for example with groupby().sum()) or drop them",
        )
    if not allow_negative:
        negative = out["value"] < 0
        if negative.any():
            raise InputError(
                "negative counts",
                rows=out.index[negative],
                fix="counts of businesses or jobs cannot be negative; correct the source",
            )
    unknown_status = ~out["status"].isin(STATUSES)
    if unknown_status.any():
        raise InputError(f"status must be one of {STATUSES}", rows=out.index[unknown_status])
    if areas is not None:
        check_area_codes(out, areas)
    out = out[COLUMNS].astype({c: str for c in KEY})
    return out.sort_values(KEY, kind="stable").reset_index(drop=True)


def check_area_codes(counts: pd.DataFrame, areas) -> None:
    """Raise when the area codes of counts and boundaries do not match both ways."""
    codes = pd.Index(areas.index if hasattr(areas, "geometry") else areas).astype(str)
    count_codes = pd.Index(counts["area"].unique()).astype(str)
    unknown = count_codes.difference(codes)
    if len(unknown):
        raise InputError(
            "counts name areas that are not in the boundaries",
            rows=unknown,
            fix="check the code column and the vintage of the boundaries, or crosswalk the "
            "counts onto these boundaries with geoclusters.crosswalk",
        )
    without = codes.difference(count_codes)
    if len(without):
        raise InputError(
            "areas in the boundaries have no counts",
            rows=without,
            fix="add counts for them (zeros where there truly are none) or drop them from the "
            "boundaries",
        )


def read_counts(
    source,
    format: Literal["generic", "nomis"] = "generic",
    columns: Mapping[str, str] | None = None,
    layout: Literal["long", "wide"] = "long",
    measure: str | None = None,
    period: str | None = None,
    total: str | None = None,
    rounded_to: int | None = None,
    ignore: Sequence[str] = (),
    areas=None,
) -> pd.DataFrame:
    """Read counts into the tidy long table.

    Parameters
    ----------
    source : str, path or pandas.DataFrame
        A CSV file (any encoding pandas reads; a byte-order mark is fine) or a
        table already in memory.
    format : {"generic", "nomis"}
        ``"nomis"`` reads NOMIS downloads (UK Business Counts, BRES: the API's
        CSV and the bulk CSV) through :mod:`geoclusters.sources.nomis`.
    columns : mapping, optional
        Generic format: maps the canonical names (``area``, ``sector``,
        ``period``, ``measure``, ``value``) to the file's column names. For a
        wide layout only ``area`` is used.
    layout : {"long", "wide"}
        Generic format: ``"wide"`` means one row per area and one column per
        sector; every column other than the area (and those mapped to other
        canonical names) is a sector.
    measure, period : str, optional
        Constant measure or period for files that do not have such a column.
    total : str, optional
        The sector label that holds the all-industry total in the file; it is
        renamed to :data:`TOTAL`.
    rounded_to : int, optional
        Rounding base the publisher applied (5 for UK Business Counts); 1
        for generic files when omitted, read from the dataset for NOMIS.
    ignore : sequence of str
        Generic format: columns to leave out (for example a name column in a
        wide table).
    areas : geopandas.GeoDataFrame, optional
        Check the area codes against these boundaries.

    Returns
    -------
    pandas.DataFrame
        A table with the columns :data:`COLUMNS`.

    Examples
    --------
    >>> import pandas as pd
    >>> wide = pd.DataFrame({"code": ["A", "B"], "film": [10, "*"], "all": [100, 50]})
    >>> counts = read_counts(wide, columns={"area": "code"}, layout="wide",
    ...                      measure="businesses", period="2015", total="all")
    >>> print(counts[["area", "sector", "value", "status"]].to_string(index=False))
    area sector  value     status
       A _total  100.0         ok
       A   film   10.0         ok
       B _total   50.0         ok
       B   film    NaN suppressed
    """
    if format == "nomis":
        from .sources.nomis import parse_nomis_csv

        table = parse_nomis_csv(source, measure=measure, period=period, rounded_to=rounded_to)
    elif format == "generic":
        frame = source if isinstance(source, pd.DataFrame) else _read_csv(source)
        frame = frame.drop(columns=list(ignore))
        table = _from_generic(frame, columns or {}, layout, measure, period)
        table["rounded_to"] = rounded_to or 1
    else:
        raise InputError(f"unknown counts format {format!r}", fix="use 'generic' or 'nomis'")
    if total is not None:
        table.loc[table["sector"].astype(str) == str(total), "sector"] = TOTAL
    return validate_counts(table, areas=areas)


def _read_csv(path) -> pd.DataFrame:
    if not os.path.exists(path):
        raise InputError(f"counts file not found: {path}")
    return pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)


def _from_generic(frame, columns, layout, measure, period) -> pd.DataFrame:
    renamed = frame.rename(columns={v: k for k, v in columns.items()})
    if "area" not in renamed:
        raise InputError(
            "cannot find the area column",
            fix="pass columns={'area': '<name of the code column>'}",
        )
    constants = {"measure": measure, "period": period}
    if layout == "wide":
        keep = [c for c in ("area", "measure", "period") if c in renamed]
        sector_columns = [c for c in renamed.columns if c not in keep and c in frame.columns]
        sector_columns = [c for c in sector_columns if c not in columns.values()]
        renamed = renamed.melt(id_vars=keep, value_vars=sector_columns, var_name="sector")
    for name, constant in constants.items():
        if name not in renamed:
            if constant is None:
                raise InputError(
                    f"the counts have no {name} column",
                    fix=f"map one with columns={{'{name}': ...}} or pass {name}='...'",
                )
            renamed[name] = constant
    missing = [c for c in ("sector", "value") if c not in renamed]
    if missing:
        raise InputError(f"cannot find the columns {missing}", fix="pass a column mapping")
    values, status = parse_values(renamed["value"])
    out = renamed[KEY].copy()
    out["value"] = values
    out["status"] = status
    return out


def sum_counts(rows: pd.DataFrame, keys: list[str], skipna: bool = False) -> pd.DataFrame:
    """Sum counts over everything but ``keys``, keeping suppression visible.

    A sum that includes a missing cell is missing with status
    ``"suppressed"``: a partial sum would understate the area. With
    ``skipna`` the known cells are summed instead (a lower bound, still
    flagged ``"suppressed"``), and the sum is missing only when every cell is.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"area": ["A", "A", "B", "B"],
    ...                      "value": [1.0, 2.0, 4.0, float("nan")],
    ...                      "status": ["ok", "ok", "ok", "suppressed"],
    ...                      "rounded_to": [1, 5, 5, 5]})
    >>> sum_counts(rows, ["area"])[["area", "value", "status"]].values.tolist()
    [['A', 3.0, 'ok'], ['B', nan, 'suppressed']]
    >>> sum_counts(rows, ["area"], skipna=True)["value"].tolist()
    [3.0, 4.0]
    """
    flagged = rows.assign(_flag=rows["status"] != "ok")
    grouped = flagged.groupby(keys, sort=False)
    summed = grouped.agg(
        value=("value", "sum"),
        rounded_to=("rounded_to", "max"),
        known=("value", "count"),
        cells=("value", "size"),
        flag=("_flag", "any"),
    ).reset_index()
    known, cells = summed.pop("known"), summed.pop("cells")
    summed["value"] = summed["value"].where(known > 0 if skipna else known == cells)
    summed["status"] = np.where(summed.pop("flag") | (known < cells), "suppressed", "ok")
    return summed


def add_totals(counts: pd.DataFrame, overwrite: bool = False) -> pd.DataFrame:
    """Add all-industry totals as the sum of every sector.

    Use this only when the sectors cover the whole economy (as the 64 industry
    segments of the Nesta industry data do); otherwise read the published
    totals. A total is missing where any of its sectors is suppressed.

    Parameters
    ----------
    counts : pandas.DataFrame
        Counts without :data:`TOTAL` rows (or with them, and ``overwrite``).
    overwrite : bool, default False
        Replace existing totals instead of raising.

    Returns
    -------
    pandas.DataFrame
        The counts with one :data:`TOTAL` row per area, period and measure.
    """
    counts = validate_counts(counts)
    has_total = counts["sector"] == TOTAL
    if has_total.any() and not overwrite:
        raise InputError(
            "the counts already have totals", fix="pass overwrite=True to recompute them"
        )
    sectors = counts[~has_total]
    totals = sum_counts(sectors, ["area", "period", "measure"]).assign(sector=TOTAL)
    return validate_counts(pd.concat([sectors, totals], ignore_index=True))
