"""The command line, as a planner runs it."""

import json
import os
import re
import subprocess
import sys

import _realdata
import geopandas as gpd
import pandas as pd
import pytest

import geoclusters as gc
from geoclusters.cli import main

OUTPUTS = [
    "areas.gpkg",
    "clusters.csv",
    "conurbations.gpkg",
    "summary.csv",
    "provenance.json",
    "map.png",
    "lisa.png",
    "map.html",
    "report.html",
]


def test_demo_command_writes_every_output(tmp_path):
    """The README's first command, run as a planner would."""
    out = tmp_path / "demo-output"
    done = subprocess.run(
        [sys.executable, "-m", "geoclusters", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "SYNTHETIC DEMO DATA" in done.stdout
    # the progress bar reaches its last stage, and that stage is writing (not 8/9 and silence)
    steps = re.findall(r"\] (\d+)/(\d+) (.+) \(", done.stderr)
    assert steps and {total for _, total, _ in steps} == {steps[-1][1]}
    assert [int(n) for n, _, _ in steps] == list(range(1, int(steps[-1][1]) + 1))
    assert steps[-1][0] == steps[-1][1] and steps[-1][2] == "writing the report"
    assert any(message == "writing the maps" for _, _, message in steps)
    for name in OUTPUTS:
        assert (out / name).stat().st_size > 0, name
    areas = gpd.read_file(out / "areas.gpkg")
    assert len(areas) == len(gc.datasets.demo_region().areas)
    assert "SYNTHETIC DEMO DATA" in (out / "report.html").read_text()


@pytest.fixture(scope="module")
def real_inputs(tmp_path_factory, ttwa_path):
    """Local-authority counts and an area-weighted lookup to TTWAs, as CSV files."""
    folder = tmp_path_factory.mktemp("inputs")
    counts = folder / "lad_creative_counts.csv"
    _realdata.local_authority_counts().to_csv(counts, index=False)
    lookup = folder / "lad_to_ttwa.csv"
    gc.areal_lookup(_realdata.local_authorities(), _realdata.gb_ttwas()).to_csv(lookup, index=False)
    config = folder / "config.toml"
    config.write_text(
        'periods = ["2010", "2015"]\nmissing_counts = "no data"\npermutations = 99\n'
        'title = "Creative clusters (approximate counts)"\n'
        '[conurbations]\nhubs = ["E30000234"]\n'
        '[groups]\n"creative services" = ["services_creative"]\n'
        'content = ["services_creative_content"]\npublishing = ["services_publishing"]\n'
        'computing = ["services_computing"]\n'
    )
    return {"boundaries": ttwa_path, "counts": counts, "lookup": lookup, "config": config}


def test_run_command_on_real_ttwas_with_a_crosswalk(real_inputs, tmp_path, capsys):
    out = tmp_path / "uk"
    status = main(
        [
            "run",
            "--boundaries",
            str(real_inputs["boundaries"]),
            "--counts",
            str(real_inputs["counts"]),
            "--crosswalk",
            str(real_inputs["lookup"]),
            "--config",
            str(real_inputs["config"]),
            "--out",
            str(out),
        ]
    )
    assert status == 0
    for name in OUTPUTS:
        assert (out / name).stat().st_size > 0, name
    areas = gpd.read_file(out / "areas.gpkg").set_index("area")
    assert len(areas) == 228  # every TTWA, Northern Ireland's as "no data"
    assert (areas["cluster_type"] == "no data").sum() == 10
    assert areas.loc["E30000281", "name"] == "Tunbridge Wells"
    conurbations = gpd.read_file(out / "conurbations.gpkg")
    assert not conurbations["members"].str.contains("E30000234").any()
    report = (out / "report.html").read_text()
    assert "Creative clusters (approximate counts)" in report
    assert "lad_to_ttwa.csv" in report  # the crosswalk note reaches the report
    printed = capsys.readouterr().out
    assert "228 areas" in printed
    # accounting: every input step, what came in, went out, and was set aside and why
    accounts = {
        a["what"]: a for a in json.loads((out / "provenance.json").read_text())["accounting"]
    }
    assert {"areas", "counts", "lookup", "crosswalk", "areas analysed", "counts analysed"} <= set(
        accounts
    )
    assert accounts["areas"]["rows_in"] == accounts["areas"]["rows_out"] == 228
    assert accounts["areas"]["set_aside"] == []
    analysed = accounts["areas analysed"]
    assert (analysed["rows_in"], analysed["rows_out"]) == (228, 218)
    assert (
        analysed["set_aside"][0]["count"] == 10 and "no data" in analysed["set_aside"][0]["reason"]
    )
    assert analysed["set_aside"][0]["rows"][0].startswith("N12")
    counted = accounts["counts analysed"]
    assert counted["rows_out"] + sum(s["count"] for s in counted["set_aside"]) == counted["rows_in"]
    assert "areas analysed (run): 228 areas in, 218 out, 10 set aside" in printed

    # the map and report commands redraw from those outputs
    assert main(["map", "--from", str(out), "--out", str(tmp_path / "again")]) == 0
    assert (tmp_path / "again" / "map.png").stat().st_size > 0
    assert "this map shows the" not in (tmp_path / "again" / "map.html").read_text()
    # a planner can lower the size above which the maps are drawn for scale
    coarse = tmp_path / "coarse"
    assert main(["map", "--from", str(out), "--out", str(coarse), "--detail-limit", "100"]) == 0
    assert "228 areas: this map shows the" in (coarse / "map.html").read_text()
    assert main(["map", "--from", str(out), "--detail-limit", "-1"]) == 2
    assert "detail_limit=-1 is not a number of areas" in capsys.readouterr().err
    assert main(["report", "--from", str(out), "--out", str(tmp_path / "r.html")]) == 0
    redrawn = (tmp_path / "r.html").read_text()
    assert "Tunbridge Wells" in redrawn
    # group names with spaces ("creative services") become fields without spaces, and the
    # report read back from the files shows them under their own names again
    assert not [c for c in areas.columns if " " in c]
    assert "businesses_creative_services_lq" in areas.columns
    assert "<b>businesses:creative services</b>: count" in redrawn
    original = (out / "report.html").read_text()
    key_metrics = re.findall(r"<b>businesses:[^<]+</b>: count[^<]+", original)
    assert key_metrics and key_metrics == re.findall(
        r"<b>businesses:[^<]+</b>: count[^<]+", redrawn
    )


def test_bad_counts_give_a_clear_error_and_status_2(real_inputs, tmp_path, capsys):
    counts = pd.read_csv(real_inputs["counts"], dtype={"period": str})
    counts.loc[0, "area"] = "X99999999"
    path = tmp_path / "bad.csv"
    counts.to_csv(path, index=False)
    status = main(
        [
            "run",
            "--boundaries",
            str(real_inputs["boundaries"]),
            "--counts",
            str(path),
            "--crosswalk",
            str(real_inputs["lookup"]),
            "--config",
            str(real_inputs["config"]),
            "--out",
            str(tmp_path / "never"),
            "--quiet",
        ]
    )
    error = capsys.readouterr().err
    assert status == 2
    assert "X99999999" in error and "what to do" in error
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize("command", [[], ["demo"], ["run"], ["map"], ["report"]])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    assert "usage: geoclusters" in capsys.readouterr().out


def test_map_from_a_folder_without_outputs_is_an_input_error(tmp_path, capsys):
    assert main(["map", "--from", str(tmp_path)]) == 2
    assert "does not hold a run's outputs" in capsys.readouterr().err


def test_console_script_is_installed():
    done = subprocess.run(
        ["geoclusters", "--version"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ},
    )
    assert done.returncode == 0 and done.stdout.strip() == f"geoclusters {gc.__version__}"


def test_scheduler_and_workers_are_exclusive_options(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["demo", "--out", "x", "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"])
    assert caught.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_flags_override_the_toml_file_and_set(tmp_path, capsys):
    config = tmp_path / "settings.toml"
    config.write_text(
        'title = "From TOML"\ncorrection = "bonferroni"\n'
        '[detect]\ntop_n = 5\nquantile = 0.5\n[conurbations]\nhubs = "D0101"\n'
    )
    out = tmp_path / "out"
    status = main(
        [
            "demo",
            "--out",
            str(out),
            "--quiet",
            "--no-maps",
            "--no-report",
            "--config",
            str(config),
            "--set",
            "top_n=4",
            "--set",
            "seed=7",
            "--top-n",
            "3",
            "--no-lisa",
            "--permutations",
            "19",
            "--correction",
            "none",
            "--hubs",
            "DEMO002",
            "DEMO003",
            "--method",
            "hotspots",
            "--alpha",
            "0.1",
        ]
    )
    assert status == 0, capsys.readouterr().err
    parameters = json.loads((out / "provenance.json").read_text())["parameters"]
    assert parameters["top_n"] == 3  # the named flag wins over --set and the file
    assert parameters["seed"] == 7  # --set wins over the file and the default
    assert parameters["quantile"] == 0.5  # the file wins over the default
    assert parameters["title"] == "From TOML"
    assert parameters["hubs"] == ["DEMO002", "DEMO003"]
    assert parameters["correction"] is None
    assert (parameters["lisa"], parameters["permutations"]) == (False, 19)
    assert (parameters["method"], parameters["alpha"]) == ("hotspots", 0.1)
    clusters = pd.read_csv(out / "clusters.csv")
    assert set(clusters["method"]) == {"hotspots:local_moran"}


def test_every_config_field_has_an_option_or_set():
    from geoclusters.pipeline import Config

    parser_help = subprocess.run(
        [sys.executable, "-m", "geoclusters", "run", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for field in Config.__dataclass_fields__:
        if field in ("groups", "notes"):
            continue  # tables and lists of sentences: TOML or --set
        assert "--" + field.replace("_", "-") in parser_help, field
    assert "--set FIELD=VALUE" in parser_help
