"""Crosswalks: hand-worked lookups and squares, then the real UK lookups and boundaries."""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box

import geoclusters
from geoclusters.counts import TOTAL
from geoclusters.crosswalks import (
    POPULATION_PROXY,
    areal_lookup,
    crosswalk,
    population_lookup,
    read_lookup,
)
from geoclusters.errors import CodesError, InputError

LONDON = "E30000234"


def _counts(areas, values, sector="film", status=None, rounded_to=1):
    frame = pd.DataFrame(
        {
            "area": areas,
            "sector": sector,
            "period": "2015",
            "measure": "businesses",
            "value": values,
            "rounded_to": rounded_to,
        }
    )
    if status is not None:
        frame["status"] = status
    return frame


# ---------------------------------------------------------------- crosswalk by hand


def test_one_to_one_lookup_sums_by_target():
    counts = _counts(["a", "b", "c"], [1.0, 2.0, 4.0])
    lookup = pd.DataFrame({"src": ["a", "b", "c", "a"], "dst": ["X", "X", "Y", "X"]})
    out = crosswalk(counts, lookup, source="src", target="dst")
    assert out.set_index("area")["value"].to_dict() == {"X": 3.0, "Y": 4.0}
    assert list(out.columns) == ["area", "sector", "period", "measure", "value", "status",
                                 "rounded_to"]  # fmt: skip
    assert out.attrs["unmatched"] == []


def test_split_codes_need_weights():
    counts = _counts(["a"], [1.0])
    lookup = pd.DataFrame({"src": ["a", "a", "b"], "dst": ["X", "Y", "Y"]})
    with pytest.raises(InputError, match="weight") as caught:
        crosswalk(counts, lookup, source="src", target="dst")
    assert caught.value.rows == ["a"]


def test_weights_split_values():
    counts = pd.concat([_counts(["a", "b"], [12.0, 10.0]), _counts(["a", "b"], [6.0, 0.0], "tv")])
    lookup = pd.DataFrame(
        {"src": ["a", "a", "a", "b"], "dst": ["X", "Y", "Z", "Z"], "w": [0.5, 0.25, 0.25, 1.0]}
    )
    out = crosswalk(counts, lookup, source="src", target="dst", weight="w")
    got = out.set_index(["area", "sector"])["value"].to_dict()
    # a's 12 film: 6 to X, 3 to Y, 3 to Z; b's 10 film all to Z; a's 6 tv: 3, 1.5, 1.5
    assert got == {
        ("X", "film"): 6.0, ("Y", "film"): 3.0, ("Z", "film"): 13.0,
        ("X", "tv"): 3.0, ("Y", "tv"): 1.5, ("Z", "tv"): 1.5,
    }  # fmt: skip


def test_weights_must_sum_to_one_unless_normalised():
    counts = _counts(["a", "b"], [8.0, 5.0])
    lookup = pd.DataFrame({"src": ["a", "a", "b"], "dst": ["X", "Y", "Y"], "w": [3, 1, 1]})
    with pytest.raises(InputError, match="normalise") as caught:
        crosswalk(counts, lookup, source="src", target="dst", weight="w")
    assert caught.value.rows == ["a"]
    out = crosswalk(counts, lookup, source="src", target="dst", weight="w", normalise=True)
    assert out.set_index("area")["value"].to_dict() == {"X": 6.0, "Y": 2.0 + 5.0}


@pytest.mark.parametrize(
    ("lookup", "message"),
    [
        (pd.DataFrame({"src": ["a", "a"], "dst": ["X", "X"], "w": [0.5, 0.5]}), "more than once"),
        (pd.DataFrame({"src": ["a", "a"], "dst": ["X", "Y"], "w": [1.5, -0.5]}), "non-negative"),
        (pd.DataFrame({"src": ["a"], "dst": ["X"], "w": ["one"]}), "non-negative"),
        (pd.DataFrame({"src": ["a"], "dst": [""], "w": [1.0]}), "blank"),
        (pd.DataFrame({"src": ["a"], "dst": ["X"], "w": [0.0]}), "all zero"),
        (pd.DataFrame({"src": ["a"], "to": ["X"], "w": [1.0]}), "lacks the columns"),
    ],
)
def test_bad_lookups(lookup, message):
    with pytest.raises(InputError, match=message):
        crosswalk(_counts(["a"], [1.0]), lookup, source="src", target="dst", weight="w")


def test_unmatched_codes_raise_or_are_reported():
    counts = _counts(["a", "b", "zz"], [1.0, 2.0, 7.0])
    lookup = pd.DataFrame({"src": ["a", "b"], "dst": ["X", "X"]})
    with pytest.raises(InputError) as caught:
        crosswalk(counts, lookup, source="src", target="dst")
    assert caught.value.rows == ["zz"]
    with pytest.warns(UserWarning, match="zz"):
        out = crosswalk(counts, lookup, source="src", target="dst", unmatched="warn")
    assert out["value"].tolist() == [3.0]
    assert out.attrs["unmatched"] == ["zz"]
    assert out.attrs["unmatched_value"] == 7.0


def test_suppressed_values_make_the_target_suppressed():
    counts = _counts(["a", "b", "c"], [4.0, np.nan, 5.0], status=["ok", "suppressed", "ok"])
    lookup = pd.DataFrame({"src": ["a", "b", "c"], "dst": ["X", "X", "Y"]})
    out = crosswalk(counts, lookup, source="src", target="dst").set_index("area")
    assert np.isnan(out.loc["X", "value"]) and out.loc["X", "status"] == "suppressed"
    assert out.loc["Y", "value"] == 5.0 and out.loc["Y", "status"] == "ok"
    lower = crosswalk(counts, lookup, source="src", target="dst", skipna=True).set_index("area")
    assert lower.loc["X", "value"] == 4.0


def test_rounded_to_keeps_the_largest_base():
    counts = pd.concat([_counts(["a"], [5.0], rounded_to=5), _counts(["b"], [1.0])])
    lookup = pd.DataFrame({"src": ["a", "b"], "dst": ["X", "X"]})
    assert crosswalk(counts, lookup, source="src", target="dst")["rounded_to"].tolist() == [5]


def test_package_name_is_callable():
    counts = _counts(["a"], [2.0])
    lookup = pd.DataFrame({"src": ["a"], "dst": ["X"]})
    assert geoclusters.crosswalk(counts, lookup, source="src", target="dst")["value"].tolist() == [
        2.0
    ]


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.integers(0, 10**7), min_size=1, max_size=12),
    shares=st.lists(st.integers(1, 97), min_size=1, max_size=5),
)
def test_totals_conserved_with_awkward_weights(values, shares):
    areas = [f"s{i}" for i in range(len(values))]
    counts = _counts(areas, [float(v) for v in values])
    total = sum(shares)
    lookup = pd.DataFrame(
        [(a, f"t{(i + j) % 7}", s / total) for i, a in enumerate(areas)
         for j, s in enumerate(shares)],
        columns=["src", "dst", "w"],
    ).groupby(["src", "dst"], as_index=False)["w"].sum()  # fmt: skip
    out = crosswalk(counts, lookup, source="src", target="dst", weight="w")
    expected = math.fsum(values)
    assert math.isclose(out["value"].sum(), expected, rel_tol=1e-12, abs_tol=1e-9)


# ---------------------------------------------------------------- areal lookup by hand


def _gdf(boxes: dict, crs=27700):
    return gpd.GeoDataFrame(geometry=list(boxes.values()), index=list(boxes), crs=crs)


TARGETS = {"T1": box(0, 0, 1, 2), "T2": box(1, 0, 3, 1), "T3": box(1, 1, 3, 3)}


def test_areal_weights_on_squares():
    sources = {"A": box(0, 0, 2, 2), "B": box(2, 0, 3, 2), "D": box(2, 2, 4, 3)}
    got = areal_lookup(_gdf(sources), _gdf(TARGETS))
    weights = {(r.source, r.target): r.weight for r in got.itertuples()}
    coverage = {(r.source, r.target): r.coverage for r in got.itertuples()}
    # A (area 4): 2 in T1, 1 in T2, 1 in T3. B (area 2): 1 in T2, 1 in T3.
    # D (area 2): only [2,3]x[2,3] lies in T3, so coverage 1/2 and weight 1.
    assert weights == pytest.approx(
        {
            ("A", "T1"): 0.5, ("A", "T2"): 0.25, ("A", "T3"): 0.25,
            ("B", "T2"): 0.5, ("B", "T3"): 0.5,
            ("D", "T3"): 1.0,
        }
    )  # fmt: skip
    assert coverage == pytest.approx({key: 0.5 if key[0] == "D" else 1.0 for key in coverage})


def test_sources_outside_every_target():
    sources = _gdf({"A": box(0, 0, 1, 1), "C": box(10, 10, 11, 11)})
    with pytest.raises(InputError) as caught:
        areal_lookup(sources, _gdf(TARGETS))
    assert caught.value.rows == ["C"]
    with pytest.warns(UserWarning, match="C"):
        got = areal_lookup(sources, _gdf(TARGETS), unmatched="warn")
    assert got.attrs["unmatched"] == ["C"]
    assert got["source"].tolist() == ["A"]


def test_slivers_below_the_threshold_are_dropped():
    targets = _gdf({"L": box(0, 0, 1, 1), "R": box(1, 0, 2, 1)})
    # 1e-7 of the source's width pokes into L
    sources = _gdf({"S": box(1 - 1e-7, 0, 2, 1)})
    got = areal_lookup(sources, targets)
    assert got["target"].tolist() == ["R"]
    assert got["weight"].tolist() == [1.0]
    assert got["coverage"].iloc[0] == pytest.approx(1 / (1 + 1e-7), rel=1e-12)
    kept = areal_lookup(sources, targets, min_share=1e-8).set_index("target")["weight"]
    assert kept.to_dict() == pytest.approx({"L": 1e-7 / (1 + 1e-7), "R": 1 / (1 + 1e-7)})


def test_areal_lookup_checks_crs_codes_and_geometry():
    sources, targets = _gdf({"A": box(0, 0, 1, 1)}), _gdf(TARGETS)
    with pytest.raises(InputError, match="geographic"):
        areal_lookup(_gdf({"A": box(0, 0, 1, 1)}, crs=4326), _gdf(TARGETS, crs=4326))
    with pytest.raises(InputError, match="no CRS"):
        areal_lookup(_gdf({"A": box(0, 0, 1, 1)}, crs=None), targets)
    with pytest.raises(InputError, match="differs"):
        areal_lookup(sources, _gdf(TARGETS, crs=3857))
    duplicated = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)] * 2, index=["A", "A"], crs=27700)
    with pytest.raises(InputError, match="duplicate"):
        areal_lookup(duplicated, targets)
    bowtie = _gdf({"B": Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])})
    with pytest.raises(InputError, match="invalid") as caught:
        areal_lookup(bowtie, targets)
    assert caught.value.rows == ["B"]


def test_areal_lookup_feeds_crosswalk():
    sources = {"A": box(0, 0, 2, 2), "B": box(2, 0, 3, 2)}
    lookup = areal_lookup(_gdf(sources), _gdf(TARGETS))
    out = crosswalk(
        _counts(["A", "B"], [100.0, 10.0]),
        lookup,
        source="source",
        target="target",
        weight="weight",
    )
    assert out.set_index("area")["value"].to_dict() == {"T1": 50.0, "T2": 30.0, "T3": 30.0}


# ---------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def ttwa_codes(ttwa_path) -> set[str]:
    return set(gpd.read_file(ttwa_path)["ttwa11cd"])


def test_lsoa_lookup_reads_despite_bom(data, ttwa_codes):
    path = data / "lookups" / "lsoa11_ttwa11_uk.csv"
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    lookup = read_lookup(path)
    assert lookup.columns.tolist() == ["LSOA11CD", "LSOA11NM", "TTWA11CD", "TTWA11NM"]
    assert len(lookup) == 42_619 and lookup["LSOA11CD"].is_unique
    assert set(lookup["TTWA11CD"]) == ttwa_codes
    assert len(ttwa_codes) == 228
    # one count per LSOA moved to TTWAs gives the number of LSOAs in each TTWA
    counts = _counts(lookup["LSOA11CD"], 1.0, sector=TOTAL)
    out = crosswalk(counts, path, source="LSOA11CD", target="TTWA11CD")
    assert out.set_index("area")["value"].to_dict() == (
        lookup["TTWA11CD"].value_counts().astype(float).to_dict()
    )
    assert out["value"].sum() == 42_619


def _codes_by_name(names: pd.Series, boundaries: gpd.GeoDataFrame) -> tuple[pd.Series, list]:
    """Local-authority names → codes; names without exactly one match are returned."""
    table = boundaries.assign(key=boundaries["name"].str.strip().str.casefold())
    unique = table.drop_duplicates("key", keep=False).set_index("key")["id"]
    codes = names.str.strip().str.casefold().map(unique)
    return codes, sorted(names[codes.isna()].unique())


def test_creative_enterprises_lad_to_ttwa_conserve_totals(data, ttwa_codes):
    lads = gpd.read_file(data / "lad" / "lad_uk_2023_05.topojson")
    raw = pd.read_csv(data / "counts" / "creative_enterprises_lad23_2010_2025.csv")
    codes, unknown_names = _codes_by_name(raw["Region"], lads)
    assert unknown_names == []
    assert codes.nunique() == 361
    counts = pd.DataFrame(
        {
            "area": codes,
            "sector": "creative",
            "period": raw["Year"].astype(str),
            "measure": "businesses",
            "value": raw["Enterprise Count"].astype(float),
            "rounded_to": 5,
        }
    )
    lookup_path = data / "lookups" / "lad23_ttwa11_weights_derived.csv"
    with pytest.raises(InputError):
        crosswalk(counts, lookup_path, source="lad23cd", target="ttwa11cd", weight="weight")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = crosswalk(counts, lookup_path, source="lad23cd", target="ttwa11cd", weight="weight",
                        unmatched="warn")  # fmt: skip
    # the lookup covers England and Wales: Scottish and Northern Irish councils are reported
    scotland_ni = sorted(c for c in lads["id"] if c[0] in "SN")
    assert len(scotland_ni) == 32 + 11
    assert out.attrs["unmatched"] == scotland_ni
    assert any("N09000001" in str(w.message) and "and 23 more" in str(w.message) for w in seen)
    assert set(out["area"]) <= ttwa_codes
    england_wales = counts["area"].str[0].isin(["E", "W"])
    by_year = out.groupby("period")["value"].sum()
    expected = counts[england_wales].groupby("period")["value"].sum()
    assert np.allclose(by_year, expected.loc[by_year.index], rtol=1e-9, atol=0)
    assert out.attrs["unmatched_value"] == counts.loc[~england_wales, "value"].sum()
    national = counts["value"].sum()
    assert math.isclose(out["value"].sum() + out.attrs["unmatched_value"], national, rel_tol=1e-9)
    # London, worked out directly from the lookup rows that send weight to it
    lookup = pd.read_csv(lookup_path)
    to_london = lookup[lookup["ttwa11cd"] == LONDON].set_index("lad23cd")["weight"]
    year = counts[counts["period"] == "2025"].set_index("area")["value"]
    london = math.fsum(year[code] * w for code, w in to_london.items())
    got = out[(out["area"] == LONDON) & (out["period"] == "2025")]["value"].item()
    assert math.isclose(got, london, rel_tol=1e-12)


@pytest.fixture(scope="module")
def lad14(data) -> gpd.GeoDataFrame:
    lads = gpd.read_file(data / "lad" / "lad_uk_2014.topojson", layer="lad")
    lads = lads.set_crs(4326).to_crs(27700).set_index("LAD13CD")
    # the TopoJSON rings self-intersect after decoding; repair keeping polygons only
    lads["geometry"] = shapely.make_valid(
        lads.geometry.array, method="structure", keep_collapsed=False
    )
    return lads


@pytest.fixture(scope="module")
def ttwas_raw(ttwa_path) -> gpd.GeoDataFrame:
    return gpd.read_file(ttwa_path).set_index("ttwa11cd")


@pytest.fixture(scope="module")
def lad14_areal(lad14, ttwas_raw) -> pd.DataFrame:
    return areal_lookup(lad14, ttwas_raw)


def test_lad14_to_ttwa_areal_lookup_and_business_totals(data, lad14, ttwas_raw, lad14_areal):
    ttwas = ttwas_raw
    lookup = lad14_areal
    assert lookup.attrs["unmatched"] == []
    sums = lookup.groupby("source")["weight"].sum()
    assert len(sums) == 380
    assert np.allclose(sums, 1.0, rtol=0, atol=1e-12)
    assert set(lookup["target"]) <= set(ttwas.index)
    assert lookup["coverage"].between(0.5, 1 + 1e-6).all()
    # inner London boroughs sit inside the London TTWA
    for borough in ["E09000033", "E09000007", "E09000001"]:  # Westminster, Camden, City
        row = lookup[(lookup["source"] == borough) & (lookup["target"] == LONDON)]
        assert row["weight"].item() > 0.99

    raw = pd.read_csv(data / "counts" / "business_counts_lad14_by_segment_2015.csv")
    codes = raw.iloc[:, 0]
    assert sorted(set(codes) ^ set(lad14.index)) == []
    segments = raw.columns[2:]
    counts = pd.DataFrame(
        {
            "area": codes,
            "sector": TOTAL,
            "period": "2015",
            "measure": "businesses",
            "value": raw[segments].sum(axis=1).astype(float),
            "rounded_to": 5,
        }
    )
    national = float(raw[segments].to_numpy().sum())
    assert round(national, -4) == 2_340_000
    out = crosswalk(counts, lookup, source="source", target="target", weight="weight")
    assert out.attrs["unmatched"] == []
    assert math.isclose(out["value"].sum(), national, rel_tol=1e-9)
    assert set(out["area"]) <= set(ttwas.index)


# ---------------------------------------------------------------- population proxy


@pytest.fixture(scope="module")
def lsoa_lookup(data) -> pd.DataFrame:
    return read_lookup(data / "lookups" / "lsoa11_ttwa11_uk.csv")


@pytest.fixture(scope="module")
def lad14_population(lsoa_lookup, lad14, lad14_areal) -> pd.DataFrame:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        lookup = population_lookup(lsoa_lookup, source_names=lad14["LAD13NM"], fallback=lad14_areal)
    lookup.attrs["warnings"] = [str(w.message) for w in seen]
    return lookup


def test_population_weights_sum_to_one_and_say_how_they_were_made(
    lad14_population, lad14, lsoa_lookup
):
    lookup = lad14_population
    sums = lookup.groupby("source")["weight"].sum()
    assert sorted(sums.index) == sorted(lad14.index)  # every authority, none dropped
    assert np.allclose(sums, 1.0, rtol=0, atol=1e-12)
    proxy = lookup["weighting"] == POPULATION_PROXY
    # England and Wales by LSOA names; Scotland's data zones carry no council name, so its
    # 32 councils fall back to area weights, said in the weighting column and a warning
    assert set(lookup.loc[proxy, "source"].str[0]) == {"E", "W"}
    fallback = sorted(lookup.loc[~proxy, "source"].unique())
    assert fallback == lookup.attrs["fallback"]
    assert len(fallback) == 32 and all(code.startswith("S") for code in fallback)
    assert set(lookup.loc[~proxy, "weighting"]) == {"area"}
    assert lookup.loc[~proxy, "lsoas"].isna().all()
    assert any("32 local authorities match no LSOA name" in m for m in lookup.attrs["warnings"])
    # a whole authority's LSOAs: Tunbridge Wells district lies in its TTWA
    tunbridge = lookup[lookup["source"] == "E07000116"]
    its_lsoas = lsoa_lookup["LSOA11NM"].str.fullmatch(r"Tunbridge Wells \d{3}[A-Z]").sum()
    assert its_lsoas > 50
    assert tunbridge["target"].tolist() == ["E30000281"]
    assert tunbridge["lsoas"].item() == its_lsoas


def test_population_weights_follow_people_not_land(lad14_population, lad14_areal):
    """Wyre: Fleetwood and Thornton-Cleveleys (Blackpool TTWA) hold most of its people,
    the rural Over Wyre and Garstang (Preston TTWA) most of its land."""
    wyre, blackpool, preston = "E07000128", "E30000171", "E30000255"

    def weight(lookup, target):
        return lookup.set_index(["source", "target"])["weight"].get((wyre, target), 0.0)

    assert weight(lad14_population, blackpool) > 0.8 > 0.3 > weight(lad14_areal, blackpool)
    assert weight(lad14_population, preston) < 0.2 < 0.7 < weight(lad14_areal, preston)
    # across Great Britain most split authorities move more than a rounding error
    both = lad14_population.merge(
        lad14_areal, on=["source", "target"], how="outer", suffixes=("_pop", "_area")
    ).fillna({"weight_pop": 0.0, "weight_area": 0.0})
    shift = (both["weight_pop"] - both["weight_area"]).abs().groupby(both["source"]).max()
    assert (shift > 0.1).sum() >= 50
    # where an authority lies in one TTWA both weightings agree
    whole = lad14_population.groupby("source")["target"].transform("size") == 1
    agree = lad14_population[whole & (lad14_population["weighting"] == POPULATION_PROXY)]
    assert (agree["weight"] == 1.0).all()


def test_population_weights_conserve_totals_through_crosswalk(data, lad14_population):
    raw = pd.read_csv(data / "counts" / "business_counts_lad14_by_segment_2015.csv")
    segments = raw.columns[2:]
    counts = pd.DataFrame(
        {
            "area": raw.iloc[:, 0],
            "sector": TOTAL,
            "period": "2015",
            "measure": "businesses",
            "value": raw[segments].sum(axis=1).astype(float),
        }
    )
    out = crosswalk(counts, lad14_population, source="source", target="target", weight="weight")
    assert out.attrs["unmatched"] == []
    assert math.isclose(out["value"].sum(), counts["value"].sum(), rel_tol=1e-12)
    # the output says which weighting moved the counts
    assert out.attrs["crosswalk"]["weighting"] == f"area; {POPULATION_PROXY}"


def test_population_lookup_names_unmatched_authorities(lsoa_lookup):
    names = {"E07000116": "Tunbridge Wells", "E06000058": "Bournemouth, Christchurch and Poole"}
    with pytest.raises(CodesError) as caught:
        population_lookup(lsoa_lookup, source_names=names)
    assert caught.value.rows == ["E06000058"]
    assert "fallback=areal_lookup" in str(caught.value)
    with pytest.warns(UserWarning, match="E06000058"):
        lookup = population_lookup(lsoa_lookup, source_names=names, unmatched="warn")
    assert lookup["source"].unique().tolist() == ["E07000116"]
    assert lookup.attrs["unmatched"] == ["E06000058"]


def test_population_lookup_matches_ons_name_forms(lsoa_lookup):
    names = {"E06000023": "Bristol, City of", "W06000014": "Vale of Glamorgan",
             "E06000010": "Kingston upon Hull, City of"}  # fmt: skip
    lookup = population_lookup(lsoa_lookup, source_names=names)
    assert sorted(lookup["source"].unique()) == sorted(names)
    assert (lookup["weighting"] == POPULATION_PROXY).all()


# the authorities whose LSOAs are (partly) named otherwise: the 2009 unitary authorities, by
# their former districts, and ONS's other spellings
RENAMED = {
    "E06000052": ("Cornwall", ["Caradon", "Carrick", "Kerrier", "North Cornwall", "Penwith",
                               "Restormel"]),
    "E06000047": ("County Durham", ["Chester-le-Street", "Derwentside", "Durham", "Easington",
                                    "Sedgefield", "Teesdale", "Wear Valley"]),
    "E06000057": ("Northumberland", ["Alnwick", "Berwick-upon-Tweed", "Blyth Valley",
                                     "Castle Morpeth", "Tynedale", "Wansbeck"]),
    "E06000051": ("Shropshire", ["Bridgnorth", "North Shropshire", "Oswestry",
                                 "Shrewsbury and Atcham", "South Shropshire"]),
    "E06000054": ("Wiltshire", ["Kennet", "North Wiltshire", "Salisbury", "West Wiltshire"]),
    "E06000056": ("Central Bedfordshire", ["Mid Bedfordshire", "South Bedfordshire"]),
    "E06000049": ("Cheshire East", ["Congleton", "Crewe and Nantwich", "Macclesfield"]),
    "E06000050": ("Cheshire West and Chester", ["Chester", "Ellesmere Port & Neston",
                                                "Vale Royal"]),
    "E06000023": ("Bristol, City of", ["Bristol"]),
    "E06000010": ("Kingston upon Hull, City of", ["Kingston upon Hull"]),
    "E06000019": ("Herefordshire, County of", ["Herefordshire"]),
    "W06000014": ("Vale of Glamorgan", ["The Vale of Glamorgan"]),
    "W06000016": ("Rhondda Cynon Taf", ["Rhondda Cynon Taff", "Rhondda Cynon, Taff",
                                        "Rhondda, Cynon Taff", "Rhondda Cynon,Taff"]),
}  # fmt: skip


def _lsoas_named(lsoa_lookup, prefixes) -> pd.DataFrame:
    """The LSOAs whose name is one of ``prefixes`` and a number, counted from the lookup."""
    prefix = lsoa_lookup["LSOA11NM"].str.replace(r"\s+\d{3}[A-Z]$", "", regex=True)
    return lsoa_lookup[prefix.isin(prefixes)]


def test_unitary_authorities_and_other_spellings_get_all_their_lsoas(lad14_population, lad14,
                                                                     lsoa_lookup):  # fmt: skip
    lookup = lad14_population
    assert lookup.attrs["few"] == {}
    lsoas = lookup.groupby("source")["lsoas"].sum()
    for code, (name, others) in RENAMED.items():
        assert lad14.loc[code, "LAD13NM"] == name
        own = _lsoas_named(lsoa_lookup, [name.removesuffix(", City of")
                                         .removesuffix(", County of")])  # fmt: skip
        expected = _lsoas_named(lsoa_lookup, [*others, *own["LSOA11NM"].str[:-5].unique()])
        # an authority of 150,000 to 550,000 people holds 75 to 350 LSOAs of ~1,500
        assert 75 <= lsoas[code] == len(expected) <= 350, name
        weights = lookup[lookup["source"] == code].set_index("target")["weight"]
        shares = expected["TTWA11CD"].value_counts(normalize=True)
        assert np.allclose(weights.sort_index(), shares.sort_index(), rtol=0, atol=1e-12)
    # every named LSOA of England and Wales belongs to exactly one 2014 authority
    england_wales = lsoa_lookup["LSOA11CD"].str[0].isin(["E", "W"])
    proxy = lookup["weighting"] == POPULATION_PROXY
    assert lookup.loc[proxy, "lsoas"].sum() == england_wales.sum() == 34_753
    assert lookup.attrs["lsoa_names"]["E06000052"] == ["Cornwall", *RENAMED["E06000052"][1]]


def test_cornwall_weights_fall_on_cornish_ttwas(lad14_population, lsoa_lookup):
    names = dict(zip(lsoa_lookup["TTWA11CD"], lsoa_lookup["TTWA11NM"], strict=False))
    cornwall = lad14_population[lad14_population["source"] == "E06000052"]
    weights = cornwall.set_index(cornwall["target"].map(names))["weight"]
    assert cornwall["lsoas"].sum() == 326
    cornish = ["St Austell and Newquay", "Redruth and Truro", "Falmouth", "Liskeard", "Penzance",
               "Wadebridge", "Launceston", "Bude"]  # fmt: skip
    assert weights[cornish].sum() > 0.9
    assert weights.idxmax() in ("St Austell and Newquay", "Redruth and Truro")
    # Plymouth's TTWA reaches over the Tamar into south-east Cornwall (Saltash, Torpoint)
    assert 0.02 < weights["Plymouth"] < 0.1
    # without the former districts the four LSOAs named "Cornwall" in 2011 give 3/4
    # Wadebridge and 1/4 Plymouth: refused by default, kept with a warning on request
    with pytest.raises(InputError, match="too few LSOAs") as caught:
        population_lookup(lsoa_lookup, source_names={"E06000052": "Cornwall"},
                          aliases={"Cornwall": []})  # fmt: skip
    assert caught.value.rows == ["E06000052"]
    assert "at least 34" in str(caught.value) and "aliases=" in str(caught.value)
    with pytest.warns(UserWarning, match="Cornwall"):
        stray = population_lookup(lsoa_lookup, source_names={"E06000052": "Cornwall"},
                                  aliases={"Cornwall": []}, few="warn")  # fmt: skip
    assert stray.set_index(stray["target"].map(names))["weight"].to_dict() == {
        "Plymouth": 0.25, "Wadebridge": 0.75}  # fmt: skip
    assert stray.attrs["few"] == {"E06000052": 4}


def test_lad23_names_match_or_fall_back_without_too_few(lsoa_lookup, data):
    lads = gpd.read_file(data / "lad" / "lad_uk_2023_05.topojson").set_index("id")
    with pytest.warns(UserWarning, match="matches no LSOA name"):
        lookup = population_lookup(lsoa_lookup, source_names=lads["name"], unmatched="warn")
    assert lookup.attrs["few"] == {}
    # the authorities created from 2019 on carry no LSOA's name: to be weighted by area
    new = sorted(lads.loc[[c for c in lookup.attrs["unmatched"] if c[0] in "EW"], "name"])
    assert new == sorted([
        "Bournemouth, Christchurch and Poole", "Buckinghamshire", "Cumberland", "Dorset",
        "East Suffolk", "Folkestone and Hythe", "North Northamptonshire", "North Yorkshire",
        "Somerset", "West Northamptonshire", "West Suffolk", "Westmorland and Furness",
    ])  # fmt: skip
    lsoas = lookup.groupby("source")["lsoas"].sum()
    assert lsoas["E06000052"] == 326 and lsoas["W06000016"] == 154
    assert np.allclose(lookup.groupby("source")["weight"].sum(), 1.0, rtol=0, atol=1e-12)


# a county whose LSOAs kept its former districts' names, beside one that did not
_MERGED = pd.DataFrame({
    "LSOA11CD": ["E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8"],
    "LSOA11NM": ["Oldshire 001A", "Oldshire 001B", "Oldshire 001C", "Oldshire 002A",
                 "Eastvale 001A", "Eastvale 001B", "Newshire 003C", "Hastings 001A"],
    "TTWA11CD": ["T1", "T1", "T1", "T1", "T2", "T2", "T2", "T3"]})  # fmt: skip


def test_an_authority_matching_one_lsoa_is_refused_named_and_can_fall_back():
    names = {"E06": "Newshire", "E07": "Hastings"}
    with pytest.raises(InputError, match="too few LSOAs") as caught:
        population_lookup(_MERGED, source_names=names)
    assert caught.value.rows == ["E06"]
    assert "Newshire (E06): 1 LSOAs named 'Newshire', whose MSOA numbers imply at least 3" in (
        str(caught.value)
    )
    assert "few='fallback'" in caught.value.fix
    with pytest.warns(UserWarning, match="Newshire"):
        kept = population_lookup(_MERGED, source_names=names, few="warn")
    assert kept.set_index("source")["target"].to_dict() == {"E06": "T2", "E07": "T3"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet = population_lookup(_MERGED, source_names=names, few="ignore")
    assert quiet.attrs["few"] == {"E06": 1}
    area = pd.DataFrame({"source": ["E06", "E06", "E07"], "target": ["T1", "T2", "T3"],
                         "weight": [0.8, 0.2, 1.0], "weighting": "area"})  # fmt: skip
    with pytest.warns(UserWarning, match="weighted by the fallback lookup instead: E06"):
        swapped = population_lookup(_MERGED, source_names=names, few="fallback", fallback=area)
    rows = swapped.set_index(["source", "target"])
    assert rows["weight"].to_dict() == {("E06", "T1"): 0.8, ("E06", "T2"): 0.2, ("E07", "T3"): 1.0}
    assert rows.loc["E06", "weighting"].tolist() == ["area", "area"]
    assert swapped.attrs["fallback"] == ["E06"] and swapped.attrs["few"] == {"E06": 1}
    with pytest.raises(InputError, match="needs a fallback"):
        population_lookup(_MERGED, source_names=names, few="fallback")
    # a fallback that lacks the authority leaves it without weights: said, never dropped
    with pytest.raises(CodesError, match="no fallback row") as caught:
        population_lookup(_MERGED, source_names=names, few="fallback",
                          fallback=area[area["source"] != "E06"])  # fmt: skip
    assert caught.value.rows == ["E06"]
    with pytest.raises(InputError, match="not one of"):
        population_lookup(_MERGED, source_names=names, few="drop")


def test_aliases_add_lsoa_names_to_an_authority():
    names = {"E06": "Newshire", "E07": "Hastings"}
    lookup = population_lookup(_MERGED, source_names=names,
                               aliases={"Newshire": ["Oldshire", "Eastvale"]})  # fmt: skip
    weights = lookup.set_index(["source", "target"])["weight"].to_dict()
    assert weights == {("E06", "T1"): 4 / 7, ("E06", "T2"): 3 / 7, ("E07", "T3"): 1.0}
    assert lookup.attrs["lsoa_names"]["E06"] == ["Newshire", "Oldshire", "Eastvale"]
    assert lookup.attrs["few"] == {}
    # names are matched as authority names are (case, punctuation)
    same = population_lookup(_MERGED, source_names=names,
                             aliases={"NEWSHIRE": ["oldshire", "Eastvale."]})  # fmt: skip
    assert same.set_index(["source", "target"])["weight"].to_dict() == weights
    # without source names the former districts are folded into the authority
    by_name = population_lookup(_MERGED, aliases={"Newshire": ["Oldshire", "Eastvale"]})
    assert sorted(by_name["source"].unique()) == ["Hastings", "Newshire"]
    # an authority given here replaces its built-in entry
    real = population_lookup(
        pd.DataFrame({"LSOA11CD": ["E1", "E2"], "LSOA11NM": ["Caradon 001A", "Cornwall 001E"],
                      "TTWA11CD": ["T1", "T2"]}),
        source_names={"E06000052": "Cornwall"},
    )  # fmt: skip
    assert real["lsoas"].tolist() == [1.0, 1.0]
    only_own = population_lookup(
        pd.DataFrame({"LSOA11CD": ["E1", "E2"], "LSOA11NM": ["Caradon 001A", "Cornwall 001E"],
                      "TTWA11CD": ["T1", "T2"]}),
        source_names={"E06000052": "Cornwall"}, aliases={"Cornwall": []},
    )  # fmt: skip
    assert only_own["target"].tolist() == ["T2"]
    for bad in ({"Newshire": "Oldshire"}, ["Oldshire"]):
        with pytest.raises(InputError, match="aliases"):
            population_lookup(_MERGED, source_names=names, aliases=bad)


def test_built_in_aliases_are_the_shipped_table():
    from geoclusters.crosswalks import LSOA_ALIASES

    assert LSOA_ALIASES["Cornwall"] == tuple(RENAMED["E06000052"][1])
    assert {name: list(prefixes) for name, prefixes in LSOA_ALIASES.items()} == dict(
        RENAMED.values()
    )
    with pytest.raises(TypeError):
        LSOA_ALIASES["Cornwall"] = ()  # type: ignore[index]


# ---------------------------------------------------------------- API shape


def test_positional_options_still_work_with_a_deprecation_warning():
    counts = _counts(["a", "b"], [1.0, 2.0])
    lookup = pd.DataFrame({"src": ["a", "b"], "dst": ["X", "X"]})
    expected = crosswalk(counts, lookup, source="src", target="dst")
    with pytest.warns(DeprecationWarning, match=r"source=\.\.\., target=\.\.\. by keyword"):
        old = crosswalk(counts, lookup, "src", "dst")
    pd.testing.assert_frame_equal(old, expected)
    with pytest.warns(DeprecationWarning, match="removed in 0.3"):
        got = areal_lookup(_gdf({"A": box(0, 0, 1, 1)}), _gdf(TARGETS), 1e-6)
    assert got["weight"].sum() == pytest.approx(1.0)
    with pytest.raises(TypeError, match="multiple values"):
        crosswalk(counts, lookup, "src", source="src", target="dst")


def test_report_spelling_of_unmatched_is_deprecated():
    counts = _counts(["a", "zz"], [1.0, 7.0])
    lookup = pd.DataFrame({"src": ["a"], "dst": ["X"]})
    with pytest.warns(DeprecationWarning, match="unmatched='warn'"), pytest.warns(UserWarning):
        out = crosswalk(counts, lookup, source="src", target="dst", unmatched="report")
    assert out.attrs["unmatched"] == ["zz"]
    with pytest.raises(InputError, match="not one of"):
        crosswalk(counts, lookup, source="src", target="dst", unmatched="ignore")


def test_read_lookup_pandas_options_are_deprecated(tmp_path):
    path = tmp_path / "lookup.csv"
    path.write_text("src|dst\na|X\n", encoding="utf-8")
    assert read_lookup(path).columns.tolist() == ["src", "dst"]  # pipe found by itself
    with pytest.warns(DeprecationWarning, match="sep=, encoding="):
        table = read_lookup(path, delimiter="|")
    assert table.to_dict("records") == [{"src": "a", "dst": "X"}]


def test_population_lookup_from_an_authority_column_and_its_checks():
    # a data zone -> council lookup: names carry no council, a column does
    zones = pd.DataFrame({
        "DZ": ["S01", "S02", "S03", "S04"],
        "council": ["S12000013", "S12000013", "S12000013", "S12000017"],
        "TTWA": ["S22000073", "S22000073", "S22000060", "S22000060"]})  # fmt: skip
    lookup = population_lookup(zones, lsoa="DZ", authority="council", target="TTWA")
    weights = lookup.set_index(["source", "target"])["weight"].to_dict()
    assert weights == {("S12000013", "S22000060"): 1 / 3, ("S12000013", "S22000073"): 2 / 3,
                       ("S12000017", "S22000060"): 1.0}  # fmt: skip
    assert (lookup["weighting"] == POPULATION_PROXY).all()
    with pytest.raises(InputError, match="no LSOA name"):
        population_lookup(zones.rename(columns={"council": "name"}), lsoa="DZ",
                          lsoa_name="name", target="TTWA")  # fmt: skip
    twice = pd.concat([zones, zones.iloc[[0]].assign(TTWA="S22000099")])
    with pytest.raises(CodesError, match="more than one target") as caught:
        population_lookup(twice, lsoa="DZ", authority="council", target="TTWA")
    assert caught.value.rows == ["S01"]
