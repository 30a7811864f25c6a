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

import re
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from ._accounting import InputAccount, Ledger, record
from ._keywords import options_were_positional
from ._nomis_format import parse_nomis_csv
from ._readers import check_unique_columns, looks_delimited_by, read_table, source_name
from ._tidy import (
    COLUMNS,
    KEY,
    STATUSES,
    SUPPRESSION_MARKERS,
    TOTAL,
    code_hint,
    combined_codes,
    parse_values,
)
from .errors import CodesError, CountsError, InputError

__all__ = [
    "COLUMNS",
    "KEY",
    "STATUSES",
    "SUPPRESSION_MARKERS",
    "TOTAL",
    "add_totals",
    "check_area_codes",
    "parse_values",
    "read_counts",
    "sum_counts",
    "validate_counts",
]

_DIGITS = re.compile(r"^\d+$")


@options_were_positional("allow_negative")
def validate_counts(
    counts: pd.DataFrame,
    areas=None,
    *,
    allow_negative: bool = False,
    ledger: Ledger | None = None,
) -> pd.DataFrame:
    """Check a counts table and return it in canonical form.

    Call it once where a table enters (the readers do); the result is
    canonical and later stages need not check it again.

    Parameters
    ----------
    counts : pandas.DataFrame
        A table with at least ``area, sector, period, measure, value``;
        ``status`` and ``rounded_to`` are added when absent. Values may be
        numbers or published cells (``"*"`` and the other suppression
        markers become NaN with status ``"suppressed"``).
    areas : geopandas.GeoDataFrame or pandas.Index, optional
        When given, every count area must be one of these codes and every area
        must have counts.
    allow_negative : bool, default False
        Counts of businesses and jobs cannot be negative; set this for tables
        of changes (the checks against totals are then skipped too).
    ledger : geoclusters accounting Ledger, optional
        Receives an account of the rows in and out and the repairs made.

    Returns
    -------
    pandas.DataFrame
        The columns :data:`COLUMNS`, string keys stripped of surrounding
        spaces, float values, sorted by key.

    Raises
    ------
    CountsError
        Naming the rows with missing columns, unreadable, non-finite or
        negative values, a sector count above its all-industry total, or
        numeric sector codes of mixed lengths
        (a five-digit SIC subclass among four-digit classes).
    CodesError
        For blank or duplicate keys, or area codes that do not match
        ``areas``.
    """
    out, repairs = _canonical(counts, allow_negative)
    if areas is not None:
        check_area_codes(out, areas)
    record(ledger, InputAccount("counts", "<DataFrame>", len(counts), len(out), repairs=repairs))
    return out


def _canonical(counts, allow_negative: bool) -> tuple[pd.DataFrame, tuple[str, ...]]:
    if not isinstance(counts, pd.DataFrame):
        raise CountsError(
            f"counts must be a pandas DataFrame, not {type(counts).__name__}",
            fix="read files with geoclusters.read_counts",
        )
    check_unique_columns(counts.columns, "the counts table")
    missing_columns = [
        c for c in ["area", "sector", "period", "measure", "value"] if c not in counts
    ]
    if missing_columns:
        raise CountsError(
            f"counts table lacks the columns {missing_columns} "
            f"(it has {[str(c) for c in counts.columns][:12]})",
            fix="rename the columns, or pass a column mapping to read_counts",
        )
    if counts.empty:
        raise CountsError(
            "the counts table has no rows",
            fix="check the file or the filter that produced it: nothing can be measured",
        )
    # no deep copy: the columns replaced below are new arrays, the input is never written to
    out = counts.copy(deep=False)
    repairs: list[str] = []
    keys = {column: _Key.of(out[column]) for column in KEY}
    padded = sum(key.padded for key in keys.values())
    if padded:
        repairs.append(f"stripped surrounding spaces from {padded} codes or labels")
    if "status" in out:
        out["status"] = _Key.of(out["status"]).text().astype("string")
    values = out["value"]
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        out["value"] = values.astype(float)
        if "status" not in out:
            out["status"] = np.where(out["value"].isna(), "missing", "ok")
    else:
        parsed, status = parse_values(values)
        out["value"] = parsed
        if "status" not in out:
            out["status"] = status
        else:
            out["status"] = out["status"].mask(status != "ok", status)
    if "rounded_to" not in out:
        out["rounded_to"] = 1
    blank_key = np.zeros(len(out), dtype=bool)
    for key in keys.values():
        blank_key |= key.blank()
    if blank_key.any():
        raise CodesError(
            "count rows with a blank area, sector, period or measure",
            rows=out.index[blank_key],
            fix="fill in or drop those rows before reading",
        )
    infinite = np.isinf(out["value"].to_numpy())
    if infinite.any():
        raise CountsError(
            "count values that are infinite (inf); a count is a finite number",
            rows=out.index[infinite],
            fix="replace them with the published counts, or leave them blank if unknown",
        )
    unknown_status = ~out["status"].isin(STATUSES)
    if unknown_status.any():
        raise CountsError(
            f"status must be one of {STATUSES}",
            rows=out.index[unknown_status],
            fix="use 'ok', 'suppressed' (held back by the publisher) or 'missing' (blank)",
        )
    # A NaN that claims to be a usable value would later be taken for a gap
    # nobody noticed; it is a missing cell, and says so.
    silent = out["value"].isna() & (out["status"] == "ok")
    if silent.any():
        out.loc[silent, "status"] = "missing"
        repairs.append(f"marked {int(silent.sum())} blank values with status 'ok' as 'missing'")
    # one integer per row that sorts as the four keys do: the order of the
    # result, and duplicates side by side
    ranked = combined_codes([keys[c].ranks() for c in KEY], [keys[c].size for c in KEY])
    order = np.argsort(ranked, kind="stable")
    in_order = ranked[order]
    repeated = np.zeros(len(out), dtype=bool)
    repeated[order[1:][in_order[1:] == in_order[:-1]]] = True
    repeated[order[:-1][in_order[:-1] == in_order[1:]]] = True
    if repeated.any():
        raise CodesError(
            "the same area, sector, period and measure appears more than once",
            rows=out.index[repeated],
            fix="aggregate the duplicates (for example with groupby().sum()) or drop them",
        )
    if not allow_negative:
        negative = out["value"] < 0
        if negative.any():
            raise CountsError(
                "negative counts",
                rows=out.index[negative],
                fix="counts of businesses or jobs cannot be negative; correct the source",
            )
        _check_totals(out, keys)
    _check_code_lengths(pd.Series(keys["sector"].labels, dtype=object))
    for column in KEY:
        out[column] = keys[column].text()
    return out[COLUMNS].take(order).reset_index(drop=True), tuple(repairs)


class _Key:
    """A key column as integer codes of its distinct labels, stripped of surrounding spaces.

    Keys repeat (an area has many sectors, a sector many areas), so every
    check and the sort work on the codes, and text is handled once per
    distinct value, not once per row.
    """

    def __init__(self, column: pd.Series, codes: np.ndarray, labels: np.ndarray, padded: int):
        self.column = column
        self.codes = codes
        self.labels = labels
        self.padded = padded

    @classmethod
    def of(cls, column: pd.Series) -> _Key:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        text = pd.Index(uniques, dtype=object).map(_as_text)
        stripped = text.str.strip()
        changed = np.flatnonzero(np.asarray(stripped != text))
        padded = int(np.isin(codes, changed).sum()) if len(changed) else 0
        # " A" and "A" are one key once stripped
        merged, labels = pd.factorize(np.asarray(stripped, dtype=object))
        # a missing key (code -1) stays missing
        codes = np.append(merged, -1)[codes]
        return cls(column, codes, np.asarray(labels, dtype=object), padded)

    @property
    def size(self) -> int:
        return len(self.labels)

    def blank(self) -> np.ndarray:
        """Rows with a missing or empty key."""
        empty = np.append(self.labels == "", True)
        return empty[self.codes]

    def ranks(self) -> np.ndarray:
        """Codes renumbered in the sort order of the labels."""
        rank = np.empty(self.size, dtype=np.int64)
        rank[np.argsort(self.labels, kind="stable")] = np.arange(self.size)
        return rank[self.codes]

    def text(self) -> pd.Series:
        """The stripped column, as text."""
        if not self.padded and self.column.dtype == _TEXT:
            return self.column
        # code -1 (missing) takes the missing label appended last
        text = pd.Index(np.append(self.labels, None), dtype=_TEXT).take(self.codes)
        return pd.Series(text, index=self.column.index)


_TEXT = pd.api.types.pandas_dtype(str)


def _as_text(value) -> str:
    """A key as text; a float that holds an integer (a code column with a gap) loses its '.0'."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _check_totals(out: pd.DataFrame, keys: dict[str, _Key]) -> None:
    """Refuse sector counts above their total.

    A total of zero is allowed (an area with no businesses); its location
    quotients are missing, not infinite (see :func:`geoclusters.location_quotients`).
    """
    total_code = np.flatnonzero(keys["sector"].labels == TOTAL)
    if not len(total_code):
        return
    is_total = keys["sector"].codes == total_code[0]
    place = ["area", "period", "measure"]
    cell, uniques = pd.factorize(
        combined_codes([keys[c].codes for c in place], [keys[c].size for c in place])
    )
    cells = len(uniques)
    # keys are unique by now: at most one total per area, period and measure
    has_total = np.zeros(cells, dtype=bool)
    has_total[cell[is_total]] = True
    value = out["value"].to_numpy(dtype=float)
    rounded = out["rounded_to"].astype(float).to_numpy()
    total_value = np.full(cells, np.nan)
    total_value[cell[is_total]] = value[is_total]
    total_rounded = np.full(cells, np.nan)
    total_rounded[cell[is_total]] = rounded[is_total]
    paired = np.flatnonzero(~is_total & has_total[cell])
    sector_value = value[paired]
    sector_rounded = rounded[paired]
    their_total = total_value[cell[paired]]
    their_rounded = total_rounded[cell[paired]]
    # Independent rounding of a sector and its total (UK Business Counts to
    # 5, BRES to a base that grows with the figure) can put the sector up to
    # half of each base above the total; beyond that it cannot be right.
    widest = np.fmax(sector_rounded, their_rounded)
    both = np.nan_to_num(sector_rounded) + np.nan_to_num(their_rounded)
    slack = np.where(widest > 1, both / 2, 0.0)
    slack = slack + 1e-9 * np.nan_to_num(np.abs(their_total))
    above = sector_value > their_total + slack
    if above.any():
        first = paired[above][0]
        raise CountsError(
            "sector counts above their area's all-industry total (for example "
            f"{sector_value[above][0]:g} > {their_total[above][0]:g} in "
            f"{keys['area'].labels[keys['area'].codes[first]]}, "
            f"{keys['period'].labels[keys['period'].codes[first]]}, "
            f"{keys['measure'].labels[keys['measure'].codes[first]]})",
            rows=out.index[paired[above]],
            fix="check that the total is the all-industry total of the same measure and period "
            "(read_counts(total=...)), and that sectors and totals come from the same source",
        )


def _check_code_lengths(sectors: pd.Series) -> None:
    """Numeric sector codes must be of one level (all SIC-4 classes, say)."""
    labels = pd.Series(sectors.unique())
    numeric = labels[labels.str.fullmatch(_DIGITS.pattern)]
    if numeric.empty:
        return
    lengths = numeric.str.len()
    if lengths.nunique() <= 1:
        return
    common = lengths.mode().max()
    odd = sorted(numeric[lengths != common])
    raise CountsError(
        f"numeric sector codes of mixed lengths: most have {common} digits, these do not "
        "(a five-digit SIC subclass among four-digit classes, or a code that lost a leading "
        "zero, would no longer map to sub-sectors)",
        rows=odd,
        fix=f"bring every code to {common} digits (a subclass's class is its first four "
        "digits; read codes as text so that leading zeros stay), or drop the odd rows",
    )


def check_area_codes(counts: pd.DataFrame, areas) -> None:
    """Raise CodesError when the area codes of counts and boundaries do not match both ways."""
    codes = pd.Index(areas.index if hasattr(areas, "geometry") else areas).astype(str)
    count_codes = pd.Index(counts["area"].unique()).astype(str)
    unknown = count_codes.difference(codes)
    if len(unknown):
        raise CodesError(
            "counts name areas that are not in the boundaries" + code_hint(unknown, codes),
            rows=unknown,
            fix="check the code column and the vintage of the boundaries, or crosswalk the "
            "counts onto these boundaries with geoclusters.crosswalk",
        )
    without = codes.difference(count_codes)
    if len(without):
        raise CodesError(
            "areas in the boundaries have no counts" + code_hint(without, count_codes),
            rows=without,
            fix="add counts for them (zeros where there truly are none) or drop them from the "
            "boundaries",
        )


@options_were_positional(
    "format", "columns", "layout", "measure", "period", "total", "rounded_to", "ignore", "areas"
)
def read_counts(
    source,
    *,
    format: Literal["generic", "nomis"] = "generic",
    columns: Mapping[str, str] | None = None,
    layout: Literal["long", "wide"] = "long",
    measure: str | None = None,
    period: str | None = None,
    total: str | None = None,
    rounded_to: int | None = None,
    ignore: Sequence[str] = (),
    areas=None,
    sep: str | None = None,
    encoding: str | None = None,
    ledger: Ledger | None = None,
) -> pd.DataFrame:
    """Read counts into the tidy long table.

    Parameters
    ----------
    source : str, path or pandas.DataFrame
        A CSV file or a table already in memory. The encoding (UTF-8 with or
        without a byte-order mark, UTF-16, Windows-1252/Latin-1, with a
        warning for the last two) and the delimiter (comma, semicolon, tab,
        pipe) are detected; every cell is read as text, so codes keep their
        leading zeros.
    format : {"generic", "nomis"}
        ``"nomis"`` reads NOMIS downloads (UK Business Counts, BRES: the API's
        CSV and the bulk CSV), see :mod:`geoclusters.sources.nomis`.
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
    sep, encoding : str, optional
        Force the delimiter or the encoding instead of detecting them.
    ledger : Ledger, optional
        Receives an :class:`~geoclusters._accounting.InputAccount`: rows
        read and handed on, the encoding and delimiter, and repairs.

    Returns
    -------
    pandas.DataFrame
        A table with the columns :data:`COLUMNS`.

    Raises
    ------
    ReadError
        For a missing, empty, binary or header-only file or ragged rows.
    CountsError, CodesError
        As :func:`validate_counts`, and for columns that cannot be found (the
        message says how the file was read: encoding, delimiter, columns).

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
    info = None
    if format == "nomis":
        table = parse_nomis_csv(source, measure=measure, period=period, rounded_to=rounded_to)
        rows_in = len(table)
    elif format == "generic":
        if isinstance(source, pd.DataFrame):
            frame = source
            check_unique_columns(frame.columns, "the counts table")
        else:
            frame, info = read_table(source, "counts", sep=sep, encoding=encoding)
        rows_in = len(frame)
        absent = [c for c in ignore if c not in frame.columns]
        if absent:
            raise CountsError(
                f"ignore= names columns the counts do not have: {absent}" + _how_read(frame, info),
                fix="name columns the file has" + (", or the delimiter with sep=" if info else ""),
            )
        frame = frame.drop(columns=list(ignore))
        table = _from_generic(frame, columns or {}, layout, measure, period, info)
        table["rounded_to"] = rounded_to or 1
    else:
        raise InputError(f"unknown counts format {format!r}", fix="use 'generic' or 'nomis'")
    if total is not None:
        is_total = table["sector"].astype(str).str.strip() == str(total).strip()
        if not is_total.any():
            found = sorted(table["sector"].astype(str).unique())
            raise CountsError(
                f"total={total!r} is not a sector label in the counts",
                rows=found[:20],
                fix="pass the label (column name, in a wide table) that holds the all-industry "
                "total; the sector labels found are listed",
            )
        table.loc[is_total, "sector"] = TOTAL
    out, repairs = _canonical(table, allow_negative=False)
    if areas is not None:
        check_area_codes(out, areas)
    if info is not None and info.encoding not in ("utf-8", "utf-8-sig"):
        repairs = (f"decoded as {info.encoding}", *repairs)
    record(
        ledger,
        InputAccount(
            "counts",
            source_name(source),
            rows_in,
            len(out),
            repairs=repairs,
            encoding=info.encoding if info else None,
            delimiter=info.delimiter if info else None,
        ),
    )
    return out


def _from_generic(frame, columns, layout, measure, period, info) -> pd.DataFrame:
    check_layout = ("long", "wide")
    if layout not in check_layout:
        raise InputError(f"layout={layout!r} is not one of {list(check_layout)}")
    renamed = frame.rename(columns={v: k for k, v in columns.items()})
    if "area" not in renamed:
        raise CountsError(
            f"cannot find the area column {columns.get('area', 'area')!r}" + _how_read(frame, info),
            fix="pass columns={'area': '<name of the code column>'}"
            + (", or the delimiter with sep=" if info is not None else ""),
        )
    constants = {"measure": measure, "period": period}
    if layout == "wide":
        keep = [c for c in ("area", "measure", "period") if c in renamed]
        sector_columns = [c for c in renamed.columns if c not in keep and c in frame.columns]
        sector_columns = [c for c in sector_columns if c not in columns.values()]
        # sectors may be called anything, "value" and "sector" included
        placeholders = [f"__{i}" for i in range(len(sector_columns))]
        renamed = renamed[[*keep, *sector_columns]].set_axis([*keep, *placeholders], axis=1)
        labels = dict(zip(placeholders, sector_columns, strict=True))
        renamed = renamed.melt(id_vars=keep, var_name="sector", value_name="value")
        renamed["sector"] = renamed["sector"].map(labels)
    for name, constant in constants.items():
        if name not in renamed:
            if constant is None:
                raise CountsError(
                    f"the counts have no {name} column" + _how_read(frame, info),
                    fix=f"map one with columns={{'{name}': ...}} or pass {name}='...'",
                )
            renamed[name] = constant
    missing = [c for c in ("sector", "value") if c not in renamed]
    if missing:
        raise CountsError(
            f"cannot find the columns {missing}" + _how_read(frame, info),
            fix="pass a column mapping, e.g. columns={'sector': ..., 'value': ...}",
        )
    values, status = parse_values(renamed["value"])
    out = renamed[KEY].copy()
    out["value"] = values
    out["status"] = status
    return out


def _how_read(frame: pd.DataFrame, info) -> str:
    columns = [str(c) for c in frame.columns]
    text = f"; columns found: {columns[:20]}"
    if info is not None:
        text = f"; the file was {info.describe()}" + text
        other = looks_delimited_by(frame.columns, info.delimiter)
        if other is not None:
            text += f"; the file looks {other!r}-delimited"
    return text


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
