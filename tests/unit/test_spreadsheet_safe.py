"""Rejected-row cells: a formula a spreadsheet would run becomes text; anything else is as is."""

from __future__ import annotations

import pytest

from resolvers.cli.importing.rejected import spreadsheet_safe


@pytest.mark.parametrize(
    "cell", ["=1+1", "+15550100", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "\0=1", "="]
)
def test_a_cell_starting_a_formula_is_quoted(cell: str) -> None:
    assert spreadsheet_safe(cell) == "'" + cell


@pytest.mark.parametrize(
    "cell",
    ["", "doc@hillvalley.edu", "2021-01-01T09:00:00Z", "555 = 5", " =1", "'=1", "invalid_email"],
)
def test_any_other_cell_is_kept_as_it_is(cell: str) -> None:
    assert spreadsheet_safe(cell) == cell
