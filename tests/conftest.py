"""Shared fixtures: the real data in ../shared/data, located through GEOCLUSTERS_DATA."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# the examples' real-data builder (examples/_realdata.py) and scripts are tested as modules
sys.path.insert(0, str(REPO / "examples"))


def data_dir() -> Path:
    """The real-data directory; CI points GEOCLUSTERS_DATA at ../shared/data."""
    configured = os.environ.get("GEOCLUSTERS_DATA")
    path = Path(configured) if configured else REPO.parent / "shared" / "data"
    if not path.is_absolute():
        path = (Path.cwd() / path).resolve()
    if not (path / "MANIFEST.md").exists():
        raise RuntimeError(
            f"real test data not found at {path}; set GEOCLUSTERS_DATA to the shared/data folder"
        )
    return path


@pytest.fixture(scope="session")
def data() -> Path:
    return data_dir()


@pytest.fixture(scope="session")
def ttwa_path(data) -> Path:
    return data / "ttwa2011" / "ttwa_2011_uk_bsc_bng.gpkg"
