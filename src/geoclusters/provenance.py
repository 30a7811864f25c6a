"""Provenance: the parameters, library version and input fingerprints of a result.

A result carries its provenance so that a table or a map handed on can be
traced back to exactly the inputs and settings that produced it, and checked
by running again. Fingerprints hash the content of the inputs (values,
labels and geometry), not file names or timestamps.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ATTRS_KEY = "provenance"
"""Key under which results store their provenance in ``DataFrame.attrs``."""


def fingerprint(data: Any) -> str:
    """Hash the content of a table, a GeoDataFrame, an array or plain data.

    Parameters
    ----------
    data : pandas.DataFrame, pandas.Series, numpy.ndarray, tuple of numpy.ndarray or JSON-able
        What to fingerprint. Row order matters; column order does not. A
        tuple of arrays is hashed as the bytes of the arrays one after the
        other.

    Returns
    -------
    str
        ``"sha256:"`` followed by 16 hex digits.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})
    >>> fingerprint(a) == fingerprint(a[["y", "x"]])
    True
    >>> fingerprint(a) == fingerprint(a.assign(x=[1, 3]))
    False
    >>> import numpy as np
    >>> fingerprint((np.arange(2), np.arange(3))) == fingerprint(np.r_[0:2, 0:3])
    True
    """
    digest = hashlib.sha256()
    if isinstance(data, pd.Series):
        data = data.to_frame()
    if isinstance(data, pd.DataFrame):
        frame = data[sorted(data.columns, key=str)]
        digest.update(json.dumps([str(c) for c in frame.columns]).encode())
        for column in frame.columns:
            values = frame[column]
            if isinstance(values, gpd.GeoSeries):
                digest.update(b"".join(shapely.to_wkb(values.to_numpy(), hex=False)))
            else:
                digest.update(pd.util.hash_pandas_object(values, index=False).to_numpy().tobytes())
        digest.update(
            pd.util.hash_pandas_object(frame.index.to_series(), index=False).to_numpy().tobytes()
        )
    elif isinstance(data, np.ndarray):
        digest.update(memoryview(np.ascontiguousarray(data)).cast("B"))
    elif isinstance(data, tuple) and data and all(isinstance(a, np.ndarray) for a in data):
        # the same digest as their concatenation's bytes, without copying a large graph
        for array in data:
            digest.update(memoryview(np.ascontiguousarray(array)).cast("B"))
    else:
        digest.update(json.dumps(data, sort_keys=True, default=str).encode())
    return "sha256:" + digest.hexdigest()[:16]


@dataclass(frozen=True)
class Provenance:
    """Where a result came from.

    Attributes
    ----------
    step : str
        The function that produced the result (``"detect_nesta2016"``, ...).
    parameters : dict
        Every parameter, defaults included.
    inputs : dict
        Input name → :func:`fingerprint`.
    version : str
        geoclusters version.
    created : str
        UTC time, ISO 8601.
    notes : tuple of str
        Caveats a reader must know (an approximation, synthetic data, ...).
    """

    step: str
    parameters: Mapping[str, Any]
    inputs: Mapping[str, str] = field(default_factory=dict)
    version: str = ""
    created: str = ""
    notes: tuple[str, ...] = ()

    @classmethod
    def record(
        cls, step: str, parameters: Mapping[str, Any], notes=(), **inputs: Any
    ) -> Provenance:
        """Build the provenance of a step from its parameters and inputs.

        Examples
        --------
        >>> import pandas as pd
        >>> p = Provenance.record("demo", {"top_n": 10}, counts=pd.DataFrame({"v": [1]}))
        >>> p.step, p.parameters["top_n"], p.inputs["counts"].startswith("sha256:")
        ('demo', 10, True)
        """
        from . import __version__

        return cls(
            step=step,
            parameters=_jsonable(dict(parameters)),
            inputs={name: fingerprint(value) for name, value in inputs.items()},
            version=__version__,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            notes=tuple(notes),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dictionary."""
        return {
            "library": "geoclusters",
            "version": self.version,
            "step": self.step,
            "created": self.created,
            "parameters": dict(self.parameters),
            "inputs": dict(self.inputs),
            "notes": list(self.notes),
        }

    def write(self, path: str | Path) -> Path:
        """Write the provenance as JSON next to the outputs; returns the path."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n")
        return path


def attach(frame: pd.DataFrame, provenance: Provenance) -> pd.DataFrame:
    """Store provenance on a result table (``frame.attrs["provenance"]``)."""
    frame.attrs[ATTRS_KEY] = provenance.to_dict()
    return frame


def _jsonable(value):
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_jsonable(v) for v in items]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
