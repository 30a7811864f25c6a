"""Typed configuration: every field's type and range checked where the config is read."""

import dataclasses
import warnings

import pytest

import geoclusters as gc
from geoclusters.errors import InputError
from geoclusters.pipeline import Config, ConfigError

# (field, bad value, words the message must hold)
BAD = [
    ("top_n", "ten", "not a positive whole number"),
    ("top_n", 0, "not a positive whole number"),
    ("top_n", 2.5, "not a positive whole number"),
    ("quantile", "0.75", "is text, not a number"),
    ("quantile", 2.0, "out of range"),
    ("quantile", -0.1, "out of range"),
    ("quantile", float("nan"), "not a finite number"),
    ("alpha", 0.0, "out of range"),
    ("alpha", 1, "out of range"),
    ("min_members", "two", "not a positive whole number"),
    ("permutations", -1, "zero or more"),
    ("permutations", True, "not a whole number"),
    ("seed", "0", "is text"),
    ("rook", "yes", "not true or false"),
    ("lisa", 1, "not true or false"),
    ("method", "nesta", "did you mean 'nesta2016'"),
    ("correction", "fdr2", "did you mean 'fdr'"),
    ("islands", "nearst", "did you mean 'nearest'"),
    ("tolerance", -5, "out of range"),
    ("title", 3, "not text"),
    ("hubs", [101], "not text"),
    ("hubs", {"a": 1}, "not a list"),
    ("periods", ["2010", "2012", "2015"], "exactly two"),
    ("periods", {"a": [2007], "b": [2008], "c": [2009]}, "exactly two"),
    ("periods", "2015", "a run compares two periods"),
    ("groups", "nesta", "did you mean 'nesta2016'"),
    ("groups", 3, "not a table of groups"),
    ("workers", 0, "positive whole number"),
    ("missing_counts", "drop", "not one of"),
]


@pytest.mark.parametrize(("name", "value", "words"), BAD, ids=[f"{b[0]}={b[1]!r}" for b in BAD])
def test_bad_values_are_config_errors_naming_the_field(name, value, words):
    for make in (
        lambda: Config(**{name: value}),
        lambda: Config.from_mapping({name: value}),
        lambda: Config().replace(**{name: value}),
    ):
        with pytest.raises(ConfigError) as caught:
            make()
        message = str(caught.value)
        assert name in message and words in message, message
        assert "what to do" in message
        assert isinstance(caught.value, InputError)


def test_every_field_is_checked_by_its_type_hint():
    """A field without a range still refuses a value of another type: a field added to
    Config later is checked without code of its own."""
    hints = {f.name: f.type for f in dataclasses.fields(Config)}
    wrong = {"int": "x", "float": "x", "bool": "x", "str": 3}
    checked = 0
    for name, hint in hints.items():
        base = hint.split(" | ")[0]
        if base in wrong:
            with pytest.raises(ConfigError, match=name):
                Config(**{name: wrong[base]})
            checked += 1
    assert checked >= 15


def test_good_values_are_kept_and_converted_only_where_documented():
    config = Config(top_n=5, quantile=1, alpha=0.1, permutations=0, seed=None)
    assert (config.top_n, config.quantile, config.permutations, config.seed) == (5, 1.0, 0, None)
    assert isinstance(config.quantile, float)
    # one code where a list is expected is one code, never its characters
    assert Config(hubs="E30000234").hubs == ("E30000234",)
    assert Config.from_mapping({"conurbations": {"hubs": "E30000234"}}).hubs == ("E30000234",)
    assert Config(hubs=["E30000234", "E30000281"]).hubs == ("E30000234", "E30000281")
    # TOML has no null: "none" stands for None in fields that may be None
    assert Config.from_mapping({"correction": "none", "seed": "none"}).correction is None
    assert Config.from_mapping({"groups": "none"}).groups is None
    with pytest.raises(ConfigError, match="top_n cannot be none"):
        Config(top_n=None)
    with pytest.raises(ConfigError, match="top_n='none' is text"):
        Config.from_mapping({"top_n": "none"})


def test_toml_values_of_the_wrong_type_name_the_file_and_the_field(tmp_path):
    path = tmp_path / "settings.toml"
    cases = {
        'top_n = "ten"\n': "top_n='ten'",
        'quantile = "0.75"\n': "quantile='0.75'",
        "[detect]\nquantile = 2.0\n": "quantile=2.0",
        "[periods]\na = [2007]\nb = [2008]\nc = [2009]\n": "periods has 3 spans",
        'min_members = "two"\n': "min_members='two'",
        "top_n = \n": "not valid TOML",
    }
    for text, words in cases.items():
        path.write_text(text)
        with pytest.raises(ConfigError) as caught:
            Config.from_toml(path)
        assert str(path) in str(caught.value) and words in str(caught.value)
    path.write_text('[conurbations]\nhubs = "E30000234"\n')
    assert Config.from_toml(path).hubs == ("E30000234",)


def test_unknown_keys_suggest_the_closest_name(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[detect]\ntop_m = 3\n[statistics]\npermutatons = 99\nzzz = 1\n")
    with pytest.raises(ConfigError) as caught:
        Config.from_toml(path)
    assert caught.value.rows == ["detect.top_m", "statistics.permutatons", "statistics.zzz"]
    assert "detect.top_m -> top_n" in str(caught.value)
    assert "statistics.permutatons -> permutations" in str(caught.value)


def test_run_options_are_checked_before_any_work():
    region = gc.datasets.demo_region(seed=0)
    with pytest.raises(ConfigError, match="top_n='ten'"):
        gc.run(region.areas, region.counts, top_n="ten")
    with pytest.raises(ConfigError, match="did you mean top_m -> top_n"):
        gc.run(region.areas, region.counts, top_m=3)


def test_old_missing_counts_spelling_still_warns_through_config():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert Config(missing_counts="error").missing_counts == "raise"
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)


def test_fields_added_later_are_checked_by_their_hints():
    """As when the conurbation and sensitivity fields join Config: plain hints, no code."""
    from dataclasses import dataclass, field
    from typing import Literal

    @dataclass(frozen=True)
    class Extended(Config):
        mode: Literal["sector", "commuting"] = "sector"
        shares: tuple[float, ...] = (0.5,)
        flows: dict[str, float] = field(default_factory=dict)

    assert Extended(shares=[0.1, 1]).shares == (0.1, 1.0)
    assert Extended(shares=0.2).shares == (0.2,)
    with pytest.raises(ConfigError, match="did you mean 'commuting'"):
        Extended(mode="comuting")
    with pytest.raises(ConfigError, match="shares='x' is text, not a number"):
        Extended(shares=["x"])
    with pytest.raises(ConfigError, match="not a table"):
        Extended(flows=[1, 2])
    with pytest.raises(ConfigError, match="top_n"):
        Extended(top_n="ten")  # the inherited fields still are
