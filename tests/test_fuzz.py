"""Fuzzing the readers: whatever the bytes, nothing but geoclusters' own documented errors.

Counts CSVs (generic and NOMIS), lookups and boundary files are made from random bytes,
from random text built of the characters tables are made of, and from valid files
truncated or with bytes flipped. Each read ends in a table or in a GeoclustersError; a
pandas, GDAL, codec or numpy exception escaping would fail the test. The default run takes
a few seconds; ``-m slow`` runs many more examples.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geoclusters as gc
from geoclusters.errors import GeoclustersError

QUICK = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
LONG = settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))

CELLS = st.sampled_from(
    ["area", "sector", "period", "measure", "value", "E06000001", "W06000001", "7311",
     "73110", "_total", "2015", "businesses", "10", "-3", "inf", "nan", "*", "..", "", " ",
     "1,234", "Ynys Môn", "Na h-Eileanan Siar", '"', '"a,b"', "OBS_VALUE", "GEOGRAPHY_CODE",
     "Date :", "mnemonic", "Total", "7311 : Advertising agencies", "Q", "\x00", "é"]
)  # fmt: skip
SEPARATORS = st.sampled_from([",", ";", "\t", "|", ", ", ""])
NEWLINES = st.sampled_from(["\n", "\r\n", "\r"])
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "latin-1"])


@st.composite
def tables(draw) -> bytes:
    """Text that looks like a table: rows of table-ish cells, in some encoding."""
    separator, newline = draw(SEPARATORS), draw(NEWLINES)
    rows = draw(st.lists(st.lists(CELLS, max_size=7), max_size=8))
    text = newline.join(separator.join(row) for row in rows)
    if draw(st.booleans()):
        text += newline
    encoding = draw(ENCODINGS)
    return text.encode(encoding, errors="replace")


BYTES = st.one_of(st.binary(max_size=600), tables())


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def _survives(read) -> None:
    """Run ``read``; a table or a GeoclustersError are fine, anything else fails."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = read()
        except GeoclustersError as error:
            assert str(error)  # a message, always
            return
    assert isinstance(result, pd.DataFrame)


def _counts_readers(path: Path):
    yield lambda: gc.read_counts(path)
    yield lambda: gc.read_counts(path, layout="wide", measure="b", period="2015")
    yield lambda: gc.read_counts(path, format="nomis", measure="businesses", period="2015")
    yield lambda: gc.read_lookup(path)
    counts = pd.DataFrame({"area": ["E06000001"], "sector": ["7311"], "period": ["2015"],
                           "measure": ["b"], "value": [1.0]})  # fmt: skip
    yield lambda: gc.crosswalk(counts, path, source="area", target="sector")
    yield lambda: gc.crosswalk(counts, path, source="area", target="value", weight="sector")


def _check_tables(folder: Path, data: bytes) -> None:
    path = folder / "fuzz.csv"
    path.write_bytes(data)
    for read in _counts_readers(path):
        _survives(read)


@QUICK
@given(BYTES)
def test_counts_and_lookup_readers_raise_only_their_own_errors(folder, data):
    _check_tables(folder, data)


@pytest.mark.slow
@LONG
@given(BYTES)
def test_counts_and_lookup_readers_raise_only_their_own_errors_long(folder, data):
    _check_tables(folder, data)


@st.composite
def frames(draw) -> pd.DataFrame:
    """Tables in memory with awkward cells: mixed types, NaN, inf, None, padded text."""
    values = st.one_of(
        st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 10**9),
        st.text(max_size=4), st.booleans(),
    )  # fmt: skip
    n = draw(st.integers(0, 6))
    columns = {}
    for name in draw(st.sets(st.sampled_from(
            ["area", "sector", "period", "measure", "value", "status", "rounded_to"]),
            min_size=3)):  # fmt: skip
        columns[name] = draw(st.lists(values, min_size=n, max_size=n))
    return pd.DataFrame(columns)


@QUICK
@given(frames())
def test_validate_counts_on_awkward_frames(frame):
    _survives(lambda: gc.validate_counts(frame))


# ---------------------------------------------------------------- boundaries


def _geojson(coordinates_scale: float = 1.0) -> bytes:
    features = [
        {
            "type": "Feature",
            "properties": {"cd": code, "nm": name},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[x, 51.0], [x + 0.1, 51.0], [x + 0.1, 51.1], [x, 51.1],
                                 [x, 51.0]]],
            },
        }
        for code, name, x in [
            ("W06000001", "Ynys Môn", 0.1),
            ("S12000013", "Na h-Eileanan Siar", 0.2),
        ]
    ]  # fmt: skip
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


@st.composite
def damaged(draw, good: bytes) -> bytes:
    """A valid file truncated, with bytes flipped, or with junk inserted."""
    data = bytearray(good)
    how = draw(st.sampled_from(["truncate", "flip", "insert"]))
    if how == "truncate":
        return bytes(data[: draw(st.integers(0, len(data)))])
    positions = draw(st.lists(st.integers(0, len(data) - 1), min_size=1, max_size=8))
    for position in positions:
        if how == "flip":
            data[position] = draw(st.integers(0, 255))
        else:
            data[position:position] = draw(st.binary(min_size=1, max_size=4))
    return bytes(data)


def _check_boundaries(folder: Path, data: bytes, suffix: str) -> None:
    path = folder / f"fuzz{suffix}"
    path.write_bytes(data)
    _survives(lambda: gc.read_areas(path, code="cd", name="nm"))
    _survives(lambda: gc.read_areas(path, code="cd", assume_crs="EPSG:4326", repair=True,
                                    empty="drop"))  # fmt: skip


@pytest.fixture(scope="module")
def good_gpkg(folder) -> bytes:
    import geopandas as gpd
    from shapely.geometry import box

    frame = gpd.GeoDataFrame(
        {"cd": ["A", "B"], "nm": ["Ynys Môn", "Na h-Eileanan Siar"]},
        geometry=[box(500_000, 150_000, 501_000, 151_000), box(501_000, 150_000, 502_000, 151_000)],
        crs=27700,
    )  # fmt: skip
    path = folder / "good.gpkg"
    frame.to_file(path, layer="areas")
    return path.read_bytes()


@QUICK
@given(st.one_of(st.binary(max_size=400), damaged(_geojson())))
def test_boundary_readers_on_damaged_geojson(folder, data):
    _check_boundaries(folder, data, ".geojson")


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_boundary_readers_on_damaged_geopackages(folder, good_gpkg, data):
    _check_boundaries(folder, data.draw(damaged(good_gpkg)), ".gpkg")


@pytest.mark.slow
@LONG
@given(st.data())
def test_boundary_readers_long(folder, good_gpkg, data):
    good = data.draw(st.sampled_from([good_gpkg, _geojson()]))
    suffix = ".gpkg" if good is good_gpkg else ".geojson"
    _check_boundaries(folder, data.draw(damaged(good)), suffix)


@st.composite
def area_frames(draw):
    """GeoDataFrames with awkward codes, coordinates, geometries and CRSs."""
    import geopandas as gpd
    import shapely
    from shapely.geometry import GeometryCollection, LineString, Point, Polygon, box

    n = draw(st.integers(1, 5))
    scale = draw(st.sampled_from([1.0, 1e-3, 1e5, 1e7, float("inf")]))
    x = st.floats(-200, 200, allow_nan=False)

    def shape():
        kind = draw(st.sampled_from(["box", "bowtie", "point", "line", "empty", "none",
                                     "collection", "z"]))  # fmt: skip
        x0, y0 = draw(x) * scale, draw(x) * scale
        square = box(x0, y0, x0 + scale, y0 + scale) if np.isfinite(scale) else Polygon()
        return {
            "box": square,
            "bowtie": Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]),
            "point": Point(x0, y0),
            "line": LineString([(0, 0), (1, 1)]),
            "empty": Polygon(),
            "none": None,
            "collection": GeometryCollection([square, Point(0, 0)]),
            "z": shapely.force_3d(square, 5.0),
        }[kind]

    code = st.one_of(st.none(), st.text(max_size=3), st.integers(0, 5), st.floats())
    codes = draw(st.lists(code, min_size=n, max_size=n))
    crs = draw(st.sampled_from([None, 4326, 27700, 3857, 32630]))
    return gpd.GeoDataFrame({"cd": codes}, geometry=[shape() for _ in range(n)], crs=crs)


AREA_OPTIONS = (
    area_frames(),
    st.sampled_from([None, "EPSG:4326", "EPSG:27700"]),
    st.booleans(),
    st.sampled_from(["raise", "drop"]),
)


def _read_awkward(frame, assume_crs, repair, empty):
    _survives(
        lambda: gc.read_areas(frame, code="cd", assume_crs=assume_crs, repair=repair, empty=empty)
    )


@QUICK
@given(*AREA_OPTIONS)
def test_read_areas_on_awkward_frames(frame, assume_crs, repair, empty):
    _read_awkward(frame, assume_crs, repair, empty)


@pytest.mark.slow
@LONG
@given(*AREA_OPTIONS)
def test_read_areas_on_awkward_frames_long(frame, assume_crs, repair, empty):
    _read_awkward(frame, assume_crs, repair, empty)
