"""SIC-4 → DCMS sub-sector → sector group, checked against the published 2025 SIC-4 file."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from geoclusters import taxonomy
from geoclusters.counts import TOTAL
from geoclusters.errors import InputError

# The DCMS 2016 definition written out by hand from the DCMS methodology tables.
EXPECTED = {
    "Advertising and marketing": {"7021", "7311", "7312"},
    "Architecture": {"7111"},
    "Crafts": {"3212"},
    "Design and designer fashion": {"7410"},
    "Film, TV, video, radio and photography": {
        "5911", "5912", "5913", "5914", "6010", "6020", "7420",
    },
    "IT, software and computer services": {"5821", "5829", "6201", "6202"},
    "Publishing": {"5811", "5812", "5813", "5814", "5819", "7430"},
    "Museums, galleries and libraries": {"9101", "9102"},
    "Music, performing and visual arts": {"5920", "8552", "9001", "9002", "9003", "9004"},
}  # fmt: skip


@pytest.fixture(scope="module")
def sic_2025(data) -> pd.DataFrame:
    return pd.read_csv(data / "counts" / "creative_enterprises_england_lad23_by_sic4_2025.csv")


def test_definition_is_the_dcms_2016_list():
    defined = taxonomy.DCMS_2016.groupby("subsector")["sic4"].agg(set).to_dict()
    assert defined == EXPECTED
    assert len(taxonomy.DCMS_2016) == 31
    assert taxonomy.SUBSECTORS == tuple(EXPECTED)
    assert taxonomy.DCMS_2016["sic4"].is_unique
    assert list(taxonomy.DCMS_2016.columns) == ["sic4", "description", "subsector"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("7311", "7311"),
        (7311, "7311"),
        (7311.0, "7311"),
        ("73.11", "7311"),
        (" 7311 ", "7311"),
        ("7311 – Advertising agencies", "7311"),
        ("7311 : Advertising agencies", "7311"),
        ("01.11", "0111"),
        (111, "0111"),
        ("111", "0111"),
        ("73110", "73110"),
        ("advertising", "advertising"),
    ],
)
def test_normalise_sic(raw, expected):
    assert taxonomy.normalise_sic([raw]).tolist() == [expected]


def test_normalise_keeps_index_and_missing():
    codes = pd.Series(["7311", None], index=["a", "b"])
    out = taxonomy.normalise_sic(codes)
    assert list(out.index) == ["a", "b"]
    assert out["a"] == "7311" and pd.isna(out["b"])


def test_unknown_codes_raise_naming_them():
    with pytest.raises(InputError) as caught:
        taxonomy.sic_to_subsector(["7311", "4711", "73110"])
    assert set(caught.value.rows) == {"4711", "73110"}


def test_unknown_codes_reported():
    with pytest.warns(UserWarning, match="4711"):
        out = taxonomy.sic_to_subsector(["7311", "4711"], unknown="warn")
    assert out.iloc[0] == "Advertising and marketing"
    assert pd.isna(out.iloc[1])


def test_every_2025_code_maps_to_the_files_own_group(sic_2025):
    subsectors = taxonomy.sic_to_subsector(sic_2025["Description"])
    assert subsectors.notna().all()
    # the file's own grouping, row by row
    assert (subsectors == sic_2025["Industry Group"]).all()
    codes = set(taxonomy.normalise_sic(sic_2025["Description"]))
    assert len(codes) == 29
    assert set(taxonomy.DCMS_2016["sic4"]) - codes == {"9101", "9102"}


def test_subsector_totals_equal_the_files_totals(sic_2025):
    counts = pd.DataFrame(
        {
            "area": sic_2025["Location"],
            "sector": sic_2025["Description"],
            "period": "2025",
            "measure": "businesses",
            "value": sic_2025["Value"].astype(float),
            "rounded_to": 5,
        }
    )
    out = taxonomy.classify_counts(counts)
    ours = out.groupby("sector")["value"].sum()
    theirs = sic_2025.groupby("Industry Group")["Value"].sum()
    assert ours.to_dict() == theirs.astype(float).to_dict()
    assert out["value"].sum() == sic_2025["Value"].sum()
    # every area kept; one row per area and sub-sector present in the file (8 of 9)
    assert out["area"].nunique() == sic_2025["Location"].nunique() == 296
    assert len(out) == 296 * 8
    by_area = out.groupby("area")["value"].sum()
    assert by_area.to_dict() == sic_2025.groupby("Location")["Value"].sum().astype(float).to_dict()


def _counts(sector, value, measure="businesses", area="A", status=None):
    frame = pd.DataFrame(
        {"area": area, "sector": sector, "period": "2015", "measure": measure, "value": value}
    )
    if status is not None:
        frame["status"] = status
    return frame


def test_suppressed_component_makes_the_sum_suppressed():
    counts = _counts(
        ["7311", "7312", "7111", TOTAL], [10.0, np.nan, 5.0, 100.0],
        status=["ok", "suppressed", "ok", "ok"],
    )  # fmt: skip
    out = taxonomy.classify_counts(counts).set_index("sector")
    assert np.isnan(out.loc["Advertising and marketing", "value"])
    assert out.loc["Advertising and marketing", "status"] == "suppressed"
    assert out.loc["Architecture", "value"] == 5.0
    assert out.loc[TOTAL, "value"] == 100.0


def test_groups_by_measure_follow_nesta_2016():
    # architecture is its own group for businesses but joins services for employment
    rows = ["7311", "7111", "7410", "3212", "9102", "5811", "5911"]
    values = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]
    counts = pd.concat([_counts(rows, values, "businesses"), _counts(rows, values, "employment")])
    out = taxonomy.classify_counts(counts, level="group")
    got = out.set_index(["measure", "sector"])["value"].to_dict()
    assert got == {
        ("businesses", "services"): 1 + 4,
        ("businesses", "architecture"): 2,
        ("businesses", "content"): 32 + 64,
        ("employment", "services"): 1 + 2 + 4,
        ("employment", "content"): 64,
        ("employment", "publishing"): 32,
    }
    assert out.attrs["left_out"] == ["Crafts", "Museums, galleries and libraries"]


def test_custom_groups_and_bad_groups():
    counts = _counts(["7311", "9102"], [3.0, 4.0])
    out = taxonomy.classify_counts(
        counts, level="group", groups={"all": ["Advertising and marketing",
                                               "Museums, galleries and libraries"]}
    )  # fmt: skip
    assert out["value"].tolist() == [7.0]
    with pytest.raises(InputError) as caught:
        taxonomy.group_mapping(groups={"x": ["Advertising"]})
    assert caught.value.rows == ["Advertising"]
    with pytest.raises(InputError):
        taxonomy.group_mapping(groups={"x": ["Crafts"], "y": ["Crafts"]})
    with pytest.raises(InputError, match="turnover"):
        taxonomy.group_mapping("turnover")


def test_unknown_codes_in_counts():
    counts = _counts(["7311", "4711"], [3.0, 4.0])
    with pytest.raises(InputError) as caught:
        taxonomy.classify_counts(counts)
    assert caught.value.rows == ["4711"]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = taxonomy.classify_counts(counts, unknown="warn")
    assert any("4711" in str(w.message) for w in seen)
    assert out.attrs["unknown"] == ["4711"]
    assert out["value"].tolist() == [3.0]


def test_every_area_stays():
    # area B has only an unknown code; it still appears, as missing
    counts = pd.concat([_counts(["7311"], [3.0], area="A"), _counts(["4711"], [4.0], area="B")])
    with pytest.warns(UserWarning):
        out = taxonomy.classify_counts(counts, unknown="warn")
    row_b = out[out["area"] == "B"].iloc[0]
    assert row_b["sector"] == "Advertising and marketing"
    assert np.isnan(row_b["value"]) and row_b["status"] == "missing"


def test_report_spelling_and_positional_options_are_deprecated():
    with pytest.warns(DeprecationWarning, match="unknown='warn'"), pytest.warns(UserWarning):
        out = taxonomy.sic_to_subsector(["7311", "4711"], unknown="report")
    assert out.isna().tolist() == [False, True]
    counts = pd.DataFrame({"area": "A", "period": "2025", "measure": "businesses",
                           "sector": ["7311", "7111"], "value": [10.0, 20.0]})  # fmt: skip
    with pytest.warns(DeprecationWarning, match="level=... by keyword"):
        old = taxonomy.classify_counts(counts, "group")
    pd.testing.assert_frame_equal(old, taxonomy.classify_counts(counts, level="group"))
