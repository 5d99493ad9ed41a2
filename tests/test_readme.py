"""The README is true: it lists every URL parameter of every page (instructors write links
by hand from it) and stays short enough to read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lab.site import PAGES
from lab.ui import links

pytestmark = pytest.mark.quick
README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def rows() -> dict[str, str]:
    """The link table's rows: "every page" or a page's path -> its parameters' cell."""
    found = {}
    for line in README.splitlines():
        match = re.fullmatch(r"\| (every page|`/(\w+)`) \| (.+) \|", line)
        if match:
            found[match.group(2) or "every page"] = match.group(3)
    return found


def listed(name: str, row: str) -> bool:
    """``name`` in backticks, or as a member of a family the row writes once: a numbered
    range (`ex1_0` … `ex1_5`) or a suffix (`<name>_run` after the experiment's `name`)."""
    if f"`{name}`" in row:
        return True
    numbered = re.fullmatch(r"(\w+_)(\d+)", name)
    if numbered and re.search(rf"`{numbered.group(1)}0` … `{numbered.group(1)}\d+`", row):
        return True
    suffixed = re.fullmatch(r"(\w+?)_(run|fixed)", name)
    return bool(suffixed and f"`{suffixed.group(1)}`" in row
                and f"`<name>_{suffixed.group(2)}`" in row)


def test_the_readme_lists_every_parameter_of_every_page():
    table = rows()
    assert all(listed(param.name, table["every page"])
               for param in links.EVERY_PAGE + links.CLASS)
    for page in PAGES[1:]:
        row = table.get(page.url, "")
        missing = [param.name for param in links.TABLES[page.id]() if not listed(param.name, row)]
        assert not missing, (page.url, missing)


def test_the_check_sees_a_missing_parameter():
    assert not listed("nozero", "`data`, `update`")
    assert not listed("acc_run", "`twice`: `<name>_run`")


def test_the_readme_stays_short_for_users():
    assert len(README.splitlines()) <= 160
