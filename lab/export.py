"""A page's code as a runnable script or Jupyter notebook (plain PyTorch, no lab needed)."""

from __future__ import annotations

import nbformat


def script(code: str, title: str, url: str = "") -> str:
    """The page's code with a header saying where it came from."""
    head = [f"# {title}", "# Exported from Autograd Lab" + (f": {url}" if url else ""), ""]
    return "\n".join(head) + code


def notebook(code: str, title: str, url: str = "") -> str:
    """One markdown cell (title, source link) and the code split at its blank lines."""
    cells = [nbformat.v4.new_markdown_cell(
        f"# {title}\n\nExported from Autograd Lab" + (f": <{url}>" if url else "") + ".")]
    for block in code.strip("\n").split("\n\n"):
        if block.strip():
            cells.append(nbformat.v4.new_code_cell(block.strip("\n")))
    book = nbformat.v4.new_notebook(cells=cells)
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                   "language": "python"}
    nbformat.validate(book)
    return nbformat.writes(book)
