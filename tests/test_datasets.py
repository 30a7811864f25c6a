"""datasets.ttwa_2011 and nomis_counts: offline override, cache, download order.

Downloads go to a real ArcGIS-like server on 127.0.0.1 serving the real TTWA
GeoJSON; every test counts the requests it caused.
"""

from __future__ import annotations

import json
import shutil

import geopandas as gpd
import pytest
from _servers import Loopback, feature_server, nomis_data

from geoclusters import datasets
from geoclusters.counts import TOTAL
from geoclusters.errors import DownloadError, InputError

LAYER = "/arcgis/rest/services/TTWA/FeatureServer/0"
NOMIS = "/nomis/api/v01"


@pytest.fixture
def server(data):
    with open(data / "ttwa2011" / "ttwa_2011_uk_bsc_wgs84.geojson", encoding="utf-8") as f:
        collection = json.load(f)
    rows = [
        {
            "DATE_NAME": "2023",
            "GEOGRAPHY_CODE": code,
            "INDUSTRY_NAME": industry,
            "EMPLOYMENT_SIZEBAND_NAME": "Total",
            "LEGAL_STATUS_NAME": "Total",
            "MEASURES_NAME": "Value",
            "OBS_VALUE": value,
            "OBS_STATUS": "A",
        }
        for code, industry, value in [
            ("E30000234", "Total", 505_000),
            ("E30000234", "7311 : Advertising agencies", 4_120),
            ("E30000266", "Total", 13_400),
            ("E30000266", "7311 : Advertising agencies", 55),
        ]
    ]
    routes = {
        f"{LAYER}/query": feature_server(collection, 100),
        f"{NOMIS}/dataset/NM_142_1.data.csv": nomis_data(rows, 3),
    }
    with Loopback(routes) as running:
        yield running


@pytest.fixture
def offline(monkeypatch):
    """No GEOCLUSTERS_DATA: the download path is the only way in."""
    monkeypatch.delenv("GEOCLUSTERS_DATA", raising=False)


def test_download_then_cache(server, tmp_path, offline, ttwa_path):
    url = server.url(LAYER)
    ttwa = datasets.ttwa_2011(cache_dir=tmp_path, service_url=url)
    local = gpd.read_file(ttwa_path)
    assert len(ttwa) == 228
    assert set(ttwa.index) == set(local["ttwa11cd"])
    assert ttwa.loc["E30000234", "name"] == "London"
    assert ttwa.crs.to_epsg() == 27700
    pages = server.count(LAYER)
    assert pages == 3
    again = datasets.ttwa_2011(cache_dir=tmp_path, service_url=url)
    assert server.count(LAYER) == pages  # served from the cache
    assert list(again.index) == list(ttwa.index)


def test_corrupt_cache_is_downloaded_again(server, tmp_path, offline):
    url = server.url(LAYER)
    first = datasets.ttwa_2011(cache_dir=tmp_path, service_url=url)
    cached = first.attrs["source"]
    with open(cached, "r+b") as handle:  # flip bytes in the middle of the file
        handle.seek(5000)
        handle.write(b"XXXX")
    with pytest.warns(UserWarning, match="checksum"):
        second = datasets.ttwa_2011(cache_dir=tmp_path, service_url=url)
    assert server.count(LAYER) == 6
    assert len(second) == 228


def test_refresh_downloads_even_with_a_good_cache(server, tmp_path, offline):
    url = server.url(LAYER)
    datasets.ttwa_2011(cache_dir=tmp_path, service_url=url)
    datasets.ttwa_2011(cache_dir=tmp_path, service_url=url, refresh=True)
    assert server.count(LAYER) == 6


def test_geoclusters_data_override_makes_no_request(server, tmp_path, data, monkeypatch):
    monkeypatch.setenv("GEOCLUSTERS_DATA", str(data))
    ttwa = datasets.ttwa_2011(cache_dir=tmp_path, service_url=server.url(LAYER))
    assert server.count() == 0
    assert len(ttwa) == 228
    assert ttwa.attrs["source"].endswith("ttwa_2011_uk_bsc_bng.gpkg")


def test_source_file_or_directory(server, tmp_path, data, offline):
    geojson = data / "ttwa2011" / "ttwa_2011_uk_bsc_wgs84.geojson"
    from_file = datasets.ttwa_2011(geojson, cache_dir=tmp_path)
    folder = tmp_path / "mydata" / "ttwa2011"
    folder.mkdir(parents=True)
    shutil.copy(geojson, folder)  # a user's own data folder, in the shared layout
    from_dir = datasets.ttwa_2011(tmp_path / "mydata", cache_dir=tmp_path)
    assert server.count() == 0
    assert list(from_dir.index) == list(from_file.index)
    assert from_dir.attrs["source"] == str(folder / geojson.name)


def test_missing_source_is_an_error_not_a_download(server, tmp_path, offline):
    with pytest.raises(InputError, match="source not found"):
        datasets.ttwa_2011(tmp_path / "nowhere.gpkg", cache_dir=tmp_path)
    with pytest.raises(InputError, match="no TTWA 2011 file"):
        datasets.ttwa_2011(tmp_path, cache_dir=tmp_path)
    assert server.count() == 0


def test_download_failure_names_the_service(server, tmp_path, offline):
    gone = server.url("/arcgis/rest/services/Gone/FeatureServer/0")
    with pytest.raises(DownloadError) as raised:
        datasets.ttwa_2011(cache_dir=tmp_path, service_url=gone)
    assert "Gone/FeatureServer/0/query" in str(raised.value)
    assert not list(tmp_path.rglob("*.geojson"))
    # offline, the error names the local-file overrides
    assert "ttwa_2011(source=" in str(raised.value)
    assert "GEOCLUSTERS_DATA to a folder holding ttwa2011/ttwa_2011_uk_bsc_bng.gpkg" in str(
        raised.value
    )


def test_offline_nomis_names_the_csv_reader(tmp_path):
    closed = "http://127.0.0.1:9/nomis/api/v01"  # the discard port: nothing listens
    with pytest.raises(DownloadError) as raised:
        datasets.nomis_counts("NM_142_1", "TYPE447", base_url=closed, cache_dir=tmp_path)
    assert "connection failed" in str(raised.value)
    assert "read_counts('<file>', format='nomis')" in str(raised.value)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_nomis_counts_pages_and_parses(server, tmp_path):
    counts = datasets.nomis_counts(
        "NM_142_1",
        "TYPE447",
        industry=[37748736, 146800641],
        date=2023,
        base_url=server.url(NOMIS),
        cache_dir=tmp_path,
    )
    assert server.count(f"{NOMIS}/dataset/NM_142_1.data.csv") == 2  # 4 rows, pages of 3
    table = counts.set_index(["area", "sector"])["value"]
    assert table[("E30000234", TOTAL)] == 505_000
    assert table[("E30000266", "7311")] == 55
    assert set(counts["measure"]) == {"businesses"}


def test_demo_region_is_exported():
    assert "demo_region" in datasets.__all__
    assert callable(datasets.demo_region)
