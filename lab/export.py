"""A page's code as a runnable script or Jupyter notebook (plain PyTorch, no lab needed)."""

from __future__ import annotations

import nbformat

from lab.i18n import DEFAULT_LANGUAGE, t


def script(code: str, title: str, url: str = "", lang: str = DEFAULT_LANGUAGE) -> str:
    """The page's code with a header saying where it came from (in the page's language)."""
    head = [f"# {title}", f"# {t('app.exported', lang)}" + (f": {url}" if url else ""), ""]
    return "\n".join(head) + code


def notebook(code: str, title: str, url: str = "", lang: str = DEFAULT_LANGUAGE) -> str:
    """One markdown cell (title, source link) and the code split at its blank lines."""
    cells = [nbformat.v4.new_markdown_cell(
        f"# {title}\n\n{t('app.exported', lang)}" + (f": <{url}>" if url else "") + ".")]
    for block in code.strip("\n").split("\n\n"):
        if block.strip():
            cells.append(nbformat.v4.new_code_cell(block.strip("\n")))
    book = nbformat.v4.new_notebook(cells=cells)
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                   "language": "python"}
    nbformat.validate(book)
    return nbformat.writes(book)
