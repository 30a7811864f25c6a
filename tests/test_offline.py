"""The interactive map works offline: every script and style inside the HTML file.

The map is the real ``interactive_map`` of the hand-made 4 × 4 grid (16 squares,
one 3-square conurbation, see ``_grid``); the browser test opens it in headless
Chromium with every host name unresolvable and reads what Leaflet drew.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from pathlib import Path

import _grid
import numpy as np
import pytest

from geoclusters import _offline, maps
from geoclusters._offline import (
    ASSETS,
    OfflineAssetError,
    external_references,
    inline_assets,
    save_offline,
)

folium = pytest.importorskip("folium")

LISA = ["HH", "HH", "ns", "LH", "HH", "ns", "ns", "LL", "HL", "ns", None, "LL"] + ["ns"] * 4
N_AREAS = len(_grid.CODES)
PRESENT_TYPES = sorted({t for row in _grid.TYPES for t in row})


def grid_map():
    areas = _grid.grid_areas(LISA)
    polygon = areas.loc[_grid.CONURBATION].geometry.union_all()
    conurbations = _grid.gpd.GeoDataFrame(
        {"name": [_grid.CON_NAME], "members": [";".join(_grid.CONURBATION)]},
        geometry=[polygon],
        crs=areas.crs,
    )
    return maps.interactive_map(areas, conurbations=conurbations)


@pytest.fixture(scope="module")
def online_html() -> str:
    return grid_map().get_root().render()


@pytest.fixture(scope="module")
def offline_page(tmp_path_factory) -> Path:
    return save_offline(grid_map(), tmp_path_factory.mktemp("offline") / "map.html")


def test_folium_page_needs_the_web_and_every_address_is_vendored(online_html):
    # the premise: folium's own page loads its libraries from CDNs ...
    urls = external_references(online_html)
    assert any("leaflet" in u and u.endswith(".js") for u in urls)
    # ... and each one has a vendored file, with its licence in the same folder
    static = Path(_offline.__file__).parent / "static"
    for url in urls:
        assert url in ASSETS, url
        vendored = static / ASSETS[url]
        assert vendored.is_file() and vendored.stat().st_size > 1000, url
        folder = static / ASSETS[url].split("/", 1)[0]
        assert list(folder.glob("LICENSE*")), folder
        assert ASSETS[url].split("/", 1)[0] in (static / "README.md").read_text(encoding="utf-8")


def test_offline_page_has_no_web_script_or_style(offline_page, online_html):
    html = offline_page.read_text(encoding="utf-8")
    assert external_references(html) == []
    assert not re.search(r"<(script|link)\b[^>]*\b(src|href)\s*=\s*[\"']?(https?:)?//", html, re.I)
    # nothing inside the inlined CSS points at the web or at a file beside it either
    for ref in re.findall(r"url\(\s*[\"']?([^\"')]+)", html):
        assert ref.startswith(("data:", "#")), ref[:80]
    # the libraries themselves are in the page (Leaflet's version string, jQuery UI's draggable)
    assert 't.version="1.9.3"' in html
    assert 'widget("ui.draggable"' in html
    assert "data:font/woff2;base64," in html and "data:image/png;base64," in html
    # a second pass finds nothing more to do
    assert inline_assets(html) == html
    # the map itself is unchanged: the same GeoJSON as folium's page
    blobs = re.findall(r"_add\((\{.*?\})\);", online_html)
    assert len(blobs) == 2
    for blob in blobs:
        assert blob in html


def test_unknown_web_script_is_reported_not_left_silently():
    page = (
        "<html><head>"
        '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"></script>'
        '<script src="https://unpkg.com/leaflet.markercluster@1.5.3/dist/x.js"></script>'
        '<link rel="stylesheet" href="//example.org/plugin.css"/>'
        "</head><body></body></html>"
    )
    with pytest.raises(OfflineAssetError, match=r"markercluster.*example\.org/plugin\.css"):
        inline_assets(page)
    with pytest.warns(UserWarning, match="will not work offline"):
        out = inline_assets(page, unknown="warn")
    # the known one is inlined, the unknown ones are left for the network, in order
    assert external_references(out) == [
        "https://unpkg.com/leaflet.markercluster@1.5.3/dist/x.js",
        "//example.org/plugin.css",
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert external_references(inline_assets(page, unknown="ignore")) == external_references(
            out
        )
    with pytest.raises(ValueError, match="unknown"):
        inline_assets(page, unknown="skip")


def test_font_formats_not_vendored_are_dropped_from_font_face():
    url = "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css"
    out = inline_assets(f'<head><link href="{url}" rel="stylesheet"></head>')
    face = re.search(r"@font-face\s*{[^}]*}", out).group(0)
    # the CSS lists eot, woff2, woff, ttf and svg; only the woff2 file is shipped
    sources = re.findall(r"url\(\"data:([^;]+);", face)
    assert sources == ["font/woff2"]
    assert ".eot" not in face and ".ttf" not in face


def test_tiles_can_be_left_out_without_changing_the_map(tmp_path):
    fmap = grid_map()
    before = list(fmap._children)
    with_tiles = save_offline(fmap, tmp_path / "tiles.html").read_text(encoding="utf-8")
    plain = save_offline(fmap, tmp_path / "plain.html", tiles=False).read_text(encoding="utf-8")
    assert "tile.openstreetmap.org" in with_tiles
    assert "tile.openstreetmap.org" not in plain and "L.tileLayer" not in plain
    assert list(fmap._children) == before
    assert "tile.openstreetmap.org" in fmap.get_root().render()


# --- a real browser, no network ---------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def headless(page: Path, tmp_path: Path, *action: str) -> subprocess.CompletedProcess:
    """Open ``page`` in headless Chromium that cannot resolve any host name."""
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--window-size=1000,800",
            "--virtual-time-budget=5000",
            *action,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def drawn_paths(dom: str) -> list[tuple[str, str]]:
    """(fill, d) of each vector shape Leaflet drew."""
    shapes = []
    for tag in re.findall(r"<path\b[^>]*>", dom):
        if "leaflet-interactive" in tag:
            fill = re.search(r'fill="([^"]+)"', tag).group(1)
            shapes.append((fill, re.search(r'\bd="([^"]+)"', tag).group(1)))
    return shapes


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs headless Chromium")
def test_browser_without_network_draws_polygons_and_legend(offline_page, online_html, tmp_path):
    dom = headless(offline_page, tmp_path, "--dump-dom").stdout
    shapes = drawn_paths(dom)
    # every square plus the conurbation outline (not filled), each drawn with a real extent
    assert len(shapes) == N_AREAS + 1
    fills = sorted(fill for fill, _ in shapes)
    expected = sorted(maps.TYPE_COLOURS[t] for row in _grid.TYPES for t in row)
    assert sorted(f for f in fills if f != "none") == expected
    for _, d in shapes:
        xy = np.array(re.findall(r"-?\d+(?:\.\d+)?", d), dtype=float).reshape(-1, 2)
        assert np.ptp(xy[:, 0]) > 50 and np.ptp(xy[:, 1]) > 50
    legend = re.search(r"class=['\"]maplegend.*?</div>\s*</div>", dom, re.S)
    assert legend is not None
    for label in PRESENT_TYPES:
        assert label in legend.group(0)

    # the same map as folium saves it shows no polygon here, so the test can tell
    online = tmp_path / "online.html"
    online.write_text(online_html, encoding="utf-8")
    assert drawn_paths(headless(online, tmp_path, "--dump-dom").stdout) == []


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs headless Chromium")
def test_browser_screenshot_shows_the_type_colours(offline_page, tmp_path):
    image = pytest.importorskip("PIL.Image")
    shot = tmp_path / "map.png"
    headless(offline_page, tmp_path, f"--screenshot={shot}")
    pixels = np.asarray(image.open(shot).convert("RGB"), dtype=float).reshape(-1, 3)
    background = np.array([0xF4, 0xF3, 0xEF], dtype=float)
    for kind in PRESENT_TYPES:
        colour = np.array(
            [int(maps.TYPE_COLOURS[kind][i : i + 2], 16) for i in (1, 3, 5)], dtype=float
        )
        # the squares are filled at 75 % opacity over the plain background
        seen = 0.75 * colour + 0.25 * background
        near = (np.abs(pixels - seen).max(axis=1) <= 6).sum()
        # a 1 km square fills thousands of pixels; a legend swatch a few hundred
        assert near > 2000, (kind, near)


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs headless Chromium")
def test_map_html_written_by_the_library_works_offline_with_its_caveat(tmp_path):
    from geoclusters.pipeline import write_maps

    areas = _grid.grid_areas(LISA, synthetic=False)
    note = "APPROXIMATION: TTWA counts were moved from local-authority counts. Details follow."
    page = write_maps(areas, path=tmp_path / "out", notes=(note,))["interactive_map"]
    html = page.read_text(encoding="utf-8")
    assert external_references(html) == []
    dom = headless(page, tmp_path, "--dump-dom").stdout
    fills = sorted(fill for fill, _ in drawn_paths(dom))
    assert fills == sorted(maps.TYPE_COLOURS[t] for row in _grid.TYPES for t in row)
    caveat = re.search(r'class="caveat"[^>]*>([^<]+)<', dom)
    assert caveat is not None
    assert caveat.group(1).startswith("APPROXIMATION: TTWA counts were moved")
