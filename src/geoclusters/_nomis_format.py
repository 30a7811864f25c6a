"""Parsing NOMIS tables (API CSV and web downloads) into tidy counts.

Private: :mod:`geoclusters.counts` (``read_counts(format="nomis")``) and
:mod:`geoclusters.sources.nomis` (the API client) both use it, so neither
imports the other. The rules are documented in :mod:`geoclusters.sources.nomis`.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pandas as pd

from ._readers import decode, read_bytes
from ._tidy import TOTAL, parse_values
from .errors import GeoclustersError, InputError, ReadError

NOMIS_DATASETS: dict[str, dict] = {
    "NM_141_1": {
        "title": "UK Business Counts - local units by industry and employment size band",
        "measure": "local_units",
        "rounded_to": 5,
    },
    "NM_142_1": {
        "title": "UK Business Counts - enterprises by industry and employment size band",
        "measure": "businesses",
        "rounded_to": 5,
    },
    "NM_172_1": {
        "title": "Business Register and Employment Survey (excluding units registered for "
        "PAYE only) : open access, 2009 to 2015",
        "measure": "bres",
        "rounded_to": "bres",
    },
    "NM_189_1": {
        "title": "Business Register and Employment Survey : open access, 2015 onwards",
        "measure": "bres",
        "rounded_to": "bres",
    },
}
"""NOMIS datasets geoclusters knows how to read, keyed by API id."""

# SDMX observation status codes used by NOMIS. Codes with a publishable value:
_OK_STATUS = frozenset({"A", "B", "E", "F", "I", "P", "S"})
# Held back ("Q": "These figures are missing.", NOMIS's flag for suppressed
# cells) or flagged unreliable/disclosive by the markers NOMIS also uses.
_SUPPRESSED_STATUS = frozenset({"Q", "C", "!", "*", "-", "~", "..", "X"})
# Missing because the cell cannot exist or was not collected.
_MISSING_STATUS = frozenset({"M", "L", "O", "N"})

_INDUSTRY_CODE = re.compile(r"^\s*([0-9A-Z]{1,5}(?:\.[0-9]{1,2})?)\s*:\s*\S")
_AREA_CODE = re.compile(r"^[A-Z][0-9]{8}$")
# (upper bound exclusive, base) of BRES open-access "relaxed" rounding.
_BRES_ROUNDING = ((50, 5), (250, 25), (500, 50), (1000, 100), (2500, 250), (5000, 500))


def parse_nomis_csv(
    source,
    dataset: str | None = None,
    *,
    measure: str | None = None,
    period: str | None = None,
    rounded_to: int | None = None,
) -> pd.DataFrame:
    """Read a NOMIS download (API CSV or web download CSV) into tidy counts.

    Parameters
    ----------
    source : path, str, file or pandas.DataFrame
        A file path, CSV text (anything containing a newline), an open text
        file, or rows already read from the API (as :meth:`NomisClient.raw_csv`
        returns them).
    dataset : str, optional
        The NOMIS id (``"NM_142_1"``...); fixes the measure and rounding. The
        web download names its dataset in its title line, so it is rarely
        needed there.
    measure : str, optional
        Measure name when neither ``dataset`` nor the file says what is
        counted (an API CSV of UK Business Counts does not say whether it
        counts enterprises or local units).
    period : str, optional
        Period when the file has no date.
    rounded_to : int, optional
        Rounding base, overriding the one NOMIS documents for the dataset.

    Returns
    -------
    pandas.DataFrame
        ``area, sector, period, measure, value, status, rounded_to``; ``value``
        is NaN where NOMIS suppressed the cell.

    Raises
    ------
    InputError
        For a file that is neither NOMIS format, unknown observation status
        codes, values that are not numbers, or a measure that cannot be
        determined.

    Examples
    --------
    >>> text = '''DATE_NAME,GEOGRAPHY_CODE,INDUSTRY_NAME,OBS_VALUE,OBS_STATUS
    ... 2023,E06000001,Total,2605,A
    ... 2023,E06000001,7311 : Advertising agencies,5,A
    ... 2023,E06000001,5911 : Motion picture production activities,,Q
    ... '''
    >>> counts = parse_nomis_csv(text, "NM_142_1")
    >>> print(counts[["area", "sector", "value", "status"]].to_string(index=False))
         area sector  value     status
    E06000001 _total 2605.0         ok
    E06000001   7311    5.0         ok
    E06000001   5911    NaN suppressed
    """
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        frame.columns = [str(c).strip().upper() for c in frame.columns]
        return _from_api(frame.fillna("").astype(str), dataset, measure, period, rounded_to)
    text = _read_text(source).replace("\r\n", "\n").replace("\r", "\n")
    try:
        first = next(csv.reader(io.StringIO(text)), [])
        if "OBS_VALUE" in {c.strip().upper() for c in first}:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
            frame.columns = [c.strip().upper() for c in frame.columns]
            return _from_api(frame, dataset, measure, period, rounded_to)
        return _from_download(text, dataset, measure, period, rounded_to)
    except GeoclustersError:
        raise
    except (csv.Error, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
        raise ReadError(
            f"the NOMIS table cannot be parsed as CSV: {str(error).strip()}",
            fix="download it again from NOMIS as CSV; check the line named for a broken quote",
        ) from error


def _read_text(source) -> str:
    if hasattr(source, "read"):
        data = source.read()
        where = "the NOMIS file"
    elif isinstance(source, str) and "\n" in source:
        return source.lstrip("\ufeff")
    else:
        data = read_bytes(source, "NOMIS")
        where = f"the NOMIS file {source}"
    if isinstance(data, bytes):
        # Older NOMIS downloads are Windows-1252 (pound signs, en dashes).
        data, _ = decode(data, where)
    if not data.strip():
        raise ReadError(f"{where} is empty", fix="download it again from NOMIS as CSV")
    return data.lstrip("\ufeff")


def _sector(labels: pd.Series) -> pd.Series:
    """NOMIS industry labels to sector labels: Total -> TOTAL, "7311 : ..." -> "7311"."""
    text = labels.astype(str).str.strip()
    code = text.str.extract(_INDUSTRY_CODE, expand=False)
    total = text.str.lower().isin({"total", "all industries", "total (all industries)"}) | (
        text.str.lower().str.startswith("total ")
    )
    out = code.where(code.notna(), text)
    return out.where(~total, TOTAL)


def _dataset_info(dataset: str | None) -> dict:
    return NOMIS_DATASETS.get(dataset.upper(), {}) if dataset else {}


def _info_from_measure(measure: str | None) -> dict:
    by_measure = {"businesses": "NM_142_1", "local_units": "NM_141_1"}
    if measure in by_measure:
        return NOMIS_DATASETS[by_measure[measure]]
    if measure in ("employment", "employees"):
        return NOMIS_DATASETS["NM_189_1"]
    return {}


def _bres_measure(status: pd.Series) -> pd.Series:
    text = status.astype(str).str.strip().str.lower()
    named = {"employment": "employment", "employees": "employees"}
    other = text.str.replace(r"[^a-z0-9]+", "_", regex=True).str.strip("_")
    return text.map(named).fillna(other)


def _bres_rounding(values: pd.Series) -> pd.Series:
    magnitude = values.abs()
    base = np.full(len(values), 1000, dtype=int)
    for upper, step in reversed(_BRES_ROUNDING):
        base = np.where(magnitude.to_numpy() < upper, step, base)
    return pd.Series(base, index=values.index)


def _keep_total(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Keep the Total rows of a dimension the counts table does not have."""
    if column not in frame:
        return frame
    labels = frame[column].astype(str).str.strip()
    keep = labels.str.lower().str.startswith("total")
    if not keep.any():
        raise InputError(
            f"the NOMIS table has no 'Total' in {column} (found: "
            f"{', '.join(sorted(labels.unique())[:5])})",
            fix=f"download the Total of {column.removesuffix('_NAME').lower()} "
            "(e.g. employment_sizeband=0, legal_status=0)",
        )
    return frame[keep]


def _from_api(frame, dataset, measure, period, rounded_to) -> pd.DataFrame:
    for column in ("GEOGRAPHY_CODE", "OBS_VALUE"):
        if column not in frame:
            raise InputError(
                f"the NOMIS API table has no {column} column",
                fix="include it in select= (geoclusters needs GEOGRAPHY_CODE, DATE_NAME, "
                "INDUSTRY_NAME, OBS_VALUE and OBS_STATUS)",
            )
    if "MEASURES_NAME" in frame:
        frame = frame[frame["MEASURES_NAME"].str.strip().str.lower() == "value"]
    if "MEASURE_NAME" in frame:
        frame = frame[frame["MEASURE_NAME"].str.strip().str.lower() == "count"]
    for column in ("EMPLOYMENT_SIZEBAND_NAME", "LEGAL_STATUS_NAME"):
        frame = _keep_total(frame, column)
    if frame.empty:
        raise InputError(
            "the NOMIS table has no counts (rows with MEASURES_NAME 'Value')",
            fix="request measures=20100",
        )
    info = _dataset_info(dataset) or _info_from_measure(measure)
    out = pd.DataFrame(index=frame.index)
    out["area"] = frame["GEOGRAPHY_CODE"].str.strip()
    industry = next((c for c in ("INDUSTRY_NAME", "INDUSTRY_CODE") if c in frame), None)
    if industry is None:
        raise InputError(
            "the NOMIS API table has no INDUSTRY_NAME or INDUSTRY_CODE column",
            fix="include INDUSTRY_NAME in select=",
        )
    out["sector"] = _sector(frame[industry])
    date = next((c for c in ("DATE_NAME", "DATE", "DATE_CODE") if c in frame), None)
    if date is not None:
        out["period"] = frame[date].str.strip()
    elif period is not None:
        out["period"] = period
    else:
        raise InputError("the NOMIS API table has no date", fix="include DATE_NAME or pass period=")
    out["measure"] = _measure_column(frame, info, measure, frame.get("EMPLOYMENT_STATUS_NAME"))
    status_codes = (
        frame["OBS_STATUS"].str.strip().str.upper()
        if "OBS_STATUS" in frame
        else pd.Series("", index=frame.index)
    )
    values, status = _values_with_status(frame["OBS_VALUE"], status_codes, frame)
    out["value"] = values
    out["status"] = status
    out["rounded_to"] = _rounding(info, rounded_to, values)
    return out.reset_index(drop=True)


def _measure_column(frame, info, measure, employment_status) -> pd.Series | str:
    if measure is not None:
        return measure
    known = info.get("measure")
    if known == "bres" or (known is None and employment_status is not None):
        if employment_status is None:
            raise InputError(
                "BRES table without EMPLOYMENT_STATUS_NAME: cannot tell employment from employees",
                fix="include EMPLOYMENT_STATUS_NAME in select= or pass measure=",
            )
        return _bres_measure(employment_status)
    if known is not None:
        return known
    raise InputError(
        "cannot tell what this NOMIS table counts (enterprises, local units or employment)",
        fix="pass the dataset id (e.g. 'NM_142_1') or measure='businesses' / 'local_units' "
        "/ 'employment'",
    )


def _rounding(info: dict, rounded_to: int | None, values: pd.Series):
    if rounded_to is not None:
        return rounded_to
    base = info.get("rounded_to", 1)
    if base == "bres":
        return _bres_rounding(values.fillna(0))
    return base


def _values_with_status(raw: pd.Series, codes: pd.Series, frame) -> tuple[pd.Series, pd.Series]:
    known = _OK_STATUS | _SUPPRESSED_STATUS | _MISSING_STATUS | {""}
    unknown = ~codes.isin(known)
    if unknown.any():
        names = frame.get("OBS_STATUS_NAME", codes)[unknown]
        found = sorted({f"{c} ({n})" for c, n in zip(codes[unknown], names, strict=True)})
        raise InputError(
            f"unknown NOMIS observation status {', '.join(found)}",
            rows=raw.index[unknown],
            fix="check the NOMIS notes for this code; filter those rows out, or set their "
            "OBS_STATUS to 'A' (usable) or 'Q' (suppressed) before reading",
        )
    text = raw.astype(str).str.strip()
    values, status = parse_values(text.where(~codes.isin(_SUPPRESSED_STATUS), "*"))
    # A missing-value code, or a blank cell whose code claims a value, is
    # missing; a code that says "held back" is suppressed whatever the cell.
    blank = status == "missing"
    status = status.mask(codes.isin(_MISSING_STATUS), "missing")
    status = status.mask(blank & codes.isin(_OK_STATUS), "missing")
    values = values.mask(status != "ok")
    return values, status


def _from_download(text, dataset, measure, period, rounded_to) -> pd.DataFrame:
    """Parse the CSV the NOMIS web query tool downloads (one or more blocks).

    Each block is: ``"Label :","value"`` context lines (``Date :`` and the
    fixed dimensions), a header row, optionally a ``"mnemonic"`` row of area
    codes (when areas are columns), then the table up to a blank line.
    Footnotes and the title are single-cell lines.
    """
    title = ""
    context: dict[str, str] = {}
    blocks = []
    header: list[str] | None = None
    codes: list[str] | None = None
    data: list[list[str]] = []
    for row in csv.reader(io.StringIO(text)):
        cells = [c.strip() for c in row]
        while cells and cells[-1] == "":
            cells.pop()
        in_table = header is not None and 1 < len(cells) <= len(header)
        if in_table and not data and codes is None and cells[0].lower() == "mnemonic":
            codes = cells[1:]
            continue
        if in_table:
            data.append(cells + [""] * (len(header) - len(cells)))
            continue
        if data or not cells:
            if data:
                blocks.append((title, dict(context), header, codes, data))
                header, codes, data = None, None, []
            continue
        if len(cells) == 2 and cells[0].endswith(":"):
            context[cells[0].rstrip(":").strip().lower()] = cells[1]
        elif len(cells) >= 3 or (len(cells) == 2 and cells[1].lower() == "mnemonic"):
            header, codes = cells, None
        elif len(cells) == 1 and not title:
            title = cells[0]
    if data:
        blocks.append((title, dict(context), header, codes, data))
    if not blocks:
        raise InputError(
            "this file is neither a NOMIS API CSV (no OBS_VALUE column) nor a NOMIS download "
            "(no header row followed by a table)",
            fix="download it again from NOMIS as CSV, or read it with format='generic'",
        )
    tables = [_download_block(*block, dataset, measure, period, rounded_to) for block in blocks]
    tables = [t for t in tables if t is not None]
    if not tables:
        raise InputError(
            "the NOMIS download has tables only for single size bands or legal statuses",
            fix="download the Total employment size band and legal status",
        )
    return pd.concat(tables, ignore_index=True)


def _download_block(title, context, header, codes, data, dataset, measure, period, rounded_to):
    for key in ("employment size band", "employment sizeband", "legal status"):
        if key in context and not context[key].lower().startswith("total"):
            # A block for one size band counts a subset of the businesses.
            return None
    info = _dataset_info(dataset) or _info_from_measure(measure) or _info_from_title(title)
    if codes is None and header[1].lower() == "mnemonic":  # areas in rows
        table = pd.DataFrame(data, columns=header)
        long = table.melt(id_vars=header[:2], value_vars=header[2:], var_name="label")
        long = long.rename(columns={header[1]: "area"})[["area", "label", "value"]]
    else:  # industries in rows, areas in columns
        long = _industries_in_rows(header, data, codes if codes is not None else header[1:])
    date = context.get("date") or period
    if date is None:
        raise InputError(
            f"the NOMIS download '{title}' has no 'Date :' line", fix="pass period='<year>'"
        )
    out = pd.DataFrame({"area": long["area"].str.strip(), "sector": _sector(long["label"])})
    out["period"] = date
    status = context.get("employment status")
    if measure is not None:
        out["measure"] = measure
    elif info.get("measure") == "bres":
        if status is None:
            raise InputError(
                "BRES download without an 'Employment Status :' line",
                fix="pass measure='employment' or measure='employees'",
            )
        out["measure"] = _bres_measure(pd.Series(status, index=out.index))
    elif info.get("measure"):
        out["measure"] = info["measure"]
    else:
        raise InputError(
            f"cannot tell what the NOMIS download '{title}' counts",
            fix="pass dataset='NM_142_1' (or the right id) or measure=",
        )
    values, value_status = parse_values(long["value"].reset_index(drop=True))
    out["value"] = values.to_numpy()
    out["status"] = value_status.to_numpy()
    out["rounded_to"] = _rounding(info, rounded_to, out["value"])
    return out


def _industries_in_rows(header, data, codes) -> pd.DataFrame:
    bad = [c for c in codes if not _AREA_CODE.match(c)]
    if bad:
        raise InputError(
            "the NOMIS download has areas in columns without their codes",
            rows=bad,
            fix="in the NOMIS query choose to show area codes (mnemonics), or put geography "
            "in rows",
        )
    table = pd.DataFrame([row[: len(header)] for row in data], columns=header)
    table.columns = ["label", *codes]
    long = table.melt(id_vars=["label"], var_name="area")
    return long[["area", "label", "value"]]


def _info_from_title(title: str) -> dict:
    lower = title.lower()
    if "business counts" in lower and "local units" in lower:
        return NOMIS_DATASETS["NM_141_1"]
    if "business counts" in lower and "enterprises" in lower:
        return NOMIS_DATASETS["NM_142_1"]
    if "business register and employment survey" in lower:
        return NOMIS_DATASETS["NM_189_1"]
    return {}
