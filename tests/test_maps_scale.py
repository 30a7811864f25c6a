"""Maps of many areas: what is drawn and embedded above ``detail_limit``, on small inputs.

The 4 × 4 grid of ``_grid`` with a small ``detail_limit`` stands in for a map of
a million areas. Its eight cluster areas form five shapes when merged by type:
"both" G00–G01–G11 and G32, "high growth" G03 and G23, "high concentration"
G20–G30 (read off ``_grid.TYPES``). Timings are in benchmarks/bench_maps_scale.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import _grid
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _grid import CODES, CON_NAME, CONURBATION, ORIGIN, TYPES
from matplotlib.colors import to_hex
from shapely.geometry import box

import geoclusters as gc
from geoclusters import maps
from geoclusters.errors import InputError, OutputError

LISA = ["High-High", "High-High", "ns", "Low-High"] + ["not significant"] * 12
CLUSTERS = [c for c in CODES if TYPES[int(c[1])][int(c[2])] not in maps.NOT_CLUSTERS]
NOT_SHOWN = [c for c in CODES if c not in CLUSTERS]


def grid_areas() -> gpd.GeoDataFrame:
    return _grid.grid_areas(LISA, synthetic=False)


def grid_conurbations(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": [CON_NAME], "members": [";".join(CONURBATION)], "n_members": [3]},
        geometry=[areas.loc[CONURBATION].geometry.union_all()],
        crs=areas.crs,
    )


def areas_collection(ax):
    found = [c for c in ax.collections if c.get_gid() == "areas"]
    assert len(found) == 1
    return found[0]


def centre(code: str) -> tuple[float, float]:
    r, c = int(code[1]), int(code[2])
    return ORIGIN[0] + (c + 0.5) * 1000.0, ORIGIN[1] + (r + 0.5) * 1000.0


def geojson_layers(html: str) -> list[dict]:
    return [json.loads(blob) for blob in re.findall(r"_add\((\{.*?\})\);", html)]


# --------------------------------------------------------------------------- static


def test_typology_above_the_limit_fills_each_type_as_one_shape_without_outlines():
    areas = grid_areas()
    fig = maps.typology_map(areas, grid_conurbations(areas), detail_limit=15)
    ax = fig.axes[0]
    shapes = areas_collection(ax)
    paths = shapes.get_paths()
    faces = [to_hex(f) for f in shapes.get_facecolors()]
    # one compound path per type drawn, each the squares of its type and no other
    assert sorted(faces) == sorted(maps.TYPE_COLOURS[t] for t in {t for row in TYPES for t in row})
    for path, face in zip(paths, faces, strict=True):
        kind = next(t for t, colour in maps.TYPE_COLOURS.items() if colour == face)
        inside = path.contains_points([centre(c) for c in CODES])
        expected = [TYPES[int(c[1])][int(c[2])] == kind for c in CODES]
        assert inside.tolist() == expected
    assert all(width == 0 for width in shapes.get_linewidths())
    assert shapes.get_rasterized()  # a million vector shapes would swamp SVG and PDF
    # the legend still counts every area, and a note says how the map was drawn
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:4] == ["high concentration (2)", "high growth (2)", "both (4)", "none (8)"]
    title = " ".join(ax.get_legend().get_title().get_text().split())
    assert title == "Cluster type 16 areas filled by type, without outlines (more than 15)"
    # the conurbation is outlined and named as on any map
    assert [c for c in ax.collections if c.get_gid() == "conurbations"]
    assert [t for t in ax.texts if t.get_text().startswith("Area 00")]

    # at the limit: one patch per area with its outline, as always
    fig = maps.typology_map(areas, detail_limit=16)
    shapes = areas_collection(fig.axes[0])
    assert len(shapes.get_paths()) == 16
    assert min(shapes.get_linewidths()) > 0
    assert fig.axes[0].get_legend().get_title().get_text() == "Cluster type"


def test_holes_stay_holes_and_neighbours_leave_no_seam():
    # a ring-shaped area, its exterior drawn clockwise, around an area of another type
    outer = box(0, 0, 3000, 3000)
    hole = box(1000, 1000, 2000, 2000)
    ring = shapely.Polygon(outer.exterior.coords[::-1], [hole.exterior.coords])
    areas = gpd.GeoDataFrame(
        {"cluster_type": ["both", "none", "both"]},
        geometry=[ring, hole, box(3000, 0, 4000, 3000)],
        crs=27700,
        index=pd.Index(["ring", "hole", "east"], name="area"),
    )
    fig = maps.typology_map(areas, detail_limit=0)
    ax = fig.axes[0]
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)

    def colour_at(x: float, y: float) -> str:
        px, py = ax.transData.transform((x, y))
        return to_hex(image[image.shape[0] - int(py), int(px)] / 255)

    # the hole shows the area inside it, not the ring's colour (the fill rule of
    # Agg is non-zero winding: a hole needs the opposite turn of its exterior)
    assert colour_at(1500, 1500) == maps.TYPE_COLOURS["none"]
    assert colour_at(500, 500) == maps.TYPE_COLOURS["both"]
    # along a row through the ring and its eastern neighbour the fill is unbroken:
    # their shared edge at x = 3000 leaves no anti-aliased seam
    row = [colour_at(x, 500) for x in np.linspace(100, 3900, 400)]
    assert set(row) == {maps.TYPE_COLOURS["both"]}


def test_a_zoomed_map_counts_only_the_areas_in_view():
    areas = grid_areas()
    # G00 and G11 plus 5 %: columns and rows 0-2, nine squares in view
    fig = maps.typology_map(areas, extent=["G00", "G11"], detail_limit=9, label_areas=True)
    ax = fig.axes[0]
    assert len(areas_collection(ax).get_paths()) == 9
    assert {t.get_text() for t in ax.texts if t.get_gid() == "area_label"} >= {"Area 00"}
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "none (8)" in legend  # counts of every area, in view or not
    fig = maps.typology_map(areas, extent=["G00", "G11"], detail_limit=8)
    # one path per type in view: both, none and high concentration (high growth is not)
    assert len(areas_collection(fig.axes[0]).get_paths()) == 3


def test_inset_above_the_limit():
    areas = grid_areas()
    fig = maps.typology_map(areas, inset=["G00", "G01"], detail_limit=3)
    inset = next(a for a in fig.axes[0].child_axes if a.get_gid() == "inset")
    # the inset box (plus 5 %) reaches columns 0-2 and rows 0-1: six squares, both or none
    assert len(areas_collection(inset).get_paths()) == 2
    fig = maps.typology_map(areas, inset=["G00", "G01"], detail_limit=6)
    inset = next(a for a in fig.axes[0].child_axes if a.get_gid() == "inset")
    assert len(areas_collection(inset).get_paths()) == 6


def test_lisa_maps_above_the_limit():
    areas = grid_areas()
    lisa = _grid.grid_lisa(LISA)
    fig = maps.lisa_maps(areas, lisa, detail_limit=10)
    panel = next(ax for ax in fig.axes if ax.get_title())
    shapes = areas_collection(panel)
    colours = {maps.LISA_COLOURS[k] for k in ("High-High", "Low-High", "not significant")}
    assert {to_hex(f) for f in shapes.get_facecolors()} == colours
    legend = fig.legends[0]
    title = " ".join(legend.get_title().get_text().split())
    assert title == (
        "areas over all panels 16 areas filled by label, without outlines (more than 10)"
    )
    assert "High-High (2)" in [t.get_text() for t in legend.get_texts()]

    fig = maps.lisa_map(areas, "lisa_businesses_content", detail_limit=10)
    assert len(areas_collection(fig.axes[0]).get_paths()) == 3
    title = " ".join(fig.axes[0].get_legend().get_title().get_text().split())
    assert title == "16 areas filled by label, without outlines (more than 10)"


@pytest.mark.parametrize("bad", [-1, True, 2.5, "many"])
def test_detail_limit_is_a_count(bad):
    areas = grid_areas()
    with pytest.raises(InputError, match="detail_limit"):
        maps.typology_map(areas, detail_limit=bad)
    with pytest.raises(InputError, match="detail_limit"):
        maps.interactive_map(areas, detail_limit=bad)


def test_quintiles_match_mapclassify():
    mapclassify = pytest.importorskip("mapclassify")
    values = np.random.default_rng(3).gamma(2.0, 3.0, 200)
    values[[4, 9]] = np.nan
    values[10:40] = 1.0  # ties, as counts have
    colours, handles = maps._quintiles(values)
    known = ~np.isnan(values)
    expected = mapclassify.Quantiles(values[known], k=5)
    assert [h.get_label() for h in handles][-1] == "no data"
    classes = {to_hex(h.get_facecolor()): k for k, h in enumerate(handles[:-1])}
    assert len(classes) == len(expected.bins)
    assert [classes[c] for c in np.asarray(colours)[known]] == expected.yb.tolist()
    assert [colours[i] for i in (4, 9)] == ["#ffffff", "#ffffff"]


# --------------------------------------------------------------------------- interactive


def test_interactive_map_above_the_limit_embeds_the_clusters_merged_by_type(tmp_path):
    areas = grid_areas()
    path = tmp_path / "map.html"
    maps.interactive_map(
        areas,
        grid_conurbations(areas),
        metrics=_grid.grid_metrics(),
        lisa=_grid.grid_lisa(LISA),
        path=path,
        detail_limit=15,
    )
    html = path.read_text(encoding="utf-8")
    shapes, outlines = geojson_layers(html)
    features = shapes["features"]
    kinds = sorted(f["properties"]["type"] for f in features)
    assert kinds == ["both", "both", "high concentration", "high growth", "high growth"]
    assert sum(int(f["properties"]["areas"]) for f in features) == len(CLUSTERS) == 8
    by_size = {f["properties"]["areas"]: f["properties"] for f in features}
    assert by_size["3"]["first areas"] == "Area 00 (G00), Area 01 (G01), Area 11 (G11)"
    for feature in features:
        assert (
            feature["properties"]["__folium_color"]
            == maps.TYPE_COLOURS[feature["properties"]["type"]]
        )
    # the shapes cover the cluster squares and nothing else (in lon/lat)
    merged = shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in features])
    lonlat = areas.to_crs(4326)
    for code in CODES:
        point = lonlat.loc[code].geometry.representative_point()
        assert merged.contains(point) == (code in CLUSTERS), code
    # areas that are not clusters are not on the page, and neither are the per-area popups
    embedded = json.dumps([shapes, outlines])
    for code in NOT_SHOWN:
        assert code not in embedded
    assert "businesses:content LQ" not in html
    # a note on the map says what was left out, with the counts
    note = re.search(r'<div class="scale-note"[^>]*>(.*?)</div>', html).group(1)
    assert note == (
        "16 areas: this map shows the 8 cluster areas, merged by type into 5 shapes and "
        "simplified to about 2 m; the 8 other areas (8 &#x27;none&#x27;) are left out. "
        "The run&#x27;s tables list every area."
    )
    # conurbation outlines stay, with their popups
    assert len(outlines["features"]) == 1
    assert outlines["features"][0]["properties"]["conurbation"] == CON_NAME
    # the page still works offline, with its legend of the types shown
    from geoclusters import _offline

    assert _offline.external_references(html) == []
    legend = re.search(r"class='maplegend'>(.*?)</div></div>", html, re.S).group(1)
    assert "high growth" in legend and "none" not in legend


def test_interactive_map_above_the_limit_counts_no_data_apart(tmp_path):
    areas = grid_areas()
    areas.loc["G22", "cluster_type"] = "no data"
    fmap = maps.interactive_map(areas, detail_limit=0)
    html = fmap.get_root().render()
    assert "the 8 other areas (7 &#x27;none&#x27;, 1 &#x27;no data&#x27;) are left out" in html
    # without clusters the map is empty but says so
    areas["cluster_type"] = "none"
    html = maps.interactive_map(areas, detail_limit=0).get_root().render()
    assert geojson_layers(html)[0]["features"] == []
    assert "shows the 0 cluster areas" in html


def test_a_run_above_the_limit_keeps_every_area_in_its_tables(tmp_path):
    region = gc.datasets.demo_region(seed=0)
    result = gc.run(region.areas, region.counts, permutations=99)
    n = len(result.areas)
    # a limit below the demo's 220 areas: the run's maps are drawn for scale
    # a limit that is not a number of areas is refused before anything is written
    with pytest.raises(OutputError, match="detail_limit=-1"):
        result.write(tmp_path / "refused", report=False, detail_limit=-1)
    assert not (tmp_path / "refused").exists()
    paths = result.write(tmp_path / "out", report=False, detail_limit=10)
    html = Path(paths["interactive_map"]).read_text(encoding="utf-8")
    clusters = int((~result.areas["cluster_type"].isin(maps.NOT_CLUSTERS)).sum())
    assert f"{n:,} areas: this map shows the {clusters:,} cluster areas" in html
    embedded = sum(int(f["properties"]["areas"]) for f in geojson_layers(html)[0]["features"])
    assert embedded == clusters < n
    written = gpd.read_file(paths["areas"])
    assert len(written) == n
    assert set(written["area"].astype(str)) == set(result.areas.index.astype(str))


# --------------------------------------------------------------------------- cold start

NO_MAPCLASSIFY = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    import _grid
    import numpy as np, pandas as pd
    from libpysal.graph import Graph
    from geoclusters import maps
    from geoclusters.pipeline import write_maps
    from geoclusters.stats import local_moran

    areas = _grid.grid_areas(["ns"] * 16)
    lisa = _grid.grid_lisa(["High-High"] * 3 + ["not significant"] * 13)
    paths = write_maps(areas, lisa=lisa, metrics=_grid.grid_metrics(), path={out!r})
    assert paths["map"].exists() and paths["interactive_map"].exists()
    maps.typology_map(areas, detail_limit=0).savefig({out!r} + "/scaled.png")
    maps.interactive_map(areas, detail_limit=0, path={out!r} + "/scaled.html")
    values = pd.Series(np.arange(16.0), index=areas.index, name="jobs")
    graph = Graph.build_contiguity(areas)
    result = local_moran(values, graph, permutations=99, seed=0)
    maps.lisa_panel(areas, result, values=values, graph=graph).savefig({out!r} + "/panel.png")
    assert "mapclassify" not in sys.modules, "drawing the maps imported mapclassify"
    """
)


def test_drawing_maps_does_not_import_mapclassify(tmp_path):
    tests = str(Path(__file__).resolve().parent)
    code = NO_MAPCLASSIFY.format(tests=tests, out=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "map.html").exists() and (tmp_path / "map.png").exists()
