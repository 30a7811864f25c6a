"""Ready-made official datasets: boundaries and counts, downloaded once and cached.

:func:`ttwa_2011` looks for the 2011 Travel to Work Areas in this order and
uses the first it finds:

1. ``source=``: a boundary file, or a directory laid out like the project's
   data folder (``ttwa2011/ttwa_2011_uk_bsc_bng.gpkg`` or
   ``ttwa2011/ttwa_2011_uk_bsc_wgs84.geojson``);
2. the directory named by the ``GEOCLUSTERS_DATA`` environment variable, if
   it holds one of those files;
3. the download cache (``GEOCLUSTERS_CACHE``, see
   :func:`geoclusters.sources.cache_dir`), checksum verified;
4. a download from the ONS Open Geography Portal
   (:data:`geoclusters.sources.SERVICES`).

So an offline machine works as soon as the file is on disk, and nothing is
downloaded twice.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from .areas import read_areas
from .demo import demo_region
from .errors import DownloadError, InputError
from .sources import SERVICES
from .sources.nomis import NOMIS_API, NomisClient
from .sources.ons import download_feature_service

__all__ = ["demo_region", "nomis_counts", "ttwa_2011"]

TTWA_2011_FILES = (
    "ttwa2011/ttwa_2011_uk_bsc_bng.gpkg",
    "ttwa2011/ttwa_2011_uk_bsc_wgs84.geojson",
)
"""Where :func:`ttwa_2011` looks inside a data directory, in order."""


def _in_directory(directory: Path, layout) -> Path | None:
    for relative in layout:
        for candidate in (directory / relative, directory / Path(relative).name):
            if candidate.is_file():
                return candidate
    return None


def _resolve_local(source, layout, what: str) -> Path | None:
    """The local file for ``source`` or ``GEOCLUSTERS_DATA``, or None."""
    if source is not None:
        path = Path(source).expanduser()
        if path.is_file():
            return path
        if path.is_dir():
            found = _in_directory(path, layout)
            if found is None:
                raise InputError(
                    f"no {what} file in {path}",
                    fix=f"put it at {path / layout[0]}, or pass the file itself as source=",
                )
            return found
        raise InputError(f"{what} source not found: {path}", fix="check the path")
    configured = os.environ.get("GEOCLUSTERS_DATA")
    if configured:
        return _in_directory(Path(configured).expanduser(), layout)
    return None


def _field(path: Path, wanted: str) -> str:
    """The field of ``path`` named ``wanted``, ignoring case (ONS uses both)."""
    fields = list(pyogrio.read_info(path)["fields"])
    for field in fields:
        if field.lower() == wanted.lower():
            return field
    raise InputError(
        f"{path} has no field {wanted!r} (fields: {', '.join(fields)})",
        fix="check that the file is the boundary set you meant",
    )


def ttwa_2011(
    source: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    refresh: bool = False,
    *,
    service_url: str | None = None,
    crs=None,
    repair: bool = False,
    timeout: float = 60,
) -> gpd.GeoDataFrame:
    """The 228 Travel to Work Areas of 2011 (ONS, generalised, clipped to the coastline).

    Parameters
    ----------
    source : path, optional
        A boundary file (GeoPackage, GeoJSON, shapefile...) or a data
        directory holding ``ttwa2011/ttwa_2011_uk_bsc_bng.gpkg`` or
        ``ttwa2011/ttwa_2011_uk_bsc_wgs84.geojson``. Without it the
        ``GEOCLUSTERS_DATA`` directory, then the cache, then the ONS Open
        Geography Portal are tried.
    cache_dir : path, optional
        Download cache; default ``GEOCLUSTERS_CACHE`` or the per-user cache.
    refresh : bool, default False
        Download again even if a good copy is cached (ignores local files).
    service_url : str, optional
        Another FeatureServer layer (a newer vintage, a mirror); default
        ``geoclusters.sources.SERVICES["ttwa_2011"]["url"]``.
    crs : CRS-like, optional
        Projected CRS of the result; default EPSG:27700.
    repair : bool, default False
        Repair invalid geometries (see :func:`geoclusters.read_areas`).
    timeout : float, default 60
        Seconds per request when downloading.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by TTWA code (``area``), with ``name`` and ``geometry``;
        ``attrs["source"]`` says which file was read.

    Raises
    ------
    InputError
        If ``source`` does not exist or lacks the TTWA file.
    DownloadError
        If a download was needed and failed; the message names the local-file
        override (``source=`` or ``GEOCLUSTERS_DATA``) to use offline.

    Examples
    --------
    >>> import os
    >>> data = os.environ.get("GEOCLUSTERS_DATA", "../shared/data")
    >>> ttwa = ttwa_2011(data)  # a local copy: no download
    >>> len(ttwa), ttwa.loc["E30000234", "name"], ttwa.crs.to_epsg()
    (228, 'London', 27700)
    """
    service = SERVICES["ttwa_2011"]
    path = None if refresh else _resolve_local(source, TTWA_2011_FILES, "TTWA 2011")
    if path is None:
        url = service_url or service["url"]
        name = "ttwa_2011" if service_url is None else "ttwa_2011_custom"
        try:
            path = download_feature_service(
                url, name, cache=cache_dir, refresh=refresh, timeout=timeout
            )
        except DownloadError as error:
            raise DownloadError(
                f"{error}\n  to work offline: download the layer once (or copy the "
                f"project's data folder) and pass ttwa_2011(source='<file or folder>'), or set "
                f"GEOCLUSTERS_DATA to a folder holding {TTWA_2011_FILES[0]} or "
                f"{TTWA_2011_FILES[1]}"
            ) from error
    areas = read_areas(
        path,
        code=_field(path, service["code"]),
        name=_field(path, service["name"]),
        crs=crs,
        repair=repair,
    )
    areas.attrs["source"] = str(path)
    return areas


def nomis_counts(
    dataset: str,
    geography_type: str,
    industry: str | int | list = 37748736,
    date: str | int | list = "latest",
    params: Mapping | None = None,
    *,
    uid: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    base_url: str = NOMIS_API,
    refresh: bool = False,
) -> pd.DataFrame:
    """Download NOMIS counts for every area of one geography type.

    A convenience over :class:`geoclusters.sources.nomis.NomisClient` that
    fills in the parameters UK Business Counts and BRES need (all employment
    size bands and legal statuses together, counts rather than percentages).

    Parameters
    ----------
    dataset : str
        ``"NM_142_1"`` (enterprises), ``"NM_141_1"`` (local units),
        ``"NM_189_1"`` (BRES 2015 onwards) or ``"NM_172_1"`` (BRES
        2009-2015).
    geography_type : str
        ``"TYPE<n>"``; look it up with
        ``NomisClient().geography_types(dataset)`` (e.g. the type described
        as 2011 travel to work areas).
    industry : str, int or list, default 37748736
        NOMIS industry codes (37748736 is all industries); lists and
        ``"a...b"`` ranges are passed through.
    date : str, int or list, default "latest"
        Years, or ``"latest"``.
    params : mapping, optional
        Further API parameters; they override the defaults.
    uid : str, optional
        NOMIS user key.
    cache_dir : path, optional
        Download cache.
    base_url : str, optional
        API root (for a mirror or a test server).
    refresh : bool, default False
        Download again instead of using cached pages.

    Returns
    -------
    pandas.DataFrame
        The tidy counts table.

    Raises
    ------
    DownloadError
        If a page fails to download; the message says how to read a NOMIS
        CSV downloaded by hand instead (``read_counts(path, format="nomis")``).
    """
    query: dict = {"geography": geography_type, "date": date, "industry": industry}
    if dataset.upper() in ("NM_141_1", "NM_142_1"):
        query.update(employment_sizeband=0, legal_status=0, measures=20100)
    elif dataset.upper() in ("NM_172_1", "NM_189_1"):
        # employment_status 4 is employment (employees plus working owners).
        query.update(employment_status=4, measure=1, measures=20100)
    query.update(params or {})
    client = NomisClient(base_url=base_url, uid=uid, cache_dir=cache_dir)
    try:
        return client.get(dataset, query, refresh=refresh)
    except DownloadError as error:
        raise DownloadError(
            f"{error}\n  to work offline: download the table as CSV from "
            f"https://www.nomisweb.co.uk (dataset {dataset}) and read it with "
            "geoclusters.read_counts('<file>', format='nomis')"
        ) from error
