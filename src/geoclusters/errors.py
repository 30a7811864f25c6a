"""Errors raised on bad input.

Every error names the offending rows (or codes), says what is wrong with them
and what to do about it, so a user can fix the input without reading the code.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._warn import warn_user

_SHOWN = 20


class GeoclustersError(Exception):
    """Base class for every error raised by geoclusters."""


class InputError(GeoclustersError, ValueError):
    """Input data that cannot be used as given.

    Parameters
    ----------
    problem : str
        What is wrong, in one sentence.
    rows : iterable, optional
        The offending row labels or codes; all are kept on ``.rows``, the first
        twenty are shown in the message.
    fix : str, optional
        What the user can do about it.
    """

    def __init__(self, problem: str, rows: Iterable | None = None, fix: str | None = None):
        self.problem = problem
        self.rows = list(rows) if rows is not None else []
        self.fix = fix
        message = problem
        if self.rows:
            shown = ", ".join(repr(r) for r in self.rows[:_SHOWN])
            more = f" and {len(self.rows) - _SHOWN} more" if len(self.rows) > _SHOWN else ""
            message += f"\n  rows ({len(self.rows)}): {shown}{more}"
        if fix:
            message += f"\n  what to do: {fix}"
        super().__init__(message)


class ReadError(InputError):
    """A file that cannot be read as a table or a layer.

    Empty (0-byte) and header-only files, undecodable text, a delimiter other
    than the one expected, a corrupt GeoPackage, a missing or ambiguous layer.
    """


class CRSError(InputError):
    """A coordinate reference system that is missing or contradicts the coordinates.

    For example British National Grid metres declared as longitude/latitude,
    or longitude/latitude declared as EPSG:27700.
    """


class GeometryError(InputError):
    """Geometries that cannot be used as areas: null, empty, invalid, or not polygons."""


class CodesError(InputError):
    """Area codes that are blank, duplicated, or do not match between two inputs."""


class CountsError(InputError):
    """Count values that cannot be right.

    Negative, non-finite (``inf``) or unreadable values, a sector count above
    its all-industry total, or numeric sector codes of mixed lengths.
    """


class ConfigError(InputError):
    """A configuration value of the wrong type or out of range, or an unknown key.

    The message names the field, the value found and what to write instead.
    """


class OutputError(InputError):
    """An output place that cannot be used: a file, an unwritable folder, or a
    folder that holds other files (without ``overwrite``)."""


class MissingExtraError(GeoclustersError, ImportError):
    """An optional dependency a step needs is not installed; the message says what to install."""


class DownloadError(GeoclustersError, OSError):
    """A download failed or returned something that is not the expected file."""


def check_choice(name: str, value, choices) -> None:
    """Raise :class:`InputError` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise InputError(f"{name}={value!r} is not one of {list(choices)}")


POLICIES = ("raise", "warn", "ignore")
"""The one vocabulary for what to do about a problem the caller can tolerate:
``"raise"`` an error, ``"warn"`` and go on (the problem is reported), or
``"ignore"`` it silently. Options that *repair* (``"drop"``, ``"nearest"``)
name the repair instead."""

_OLD_POLICIES = {"error": "raise", "report": "warn"}


def check_policy(name: str, value, choices=POLICIES):
    """Return the policy ``value`` in the shared vocabulary, or raise InputError.

    The spellings of version 0.1 (``"error"`` for ``"raise"``, ``"report"`` for
    ``"warn"``) keep working for one release with a DeprecationWarning.
    """
    if value in _OLD_POLICIES and value not in choices:
        new = _OLD_POLICIES[value]
        warn_user(
            f"{name}={value!r} is deprecated and will be removed in 0.3; use {name}={new!r}",
            DeprecationWarning,
        )
        value = new
    check_choice(name, value, choices)
    return value
