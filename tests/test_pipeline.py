"""The whole job on the demo region and on the real TTWA map."""

import json

import _realdata
import geopandas as gpd
import pandas as pd
import pytest

import geoclusters as gc
from geoclusters._labels import MORAN_LABELS
from geoclusters.errors import InputError
from geoclusters.pipeline import Config


@pytest.fixture(scope="module")
def demo():
    region = gc.datasets.demo_region(seed=0)
    return region, gc.run(region.areas, region.counts, permutations=199)


def test_every_area_is_in_the_output_with_its_measures(demo):
    region, result = demo
    assert list(result.areas.index) == list(region.areas.index)
    assert (
        result.areas["cluster_type"]
        .isin(["high concentration", "high growth", "both", "none"])
        .all()
    )
    lq = result.metrics[result.metrics["metric"] == "lq"]
    pairs = lq[["measure", "group"]].drop_duplicates()
    assert len(pairs) == 6  # three groups for each of the two measures
    assert len(lq) == 6 * len(region.areas)
    assert lq["value"].notna().all()
    lisa = result.lisa
    assert len(lisa[["measure", "group"]].drop_duplicates()) == 6
    assert set(lisa["label"]) <= set(MORAN_LABELS)
    assert "no data" not in set(lisa["label"])  # the demo has no islands or missing values
    assert result.summary.loc["areas", "total"] == len(region.areas)


def test_conurbation_column_matches_the_conurbation_table(demo):
    _, result = demo
    for conurbation_id, row in result.conurbations.iterrows():
        members = row["members"].split(";")
        assert (result.areas.loc[members, "conurbation_id"] == conurbation_id).all()
        assert result.areas.loc[members, "is_cluster"].all()
    assert (result.areas["conurbation_id"] != "").sum() == result.conurbations["n_members"].sum()


def test_outputs_are_written_and_read_back(demo, tmp_path):
    region, result = demo
    paths = result.write(tmp_path, maps=False, report=False)
    areas = gpd.read_file(paths["areas"])
    assert len(areas) == len(region.areas)
    assert set(areas["area"]) == set(region.areas.index)
    assert (areas["data"] == "SYNTHETIC DEMO DATA").all()
    conurbations = gpd.read_file(paths["conurbations"])
    assert len(conurbations) == len(result.conurbations)
    clusters = pd.read_csv(paths["clusters"])
    assert len(clusters) == len(result.clusters)
    provenance = json.loads(paths["provenance"].read_text())
    assert provenance["version"] == gc.__version__
    assert provenance["parameters"]["top_n"] == 10
    assert provenance["parameters"]["seed"] == 0
    assert provenance["inputs"]["counts"].startswith("sha256:")
    assert any("SYNTHETIC" in note for note in provenance["notes"])


def test_the_same_inputs_give_the_same_fingerprints_and_results(demo):
    region, result = demo
    again = gc.run(region.areas, region.counts, permutations=199)
    assert again.provenance.inputs == result.provenance.inputs
    pd.testing.assert_frame_equal(
        again.areas.drop(columns="geometry"), result.areas.drop(columns="geometry")
    )


def test_config_from_toml_and_unknown_keys(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        'method = "thresholds"\n[detect]\nlq_min = 1.5\n[conurbations]\nhubs = ["X"]\n'
        '[periods]\n"early" = [2007, 2008]\n"late" = [2013, 2014]\n'
    )
    config = Config.from_toml(path)
    assert (config.method, config.lq_min, config.hubs) == ("thresholds", 1.5, ("X",))
    assert config.periods == {"early": [2007, 2008], "late": [2013, 2014]}
    path.write_text("top_m = 3\n")
    with pytest.raises(InputError, match="unknown configuration keys") as caught:
        Config.from_toml(path)
    assert caught.value.rows == ["top_m"]


def test_threshold_method_through_the_pipeline():
    region = gc.datasets.demo_region(seed=0)
    result = gc.run(region.areas, region.counts, method="thresholds", lq_min=2.0, lisa=False)
    assert set(result.clusters["method"]) == {"thresholds"}
    assert (result.clusters["value"] >= 2.0).all()
    planted = list(region.planted["conurbation"])
    assert (result.areas.loc[planted, "cluster_type"] == "high concentration").all()


@pytest.fixture(scope="module")
def uk():
    return _realdata.run_ttwas(permutations=99, lisa=False)


def test_real_ttwas_end_to_end_tunbridge_wells_conurbation_without_london(uk):
    """Issue test: the Kent and Sussex conurbation on the real TTWA map (approximate counts)."""
    names = {
        "Tunbridge Wells": "E30000281",
        "Hastings": "E30000061",
        "Eastbourne": "E30000204",
        "Brighton": "E30000179",
    }
    areas = uk.areas
    assert {areas.loc[code, "name"] for code in names.values()} == set(names)
    assert areas.loc[list(names.values()), "is_cluster"].all()

    def groups(code):
        text = areas.loc[code, "concentration_groups"] + "; " + areas.loc[code, "growth_groups"]
        return {label.split(":")[1] for label in text.split("; ") if label}

    shared = set.intersection(*(groups(code) for code in names.values()))
    assert shared, "the four areas share no sector group in this data"
    assert areas.loc[_realdata.LONDON, "is_cluster"]
    # naive sector-aware merging: London, a cluster in the same groups, absorbs them
    naive = gc.merge_conurbations(areas, uk.counts, uk.graph, uk.detection).table
    absorbed = naive[naive["members"].str.contains(_realdata.LONDON)]
    assert set(names.values()) <= set(absorbed.iloc[0]["members"].split(";"))
    # with London kept out as a hub, the four form one conurbation without London
    merged = gc.merge_conurbations(
        areas, uk.counts, uk.graph, uk.detection, hubs=[_realdata.LONDON]
    ).table
    holding = [set(m.split(";")) for m in merged["members"] if names["Tunbridge Wells"] in m]
    assert len(holding) == 1
    assert set(names.values()) <= holding[0]
    assert _realdata.LONDON not in holding[0]
    # their neighbours on the map, as the design notes say
    neighbours = set(uk.graph[names["Tunbridge Wells"]].index)
    assert {names["Hastings"], names["Eastbourne"], _realdata.LONDON} <= neighbours
    assert names["Brighton"] in set(uk.graph[names["Eastbourne"]].index)


def test_real_ttwas_keep_northern_ireland_as_no_data():
    result = gc.run(
        _realdata.ttwas(),
        _realdata.ttwa_counts(),
        groups=_realdata.CREATIVE_GROUPS,
        periods=["2010", "2015"],
        missing_counts="no data",
        lisa=False,
    )
    assert len(result.areas) == 228
    no_data = result.areas.index[result.areas["cluster_type"] == "no data"]
    assert sorted(no_data) == [f"N1200000{i}" for i in range(1, 10)] + ["N12000010"]
    with pytest.raises(InputError, match="have no counts"):
        gc.run(
            _realdata.ttwas(),
            _realdata.ttwa_counts(),
            groups=_realdata.CREATIVE_GROUPS,
            periods=["2010", "2015"],
            lisa=False,
        )


def test_written_fields_have_no_spaces_and_read_back_exactly(demo, tmp_path):
    from geoclusters.cli import _load_outputs

    _, result = demo
    result.write(tmp_path, maps=False, report=False)
    areas = gpd.read_file(tmp_path / "areas.gpkg")
    assert not [c for c in areas.columns if " " in c]
    _, _, conurbations, _, metrics, lisa = _load_outputs(tmp_path)
    keys = ["area", "measure", "group", "metric"]
    expected = result.metrics.sort_values(keys).reset_index(drop=True)
    got = metrics.sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert len(lisa) == len(result.lisa)
    merged = result.merged.metrics.sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        conurbations.metrics.sort_values(keys).reset_index(drop=True), merged, check_dtype=False
    )


def test_write_options_by_position_are_deprecated(demo, tmp_path):
    _, result = demo
    with pytest.warns(DeprecationWarning, match="maps= and report= by keyword"):
        paths = result.write(tmp_path, False, False)
    assert "map" not in paths and "report" not in paths and paths["areas"].exists()


def test_run_result_repr_is_short_and_has_html(demo):
    _, result = demo
    assert len(repr(result)) < 200 and "conurbations" in repr(result)
    assert result._repr_html_().startswith("<table>")
    assert result.provenance.parameters["start"] == result.detection.start


def test_missing_counts_error_spelling_is_deprecated():
    with pytest.warns(DeprecationWarning, match="missing_counts='raise'"):
        config = Config.from_mapping({"missing_counts": "error"})
    assert config.missing_counts == "raise"


@pytest.mark.slow
def test_run_on_two_dask_workers_writes_what_the_local_run_writes(tmp_path):
    pytest.importorskip("distributed")
    region = gc.datasets.demo_region(seed=0)
    options = {"permutations": 99, "method": "hotspots"}
    local = gc.run(region.areas, region.counts, **options)
    dask = gc.run(region.areas, region.counts, workers=2, **options)
    local.write(tmp_path / "local", maps=False, report=False)
    dask.write(tmp_path / "dask", maps=False, report=False)
    for name in ("clusters.csv", "summary.csv", "fields.json"):
        assert (tmp_path / "local" / name).read_text() == (tmp_path / "dask" / name).read_text()
    for name in ("areas.gpkg", "conurbations.gpkg"):
        a = gpd.read_file(tmp_path / "local" / name)
        b = gpd.read_file(tmp_path / "dask" / name)
        pd.testing.assert_frame_equal(a, b)
    assert dask.provenance.parameters["workers"] == 2


def test_dask_settings_are_checked_where_the_config_is_read():
    with pytest.raises(InputError, match="cannot both be set"):
        Config.from_mapping({"scheduler": "tcp://127.0.0.1:8786", "workers": 2})
    for bad in (0, -1, "two", True):
        with pytest.raises(InputError, match="positive whole number"):
            Config.from_mapping({"workers": bad})
    assert Config.from_mapping({"workers": 2}).workers == 2
    # TOML has no null: "none" clears them
    assert Config.from_mapping({"scheduler": "none"}).scheduler is None


def test_underscore_and_spaced_names_end_to_end_through_the_files(tmp_path):
    """``jobs_film``/``tv`` beside ``jobs``/``film_tv``, and sector names with spaces and
    commas as groups: run, write, read back with what ``map --from`` uses."""
    from geoclusters.cli import _load_outputs, main

    region = gc.datasets.demo_region(seed=0)
    counts = region.counts.copy()
    film = "Film, TV, video, radio and photography"
    counts["measure"] = counts["measure"].map({"businesses": "jobs_film", "employment": "jobs"})
    is_film = counts["sector"] == film
    counts.loc[is_film & (counts["measure"] == "jobs_film"), "sector"] = "tv"
    counts.loc[is_film & (counts["measure"] == "jobs"), "sector"] = "film_tv"
    result = gc.run(region.areas, counts, groups=None, lisa=False)
    pairs = set(zip(result.metrics["measure"], result.metrics["group"], strict=True))
    assert {("jobs_film", "tv"), ("jobs", "film_tv")} <= pairs
    assert ("jobs_film", "film_tv") not in pairs and ("jobs", "tv") not in pairs
    result.write(tmp_path, maps=False, report=False)
    written = gpd.read_file(tmp_path / "areas.gpkg")
    assert not [c for c in written.columns if " " in c or "," in c]
    assert {"jobs_film_tv_lq", "jobs_film_tv_lq_2"} <= set(written.columns)  # kept apart
    mapping = json.loads((tmp_path / "fields.json").read_text())["areas"]
    assert {tuple(mapping["jobs_film_tv_lq"]), tuple(mapping["jobs_film_tv_lq_2"])} == {
        ("jobs_film", "tv", "lq"),
        ("jobs", "film_tv", "lq"),
    }
    _, _, _, _, metrics, _ = _load_outputs(tmp_path)
    keys = ["area", "measure", "group", "metric"]
    pd.testing.assert_frame_equal(
        metrics.sort_values(keys).reset_index(drop=True),
        result.metrics.sort_values(keys).reset_index(drop=True),
        check_dtype=False,
    )
    assert main(["report", "--from", str(tmp_path), "--out", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<b>jobs_film:tv</b>: count" in html or "<b>jobs:film_tv</b>: count" in html


def test_accounting_of_a_run_adds_up_and_names_what_was_set_aside():
    """Count rows outside the two compared periods or in no sector group are set aside by the
    chosen method, and said so; nothing else is dropped."""
    from geoclusters._accounting import Ledger

    region = gc.datasets.demo_region(seed=0)
    ledger = Ledger()
    counts = gc.read_counts(region.counts, ledger=ledger)
    result = gc.run(region.areas, counts, periods=["2007", "2014"], lisa=False, ledger=ledger)
    assert result.accounting is ledger
    assert [a.what for a in ledger] == ["counts", "areas analysed", "counts analysed"]
    areas, used = ledger.accounts[1], ledger.accounts[2]
    assert (areas.rows_in, areas.rows_out, areas.n_set_aside) == (220, 220, 0)
    raw = region.counts
    off_period = ~raw["period"].isin(["2007", "2014"])
    grouped = {
        sector
        for groups in gc.taxonomy.NESTA_2016_GROUPS.values()
        for members in groups.values()
        for sector in members
    }
    no_group = ~off_period & ~raw["sector"].isin(grouped | {gc.TOTAL})
    reasons = {s.reason.split(":")[0]: s.count for s in used.set_aside}
    assert reasons == {
        "period not among the two compared": off_period.sum(),
        "sector in no sector group": no_group.sum(),
    }
    assert used.rows_in == len(raw)
    assert used.rows_out == len(raw) - off_period.sum() - no_group.sum()
    assert "Crafts" in next(s.reason for s in used.set_aside if "sector" in s.reason)


def test_accounting_is_in_the_provenance_file(demo, tmp_path):
    _, result = demo
    paths = result.write(tmp_path / "out", maps=False, report=False)
    written = json.loads(paths["provenance"].read_text())["accounting"]
    assert written == result.accounting.to_dict()
    assert {a["what"] for a in written} == {"areas analysed", "counts analysed"}


def test_accounting_of_sic_coded_counts_follows_their_sub_sectors():
    import warnings

    region = gc.datasets.demo_region(seed=0)
    candidates = [f"{n:04d}" for n in range(1000, 10000)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        subsectors = gc.taxonomy.sic_to_subsector(candidates, unknown="warn")
    first_code = subsectors.dropna().reset_index().drop_duplicates(0).set_index(0)["index"]
    code_of = {sub: candidates[i] for sub, i in first_code.items()}
    counts = region.counts.copy()
    is_sector = counts["sector"] != gc.TOTAL
    counts.loc[is_sector, "sector"] = counts.loc[is_sector, "sector"].map(code_of)
    result = gc.run(region.areas, counts, lisa=False)
    used = result.accounting.accounts[-1]
    left_out = {code_of["Crafts"], code_of["Museums, galleries and libraries"]}
    expected = counts["sector"].isin(left_out).sum()
    assert used.rows_in == len(counts)
    assert [(s.reason.split(":")[0], s.count) for s in used.set_aside] == [
        ("sector in no sector group", expected)
    ]
