"""The tidy counts table: reading, suppression, validation."""

import numpy as np
import pandas as pd
import pytest

import geoclusters as gc
from geoclusters._accounting import Ledger
from geoclusters.counts import COLUMNS, parse_values
from geoclusters.errors import InputError


def test_suppressed_cells_become_missing_not_zero():
    raw = pd.Series(["12", "*", "..", "!", "-", "c", "", "0", "1,250"])
    values, status = parse_values(raw)
    assert values.iloc[0] == 12 and values.iloc[7] == 0 and values.iloc[8] == 1250
    assert values.iloc[1:7].isna().all()
    assert status.tolist() == ["ok"] + ["suppressed"] * 5 + ["missing", "ok", "ok"]


def test_unreadable_values_are_named():
    with pytest.raises(InputError, match="neither numbers nor known suppression") as caught:
        parse_values(pd.Series(["3", "three", "4"]))
    assert caught.value.rows == [1]


def test_long_csv_with_byte_order_mark_reads(tmp_path):
    path = tmp_path / "counts.csv"
    text = "code,sic,year,what,n\nA,7311,2015,businesses,10\nA,ALL,2015,businesses,100\n"
    path.write_bytes("\ufeff".encode() + text.encode())
    counts = gc.read_counts(
        path,
        columns={
            "area": "code",
            "sector": "sic",
            "period": "year",
            "measure": "what",
            "value": "n",
        },
        total="ALL",
        rounded_to=5,
    )
    assert list(counts.columns) == COLUMNS
    assert counts.set_index("sector")["value"].to_dict() == {gc.TOTAL: 100.0, "7311": 10.0}
    assert (counts["rounded_to"] == 5).all()


def test_wide_table_with_ignored_name_column():
    wide = pd.DataFrame(
        {"code": ["A", "B"], "label": ["Ay", "Bee"], "film": ["3", "*"], "music": ["1", "2"]}
    )
    counts = gc.read_counts(
        wide,
        columns={"area": "code"},
        layout="wide",
        measure="jobs",
        period="2020",
        ignore=["label"],
    )
    assert sorted(counts["sector"].unique()) == ["film", "music"]
    film_b = counts.query("area == 'B' and sector == 'film'").iloc[0]
    assert np.isnan(film_b["value"]) and film_b["status"] == "suppressed"


def test_real_wide_segment_file_reads_with_its_unnamed_code_column(data):
    path = data / "counts/business_counts_lad14_by_segment_2015.csv"
    counts = gc.read_counts(
        path,
        columns={"area": "Unnamed: 0"},
        layout="wide",
        measure="businesses",
        period="2015",
        ignore=["LAD14NM"],
        rounded_to=5,
    )
    assert counts["area"].nunique() == 380
    assert counts["sector"].nunique() == 64
    # every published count is a multiple of five
    assert (counts["value"] % 5 == 0).all()
    raw = pd.read_csv(path)
    assert counts["value"].sum() == raw.iloc[:, 2:].to_numpy().sum()


@pytest.mark.parametrize(
    ("frame", "message", "rows"),
    [
        (
            pd.DataFrame(
                {
                    "area": ["A", "A"],
                    "sector": "x",
                    "period": "1",
                    "measure": "m",
                    "value": [1.0, 2.0],
                }
            ),
            "more than once",
            [0, 1],
        ),
        (
            pd.DataFrame(
                {
                    "area": ["A", "B"],
                    "sector": "x",
                    "period": "1",
                    "measure": "m",
                    "value": [1.0, -2.0],
                }
            ),
            "negative counts",
            [1],
        ),
        (
            pd.DataFrame(
                {
                    "area": ["A", ""],
                    "sector": "x",
                    "period": "1",
                    "measure": "m",
                    "value": [1.0, 2.0],
                }
            ),
            "blank area",
            [1],
        ),
    ],
)
def test_bad_counts_name_their_rows(frame, message, rows):
    with pytest.raises(InputError, match=message) as caught:
        gc.validate_counts(frame)
    assert list(caught.value.rows) == rows


def _plain_canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """validate_counts by its definition: keys as stripped text, sorted by key."""
    out = frame.copy()
    for column in ["area", "sector", "period", "measure"]:
        out[column] = out[column].map(lambda v: str(int(v)) if isinstance(v, float) else str(v))
        out[column] = out[column].str.strip()
    out["value"] = out["value"].astype(float)
    out = out[COLUMNS].astype({c: str for c in ["area", "sector", "period", "measure"]})
    return out.sort_values(["area", "sector", "period", "measure"], kind="stable").reset_index(
        drop=True
    )


def test_validation_sorts_and_strips_keys_as_the_plain_definition():
    # keys by code, not text: padded labels, numbers, accents, case and an order
    # that is not the input's must come out as a sort of the stripped text would
    frame = pd.DataFrame(
        {
            "area": ["b", " a", "É", "B", "a ", "10", "9", "b", "É", "B", "10", "9"],
            "sector": [*"xxxx", "_total", "x", "x", "_total", "_total", " _total", *["_total"] * 2],
            "period": [2015.0] * 12,
            "measure": ["jobs"] * 12,
            "value": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
            "status": "ok",
            "rounded_to": 1,
        }
    )
    ledger = Ledger()
    got = gc.validate_counts(frame, ledger=ledger)
    pd.testing.assert_frame_equal(got, _plain_canonical(frame), check_dtype=False)
    assert got["area"].tolist() == ["10", "10", "9", "9", "B", "B", "a", "a", "b", "b", "É", "É"]
    assert "stripped surrounding spaces from 3 codes or labels" in ledger.accounts[0].repairs


def test_keys_equal_once_stripped_are_duplicates_named_by_row():
    frame = pd.DataFrame(
        {
            "area": ["A", "B", " A", "C"],
            "sector": "x",
            "period": "1",
            "measure": "m",
            "value": [1.0, 2.0, 3.0, 4.0],
        },
        index=[10, 11, 12, 13],
    )
    with pytest.raises(InputError, match="more than once") as caught:
        gc.validate_counts(frame)
    assert list(caught.value.rows) == [10, 12]


def test_sector_above_total_is_found_by_area_period_and_measure():
    frame = pd.DataFrame(
        {
            "area": ["A", "A", "B", "B", "A", "A"],
            "sector": ["x", "_total", "x", "_total", "x", "_total"],
            "period": ["1", "1", "1", "1", "2", "2"],
            "measure": "m",
            "value": [5.0, 10.0, 4.0, 3.0, 9.0, 9.0],
        }
    )
    with pytest.raises(InputError, match=r"4 > 3 in B, 1, m") as caught:
        gc.validate_counts(frame)
    assert list(caught.value.rows) == [2]


def test_area_codes_must_match_both_ways():
    counts = pd.DataFrame(
        {"area": ["A", "Z"], "sector": "x", "period": "1", "measure": "m", "value": [1.0, 2.0]}
    )
    with pytest.raises(InputError, match="not in the boundaries") as caught:
        gc.validate_counts(counts, areas=pd.Index(["A", "B"]))
    assert list(caught.value.rows) == ["Z"]
    with pytest.raises(InputError, match="have no counts") as caught:
        gc.validate_counts(counts.iloc[:1], areas=pd.Index(["A", "B"]))
    assert list(caught.value.rows) == ["B"]


def test_add_totals_sums_sectors_and_keeps_gaps_visible():
    counts = pd.DataFrame(
        {
            "area": ["A", "A", "B", "B"],
            "sector": ["x", "y", "x", "y"],
            "period": "1",
            "measure": "m",
            "value": [1.0, 2.0, 4.0, np.nan],
            "status": ["ok", "ok", "ok", "suppressed"],
        }
    )
    totals = gc.add_totals(counts).query("sector == @gc.TOTAL").set_index("area")
    assert totals.loc["A", "value"] == 3.0 and totals.loc["A", "status"] == "ok"
    assert np.isnan(totals.loc["B", "value"]) and totals.loc["B", "status"] == "suppressed"
    with pytest.raises(InputError, match="already have totals"):
        gc.add_totals(gc.add_totals(counts))


@pytest.mark.parametrize(
    ("module", "must_not_load"),
    [
        ("geoclusters.counts", "geoclusters.sources"),
        ("geoclusters.sources.nomis", "geoclusters.counts"),
    ],
)
def test_counts_and_the_nomis_client_do_not_import_each_other(module, must_not_load):
    """Issue 8: the counts <-> sources.nomis cycle is gone; both use private parsers."""
    import subprocess
    import sys
    from pathlib import Path

    src = str(Path(gc.__file__).parents[1])
    code = (
        f"import sys, {module}; "
        f"print(sorted(m for m in sys.modules if m.startswith('{must_not_load}')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"PYTHONPATH": src}, check=True)  # fmt: skip
    assert result.stdout.strip() == "[]"
