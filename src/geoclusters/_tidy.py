"""The tidy counts table's vocabulary, shared by the readers without importing them.

:mod:`geoclusters.counts` and the NOMIS parser both need the reserved total
label and the parsing of published cell values; they live here so that
neither public module imports the other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import CountsError

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
        raise CountsError(
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


def combined_codes(codes: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    """One integer per row that orders and groups rows as the tuple of ``codes`` does.

    Parameters
    ----------
    codes : list of numpy.ndarray
        Non-negative integer codes of each key column, row-aligned.
    sizes : list of int
        How many codes each column has (its largest code plus one, at least).

    Returns
    -------
    numpy.ndarray of int64
        Equal where every code is equal, and ordered as the tuples are.
    """
    key = codes[0].astype(np.int64)
    bound = max(sizes[0], 1)
    for more, size in zip(codes[1:], sizes[1:], strict=True):
        size = max(size, 1)
        if bound * size >= 2**62:
            # renumbering the keys seen, in order, keeps the product in range
            key = np.unique(key, return_inverse=True)[1].astype(np.int64)
            bound = int(key.max()) + 1
        key = key * size + more
        bound *= size
    return key


def key_codes(frame: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, int]:
    """Integer codes of the rows' combinations of ``columns``, and how many there are.

    Grouping on these is grouping on the columns, without hashing text again
    for every operation.
    """
    factorised = [pd.factorize(frame[c], use_na_sentinel=False) for c in columns]
    key = combined_codes([c for c, _ in factorised], [len(u) for _, u in factorised])
    codes, uniques = pd.factorize(key)
    return codes, len(uniques)


def code_hint(unmatched: pd.Index, other: pd.Index) -> str:
    """Name the usual cause of codes that do not match: lost leading zeros, or case."""
    padded = {o.lstrip("0"): o for o in map(str, other) if o.isdigit() and o.startswith("0")}
    lost_zeros = [c for c in map(str, unmatched) if c.isdigit() and c in padded]
    if lost_zeros:
        return (
            " (some lost their leading zeros, e.g. "
            f"{lost_zeros[0]!r}: read codes as text, dtype=str)"
        )
    upper = {str(o).upper() for o in other}
    if any(str(c).upper() in upper for c in unmatched[:1000]):
        return " (some differ only in upper/lower case)"
    return ""
