"""The self-contained HTML report: content, escaping, no external requests, and rendering.

Inputs are a hand-made 4 × 4 grid of squares with known cluster types and one
3-square conurbation, marked synthetic. The browser test renders the report in
Debian's headless Chromium and looks at the pixels of the screenshot.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
from pathlib import Path

import _grid
import geopandas as gpd
import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from _grid import CODES, CON_NAME, CONURBATION
from libpysal.graph import Graph
from matplotlib.colors import to_rgb

from geoclusters import report
from geoclusters.conurbations import Conurbations
from geoclusters.errors import InputError
from geoclusters.maps import TYPE_COLOURS
from geoclusters.provenance import Provenance

EVIL = '<script>alert("x")</script>'
PARAMETERS = {
    "periods": {"early": [2007, 2010], "late": [2011, 2014]},
    "quantile": 0.75,
    "top_n": 10,
    "groups": {"businesses": {"content": ["film", "music"]}},
    "hubs": None,
    "fuzzy": False,
    "label": "a <b> & c",
}
# the same parameters flattened, worked out by hand (values HTML-escaped)
EXPECTED_ROWS = [
    ("periods.early", "2007, 2010"),
    ("periods.late", "2011, 2014"),
    ("quantile", "0.75"),
    ("top_n", "10"),
    ("groups.businesses.content", "film, music"),
    ("hubs", "null"),
    ("fuzzy", "false"),
    ("label", "a &lt;b&gt; &amp; c"),
]
NOTE = "TTWA counts are an approximation moved from local authorities"


LISA = ["HH", "HH", "ns", "LH"] + ["ns"] * 12


def grid_areas(synthetic: bool = True) -> gpd.GeoDataFrame:
    names = [f"Area {code[1:]}" for code in CODES]
    names[CODES.index("G32")] = EVIL  # a "both" cluster area
    return _grid.grid_areas(LISA, names=names, synthetic=synthetic)


def conurbation_metrics(extra=None) -> pd.DataFrame:
    """C1's long metrics: businesses content (count 900, LQ 1.234, +10 %) and ``extra``."""
    series = {("businesses", "content"): {"count": [900.0], "lq": [1.234], "lq_change": [0.1]}}
    rows = [
        ("C1", measure, group, metric, values[0])
        for (measure, group), metrics in {**series, **(extra or {})}.items()
        for metric, values in metrics.items()
    ]
    return pd.DataFrame(rows, columns=["area", "measure", "group", "metric", "value"])


def grid_conurbations(areas: gpd.GeoDataFrame, extra=None) -> Conurbations:
    table = gpd.GeoDataFrame(
        {
            "name": [CON_NAME],
            "members": [";".join(CONURBATION)],
            "n_members": [3],
            "sectors": ["businesses:content"],
            "rule": ["touching clusters sharing a sector group"],
        },
        geometry=[areas.loc[CONURBATION].geometry.union_all()],
        crs=areas.crs,
        index=pd.Index(["C1"], name="conurbation"),
    )
    return Conurbations(table=table, metrics=conurbation_metrics(extra), links=pd.DataFrame())


def write(path, areas, clusters, conurbations, record, lisa=True, **options) -> Path:
    """write_report with the grid's long metrics (and LISA labels unless ``lisa`` is False)."""
    return report.write_report(
        areas,
        clusters,
        conurbations,
        record,
        metrics=_grid.grid_metrics(),
        lisa=_grid.grid_lisa(LISA) if lisa else None,
        path=path,
        **options,
    )


def grid_clusters(areas: gpd.GeoDataFrame) -> pd.DataFrame:
    rows = []
    for code, row in areas[areas["cluster_type"] != "none"].iterrows():
        kinds = {"high concentration": ["concentration"], "high growth": ["growth"]}.get(
            row["cluster_type"], ["concentration", "growth"]
        )
        for rank, criterion in enumerate(kinds, start=1):
            rows.append(
                {
                    "area": code,
                    "name": row["name"],
                    "method": "nesta2016",
                    "criterion": criterion,
                    "measure": "businesses",
                    "group": "content",
                    "rank": rank,
                    "value": _grid.CONTENT["lq"][CODES.index(code)],
                    "threshold": 0.9,
                    "size": _grid.CONTENT["count"][CODES.index(code)],
                    "size_threshold": 400.0,
                }
            )
    return pd.DataFrame(rows)


def provenance() -> dict:
    return {
        "library": "geoclusters",
        "version": "0.1.0",
        "created": "2026-11-23T21:00:00+00:00",
        "parameters": PARAMETERS,
        "inputs": {"areas": "sha256:0123456789abcdef", "counts": "sha256:fedcba9876543210"},
        "notes": [NOTE],
    }


def section(html: str, name: str) -> str:
    start = html.index(f'<section id="{name}">')
    return html[start : html.index("</section>", start)]


def images(html: str) -> list[np.ndarray]:
    uris = re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)
    return [mpimg.imread(io.BytesIO(base64.b64decode(uri)), format="png") for uri in uris]


def count_colour(pixels: np.ndarray, colour: str, tolerance: float = 0.03) -> int:
    rgb = pixels[..., :3]
    return int((np.abs(rgb - np.array(to_rgb(colour))).max(axis=-1) < tolerance).sum())


def test_report_content(tmp_path):
    areas = grid_areas()
    graph = Graph.build_contiguity(areas, rook=False)
    out = write(
        tmp_path / "sub" / "report.html",
        areas,
        grid_clusters(areas),
        grid_conurbations(areas),
        provenance(),
        graph=graph,
    )
    assert out == tmp_path / "sub" / "report.html"
    html = out.read_text(encoding="utf-8")

    # summary: 16 areas, 8 clusters (2 + 2 + 4), one conurbation
    summary = section(html, "summary")
    assert "<b>16</b> areas" in summary
    assert "<b>8</b> cluster areas" in summary
    assert "high concentration: 2" in summary and "high growth: 2" in summary
    assert "both: 4" in summary and "<b>8</b> areas are not clusters" in summary
    assert "<b>1</b> conurbation," in summary

    # every cluster area, one row each; the non-clusters are not listed
    clusters = section(html, "clusters")
    assert clusters.count("<tr>") == 1 + 8
    for code in ["G00", "G01", "G03", "G11", "G20", "G23", "G30"]:
        assert f"Area {code[1:]}" in clusters
    assert "Area 22" not in clusters
    # G00 is a "both" area: count 100, LQ 0.50, growth −8.0 %, selected twice
    g00 = re.search(r"<tr><td><span class=\"code\">G00</span>.*?</tr>", clusters).group(0)
    assert "count 100 · LQ 0.50 · growth -8.0%" in g00
    assert "concentration businesses:content (rank 1)" in g00
    assert "growth businesses:content (rank 2)" in g00

    # escaping: the hostile name shows as text, never as markup
    assert "<script" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in clusters

    conurbations = section(html, "conurbations")
    assert CON_NAME in conurbations
    assert conurbations.count("<tr>") == 2
    for member in ['Area 00 <span class="code">(G00)</span>', "Area 11"]:
        assert member in conurbations
    assert "count 900 · LQ 1.23 · growth +10.0%" in conurbations

    parameters = section(html, "parameters")
    for key, value in EXPECTED_ROWS:
        assert f"<tr><td><code>{key}</code></td><td>{value}</td></tr>" in parameters
    assert parameters.count("<tr>") == 1 + len(EXPECTED_ROWS)

    inputs = section(html, "inputs")
    assert "sha256:0123456789abcdef" in inputs and "sha256:fedcba9876543210" in inputs
    assert NOTE in inputs

    method = section(html, "method")
    assert "location quotient" in method and "conurbations" in method

    # appendix: one row per selection (4 areas selected twice, 4 once)
    assert section(html, "selections").count("<tr>") == 1 + 12

    # synthetic data say so in the title, a banner and every map caption
    assert "<title>SYNTHETIC DEMO DATA" in html
    assert html.count('class="synthetic"') == 1
    assert len(re.findall(r"<figcaption>SYNTHETIC DEMO DATA", html)) == 3


def test_report_is_self_contained(tmp_path):
    areas = grid_areas()
    html = write(
        tmp_path / "r.html",
        areas,
        grid_clusters(areas),
        grid_conurbations(areas),
        provenance(),
        graph=Graph.build_contiguity(areas, rook=False),
    ).read_text(encoding="utf-8")
    references = re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]+)""", html)
    assert references  # the nav links and the images
    for ref in references:
        assert ref.startswith(("data:image/png;base64,", "#")), ref[:40]
    assert not re.search(r"https?://", html)
    assert "url(" not in html and "@import" not in html and "<link" not in html
    assert "<script" not in html  # no JavaScript at all

    # three maps: typology, LISA and Moran scatterplot, all real PNGs
    pictures = images(html)
    assert len(pictures) == 3
    typology, lisa, _ = pictures
    assert min(typology.shape[:2]) > 300
    # each type's colour covers a good part of the typology map (one grid square ≈ 10^4 px)
    for kind in ("high concentration", "high growth", "both", "none"):
        assert count_colour(typology, TYPE_COLOURS[kind]) > 2000, kind
    assert count_colour(lisa, "#ff0000") > 2000  # the two High-High squares, GeoDa red


def test_report_plain_data_custom_method_no_conurbations(tmp_path):
    areas = grid_areas(synthetic=False).drop(columns="lisa_businesses_content")
    empty = grid_conurbations(areas).table.iloc[0:0]
    method = "Step one: <counts>.\n\nStep two & three."
    html = write(
        tmp_path / "r.html",
        areas,
        grid_clusters(areas),
        empty,
        provenance(),
        lisa=False,
        title="Kent & Sussex",
        method=method,
    ).read_text(encoding="utf-8")
    assert "SYNTHETIC" not in html
    assert "<title>Kent &amp; Sussex</title>" in html
    assert "<b>0</b> conurbations" in section(html, "summary")
    assert "No conurbations" in section(html, "conurbations")
    assert "<p>Step one: &lt;counts&gt;.</p><p>Step two &amp; three.</p>" in section(html, "method")
    assert len(images(html)) == 1  # no LISA columns, no graph: the typology map only


def test_report_bare_sector_names_match_every_measure(tmp_path):
    areas = grid_areas()
    conurbations = grid_conurbations(
        areas,
        extra={("employment", "content"): {"count": [50.0], "lq": [2.0], "lq_change": [-0.25]}},
    )
    conurbations.table["sectors"] = "content"
    html = write(
        tmp_path / "r.html", areas, grid_clusters(areas), conurbations, provenance()
    ).read_text(encoding="utf-8")
    row = section(html, "conurbations")
    assert "<b>businesses:content</b>: count 900 · LQ 1.23 · growth +10.0%" in row
    assert "<b>employment:content</b>: count 50 · LQ 2.00 · growth -25.0%" in row


def test_report_rejects_clusters_outside_areas(tmp_path):
    areas = grid_areas()
    clusters = pd.concat(
        [grid_clusters(areas), pd.DataFrame({"area": ["X99"], "criterion": ["growth"]})]
    )
    with pytest.raises(InputError) as err:
        write(tmp_path / "r.html", areas, clusters, None, provenance())
    assert err.value.rows == ["X99"]
    assert not (tmp_path / "r.html").exists()


def test_report_takes_a_provenance_object(tmp_path):
    areas = grid_areas()
    record = Provenance.record(
        "detect_nesta2016", {"top_n": 10, "quantile": 0.75}, notes=[NOTE], areas=areas
    )
    html = write(tmp_path / "r.html", areas, grid_clusters(areas), None, record).read_text(
        encoding="utf-8"
    )
    assert record.inputs["areas"] in html
    assert "<tr><td><code>top_n</code></td><td>10</td></tr>" in html
    assert "step detect_nesta2016" in html


def test_report_old_argument_order_is_deprecated_but_works(tmp_path):
    areas = grid_areas()
    with pytest.warns(DeprecationWarning, match="path="):
        out = report.write_report(
            tmp_path / "old.html", areas, grid_clusters(areas), None, provenance(), None, "Old"
        )
    html = out.read_text(encoding="utf-8")
    assert "Old" in html and "Area 00" in html
    with pytest.raises(InputError, match="path="):
        report.write_report(areas, grid_clusters(areas), None, provenance())


def test_flatten_parameters_nested_lists_and_empties():
    flat = report.flatten_parameters(
        {"a": {"b": {"c": 1}}, "rules": [{"x": 1}], "empty": {}, "none": [], "s": "t"}
    )
    assert flat == {"a.b.c": "1", "rules": '{"x": 1}', "empty": "{}", "none": "[]", "s": "t"}


def chromium() -> str | None:
    return shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )


@pytest.mark.browser
def test_report_renders_in_headless_chromium(tmp_path):
    browser = chromium()
    if browser is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    areas = grid_areas()
    page = write(
        tmp_path / "report.html",
        areas,
        grid_clusters(areas),
        grid_conurbations(areas),
        provenance(),
    )
    shot = tmp_path / "shot.png"
    result = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1200,2000",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert shot.exists(), result.stderr[-2000:]
    pixels = mpimg.imread(shot)
    assert pixels.shape[:2] == (2000, 1200)
    assert pixels[..., :3].std() > 0.05  # not a blank page
    # the map is drawn: every type colour fills far more than the summary's swatches
    for kind in ("high concentration", "high growth", "both", "none"):
        assert count_colour(pixels, TYPE_COLOURS[kind]) > 5000, kind
    # and the synthetic banner's red frame is there
    assert count_colour(pixels, "#b00000") > 500


# ----------------------------------------------------------- links, robustness, focus


class Sensitivity:
    """The shape of ``RunResult.sensitivity``: areas, pairs and conurbation stability."""

    def __init__(self, areas: gpd.GeoDataFrame):
        share = np.linspace(0.0, 1.0, len(areas))
        self.areas = pd.DataFrame(
            {
                "name": areas["name"],
                "runs": 12,
                "cluster_share": share,
                "concentration_share": share / 2,
                "growth_share": share / 2,
                "both_share": 0.0,
                "robust": share >= 0.75,
            },
            index=areas.index,
        )
        self.pairs = pd.DataFrame(columns=["a", "b", "together"])
        self.conurbations = pd.DataFrame(
            {"conurbation": ["C1"], "members": [";".join(CONURBATION)], "stability": [0.75]}
        )


def links_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "from": ["G00", "G01", "G30"],
            "to": ["G01", "G11", "G20"],
            "from_name": ["Area 00", "Area 01", "Area 30"],
            "to_name": ["Area 01", "Area 11", "Area 20"],
            "shared": ["businesses:content", "businesses:content", ""],
            "flow": [0.12, 0.3, 0.01],
            "similarity": [0.9, 0.8, 0.2],
            "strength": [0.7, 0.8, 0.1],
            "kept": [True, True, False],
            "why": ["shares content", "shares content", "too weak: <0.3"],
        }
    )


def test_report_links_robustness_and_focus(tmp_path):
    areas = grid_areas()
    html = write(
        tmp_path / "r.html",
        areas,
        grid_clusters(areas),
        grid_conurbations(areas),
        provenance(),
        links=links_table(),
        sensitivity=Sensitivity(areas),
        focus=["G00", "G11"],
    ).read_text(encoding="utf-8")
    links = section(html, "links")
    assert "Links between clusters" in links
    rows = re.findall(r"<tr>.*?</tr>", links, re.S)[1:]
    # kept links first, strongest first; the cut one last, its reason escaped
    assert [re.search(r"\((G\d\d)\)", r).group(1) for r in rows] == ["G01", "G00", "G30"]
    assert "0.80" in rows[0] and "yes" in rows[0]
    assert "no" in rows[2] and "too weak: &lt;0.3" in rows[2]

    robust = section(html, "robustness")
    assert "How robust" in robust and "12 runs" in robust
    assert "<b>4</b> areas are clusters in most runs" in robust
    assert "Area 00, Area 01, Area 11" in robust and "75%" in robust
    shaded = images(robust)
    assert len(shaded) == 1 and min(shaded[0].shape[:2]) > 300
    assert '<a href="#links">' in html and '<a href="#robustness">' in html

    # the focus (detail) map comes right after the typology map
    assert len(images(section(html, "maps"))) == 3  # typology, detail, LISA (no graph given)
    assert "Detail of the chosen areas" in section(html, "maps")


def test_report_without_links_or_sensitivity_has_no_such_sections(tmp_path):
    areas = grid_areas()
    html = write(
        tmp_path / "r.html", areas, grid_clusters(areas), grid_conurbations(areas), provenance()
    ).read_text(encoding="utf-8")
    assert 'id="links"' not in html and 'id="robustness"' not in html
    assert "#links" not in html and "#robustness" not in html


def test_report_links_default_to_the_conurbations_links(tmp_path):
    areas = grid_areas()
    conurbations = grid_conurbations(areas)
    # today's shape of Conurbations.links: area, neighbour, shared
    old = pd.DataFrame({"area": ["G00"], "neighbour": ["G01"], "shared": ["businesses:content"]})
    conurbations = Conurbations(table=conurbations.table, metrics=conurbations.metrics, links=old)
    html = write(
        tmp_path / "r.html", areas, grid_clusters(areas), conurbations, provenance()
    ).read_text(encoding="utf-8")
    links = section(html, "links")
    assert 'Area 00 <span class="code">(G00)</span> – Area 01' in links


def test_report_lists_only_the_chosen_methods_parameters(tmp_path):
    areas = grid_areas()
    record = provenance()
    record["parameters"] = {
        "method": "nesta2016",
        "quantile": 0.75,
        "top_n": 10,
        "lq_min": 1.25,
        "count_min": 0.0,
        "statistic": "local_moran",
        "permutations": 199,
        "permutations_used": 499,
        "lisa": True,
    }
    html = write(
        tmp_path / "r.html", areas, grid_clusters(areas), grid_conurbations(areas), record
    ).read_text(encoding="utf-8")
    parameters = section(html, "parameters")
    shown = re.findall(r"<tr><td><code>([^<]+)</code>", parameters)
    assert shown == ["method", "quantile", "top_n", "permutations", "permutations_used", "lisa"]
    assert "Left out" in parameters and "<code>lq_min</code>" in parameters


def test_cluster_table_keeps_to_the_column(tmp_path):
    areas = grid_areas()
    html = write(
        tmp_path / "r.html", areas, grid_clusters(areas), grid_conurbations(areas), provenance()
    ).read_text(encoding="utf-8")
    clusters = section(html, "clusters")
    # fixed columns whose widths add up to the page's column, long group names may wrap
    widths = [int(w) for w in re.findall(r'<col style="width:(\d+)%">', clusters)]
    assert len(widths) == 8 and sum(widths) == 100
    assert '<table class="fixed">' in clusters
    assert "businesses:<wbr>content" in clusters
