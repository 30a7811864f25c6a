"""Bad input through the command line: each case ends in exit status 2 and a clear message
(what is wrong, what to do), never a traceback. Every file is generated here."""

from __future__ import annotations

import json
import shutil
import warnings

import pytest

import geoclusters as gc
from geoclusters.cli import main

FAST = ["--no-maps", "--no-report", "--no-lisa", "--permutations", "9"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """The demo region as the files a planner would have: a GeoPackage and a counts CSV."""
    folder = tmp_path_factory.mktemp("cli-inputs")
    region = gc.datasets.demo_region(seed=0)
    boundaries = folder / "zones.gpkg"
    areas = region.areas.reset_index().rename(columns={"area": "zonecd", "name": "zonenm"})
    areas[["zonecd", "zonenm", "geometry"]].to_file(boundaries, layer="zones", engine="pyogrio")
    counts = folder / "counts.csv"
    region.counts[["area", "sector", "period", "measure", "value"]].to_csv(counts, index=False)
    return {"folder": folder, "boundaries": boundaries, "counts": counts, "region": region}


def run_cli(inputs, tmp_path, *extra, counts=None, boundaries=None, out=None):
    return main(
        [
            "run",
            "--boundaries",
            str(boundaries or inputs["boundaries"]),
            "--counts",
            str(counts or inputs["counts"]),
            "--out",
            str(out or tmp_path / "out"),
            "--quiet",
            *FAST,
            *extra,
        ]
    )


def failed(capsys, status, *words):
    """Exit status 2, one error naming ``words``, and no traceback."""
    captured = capsys.readouterr()
    assert status == 2, captured.err
    assert "Traceback" not in captured.err + captured.out
    assert "geoclusters run: error:" in captured.err or "geoclusters map: error:" in captured.err
    for word in words:
        assert word in captured.err, (word, captured.err)
    return captured.err


def test_the_generated_inputs_run(inputs, tmp_path, capsys):
    assert run_cli(inputs, tmp_path) == 0
    assert (tmp_path / "out" / "areas.gpkg").exists()


def write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_corrupt_geopackage(inputs, tmp_path, capsys):
    corrupt = write(tmp_path / "zones.gpkg", inputs["boundaries"].read_bytes()[:4096])
    status = run_cli(inputs, tmp_path, boundaries=corrupt)
    failed(capsys, status, "zones.gpkg")
    assert not (tmp_path / "out").exists()


def test_not_a_geopackage_at_all(inputs, tmp_path, capsys):
    junk = write(tmp_path / "zones.gpkg", b"SQLite format 3\x00" + b"\x07" * 2000)
    failed(capsys, run_cli(inputs, tmp_path, boundaries=junk), "zones.gpkg")


def test_geopackage_with_several_layers_needs_layer(inputs, tmp_path, capsys):
    two = tmp_path / "two.gpkg"
    shutil.copy(inputs["boundaries"], two)
    areas = gc.datasets.demo_region(seed=0).areas.reset_index()
    areas.to_file(two, layer="other", engine="pyogrio")
    failed(capsys, run_cli(inputs, tmp_path, boundaries=two), "zones", "other")
    failed(
        capsys,
        run_cli(inputs, tmp_path, "--layer", "nosuch", boundaries=two),
        "nosuch",
    )
    assert run_cli(inputs, tmp_path, "--layer", "zones", boundaries=two) == 0


def test_empty_and_header_only_counts(inputs, tmp_path, capsys):
    empty = write(tmp_path / "empty.csv", b"")
    failed(capsys, run_cli(inputs, tmp_path, counts=empty), "empty")
    header = write(tmp_path / "header.csv", b"area,sector,period,measure,value\n")
    failed(capsys, run_cli(inputs, tmp_path, counts=header), "header.csv")


def test_latin1_counts_are_decoded_and_said_so(inputs, tmp_path, capsys):
    """A documented repair, not an error: the file is read and the decoding reported."""
    text = inputs["counts"].read_text().replace("Crafts", "Artisanat du Pays de Môn")
    latin = write(tmp_path / "latin.csv", text.encode("latin-1"))
    status = run_cli(inputs, tmp_path, "--set", "groups=none", counts=latin)
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "Traceback" not in captured.err
    warnings = [line for line in captured.err.splitlines() if "warning" in line]
    assert warnings and all(line.startswith("geoclusters: warning") for line in warnings)
    provenance = json.loads((tmp_path / "out" / "provenance.json").read_text())
    counts = next(a for a in provenance["accounting"] if a["what"] == "counts")
    assert any("decoded as" in repair for repair in counts["repairs"])
    areas = gc.read_areas(tmp_path / "out" / "areas.gpkg", code="area")
    assert len(areas) == len(inputs["region"].areas)


def test_semicolon_counts_are_read(inputs, tmp_path, capsys):
    semi = write(tmp_path / "semi.csv", inputs["counts"].read_text().replace(",", ";").encode())
    assert run_cli(inputs, tmp_path, counts=semi) == 0
    provenance = json.loads((tmp_path / "out" / "provenance.json").read_text())
    counts = next(a for a in provenance["accounting"] if a["what"] == "counts")
    assert counts["delimiter"] == ";"


def test_british_grid_coordinates_declared_as_longitude_latitude(inputs, tmp_path, capsys):
    areas = gc.datasets.demo_region(seed=0).areas.reset_index()
    bare = tmp_path / "bare.geojson"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'crs' was not provided")
        areas.set_crs(None, allow_override=True).to_file(bare, engine="pyogrio")
    status = run_cli(
        inputs, tmp_path, "--code", "area", "--assume-crs", "EPSG:4326", boundaries=bare
    )
    failed(capsys, status, "British National Grid", "EPSG:27700")


def test_unknown_area_codes_in_the_counts(inputs, tmp_path, capsys):
    text = inputs["counts"].read_text().splitlines()
    text[1] = "X99999999," + text[1].split(",", 1)[1]
    bad = write(tmp_path / "bad.csv", ("\n".join(text) + "\n").encode())
    failed(capsys, run_cli(inputs, tmp_path, counts=bad), "X99999999", "what to do")


CONFIGS = {
    'top_n = "ten"\n': "top_n='ten'",
    'quantile = "0.75"\n': "quantile='0.75'",
    "quantile = 2.0\n": "quantile=2.0",
    'periods = ["2007", "2010", "2014"]\n': "exactly two",
    'min_members = "two"\n': "min_members='two'",
    "[detect]\ntop_m = 3\n": "did you mean detect.top_m -> top_n",
    "top_n = [\n": "not valid TOML",
}


@pytest.mark.parametrize("text", list(CONFIGS), ids=list(CONFIGS.values()))
def test_bad_configuration_files(inputs, tmp_path, capsys, text):
    config = tmp_path / "settings.toml"
    config.write_text(text)
    status = run_cli(inputs, tmp_path, "--config", str(config))
    failed(capsys, status, CONFIGS[text], "settings.toml")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--top-n", "ten"], "top_n='ten'"),
        (["--quantile", "2"], "quantile=2"),
        (["--alpha", "0"], "alpha=0"),
        (["--set", "top_m=3"], "did you mean top_m -> top_n"),
        (["--set", "top_n"], "FIELD=VALUE"),
        (["--method", "nesta"], "did you mean 'nesta2016'"),
        (["--periods", "2007", "2099"], "2099"),
        (["--dpi", "0"], "dpi=0"),
        (["--workers", "0"], "positive whole number"),
    ],
)
def test_bad_option_values(inputs, tmp_path, capsys, flags, words):
    failed(capsys, run_cli(inputs, tmp_path, *flags), words)


def test_mistyped_option_is_suggested(inputs, tmp_path, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["run", "--boundaries", "b", "--counts", "c", "--outt", "x"])
    assert caught.value.code == 2
    assert "did you mean --out?" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["demo", "--out", str(tmp_path / "d"), "--permutatons", "9"])
    assert "did you mean --permutations?" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["demo", "-out", str(tmp_path / "d")])
    assert "did you mean --out?" in capsys.readouterr().err
    # negative numbers are values, not options
    failed(capsys, run_cli(inputs, tmp_path, "--alpha", "-1"), "alpha=-1")


def test_missing_input_files(inputs, tmp_path, capsys):
    status = run_cli(inputs, tmp_path, counts=tmp_path / "nowhere.csv")
    failed(capsys, status, "nowhere.csv", "check the paths")


def test_output_that_is_a_file_is_refused_before_any_work(inputs, tmp_path, capsys):
    target = write(tmp_path / "taken.txt", b"keep me")
    status = main(
        [
            "run",
            "--boundaries",
            str(inputs["boundaries"]),
            "--counts",
            str(inputs["counts"]),
            "--out",
            str(target),
            *FAST,
        ]
    )
    error = failed(capsys, status, "is a file")
    assert "reading" not in error  # refused before the first stage
    assert target.read_bytes() == b"keep me"


def test_output_in_an_unwritable_place(inputs, tmp_path, capsys):
    beneath_a_file = write(tmp_path / "plain", b"x") / "out"
    failed(capsys, run_cli(inputs, tmp_path, out=beneath_a_file), "is a file")
    failed(capsys, run_cli(inputs, tmp_path, out="/proc/geoclusters-out"), "cannot write")


def test_reused_output_folder_is_refused_without_overwrite(inputs, tmp_path, capsys):
    assert run_cli(inputs, tmp_path) == 0
    failed(capsys, run_cli(inputs, tmp_path), "not empty", "--overwrite")
    assert run_cli(inputs, tmp_path, "--overwrite") == 0


@pytest.mark.parametrize("damage", ["areas.gpkg", "provenance.json", "fields.json"])
def test_map_and_report_from_a_damaged_folder(inputs, tmp_path, capsys, damage):
    assert run_cli(inputs, tmp_path) == 0
    capsys.readouterr()
    out = tmp_path / "out"
    if damage == "fields.json":
        (out / damage).unlink()
    else:
        data = (out / damage).read_bytes()
        (out / damage).write_bytes(data[: len(data) // 3])
    for command in ("map", "report"):
        status = main([command, "--from", str(out), "--out", str(tmp_path / command)])
        captured = capsys.readouterr()
        assert status == 2, captured.err
        assert "Traceback" not in captured.err
        assert damage in captured.err and "what to do" in captured.err


def test_repair_warning_is_one_clean_line(inputs, tmp_path, capsys):
    """``--repair`` reports what it repaired in one line, without a Python source line."""
    from shapely.geometry import Polygon

    areas = gc.read_areas(inputs["boundaries"], code="zonecd", name="zonenm").reset_index()
    x0, y0, x1, y1 = areas.geometry.iloc[0].bounds
    # a bow tie: the polygon crosses itself, as generalised boundaries sometimes do
    areas.loc[0, "geometry"] = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    invalid = tmp_path / "invalid.gpkg"
    areas.to_file(invalid, layer="zones", engine="pyogrio")
    failed(capsys, run_cli(inputs, tmp_path, "--code", "area", boundaries=invalid), "invalid")
    status = run_cli(inputs, tmp_path, "--code", "area", "--repair", boundaries=invalid)
    captured = capsys.readouterr()
    assert status == 0, captured.err
    lines = [line for line in captured.err.splitlines() if line.strip()]
    repaired = [line for line in lines if "repaired" in line]
    assert len(repaired) == 1 and repaired[0].startswith("geoclusters: warning: repaired 1")
    assert areas.loc[0, "area"] in repaired[0]
    assert not [line for line in lines if not line.startswith("geoclusters: warning")]
