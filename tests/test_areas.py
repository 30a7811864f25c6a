"""Reading and validating areas: real TTWA boundaries and hand-built polygons."""

import warnings

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Polygon, box

import geoclusters as gc
from geoclusters.errors import InputError


@pytest.fixture(scope="module")
def ttwas(ttwa_path):
    return gc.read_areas(ttwa_path, code="ttwa11cd", name="ttwa11nm", repair=True)


def test_real_ttwas_read_with_unique_codes_london_and_bng(ttwas):
    assert len(ttwas) == 228
    assert ttwas.index.is_unique
    assert ttwas.index.name == "area"
    assert ttwas.loc["E30000234", "name"] == "London"
    assert ttwas.crs.to_epsg() == 27700
    assert ttwas.geometry.is_valid.all()
    nations = ttwas.index.str[0].value_counts().to_dict()
    assert nations == {"E": 149, "S": 45, "W": 18, "N": 10, "K": 6}


def test_geojson_in_lon_lat_is_projected_to_the_british_national_grid(data, ttwas):
    wgs84 = gc.read_areas(
        data / "ttwa2011/ttwa_2011_uk_bsc_wgs84.geojson", code="TTWA11CD", name="ttwa11nm"
    )
    assert wgs84.crs.to_epsg() == 27700
    assert set(wgs84.index) == set(ttwas.index)
    # the same polygons, projected: London's area agrees to within 0.1 %
    assert wgs84.loc["E30000234"].geometry.area == pytest.approx(
        ttwas.loc["E30000234"].geometry.area, rel=1e-3
    )


def test_topojson_without_crs_needs_an_assumed_crs(data):
    path = data / "lad/lad_uk_2014.topojson"
    with pytest.raises(InputError, match="no coordinate reference system"):
        gc.read_areas(path, code="LAD13CD", layer="lad")


def test_invalid_geometries_are_refused_unless_repair_is_asked():
    bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    raw = gpd.GeoDataFrame({"cd": ["A", "B"]}, geometry=[box(3, 0, 4, 1), bowtie], crs="EPSG:27700")
    with pytest.raises(InputError, match="invalid geometries") as caught:
        gc.read_areas(raw, code="cd")
    assert caught.value.rows == ["B"]
    with pytest.warns(UserWarning, match="repaired 1 invalid"):
        repaired = gc.read_areas(raw, code="cd", repair=True)
    assert repaired.attrs["repaired"] == ["B"]
    assert repaired.geometry.is_valid.all()
    # the two triangles of the bow tie, 1 square unit each, survive the repair
    assert repaired.loc["B"].geometry.area == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("codes", "geometries", "message", "rows"),
    [
        (["A", "A"], [box(0, 0, 1, 1), box(1, 0, 2, 1)], "duplicate area codes", ["A"]),
        (["A", None], [box(0, 0, 1, 1), box(1, 0, 2, 1)], "without a code", [1]),
        (["A", "B"], [box(0, 0, 1, 1), Polygon()], "empty geometry", ["B"]),
        (["A", "B"], [box(0, 0, 1, 1), None], "without geometry", ["B"]),
        (["A", "B"], [box(0, 0, 1, 1), shapely.Point(0, 0)], "must be polygons", ["B"]),
    ],
)
def test_bad_areas_are_named(codes, geometries, message, rows):
    raw = gpd.GeoDataFrame({"cd": codes}, geometry=geometries, crs="EPSG:27700")
    with pytest.raises(InputError, match=message) as caught:
        gc.read_areas(raw, code="cd")
    assert caught.value.rows == rows
    assert "what to do" in str(caught.value)


def test_missing_crs_and_missing_columns_are_errors():
    raw = gpd.GeoDataFrame({"cd": ["A"]}, geometry=[box(0, 0, 1, 1)])
    with pytest.raises(InputError, match="assume_crs"):
        gc.read_areas(raw, code="cd")
    raw = raw.set_crs("EPSG:27700")
    with pytest.raises(InputError, match="no code column 'code'"):
        gc.read_areas(raw, code="code")


def test_shapefile_round_trip_keeps_codes_and_names(tmp_path, ttwas):
    path = tmp_path / "kent.shp"
    kent = ttwas.loc[["E30000281", "E30000061"]].reset_index()
    kent[["area", "name", "geometry"]].to_file(path, engine="pyogrio")
    back = gc.read_areas(path, code="area", name="name")
    assert list(back.index) == ["E30000281", "E30000061"]
    assert list(back["name"]) == ["Tunbridge Wells", "Hastings"]


def test_areas_outside_the_uk_go_to_their_utm_zone():
    # two squares near Lyon, in degrees
    raw = gpd.GeoDataFrame(
        {"cd": ["a", "b"]},
        geometry=[box(4.8, 45.7, 4.9, 45.8), box(4.9, 45.7, 5.0, 45.8)],
        crs="EPSG:4326",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        areas = gc.read_areas(raw, code="cd")
    assert areas.crs.to_epsg() == 32631  # WGS 84 / UTM zone 31N
    # 0.1° × 0.1° at 45.75° N is about 7.8 km × 11.1 km
    assert areas.geometry.area.iloc[0] == pytest.approx(7.77e3 * 11.12e3, rel=0.02)


def test_a_geographic_target_crs_is_refused():
    raw = gpd.GeoDataFrame({"cd": ["a"]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:27700")
    with pytest.raises(InputError, match="not a projected CRS"):
        gc.read_areas(raw, code="cd", crs="EPSG:4326")
