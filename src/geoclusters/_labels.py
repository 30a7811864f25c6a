"""The one vocabulary of cluster labels, shared by results, plots and outputs.

Local statistics, the pipeline, the maps and the report all speak these words,
so that a result can be passed to a plotting function as it is.
"""

from __future__ import annotations

HIGH_HIGH = "High-High"
LOW_HIGH = "Low-High"
LOW_LOW = "Low-Low"
HIGH_LOW = "High-Low"
HOT = "hot spot"
COLD = "cold spot"
NOT_SIGNIFICANT = "not significant"
NO_DATA = "no data"

QUADRANT_CODES = ("HH", "LH", "LL", "HL")
"""Local Moran quadrants: value high or low, neighbourhood high or low."""

QUADRANT_LABELS = dict(zip(QUADRANT_CODES, (HIGH_HIGH, LOW_HIGH, LOW_LOW, HIGH_LOW), strict=True))
"""Quadrant code -> cluster label."""

MORAN_LABELS = (HIGH_HIGH, LOW_HIGH, LOW_LOW, HIGH_LOW, NOT_SIGNIFICANT, NO_DATA)
"""Every label a local Moran cluster column can hold, in legend order."""

G_LABELS = (HOT, COLD, NOT_SIGNIFICANT, NO_DATA)
"""Every label a local G cluster column can hold, in legend order."""

ALIASES = {"ns": NOT_SIGNIFICANT, "hot": HOT, "cold": COLD, **QUADRANT_LABELS}
"""Older or short spellings accepted on input and mapped to the labels."""


def normalise_label(label: object) -> object:
    """Map a short or older spelling onto the vocabulary; missing stays missing."""
    if label is None or (isinstance(label, float) and label != label):
        return NO_DATA
    return ALIASES.get(label, label) if isinstance(label, str) else label


def normalise_labels(labels):
    """:func:`normalise_label` of every value of a Series, keeping its index.

    Each distinct value is normalised once, so a million areas with a handful
    of labels cost a factorisation, not a million Python calls.
    """
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(labels, use_na_sentinel=True)
    known = np.array([normalise_label(u) for u in uniques] + [NO_DATA], dtype=object)
    return pd.Series(known[codes], index=labels.index, name=labels.name, dtype=object)
