"""What a run of the cell leaves behind: plain, picklable data (no live tensor, no graph).

``st.cache_data`` pickles what it keeps, and pickling a tensor drops its ``grad_fn``: so a
run's tensors are summarised here as numbers and text while they are still alive.
"""

from __future__ import annotations

from dataclasses import dataclass

from lab import glosses
from lab.drawing import Drawing
from lab.i18n import Message, t, visible

KINDS = ("pytorch", "refused", "limit")

# PyTorch's messages the lab knows ([pytorch] in the catalogue, lab.glosses) -> the
# catalogue's "why" and "fix" texts for them. One table, for errors and warnings alike.
WHY_FIX = {
    "pytorch.integer_grad": ("tensors.why_integer", "tensors.fix_integer"),
    "pytorch.no_grad_fn": ("cell.why_no_graph", "cell.fix_no_graph"),
    "pytorch.backward_twice": ("cell.why_twice", "cell.fix_twice"),
    "pytorch.not_scalar": ("mistakes.vector_why", "mistakes.vector_fix"),
    "pytorch.inplace": ("cell.why_inplace", "cell.fix_inplace"),
    "pytorch.leaf_inplace": ("mistakes.leaf_update_why", "mistakes.leaf_update_fix"),
    "pytorch.numpy": ("mistakes.numpy_why", "mistakes.numpy_fix"),
    "pytorch.nonleaf_grad": ("mistakes.nonleaf_why", "mistakes.nonleaf_fix"),
    "pytorch.conversion_overflow": ("tensors.why_conversion", "tensors.fix_conversion"),
}


def explain(text: str) -> tuple[str, str] | None:
    """The catalogue keys of "why" and "fix" for one of PyTorch's messages, if the lab has
    them (``text`` verbatim, as PyTorch raised or warned it)."""
    known = glosses.recognise(text)
    return WHY_FIX.get(known[0]) if known else None


@dataclass(frozen=True)
class CellError:
    """Why a run ended early, and where (line and column count from 1).

    ``kind`` "pytorch": the program raised (PyTorch's or Python's own error): ``exception``
    is its type name and ``text`` its message, verbatim; ``why``/``fix`` are catalogue keys
    when the lab explains that message. "refused": the cell does not allow something; "limit":
    the program would cross a limit. Both carry a catalogue ``message``.
    """

    kind: str
    line: int | None = None
    column: int | None = None
    message: Message | None = None
    exception: str = ""
    text: str = ""
    why: str | None = None
    fix: str | None = None

    def render(self, lang: str, show_typed=visible) -> str:
        """The message alone: ``RuntimeError: …`` (PyTorch's words) or the catalogue's text."""
        if self.kind == "pytorch":
            return f"{self.exception}: {self.text}" if self.text else self.exception
        return self.message.render(lang, show_typed)

    def where(self, lang: str) -> str:
        """``line 3, column 5`` in ``lang`` ("" when the error has no place)."""
        if self.line is None:
            return ""
        if self.column is None:
            return t("cell.at_line", lang, line=self.line)
        return t("cell.at_line_column", lang, line=self.line, column=self.column)

    def one_line(self, lang: str) -> str:
        """Place and message on one line, as the command line prints it."""
        text = " ".join(self.render(lang).split())
        where = self.where(lang)
        return f"{where}: {text}" if where else text

    def gloss(self, lang: str) -> str | None:
        """PyTorch's message translated into ``lang`` (None in English or when unknown)."""
        return glosses.gloss(self.text, lang) if self.kind == "pytorch" else None


@dataclass(frozen=True)
class TensorSummary:
    """One variable bound to a tensor when the run ended."""

    name: str
    shape: tuple[int, ...]
    dtype: str                       # "torch.float32"
    requires_grad: bool
    is_leaf: bool
    grad_fn: str | None              # "MeanBackward0"
    repr: str                        # print(t), exactly as PyTorch prints it
    values: tuple[float, ...]        # its first elements (real parts for complex dtypes)
    grad: tuple[float, ...] | None   # the same elements of .grad (leaves, retain_grad())
    nodes: tuple[str, ...]           # the backward nodes reachable from grad_fn, breadth first

    @property
    def numel(self) -> int:
        total = 1
        for size in self.shape:
            total *= size
        return total


@dataclass(frozen=True)
class CellResult:
    """Everything one run shows: its output, its graphs, its tensors, and how it ended."""

    stdout: str                                  # exactly what CPython would have printed
    shown: str | None = None                     # repr of a bare last expression
    graphs: tuple[str, ...] = ()                 # DOT of each make_dot(...), ids renumbered
    shown_graph: int | None = None               # index in graphs of a bare last Digraph
    tensors: tuple[TensorSummary, ...] = ()
    warnings: tuple[str, ...] = ()               # PyTorch's warnings, verbatim
    error: CellError | None = None
    drawings: tuple[Drawing, ...] = ()           # the same graphs, drawn for the page

    @property
    def ok(self) -> bool:
        return self.error is None

    def tensor(self, name: str) -> TensorSummary | None:
        return next((summary for summary in self.tensors if summary.name == name), None)
