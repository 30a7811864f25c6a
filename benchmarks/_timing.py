"""What every benchmark needs: the real-data directory and a best-of-n timer."""

from __future__ import annotations

import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    configured = os.environ.get("GEOCLUSTERS_DATA")
    return Path(configured) if configured else REPO.parent / "shared" / "data"


def best(func, repeat: int) -> tuple[float, object]:
    """Best wall time of ``repeat`` calls, and the last result."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result
