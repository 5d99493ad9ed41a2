"""The lab's safe formula language.

A formula is parsed with Python's ``ast`` (parsing only: nothing is compiled or
executed) and checked node by node against a whitelist. What passes becomes a
``Formula``: a straight list of ``Step``s, one per PyTorch operation, in the
order the forward pass runs them. That one list drives the torch computation,
the sympy expression, the generated code and the node names of every graph, so
they cannot disagree.
"""

from __future__ import annotations

import ast
import math
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import torch

from lab.i18n import Message, Typed, UserError, visible
from lab.ops import (FUNCTIONS, OPERATIONS, REDUCTIONS, apply,  # noqa: F401 (re-exported)
                     evaluate_constant, function_list)

MAX_LENGTH = 300
# Examples a page offers: the seed's function, exercise 3's, a sigmoid and a polynomial.
EXAMPLES = ("(x + 1)**2 + 2", "sin(x)*exp(x) + 1/(x+2)", "sigmoid(2*x - 1)",
            "x**3 - 2*x**2 + x - 1")
MAX_DEPTH = 30
MAX_OPERATIONS = 60
MAX_EXPONENT = 100
MAX_LITERAL = 1e12

# Python's syntax for the operators; which operation each is comes from the registry.
_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


def _operator(node_op: ast.AST, kind: str) -> str | None:
    """The registry's operation written with Python's operator ``node_op``, if any."""
    symbol = "-" if isinstance(node_op, ast.USub) else _SYMBOLS.get(type(node_op))
    return next((name for name, op in OPERATIONS.items()
                 if op.kind == kind and op.symbol == symbol), None)
CONSTANTS = {"pi": math.pi, "e": math.e}
VARIABLE = "x"
# Python operators that students type by habit, with the hint to give.
_OPERATOR_HINTS = {ast.BitXor: "formula.hint_caret", ast.FloorDiv: None, ast.Mod: None,
                   ast.MatMult: None, ast.BitAnd: None, ast.BitOr: None,
                   ast.LShift: None, ast.RShift: None}
# ASCII characters that ``ast`` would quietly skip (a comment hides the rest of the text).
_REFUSED_CHARACTERS = "#"
_OPERATOR_CHARACTERS = "+-*/%^@<>=!&|~.,:"
HARD_RECURSION_LIMIT = 200    # nodes of any kind on one path (unreachable within MAX_LENGTH)


class FormulaError(UserError):
    """A refused formula: what is wrong (a catalogue message) and where."""

    def __init__(self, message: Message, text: str = "", column: int | None = None,
                 piece: str = ""):
        super().__init__(message)
        self.text = text
        self.column = column
        self.piece = piece

    def pointer(self) -> str:
        """The formula with a caret under the offending column ("" if none)."""
        if self.column is None or not self.text:
            return ""
        width = max(1, min(len(self.piece), len(self.text) - self.column))
        shown = "".join(_visible(char) for char in self.text)
        return f"{shown}\n{' ' * self.column}{'^' * width}"

    def render(self, lang: str, show_typed=visible) -> str:
        """The message in ``lang``, typed pieces shown by ``show_typed`` (see ``Typed``)."""
        where = ""
        if self.column is not None:
            where = " " + Message("formula.at_column", column=self.column + 1).render(lang)
        return self.message.render(lang, show_typed) + where


def _visible(char: str) -> str:
    """One character of the caret line's formula: tabs as spaces, and anything outside
    printable ASCII (newlines, control or right-to-left marks, look-alikes) as "�", so
    the caret stays under its column."""
    if char == "\t":
        return " "
    return char if " " <= char <= "~" else "\N{REPLACEMENT CHARACTER}"


@dataclass(frozen=True)
class Step:
    """One operation: ``name = op(args)``; an arg is a step name or a float. ``source`` is
    the part of the formula it computes, as the student typed it (``1/(x+2)``): messages
    name a step by it, never by the name ``z5`` the student has not seen."""

    name: str
    op: str
    args: tuple
    source: str = field(default="", compare=False)


@dataclass(frozen=True)
class Formula:
    text: str
    steps: tuple[Step, ...]
    output: str                 # name of the step (or "x") holding the formula's value
    body: str                   # the value before a top-level mean/sum (= output if none)
    reduction: str | None       # "mean"/"sum" when the formula itself ends with one
    elementwise: bool           # the body acts on each x_i alone (no inner mean/sum)
    constants: dict = field(default_factory=dict, compare=False)

    @property
    def operations(self) -> int:
        return len(self.steps)

    def body_steps(self) -> tuple[Step, ...]:
        return self.steps[:-1] if self.reduction else self.steps


def _refuse(key: str, text: str, node_or_col=None, piece: str = "", **values) -> FormulaError:
    column = node_or_col
    if isinstance(node_or_col, ast.AST):
        column = getattr(node_or_col, "col_offset", None)
        piece = piece or (ast.get_source_segment(text, node_or_col) or "")
    return FormulaError(Message(key, piece=Typed(piece), **values), text, column, piece)


def _check_characters(text: str) -> None:
    if not text.strip():
        raise FormulaError(Message("formula.empty"), text)
    if len(text) > MAX_LENGTH:
        raise FormulaError(Message("formula.too_long", limit=MAX_LENGTH, length=len(text)),
                           text[:MAX_LENGTH], MAX_LENGTH - 1, text[MAX_LENGTH - 1])
    for column, char in enumerate(text):
        if char in " \t":
            continue
        if ord(char) > 126 or ord(char) < 32 or char in _REFUSED_CHARACTERS:
            name = unicodedata.name(char, f"U+{ord(char):04X}")
            raise FormulaError(Message("formula.bad_character", piece=Typed(repr(char)),
                                       name=name), text, column, char)
    depth = 0
    for column, char in enumerate(text):
        depth += (char == "(") - (char == ")")
        if depth > MAX_DEPTH:
            raise FormulaError(Message("formula.too_deep", limit=MAX_DEPTH), text, column, char)


def _number(node: ast.Constant, text: str) -> float:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _refuse("formula.not_allowed", text, node)
    if abs(value) > MAX_LITERAL:
        raise _refuse("formula.literal_too_big", text, node, limit=f"{MAX_LITERAL:g}")
    return float(value)


class _Builder:
    def __init__(self, text: str):
        self.text = text
        self.steps: list[Step] = []
        self.constants: dict[str, float] = {}

    def _emit(self, op: str, args: tuple, node: ast.AST) -> str:
        if len(self.steps) >= MAX_OPERATIONS:
            raise _refuse("formula.too_many_operations", self.text, node, limit=MAX_OPERATIONS)
        name = f"z{len(self.steps) + 1}"
        self.steps.append(Step(name, op, args, ast.get_source_segment(self.text, node) or ""))
        return name

    def build(self, node: ast.AST, depth: int = 0, path: int = 0):
        """Returns a step name (depends on x) or a float (a constant).

        ``depth`` counts calls and unary signs (parentheses are counted on the text);
        ``path`` counts every node, as a guard against recursion.
        """
        if depth > MAX_DEPTH or path > HARD_RECURSION_LIMIT:
            raise _refuse("formula.too_deep", self.text, node, limit=MAX_DEPTH)
        if isinstance(node, ast.Constant):
            return _number(node, self.text)
        if isinstance(node, ast.Name):
            if node.id == VARIABLE:
                return VARIABLE
            if node.id in CONSTANTS:
                self.constants[node.id] = CONSTANTS[node.id]
                return CONSTANTS[node.id]
            raise _refuse("formula.unknown_name", self.text, node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.build(node.operand, depth + 1, path + 1)
            if isinstance(node.op, ast.UAdd):
                return operand
            if isinstance(operand, float):
                return -operand
            return self._emit(_operator(node.op, "unary"), (operand,), node)
        if isinstance(node, ast.BinOp):
            op = _operator(node.op, "binary")
            if op is None:
                hint = _OPERATOR_HINTS.get(type(node.op))
                symbol, column = self._operator(node)
                raise _refuse(hint or "formula.operator_not_allowed", self.text, column,
                              piece=symbol)
            left = self.build(node.left, depth, path + 1)
            right = self.build(node.right, depth, path + 1)
            if op == "pow" and isinstance(right, float) and not abs(right) <= MAX_EXPONENT:
                raise _refuse("formula.exponent_too_big", self.text, node.right,
                              limit=MAX_EXPONENT)
            if isinstance(left, float) and isinstance(right, float):
                return _fold(op, left, right)
            return self._emit(op, (left, right), node)
        if isinstance(node, ast.Call):
            return self._call(node, depth, path)
        if isinstance(node, ast.Attribute):
            raise self._attribute(node)
        raise _refuse("formula.not_allowed", self.text, node)

    def _attribute(self, node: ast.Attribute) -> FormulaError:
        """``x.__class__``, ``a.b.c``: point at the first dot (the outermost node is the last)."""
        while isinstance(node.value, ast.Attribute):
            node = node.value
        column = node.value.end_col_offset or node.col_offset
        while column < len(self.text) and self.text[column] != ".":
            column += 1
        return _refuse("formula.attribute", self.text, column, piece=f".{node.attr}")

    def _operator(self, node: ast.BinOp) -> tuple[str, int]:
        """The operator's symbol and its column (between the two operands)."""
        line = self.text
        column = node.left.end_col_offset or node.col_offset
        while column < len(line) and line[column] in " \t)":
            column += 1
        for symbol in ("**", "//", ">>", "<<", "^", "%", "@", "&", "|", "*", "/", "+", "-"):
            if line.startswith(symbol, column):
                return symbol, column
        return ast.get_source_segment(line, node) or "", node.col_offset

    def _call(self, node: ast.Call, depth: int, path: int):
        if isinstance(node.func, ast.Attribute):
            raise self._attribute(node.func)
        if not isinstance(node.func, ast.Name):
            raise _refuse("formula.not_allowed", self.text, node.func)
        name = node.func.id
        operation = OPERATIONS.get(name)
        if operation is None or operation.kind not in ("function", "reduction"):
            raise _refuse("formula.unknown_function", self.text, node.func,
                          functions=function_list())
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise _refuse("formula.one_argument", self.text, node, piece=name)
        argument = self.build(node.args[0], depth + 1, path + 1)
        if isinstance(argument, float):
            if operation.kind == "reduction":
                return argument
            return _fold(name, argument)
        return self._emit(name, (argument,), node)


_fold = evaluate_constant


def _syntax_error(text: str, error: SyntaxError, offset: int) -> FormulaError:
    """Where Python's parser stopped, as a message a student can act on.

    Python reports offset 0 when the text ends too early, and the position of an
    opening bracket that was never closed.
    """
    reason = error.msg or ""
    if not error.offset:                     # ran out of text: "x**", "x +", "x if"
        end = len(text.rstrip())
        column = end - 1
        kind = _OPERATOR_CHARACTERS if text[column] in _OPERATOR_CHARACTERS else None
        while column > 0 and text[column - 1] != " " and (
                text[column - 1] in _OPERATOR_CHARACTERS if kind else text[column - 1].isalnum()):
            column -= 1
        piece = text[column:end]
        return FormulaError(Message("formula.incomplete", piece=Typed(piece)), text, column,
                            piece)
    column = min(error.offset - 1 + offset, len(text) - 1)
    piece = text[column]
    end = (error.end_offset or 0) - 1 + offset
    if end > column + 1 and reason == "invalid syntax":
        piece = text[column:end].strip() or piece
    if "never closed" in reason:
        return FormulaError(Message("formula.unclosed", piece=Typed(piece)), text, column, piece)
    if reason.startswith("unmatched"):
        return FormulaError(Message("formula.unmatched", piece=Typed(piece)), text, column, piece)
    if reason == "invalid decimal literal":
        # "2x", "1.5e": a number glued to letters; point at the whole glued word.
        start, stop = column, column + 1
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "._"):
            start -= 1
        while stop < len(text) and (text[stop].isalnum() or text[stop] == "_"):
            stop += 1
        glued = text[start:stop]
        return FormulaError(Message("formula.glued", piece=Typed(glued)), text, start, glued)
    return FormulaError(Message("formula.syntax", piece=Typed(piece)), text, column, piece)


def parse(text: str) -> Formula:
    """Check ``text`` against the whitelist and return its ``Formula``.

    Raises ``FormulaError`` naming the offending piece and column. Cached by text: a
    page parses each input once, whatever number of views read it.
    """
    if not isinstance(text, str):
        raise FormulaError(Message("formula.empty"), "")
    return _parse(text)


@lru_cache(maxsize=512)
def _parse(text: str) -> Formula:
    _check_characters(text)
    source = text.strip()
    offset = len(text) - len(text.lstrip())
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as error:
        raise _syntax_error(text, error, offset) from None
    except (MemoryError, RecursionError, ValueError):
        raise FormulaError(Message("formula.too_deep", limit=MAX_DEPTH), text, offset,
                           source) from None
    if offset:
        for node in ast.walk(tree):
            if hasattr(node, "col_offset"):
                node.col_offset += offset
                node.end_col_offset = (node.end_col_offset or 0) + offset
    builder = _Builder(text)
    try:
        output = builder.build(tree.body)
    except RecursionError:
        raise FormulaError(Message("formula.too_deep", limit=MAX_DEPTH), text, offset,
                           source) from None
    if isinstance(output, float):
        raise FormulaError(Message("formula.no_x", piece=Typed(source)), text, offset, source)
    steps = tuple(builder.steps)
    last = steps[-1] if steps else None
    reduction = last.op if last and last.op in REDUCTIONS and last.name == output else None
    body = last.args[0] if reduction else output
    body_steps = steps[:-1] if reduction else steps
    elementwise = not any(step.op in REDUCTIONS for step in body_steps)
    return Formula(text=text, steps=steps, output=output, body=body, reduction=reduction,
                   elementwise=elementwise, constants=builder.constants)


def parse_number(text: str) -> float:
    """A typed number such as ``2/3``, ``-1.5e2`` or ``pi/2``: a formula without x."""
    if not isinstance(text, str) or not text.strip():
        raise FormulaError(Message("formula.empty"), "")
    _check_characters(text)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, MemoryError, RecursionError, ValueError):
        raise FormulaError(Message("formula.not_a_number", piece=Typed(text.strip())),
                           text) from None
    builder = _Builder(text)
    value = builder.build(tree.body)
    if not isinstance(value, float):
        raise FormulaError(Message("formula.not_a_number", piece=Typed(text.strip())), text)
    return value


def format_number(value: float) -> str:
    """Shortest text for a constant in formulas and sentences: 2.0 -> "2", 0.5 -> "0.5"
    (inf and nan as "inf", "nan"; code takes ``python_number``)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def forward(formula: Formula, x: torch.Tensor, reduce: str) -> dict[str, torch.Tensor]:
    """The forward pass, step by step, exactly as the generated code runs it."""
    tensors: dict[str, torch.Tensor] = {"x": x}
    for step in formula.steps:
        args = [tensors[a] if isinstance(a, str) else a for a in step.args]
        tensors[step.name] = apply(step.op, args)
    y = tensors[formula.output]
    if formula.reduction is None:
        y = apply(reduce, [y])
    tensors["y"] = y
    return tensors


def python_number(value: float, shortest: bool = True) -> str:
    """A constant as Python source that evaluates to exactly it, for generated code.

    ``repr`` writes infinities and NaN as ``inf`` and ``nan``, names Python does not know
    (``x + log(0)`` exported ``x + (-inf)``: a NameError); here they are
    ``float("inf")``, ``float("-inf")`` and ``float("nan")``, and -0.0 keeps its sign.
    ``shortest``: whole numbers without ".0" (``format_number``), else ``repr``.
    """
    value = float(value)
    if math.isnan(value):
        return 'float("nan")'
    if math.isinf(value):
        return 'float("inf")' if value > 0 else 'float("-inf")'
    if value == 0 and math.copysign(1.0, value) < 0:
        return "-0.0"
    return format_number(value) if shortest else repr(value)
