"""MkDocs hooks: the CLI reference in docs/cli.md, and Sphinx roles in API pages.

The CLI page carries a hand-written section per command (what it is for, examples, exit
codes); the marker ``<!-- CLI-REFERENCE -->`` is replaced by the ``--help`` text of
the group and of every command, taken from click itself, so the option list in the
built site can never drift from the code.

Docstrings use Sphinx cross-reference roles (:func:`name`), which mkdocstrings renders
literally; :func:`on_page_content` drops the role prefix so only the code name remains.
"""

from __future__ import annotations

import re

import click

MARKER = "<!-- CLI-REFERENCE -->"
_SPHINX_ROLE = re.compile(r":(?:func|class|mod|meth|attr|data|obj|exc):(?=<code>)")


def render_reference() -> str:
    """Return Markdown with the ``--help`` output of the group and each command."""
    from dongping_geo.cli import cli

    parts = []
    with click.Context(cli, info_name="dongping-geo", terminal_width=88, max_content_width=88) as ctx:
        parts.append("### dongping-geo --help\n\n```text\n" + cli.get_help(ctx) + "\n```\n")
        for name in sorted(cli.commands):
            command = cli.commands[name]
            with click.Context(command, info_name=name, parent=ctx, terminal_width=88, max_content_width=88) as sub:
                text = command.get_help(sub)
            parts.append(f"### dongping-geo {name} --help\n\n```text\n{text}\n```\n")
    return "\n".join(parts)


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ANN001
    """Replace the marker in cli.md with the generated reference."""
    if page.file.src_uri == "cli.md" and MARKER in markdown:
        return markdown.replace(MARKER, render_reference())
    return markdown


def on_page_content(html: str, page, config, files) -> str:  # noqa: ANN001
    """Drop Sphinx role prefixes (``:func:``) left in rendered docstrings."""
    return _SPHINX_ROLE.sub("", html)
