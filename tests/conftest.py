"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "data" / "shapefiles"


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The committed sample dataset folder (skips when it has not been generated yet)."""
    if not (SAMPLE_DIR / "rivers.shp").exists():
        pytest.skip("sample dataset not generated yet")
    return SAMPLE_DIR


# Browser fixtures, registered once for the whole session (one Chromium for all tests).
from _browser import _chromium, browser_page  # noqa: E402, F401
