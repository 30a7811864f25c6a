"""Output folders: written whole or not at all, never two runs mixed, in the format asked for;
and a core install without the maps extra still writes every table."""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import geoclusters as gc
from geoclusters._outputs import missing_modules
from geoclusters.cli import _load_outputs, main
from geoclusters.errors import MissingExtraError, OutputError
from geoclusters.pipeline import write_maps

SRC = Path(gc.__file__).resolve().parents[1]
TABLES = ["areas", "clusters", "links", "conurbations", "summary", "provenance", "fields"]


@pytest.fixture(scope="module")
def result():
    region = gc.datasets.demo_region(seed=0)
    return gc.run(region.areas, region.counts, permutations=99)


def leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if p.name.startswith(".")]


def test_a_reused_folder_is_refused_or_replaced_whole(result, tmp_path):
    out = tmp_path / "out"
    result.write(out, maps=False, report=False)
    (out / "map.png").write_bytes(b"a map of the last run")
    with pytest.raises(OutputError, match="not empty"):
        result.write(out, maps=False, report=False)
    assert (out / "map.png").exists()  # refused before touching anything
    paths = result.write(out, maps=False, report=False, overwrite=True)
    assert sorted(paths) == sorted(TABLES)
    # the last run's map is gone with it: no folder holds files of two runs
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths.values())
    assert leftovers(tmp_path) == []
    # the folder can be shared like any other (not the temporary folder's 0700)
    assert out.stat().st_mode & 0o777 == 0o777 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_overwrite_never_replaces_a_folder_that_is_not_a_run(result, tmp_path):
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "thesis.docx").write_bytes(b"years of work")
    with pytest.raises(OutputError, match="not a geoclusters run"):
        result.write(mine, maps=False, report=False, overwrite=True)
    assert (mine / "thesis.docx").read_bytes() == b"years of work"
    # nor the folder one works in, even when it holds a previous run
    run = tmp_path / "run"
    result.write(run, maps=False, report=False)
    here = os.getcwd()
    try:
        os.chdir(run)
        with pytest.raises(OutputError, match="working in"):
            result.write(".", maps=False, report=False, overwrite=True)
    finally:
        os.chdir(here)
    assert (run / "provenance.json").exists()


def test_a_failure_while_writing_leaves_the_previous_run_untouched(result, tmp_path):
    out = tmp_path / "out"
    result.write(out, maps=False, report=False)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # the conurbation layer fails after the areas and clusters are written: a field clash
    broken = dataclasses.replace(
        result, conurbations=result.conurbations.assign(businesses_total=1.0)
    )
    with pytest.raises(ValueError, match="overlap"):
        broken.write(out, maps=False, report=False, overwrite=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert leftovers(tmp_path) == []
    with pytest.raises(ValueError, match="overlap"):
        broken.write(tmp_path / "new", maps=False, report=False)
    assert not (tmp_path / "new").exists()  # nothing that looks like a run
    assert leftovers(tmp_path) == []


def test_file_and_unwritable_targets_are_refused(result, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        result.write(taken, maps=False, report=False)
    with pytest.raises(OutputError, match="is a file"):
        result.write(taken / "below", maps=False, report=False)
    with pytest.raises(OutputError, match="cannot write"):
        result.write("/proc/geoclusters-out", maps=False, report=False)
    # an empty folder is fine, and a missing one is made with its parents
    (tmp_path / "empty").mkdir()
    assert result.write(tmp_path / "empty", maps=False, report=False)["areas"].exists()
    assert result.write(tmp_path / "a" / "b", maps=False, report=False)["areas"].exists()


@pytest.mark.parametrize("format", ["gpkg", "fgb", "shp"])
def test_every_format_reads_back_exactly(result, tmp_path, format):
    paths = result.write(tmp_path / format, format=format, maps=False, report=False)
    assert paths["areas"].suffix == f".{format}"
    areas, clusters, conurbations, provenance, metrics, lisa = _load_outputs(tmp_path / format)
    keys = ["area", "measure", "group", "metric"]
    pd.testing.assert_frame_equal(
        metrics.sort_values(keys).reset_index(drop=True),
        result.metrics.sort_values(keys).reset_index(drop=True),
        check_dtype=False,
    )
    assert (areas["cluster_type"] == result.areas["cluster_type"].reindex(areas.index)).all()
    assert len(lisa) == len(result.lisa) and len(clusters) == len(result.clusters)
    # FlatGeobuf keeps its features in spatial-index order
    assert sorted(conurbations.table.index) == sorted(result.conurbations.index)
    assert provenance["parameters"]["permutations"] == 99
    if format == "shp":
        # shapefile names are ten characters at most, fields.json maps them back
        import pyogrio

        names = pyogrio.read_info(paths["areas"])["fields"]
        assert max(len(n) for n in names) <= 10 and len(set(names)) == len(names)
        renamed = json.loads(paths["fields"].read_text())["renamed"]["areas"]
        assert "cluster_type" in renamed.values()


def test_geoparquet_needs_pyarrow_and_says_so(result, tmp_path):
    if missing_modules(["pyarrow"]):
        with pytest.raises(MissingExtraError, match="pip install pyarrow"):
            result.write(tmp_path / "pq", format="parquet", maps=False, report=False)
        assert not (tmp_path / "pq").exists()
        status = main(["demo", "--out", str(tmp_path / "cli"), "--format", "parquet"])
        assert status == 2 and not (tmp_path / "cli").exists()
    else:
        paths = result.write(tmp_path / "pq", format="parquet", maps=False, report=False)
        areas, *_ = _load_outputs(tmp_path / "pq")
        assert paths["areas"].suffix == ".parquet" and len(areas) == len(result.areas)


def test_map_formats_and_dpi(result, tmp_path, capsys):
    result.write(tmp_path / "run", maps=False, report=False)
    supported = {"formats", "dpi"} <= set(inspect.signature(write_maps).parameters)
    status = main(
        [
            "map",
            "--from",
            str(tmp_path / "run"),
            "--out",
            str(tmp_path / "maps"),
            "--map-format",
            "svg",
            "pdf",
            "--dpi",
            "100",
        ]
    )
    if supported:
        assert status == 0
        assert (tmp_path / "maps" / "map.svg").read_text().lstrip().startswith("<?xml")
        assert (tmp_path / "maps" / "map.pdf").read_bytes().startswith(b"%PDF")
    else:
        assert status == 2
        assert "cannot set the maps' formats and dpi" in capsys.readouterr().err


BLOCKER = textwrap.dedent(
    """
    import sys

    class Blocker:
        # the maps extra, as if never installed
        names = {"matplotlib", "mapclassify", "folium", "matplotlib_scalebar"}

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.names:
                raise ImportError(f"No module named {name!r} (blocked)")
            return None

    sys.meta_path.insert(0, Blocker())
    from geoclusters.cli import main
    status = main(sys.argv[1:])
    assert "matplotlib" not in sys.modules
    sys.exit(status)
    """
)


def core(*arguments: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [sys.executable, "-c", BLOCKER, *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=env,
    )


def test_core_install_without_the_maps_extra(tmp_path):
    """``pip install geoclusters`` without extras: every table, and one line on the maps."""
    out = tmp_path / "demo"
    done = core("demo", "--out", str(out), "--permutations", "99")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    hints = [line for line in done.stderr.splitlines() if "geoclusters[maps]" in line]
    assert len(hints) == 1 and hints[0].startswith("geoclusters: warning:")
    assert 'pip install "geoclusters[maps]"' in hints[0]
    written = {p.name for p in out.iterdir()}
    assert {"areas.gpkg", "clusters.csv", "conurbations.gpkg", "summary.csv"} <= written
    assert {"provenance.json", "fields.json"} <= written
    assert not written & {"map.png", "map.html", "report.html", "lisa.png"}
    # the progress bar still ends on its last step: no step promised for the maps
    last = [line for line in done.stderr.splitlines() if line.startswith("[")][-1]
    assert "writing the tables" in last and "-]" not in last
    # redrawing needs the extra, and says so in one line with status 2
    again = core("map", "--from", str(out))
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert 'pip install "geoclusters[maps]"' in again.stderr


def test_focus_and_inset_reach_the_maps_and_the_report(result, tmp_path):
    codes = [str(code) for code in result.areas.index[:4]]
    result.write(tmp_path / "run", maps=False, report=False)
    arguments = ["map", "--from", str(tmp_path / "run"), "--out", str(tmp_path / "maps")]
    assert main([*arguments, "--focus", *codes, "--inset", *codes[:2]]) == 0
    assert (tmp_path / "maps" / "map_focus.png").read_bytes().startswith(b"\x89PNG")
    plain = result.write(tmp_path / "plain", maps=False)
    focused = result.write(tmp_path / "focused", maps=False, focus=codes)
    images = [p["report"].read_text().count("<img") for p in (plain, focused)]
    assert images[1] == images[0] + 1  # the detail map of the focus areas
