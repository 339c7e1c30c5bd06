"""Where the sample dataset is: the repository's copy, else one generated once into a cache."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
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


def sample_path(*, seed: int | None = None, refresh: bool = False) -> Path:
    """Return a folder holding the sample dataset, wherever the code runs.

    From a clone of the repository this is its ``data/shapefiles/``. Anywhere else (an
    installed package, a notebook copied out of the repository) the sample is generated
    once with :func:`make_sample` into the user's cache folder (:func:`cache_dir`, one
    folder per package version and seed) and reused afterwards.

    Parameters
    ----------
    seed : int, optional
        Random seed (default :data:`DEFAULT_SEED`, the seed of the repository's copy).
        Another seed always uses the cache.
    refresh : bool, default False
        Generate the cached copy again.

    Returns
    -------
    Path
        The dataset folder (``rivers.shp``, ``sections.shp`` … and ``manifest.json``).

    Examples
    --------
    >>> import dongping_geo as dg
    >>> from dongping_geo.sample import sample_path
    >>> ds = dg.load_dataset(sample_path(), patrols=False)  # doctest: +SKIP
    """
    from . import DEFAULT_SEED, make_sample

    seed = DEFAULT_SEED if seed is None else int(seed)
    repo = _repo_sample()
    if repo is not None and seed == DEFAULT_SEED and not refresh:
        return repo
    target = cache_dir() / f"sample-{_package_version()}-seed{seed}"
    if (target / "manifest.json").exists() and not refresh:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}")
    try:
        make_sample(staging, seed=seed)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
