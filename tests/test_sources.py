"""Downloads, cache and NOMIS parsing, against real HTTP servers on 127.0.0.1.

The servers serve the real shared data: the 228 TTWAs as an ArcGIS feature
service that pages like the ONS one, and UK Business Counts for 380 local
authorities as a NOMIS API that pages with RecordOffset.
"""

# The NOMIS CSV snippets below keep their real, long lines.
# ruff: noqa: E501

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from _servers import (
    Loopback,
    dropped,
    feature_server,
    flaky,
    nomis_data,
    slow,
    stalled_then,
    static,
    truncated,
)

import geoclusters
from geoclusters.counts import TOTAL, read_counts
from geoclusters.errors import DownloadError, InputError
from geoclusters.sources import nomis, ons
from geoclusters.sources.fetch import cache_path, cached, download, fetch, sidecar_path
from geoclusters.sources.nomis import NomisClient, parse_nomis_csv

LAYER = "/arcgis/rest/services/TTWA/FeatureServer/0"
BIG = bytes(range(256)) * 4096  # 1 MiB
NOMIS = "/nomis/api/v01"
NOMIS_PAGE = 7_000
ARCGIS_MAX = 100


@pytest.fixture(scope="module")
def ttwa_geojson(data) -> dict:
    with open(data / "ttwa2011" / "ttwa_2011_uk_bsc_wgs84.geojson", encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="module")
def business_counts(data) -> pd.DataFrame:
    """The real LAD x segment counts, long, with the row sum as the total."""
    wide = pd.read_csv(data / "counts" / "business_counts_lad14_by_segment_2015.csv")
    wide = wide.rename(columns={wide.columns[0]: "code"})
    segments = [c for c in wide.columns if c not in ("code", "LAD14NM")]
    wide["Total"] = wide[segments].sum(axis=1)
    long = wide.melt(id_vars=["code", "LAD14NM"], var_name="industry", value_name="value")
    # Deterministic suppression: some cells blank, some with a 0 that must not
    # be read as zero, all flagged Q as NOMIS does.
    position = np.arange(len(long))
    long["flag"] = np.where(position % 97 == 3, "blank", np.where(position % 89 == 5, "zero", ""))
    return long


def nomis_rows(long: pd.DataFrame) -> list[dict]:
    rows = []
    for code, name, industry, value, flag in long.itertuples(index=False):
        suppressed = bool(flag)
        rows.append(
            {
                "DATE": "2015",
                "DATE_NAME": "2015",
                "GEOGRAPHY_CODE": code,
                "GEOGRAPHY_NAME": name,
                "INDUSTRY_NAME": industry,
                "EMPLOYMENT_SIZEBAND_NAME": "Total",
                "LEGAL_STATUS_NAME": "Total",
                "MEASURES_NAME": "Value",
                "OBS_VALUE": {"blank": "", "zero": 0}.get(flag, value),
                "OBS_STATUS": "Q" if suppressed else "A",
                "OBS_STATUS_NAME": "These figures are missing." if suppressed else "Normal Value",
            }
        )
    return rows


GEOGRAPHY_DEF = {
    "structure": {
        "codelists": {
            "codelist": [
                {
                    "agencyid": "NOMIS",
                    "id": "CL_142_1_GEOGRAPHY",
                    "code": [
                        {"value": 447, "description": {"value": "2011 travel to work areas"}},
                        {
                            "value": "TYPE434",
                            "description": {"value": "local authorities: district / unitary"},
                        },
                    ],
                }
            ]
        }
    }
}


@pytest.fixture
def server(ttwa_geojson, business_counts):
    routes = {
        f"{LAYER}/query": feature_server(ttwa_geojson, ARCGIS_MAX),
        f"{NOMIS}/dataset/NM_142_1.data.csv": nomis_data(nomis_rows(business_counts), NOMIS_PAGE),
        f"{NOMIS}/dataset/NM_142_1/geography/TYPE.def.sdmx.json": static(
            json.dumps(GEOGRAPHY_DEF).encode(), "application/json"
        ),
        "/files/hello.csv": static(b"area,value\nA,1\n", "text/csv"),
        "/files/slow.csv": slow(3.0),
        "/files/truncated.csv": truncated(1000, b"area,value\nA,1\n"),
        "/files/flaky.csv": flaky(2, b"finally"),
        "/files/dropped-twice.csv": dropped(2, b"area,value\nA,1\n"),
        "/files/always-dropped.csv": dropped(None, b""),
        "/files/killed.bin": stalled_then(BIG[: 1 << 16], len(BIG), 5.0, BIG),
        "/files/stalls-once.bin": stalled_then(BIG[: 1 << 16], len(BIG), 3.0, BIG),
    }
    with Loopback(routes) as running:
        yield running


def leftovers(directory) -> list[str]:
    return sorted(p.name for p in directory.rglob("*") if p.is_file())


# --- ONS feature service -------------------------------------------------------


def test_feature_service_pages_until_the_last_feature(server, ttwa_geojson):
    collection = ons.feature_service_geojson(server.url(LAYER), page_size=50)
    codes = [f["properties"]["ttwa11cd"] for f in collection["features"]]
    assert codes == [f["properties"]["ttwa11cd"] for f in ttwa_geojson["features"]]
    assert server.count(f"{LAYER}/query") == math.ceil(228 / 50)


def test_feature_service_advances_by_what_the_server_sent(server):
    # page_size above the server's maxRecordCount: pages of 100, 100, 28.
    collection = ons.feature_service_geojson(server.url(LAYER), page_size=2000)
    assert len(collection["features"]) == 228
    assert len({f["id"] for f in collection["features"]}) == 228
    assert server.count(f"{LAYER}/query") == 3


def test_feature_service_reports_an_arcgis_error(server):
    # ArcGIS answers a bad query with HTTP 200 and an "error" object.
    error = {"error": {"code": 400, "message": "Invalid or missing input parameters."}}
    server.routes["/arcgis/rest/services/Gone/FeatureServer/0/query"] = static(
        json.dumps(error).encode(), "application/json"
    )
    with pytest.raises(DownloadError, match="ArcGIS error: Invalid or missing input"):
        ons.feature_service_geojson(server.url("/arcgis/rest/services/Gone/FeatureServer/0"))


def test_downloaded_ttwa_layer_matches_the_local_geopackage(server, tmp_path, ttwa_path):
    path = ons.download_feature_service(server.url(LAYER), "ttwa", cache=tmp_path)
    downloaded = gpd.read_file(path)
    local = gpd.read_file(ttwa_path)
    assert len(downloaded) == 228
    assert set(downloaded["ttwa11cd"]) == set(local["ttwa11cd"])
    # Same polygons: the areas agree once both are in British National Grid.
    areas = downloaded.to_crs(27700).set_index("ttwa11cd").area
    reference = local.set_index("ttwa11cd").area
    assert np.allclose(areas.loc[reference.index], reference, rtol=1e-3)
    record = json.loads(sidecar_path(path).read_text())
    assert record["size"] == path.stat().st_size and len(record["sha256"]) == 64


# --- fetch and the cache -------------------------------------------------------


def test_http_404_fails_at_once_naming_the_url(server, tmp_path):
    url = server.url("/files/absent.csv")
    with pytest.raises(DownloadError) as raised:
        download(url, cache=tmp_path, retries=3, backoff=0.01)
    assert url in str(raised.value) and "404" in str(raised.value)
    assert "GEOCLUSTERS_DATA" in str(raised.value)
    assert server.count("/files/absent.csv") == 1  # a 404 is not retried
    assert leftovers(tmp_path) == []


def test_timeout_raises_and_leaves_nothing(server, tmp_path):
    url = server.url("/files/slow.csv")
    start = time.monotonic()
    with pytest.raises(DownloadError, match="timed out") as raised:
        download(url, cache=tmp_path, timeout=0.5, retries=1, backoff=0.01)
    assert time.monotonic() - start < 2.5  # two attempts of 0.5 s, not the 3 s answer
    assert url in str(raised.value)
    assert server.count("/files/slow.csv") == 2
    assert leftovers(tmp_path) == []


def test_truncated_body_is_detected_retried_and_discarded(server, tmp_path):
    url = server.url("/files/truncated.csv")
    with pytest.raises(DownloadError, match=r"cut off after 15 bytes of 1000") as raised:
        download(url, cache=tmp_path, timeout=2, retries=2, backoff=0.01)
    assert url in str(raised.value)
    assert server.count("/files/truncated.csv") == 3
    assert leftovers(tmp_path) == []


def test_dropped_connections_are_retried_then_reported(server, tmp_path):
    url = server.url("/files/dropped-twice.csv")
    path = download(url, cache=tmp_path, retries=2, backoff=0.01)
    assert path.read_bytes() == b"area,value\nA,1\n"
    assert server.count("/files/dropped-twice.csv") == 3
    assert fetch(server.url("/files/dropped-twice.csv"), retries=0) == b"area,value\nA,1\n"
    gone = server.url("/files/always-dropped.csv")
    for attempt in (lambda: download(gone, cache=tmp_path / "c", retries=2, backoff=0.01),
                    lambda: fetch(gone, retries=2, backoff=0.01)):  # fmt: skip
        with pytest.raises(
            DownloadError, match="after 3 attempts: the connection failed"
        ) as raised:
            attempt()
        assert "GEOCLUSTERS_DATA" in str(raised.value)
    assert server.count("/files/always-dropped.csv") == 6
    assert leftovers(tmp_path / "c") == []


def test_a_stall_mid_body_times_out_and_the_retry_completes(server, tmp_path):
    url = server.url("/files/stalls-once.bin")
    start = time.monotonic()
    path = download(url, cache=tmp_path, timeout=0.5, retries=1, backoff=0.01)
    assert time.monotonic() - start < 2.5  # gave up on the stalled body after ~0.5 s
    assert path.read_bytes() == BIG and cached(path)
    assert server.count("/files/stalls-once.bin") == 2
    assert leftovers(tmp_path) == sorted([path.name, sidecar_path(path).name])


def test_a_download_killed_halfway_leaves_nothing_that_looks_complete(server, tmp_path):
    """A real process, killed (SIGKILL) while the body is half read."""
    url = server.url("/files/killed.bin")
    cache = tmp_path / "cache"
    script = (
        "import sys; from geoclusters.sources.fetch import download; "
        "download(sys.argv[1], cache=sys.argv[2], timeout=60)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(geoclusters.__file__).parents[1])}
    child = subprocess.Popen([sys.executable, "-c", script, url, str(cache)], env=env)
    try:
        deadline = time.monotonic() + 20
        while not [p for p in cache.rglob("*") if p.is_file() and p.stat().st_size > 0]:
            assert time.monotonic() < deadline and child.poll() is None
            time.sleep(0.05)
    finally:
        child.kill()
        child.wait()
    final = cache_path(url, cache=cache)
    assert not final.exists() and not sidecar_path(final).exists()
    assert not cached(final)
    partial = [p for p in cache.rglob("*") if p.is_file()]
    assert partial and all(p.name != final.name for p in partial)  # only a temporary file
    assert all(p.stat().st_size < len(BIG) for p in partial)
    # the next download starts afresh and ends complete, with its checksum recorded
    again = download(url, cache=cache, sha256=hashlib.sha256(BIG).hexdigest())
    assert again == final and again.read_bytes() == BIG and cached(again)


def test_server_errors_are_retried_with_backoff(server):
    assert fetch(server.url("/files/flaky.csv"), retries=2, backoff=0.01) == b"finally"
    assert server.count("/files/flaky.csv") == 3


def test_cache_hit_makes_no_request_and_corruption_is_redownloaded(server, tmp_path):
    url = server.url("/files/hello.csv")
    first = download(url, cache=tmp_path)
    assert download(url, cache=tmp_path) == first
    assert server.count("/files/hello.csv") == 1
    first.write_bytes(b"area,value\nA,9\n")  # same size, different bytes
    with pytest.warns(UserWarning, match="checksum"):
        again = download(url, cache=tmp_path)
    assert again.read_bytes() == b"area,value\nA,1\n"
    assert server.count("/files/hello.csv") == 2


def test_pinned_checksum_mismatch_is_refused(server, tmp_path):
    url = server.url("/files/hello.csv")
    with pytest.raises(DownloadError, match="expected 0000"):
        download(url, cache=tmp_path, sha256="0" * 64)
    assert leftovers(tmp_path) == []
    good = hashlib.sha256(b"area,value\nA,1\n").hexdigest()
    assert download(url, cache=tmp_path, sha256=good).read_bytes() == b"area,value\nA,1\n"


def test_cache_location_follows_the_environment(monkeypatch, tmp_path):
    from geoclusters.sources.fetch import cache_dir

    monkeypatch.setenv("GEOCLUSTERS_CACHE", str(tmp_path / "explicit"))
    assert cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("GEOCLUSTERS_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "geoclusters"


# --- NOMIS API -----------------------------------------------------------------


def test_nomis_paged_download_equals_the_source_table(server, tmp_path, business_counts):
    client = NomisClient(base_url=server.url(NOMIS), cache_dir=tmp_path, uid="s3cret")
    counts = client.get("NM_142_1", {"geography": "TYPE434", "date": 2015})
    pages = math.ceil(len(business_counts) / NOMIS_PAGE)
    assert pages > 1
    assert server.count(f"{NOMIS}/dataset/NM_142_1.data.csv") == pages

    expected = business_counts.assign(
        sector=business_counts["industry"].where(business_counts["industry"] != "Total", TOTAL)
    ).set_index(["code", "sector"])
    got = counts.set_index(["area", "sector"]).loc[expected.index]
    assert len(counts) == len(expected)
    assert (counts["measure"] == "businesses").all() and (counts["period"] == "2015").all()
    assert (counts["rounded_to"] == 5).all()
    suppressed = expected["flag"] != ""
    assert suppressed.sum() > 100
    assert got.loc[suppressed.to_numpy(), "value"].isna().all()
    assert (got.loc[suppressed.to_numpy(), "status"] == "suppressed").all()
    ok = ~suppressed.to_numpy()
    assert np.array_equal(got.loc[ok, "value"].to_numpy(), expected.loc[ok, "value"].to_numpy())
    assert (got.loc[ok, "status"] == "ok").all()
    # Cells published as 0 with status Q stay unknown, never zero.
    zero_flagged = (expected["flag"] == "zero").to_numpy()
    assert zero_flagged.any() and got.loc[zero_flagged, "value"].isna().all()

    # The whole query is cached page by page: asking again costs nothing,
    # and the user key is not written anywhere in the cache.
    again = client.get("NM_142_1", {"geography": "TYPE434", "date": 2015})
    pd.testing.assert_frame_equal(again, counts)
    assert server.count(f"{NOMIS}/dataset/NM_142_1.data.csv") == pages
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert "s3cret" not in path.name and b"s3cret" not in path.read_bytes()


def test_nomis_short_read_is_an_error(server, tmp_path, business_counts):
    rows = nomis_rows(business_counts.head(30))
    for row in rows[20:]:  # the last page is lost: RECORD_COUNT says 40
        row["GEOGRAPHY_CODE"] = "x"
    route = nomis_data(rows, 10)

    def lying(handler, query):
        status, kind, body = route(handler, query)
        if int(query.get("recordoffset", 0)) >= 20:
            body = body.split(b"\n", 1)[0] + b"\n"
        return status, kind, body

    server.routes[f"{NOMIS}/dataset/NM_141_1.data.csv"] = lying
    client = NomisClient(base_url=server.url(NOMIS), cache_dir=tmp_path)
    with pytest.raises(DownloadError, match="no rows after 20 of 30"):
        client.raw_csv("NM_141_1", {"geography": "TYPE434"})


def test_nomis_geography_types(server, tmp_path):
    client = NomisClient(base_url=server.url(NOMIS), cache_dir=tmp_path)
    types = client.geography_types("NM_142_1")
    assert list(types["type"]) == ["TYPE447", "TYPE434"]
    assert types.set_index("type").loc["TYPE447", "description"] == "2011 travel to work areas"


def test_nomis_errors_do_not_reveal_the_user_key(server, tmp_path):
    client = NomisClient(base_url=server.url(NOMIS), cache_dir=tmp_path, uid="s3cret", retries=0)
    with pytest.raises(DownloadError) as raised:
        client.raw_csv("NM_999_1", {"geography": "TYPE434"})
    assert "NM_999_1" in str(raised.value) and "s3cret" not in str(raised.value)


# --- NOMIS CSV formats -----------------------------------------------------------

# As the NOMIS web query tool downloads it: areas in rows, industries in columns.
BULK_ENTERPRISES = """\
"UK Business Counts - enterprises by industry and employment size band"
"ONS Crown Copyright Reserved [from Nomis on 12 March 2024]"
"Date                 :","2023"
"Employment Size Band :","Total"
"Legal Status         :","Total"

"local authority: district / unitary (as of April 2023)","mnemonic","Total","7311 : Advertising agencies","5911 : Motion picture production activities"
"Hartlepool","E06000001",2605,10,"*"
"Middlesbrough","E06000002",3630,15,5

"* These figures are suppressed as statistically unreliable."
"Figures are rounded to the nearest 5."
"""

# Industries in rows, areas in columns with a mnemonic row, two dates (BRES).
BULK_BRES = """\
"Business Register and Employment Survey : open access"
"ONS Crown Copyright Reserved [from Nomis on 3 May 2024]"
"Employment Status :","Employment"
"Measure           :","Count"
"Date              :","2021"

"Industry","Hartlepool","Middlesbrough"
"mnemonic","E06000001","E06000002"
"Total",40000,60000
"7311 : Advertising agencies",20,"-"

"Date              :","2022"

"Industry","Hartlepool","Middlesbrough"
"mnemonic","E06000001","E06000002"
"Total",41000,"2,250"
"7311 : Advertising agencies",35,300

"-" These figures are missing.
"""


def test_bulk_download_areas_in_rows(tmp_path):
    path = tmp_path / "ukbc.csv"
    path.write_text(BULK_ENTERPRISES, encoding="utf-8")
    counts = read_counts(path, format="nomis")
    table = counts.set_index(["area", "sector"])
    assert len(counts) == 6
    assert table.loc[("E06000001", TOTAL), "value"] == 2605
    assert table.loc[("E06000002", "7311"), "value"] == 15
    assert table.loc[("E06000002", "5911"), "value"] == 5
    assert np.isnan(table.loc[("E06000001", "5911"), "value"])
    assert table.loc[("E06000001", "5911"), "status"] == "suppressed"
    assert set(counts["measure"]) == {"businesses"} and set(counts["period"]) == {"2023"}
    assert set(counts["rounded_to"]) == {5}


def test_bulk_download_industries_in_rows_two_blocks():
    counts = parse_nomis_csv(BULK_BRES).set_index(["area", "sector", "period"])
    assert len(counts) == 8
    assert set(counts["measure"]) == {"employment"}
    assert counts.loc[("E06000002", TOTAL, "2022"), "value"] == 2250
    assert counts.loc[("E06000002", "7311", "2021"), "status"] == "suppressed"
    # NOMIS article 1103, relaxed public rounding: 1-49 -> 5, 250-499 -> 50,
    # 1,000-2,499 -> 250, 5,000 and over -> 1,000.
    assert counts.loc[("E06000001", "7311", "2021"), "rounded_to"] == 5
    assert counts.loc[("E06000002", "7311", "2022"), "rounded_to"] == 50
    assert counts.loc[("E06000001", TOTAL, "2022"), "rounded_to"] == 1000
    assert counts.loc[("E06000002", TOTAL, "2022"), "rounded_to"] == 250


API_BRES = """\
"DATE_NAME","GEOGRAPHY_CODE","INDUSTRY_NAME","EMPLOYMENT_STATUS_NAME","MEASURE_NAME","MEASURES_NAME","OBS_VALUE","OBS_STATUS","OBS_STATUS_NAME"
"2022","E30000234","Total","Employment","Count","Value",5510000,"A","Normal Value"
"2022","E30000234","Total","Employment","Industry percent","Value",100,"A","Normal Value"
"2022","E30000234","7311 : Advertising agencies","Employment","Count","Value",40000,"A","Normal Value"
"2022","E30000234","7311 : Advertising agencies","Employees","Count","Value",37000,"A","Normal Value"
"2022","E30000004","7311 : Advertising agencies","Employees","Count","Value",0,"Q","These figures are missing."
"""


def test_api_csv_bres_measures_and_percentages():
    counts = parse_nomis_csv(API_BRES, "NM_189_1")
    table = counts.set_index(["area", "sector", "measure"])
    assert len(counts) == 4  # the industry-percent row is not a count
    assert table.loc[("E30000234", TOTAL, "employment"), "value"] == 5_510_000
    assert table.loc[("E30000234", "7311", "employees"), "value"] == 37_000
    missing = table.loc[("E30000004", "7311", "employees")]
    assert np.isnan(missing["value"]) and missing["status"] == "suppressed"


def test_api_csv_keeps_only_the_total_size_band():
    text = (
        "DATE_NAME,GEOGRAPHY_CODE,INDUSTRY_NAME,EMPLOYMENT_SIZEBAND_NAME,OBS_VALUE,OBS_STATUS\n"
        "2023,E06000001,Total,Micro (0 to 9),2300,A\n"
        "2023,E06000001,Total,Total,2605,A\n"
    )
    counts = parse_nomis_csv(text, measure="local_units")
    assert counts["value"].tolist() == [2605.0]
    assert counts["rounded_to"].tolist() == [5]


def test_unreadable_nomis_input_is_named():
    ambiguous = "DATE_NAME,GEOGRAPHY_CODE,INDUSTRY_NAME,OBS_VALUE,OBS_STATUS\n2023,E1,Total,5,A\n"
    with pytest.raises(InputError, match="cannot tell what this NOMIS table counts"):
        parse_nomis_csv(ambiguous)
    odd = ambiguous.replace(",A\n", ",Z\n")
    with pytest.raises(InputError, match="unknown NOMIS observation status Z"):
        parse_nomis_csv(odd, "NM_142_1")
    with pytest.raises(InputError, match="neither a NOMIS API CSV"):
        parse_nomis_csv("just,two\ncells,here\n")


def test_nomis_registry_names_the_four_datasets():
    assert set(nomis.NOMIS_DATASETS) == {"NM_141_1", "NM_142_1", "NM_172_1", "NM_189_1"}
