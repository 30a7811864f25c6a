"""Bad and awkward inputs through the readers: every case ends in a specific geoclusters
error naming the rows and saying what to do, or in a documented repair that is reported.

Every file is generated here, in a temporary folder; nothing is copied from the shared data.
"""

from __future__ import annotations

import codecs
import json
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
import shapely.affinity
from shapely.geometry import GeometryCollection, LineString, Point, Polygon, box

import geoclusters as gc
from geoclusters._accounting import Ledger
from geoclusters.errors import (
    CodesError,
    CountsError,
    CRSError,
    GeoclustersError,
    GeometryError,
    InputError,
    ReadError,
)

WELSH, GAELIC = "Ynys Môn", "Na h-Eileanan Siar"

LONG = [
    ["area", "name", "sector", "period", "measure", "value"],
    ["W06000001", WELSH, "7311", "2015", "businesses", "10"],
    ["W06000001", WELSH, "_all", "2015", "businesses", "300"],
    ["S12000013", GAELIC, "7311", "2015", "businesses", "*"],
    ["S12000013", GAELIC, "_all", "2015", "businesses", "120"],
]


def _csv(rows, delimiter=",", newline="\n") -> str:
    return newline.join(delimiter.join(row) for row in rows) + newline


def _write(tmp_path, text_or_bytes, name="counts.csv", encoding="utf-8"):
    path = tmp_path / name
    data = text_or_bytes if isinstance(text_or_bytes, bytes) else text_or_bytes.encode(encoding)
    path.write_bytes(data)
    return path


def _read(path, **options):
    return gc.read_counts(path, ignore=["name"], total="_all", **options)


def _says_what_to_do(error: InputError) -> None:
    assert isinstance(error, GeoclustersError)
    assert error.fix and "what to do:" in str(error)


@pytest.fixture
def expected(tmp_path):
    """The plain UTF-8, comma-delimited reading every variant must equal."""
    return _read(_write(tmp_path, _csv(LONG), "plain.csv"))


# ---------------------------------------------------------------- files: encoding, delimiter


def test_the_plain_file_keeps_suppression_and_names(expected):
    assert expected["area"].tolist() == ["S12000013", "S12000013", "W06000001", "W06000001"]
    film = expected[expected["sector"] == "7311"].set_index("area")
    assert np.isnan(film.loc["S12000013", "value"])  # suppressed stays missing, never zero
    assert film.loc["S12000013", "status"] == "suppressed"
    assert film.loc["W06000001", "value"] == 10.0


@pytest.mark.parametrize(
    "variant",
    ["semicolon", "tab", "pipe", "bom", "crlf", "utf16", "cp1252", "latin1", "padded"],
)
def test_encodings_delimiters_and_line_endings_read_the_same(tmp_path, expected, variant):
    rows, delimiter, newline, encoding = LONG, ",", "\n", "utf-8"
    prefix = b""
    if variant == "semicolon":
        delimiter = ";"
    elif variant == "tab":
        delimiter = "\t"
    elif variant == "pipe":
        delimiter = "|"
    elif variant == "bom":
        prefix = codecs.BOM_UTF8
    elif variant == "crlf":
        newline = "\r\n"
    elif variant == "utf16":
        delimiter, encoding = "\t", "utf-16"  # Excel's "Unicode text"
    elif variant in ("cp1252", "latin1"):
        encoding = variant
    elif variant == "padded":
        rows = [[f"  {cell} " for cell in row] for row in LONG]
    path = _write(tmp_path, prefix + _csv(rows, delimiter, newline).encode(encoding))
    ledger = Ledger()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        got = _read(path, ledger=ledger)
    pd.testing.assert_frame_equal(got, expected)
    account = ledger.accounts[0]
    assert account.delimiter == delimiter and account.rows_in == 4 and account.rows_out == 4
    messages = [str(w.message) for w in seen]
    if variant in ("cp1252", "latin1"):
        # a guess is reported: in the warning and in the account
        assert account.encoding == "cp1252"
        assert any("not UTF-8; read it as cp1252" in m for m in messages)
        assert account.repairs[0] == "decoded as cp1252"
    else:
        assert not [m for m in messages if "UTF-8" in m]
        assert account.encoding in ("utf-8", "utf-8-sig", "utf-16")
    if variant == "padded":
        assert any("stripped surrounding spaces" in r for r in account.repairs)


def test_welsh_and_gaelic_names_survive_every_encoding(tmp_path):
    for encoding in ("utf-8", "utf-8-sig", "cp1252", "utf-16"):
        text = _csv([["code", "name"], ["W06000001", WELSH], ["S12000013", GAELIC]])
        path = _write(tmp_path, text, f"names-{encoding}.csv", encoding)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            lookup = gc.read_lookup(path)
        assert lookup["name"].tolist() == [WELSH, GAELIC], encoding


def test_a_forced_wrong_delimiter_says_what_the_file_looks_like(tmp_path):
    path = _write(tmp_path, _csv(LONG, ";"))
    with pytest.raises(CountsError) as caught:
        _read(path, sep=",")
    message = str(caught.value)
    assert "the file looks ';'-delimited" in message
    assert "comma-delimited" in message and "read as utf-8" in message
    _says_what_to_do(caught.value)


def test_a_wrongly_declared_encoding_is_a_read_error(tmp_path):
    path = _write(tmp_path, _csv(LONG), encoding="cp1252")
    with pytest.raises(ReadError, match="cannot be decoded as utf-8") as caught:
        _read(path, encoding="utf-8")
    _says_what_to_do(caught.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"is empty \(0 bytes\)"),
        (b"\n\r\n  \n", r"is empty \(6 bytes\)"),
        (b"area,sector,period,measure,value\n", "has a header but no rows"),
        (b"area,sector,period,measure,value\r\n", "has a header but no rows"),
        (b"PK\x03\x04\x14\x00\x06\x00rest of a workbook", "Excel workbook"),
        (b"SQLite format 3\x00\x10\x00", "NUL bytes"),
        (b"area,value\nA,1\nB,2,3,4\n", "Expected 2 fields in line 3, saw 4"),
    ],
    ids=[
        "zero-bytes",
        "blank-lines",
        "header-only",
        "header-only-crlf",
        "xlsx",
        "binary",
        "ragged",
    ],
)
def test_empty_header_only_binary_and_ragged_files(tmp_path, content, message):
    path = _write(tmp_path, content)
    for reader in (gc.read_counts, gc.read_lookup):
        with pytest.raises(ReadError, match=message) as caught:
            reader(path)
        assert str(path) in str(caught.value)
        _says_what_to_do(caught.value)


def test_missing_files_and_folders(tmp_path):
    with pytest.raises(ReadError, match="not found"):
        gc.read_counts(tmp_path / "nowhere.csv")
    with pytest.raises(ReadError, match="a folder, not a file"):
        gc.read_lookup(tmp_path)
    with pytest.raises(ReadError, match="not found"):
        gc.read_areas(tmp_path / "nowhere.gpkg", code="cd")


# ---------------------------------------------------------------- counts: values


def _counts(values, sectors=("7311", "_all"), areas=("A",), status=None, rounded_to=1):
    rows = [(a, s, v) for a in areas for s, v in zip(sectors, values, strict=True)]
    frame = pd.DataFrame(rows, columns=["area", "sector", "value"])
    frame["period"], frame["measure"], frame["rounded_to"] = "2015", "businesses", rounded_to
    if status is not None:
        frame["status"] = status
    return frame.replace({"sector": {"_all": gc.TOTAL}})


@pytest.mark.parametrize(
    ("values", "error", "message", "rows"),
    [
        (["-3", "100"], CountsError, "negative counts", [0]),
        (["ten", "100"], CountsError, "neither numbers nor known suppression markers", [0]),
        ([np.inf, 100.0], CountsError, "infinite", [0]),
        (["5", "-inf"], CountsError, "infinite", [1]),
        ([120.0, 100.0], CountsError, r"above their area's all-industry total .*120 > 100", [0]),
    ],
    ids=["negative", "non-numeric", "inf", "minus-inf-text", "above-total"],
)
def test_impossible_counts_name_their_rows(values, error, message, rows):
    with pytest.raises(error, match=message) as caught:
        gc.validate_counts(_counts(values))
    assert caught.value.rows == rows
    _says_what_to_do(caught.value)


def test_above_total_allows_the_publishers_rounding_only():
    # UK Business Counts round each cell to 5: a sector of 102 rounds to 100 and its
    # total of 98 to 100, but 105 > 95 is still possible after rounding both (+-2.5 each)
    ok = gc.validate_counts(_counts([105.0, 100.0], rounded_to=5))
    assert ok.set_index("sector")["value"].to_dict() == {"7311": 105.0, gc.TOTAL: 100.0}
    with pytest.raises(CountsError, match="above"):
        gc.validate_counts(_counts([106.0, 100.0], rounded_to=5))
    with pytest.raises(CountsError, match="above"):
        gc.validate_counts(_counts([101.0, 100.0]))  # exact counts: no slack


def test_suppressed_missing_and_nan_stay_visible_never_zero():
    parts = [_counts(["*", "100"]), _counts(["", "90"], areas=["B"])]
    parts.append(_counts([np.nan, 80.0], areas=["C"]))
    counts = gc.validate_counts(pd.concat(parts, ignore_index=True))
    film = counts[counts["sector"] == "7311"].set_index("area")
    assert film["value"].isna().all()
    assert film["status"].to_dict() == {"A": "suppressed", "B": "missing", "C": "missing"}
    ledger = Ledger()
    claimed = gc.validate_counts(_counts([np.nan, 80.0], status=["ok", "ok"]), ledger=ledger)
    # a NaN claiming to be a usable count is a missing one, and the ledger says so
    assert claimed.set_index("sector").loc["7311", "status"] == "missing"
    assert ledger.accounts[0].repairs == ("marked 1 blank values with status 'ok' as 'missing'",)


def test_zero_totals_are_allowed_and_give_missing_lqs():
    frame = pd.concat([_counts([0.0, 0.0], areas=["Z"]), _counts([5.0, 50.0], areas=["A"])])
    lq = gc.location_quotients(gc.validate_counts(frame)).set_index("area")["lq"]
    assert np.isnan(lq["Z"]) and lq["A"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("sectors", "odd"),
    [
        (["7311", "73110", "5911"], ["73110"]),  # a SIC subclass among classes
        (["7311", "111", "5911"], ["111"]),  # a class that lost its leading zero
    ],
)
def test_sector_codes_of_mixed_lengths(sectors, odd):
    frame = _counts([1.0, 2.0, 3.0, 100.0], sectors=[*sectors, "_all"])
    with pytest.raises(CountsError, match="mixed lengths: most have 4 digits") as caught:
        gc.validate_counts(frame)
    assert caught.value.rows == odd
    _says_what_to_do(caught.value)


def test_duplicate_and_blank_keys(tmp_path):
    text = _csv([["area", "sector", "period", "measure", "value"], ["A", "7311", "2015", "b", "1"],
                 ["A", "7311", "2015", "b", "2"], ["", "7311", "2015", "b", "3"]])  # fmt: skip
    frame = pd.read_csv(_write(tmp_path, text), dtype=str, keep_default_na=False)
    with pytest.raises(CodesError, match="blank area") as caught:
        gc.validate_counts(frame)
    assert caught.value.rows == [2]
    with pytest.raises(CodesError, match="more than once") as caught:
        gc.validate_counts(frame.iloc[:2])
    assert caught.value.rows == [0, 1]


def test_labels_that_are_not_in_the_file(tmp_path):
    path = _write(tmp_path, _csv(LONG))
    with pytest.raises(CountsError, match="total='ALL' is not a sector label") as caught:
        gc.read_counts(path, ignore=["name"], total="ALL")
    assert "_all" in caught.value.rows
    with pytest.raises(CountsError, match=r"ignore= names columns .*'nom'"):
        gc.read_counts(path, ignore=["nom"])
    with pytest.raises(CountsError, match="cannot find the area column 'code'") as caught:
        gc.read_counts(path, columns={"area": "code"}, ignore=["area"])
    assert "'sector'" in str(caught.value)  # the columns found are listed


def test_an_empty_table_in_memory_is_refused():
    with pytest.raises(CountsError, match="no rows"):
        gc.validate_counts(_counts(["1", "2"]).iloc[:0])
    with pytest.raises(CountsError, match="lacks the columns"):
        gc.validate_counts(pd.DataFrame({"area": ["A"]}))


# ---------------------------------------------------------------- codes between inputs


def _areas(codes, crs=27700, names=None):
    geometry = [
        box(500_000 + 1000 * i, 150_000, 501_000 + 1000 * i, 151_000) for i in range(len(codes))
    ]
    frame = gpd.GeoDataFrame({"cd": codes}, geometry=geometry, crs=crs)
    if names is not None:
        frame["nm"] = names
    return frame


def test_codes_in_counts_but_not_boundaries_and_the_reverse():
    areas = gc.read_areas(_areas(["A", "B"]), code="cd")
    counts = pd.concat([_counts([1.0, 10.0], areas=["A", "Q"])])
    with pytest.raises(CodesError, match="not in the boundaries") as caught:
        gc.validate_counts(counts, areas)
    assert caught.value.rows == ["Q"]
    with pytest.raises(CodesError, match="have no counts") as caught:
        gc.validate_counts(_counts([1.0, 10.0], areas=["A"]), areas)
    assert caught.value.rows == ["B"]
    _says_what_to_do(caught.value)


def test_numeric_looking_codes_keep_leading_zeros(tmp_path):
    header = ["area", "sector", "period", "measure", "value"]
    text = _csv([header, ["0101", "7311", "2015", "b", "4"]])
    counts = gc.read_counts(_write(tmp_path, text))
    assert counts["area"].tolist() == ["0101"]  # read as text
    areas = gc.read_areas(_areas(["0101"]), code="cd")
    assert list(areas.index) == ["0101"]
    lost = pd.read_csv(_write(tmp_path, text, "lost.csv"))  # pandas' default makes it 101
    with pytest.raises(CodesError, match=r"lost their leading zeros, e\.g\. '101'") as caught:
        gc.validate_counts(lost, areas)
    assert caught.value.rows == ["101"]
    lookup = pd.DataFrame({"lad": ["0101"], "ttwa": ["T"]})
    with pytest.raises(CodesError, match="lost their leading zeros") as caught:
        gc.crosswalk(lost, lookup, source="lad", target="ttwa")
    assert caught.value.rows == ["101"]


# ---------------------------------------------------------------- areas: files and layers


def _gpkg(tmp_path, frames: dict, name="areas.gpkg"):
    path = tmp_path / name
    for layer, frame in frames.items():
        pyogrio.write_dataframe(frame, path, layer=layer, append=path.exists())
    return path


def test_areas_from_files_empty_corrupt_and_truncated(tmp_path):
    empty = _write(tmp_path, b"", "empty.gpkg")
    with pytest.raises(ReadError, match=r"is empty \(0 bytes\)"):
        gc.read_areas(empty, code="cd")
    good = _gpkg(tmp_path, {"areas": _areas(["A", "B"])})
    data = good.read_bytes()
    truncated = _write(tmp_path, data[: len(data) // 3], "truncated.gpkg")
    garbage = _write(tmp_path, b"not a geopackage at all" * 40, "garbage.gpkg")
    from geoclusters.areas import layer_fields

    for path in (truncated, garbage):
        with pytest.raises(ReadError, match="cannot read areas from") as caught:
            gc.read_areas(path, code="cd")
        assert str(path) in str(caught.value)
        _says_what_to_do(caught.value)
        with pytest.raises(ReadError, match="cannot read"):
            layer_fields(path)


def test_a_geopackage_with_several_layers_names_them(tmp_path):
    path = _gpkg(tmp_path, {"ttwa": _areas(["A", "B"]), "lad": _areas(["L"])})
    with pytest.raises(ReadError, match="holds 2 layers: ttwa, lad") as caught:
        gc.read_areas(path, code="cd")
    assert caught.value.rows == ["ttwa", "lad"]
    assert "--layer" in str(caught.value)
    with pytest.raises(ReadError, match="has no layer 'msoa'; its layers are: ttwa, lad"):
        gc.read_areas(path, code="cd", layer="msoa")
    with pytest.raises(ReadError, match="no layer number 5"):
        gc.read_areas(path, code="cd", layer=5)
    assert list(gc.read_areas(path, code="cd", layer="lad").index) == ["L"]
    # the command line looks up the fields before reading: the same checks, the same errors
    from geoclusters.areas import layer_fields

    with pytest.raises(ReadError, match="holds 2 layers: ttwa, lad"):
        layer_fields(path)
    assert layer_fields(path, layer="lad") == ["cd"]


def test_welsh_and_gaelic_names_through_read_areas(tmp_path):
    frame = _areas(["W06000001", "S12000013"], names=[WELSH, GAELIC])
    path = tmp_path / "areas.geojson"
    frame.to_crs(4326).to_file(path, driver="GeoJSON")
    areas = gc.read_areas(path, code="cd", name="nm")
    assert areas["name"].tolist() == [WELSH, GAELIC]
    assert areas.crs.to_epsg() == 27700


def test_missing_code_column_lists_the_columns():
    with pytest.raises(CodesError, match="no code column 'code'") as caught:
        gc.read_areas(_areas(["A"], names=["x"]), code="code")
    assert "'cd'" in str(caught.value) and "'nm'" in str(caught.value)


# ---------------------------------------------------------------- areas: CRS


def test_bng_coordinates_declared_as_lon_lat():
    frame = _areas(["A", "B"]).set_crs(4326, allow_override=True)
    with pytest.raises(CRSError, match="most likely British National Grid metres") as caught:
        gc.read_areas(frame, code="cd")
    assert "EPSG:27700" in caught.value.fix


def test_lon_lat_declared_as_bng():
    frame = gpd.GeoDataFrame(
        {"cd": ["A", "B"]}, geometry=[box(0.2, 51.0, 0.4, 51.2), box(0.4, 51.0, 0.6, 51.2)],
        crs=27700,
    )  # fmt: skip
    with pytest.raises(CRSError, match="they are longitude/latitude") as caught:
        gc.read_areas(frame, code="cd")
    assert "EPSG:4326" in caught.value.fix
    # declared right, the same squares are about 14 km across, not 0.4 m
    areas = gc.read_areas(frame.set_crs(4326, allow_override=True), code="cd")
    assert areas.geometry.iloc[0].bounds[2] - areas.geometry.iloc[0].bounds[0] > 10_000


def test_coordinates_outside_the_crs_area_of_use():
    utm = _areas(["A"]).to_crs(32630)
    mislabelled = utm.set_crs(27700, allow_override=True)  # UTM metres said to be BNG
    with pytest.raises(CRSError, match="outside the area of use"):
        gc.read_areas(mislabelled, code="cd")


def test_missing_crs_needs_an_assumption(tmp_path):
    frame = _areas(["A"]).set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match="declare no coordinate reference system") as caught:
        gc.read_areas(frame, code="cd")
    _says_what_to_do(caught.value)
    assert gc.read_areas(frame, code="cd", assume_crs=27700).crs.to_epsg() == 27700
    with pytest.raises(CRSError, match="not a CRS"):
        gc.read_areas(frame, code="cd", assume_crs="EPSG:not-a-code")
    with pytest.raises(CRSError, match="have no coordinate reference system"):
        gc.validate_areas(frame.set_index("cd"))


# ---------------------------------------------------------------- areas: geometry


def _with_geometry(geometries, codes=None):
    codes = codes or [f"A{i}" for i in range(len(geometries))]
    return gpd.GeoDataFrame({"cd": codes}, geometry=list(geometries), crs=27700)


SQUARE = box(500_000, 150_000, 501_000, 151_000)


def _moved(dx):
    return shapely.affinity.translate(SQUARE, xoff=dx)


BOWTIE = Polygon([(500_000, 150_000), (501_000, 151_000), (501_000, 150_000),
                  (500_000, 151_000)])  # fmt: skip


@pytest.mark.parametrize(
    ("odd", "message"),
    [(None, r"without geometry \(null\)"), (Polygon(), "with empty geometry")],
    ids=["null", "empty"],
)
def test_null_and_empty_geometries_raise_or_are_dropped_with_a_report(odd, message):
    frame = _with_geometry([SQUARE, odd])
    with pytest.raises(GeometryError, match=message) as caught:
        gc.read_areas(frame, code="cd")
    assert caught.value.rows == ["A1"]
    assert "empty='drop'" in caught.value.fix
    ledger = Ledger()
    with pytest.warns(UserWarning, match="dropped 1 areas .*: A1"):
        areas = gc.read_areas(frame, code="cd", empty="drop", ledger=ledger)
    assert list(areas.index) == ["A0"]
    account = ledger.accounts[0]
    assert (account.rows_in, account.rows_out, account.n_set_aside) == (2, 1, 1)
    assert account.set_aside[0].rows == ("A1",)
    assert "1 set aside" in account.line()


def test_invalid_geometry_raises_or_is_repaired_and_reported():
    frame = _with_geometry([SQUARE, BOWTIE])
    with pytest.raises(GeometryError, match=r"invalid geometries .*Self-intersection") as caught:
        gc.read_areas(frame, code="cd")
    assert caught.value.rows == ["A1"]
    ledger = Ledger()
    with pytest.warns(UserWarning, match="repaired 1 invalid geometries"):
        areas = gc.read_areas(frame, code="cd", repair=True, ledger=ledger)
    assert areas.is_valid.all() and areas.attrs["repaired"] == ["A1"]
    assert areas.geometry.iloc[1].area == pytest.approx(BOWTIE.buffer(0).area, rel=0.01) or (
        areas.geometry.iloc[1].area > 0
    )
    assert ledger.accounts[0].repairs == ("repaired 1 invalid geometries with make_valid",)


def test_z_coordinates_are_dropped_and_reported():
    frame = _with_geometry([shapely.force_3d(SQUARE, 12.0), _moved(1000)])
    ledger = Ledger()
    with pytest.warns(UserWarning, match="dropped the Z"):
        areas = gc.read_areas(frame, code="cd", ledger=ledger)
    assert not areas.has_z.any()
    assert areas.geometry.iloc[0].equals(SQUARE)
    assert ledger.accounts[0].repairs == ("dropped Z coordinates of 1 areas",)


def test_mixed_geometry_types():
    mixed = GeometryCollection([_moved(2000), LineString([(0, 0), (1, 1)])])
    frame = _with_geometry([SQUARE, _moved(1000).union(_moved(3000)), mixed])
    with pytest.raises(GeometryError, match="collection of mixed types") as caught:
        gc.read_areas(frame, code="cd")
    assert caught.value.rows == ["A2"]
    with pytest.warns(UserWarning, match="kept the polygonal part of 1"):
        areas = gc.read_areas(frame, code="cd", repair=True)
    assert areas.geom_type.tolist() == ["Polygon", "MultiPolygon", "Polygon"]
    points = _with_geometry([SQUARE, Point(500_000, 150_000)])
    with pytest.raises(GeometryError, match=r"must be polygons; found \['Point'\]") as caught:
        gc.read_areas(points, code="cd")
    assert caught.value.rows == ["A1"]


def test_duplicate_missing_and_padded_area_codes():
    with pytest.raises(CodesError, match="duplicate area codes") as caught:
        gc.read_areas(_with_geometry([SQUARE, _moved(1000)], ["A", " A "]), code="cd")
    assert caught.value.rows == ["A"]  # the padding is stripped first, then they collide
    with pytest.raises(CodesError, match="areas without a code") as caught:
        gc.read_areas(_with_geometry([SQUARE, _moved(1000)], ["A", None]), code="cd")
    assert caught.value.rows == [1]
    ledger = Ledger()
    areas = gc.read_areas(
        _with_geometry([SQUARE, _moved(1000)], ["A ", "B"]), code="cd", ledger=ledger
    )
    assert list(areas.index) == ["A", "B"]
    assert ledger.accounts[0].repairs == ("stripped surrounding spaces from 1 codes",)


# ---------------------------------------------------------------- lookups and crosswalks


def test_lookups_in_every_shape_crosswalk_alike(tmp_path):
    rows = [["LAD", "TTWA", "TTWA name", "w"], ["W06000001", "W22000022", WELSH, "1"],
            ["S12000013", "S22000073", GAELIC, "1"]]  # fmt: skip
    counts = gc.read_counts(_write(tmp_path, _csv(LONG), "c.csv"), ignore=["name"], total="_all")
    results = []
    shapes = [(",", "utf-8-sig"), (";", "cp1252"), ("\t", "utf-16")]
    for i, (delimiter, encoding) in enumerate(shapes):
        path = _write(tmp_path, _csv(rows, delimiter, "\r\n"), f"l{i}.csv", encoding)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            lookup = gc.read_lookup(path)
            moved = gc.crosswalk(counts, path, source="LAD", target="TTWA", weight="w")
        assert lookup["TTWA name"].tolist() == [WELSH, GAELIC]
        results.append(moved)
    for other in results[1:]:
        pd.testing.assert_frame_equal(other, results[0])
    assert sorted(results[0]["area"].unique()) == ["S22000073", "W22000022"]


def test_lookup_problems_name_rows(tmp_path):
    counts = _counts([1.0, 10.0], areas=["A"])
    lookup = pd.DataFrame({"src": ["A", " "], "dst": ["X", "Y"]})
    with pytest.raises(InputError, match="blank source or target") as caught:
        gc.crosswalk(counts, lookup, source="src", target="dst")
    assert caught.value.rows == [1]
    with pytest.raises(InputError, match=r"lacks the columns \['to'\]"):
        gc.crosswalk(counts, lookup, source="src", target="to")
    with pytest.raises(CodesError, match="not in the lookup") as caught:
        gc.crosswalk(_counts([1.0, 2.0], areas=["B"]), lookup.iloc[:1], source="src", target="dst")
    assert caught.value.rows == ["B"]


def test_areal_lookup_refuses_crs_mixups():
    square = gpd.GeoDataFrame(geometry=[SQUARE], index=["A"], crs=27700)
    with pytest.raises(CRSError, match="geographic CRS"):
        gc.areal_lookup(square.to_crs(4326), square.to_crs(4326))
    with pytest.raises(CRSError, match="differs from the target CRS"):
        gc.areal_lookup(square, square.to_crs(3857))
    with pytest.raises(GeometryError, match="invalid or missing source"):
        gc.areal_lookup(gpd.GeoDataFrame(geometry=[BOWTIE], index=["B"], crs=27700), square)


# ---------------------------------------------------------------- the NOMIS reader


def test_nomis_files_empty_latin1_and_unknown(tmp_path):
    with pytest.raises(ReadError, match="empty"):
        gc.read_counts(_write(tmp_path, b""), format="nomis")
    text = ('"UK Business Counts - enterprises by industry and employment size band"\n'
            '"Date :","2023"\n\n"Industry","Ynys Môn","mnemonic"\n')  # fmt: skip
    latin1 = _write(tmp_path, text, encoding="cp1252")
    expected = pytest.raises(InputError, match="neither a NOMIS API CSV")
    with expected, pytest.warns(UserWarning) as seen:
        gc.read_counts(latin1, format="nomis")
    assert "is not UTF-8; read it as cp1252" in str(seen[0].message)
    assert seen[0].filename == __file__  # the warning points at the caller's line


# ---------------------------------------------------------------- accounting


def test_the_ledger_accounts_for_every_step(tmp_path):
    ledger = Ledger()
    counts = _read(_write(tmp_path, _csv(LONG)), ledger=ledger)
    lookup = pd.DataFrame({"area": ["W06000001"], "ttwa": ["W22000022"]})
    with pytest.warns(UserWarning, match="S12000013"):
        gc.crosswalk(counts, lookup, source="area", target="ttwa", unmatched="warn", ledger=ledger)
    lines = ledger.lines()
    assert lines[0].startswith("counts (") and "4 rows in, 4 out, 0 set aside" in lines[0]
    assert lines[1] == (
        "crosswalk (<DataFrame>): 4 rows in, 2 out, 1 set aside "
        "(1 areas not in the lookup (unmatched='warn'))"
    )
    record = ledger.to_dict()[1]
    assert record["set_aside"] == [
        {"reason": "areas not in the lookup (unmatched='warn')", "count": 1, "rows": ["S12000013"]}
    ]
    assert "<table>" in ledger._repr_html_() and repr(ledger).count("\n") == 3
    assert json.loads(json.dumps(ledger.to_dict())) == ledger.to_dict()  # provenance-ready


def test_positional_reader_options_still_work_with_a_warning(tmp_path):
    frame = _areas(["A"], names=["Alpha"])
    with pytest.warns(DeprecationWarning, match=r"code, name to read_areas\(\) by position"):
        areas = gc.read_areas(frame, "cd", "nm")
    assert areas["name"].tolist() == ["Alpha"]
    wide = pd.DataFrame({"code": ["A"], "film": [1], "all": [10]})
    with pytest.warns(DeprecationWarning, match="format=..., columns=..., layout=..."):
        old = gc.read_counts(wide, "generic", {"area": "code"}, "wide", "b", "2015", "all")
    new = gc.read_counts(wide, columns={"area": "code"}, layout="wide", measure="b",
                         period="2015", total="all")  # fmt: skip
    pd.testing.assert_frame_equal(old, new)
    with pytest.warns(DeprecationWarning, match="allow_negative"):
        gc.validate_counts(_counts([-1.0, 5.0]), None, True)


def test_found_by_fuzzing_duplicate_columns_and_a_sector_called_value(tmp_path):
    path = _write(tmp_path, b"area, area\nA,B\n")
    with pytest.raises(ReadError, match="more than one column named 'area'") as caught:
        gc.read_counts(path)
    _says_what_to_do(caught.value)
    with pytest.raises(ReadError, match="more than one column named 'value'"):
        gc.validate_counts(pd.DataFrame([[1, 2]], columns=["value", "value"]))
    wide = pd.DataFrame({"area": ["A"], "value": [1], "sector": [2], "all": [5]})
    counts = gc.read_counts(wide, layout="wide", measure="b", period="1", total="all")
    assert counts.set_index("sector")["value"].to_dict() == {gc.TOTAL: 5.0, "sector": 2.0,
                                                              "value": 1.0}  # fmt: skip


def test_integer_codes_read_as_floats_lose_their_point_not_their_match():
    # an integer code column with a gap becomes float: 101.0 must still be code "101"
    counts = _counts([1.0, 10.0], areas=[101.0, 102.0])
    counts = pd.concat([counts, _counts([np.nan, 5.0], areas=[np.nan])], ignore_index=True)
    with pytest.raises(CodesError, match="blank area") as caught:
        gc.validate_counts(counts)
    assert caught.value.rows == [4, 5]
    good = gc.validate_counts(counts.iloc[:4])
    assert sorted(good["area"].unique()) == ["101", "102"]
    frame = _with_geometry([SQUARE, _moved(1000)], [101.0, 102.0])
    assert list(gc.read_areas(frame, code="cd").index) == ["101", "102"]


def test_welsh_and_gaelic_codes_through_areal_lookup_and_crosswalk(tmp_path):
    # names used as codes, as in files that carry no ONS codes
    sources = _areas([WELSH, GAELIC], names=[WELSH, GAELIC])
    path = tmp_path / "sources.geojson"
    sources.to_file(path, driver="GeoJSON")
    areas = gc.read_areas(path, code="cd", name="nm")
    targets = gpd.GeoDataFrame(geometry=[box(500_000, 150_000, 502_000, 151_000)], index=["T"],
                               crs=27700)  # fmt: skip
    lookup = gc.areal_lookup(areas, targets)
    assert lookup["source"].tolist() == [GAELIC, WELSH]  # sorted, characters intact
    counts = _counts([2.0, 20.0], areas=[WELSH, GAELIC])
    moved = gc.crosswalk(counts, lookup, source="source", target="target", weight="weight")
    assert moved.set_index("sector")["value"].to_dict() == {"7311": 4.0, gc.TOTAL: 40.0}
    assert moved.attrs["crosswalk"]["weighting"] == "area"
