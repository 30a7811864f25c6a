"""ONS Open Geography Portal: boundaries from ArcGIS REST feature services.

The portal serves each boundary set as an ArcGIS *FeatureServer* layer. A
query such as ``<layer>/query?where=1=1&outFields=*&outSR=4326&f=geojson``
returns GeoJSON, but at most the layer's ``maxRecordCount`` features at a
time (often 2,000, sometimes far fewer for detailed boundaries); the rest are
fetched by paging with ``resultOffset`` / ``resultRecordCount`` while the
answer says ``exceededTransferLimit``. :func:`feature_service_geojson` does
that paging and merges the pages into one FeatureCollection.

Service addresses live in :data:`geoclusters.sources.SERVICES`.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from pathlib import Path

from ..errors import DownloadError
from .fetch import cache_path, cached, fetch, redact, store


def query_url(service_url: str, **params) -> str:
    """The ``/query`` address of a FeatureServer layer with URL-encoded parameters.

    Parameters
    ----------
    service_url : str
        The layer, ending in ``/FeatureServer/<n>`` (a trailing ``/query`` is
        accepted too).
    **params
        Query parameters (``where``, ``outFields``, ``resultOffset``...).

    Examples
    --------
    >>> query_url("https://example.org/arcgis/rest/services/X/FeatureServer/0",
    ...           where="1=1", f="geojson")
    'https://example.org/arcgis/rest/services/X/FeatureServer/0/query?where=1%3D1&f=geojson'
    """
    base = service_url.rstrip("/")
    if not base.endswith("/query"):
        base += "/query"
    return f"{base}?{urllib.parse.urlencode(params)}"


def feature_service_geojson(
    service_url: str,
    where: str = "1=1",
    out_fields: str = "*",
    page_size: int = 2000,
    out_sr: int = 4326,
    *,
    timeout: float = 60,
    retries: int = 3,
    max_pages: int = 10_000,
) -> dict:
    """Download every feature of an ArcGIS FeatureServer layer as one GeoJSON.

    Parameters
    ----------
    service_url : str
        The layer address, e.g. an entry of
        :data:`geoclusters.sources.SERVICES`.
    where : str, default "1=1"
        SQL filter (``"1=1"`` is everything).
    out_fields : str, default "*"
        Comma-separated attribute fields.
    page_size : int, default 2000
        Features asked for per request (``resultRecordCount``). The server
        may send fewer; paging advances by what was actually received.
    out_sr : int, default 4326
        Spatial reference of the output; GeoJSON is longitude/latitude.
    timeout, retries
        As for :func:`geoclusters.sources.fetch.fetch`, per page.
    max_pages : int, default 10000
        A guard against a server that never stops saying
        ``exceededTransferLimit``.

    Returns
    -------
    dict
        A GeoJSON FeatureCollection with every feature, in server order.

    Raises
    ------
    DownloadError
        If a page fails to download, is not GeoJSON, carries an ArcGIS
        ``error`` object, or the pages repeat features.

    Examples
    --------
    A one-feature layer served on the loopback interface:

    >>> import http.server, json, threading
    >>> class Layer(http.server.BaseHTTPRequestHandler):
    ...     def do_GET(self):
    ...         body = json.dumps({"type": "FeatureCollection", "features": [
    ...             {"type": "Feature", "properties": {"CD": "A"}, "geometry": None}]}).encode()
    ...         self.send_response(200)
    ...         self.send_header("Content-Length", str(len(body)))
    ...         self.end_headers()
    ...         self.wfile.write(body)
    ...     def log_message(self, *args):
    ...         pass
    >>> server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Layer)
    >>> threading.Thread(target=server.serve_forever, daemon=True).start()
    >>> layer = f"http://127.0.0.1:{server.server_port}/FeatureServer/0"
    >>> [f["properties"]["CD"] for f in feature_service_geojson(layer)["features"]]
    ['A']
    >>> server.shutdown()
    """
    features: list[dict] = []
    offset = 0
    for _ in range(max_pages):
        url = query_url(
            service_url,
            where=where,
            outFields=out_fields,
            outSR=out_sr,
            resultOffset=offset,
            resultRecordCount=page_size,
            f="geojson",
        )
        page = _geojson_page(url, timeout, retries)
        received = page.get("features") or []
        features.extend(received)
        offset += len(received)
        if not _exceeded(page) and len(received) < page_size:
            break
        if not received:
            if _exceeded(page):
                raise DownloadError(
                    f"{redact(url)} says more features remain but sent none; the service may "
                    "not support paging: try a smaller page_size or download the layer by hand"
                )
            break
    else:
        raise DownloadError(
            f"{redact(service_url)} was still sending features after {max_pages} pages; "
            "narrow the query with where= or raise max_pages"
        )
    ids = [f.get("id") for f in features if f.get("id") is not None]
    if len(ids) != len(set(ids)):
        raise DownloadError(
            f"pages from {redact(service_url)} repeat features (the layer changed while it "
            "was being read, or the server does not order its pages); download it again"
        )
    return {"type": "FeatureCollection", "features": features}


def _exceeded(page: dict) -> bool:
    # f=geojson puts the flag in "properties"; f=json puts it at the top.
    return bool(
        page.get("exceededTransferLimit") or page.get("properties", {}).get("exceededTransferLimit")
    )


def _geojson_page(url: str, timeout: float, retries: int) -> dict:
    body = fetch(url, timeout=timeout, retries=retries)
    try:
        page = json.loads(body)
    except ValueError as error:
        raise DownloadError(
            f"{redact(url)} did not return JSON ({error}); the service address may be wrong"
        ) from error
    if not isinstance(page, dict):
        raise DownloadError(f"{redact(url)} returned JSON that is not a GeoJSON object")
    if "error" in page:
        detail = page["error"]
        message = detail.get("message", detail) if isinstance(detail, dict) else detail
        raise DownloadError(
            f"{redact(url)} answered with an ArcGIS error: {message}; check the service URL "
            "in geoclusters.sources.SERVICES (the ONS renames services between vintages)"
        )
    if page.get("type") != "FeatureCollection":
        raise DownloadError(f"{redact(url)} did not return a GeoJSON FeatureCollection")
    return page


def download_feature_service(
    service_url: str,
    name: str,
    *,
    cache: str | os.PathLike | None = None,
    refresh: bool = False,
    page_size: int = 2000,
    timeout: float = 60,
    retries: int = 3,
) -> Path:
    """Download a FeatureServer layer once into the cache as a GeoJSON file.

    Parameters
    ----------
    service_url : str
        The layer address.
    name : str
        File name stem in the cache's ``ons`` folder.
    cache : path, optional
        Cache directory (see :func:`geoclusters.sources.fetch.cache_dir`).
    refresh : bool, default False
        Download again even if a good copy is cached.
    page_size, timeout, retries
        As for :func:`feature_service_geojson`.

    Returns
    -------
    pathlib.Path
        The cached GeoJSON file (with its checksum sidecar).
    """
    path = cache_path(service_url, "ons", f"{name}.geojson", cache)
    if not refresh and cached(path):
        return path
    collection = feature_service_geojson(
        service_url, page_size=page_size, timeout=timeout, retries=retries
    )
    data = json.dumps(collection).encode("utf-8")
    return store(path, data, service_url)
