"""Shared fixtures: the real data in ../shared/data, located through GEOCLUSTERS_DATA."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


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
