"""Typed settings: how a :class:`geoclusters.Config` checks every field where it is read.

Each field is checked against its type hint (``int``, ``float``, ``bool``,
``str``, ``tuple[str, ...]``, ``X | None``) and against what its
:func:`setting` metadata says (choices, a range, a custom check), so a field
added to the config is checked without code here. The same rules apply to
``Config(...)``, ``run(**options)``, TOML files and the command line.

Values are taken as written, never guessed: a number in quotes
(``quantile = "0.75"``) is refused rather than converted, because a quoted
number in a file is as often a typo as an intention. The command line is the
one place where everything is text; it converts each value by TOML's rules
(``0.75`` is a number, ``true`` a boolean, anything else text) before these
checks. A single text value where a list of codes is expected
(``hubs = "E30000234"``) is taken as a list of that one code, never as its
characters.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .errors import ConfigError

_NONE = "none"


def setting(
    default: Any = dataclasses.MISSING,
    *,
    choices: Sequence[Any] | None = None,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    check: Callable[[str, Any], Any] | None = None,
    nullable: bool = False,
    help: str = "",
    default_factory: Callable[[], Any] | Any = dataclasses.MISSING,
) -> Any:
    """A config field with the rules it is checked by.

    Parameters
    ----------
    default, default_factory
        As for :func:`dataclasses.field`.
    choices : sequence, optional
        The allowed values (a close match is suggested for others).
    low, high : float, optional
        Inclusive bounds of a number (exclusive with ``low_open`` /
        ``high_open``).
    check : callable, optional
        ``check(name, value)`` returns the value to keep or raises
        :class:`ConfigError`; for fields typed ``Any``.
    nullable : bool
        ``None`` (``"none"`` in TOML) is allowed, for fields typed ``Any``.
    help : str
        One line for the command line's ``--help``.
    """
    metadata = {
        "choices": tuple(choices) if choices is not None else None,
        "low": low,
        "high": high,
        "low_open": low_open,
        "high_open": high_open,
        "check": check,
        "nullable": nullable,
        "help": help,
    }
    return dataclasses.field(default=default, default_factory=default_factory, metadata=metadata)


def hints(cls) -> dict[str, Any]:
    """The resolved type hints of a config class's fields."""
    return typing.get_type_hints(cls)


def nullable(hint: Any, field: dataclasses.Field) -> bool:
    """Whether ``None`` is an allowed value of the field."""
    return bool(field.metadata.get("nullable")) or (
        _is_union(hint) and type(None) in typing.get_args(hint)
    )


def is_sequence(hint: Any) -> bool:
    """Whether the field holds a tuple of values (``tuple[str, ...]``, maybe ``| None``)."""
    return typing.get_origin(_without_none(hint)) is tuple


def is_bool(hint: Any) -> bool:
    return _without_none(hint) is bool


def check_fields(config) -> dict[str, Any]:
    """Every field of ``config`` checked; returns the values to keep (converted where said).

    Raises
    ------
    ConfigError
        For the first field whose value is of the wrong type or out of range.
    """
    resolved = hints(type(config))
    values = {}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        values[field.name] = check_value(field, resolved[field.name], value)
    return values


def check_value(field: dataclasses.Field, hint: Any, value: Any) -> Any:
    """One field's value checked against its type hint and metadata."""
    name = field.name
    if isinstance(value, str) and value.strip().lower() == _NONE and nullable(hint, field):
        return None  # TOML has no null
    if value is None:
        if nullable(hint, field):
            return None
        raise ConfigError(
            f"{name} cannot be none",
            fix=f"leave {name} out to keep its default ({_shown(field)}), or give a value",
        )
    value = _typed(name, _without_none(hint), value, field)
    meta = field.metadata
    if meta.get("check") is not None:
        value = meta["check"](name, value)
    allowed = choices(field, hint)
    if allowed is not None and value not in allowed:
        choices_ = allowed
        close = difflib.get_close_matches(str(value), [str(c) for c in choices_], n=1)
        hint_text = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigError(
            f"{name}={value!r} is not one of {list(choices_)}",
            fix=f"{hint_text}set {name} to one of {list(choices_)}",
        )
    _check_range(field, value)
    return value


def _typed(name: str, hint: Any, value: Any, field: dataclasses.Field) -> Any:
    if hint is Any or _is_union(hint):
        return value
    if hint is bool:
        if isinstance(value, bool | np.bool_):
            return bool(value)
        raise _wrong(name, value, "true or false", field)
    if hint is int:
        if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
            return int(value)
        raise _wrong(name, value, _whole(field), field)
    if hint is float:
        if isinstance(value, int | float | np.integer | np.floating) and not isinstance(
            value, bool | np.bool_
        ):
            if not math.isfinite(float(value)):
                raise ConfigError(
                    f"{name}={value!r} is not a finite number",
                    fix=f"give a finite number (default {_shown(field)})",
                )
            return float(value)
        raise _wrong(name, value, "a number", field)
    if hint is str:
        if isinstance(value, str):
            return value
        raise _wrong(name, value, "text", field)
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return value  # checked against choices(), which reads the Literal
    if origin is tuple:
        args = typing.get_args(hint)
        item = args[0] if len(args) == 2 and args[1] is Ellipsis else Any
        if item is str:
            return _codes(name, value)
        items = [value] if isinstance(value, str) or not _listlike(value) else list(value)
        return tuple(_typed(name, item, v, field) for v in items)
    if origin in (dict, Mapping, collections.abc.Mapping) and not isinstance(value, Mapping):
        raise _wrong(name, value, "a table", field)
    return value


def _listlike(value: Any) -> bool:
    return isinstance(value, Sequence | np.ndarray | set) and not isinstance(value, Mapping)


def choices(field: dataclasses.Field, hint: Any) -> tuple | None:
    """The allowed values of a field: its ``choices`` setting, or its ``Literal`` type."""
    if field.metadata.get("choices") is not None:
        return field.metadata["choices"]
    base = _without_none(hint)
    if typing.get_origin(base) is typing.Literal:
        return typing.get_args(base)
    return None


def _codes(name: str, value: Any) -> tuple[str, ...]:
    # one text value is one code: never iterate a string into its characters
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Mapping) or not isinstance(value, Sequence | np.ndarray | set):
        raise ConfigError(
            f"{name}={value!r} is not a list of text values",
            fix=f'give a list such as {name} = ["E30000234"] (in TOML), or one value',
        )
    items = list(value)
    wrong = [v for v in items if not isinstance(v, str)]
    if wrong:
        raise ConfigError(
            f"{name} holds values that are not text",
            rows=wrong,
            fix="quote every code (a code such as 01234 written as a number loses its "
            f'leading zero): {name} = ["01234"]',
        )
    return tuple(items)


def _check_range(field: dataclasses.Field, value: Any) -> None:
    meta = field.metadata
    low, high = meta.get("low"), meta.get("high")
    if low is None and high is None:
        return
    if not isinstance(value, int | float) or isinstance(value, bool):
        return
    too_low = low is not None and (value <= low if meta["low_open"] else value < low)
    too_high = high is not None and (value >= high if meta["high_open"] else value > high)
    if too_low or too_high:
        problem = f"is out of range: it must be {_bounds(meta)}"
        if isinstance(value, int) and high is None and low in (0, 1) and not meta["low_open"]:
            problem = f"is not {_whole(field)}"
        raise ConfigError(
            f"{field.name}={value!r} {problem}",
            fix=f"set {field.name} to a value {_bounds(meta)} (default {_shown(field)})"
            + (f"; {meta['help']}" if meta.get("help") else ""),
        )


def _whole(field: dataclasses.Field) -> str:
    low, high = field.metadata.get("low"), field.metadata.get("high")
    if high is None and low == 1:
        return "a positive whole number"
    if high is None and low == 0:
        return "a whole number, zero or more"
    return "a whole number"


def _bounds(meta) -> str:
    low, high = meta.get("low"), meta.get("high")
    parts = []
    if low is not None:
        parts.append(f"{'above' if meta['low_open'] else 'at least'} {low:g}")
    if high is not None:
        parts.append(f"{'below' if meta['high_open'] else 'at most'} {high:g}")
    return " and ".join(parts)


def _wrong(name: str, value: Any, kind: str, field: dataclasses.Field) -> ConfigError:
    quoted = ""
    if isinstance(value, str) and kind != "text":
        quoted = " (numbers and true/false are written without quotes)"
    example = field.default if field.default is not dataclasses.MISSING else None
    if isinstance(example, bool):
        example = str(example).lower()
    written = f"; for example {name} = {example}" if example is not None else ""
    return ConfigError(
        f"{name}={value!r} is {_kind_of(value)}, not {kind}",
        fix=f"give {name} as {kind}{quoted}{written}",
    )


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "text"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def _shown(field: dataclasses.Field) -> str:
    if field.default is not dataclasses.MISSING:
        return repr(field.default)
    return "see the documentation"


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _without_none(hint: Any) -> Any:
    if _is_union(hint):
        rest = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return hint


def unknown_keys(keys: list[str], known: list[str]) -> ConfigError:
    """The error for unknown keys, with the closest known name of each."""
    guesses = []
    for key in keys:
        close = difflib.get_close_matches(key.rsplit(".", 1)[-1], known, n=1, cutoff=0.6)
        if close:
            guesses.append(f"{key} -> {close[0]}")
    fix = ("did you mean " + ", ".join(guesses) + "? ") if guesses else ""
    return ConfigError(
        "unknown configuration keys",
        rows=keys,
        fix=fix + f"the known keys are {sorted(known)}",
    )


def check_periods(name: str, value: Any) -> Any:
    """Two spans ``{label: [years]}`` or two period labels."""
    if isinstance(value, str):
        raise ConfigError(
            f"{name}={value!r} is one label; a run compares two periods",
            fix=f'give two period labels, {name} = ["2010", "2015"], or a [{name}] table of '
            "two spans",
        )
    if isinstance(value, Mapping):
        if len(value) != 2:
            raise ConfigError(
                f"{name} has {len(value)} spans; a run compares exactly two",
                rows=list(value),
                fix=f"keep two spans in [{name}], first then second, e.g. "
                '"2007-2010" = [2007, 2008, 2009, 2010] and "2011-2014" = [2011, ...]',
            )
        for label, years in value.items():
            if isinstance(years, str | int):
                continue
            if not isinstance(years, Sequence) or not len(years):
                raise ConfigError(
                    f"{name} span {label!r} is not a list of periods: {years!r}",
                    fix=f"write {label!r} = [2007, 2008] (the periods averaged into the span)",
                )
        return value
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        if len(value) != 2:
            raise ConfigError(
                f"{name} has {len(value)} periods; a run compares exactly two",
                rows=list(value),
                fix=f'keep two, first then second: {name} = ["2010", "2015"]',
            )
        return value
    raise ConfigError(
        f"{name}={value!r} is neither two period labels nor two spans",
        fix=f'write {name} = ["2010", "2015"], or a [{name}] table of two spans',
    )


def check_groups(name: str, value: Any) -> Any:
    """``"nesta2016"``, ``"auto"``, or ``{group: [sectors]}`` (optionally by measure)."""
    if isinstance(value, str):
        if value in ("nesta2016", "auto"):
            return value
        close = difflib.get_close_matches(value, ["nesta2016", "auto"], n=1)
        raise ConfigError(
            f"{name}={value!r} is not 'nesta2016', 'auto', none or a table of groups",
            fix=(f"did you mean {close[0]!r}? " if close else "")
            + f'write [{name}] with group = ["sector", ...] lines',
        )
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"{name}={value!r} is {_kind_of(value)}, not a table of groups",
            fix=f'write [{name}] with group = ["sector", ...] lines',
        )
    out = {}
    for key, members in value.items():
        if isinstance(members, Mapping):
            out[key] = check_groups(f"{name}.{key}", members)
        else:
            out[key] = list(_codes(f"{name}.{key}", members))
    return out
