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

import json
import os
import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from .._nomis_format import NOMIS_DATASETS, parse_nomis_csv
from ..errors import DownloadError
from .fetch import cache_path, cached, fetch, redact, store

NOMIS_API = "https://www.nomisweb.co.uk/api/v01"
"""Base address of the NOMIS API (version 1)."""

PAGE_LIMIT = 25_000
"""Most rows NOMIS sends for one request; larger results are paged."""


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


__all__ = [
    "NOMIS_API",
    "NOMIS_DATASETS",
    "PAGE_LIMIT",
    "NomisClient",
    "parse_nomis_csv",
]
