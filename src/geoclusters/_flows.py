"""What every reader of origin-destination flows checks first."""

from __future__ import annotations

import pandas as pd

from .errors import InputError


def flow_values(flows: pd.DataFrame, count: str) -> pd.Series:
    """The flow counts as numbers; missing, non-numeric or negative ones name their rows."""
    values = pd.to_numeric(flows[count], errors="coerce")
    bad = values.isna() | (values < 0)
    if bad.any():
        raise InputError(
            f"column {count!r} has missing, non-numeric or negative counts",
            rows=flows.index[bad.to_numpy()].tolist(),
            fix="correct or remove those rows",
        )
    return values
