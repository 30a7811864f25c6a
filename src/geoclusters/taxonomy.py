"""SIC-4 codes → DCMS creative-industries sub-sectors → sector groups.

The DCMS creative industries (definition used since the 2016 Creative
Industries Economic Estimates) are 31 four-digit SIC 2007 classes in nine
sub-sectors, shipped as package data (``data/dcms_creative_2016.csv``, columns
``sic4, description, subsector``) and exposed as :data:`DCMS_2016`.

The Nesta 2016 report *The Geography of Creativity in the UK* grouped the
sub-sectors differently for businesses and for employment (by hierarchical
clustering of their co-location); those groups are the default,
:data:`NESTA_2016_GROUPS`, and any other grouping can be passed instead.

SIC codes are normalised to four-character strings before lookup, see
:func:`normalise_sic`. Codes outside the definition are never dropped
silently: they raise :class:`~geoclusters.errors.InputError` naming them, or,
with ``unknown="warn"``, a warning names them and they are recorded.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from typing import Literal

import numpy as np
import pandas as pd

from ._keywords import options_were_positional
from .counts import KEY, TOTAL, sum_counts, validate_counts
from .errors import InputError, check_choice, check_policy


def _load_definition() -> pd.DataFrame:
    with (
        resources.files("geoclusters")
        .joinpath("data/dcms_creative_2016.csv")
        .open(encoding="utf-8") as handle
    ):
        return pd.read_csv(handle, dtype=str, keep_default_na=False)


DCMS_2016: pd.DataFrame = _load_definition()
"""The DCMS 2016 creative industries: 31 rows ``sic4, description, subsector``."""

SUBSECTORS: tuple[str, ...] = tuple(DCMS_2016["subsector"].drop_duplicates())
"""The nine DCMS creative-industries sub-sectors, in DCMS order."""

_SIC_TO_SUBSECTOR: dict[str, str] = dict(
    zip(DCMS_2016["sic4"], DCMS_2016["subsector"], strict=True)
)

NESTA_2016_GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "businesses": {
        "services": (
            "Advertising and marketing",
            "Design and designer fashion",
            "IT, software and computer services",
        ),
        "architecture": ("Architecture",),
        "content": (
            "Film, TV, video, radio and photography",
            "Music, performing and visual arts",
            "Publishing",
        ),
    },
    "employment": {
        "services": (
            "Advertising and marketing",
            "Architecture",
            "Design and designer fashion",
            "IT, software and computer services",
        ),
        "content": (
            "Film, TV, video, radio and photography",
            "Music, performing and visual arts",
        ),
        "publishing": ("Publishing",),
    },
}
"""Nesta 2016 sector groups by measure: ``{measure: {group: (subsector, ...)}}``.

Crafts and "Museums, galleries and libraries" are in no group: the report left
them out.
"""

# "73.11", "01.11": a two-digit division, a dot, a two-digit class.
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{2})(?![\d.])")
# "7311", "7311 – Advertising agencies", "7311 : ...", and "111" (an integer that lost
# its leading zero); a fifth digit means a SIC subclass, which is not a SIC-4 code.
_PLAIN = re.compile(r"^(\d{3,4})(?![\d.])")


def _normalise_one(code) -> object:
    if code is None or (isinstance(code, float) and np.isnan(code)):
        return np.nan
    if isinstance(code, (int, np.integer)) and not isinstance(code, bool):
        return f"{int(code):04d}"
    if isinstance(code, (float, np.floating)) and float(code).is_integer():
        return f"{int(code):04d}"
    text = str(code).strip()
    dotted = _DOTTED.match(text)
    if dotted:
        return f"{int(dotted.group(1)):02d}{dotted.group(2)}"
    plain = _PLAIN.match(text)
    if plain:
        return plain.group(1).zfill(4)
    return text


def normalise_sic(codes: Iterable | pd.Series | str | int) -> pd.Series:
    """Normalise SIC-4 codes to four-character strings.

    Accepted forms, all giving ``"7311"``: ``"7311"``, ``7311``, ``7311.0``,
    ``"73.11"``, ``"7311 – Advertising agencies"`` (a label after a space,
    dash or colon is ignored). Codes that lost a leading zero are padded:
    ``111``, ``"111"`` and ``"01.11"`` all give ``"0111"``. Anything else
    (five-digit subclasses such as ``"73110"``, text) is returned stripped but
    otherwise unchanged, so that a lookup reports it as unknown instead of
    guessing; missing values stay missing.

    Parameters
    ----------
    codes : scalar, iterable or pandas.Series
        The codes as published.

    Returns
    -------
    pandas.Series
        Codes as ``object`` strings, with the index of ``codes`` when it is a
        Series.

    Examples
    --------
    >>> normalise_sic([7311, "73.11", "7311 – Advertising agencies", "01.11", "73110"]).tolist()
    ['7311', '7311', '7311', '0111', '73110']
    """
    if isinstance(codes, (str, bytes, int, float, np.integer, np.floating)):
        codes = [codes]
    series = codes if isinstance(codes, pd.Series) else pd.Series(list(codes), dtype=object)
    return series.astype(object).map(_normalise_one).astype(object)


@options_were_positional("unknown")
def sic_to_subsector(
    codes: Iterable | pd.Series, *, unknown: Literal["raise", "warn"] = "raise"
) -> pd.Series:
    """Map SIC-4 codes to DCMS 2016 creative-industries sub-sectors.

    Parameters
    ----------
    codes : iterable or pandas.Series
        SIC codes in any form :func:`normalise_sic` accepts.
    unknown : {"raise", "warn"}
        What to do with codes outside the definition: ``"raise"`` an
        :class:`~geoclusters.errors.InputError` naming them, or ``"warn"``:
        name them in a warning and give NaN for them (``"report"``, the old
        spelling, works until 0.3 with a DeprecationWarning).

    Returns
    -------
    pandas.Series
        The sub-sector of each code, aligned with ``codes``.

    Raises
    ------
    InputError
        With ``unknown="raise"``, naming the codes that are not creative
        industries.

    Examples
    --------
    >>> sic_to_subsector(["7311", 9102, "62.01"]).tolist()
    ['Advertising and marketing', 'Museums, galleries and libraries', 'IT, software and computer services']
    """  # noqa: E501
    unknown = check_policy("unknown", unknown, ("raise", "warn"))
    normal = normalise_sic(codes)
    subsectors = normal.map(_SIC_TO_SUBSECTOR)
    missing = subsectors.isna()
    if missing.any():
        bad = sorted({repr(c) if not isinstance(c, str) else c for c in normal[missing]})
        problem = "SIC codes that are not DCMS creative industries (2016 definition)"
        if unknown == "raise":
            raise InputError(
                problem,
                rows=bad,
                fix="correct or drop those codes, or pass unknown='warn' to keep them out "
                "of the creative sub-sectors with a warning",
            )
        warnings.warn(f"{problem}: {', '.join(bad)}", UserWarning, stacklevel=2)
    return subsectors


def group_mapping(
    measure: str = "businesses", groups: Mapping[str, Sequence[str]] | None = None
) -> dict[str, str]:
    """Sub-sector → sector group for one measure.

    Parameters
    ----------
    measure : str, default "businesses"
        The measure whose Nesta 2016 groups to use (``"businesses"`` or
        ``"employment"``); ignored when ``groups`` is given.
    groups : mapping, optional
        Your own ``{group: [subsector, ...]}``. Every name must be one of
        :data:`SUBSECTORS` and appear in at most one group.

    Returns
    -------
    dict
        ``{subsector: group}``; sub-sectors in no group are absent.

    Raises
    ------
    InputError
        For an unknown measure, unknown sub-sectors or a sub-sector in two groups.

    Examples
    --------
    >>> group_mapping("employment")["Architecture"]
    'services'
    >>> "Crafts" in group_mapping("businesses")
    False
    """
    if groups is None:
        if measure not in NESTA_2016_GROUPS:
            raise InputError(
                f"no Nesta 2016 sector groups for the measure {measure!r}",
                fix=f"use one of {sorted(NESTA_2016_GROUPS)} or pass groups={{group: [...]}}",
            )
        groups = NESTA_2016_GROUPS[measure]
    mapping: dict[str, str] = {}
    unknown = sorted({s for members in groups.values() for s in members} - set(SUBSECTORS))
    if unknown:
        raise InputError(
            "sector groups name sub-sectors that are not DCMS 2016 sub-sectors",
            rows=unknown,
            fix=f"use the labels in geoclusters.taxonomy.SUBSECTORS: {list(SUBSECTORS)}",
        )
    twice = []
    for group, members in groups.items():
        for subsector in members:
            if subsector in mapping and mapping[subsector] != group:
                twice.append(subsector)
            mapping[subsector] = group
    if twice:
        raise InputError(
            "sub-sectors placed in more than one group",
            rows=sorted(set(twice)),
            fix="put each sub-sector in one group (use geoclusters.aggregate_sectors for "
            "overlapping groups)",
        )
    return mapping


@options_were_positional("level", "groups", "unknown")
def classify_counts(
    counts: pd.DataFrame,
    *,
    level: Literal["subsector", "group"] = "subsector",
    groups: Mapping | None = None,
    unknown: Literal["raise", "warn"] = "raise",
) -> pd.DataFrame:
    """Recode the SIC-4 sectors of a counts table to sub-sectors or groups and sum.

    Parameters
    ----------
    counts : pandas.DataFrame
        Tidy counts (:mod:`geoclusters.counts`) whose ``sector`` holds SIC-4
        codes (any form :func:`normalise_sic` accepts) or DCMS sub-sector
        labels, which pass through unchanged. :data:`~geoclusters.counts.TOTAL`
        rows are kept untouched.
    level : {"subsector", "group"}
        Sum to DCMS sub-sectors, or further to sector groups.
    groups : mapping, optional
        For ``level="group"``: ``{group: [subsector, ...]}`` for every measure
        or ``{measure: {group: [subsector, ...]}}``; default
        :data:`NESTA_2016_GROUPS`. Rows of sub-sectors in no group (crafts,
        museums in the Nesta groups) are left out on purpose and listed in
        ``.attrs["left_out"]``; measures without groups raise.
    unknown : {"raise", "warn"}
        SIC codes outside the definition: ``"raise"`` an InputError naming
        them, or ``"warn"``: warn, keep their rows out of the sums, and list
        the codes in ``.attrs["unknown"]`` (``"report"`` works until 0.3, with
        a DeprecationWarning).

    Returns
    -------
    pandas.DataFrame
        Tidy counts with sub-sector (or group) sectors. A sum that includes a
        suppressed or missing cell is NaN with status ``"suppressed"``: a
        partial sum would understate the area. ``rounded_to`` is the largest
        among the summed cells. Every input area stays in the output: an
        area, period and measure without any row for a sub-sector (or group)
        gets that sector (when other areas have it) as NaN with status
        ``"missing"``.

    Raises
    ------
    InputError
        For unknown SIC codes (``unknown="raise"``), unknown sub-sectors in
        ``groups``, or measures that have no groups.

    Examples
    --------
    >>> import pandas as pd
    >>> counts = pd.DataFrame({"area": "A", "period": "2025", "measure": "businesses",
    ...                        "sector": ["7311", "7312", "7111", "_total"],
    ...                        "value": [10.0, 5.0, 20.0, 900.0]})
    >>> out = classify_counts(counts)
    >>> out[["sector", "value", "status"]].to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'sector': 'Advertising and marketing', 'value': 15.0, 'status': 'ok'},
     {'sector': 'Architecture', 'value': 20.0, 'status': 'ok'},
     {'sector': '_total', 'value': 900.0, 'status': 'ok'}]
    >>> grouped = classify_counts(counts, level="group")
    >>> grouped[["sector", "value"]].to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'sector': '_total', 'value': 900.0},
     {'sector': 'architecture', 'value': 20.0},
     {'sector': 'services', 'value': 15.0}]
    """
    check_choice("level", level, ("subsector", "group"))
    unknown = check_policy("unknown", unknown, ("raise", "warn"))
    counts = validate_counts(counts)
    is_total = counts["sector"] == TOTAL
    totals = counts[is_total]
    rows = counts[~is_total].copy()

    label = rows["sector"].where(rows["sector"].isin(SUBSECTORS))
    coded = label.isna()
    if coded.any():
        label[coded] = sic_to_subsector(rows.loc[coded, "sector"], unknown=unknown)
    unknown_codes = sorted(rows.loc[label.isna(), "sector"].unique())
    rows["sector"] = label
    rows = rows[label.notna()]

    left_out: list[str] = []
    if level == "group":
        rows, left_out = _to_groups(rows, groups)

    summed = sum_counts(rows, KEY)
    summed = _complete(summed, counts)
    out = validate_counts(pd.concat([summed, totals], ignore_index=True))
    out.attrs["unknown"] = unknown_codes
    if level == "group":
        out.attrs["left_out"] = left_out
    return out


def _to_groups(rows: pd.DataFrame, groups) -> tuple[pd.DataFrame, list[str]]:
    pieces = []
    left_out: set[str] = set()
    for measure, part in rows.groupby("measure", sort=False):
        mapping = group_mapping(measure, _groups_for(measure, groups))
        grouped = part["sector"].map(mapping)
        left_out |= set(part.loc[grouped.isna(), "sector"])
        pieces.append(part.assign(sector=grouped)[grouped.notna()])
    out = pd.concat(pieces, ignore_index=True) if pieces else rows.iloc[:0]
    return out, sorted(left_out)


def _groups_for(measure: str, groups) -> Mapping[str, Sequence[str]] | None:
    if groups is None:
        return None
    if all(isinstance(v, Mapping) for v in groups.values()):
        if measure not in groups:
            raise InputError(
                f"no sector groups given for the measure {measure!r}",
                fix=f"add {measure!r} to groups, or drop its rows",
            )
        return groups[measure]
    return groups


def _complete(summed: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """Give every input area each sector that some area has, for its period and measure."""
    areas = pd.DataFrame({"area": counts["area"].unique()})
    combos = summed[["sector", "period", "measure"]].drop_duplicates()
    out = areas.merge(combos, how="cross").merge(summed, on=KEY, how="left")
    out.loc[out["status"].isna(), "status"] = "missing"
    out["rounded_to"] = out["rounded_to"].fillna(1).astype(int)
    return out
