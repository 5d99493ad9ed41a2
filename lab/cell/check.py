"""From source text to a syntax tree the interpreter may walk, or a refusal that says where.

Sizes first (characters, lines), then ``ast.parse`` (parsing only: nothing is compiled),
then every node of the tree against the cell's whitelist: statement and expression kinds,
names, attribute names (each must belong to some allow-list of ``lab.cell.allowed``), imports,
assignment targets, literals. What is refused is named with its line and column before
anything runs.
"""

from __future__ import annotations

import ast
import builtins

from lab.cell import allowed
from lab.cell.limits import Limits, Refused, Stopped, captured_warnings
from lab.i18n import Message, Typed

# Constructs outside the cell's Python, as a student would spell them, and the catalogue
# text that refuses each (the ones without a hint of their own use "cell.not_allowed").
_REFUSED = {
    ast.FunctionDef: ("def", "cell.no_functions"),
    ast.AsyncFunctionDef: ("async def", "cell.no_functions"),
    ast.Lambda: ("lambda", "cell.no_functions"),
    ast.ClassDef: ("class", "cell.not_allowed"),
    ast.Return: ("return", "cell.not_allowed"),
    ast.Delete: ("del", "cell.not_allowed"),
    ast.While: ("while", "cell.no_while"),
    ast.AsyncFor: ("async for", "cell.not_allowed"),
    ast.AsyncWith: ("async with", "cell.not_allowed"),
    ast.Raise: ("raise", "cell.not_allowed"),
    ast.Try: ("try", "cell.not_allowed"),
    ast.Global: ("global", "cell.not_allowed"),
    ast.Nonlocal: ("nonlocal", "cell.not_allowed"),
    ast.AnnAssign: ("name: annotation", "cell.not_allowed"),
    ast.ListComp: ("[… for … in …]", "cell.no_comprehensions"),
    ast.SetComp: ("{… for … in …}", "cell.no_comprehensions"),
    ast.DictComp: ("{…: … for … in …}", "cell.no_comprehensions"),
    ast.GeneratorExp: ("(… for … in …)", "cell.no_comprehensions"),
    ast.Set: ("{…} (set)", "cell.not_allowed"),
    ast.NamedExpr: (":=", "cell.not_allowed"),
    ast.Starred: ("*", "cell.no_star"),
    ast.Await: ("await", "cell.not_allowed"),
    ast.Yield: ("yield", "cell.not_allowed"),
    ast.YieldFrom: ("yield from", "cell.not_allowed"),
}
for _name in ("TryStar", "Match"):                      # newer Pythons
    if hasattr(ast, _name):
        _REFUSED[getattr(ast, _name)] = (_name.lower().replace("star", "*"), "cell.not_allowed")

# Operators: the ones a cell runs, by their AST class, and how each is written.
BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
          ast.FloorDiv: "//", ast.Mod: "%"}
_REFUSED_OPERATORS = {ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|",
                      ast.BitXor: "^", ast.BitAnd: "&", ast.Invert: "~"}
UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Not: "not"}

_STATEMENTS = (ast.Expr, ast.Assign, ast.AugAssign, ast.For, ast.If, ast.With, ast.Pass,
               ast.Break, ast.Continue, ast.Assert, ast.Import, ast.ImportFrom)
_EXPRESSIONS = (ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.IfExp, ast.Dict, ast.List, ast.Tuple,
                ast.Compare, ast.Call, ast.Constant, ast.JoinedStr, ast.FormattedValue,
                ast.Attribute, ast.Subscript, ast.Slice, ast.Name, ast.keyword, ast.withitem)
# Nodes that only qualify their parent (Load/Store, operators): not a level of nesting.
_QUALIFIERS = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop, ast.alias)
_FORBIDDEN_BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_"))


def position(node: ast.AST, lines: list[str]) -> tuple[int | None, int | None]:
    """Where ``node`` starts: its line and its column in characters, both from 1 (``ast``
    counts columns in UTF-8 bytes)."""
    line, offset = getattr(node, "lineno", None), getattr(node, "col_offset", None)
    if line is None or offset is None:
        return line, None
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return line, len(text.encode()[:offset].decode(errors="ignore")) + 1


def located(error: Exception, node: ast.AST | None, lines: list[str]) -> Exception:
    """``error`` placed at ``node``, unless it already has a place."""
    if node is not None and getattr(error, "line", None) is None:
        error.line, error.column = position(node, lines)
    return error


def _shell_line(source: str) -> Refused | None:
    """A notebook's ``!pip install …`` or ``%magic`` line: not Python, answered kindly."""
    for number, line in enumerate(source.splitlines(), start=1):
        text = line.strip()
        if text[:1] in ("!", "%"):
            key = "cell.torchviz_installed" if "torchviz" in text else "cell.shell_line"
            error = Refused(Message(key, piece=Typed(text)))
            error.line, error.column = number, line.index(text[0]) + 1
            return error
    return None


def _depth(tree: ast.AST) -> int:
    """How deeply the tree nests (qualifier nodes such as Load or ``+`` not counted)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node)
                     if not isinstance(child, _QUALIFIERS))
    return deepest


def parse(source: str, limits: Limits, caught: list[str]) -> ast.Module:
    """The checked tree of ``source``; raises ``Refused`` or ``Stopped`` placed where the
    problem is. Python's warnings while parsing (an invalid escape) land in ``caught``."""
    if not isinstance(source, str):
        raise Refused(Message("cell.not_text"))
    if len(source) > limits.max_chars:
        raise Stopped(Message("cell.too_long", length=len(source), limit=limits.max_chars))
    lines = len(source.splitlines())
    if lines > limits.max_lines:
        raise Stopped(Message("cell.too_many_lines", lines=lines, limit=limits.max_lines))
    try:
        with captured_warnings(caught):
            tree = ast.parse(source)
    except SyntaxError as error:
        shell = _shell_line(source)
        if shell is not None:
            raise shell from None
        refusal = Refused(Message("cell.syntax", detail=Typed(error.msg or "")))
        refusal.line, refusal.column = error.lineno, error.offset or None
        raise refusal from None
    except (ValueError, RecursionError, MemoryError) as error:
        # null bytes in the text, or nesting too deep for the parser itself
        key = "cell.syntax" if isinstance(error, ValueError) else "cell.too_deep"
        raise Refused(Message(key, detail=Typed(str(error)), limit=limits.max_depth)) from None
    if _depth(tree) > limits.max_depth:
        raise Refused(Message("cell.too_deep", limit=limits.max_depth))
    _Checker(limits, source.splitlines()).check(tree)
    return tree


class _Checker:
    """One walk over the tree; the first node outside the whitelist raises."""

    def __init__(self, limits: Limits, lines: list[str]):
        self.limits = limits
        self.lines = lines
        self.attributes = allowed.attribute_names()
        self.modules = allowed.importable()
        self.builtins = allowed.builtin_names()
        self.ellipses: set[int] = set()       # x[..., 0]: the only place for an Ellipsis

    def refuse(self, key: str, node: ast.AST, **values) -> Refused:
        return located(Refused(Message(key, **values)), node, self.lines)

    def check(self, tree: ast.Module) -> None:
        for statement in tree.body:
            self.node(statement, loops=0)

    def node(self, node: ast.AST, loops: int, parent: ast.AST | None = None) -> None:
        kind = type(node)
        if kind in _REFUSED:
            construct, key = _REFUSED[kind]
            raise self.refuse(key, node, construct=construct)
        if isinstance(node, (ast.operator, ast.unaryop)):
            return
        if not isinstance(node, _STATEMENTS + _EXPRESSIONS + _QUALIFIERS):
            raise self.refuse("cell.not_allowed", node, construct=kind.__name__)
        special = getattr(self, f"_{kind.__name__.lower()}", None)
        if special is not None:
            special(node, loops, parent)
        if isinstance(node, ast.For):
            for child in node.body:
                self.node(child, loops + 1, node)
            for child in [node.target, node.iter] + node.orelse:
                self.node(child, loops, node)
            return
        for child in ast.iter_child_nodes(node):
            self.node(child, loops, node)

    # ---- statements ------------------------------------------------------------------------

    def _break(self, node, loops, parent):
        if loops == 0:
            raise self.refuse("cell.syntax", node, detail=Typed("'break' outside loop"))

    def _continue(self, node, loops, parent):
        if loops == 0:
            raise self.refuse("cell.syntax", node, detail=Typed("'continue' not properly in loop"))

    def _import(self, node, loops, parent):
        for alias in node.names:
            if alias.name not in self.modules:
                raise self.refuse("cell.import", node, module=Typed(alias.name),
                              allowed=allowed.import_lines())
            self._name_ok(alias.asname or alias.name.split(".")[0], node)

    def _importfrom(self, node, loops, parent):
        names = [alias.name for alias in node.names]
        source = f"{node.module}.{names[0]}" if node.module and len(names) == 1 else ""
        if node.level or source not in allowed.FROM_IMPORTS:
            module = ("." * node.level) + (node.module or "")
            raise self.refuse("cell.import", node, module=Typed(f"from {module} import "
                                                            + ", ".join(names)),
                          allowed=allowed.import_lines())
        self._name_ok(node.names[0].asname or names[0], node)

    def _assign(self, node, loops, parent):
        for target in node.targets:
            self._target(target)

    def _augassign(self, node, loops, parent):
        if not isinstance(node.target, (ast.Name, ast.Attribute, ast.Subscript)):
            raise self._bad_target(node.target)
        self._target(node.target)
        self._operator(node.op, node)

    def _for(self, node, loops, parent):
        self._target(node.target, names_only=True)

    def _with(self, node, loops, parent):
        for item in node.items:
            call = item.context_expr
            if (item.optional_vars is not None or not isinstance(call, ast.Call)
                    or call.args or call.keywords):
                raise self.refuse("cell.with_only", node)

    def _target(self, target: ast.AST, names_only: bool = False) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._target(element, names_only)
            return
        if isinstance(target, ast.Name):
            return
        if names_only or not isinstance(target, (ast.Attribute, ast.Subscript)):
            raise self._bad_target(target)
        if isinstance(target, ast.Attribute) and target.attr not in allowed.SETTABLE:
            raise self._bad_target(target)

    def _bad_target(self, target: ast.AST) -> Refused:
        if isinstance(target, ast.Starred):
            return self.refuse("cell.no_star", target, construct="*")
        return self.refuse("cell.assign_target", target, piece=Typed(ast.unparse(target)),
                       settable=", ".join(f"`t.{name}`" for name in allowed.SETTABLE))

    # ---- expressions ----------------------------------------------------------------------

    def _binop(self, node, loops, parent):
        self._operator(node.op, node)

    def _unaryop(self, node, loops, parent):
        self._operator(node.op, node)

    def _operator(self, op: ast.AST, node: ast.AST) -> None:
        symbol = _REFUSED_OPERATORS.get(type(op))
        if symbol is not None:
            key = "cell.caret" if symbol == "^" else "cell.operator"
            raise self.refuse(key, node, symbol=symbol)

    def _name(self, node, loops, parent):
        self._name_ok(node.id, node)

    def _name_ok(self, name: str, node: ast.AST) -> None:
        if name.startswith("__"):
            raise self.refuse("cell.dunder", node, name=Typed(name))
        if name in _FORBIDDEN_BUILTINS and name not in self.builtins:
            raise self.refuse("cell.name_not_available", node, name=Typed(name))

    def _attribute(self, node, loops, parent):
        if node.attr.startswith("_"):
            raise self.refuse("cell.private_attribute", node, name=Typed(f".{node.attr}"))
        if node.attr not in self.attributes:
            text = isinstance(node.value, ast.JoinedStr) or (
                isinstance(node.value, ast.Constant) and isinstance(node.value.value, str))
            raise self.refuse("cell.string_method" if text else "cell.attribute", node,
                              name=Typed(f".{node.attr}"))

    def _call(self, node, loops, parent):
        for keyword in node.keywords:
            if keyword.arg is None:
                raise self.refuse("cell.no_star", keyword, construct="**")
            if keyword.arg.startswith("_"):
                raise self.refuse("cell.private_attribute", keyword, name=Typed(keyword.arg))
        is_iterable = isinstance(parent, ast.For) and parent.iter is node
        if (isinstance(node.func, ast.Name) and node.func.id in allowed.FOR_ONLY
                and not is_iterable):
            raise self.refuse("cell.for_only", node, name=node.func.id)

    def _dict(self, node, loops, parent):
        for key in node.keys:
            if key is None:
                raise self.refuse("cell.no_star", node, construct="**")
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                raise self.refuse("cell.dict_keys", key, example=allowed.DICT_EXAMPLE)

    def _subscript(self, node, loops, parent):
        index = node.slice
        pieces = index.elts if isinstance(index, ast.Tuple) else [index]
        self.ellipses.update(id(piece) for piece in pieces
                             if isinstance(piece, ast.Constant) and piece.value is Ellipsis)

    def _constant(self, node, loops, parent):
        value = node.value
        if value is Ellipsis and id(node) in self.ellipses:
            return
        if isinstance(value, bool) or value is None or isinstance(value, float):
            return
        if isinstance(value, int) and value.bit_length() > self.limits.max_int_bits:
            raise located(Stopped(Message("cell.int_too_big", bits=value.bit_length(),
                                          limit=self.limits.max_int_bits)), node, self.lines)
        if isinstance(value, str) and len(value) > self.limits.max_string:
            raise located(Stopped(Message("cell.sequence_too_long", kind="str",
                                          length=len(value), limit=self.limits.max_string)),
                          node, self.lines)
        if not isinstance(value, (int, str)):
            raise self.refuse("cell.not_allowed", node, construct=repr(value)[:20])
