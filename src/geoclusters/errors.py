"""Errors raised on bad input.

Every error names the offending rows (or codes), says what is wrong with them
and what to do about it, so a user can fix the input without reading the code.
"""

from __future__ import annotations

from collections.abc import Iterable

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


class DownloadError(GeoclustersError, OSError):
    """A download failed or returned something that is not the expected file."""


def check_choice(name: str, value, choices) -> None:
    """Raise :class:`InputError` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise InputError(f"{name}={value!r} is not one of {list(choices)}")
