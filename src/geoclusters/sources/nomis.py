"""NOMIS: UK Business Counts and BRES, from the API or from downloaded CSV files.

Two ways in, one result (the tidy counts table of :mod:`geoclusters.counts`):

- :class:`NomisClient` talks to the NOMIS API
  (``https://www.nomisweb.co.uk/api/v01/dataset/<id>.data.csv?...``). NOMIS
  sends at most 25,000 rows per request; the client pages with
  ``RecordOffset`` until it has read the ``RECORD_COUNT`` rows the first page
  announced, and checks it got exactly that many. Each page is cached with a
  checksum. An optional user key (``uid``, free from a NOMIS account) lifts
  the anonymous rate limits; it never reaches the cache or error messages.
- :func:`parse_nomis_csv` reads both the API's CSV and the CSV that the NOMIS
  web query tool offers as a download (a title, a few ``"Label :","value"``
  lines, a header, the table, then footnotes).

How the published figures are turned into counts:

- measures: UK Business Counts enterprises (``NM_142_1``) are
  ``"businesses"``, local units (``NM_141_1``) ``"local_units"``; BRES
  (``NM_172_1``, ``NM_189_1``) is ``"employment"`` (employees plus working
  owners) or ``"employees"`` after its employment status;
- industries: ``Total`` / all industries become :data:`geoclusters.counts.TOTAL`;
  a label such as ``"7311 : Advertising agencies"`` becomes its code
  ``"7311"``;
- only the ``Total`` employment size band and legal status are read (size
  bands split the same businesses again), and only the ``Value`` measure
  (not percentages);
- suppression: ``OBS_STATUS`` ``Q`` ("These figures are missing.") and the
  markers NOMIS prints in its downloads (``*``, ``!``, ``-``, ``..``, ``~``)
  give NaN with status ``"suppressed"``, never zero, even when the value
  column holds a number;
- rounding (``rounded_to``): UK Business Counts are rounded to 5. BRES open
  access figures are rounded to a base that grows with the figure (NOMIS
  article 1103: 5 below 50, 25 below 250, 50 below 500, 100 below 1,000, 250
  below 2,500, 500 below 5,000, then 1,000 - doubled for disclosive cells);
  each cell records the smaller, "relaxed" base for its size.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..counts import TOTAL, parse_values
from ..errors import DownloadError, InputError
from .fetch import cache_path, cached, fetch, redact, store

NOMIS_API = "https://www.nomisweb.co.uk/api/v01"
"""Base address of the NOMIS API (version 1)."""

PAGE_LIMIT = 25_000
"""Most rows NOMIS sends for one request; larger results are paged."""

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


class NomisClient:
    """A client for the NOMIS API that returns tidy counts.

    Parameters
    ----------
    base_url : str, default :data:`NOMIS_API`
        The API root; point it elsewhere for a mirror or a test server.
    uid : str, optional
        NOMIS user key (``uid``); lifts the anonymous rate limits. Defaults
        to the ``NOMIS_UID`` environment variable.
    cache_dir : path, optional
        Download cache (see :func:`geoclusters.sources.fetch.cache_dir`).
    timeout : float, default 60
        Seconds per request.
    retries : int, default 3
        Retries per request on server errors, timeouts and truncated bodies.

    Examples
    --------
    >>> client = NomisClient(uid="not-shown")
    >>> client.data_url("NM_142_1", {"geography": "TYPE447", "industry": 37748736})
    'https://www.nomisweb.co.uk/api/v01/dataset/NM_142_1.data.csv?geography=TYPE447&industry=37748736&uid=not-shown'
    """

    def __init__(
        self,
        base_url: str = NOMIS_API,
        uid: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        timeout: float = 60,
        retries: int = 3,
    ):
        self.base_url = base_url.rstrip("/")
        self.uid = uid if uid is not None else os.environ.get("NOMIS_UID") or None
        self.cache_dir = cache_dir
        self.timeout = timeout
        self.retries = retries

    def __repr__(self) -> str:
        key = ", uid=***" if self.uid else ""
        return f"NomisClient({self.base_url!r}{key})"

    def _url(self, path: str, params: Mapping | None = None) -> str:
        query = {k: _param(v) for k, v in (params or {}).items()}
        if self.uid:
            query["uid"] = self.uid
        encoded = urllib.parse.urlencode(query, safe=",.:|")
        return f"{self.base_url}/{path}" + (f"?{encoded}" if encoded else "")

    def data_url(self, dataset: str, params: Mapping, offset: int = 0) -> str:
        """The API address of one page of ``dataset`` (CSV), with ``RecordOffset``."""
        params = {k: v for k, v in params.items() if k.lower() not in ("recordoffset", "uid")}
        if offset:
            params["RecordOffset"] = offset
        return self._url(f"dataset/{dataset}.data.csv", params)

    def _get(self, url: str, refresh: bool, subdir: str = "nomis") -> Path:
        path = cache_path(url, subdir, cache=self.cache_dir)
        if refresh or not cached(path):
            body = fetch(url, timeout=self.timeout, retries=self.retries)
            store(path, body, url)
        return path

    def geography_types(self, dataset: str, refresh: bool = False) -> pd.DataFrame:
        """The geography types a dataset is published for.

        Reads ``<base>/dataset/<id>/geography/TYPE.def.sdmx.json``. Pass a type
        to :meth:`get` as ``geography="TYPE<n>"`` (all areas of that type) -
        for example the type whose description is "2011 travel to work
        areas". Types are looked up rather than hard-coded because NOMIS adds
        new ones with each boundary vintage.

        Parameters
        ----------
        dataset : str
            API id, e.g. ``"NM_142_1"``.
        refresh : bool, default False
            Ask the API again instead of using the cache.

        Returns
        -------
        pandas.DataFrame
            Columns ``type`` (``"TYPE447"``...) and ``description``.
        """
        url = self._url(f"dataset/{dataset}/geography/TYPE.def.sdmx.json")
        path = self._get(url, refresh)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            codelists = document["structure"]["codelists"]
            codes = codelists["codelist"][0]["code"] if codelists else []
        except (ValueError, KeyError, IndexError, TypeError) as error:
            path.unlink(missing_ok=True)
            raise DownloadError(
                f"{redact(url)} did not return a NOMIS geography definition ({error!r}); "
                f"check that {dataset} is a NOMIS dataset id"
            ) from error
        rows = []
        for code in codes:
            value = str(code["value"])
            rows.append(
                {
                    "type": value if value.upper().startswith("TYPE") else f"TYPE{value}",
                    "description": code.get("description", {}).get("value", ""),
                }
            )
        return pd.DataFrame(rows, columns=["type", "description"])

    def raw_csv(self, dataset: str, params: Mapping, refresh: bool = False) -> pd.DataFrame:
        """Download every page of a query and return the API's rows, unparsed.

        Parameters
        ----------
        dataset : str
            API id, e.g. ``"NM_142_1"``.
        params : mapping
            API parameters (``geography``, ``date``, ``industry``,
            ``employment_sizeband``, ``legal_status``, ``measures``,
            ``select``...). Lists are joined with commas.
        refresh : bool, default False
            Download again instead of using cached pages.

        Returns
        -------
        pandas.DataFrame
            All rows, as strings, in API order.

        Raises
        ------
        DownloadError
            If a page fails, a page is empty or starts at the wrong record,
            or the rows read differ from ``RECORD_COUNT``.
        """
        params = dict(params)
        select = params.get("select")
        if select is not None:
            wanted = {s.strip().upper() for s in _param(select).split(",")}
            # Paging needs these two columns whatever the user selects.
            extra = [c for c in ("RECORD_OFFSET", "RECORD_COUNT") if c not in wanted]
            params["select"] = ",".join([_param(select), *extra])
        pages = []
        read = 0
        total = None
        while total is None or read < total:
            url = self.data_url(dataset, params, read)
            page = _read_api_csv(self._get(url, refresh), url)
            if page.empty:
                if total is None:  # a query that matches nothing
                    return page
                raise DownloadError(
                    f"{redact(url)} returned no rows after {read} of {total}; "
                    "download again with refresh=True"
                )
            first = _int_column(page, "RECORD_OFFSET", url).iloc[0]
            if first != read:
                raise DownloadError(
                    f"{redact(url)} started at record {first}, expected {read}; "
                    "download again with refresh=True"
                )
            if total is None:
                total = int(_int_column(page, "RECORD_COUNT", url).iloc[0])
            pages.append(page)
            read += len(page)
        if read != total:
            raise DownloadError(
                f"NOMIS {dataset} announced {total} rows but sent {read}; "
                "download again with refresh=True"
            )
        return pd.concat(pages, ignore_index=True)

    def get(
        self,
        dataset: str,
        params: Mapping,
        refresh: bool = False,
        measure: str | None = None,
    ) -> pd.DataFrame:
        """Download a query and return it as a tidy counts table.

        Parameters
        ----------
        dataset : str
            API id, e.g. ``"NM_142_1"`` (enterprises) or ``"NM_189_1"``
            (BRES).
        params : mapping
            API parameters, as for :meth:`raw_csv`.
        refresh : bool, default False
            Download again instead of using cached pages.
        measure : str, optional
            Measure name for a dataset geoclusters does not know.

        Returns
        -------
        pandas.DataFrame
            The columns ``area, sector, period, measure, value, status,
            rounded_to`` (see :func:`parse_nomis_csv`).
        """
        return parse_nomis_csv(self.raw_csv(dataset, params, refresh), dataset, measure=measure)


def _param(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Iterable):
        return ",".join(str(v) for v in value)
    return str(value)


def _read_api_csv(path: Path, url: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        path.unlink(missing_ok=True)
        raise DownloadError(f"{redact(url)} did not return a CSV table ({error})") from error
    frame.columns = [c.strip().upper() for c in frame.columns]
    return frame


def _int_column(frame: pd.DataFrame, column: str, url: str) -> pd.Series:
    if column not in frame:
        raise DownloadError(
            f"{redact(url)} has no {column} column, so its pages cannot be checked; "
            "do not drop it from select="
        )
    return pd.to_numeric(frame[column], errors="raise").astype(int)


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
    text = _read_text(source)
    first = next(csv.reader(io.StringIO(text)), [])
    if "OBS_VALUE" in {c.strip().upper() for c in first}:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        frame.columns = [c.strip().upper() for c in frame.columns]
        return _from_api(frame, dataset, measure, period, rounded_to)
    return _from_download(text, dataset, measure, period, rounded_to)


def _read_text(source) -> str:
    if hasattr(source, "read"):
        data = source.read()
    elif isinstance(source, str) and "\n" in source:
        return source.lstrip("\ufeff")
    else:
        if not os.path.exists(source):
            raise InputError(f"NOMIS file not found: {source}")
        with open(source, "rb") as handle:
            data = handle.read()
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            # Older NOMIS downloads are Windows-1252 (pound signs, en dashes).
            data = data.decode("cp1252")
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


__all__ = [
    "NOMIS_API",
    "NOMIS_DATASETS",
    "PAGE_LIMIT",
    "NomisClient",
    "parse_nomis_csv",
]
