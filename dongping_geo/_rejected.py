"""The table of rows a loader refused with ``on_error="report"`` (foundation layer).

Every loader puts it in ``result.attrs["rejected"]`` with the same columns,
:data:`REJECTED_COLUMNS`: file, row (the line a spreadsheet or text editor shows, or a
feature id), field, value, reason, fix.

pandas copies ``attrs`` into derived frames and, when combining frames (``concat``,
``merge``), compares them with ``==``; a plain DataFrame there makes those calls fail
with "The truth value of a DataFrame is ambiguous". :class:`RejectedRows` compares by
content and returns a bool, so results carrying it can be concatenated and merged
(differing tables are then dropped from the combined attrs, as pandas does). Anything
derived from it (a filter, ``head``) is a plain DataFrame.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

__all__ = ["REJECTED_COLUMNS", "RejectedRows", "rejected_rows"]

#: Columns of ``result.attrs["rejected"]``, the same in every loader.
REJECTED_COLUMNS = ["file", "row", "field", "value", "reason", "fix"]


class RejectedRows(pd.DataFrame):
    """DataFrame of rejected rows that pandas can carry in ``attrs`` safely."""

    @property
    def _constructor(self) -> type[pd.DataFrame]:  # derived frames are plain DataFrames
        return pd.DataFrame

    def __eq__(self, other: object) -> bool:  # type: ignore[override]
        return isinstance(other, pd.DataFrame) and self.equals(other)

    def __ne__(self, other: object) -> bool:  # type: ignore[override]
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __deepcopy__(self, memo: Any = None) -> RejectedRows:
        return RejectedRows(pd.DataFrame(self).copy(deep=True))


def rejected_rows(entries: Iterable[tuple[Any, ...]]) -> RejectedRows:
    """Build the table from (file, row, field, value, reason, fix) tuples, sorted by row."""
    table = pd.DataFrame(list(entries), columns=REJECTED_COLUMNS)
    return RejectedRows(table.sort_values("row", kind="stable", ignore_index=True))
