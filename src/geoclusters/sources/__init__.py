"""Official data sources: the ONS Open Geography Portal and the NOMIS API.

Every address geoclusters downloads from is in this module, so a user can
point at a newer boundary vintage or a mirror without touching the code.

To use another layer, put its FeatureServer address in the registry (or pass
``service_url=`` to :func:`geoclusters.datasets.ttwa_2011`)::

    sources.SERVICES["ttwa_2011"]["url"] = "https://services1.arcgis.com/.../FeatureServer/0"

Submodules: :mod:`~geoclusters.sources.fetch` (HTTP, cache, checksums),
:mod:`~geoclusters.sources.ons` (ArcGIS REST feature services) and
:mod:`~geoclusters.sources.nomis` (NOMIS API client and CSV reader).

Examples
--------
>>> from geoclusters import sources
>>> sorted(sources.SERVICES)
['ttwa_2011', 'ttwa_2011_full', 'ttwa_2011_super_generalised']
>>> sources.SERVICES["ttwa_2011"]["code"]
'TTWA11CD'
"""

from __future__ import annotations

from . import fetch, nomis, ons
from .fetch import cache_dir, download
from .nomis import NOMIS_API, NOMIS_DATASETS, NomisClient, parse_nomis_csv
from .ons import feature_service_geojson

ONS_ARCGIS = "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services"
"""Root of the ONS Open Geography Portal's ArcGIS REST services."""

SERVICES: dict[str, dict[str, str]] = {
    # ONS republished its 2011 boundaries in 2022 as "<Name>_Dec_2011_<res>_in_
    # United_Kingdom_2022". The generalised (GCB) and full (FCB) names are
    # confirmed in public code, so the 20 m generalised layer is the default;
    # the super generalised (SGCB) name follows the same pattern but could not
    # be confirmed, so it is offered, not relied on.
    "ttwa_2011": {
        "title": "Travel to Work Areas (December 2011) Generalised Clipped Boundaries in the UK",
        "url": f"{ONS_ARCGIS}/Travel_to_Work_Areas_Dec_2011_GCB_in_United_Kingdom_2022"
        "/FeatureServer/0",
        "code": "TTWA11CD",
        "name": "TTWA11NM",
    },
    "ttwa_2011_super_generalised": {
        "title": "Travel to Work Areas (December 2011) Super Generalised Clipped "
        "Boundaries in the UK",
        "url": f"{ONS_ARCGIS}/Travel_to_Work_Areas_Dec_2011_SGCB_in_United_Kingdom_2022"
        "/FeatureServer/0",
        "code": "TTWA11CD",
        "name": "TTWA11NM",
    },
    "ttwa_2011_full": {
        "title": "Travel to Work Areas (December 2011) Full Clipped Boundaries in the UK",
        "url": f"{ONS_ARCGIS}/Travel_to_Work_Areas_Dec_2011_FCB_in_United_Kingdom_2022"
        "/FeatureServer/0",
        "code": "TTWA11CD",
        "name": "TTWA11NM",
    },
}
"""Boundary layers on the ONS Open Geography Portal: title, FeatureServer layer
URL, and the code and name fields."""

__all__ = [
    "NOMIS_API",
    "NOMIS_DATASETS",
    "ONS_ARCGIS",
    "SERVICES",
    "NomisClient",
    "cache_dir",
    "download",
    "feature_service_geojson",
    "fetch",
    "nomis",
    "ons",
    "parse_nomis_csv",
]
