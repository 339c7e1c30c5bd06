"""The documentation agrees with the code.

* docs/data-model.md is exactly what scripts/gen_data_model.py generates from the schemas;
* every spelling of a water class listed on that page normalises as the page says;
* every public function (dongping_geo.__all__ and the analysis modules' __all__) has a
  numpydoc docstring with Parameters (naming every argument), Returns and Examples;
* every CLI command has a section in docs/cli.md, and the build-time hook renders them;
* the GCJ-02 offset quoted in docs/crs.md is what dongping_geo.crs computes;
* every page in docs/ is in the mkdocs nav and every nav entry exists.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

ANALYSIS_MODULES = ["patrol", "problems", "water_quality", "landuse", "raster", "maps", "sample", "scale"]


def _load_script(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# --- data model ---------------------------------------------------------------------

def test_data_model_page_is_generated_from_schemas():
    gen = _load_script(ROOT / "scripts" / "gen_data_model.py", "gen_data_model")
    committed = (DOCS / "data-model.md").read_text(encoding="utf-8")
    assert committed == gen.render(), (
        "docs/data-model.md differs from the schemas: run `python scripts/gen_data_model.py`"
    )


def test_data_model_page_lists_every_field_and_alias():
    # Independent of the generator: read the page as text and look for each declaration.
    from dongping_geo.schemas import SCHEMAS

    page = (DOCS / "data-model.md").read_text(encoding="utf-8")
    for schema in SCHEMAS.values():
        section = page.split(f"## {schema.name} {schema.zh}", 1)
        assert len(section) == 2, f"no section for layer {schema.name}"
        body = section[1].split("\n## ", 1)[0]
        for f in schema.fields:
            row = next((line for line in body.splitlines() if line.startswith(f"| `{f.name}` |")), None)
            assert row is not None, f"{schema.name}.{f.name} missing"
            assert f" {f.zh} " in row and f"`{f.dtype}`" in row
            assert ("yes" if f.required else "no") in row
            if f.short != f.name:
                assert f"`{f.short}`" in row
            for alias in f.aliases:
                assert f"`{alias}`" in row
            for value, zh_values in f.values.items():
                value_row = next(line for line in body.splitlines() if line.startswith(f"| `{value}` |"))
                for zh in zh_values:
                    assert zh in value_row, f"{schema.name}.{f.name}={value}: alias {zh} missing"


def test_water_class_spellings_on_the_page_normalise_as_stated():
    from dongping_geo.schemas import normalize_water_class

    page = (DOCS / "data-model.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (`.+`) \| `(III|劣V)` \|$", page, flags=re.M)
    assert len(rows) == 2
    for spellings, stored in rows:
        for spelling in re.findall(r"`([^`]+)`", spellings):
            assert normalize_water_class(spelling) == stored, spelling


# --- docstrings -----------------------------------------------------------------------

_SECTION = re.compile(r"^(\w[\w ]*)\n-{3,}\s*$", re.M)


def _sections(doc: str) -> dict[str, str]:
    """Split a numpydoc docstring into {section title: body}."""
    out: dict[str, str] = {}
    matches = list(_SECTION.finditer(doc))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(doc)
        out[m.group(1).strip()] = doc[m.end():end]
    return out


def _documented_params(body: str) -> set[str]:
    names: set[str] = set()
    for line in body.splitlines():
        if not line or line[0].isspace():
            continue
        head = line.split(" : ", 1)[0].strip().rstrip(":")
        for name in head.split(","):
            names.add(name.strip().lstrip("*"))
    return names


def docstring_problems(name: str, func) -> list[str]:
    """Return what is missing from ``func``'s numpydoc docstring (empty when fine)."""
    doc = inspect.getdoc(func)
    if not doc:
        return [f"{name}: no docstring"]
    sections = _sections(doc)
    problems = []
    try:
        params = [
            p.name for p in inspect.signature(func).parameters.values()
            if p.name not in ("self", "cls")
        ]
    except (TypeError, ValueError):
        params = []
    if params:
        if "Parameters" not in sections:
            problems.append(f"{name}: no Parameters section")
        else:
            missing = [p for p in params if p not in _documented_params(sections["Parameters"])]
            if missing:
                problems.append(f"{name}: parameters not documented: {', '.join(missing)}")
    if "Returns" not in sections and "Yields" not in sections:
        problems.append(f"{name}: no Returns section")
    if "Examples" not in sections:
        problems.append(f"{name}: no Examples section")
    return problems


def _public_functions(module) -> list[tuple[str, object]]:
    out = []
    for attr in getattr(module, "__all__", []):
        obj = getattr(module, attr, None)
        if inspect.isfunction(obj):
            out.append((f"{module.__name__}.{attr}", obj))
    return out


def test_docstring_checker_catches_missing_sections():
    def bad(a, b):
        """Do something.

        Parameters
        ----------
        a : int
            A.
        """

    def good(lon, lat, *, tolerance_m=1.0):
        """Do something.

        Parameters
        ----------
        lon, lat : ndarray
            Coordinates.
        tolerance_m : float
            Tolerance.

        Returns
        -------
        int
            One.

        Examples
        --------
        >>> good(1, 2)
        1
        """
        return 1

    assert docstring_problems("bad", bad) == [
        "bad: parameters not documented: b",
        "bad: no Returns section",
        "bad: no Examples section",
    ]
    assert docstring_problems("good", good) == []


def test_package_exports_have_numpydoc_docstrings():
    import dongping_geo

    problems = [p for name, f in _public_functions(dongping_geo) for p in docstring_problems(name, f)]
    assert not problems, "docstrings to complete:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("module_name", ANALYSIS_MODULES)
def test_analysis_functions_have_numpydoc_docstrings(module_name):
    module = pytest.importorskip(f"dongping_geo.{module_name}")
    functions = _public_functions(module)
    assert functions, f"dongping_geo.{module_name} exports no functions in __all__"
    problems = [p for name, f in functions for p in docstring_problems(name, f)]
    assert not problems, "docstrings to complete:\n  " + "\n  ".join(problems)


# --- CLI reference -------------------------------------------------------------------

def test_every_cli_command_is_documented():
    from dongping_geo.cli import cli

    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^## `dongping-geo ([\w-]+)", page, flags=re.M))
    missing = sorted(set(cli.commands) - headings)
    assert not missing, f"commands without a section in docs/cli.md: {missing}"
    stale = sorted(headings - set(cli.commands))
    assert not stale, f"docs/cli.md documents commands that do not exist: {stale}"


def test_cli_hook_renders_every_command_help():
    from dongping_geo.cli import cli

    hook = _load_script(DOCS / "hooks" / "cli_reference.py", "cli_reference_hook")
    text = hook.render_reference()
    for name, command in cli.commands.items():
        assert f"### dongping-geo {name} --help" in text
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--"):
                    assert opt in text, f"{name} {opt}"
    assert hook.MARKER in (DOCS / "cli.md").read_text(encoding="utf-8")


# --- CRS figures ---------------------------------------------------------------------

def test_crs_page_quotes_the_measured_gcj02_offset():
    from pyproj import Geod

    from dongping_geo.crs import wgs84_to_gcj02

    lon, lat = np.array([121.5]), np.array([31.7])
    glon, glat = wgs84_to_gcj02(lon, lat)
    _, _, dist = Geod(ellps="WGS84").inv(lon, lat, glon, glat)
    page = (DOCS / "crs.md").read_text(encoding="utf-8")
    assert f"{dist[0]:.1f} m at 121.5°E, 31.7°N" in page
# --- site structure ------------------------------------------------------------------

def _nav_pages(nav) -> list[str]:
    pages = []
    for item in nav:
        if isinstance(item, str):
            pages.append(item)
        elif isinstance(item, dict):
            for value in item.values():
                pages.extend(_nav_pages(value) if isinstance(value, list) else [value])
    return pages


def test_nav_and_pages_agree():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    nav = set(_nav_pages(config["nav"]))
    on_disk = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert not nav - on_disk, f"nav entries without a page: {sorted(nav - on_disk)}"
    assert not on_disk - nav, f"pages missing from the nav: {sorted(on_disk - nav)}"


def test_site_builds_without_network_fetches():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["theme"]["font"] is False  # no Google Fonts download
    plugin_names = {p if isinstance(p, str) else next(iter(p)) for p in config["plugins"]}
    assert not plugin_names & {"social", "privacy", "offline-fetch"}


def test_every_public_module_has_an_api_page():
    modules = sorted(p.stem for p in (ROOT / "dongping_geo").glob("*.py")
                     if not p.stem.startswith("_") and p.stem != "cli")
    missing = [m for m in modules
               if f"::: dongping_geo.{m}" not in _read(DOCS / "api" / f"{m}.md")]
    assert not missing, f"modules without an API page (docs/api/<module>.md): {missing}"


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


# --- command lines quoted in the docs and notebooks ---------------------------------

def _quoted_command_lines() -> list[tuple[str, str]]:
    """Every ``dongping-geo …`` line of docs/*.md and the notebooks (continuations joined)."""
    import nbformat

    sources = [(p.relative_to(ROOT).as_posix(), p.read_text(encoding="utf-8"))
               for p in sorted(DOCS.rglob("*.md"))]
    for nb_path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        text = "\n".join(c.source.replace("\n# ", "\n").removeprefix("# ")
                         for c in nb.cells if c.cell_type == "markdown")
        sources.append((nb_path.relative_to(ROOT).as_posix(), text))
    found = []
    for name, text in sources:
        text = text.replace("\\\n", " ")
        for line in text.splitlines():
            line = re.sub(r"\s+#.*$", "", line.strip())  # shell comments
            match = re.search(r"(?:^|\s|/)dongping-geo(\s+[^`|]*)?$", line)
            if match and not line.startswith(("#", "|")) and match.group(1):
                found.append((name, "dongping-geo" + match.group(1)))
    return found


def test_quoted_command_lines_use_real_commands_and_options():
    import shlex

    from dongping_geo.cli import cli

    lines = _quoted_command_lines()
    assert len(lines) > 20  # the parser found the examples
    group_opts = {o for p in cli.params for o in getattr(p, "opts", [])}
    problems = []
    for where, line in lines:
        words = shlex.split(line.split(" 2>")[0].split(" >")[0].split(";")[0])[1:]
        while words and words[0] in group_opts:
            words.pop(0)
        if not words or words[0].startswith("-"):
            continue
        name, args = words[0], words[1:]
        command = cli.commands.get(name)
        if command is None:
            problems.append(f"{where}: unknown command in {line!r}")
            continue
        options = {o for p in command.params for o in getattr(p, "opts", [])} | {"--help"}
        problems += [f"{where}: {name} has no option {a} ({line!r})"
                     for a in args if a.startswith("--") and a.split("=")[0] not in options]
    assert not problems, "\n".join(problems)


# --- every code block runs as written -------------------------------------------------

#: A block opts out of being run only with this marker on the line before its fence, and a
#: reason: ``<!-- docs-test: skip (needs your own delivery files) -->``.
SKIP_MARK = re.compile(r"<!--\s*docs-test:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->\s*$")
_FENCE = re.compile(r"^```python\n(?P<code>.*?)^```\n(?:\n?```text\n(?P<out>.*?)^```)?", re.S | re.M)


def _python_blocks() -> list[tuple[str, str, str | None, str | None]]:
    """(id, code, expected output or None, skip reason or None) for every python block in docs/."""
    blocks = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for i, m in enumerate(_FENCE.finditer(text)):
            before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
            skip = SKIP_MARK.search(before)
            blocks.append((f"{page.stem}-{i}", m.group("code"), m.group("out"),
                           skip.group("reason") if skip else None))
    return blocks


BLOCKS = _python_blocks()


def test_docs_have_python_blocks_and_few_opt_outs():
    assert len(BLOCKS) >= 25
    skipped = [b[0] for b in BLOCKS if b[3]]
    assert len(skipped) <= len(BLOCKS) // 3, skipped
    assert all(len(b[3].strip()) >= 10 for b in BLOCKS if b[3])  # a reason, not a token


#: Blocks that start a dask cluster or generate the whole sample (10–20 s each).
SLOW_BLOCKS = {"scale-0", "sample-0"}


@pytest.mark.parametrize("block", [pytest.param(b, id=b[0], marks=[pytest.mark.slow] if b[0] in SLOW_BLOCKS else [])
                                   for b in BLOCKS])
def test_docs_code_block_runs(block, tmp_path, monkeypatch):
    """Each block runs on its own in a fresh namespace, the repository's data/ at hand.

    The working directory is a fresh folder holding a link to the repository's data/, so
    paths such as data/shapefiles resolve as from the repository root while the files a
    block writes (out/…) stay out of the repository. A ```text block right after a
    python block is the output it prints.
    """
    import contextlib
    import io
    import os

    name, code, expected, skip = block
    if skip:
        pytest.skip(f"marked in the page: {skip}")
    (tmp_path / "data").symlink_to(ROOT / "data", target_is_directory=True)
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"<docs {name}>", "exec"), {"__name__": "__main__"})  # noqa: S102
    if expected is not None:
        got = "\n".join(line.rstrip() for line in out.getvalue().strip().splitlines())
        want = "\n".join(line.rstrip() for line in expected.strip().splitlines())
        assert got == want, f"{name}: the output shown in the page is not what the code prints"
    assert os.getcwd() == str(tmp_path)
