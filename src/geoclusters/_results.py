"""What the public result objects share: a short repr, an HTML table, and for
one release the DataFrame-style use of results that used to be DataFrames."""

from __future__ import annotations

import warnings
from html import escape
from typing import Any


def html_table(title: str, rows: list[tuple[str, Any]]) -> str:
    """A small two-column HTML table for ``_repr_html_``."""
    body = "".join(
        f"<tr><th style='text-align:left'>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>"
        for k, v in rows
    )
    return f"<table><caption>{escape(title)}</caption>{body}</table>"


def _deprecated(kind: str, frame_name: str) -> None:
    warnings.warn(
        f"using a {kind} as a DataFrame is deprecated and will be removed in 0.3; "
        f"use its .{frame_name} (or .to_frame())",
        DeprecationWarning,
        stacklevel=3,
    )


class FrameForwarding:
    """Forward DataFrame-style use to the result's main frame, with a DeprecationWarning.

    Subclasses set ``_frame_name`` (the field holding the frame).
    """

    _frame_name = ""

    def _frame(self):
        _deprecated(type(self).__name__, self._frame_name)
        return object.__getattribute__(self, self._frame_name)

    def __getattr__(self, name: str):
        # only reached for names the result does not have itself
        if name.startswith("__") or name == "_frame_name":
            raise AttributeError(name)
        return getattr(self._frame(), name)

    def __getitem__(self, key):
        return self._frame()[key]

    def __len__(self) -> int:
        return len(self._frame())

    def __iter__(self):
        return iter(self._frame())

    def __contains__(self, key) -> bool:
        return key in self._frame()


def is_selections(value) -> bool:
    """True for what detectors return or select: a result with ``.selections``, a list of
    them, or a selections table (``area`` and ``criterion``, no geometry)."""
    import pandas as pd

    if "selections" in getattr(type(value), "__dataclass_fields__", {}):
        return True
    if isinstance(value, list) and value and all(is_selections(v) for v in value):
        return True
    return (
        isinstance(value, pd.DataFrame)
        and not hasattr(value, "geometry")
        and {"area", "criterion"} <= set(value.columns)
    )


def deprecated_order(function: str, old: str, new: str) -> None:
    """Warn that ``function(old)`` is now ``function(new)``."""
    warnings.warn(
        f"{function}({old}) is deprecated and will be removed in 0.3; use {function}({new})",
        DeprecationWarning,
        stacklevel=3,
    )
