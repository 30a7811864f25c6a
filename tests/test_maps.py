"""Maps: typology, LISA, Moran scatterplot (matplotlib) and the interactive folium map.

The inputs are a hand-made 4 × 4 grid of 1 km squares with known cluster types
and one 3-square conurbation, so every expected colour, count and position can
be read off the grid below without running the code under test.
"""

from __future__ import annotations

import json
import re

import _grid
import esda
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from _grid import CON_NAME, CONURBATION, ORIGIN, TYPES
from libpysal.graph import Graph
from libpysal.weights import Queen
from matplotlib.colors import to_rgba
from pyproj import Transformer
from shapely.geometry import Point, box

from geoclusters import _offline, maps
from geoclusters.errors import InputError

LISA = [
    ["HH", "HH", "ns", "LH"],
    ["HH", "ns", "ns", "LL"],
    ["HL", "ns", None, "LL"],
    ["ns", "ns", "ns", "LL"],
]


LISA_FLAT = [value for row in LISA for value in row]
SERVICES = {
    "count": [np.nan] + [2500.0 + i for i in range(15)],
    "lq": [np.nan] + [1.0] * 15,
    "lq_change": [np.nan] + [0.0] * 15,
}


def grid_areas(synthetic: bool = True) -> gpd.GeoDataFrame:
    return _grid.grid_areas(LISA_FLAT, synthetic=synthetic)


def grid_metrics() -> pd.DataFrame:
    return _grid.grid_metrics({("employment", "services"): SERVICES})


def lq(measure: str, group: str, areas) -> pd.Series:
    """One group's LQ on the areas, from the long metrics, keeping the areas' synthetic mark."""
    rows = grid_metrics()
    rows = rows[(rows["measure"] == measure) & (rows["group"] == group) & (rows["metric"] == "lq")]
    values = rows.set_index("area")["value"].reindex(areas.index)
    values.attrs = dict(areas.attrs)
    return values


def grid_conurbations(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    polygon = areas.loc[CONURBATION].geometry.union_all()
    return gpd.GeoDataFrame(
        {
            "name": [CON_NAME],
            "members": [";".join(CONURBATION)],
            "n_members": [3],
            "sectors": ["businesses:content"],
            "rule": ["touching clusters sharing a sector group"],
        },
        geometry=[polygon],
        crs=areas.crs,
    )


def collection(fig, gid):
    found = [c for ax in fig.axes for c in ax.collections if c.get_gid() == gid]
    assert len(found) == 1, f"expected one collection with gid {gid!r}, found {len(found)}"
    return found[0]


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


# --------------------------------------------------------------------------- typology


def test_typology_colours_legend_and_outline():
    areas = grid_areas()
    fig = maps.typology_map(areas, grid_conurbations(areas))
    ax = fig.axes[0]
    patches = collection(fig, "areas")
    faces = patches.get_facecolors()
    assert len(patches.get_paths()) == 16
    assert len(faces) == 16

    # the four types get four distinct colours; "none" is a light grey
    by_type = {}
    for code, face in zip(areas.index, faces, strict=True):
        r, c = int(code[1]), int(code[2])
        by_type.setdefault(TYPES[r][c], set()).add(tuple(np.round(face, 6)))
    assert all(len(colours) == 1 for colours in by_type.values())
    distinct = {next(iter(v)) for v in by_type.values()}
    assert len(distinct) == 4
    grey = np.array(next(iter(by_type["none"])))
    assert np.ptp(grey[:3]) < 0.02 and grey[:3].min() > 0.8
    # known cells map back to their category through the published palette
    palette = {tuple(np.round(to_rgba(v), 6)): k for k, v in maps.TYPE_COLOURS.items()}
    for code, expected in [
        ("G00", "both"),
        ("G03", "high growth"),
        ("G20", "high concentration"),
        ("G22", "none"),
    ]:
        face = tuple(np.round(faces[areas.index.get_loc(code)], 6))
        assert palette[face] == expected

    assert legend_texts(ax) == [
        "high concentration (2)",
        "high growth (2)",
        "both (4)",
        "none (8)",
        "conurbation (1)",
    ]
    outline = collection(fig, "conurbations")
    assert outline.get_linewidths()[0] >= 2
    assert max(to_rgba(outline.get_edgecolors()[0])[:3]) < 0.3  # dark

    # the label sits on the conurbation (offset 0: nothing else to avoid)
    labels = [t for t in ax.texts if CON_NAME.split(" – ")[0] in t.get_text()]
    assert len(labels) == 1
    x, y = labels[0].xy
    assert areas.loc[CONURBATION].geometry.union_all().contains(Point(x, y))
    assert "SYNTHETIC DEMO DATA" in ax.get_title()
    assert "North up" in " ".join(t.get_text() for t in ax.texts)


def test_typology_without_synthetic_mark_or_conurbations():
    areas = grid_areas(synthetic=False)
    empty = grid_conurbations(areas).iloc[0:0]
    fig = maps.typology_map(areas, empty, title="Kent")
    ax = fig.axes[0]
    assert ax.get_title() == "Kent"
    assert len(legend_texts(ax)) == 4
    assert not [c for c in ax.collections if c.get_gid() == "conurbations"]


def test_typology_extent_by_codes_and_bbox():
    areas = grid_areas()
    fig = maps.typology_map(areas, grid_conurbations(areas), extent=["G00", "G11"])
    ax = fig.axes[0]
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    # two squares wide plus 5 % padding on each side, not the whole 4 km grid
    assert x0 == pytest.approx(ORIGIN[0] - 100) and x1 == pytest.approx(ORIGIN[0] + 2100)
    assert y0 == pytest.approx(ORIGIN[1] - 100) and y1 == pytest.approx(ORIGIN[1] + 2100)

    bbox = (ORIGIN[0] + 2000, ORIGIN[1] + 2000, ORIGIN[0] + 4000, ORIGIN[1] + 4000)
    fig = maps.typology_map(areas, grid_conurbations(areas), extent=bbox)
    ax = fig.axes[0]
    assert ax.get_xlim() == pytest.approx((bbox[0], bbox[2]))
    # the conurbation lies outside that box, so it is not labelled
    assert not [t for t in ax.texts if "Area 00" in t.get_text()]

    with pytest.raises(InputError) as err:
        maps.typology_map(areas, extent=["G00", "NOPE"])
    assert err.value.rows == ["NOPE"]


def test_typology_labels_do_not_overlap():
    areas = grid_areas()
    # three one-square conurbations side by side, names far wider than a square
    codes = ["G10", "G11", "G12"]
    conurbations = gpd.GeoDataFrame(
        {"name": [f"A very long conurbation name number {i}" for i in range(3)]},
        geometry=list(areas.loc[codes].geometry),
        crs=areas.crs,
    )
    fig = maps.typology_map(areas, conurbations)
    ax = fig.axes[0]
    fig.draw_without_rendering()
    labels = [t for t in ax.texts if "number" in t.get_text()]
    assert len(labels) == 3
    boxes = [t.get_window_extent() for t in labels]
    for i in range(3):
        for j in range(i + 1, 3):
            assert not boxes[i].overlaps(boxes[j])


def test_typology_rejects_unknown_types():
    areas = grid_areas()
    areas.loc["G12", "cluster_type"] = "very high"
    with pytest.raises(InputError) as err:
        maps.typology_map(areas)
    assert err.value.rows == ["G12: 'very high'"]


def test_typology_on_real_ttwas(ttwa_path):
    ttwa = gpd.read_file(ttwa_path).set_index("ttwa11cd").rename(columns={"ttwa11nm": "name"})
    by_name = pd.Series(ttwa.index, index=ttwa["name"])
    members = ["Tunbridge Wells", "Hastings", "Eastbourne", "Brighton"]
    codes = by_name[members].tolist()
    ttwa["cluster_type"] = "none"
    ttwa.loc[codes, "cluster_type"] = "both"
    ttwa.loc[by_name["Medway"], "cluster_type"] = "high growth"
    ttwa.loc[by_name["Canterbury"], "cluster_type"] = "high concentration"
    conurbation = gpd.GeoDataFrame(
        {"name": [" – ".join(members)]},
        geometry=[ttwa.loc[codes].geometry.union_all()],
        crs=ttwa.crs,
    )
    fig = maps.typology_map(ttwa, conurbation, extent=[*codes, by_name["Canterbury"]])
    patches = collection(fig, "areas")
    # one (compound) path and one face colour per TTWA, multi-part islands included
    assert int(ttwa.geometry.count_geometries().sum()) > len(ttwa)
    assert len(patches.get_paths()) == len(ttwa)
    faces = patches.get_facecolors()
    for name, kind in [("Tunbridge Wells", "both"), ("Medway", "high growth"), ("Leeds", "none")]:
        face = faces[ttwa.index.get_loc(by_name[name])]
        assert tuple(face) == pytest.approx(to_rgba(maps.TYPE_COLOURS[kind]))
    assert legend_texts(fig.axes[0])[:4] == [
        "high concentration (1)",
        "high growth (1)",
        "both (4)",
        "none (222)",
    ]
    label = [t for t in fig.axes[0].texts if "Tunbridge Wells" in t.get_text()]
    assert len(label) == 1
    assert conurbation.geometry[0].contains(Point(label[0].xy))


# --------------------------------------------------------------------------- LISA


def test_lisa_map_uses_geoda_colours_and_counts():
    areas = grid_areas()
    fig = maps.lisa_map(areas, "lisa_businesses_content")
    faces = collection(fig, "areas").get_facecolors()
    geoda = {"HH": "#ff0000", "LL": "#0000ff", "LH": "#a7adf9", "HL": "#f4ada8", "ns": "#eeeeee"}
    for code, label in [("G00", "HH"), ("G13", "LL"), ("G03", "LH"), ("G20", "HL"), ("G12", "ns")]:
        assert tuple(faces[areas.index.get_loc(code)]) == pytest.approx(to_rgba(geoda[label]))
    # the missing label is drawn white as "no data"
    assert tuple(faces[areas.index.get_loc("G22")]) == pytest.approx(to_rgba("white"))
    assert legend_texts(fig.axes[0]) == [
        "not significant (7)",
        "High-High (3)",
        "Low-Low (3)",
        "Low-High (1)",
        "High-Low (1)",
        "no data (1)",
    ]
    assert "SYNTHETIC DEMO DATA" in fig.axes[0].get_title()
    # the default title names the column as it is (no name is split apart)
    assert "lisa_businesses_content" in fig.axes[0].get_title()
    titled = maps.lisa_map(areas, "lisa_businesses_content", title="LISA: businesses:content")
    assert "businesses:content" in titled.axes[0].get_title()
    assert "SYNTHETIC DEMO DATA" in titled.axes[0].get_title()


def test_lisa_map_rejects_unknown_labels():
    areas = grid_areas()
    areas.loc["G01", "lisa_businesses_content"] = "hot"
    with pytest.raises(InputError) as err:
        maps.lisa_map(areas, "lisa_businesses_content")
    assert err.value.rows == ["G01: 'hot'"]


# --------------------------------------------------------------------------- Moran


def slope_of(fig) -> float:
    lines = [ln for ln in fig.axes[0].lines if ln.get_gid() == "moran_slope"]
    assert len(lines) == 1
    x, y = lines[0].get_xdata(), lines[0].get_ydata()
    return float((y[1] - y[0]) / (x[1] - x[0]))


@pytest.mark.parametrize("with_island", [False, True])
def test_moran_slope_equals_esda(with_island):
    areas = grid_areas()
    if with_island:
        island = gpd.GeoDataFrame(
            {"name": ["Island"]},
            geometry=[box(ORIGIN[0] + 9000, ORIGIN[1], ORIGIN[0] + 10000, ORIGIN[1] + 1000)],
            crs=areas.crs,
            index=pd.Index(["ISL"], name="area"),
        )
        areas = pd.concat([areas, island])
    rng = np.random.default_rng(7)
    values = pd.Series(rng.gamma(2.0, 1.5, len(areas)), index=areas.index, name="lq")
    graph = Graph.build_contiguity(areas, rook=False)
    fig = maps.moran_scatterplot(values, graph, labels={"G00": "Area 00"})

    # reference: esda on a libpysal W built independently from the same polygons
    w = Queen.from_dataframe(areas, use_index=True, silence_warnings=True)
    reference = esda.Moran(values.loc[w.id_order].to_numpy(), w, transformation="r").I
    assert slope_of(fig) == pytest.approx(reference, abs=1e-10)
    assert f"{reference:.3f}" in " ".join(ln.get_label() for ln in fig.axes[0].lines)

    # the points are (z, W z) with the population standard deviation and row weights
    y = values.loc[w.id_order].to_numpy()
    z = (y - y.mean()) / y.std()
    w.transform = "r"
    lag = w.full()[0] @ z
    points = np.vstack([c.get_offsets() for c in fig.axes[0].collections])
    got = sorted((round(px, 9), round(py, 9)) for px, py in points)
    want = sorted((round(a, 9), round(b, 9)) for a, b in zip(z, lag, strict=True))
    assert got == want
    assert [t.get_text() for t in fig.axes[0].texts if t.get_text() == "Area 00"] == ["Area 00"]
    assert "SYNTHETIC DEMO DATA" not in fig.axes[0].get_title()  # a plain Series carries no mark


def test_moran_scatterplot_bad_input():
    areas = grid_areas()
    graph = Graph.build_contiguity(areas, rook=False)
    values = lq("businesses", "content", areas)
    with pytest.raises(InputError) as err:
        maps.moran_scatterplot(values.drop("G33"), graph)
    assert err.value.rows == ["G33: no value"]
    with pytest.raises(InputError) as err:
        maps.moran_scatterplot(lq("employment", "services", areas), graph)
    assert err.value.rows == ["G00"]
    with pytest.raises(InputError):
        maps.moran_scatterplot(values * 0 + 1, graph)
    with pytest.raises(InputError):
        maps.moran_scatterplot(values, graph, labels=["XX"])
    # a column keeps the frame's synthetic mark, so its title says so
    assert "SYNTHETIC" in maps.moran_scatterplot(values, graph).axes[0].get_title()


# --------------------------------------------------------------------------- interactive


def geojson_layers(html: str) -> list[dict]:
    blobs = re.findall(r"_add\((\{.*?\})\);", html)
    return [json.loads(blob) for blob in blobs]


def test_interactive_map_features_and_popups(tmp_path):
    areas = grid_areas()
    path = tmp_path / "map.html"
    fmap = maps.interactive_map(
        areas,
        grid_conurbations(areas),
        metrics=grid_metrics(),
        lisa=_grid.grid_lisa(LISA_FLAT),
        path=path,
    )
    html = path.read_text(encoding="utf-8")
    assert type(fmap).__name__ == "Map"

    layers = geojson_layers(html)
    assert len(layers) == 2
    areas_layer, con_layer = layers
    assert areas_layer["type"] == "FeatureCollection"
    features = areas_layer["features"]
    assert len(features) == 16
    codes = [f["properties"]["code"] for f in features]
    assert sorted(codes) == sorted(areas.index)
    for code in areas.index:
        assert code in html
    by_code = {f["properties"]["code"]: f for f in features}
    g00 = by_code["G00"]["properties"]
    assert g00["name"] == "Area 00"
    assert g00["type"] == "both"
    assert g00["conurbation"] == CON_NAME
    assert g00["businesses:content count"] == "100"
    assert g00["businesses:content LQ"] == "0.50"
    assert g00["businesses:content LQ change"] == "-8.0%"
    assert g00["employment:services count"] == "–"  # NaN shown as a dash, JSON stays valid
    assert g00["LISA businesses:content"] == "High-High"
    # a missing label (an island, a missing value) is "no data", as on every map and table
    assert by_code["G22"]["properties"]["LISA businesses:content"] == "no data"
    to_lonlat = Transformer.from_crs(27700, 4326, always_xy=True)
    for feature in features:
        assert feature["geometry"]["type"] == "Polygon"
        ring = np.array(feature["geometry"]["coordinates"][0])
        # reprojected to lon/lat: the corners are the grid's corners, moved by pyproj
        minx, miny, maxx, maxy = areas.loc[feature["properties"]["code"]].geometry.bounds
        corners = np.array(to_lonlat.transform([minx, maxx, maxx, minx], [miny, miny, maxy, maxy]))
        for corner in corners.T:
            assert np.abs(ring - corner).sum(axis=1).min() < 1e-9
        colour = feature["properties"]["__folium_color"]
        assert colour == maps.TYPE_COLOURS[feature["properties"]["type"]]
    # one popup definition per layer, bound to every feature, listing every field
    popup_fields = re.findall(r"fields = (\[[^\]]*\])", html)
    area_popup = [json.loads(f) for f in popup_fields if "businesses:content LQ" in f]
    assert len(area_popup) == 1
    assert {"name", "code", "type", "conurbation", "businesses:content LQ change"} <= set(
        area_popup[0]
    )
    # the inlined Leaflet has "bindPopup" too: count the layers' own calls
    assert len(re.findall(r"geo_json_\w+\.bindPopup\(", html)) == 2
    # one file that works offline: no script or stylesheet from the web
    assert _offline.external_references(html) == []
    assert "L.map(" in html and "leaflet" in html.lower()

    assert len(con_layer["features"]) == 1
    members = con_layer["features"][0]["properties"]["members"]
    assert members == "Area 00 (G00), Area 01 (G01), Area 11 (G11)"
    assert "SYNTHETIC DEMO DATA" in html


def test_interactive_map_on_real_ttwas(ttwa_path):
    ttwa = gpd.read_file(ttwa_path).set_index("ttwa11cd").rename(columns={"ttwa11nm": "name"})
    ttwa["cluster_type"] = "none"
    ttwa.loc["E30000234", "cluster_type"] = "high concentration"  # London
    html = maps.interactive_map(ttwa).get_root().render()
    features = geojson_layers(html)[0]["features"]
    assert len(features) == 228
    assert {f["properties"]["code"] for f in features} == set(ttwa.index)
    assert "SYNTHETIC" not in html


def test_interactive_map_path_by_position_is_deprecated(tmp_path):
    areas = grid_areas()
    with pytest.warns(DeprecationWarning, match="path= and title= by keyword"):
        maps.interactive_map(areas, None, tmp_path / "old.html", "Old title")
    assert "Old title" in (tmp_path / "old.html").read_text(encoding="utf-8")


def test_map_options_by_position_are_deprecated():
    areas = grid_areas()
    with pytest.warns(DeprecationWarning, match=r"passing ax, title to lisa_map\(\) by position"):
        fig = maps.lisa_map(areas, "lisa_businesses_content", None, "Old title")
    assert "Old title" in fig.axes[0].get_title()
    with pytest.warns(DeprecationWarning, match="typology_map"):
        fig = maps.typology_map(areas, None, None, "Kent")
    assert "Kent" in fig.axes[0].get_title()


# --------------------------------------------------------------------------- cartography


def test_projected_maps_have_a_scale_bar_and_north_arrow():
    from matplotlib_scalebar.scalebar import ScaleBar

    areas = grid_areas()
    fig = maps.typology_map(areas, grid_conurbations(areas))
    ax = fig.axes[0]
    bars = [a for a in ax.artists if isinstance(a, ScaleBar)]
    assert len(bars) == 1 and bars[0].get_gid() == "scale_bar"
    assert bars[0].dx == 1.0 and bars[0].units == "m"  # EPSG:27700 is in metres
    assert next(t for t in ax.texts if t.get_gid() == "north_arrow").get_text() == "N"
    note = " ".join(t.get_text() for t in ax.texts)
    assert "EPSG:27700" in note and "not to scale" not in note
    # the legend sits outside the data, right of the map
    fig.draw_without_rendering()
    assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1

    # degrees have no single scale: no bar, and the note says so
    fig = maps.typology_map(areas.to_crs(4326))
    ax = fig.axes[0]
    assert not [a for a in ax.artists if isinstance(a, ScaleBar)]
    assert "not to scale" in " ".join(t.get_text() for t in ax.texts)


def test_inset_enlarges_a_dense_part():
    areas = grid_areas()
    fig = maps.typology_map(areas, grid_conurbations(areas), inset=["G00"])
    insets = [ax for ax in fig.axes[0].child_axes if ax.get_gid() == "inset"]
    assert len(insets) == 1
    x0, x1 = insets[0].get_xlim()
    # one square plus 5 % padding on each side
    assert x0 == pytest.approx(ORIGIN[0] - 50) and x1 == pytest.approx(ORIGIN[0] + 1050)
    # the inset says how much it enlarges, and carries no axis labels
    factor = float(insets[0].get_title(loc="left").removeprefix("enlarged ×"))
    assert factor > 1.0
    assert insets[0].get_xlabel() == "" and insets[0].get_ylabel() == ""
    # the main map keeps the whole grid, with the inset's frame drawn on it
    main = fig.axes[0]
    assert main.get_xlim()[1] >= ORIGIN[0] + 4000
    frames = [p for p in main.patches if p.get_width() == pytest.approx(1100)]
    assert len(frames) == 1

    # a conurbation inside the inset is named there, not on the crowded main map
    fig = maps.typology_map(areas, grid_conurbations(areas), inset=CONURBATION)
    inner = next(ax for ax in fig.axes[0].child_axes if ax.get_gid() == "inset")
    first = CON_NAME.split(" – ")[0]
    assert [t for t in inner.texts if first in t.get_text()]
    assert not [t for t in fig.axes[0].texts if first in t.get_text()]


def test_conurbations_that_do_not_fit_are_numbered():
    areas = grid_areas()
    # nine one-square conurbations with long names cannot all be named on a 4 km grid
    codes = [f"G{r}{c}" for r in range(3) for c in range(3)]
    conurbations = gpd.GeoDataFrame(
        {"name": [f"A very long conurbation name {code}" for code in codes]},
        geometry=list(areas.loc[codes].geometry),
        crs=areas.crs,
    )
    from matplotlib.figure import Figure

    small = Figure(figsize=(4.0, 4.0))
    fig = maps.typology_map(areas, conurbations, ax=small.add_subplot())
    texts = [t.get_text() for t in fig.axes[0].texts]
    named = [t for t in texts if t.startswith("A very long")]
    key = [t for t in texts if t.startswith("Conurbations by number")]
    assert len(key) == 1 and 0 < len(named) < 9
    numbered = key[0].splitlines()[1:]
    # every conurbation is named on the map or in the key (or counted as left out)
    left_out = [t for t in texts if "labels left out" in t]
    listed = len(named) + len(numbered)
    assert listed == 9 or left_out
    for line in numbered:
        number, name = line.split("  ", 1)
        assert number.isdigit() and name.startswith("A very long")
        assert number in texts


# --------------------------------------------------------------------------- labels and results


def test_lisa_map_reads_every_spelling_of_the_labels():
    areas = grid_areas()
    new = areas.assign(
        lisa_businesses_content=areas["lisa_businesses_content"].map(
            lambda v: {"HH": "High-High", "LL": "Low-Low", "LH": "Low-High", "HL": "High-Low",
                       "ns": "not significant"}.get(v, "no data")
        )
    )  # fmt: skip
    old_faces = collection(maps.lisa_map(areas, "lisa_businesses_content"), "areas")
    fig = maps.lisa_map(new, "lisa_businesses_content")
    assert np.array_equal(collection(fig, "areas").get_facecolors(), old_faces.get_facecolors())
    assert legend_texts(fig.axes[0])[-1] == "no data (1)"


def grid_values(areas) -> pd.Series:
    # high in the south-west corner, low in the north-east: clear local clusters
    rows = np.array([int(code[1]) for code in areas.index])
    cols = np.array([int(code[2]) for code in areas.index])
    return pd.Series(10.0 - rows - cols + 0.1 * cols, index=areas.index, name="jobs")


@pytest.mark.filterwarnings("ignore:The alternative hypothesis:DeprecationWarning")
def test_lisa_map_takes_a_local_result_or_esda_moran_local():
    from geoclusters.stats import local_moran

    areas = grid_areas()
    values = grid_values(areas)
    graph = Graph.build_contiguity(areas, rook=False)
    result = local_moran(values, graph, permutations=999, seed=1, correction=None)
    fig = maps.lisa_map(areas, result, title="mine")
    faces = collection(fig, "areas").get_facecolors()
    for code, cluster in zip(result.ids, result.cluster, strict=True):
        expected = maps.LISA_COLOURS[gc_label(cluster)]
        assert tuple(faces[areas.index.get_loc(code)]) == pytest.approx(to_rgba(expected))
    assert (np.asarray(result.significant)).any()

    w = Queen.from_dataframe(areas, use_index=True, silence_warnings=True)
    esda_result = esda.Moran_Local(values.loc[w.id_order].to_numpy(), w, permutations=999, seed=1)
    fig = maps.lisa_map(areas, esda_result, correction=None)
    faces = collection(fig, "areas").get_facecolors()
    quadrant = {1: "High-High", 2: "Low-High", 3: "Low-Low", 4: "High-Low"}
    for code, q, p in zip(w.id_order, esda_result.q, esda_result.p_sim, strict=True):
        label = quadrant[int(q)] if p <= 0.05 else "not significant"
        assert tuple(faces[areas.index.get_loc(code)]) == pytest.approx(
            to_rgba(maps.LISA_COLOURS[label])
        )


def gc_label(cluster) -> str:
    from geoclusters._labels import normalise_label

    return normalise_label(cluster)


def test_lisa_map_draws_local_g_hot_and_cold_spots():
    areas = grid_areas()
    labels = ["hot spot"] * 3 + ["cold spot"] * 2 + ["not significant"] * 11
    fig = maps.lisa_map(areas.assign(g=labels), "g")
    assert legend_texts(fig.axes[0]) == ["not significant (11)", "hot spot (3)", "cold spot (2)"]


@pytest.mark.filterwarnings("ignore:The alternative hypothesis:DeprecationWarning")
def test_moran_scatterplot_of_esda_coloured_by_cluster():
    areas = grid_areas()
    values = grid_values(areas)
    w = Queen.from_dataframe(areas, use_index=True, silence_warnings=True)
    lisa = esda.Moran_Local(values.loc[w.id_order].to_numpy(), w, permutations=999, seed=1)
    fig = maps.moran_scatterplot(lisa, correction=None)
    assert slope_of(fig) == pytest.approx(esda.Moran(lisa.y, w).I, abs=1e-10)
    quadrant = {1: "High-High", 2: "Low-High", 3: "Low-Low", 4: "High-Low"}
    labels = [
        quadrant[int(q)] if p <= 0.05 else "not significant"
        for q, p in zip(lisa.q, lisa.p_sim, strict=True)
    ]
    expected = pd.Series(labels).value_counts()
    for label, count in expected.items():
        points = [c for c in fig.axes[0].collections if c.get_gid() == f"points:{label}"]
        assert len(points) == 1 and len(points[0].get_offsets()) == count
    # the y label is one line, so a panel never cuts it off
    assert "\n" not in fig.axes[0].get_ylabel()


def test_lisa_maps_draws_every_group_even_an_empty_one():
    areas = grid_areas()
    lisa = pd.concat(
        [
            _grid.grid_lisa(["not significant"] * 16, group="empty"),
            _grid.grid_lisa(LISA_FLAT, group="content"),
        ]
    )
    fig = maps.lisa_maps(areas, lisa)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["businesses:empty (0 significant)", "businesses:content (8 significant)"]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "High-High (3)" in legend and "not significant (23)" in legend
    assert "no data (1)" in legend
    assert "SYNTHETIC DEMO DATA" in fig.get_suptitle()


@pytest.mark.filterwarnings("ignore:The alternative hypothesis:DeprecationWarning")
def test_lisa_panel_for_a_local_result_and_esda():
    from geoclusters.stats import local_moran

    areas = grid_areas()
    values = grid_values(areas)
    graph = Graph.build_contiguity(areas, rook=False)
    result = local_moran(values, graph, permutations=999, seed=1, correction=None)
    fig = maps.lisa_panel(areas, result, values=values, graph=graph)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 4
    assert titles[0] == "jobs" and "Moran scatterplot" in titles[1]
    with pytest.raises(InputError, match="values and the graph"):
        maps.lisa_panel(areas, result)

    w = Queen.from_dataframe(areas, use_index=True, silence_warnings=True)
    lisa = esda.Moran_Local(values.loc[w.id_order].to_numpy(), w, permutations=99, seed=1)
    fig = maps.lisa_panel(areas, lisa, correction=None)
    assert len([ax for ax in fig.axes if ax.get_title()]) == 4


# --------------------------------------------------------------------------- files


def test_write_maps_formats_dpi_focus_and_offline_html(tmp_path):
    from PIL import Image

    from geoclusters.pipeline import write_maps

    areas = grid_areas()
    lisa = _grid.grid_lisa(LISA_FLAT)
    notes = ("APPROXIMATION: counts moved from other areas. More detail here.", "other note")
    paths = write_maps(
        areas,
        grid_conurbations(areas),
        lisa=lisa,
        path=tmp_path,
        formats=("png", "svg", "pdf"),
        dpi=100,
        focus=["G00", "G11"],
        notes=notes,
    )
    for key in ("map", "lisa_map", "focus_map"):
        assert paths[key].suffix == ".png"
        assert paths[f"{key}_svg"].read_text(encoding="utf-8").lstrip().startswith("<?xml")
        assert paths[f"{key}_pdf"].read_bytes().startswith(b"%PDF")
    small = Image.open(paths["map"]).size
    again = write_maps(areas, path=tmp_path / "hi", dpi=200)
    large = Image.open(again["map"]).size
    assert large[0] == pytest.approx(2 * small[0], rel=0.05)
    html = paths["interactive_map"].read_text(encoding="utf-8")
    assert _offline.external_references(html) == []
    assert "APPROXIMATION: counts moved from other areas." in html
    assert "other note" not in html
    # the page opens on the focus areas: fitBounds around the two squares, in lon/lat
    # (the last call wins: explore fits the whole layer first)
    calls = re.findall(r"fitBounds\(\s*(\[\[[-\d.,\s\[\]]*?\]\])", html, re.S)
    bounds = json.loads(calls[-1])
    to_lonlat = Transformer.from_crs(27700, 4326, always_xy=True)
    west, south = to_lonlat.transform(ORIGIN[0] - 100, ORIGIN[1] - 100)
    assert bounds[0][0] == pytest.approx(south, abs=1e-3)
    assert bounds[0][1] == pytest.approx(west, abs=1e-3)
    with pytest.raises(InputError):
        write_maps(areas, path=tmp_path, formats=("jpg",))
    with pytest.raises(InputError):
        write_maps(areas, path=tmp_path, dpi=0)


def test_zoomed_map_names_areas_and_the_conurbation_part_in_view(ttwa_path):
    ttwa = gpd.read_file(ttwa_path).set_index("ttwa11cd").rename(columns={"ttwa11nm": "name"})
    by_name = pd.Series(ttwa.index, index=ttwa["name"])
    ttwa["cluster_type"] = "none"
    # a long conurbation from Brighton to Bedford whose own label point lies outside Kent
    members = ["Brighton", "Crawley", "Guildford and Aldershot", "Reading", "Luton", "Bedford"]
    conurbation = gpd.GeoDataFrame(
        {"name": [" – ".join(members)]},
        geometry=[ttwa.loc[by_name[members]].geometry.union_all()],
        crs=ttwa.crs,
    )
    kent = by_name[["Tunbridge Wells", "Hastings", "Eastbourne", "Brighton", "Medway"]]
    fig = maps.typology_map(ttwa, conurbation, extent=list(kent), label_areas=True)
    ax = fig.axes[0]
    named = {t.get_text().replace("\n", " ") for t in ax.texts if t.get_gid() == "area_label"}
    assert {"Tunbridge Wells", "Hastings", "Eastbourne", "Brighton", "Medway"} <= named
    assert "Leeds" not in named
    label = [t for t in ax.texts if t.get_text().startswith("Brighton – Crawley")]
    assert len(label) == 1
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    x, y = label[0].xy
    assert x0 <= x <= x1 and y0 <= y <= y1
    assert conurbation.geometry[0].contains(Point(x, y))


def test_moran_scatterplot_coloured_by_a_column_of_labels():
    areas = grid_areas()
    graph = Graph.build_contiguity(areas, rook=False)
    values = lq("businesses", "content", areas)
    labels = areas["lisa_businesses_content"]  # old spellings and a missing label
    fig = maps.moran_scatterplot(values, graph, result=labels)
    counts = {
        c.get_gid(): len(c.get_offsets())
        for c in fig.axes[0].collections
        if (c.get_gid() or "").startswith("points:")
    }
    assert counts["points:High-High"] == 3 and counts["points:Low-Low"] == 3
    assert counts["points:not significant"] == 7
    # the area without a label is still drawn, hollow, as "no data"
    assert counts["points:no data"] == 1
    assert sum(counts.values()) == 16
    face = to_rgba(maps.LISA_COLOURS["High-High"])
    high = next(c for c in fig.axes[0].collections if c.get_gid() == "points:High-High")
    assert tuple(high.get_facecolors()[0]) == pytest.approx(face)
