"""Execute every worked notebook top to bottom (as CI does from a clean clone).

Each notebook in notebooks/ runs in a fresh python3 kernel with notebooks/ as the working
directory and must finish without an error. Notebooks are stored without outputs so that
diffs stay readable; that is checked too (fast).
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 300


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS][:1] == ["01_load_and_validate.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not dirty, f"{path.name}: clear the outputs of cells {dirty}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    if not (ROOT / "data" / "shapefiles" / "rivers.shp").exists():
        pytest.skip("sample dataset data/shapefiles/ not present")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the kernel imports this checkout's package
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"{path.name} failed:\n{exc}", pytrace=False)
    elapsed = time.perf_counter() - start
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    print(f"{path.name}: {elapsed:.1f} s")


@pytest.mark.slow
def test_a_notebook_copied_out_of_the_repository_runs(tmp_path, monkeypatch):
    """Copied into an empty folder, a notebook finds the sample through the package."""
    import shutil

    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    if not (ROOT / "data" / "shapefiles" / "rivers.shp").exists():
        pytest.skip("sample dataset data/shapefiles/ not present")
    copy = tmp_path / "elsewhere" / "01_load_and_validate.ipynb"
    copy.parent.mkdir()
    shutil.copy(NOTEBOOK_DIR / "01_load_and_validate.ipynb", copy)
    assert not any((p / "pyproject.toml").exists() for p in [copy.parent, *copy.parents])
    # the kernel imports this checkout's package (as an installed package would be found)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    nb = nbformat.read(copy, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(copy.parent)}})
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"the copied notebook failed:\n{exc}", pytrace=False)
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]


@pytest.mark.slow
def test_sample_path_generates_the_sample_once_into_the_cache(tmp_path, monkeypatch):
    from dongping_geo.sample import _path, sample_path

    monkeypatch.setattr(_path, "_repo_sample", lambda: None)  # as in an installed package
    monkeypatch.setenv(_path.CACHE_ENV, str(tmp_path / "cache"))
    first = sample_path()
    assert first.parent == tmp_path / "cache" and (first / "rivers.shp").exists()
    stamp = (first / "manifest.json").stat().st_mtime_ns
    assert sample_path() == first and (first / "manifest.json").stat().st_mtime_ns == stamp  # reused
    assert not [p for p in first.parent.iterdir() if p.name.startswith(".")]  # no staging left


def test_sample_path_is_the_repository_copy_in_a_clone():
    from dongping_geo.sample import sample_path

    if not (ROOT / "data" / "shapefiles" / "rivers.shp").exists():
        pytest.skip("sample dataset data/shapefiles/ not present")
    assert sample_path() == ROOT / "data" / "shapefiles"
