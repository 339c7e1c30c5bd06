"""Where the sample dataset is: the repository's copy, else one generated once into a cache."""

from __future__ import annotations

import os
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

#: Environment variable naming the cache folder (default: the user's cache directory).
CACHE_ENV = "DONGPING_GEO_CACHE"


def _package_version() -> str:
    try:
        return version("dongping-geo")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def cache_dir() -> Path:
    """The package's cache folder: ``$DONGPING_GEO_CACHE``, else the platform's user cache.

    Returns
    -------
    Path
        ``%LOCALAPPDATA%\\dongping_geo\\Cache`` on Windows, ``~/Library/Caches/dongping_geo``
        on macOS, ``$XDG_CACHE_HOME/dongping_geo`` (default ``~/.cache/dongping_geo``) elsewhere.

    Examples
    --------
    >>> cache_dir().name in ("dongping_geo", "Cache") or "DONGPING_GEO_CACHE" in os.environ
    True
    """
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return base / "dongping_geo" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "dongping_geo"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dongping_geo"


def _repo_sample() -> Path | None:
    """``data/shapefiles`` of the source tree this package was imported from, if it is there."""
    folder = Path(__file__).resolve().parents[2] / "data" / "shapefiles"
    return folder if (folder / "rivers.shp").exists() and (folder / "manifest.json").exists() else None
