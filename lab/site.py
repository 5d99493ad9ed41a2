"""The lab's pages, declared once, in the order a student reads them.

A page's id is its URL path (``/backward``), its catalogue section (``backward.title``,
``backward.intro``…) and the name of its script, ``pages/<number>_<id>.py``; its number
comes from its place in ``PAGES`` (the home page is 0 and has none). Catalogue texts refer
to another page as ``{page.<id>}``, filled with that page's number (``lab.i18n``), so no
number is typed anywhere but here, by the order. Plain data: the UI's navigation
(``lab.ui.shell``) and the tests read it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    id: str
    icon: str                # a Material Symbols name, as Streamlit writes it

    @property
    def number(self) -> int:
        return PAGES.index(self)

    @property
    def script(self) -> str:
        """The page's script, relative to the repository's root."""
        return f"pages/{self.number}_{self.id}.py"

    @property
    def url(self) -> str:
        """The page's URL path (the home page's is empty)."""
        return "" if self.number == 0 else self.id


PAGES = (
    Page("home", ":material/home:"),
    Page("tensors", ":material/data_array:"),
    Page("backward", ":material/account_tree:"),
    Page("torchviz", ":material/schema:"),
    Page("exercises", ":material/edit_note:"),
    Page("playground", ":material/calculate:"),
    Page("code", ":material/code:"),
    Page("inside_backward", ":material/footprint:"),
    Page("mistakes", ":material/bug_report:"),
    Page("learning", ":material/trending_down:"),
)
HOME = PAGES[0]
BY_ID = {page.id: page for page in PAGES}


class Numbers:
    """``{page.backward}`` in a catalogue text: the page's number."""

    def __getattr__(self, page_id: str) -> int:
        try:
            return BY_ID[page_id].number
        except KeyError:
            raise AttributeError(page_id) from None
