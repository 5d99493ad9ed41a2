"""The cell's interpreter: a checked syntax tree run statement by statement on real objects.

Nothing is compiled: each node of the tree is read and done here, with Python's own
semantics where the cell allows the construct. Every call goes through the table of
``lab.cell.allowed``, every attribute through its allow-lists, and every operation that
makes something (a tensor, a list, a string, an integer) has its size checked first
(``lab.cell.limits``). The run ends in one plain ``CellResult``.
"""

from __future__ import annotations

import ast
import contextlib
import operator
import re
from collections.abc import Callable

import numpy
import torch

from lab.cell import allowed, check
from lab.cell.allowed import Function, Namespace, broadcast_shape, is_number, kind_of, type_name
from lab.cell.limits import Abandoned, Budget, Limits, Refused, Stopped, captured_warnings
from lab.cell.result import CellError, CellResult, TensorSummary, explain
from lab.i18n import Message, Typed

DEFAULT_LIMITS = Limits()
SUMMARY_VALUES = 20           # elements of each tensor kept in its summary
OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
             "**": operator.pow, "//": operator.floordiv, "%": operator.mod}
IN_PLACE = {"+": operator.iadd, "-": operator.isub, "*": operator.imul, "/": operator.itruediv,
            "**": operator.ipow, "//": operator.ifloordiv, "%": operator.imod}
COMPARISONS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
               ast.GtE: ">=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in",
               ast.NotIn: "not in"}
COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
           ">": operator.gt, ">=": operator.ge}
CONVERSIONS = {ord("s"): str, ord("r"): repr, ord("a"): ascii}
# Python's format spec: [[fill]align][sign][z][#][0][width][grouping][.precision][type]
_FORMAT_SPEC = (r"(?:.?[<>=^])?[-+ ]?z?#?0?(?P<width>\d*)[_,]?(?:\.(?P<precision>\d*))?"
                r"[bcdeEfFgGnosxX%]?")
_SEQUENCES = (str, list, tuple)


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


def _no_arrays(*values) -> None:
    if any(isinstance(value, numpy.ndarray) for value in values):
        raise Refused(Message("cell.numpy_value"))


class Interpreter:
    """One run of one program. ``run()`` returns its ``CellResult``; the names it bound
    stay in ``names`` (tests check what they hold)."""

    def __init__(self, source: str, tree: ast.Module, limits: Limits, caught: list[str],
                 abandon: Callable[[], bool] | None = None):
        self.tree = tree
        self.lines = source.splitlines()
        self.budget = Budget(limits, abandon)
        self.names: dict[str, object] = {}
        self.output: list[str] = []
        self.graphs: list[str] = []
        self.digraphs: list = []              # make_dot's Digraphs, kept alive (for display)
        self.drawings: list = []              # the same, drawn for the page (lab.drawing)
        self.warnings = caught
        self.generator = torch.Generator()    # this run's own: the process's stays untouched
        self.seeded = False
        self.node: ast.AST | None = None      # what is being done, for an error's place
        self.table = allowed.table()
        self.operators = allowed.operators()

    # ---- the run ------------------------------------------------------------------------------

    def run(self) -> CellResult:
        grad_mode = torch.is_grad_enabled()
        error, shown, shown_graph = None, None, None
        try:
            body = self.tree.body
            for statement in body[:-1]:
                self.statement(statement)
            if body and isinstance(body[-1], ast.Expr):
                self.node = body[-1]
                self.budget.step()
                shown, shown_graph = self.display(self.value(body[-1].value))
            elif body:
                self.statement(body[-1])
        except Abandoned:
            raise
        except Exception as problem:   # noqa: BLE001 - refused, stopped, or the program's own
            error = self.error(problem)
        finally:
            torch.set_grad_enabled(grad_mode)
        return CellResult(stdout="".join(self.output), shown=shown, graphs=tuple(self.graphs),
                          shown_graph=shown_graph, tensors=self.summaries(),
                          warnings=tuple(self.warnings), error=error,
                          drawings=tuple(self.drawings))

    def error(self, problem: Exception) -> CellError:
        check.located(problem, self.node, self.lines)
        line, column = getattr(problem, "line", None), getattr(problem, "column", None)
        if isinstance(problem, (Refused, Stopped)):
            kind = "refused" if isinstance(problem, Refused) else "limit"
            return CellError(kind, line, column, problem.message)
        text = str(problem)
        why, fix = explain(text) or (None, None)
        return CellError("pytorch", line, column, exception=type(problem).__name__,
                         text=text, why=why, fix=fix)

    def display(self, value) -> tuple[str | None, int | None]:
        """A bare last expression, as a notebook shows it: its repr, or the drawing of a
        ``make_dot`` graph."""
        if value is None:
            return None, None
        for index, digraph in enumerate(self.digraphs):
            if digraph is value:
                return None, index
        return self.text(value, repr), None

    # ---- statements ---------------------------------------------------------------------------

    def block(self, statements: list[ast.stmt]) -> None:
        for statement in statements:
            self.statement(statement)

    def statement(self, node: ast.stmt) -> None:
        self.node = node
        self.budget.step()
        getattr(self, f"_{type(node).__name__.lower()}")(node)

    def _expr(self, node: ast.Expr) -> None:
        self.value(node.value)

    def _assign(self, node: ast.Assign) -> None:
        value = self.value(node.value)
        for target in node.targets:
            self.assign(target, value)

    def _augassign(self, node: ast.AugAssign) -> None:
        symbol = check.BINARY[type(node.op)]
        target = node.target
        if isinstance(target, ast.Name):
            current = self.lookup(target.id, target)
            self.bind(target.id, self.in_place(symbol, current, self.value(node.value), node))
        elif isinstance(target, ast.Attribute):
            owner = self.value(target.value)
            current = self.attribute(owner, target.attr, target)
            new = self.in_place(symbol, current, self.value(node.value), node)
            self.set_attribute(owner, target.attr, new, target)
        else:
            owner, index = self.value(target.value), self.value(target.slice)
            current = self.subscript(owner, index, target)
            new = self.in_place(symbol, current, self.value(node.value), node)
            self.set_item(owner, index, new, target)

    def _for(self, node: ast.For) -> None:
        iterable = node.iter
        if isinstance(iterable, ast.Call):
            source = self._call(iterable, for_loop=True)
        else:
            source = self.value(iterable)
        self.node = node
        for item in self.iterate(source, steps=False):
            self.node = node
            self.budget.step()
            self.assign(node.target, item)
            try:
                self.block(node.body)
            except _Break:
                return
            except _Continue:
                continue
        self.block(node.orelse)

    def _if(self, node: ast.If) -> None:
        if self.truth(self.value(node.test)):
            self.block(node.body)
        else:
            self.block(node.orelse)

    def _with(self, node: ast.With) -> None:
        with contextlib.ExitStack() as stack:
            for item in node.items:
                manager = self.value(item.context_expr.func)
                self.node = item.context_expr
                if not (isinstance(manager, Function) and manager.entry.kind == "context"):
                    raise Refused(Message("cell.with_only"))
                stack.enter_context(manager.entry.action())
            self.block(node.body)

    def _pass(self, node) -> None:
        pass

    def _break(self, node) -> None:
        raise _Break

    def _continue(self, node) -> None:
        raise _Continue

    def _assert(self, node: ast.Assert) -> None:
        if not self.truth(self.value(node.test)):
            self.node = node
            if node.msg is None:
                raise AssertionError
            raise AssertionError(self.text(self.value(node.msg), str))

    def _import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.bind(alias.asname, Namespace(alias.name))
            else:
                self.bind(alias.name.split(".")[0], Namespace(alias.name.split(".")[0]))

    def _importfrom(self, node: ast.ImportFrom) -> None:
        alias = node.names[0]
        self.bind(alias.asname or alias.name, Function(self.table[f"{node.module}.{alias.name}"]))

    # ---- names and targets --------------------------------------------------------------------

    def bind(self, name: str, value) -> None:
        if not allowed.is_allowed_value(value):      # the invariant, checked at every binding
            raise Refused(Message("cell.not_holdable", kind=type(value).__name__))
        self.names[name] = value

    def lookup(self, name: str, node: ast.AST):
        if name in self.names:
            return self.names[name]
        if name in allowed.builtin_names():
            return Function(self.table[name])
        self.node = node
        raise NameError(f"name '{name}' is not defined")

    def assign(self, target: ast.AST, value) -> None:
        if isinstance(target, ast.Name):
            self.bind(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            self.node = target
            for element, item in zip(target.elts, self.unpack(value, len(target.elts))):
                self.assign(element, item)
        elif isinstance(target, ast.Attribute):
            self.set_attribute(self.value(target.value), target.attr, value, target)
        else:
            owner, index = self.value(target.value), self.value(target.slice)
            self.set_item(owner, index, value, target)

    def unpack(self, value, expected: int) -> list:
        """``a, b = value``, with Python's errors when the counts differ."""
        if isinstance(value, torch.Tensor) and value.dim() == 0:
            raise TypeError("iteration over a 0-d tensor")
        if not isinstance(value, (list, tuple, str, range, dict, torch.Tensor)):
            raise TypeError(f"cannot unpack non-iterable {type_name(value)} object")
        count = len(value)
        if count < expected:
            raise ValueError(f"not enough values to unpack (expected {expected}, got {count})")
        if count > expected:
            raise ValueError(f"too many values to unpack (expected {expected})")
        return list(self.iterate(value, steps=False))

    def set_attribute(self, owner, name: str, value, node: ast.AST) -> None:
        self.node = node
        entry = self.table.get(f"{kind_of(owner)}.{name}")
        if entry is None or entry.write is None:
            raise Refused(Message("cell.assign_target", piece=Typed(f"{kind_of(owner)}.{name}"),
                                  settable=", ".join(f"`t.{n}`" for n in allowed.SETTABLE)))
        _no_arrays(value)
        entry.write(self, owner, value)

    def set_item(self, owner, index, value, node: ast.AST) -> None:
        self.node = node
        _no_arrays(owner, value)
        if isinstance(owner, torch.Tensor):
            if not (isinstance(value, torch.Tensor) or is_number(value)):
                raise Refused(Message("cell.operand", symbol="[…] =", left="Tensor",
                                      right=kind_of(value)))
            self.index_shape(owner, index)
            self.budget.charge(owner.numel())
            owner[index] = value
            return
        if isinstance(owner, dict) and not isinstance(index, str):
            raise Refused(Message("cell.dict_keys", example=allowed.DICT_EXAMPLE))
        if isinstance(owner, list) and isinstance(index, slice):
            removed = len(range(*index.indices(len(owner))))
            added = len(value) if isinstance(value, (list, tuple, str, range, dict)) else 0
            self.budget.sequence(len(owner) - removed + added, "list")
        owner[index] = value

    # ---- expressions ----------------------------------------------------------------------------

    def value(self, node: ast.AST):
        return getattr(self, f"_{type(node).__name__.lower()}_value")(node)

    def _constant_value(self, node: ast.Constant):
        return node.value

    def _name_value(self, node: ast.Name):
        return self.lookup(node.id, node)

    def _attribute_value(self, node: ast.Attribute):
        return self.attribute(self.value(node.value), node.attr, node)

    def _call_value(self, node: ast.Call):
        return self._call(node)

    def _call(self, node: ast.Call, for_loop: bool = False):
        function = self.value(node.func)
        args = [self.value(arg) for arg in node.args]
        kwargs = {keyword.arg: self.value(keyword.value) for keyword in node.keywords}
        self.node = node
        return self.invoke(function, args, kwargs, for_loop)

    def invoke(self, function, args: list, kwargs: dict, for_loop: bool = False):
        if not isinstance(function, Function):
            if callable(function):            # a graph node: callable in Python, not here
                raise Refused(Message("cell.not_callable", kind=kind_of(function)))
            raise TypeError(f"'{type_name(function)}' object is not callable")
        entry = function.entry
        if entry.kind == "context":
            raise Refused(Message("cell.context_only", name=entry.name))
        if entry.for_only and not for_loop:
            raise Refused(Message("cell.for_only", name=entry.name))
        if not entry.arrays:
            _no_arrays(*args, *kwargs.values())
        self.budget.check_time()
        call = entry.bind(function.receiver, tuple(args), kwargs)
        if entry.warns:
            with captured_warnings(self.warnings):
                return entry.action(self, call)
        return entry.action(self, call)

    def attribute(self, owner, name: str, node: ast.AST):
        self.node = node
        if isinstance(owner, Namespace):
            found = allowed.member(owner.path, name)
            if found is None:
                raise Refused(Message("cell.attribute_of", name=Typed(f".{name}"),
                                      kind=owner.path))
            return found
        kind = kind_of(owner)
        entry = self.table.get(f"{kind}.{name}")
        if entry is None and not isinstance(owner, Function) and name not in dir(owner):
            # x.grad.zero_() before any backward(): Python's own error
            raise AttributeError(f"'{type_name(owner)}' object has no attribute '{name}'")
        if entry is None:                                 # there, but not allowed here
            raise Refused(Message("cell.attribute_of", name=Typed(f".{name}"), kind=kind))
        if entry.kind == "method":
            return Function(entry, owner)
        self.budget.check_time()
        if entry.warns:
            with captured_warnings(self.warnings):
                return entry.action(self, owner)
        return entry.action(self, owner)

    def _binop_value(self, node: ast.BinOp):
        left, right = self.value(node.left), self.value(node.right)
        self.node = node
        return self.binary(check.BINARY[type(node.op)], left, right)

    def _unaryop_value(self, node: ast.UnaryOp):
        operand = self.value(node.operand)
        self.node = node
        symbol = check.UNARY[type(node.op)]
        if symbol == "not":
            return not self.truth(operand)
        _no_arrays(operand)
        if isinstance(operand, torch.Tensor):
            if f"unary {symbol}" not in self.operators:
                raise Refused(Message("cell.tensor_operator", symbol=symbol))
            self.budget.tensor(operand.shape)
        elif not is_number(operand):
            raise TypeError(f"bad operand type for unary {symbol}: '{type_name(operand)}'")
        return -operand if symbol == "-" else +operand

    def _boolop_value(self, node: ast.BoolOp):
        """``a and b`` / ``a or b``: Python's short circuit; the last value is not tested."""
        is_and = isinstance(node.op, ast.And)
        for operand in node.values[:-1]:
            value = self.value(operand)
            if self.truth(value) != is_and:
                return value
        return self.value(node.values[-1])

    def _ifexp_value(self, node: ast.IfExp):
        return self.value(node.body if self.truth(self.value(node.test)) else node.orelse)

    def _compare_value(self, node: ast.Compare):
        """``a < b < c``: each link tested only when another follows, as in Python."""
        left = self.value(node.left)
        last = len(node.ops) - 1
        for index, (op, right_node) in enumerate(zip(node.ops, node.comparators)):
            right = self.value(right_node)
            self.node = node
            result = self.compare(COMPARISONS[type(op)], left, right)
            if index == last or not self.truth(result):
                return result
            left = right

    def _list_value(self, node: ast.List):
        items = [self.value(element) for element in node.elts]
        self.budget.sequence(len(items), "list")
        return items

    def _tuple_value(self, node: ast.Tuple):
        items = tuple(self.value(element) for element in node.elts)
        self.budget.sequence(len(items), "tuple")
        return items

    def _dict_value(self, node: ast.Dict):
        result = {key.value: self.value(value) for key, value in zip(node.keys, node.values)}
        self.budget.sequence(len(result), "list")
        return result

    def _subscript_value(self, node: ast.Subscript):
        owner, index = self.value(node.value), self.value(node.slice)
        return self.subscript(owner, index, node)

    def _slice_value(self, node: ast.Slice):
        return slice(*(None if part is None else self.value(part)
                       for part in (node.lower, node.upper, node.step)))

    def _joinedstr_value(self, node: ast.JoinedStr):
        text = "".join(self.value(piece) for piece in node.values)
        self.budget.sequence(len(text), "str")
        return text

    def _formattedvalue_value(self, node: ast.FormattedValue):
        value = self.value(node.value)
        self.node = node
        if node.conversion in CONVERSIONS:
            value = self.text(value, CONVERSIONS[node.conversion])
        spec = self.value(node.format_spec) if node.format_spec is not None else ""
        self.node = node
        self.check_format(spec)
        if not isinstance(value, str):
            self.budget.weigh(value)
        text = format(value, spec)
        self.budget.sequence(len(text), "str")
        return text

    # ---- operations ------------------------------------------------------------------------------

    def binary(self, symbol: str, left, right):
        """``left <symbol> right`` with Python's (and PyTorch's) semantics, sizes first."""
        self.budget.check_time()
        _no_arrays(left, right)
        if isinstance(left, torch.Tensor) or isinstance(right, torch.Tensor):
            self.tensor_operands(symbol, left, right)
            return OPERATORS[symbol](left, right)
        if is_number(left) and is_number(right):
            return self.numbers(symbol, left, right)
        if isinstance(left, _SEQUENCES) or isinstance(right, _SEQUENCES):
            return self.sequences(symbol, left, right)
        shown = "** or pow()" if symbol == "**" else symbol
        raise TypeError(f"unsupported operand type(s) for {shown}: '{type_name(left)}' and "
                        f"'{type_name(right)}'")

    def tensor_operands(self, symbol: str, left, right, registry: bool = True) -> None:
        """A tensor with a tensor or a number: a registry operator, and the broadcast shape
        within the limits."""
        if registry and f"binary {symbol}" not in self.operators:
            raise Refused(Message("cell.tensor_operator", symbol=symbol))
        for operand in (left, right):
            if not (isinstance(operand, torch.Tensor) or is_number(operand)):
                raise Refused(Message("cell.operand", symbol=symbol, left=kind_of(left),
                                      right=kind_of(right)))
        shape = broadcast_shape(left, right)
        if shape is not None:
            self.budget.tensor(shape)

    def numbers(self, symbol: str, left, right):
        if isinstance(left, int) and isinstance(right, int):
            if symbol == "*":
                self.budget.int_bits(abs(left).bit_length() + abs(right).bit_length())
            elif symbol == "**" and right > 0 and abs(left) > 1:
                self.budget.int_bits((abs(left).bit_length() - 1) * right + 1)
        result = OPERATORS[symbol](left, right)
        if isinstance(result, complex):
            raise Refused(Message("cell.complex"))
        if isinstance(result, int):
            self.budget.int_bits(abs(result).bit_length())
        return result

    def sequences(self, symbol: str, left, right):
        """``+`` of two sequences and ``*`` by a whole number, their length checked first."""
        if symbol == "%" and isinstance(left, str):
            raise Refused(Message("cell.string_method", name=Typed("%")))
        if symbol == "+" and isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
            if isinstance(right, type(left)) or isinstance(left, type(right)):
                self.budget.sequence(len(left) + len(right), _kind(left))
        elif symbol == "*":
            sequence, count = (left, right) if isinstance(left, _SEQUENCES) else (right, left)
            if isinstance(count, int) and isinstance(sequence, _SEQUENCES):
                self.budget.sequence(len(sequence) * max(count, 0), _kind(sequence))
        return OPERATORS[symbol](left, right)

    def in_place(self, symbol: str, current, value, node: ast.AST):
        """``current <symbol>= value``: a tensor or a list changes in place, as in Python."""
        self.node = node
        _no_arrays(current, value)
        if isinstance(current, torch.Tensor):
            self.tensor_operands(symbol, current, value)
            self.budget.charge(current.numel())
            return IN_PLACE[symbol](current, value)
        if isinstance(current, list) and symbol in ("+", "*"):
            if symbol == "*" and isinstance(value, int):
                self.budget.sequence(len(current) * max(value, 0), "list")
            elif symbol == "+" and isinstance(value, (list, tuple, str, range, dict,
                                                       torch.Tensor)):
                self.budget.sequence(len(current) + len(value), "list")
            return IN_PLACE[symbol](current, value)
        return self.binary(symbol, current, value)

    def compare(self, symbol: str, left, right):
        self.budget.check_time()
        if symbol in ("is", "is not"):
            return (left is right) == (symbol == "is")
        _no_arrays(left, right)
        if symbol in ("in", "not in"):
            return self.contains(right, left) == (symbol == "in")
        if isinstance(left, torch.Tensor) or isinstance(right, torch.Tensor):
            if left is not None and right is not None:
                self.tensor_operands(symbol, left, right, registry=False)
            return COMPARE[symbol](left, right)
        for side in (left, right):
            if isinstance(side, (list, tuple, dict)):
                self.budget.weigh(side, tensors=False)
        return COMPARE[symbol](left, right)

    def contains(self, container, item) -> bool:
        if isinstance(container, torch.Tensor):
            self.tensor_operands("in", item, container, registry=False)
            return item in container
        if isinstance(container, (list, tuple, dict)):
            self.budget.weigh(container, tensors=False)
            self.budget.weigh(item, tensors=False)
            return item in container
        if isinstance(container, (str, range)):
            return item in container
        raise TypeError(f"argument of type '{type_name(container)}' is not iterable")

    def truth(self, value) -> bool:
        _no_arrays(value)
        return bool(value)

    def subscript(self, owner, index, node: ast.AST):
        self.node = node
        _no_arrays(owner, index)
        if isinstance(owner, torch.Tensor):
            shape = self.index_shape(owner, index)
            if shape is not None:
                self.budget.tensor(shape)
            return owner[index]
        if isinstance(owner, (list, tuple, str)) and isinstance(index, slice):
            self.budget.sequence(len(range(*index.indices(len(owner)))), _kind(owner))
        if isinstance(owner, (list, tuple, str, range, dict)):
            return owner[index]
        raise TypeError(f"'{type_name(owner)}' object is not subscriptable")

    def index_shape(self, tensor: torch.Tensor, index):
        """The shape ``tensor[index]`` would have when indexing copies (tensor or list
        indices); None for a view (ints, slices, None, ...), never larger than the tensor."""
        pieces = index if isinstance(index, tuple) else (index,)
        advanced = [piece for piece in pieces if isinstance(piece, (torch.Tensor, list))]
        if not advanced:
            return None
        for piece in advanced:
            self.budget.weigh(piece, cap=self.budget.limits.max_elements)
        meta = tuple(torch.empty(piece.shape, dtype=piece.dtype, device="meta")
                     if isinstance(piece, torch.Tensor) else piece for piece in pieces)
        try:
            with captured_warnings(self.warnings):
                shape = torch.empty(tensor.shape, dtype=tensor.dtype, device="meta")[
                    meta if isinstance(index, tuple) else meta[0]].shape
        except NotImplementedError:          # a mask: how many it keeps depends on the data
            if len(advanced) > 1:
                raise Refused(Message("cell.index")) from None
            return tuple(tensor.shape)
        except (IndexError, RuntimeError, TypeError, ValueError):
            return None                       # the real indexing raises PyTorch's message
        return tuple(shape)

    def iterate(self, value, steps: bool = True):
        """The items of ``value`` in order; each one a step of the run (``steps``), as the
        iterations of a builtin's loop (``sum``, ``max``, ``list``…)."""
        _no_arrays(value)
        if isinstance(value, torch.Tensor):
            if value.dim() == 0:
                raise TypeError("iteration over a 0-d tensor")
            self.budget.charge(len(value))
        elif not isinstance(value, (list, tuple, str, range, dict, enumerate, zip)):
            raise TypeError(f"'{type_name(value)}' object is not iterable")
        for item in value:
            if steps:
                self.budget.step()
            yield item

    def text(self, value, convert=str) -> str:
        """``str``/``repr``/``ascii`` of a value, its size bounded before it is written."""
        if isinstance(value, str) and convert is str:
            return value
        self.budget.weigh(value)
        text = convert(value)
        self.budget.sequence(len(text), "str")
        return text

    def check_format(self, spec: str) -> None:
        """A format spec's width and precision within the limit, before formatting."""
        match = re.fullmatch(_FORMAT_SPEC, spec)
        if match is None:
            return                       # not a standard spec: format() raises Python's error
        for digits in (match.group("width"), match.group("precision")):
            if digits:
                width = int(digits) if len(digits) <= 9 else 10 ** 9
                self.budget.format_width(spec, width)

    def write(self, text: str) -> None:
        self.budget.printed(len(text))
        self.output.append(text)

    # ---- what the table's actions ask of the run -----------------------------------------------

    def seed(self, value) -> torch.Generator:
        """``torch.manual_seed``: this run's own generator, never the process's."""
        self.generator.manual_seed(value)
        self.seeded = True
        return self.generator

    def seeded_generator(self, name: str) -> torch.Generator:
        if not self.seeded:
            raise Refused(Message("cell.unseeded", name=name))
        return self.generator

    def record_graph(self, digraph, outputs, params) -> None:
        """A ``make_dot`` result: its DOT as the program would print it (ids renumbered),
        and its drawing for the page in every palette, with words from its autograd graph."""
        from lab.drawing import _stable_ids, torchviz_drawing

        self.digraphs.append(digraph)
        self.graphs.append(_stable_ids(digraph.source))
        self.budget.sequence(len(self.graphs[-1]), "str")
        self.drawings.append(torchviz_drawing(digraph, outputs, dict(params or {})))
        self.budget.sequence(sum(map(len, self.drawings[-1].dots.values())), "str")

    def backward(self, call, graph: list):
        """``tensor.backward(...)``, its graph (``graph``: every node, breadth first)
        already checked against the limits (lab.cell.stepping watches it)."""
        return call.receiver.backward(*call.args, **call.kwargs)

    # ---- the tensors left at the end -------------------------------------------------------

    def summaries(self) -> tuple[TensorSummary, ...]:
        found = []
        for name, value in self.names.items():
            if isinstance(value, torch.Tensor):
                try:
                    found.append(summary(name, value, self.budget.limits.max_graph_nodes))
                except RuntimeError:     # e.g. a tensor whose data was replaced by a bad shape
                    continue
        return tuple(found)


def _kind(sequence) -> str:
    return "str" if isinstance(sequence, str) else type(sequence).__name__


def _first(tensor: torch.Tensor) -> tuple[float, ...]:
    flat = tensor.detach().reshape(-1)[:SUMMARY_VALUES]
    if flat.is_complex():
        flat = flat.real
    return tuple(float(v) for v in flat.tolist())


def node_names(grad_fn, limit: int) -> tuple[str, ...]:
    """The backward nodes reachable from ``grad_fn``, each once, breadth first (at most
    ``limit``)."""
    names, seen, queue = [], set(), [grad_fn] if grad_fn is not None else []
    while queue and len(names) < limit:
        node = queue.pop(0)
        if id(node) in seen:
            continue
        seen.add(id(node))
        names.append(type(node).__name__)
        queue.extend(child for child, _ in node.next_functions if child is not None)
    return tuple(names)


def summary(name: str, tensor: torch.Tensor, limit: int) -> TensorSummary:
    has_grad = tensor.is_leaf or tensor.retains_grad      # reading it otherwise warns
    grad = tensor.grad if has_grad else None
    return TensorSummary(
        name=name, shape=tuple(tensor.shape), dtype=str(tensor.dtype),
        requires_grad=tensor.requires_grad, is_leaf=tensor.is_leaf,
        grad_fn=type(tensor.grad_fn).__name__ if tensor.grad_fn is not None else None,
        repr=repr(tensor), values=_first(tensor), grad=_first(grad) if grad is not None else None,
        nodes=node_names(tensor.grad_fn, limit))


def interpret(source: str, limits: Limits = DEFAULT_LIMITS,
              abandon: Callable[[], bool] | None = None,
              kind: type[Interpreter] = Interpreter) -> tuple[CellResult, Interpreter | None]:
    """Check and run ``source``: its result, and the interpreter (None when refused before
    running) whose ``names`` hold what the program bound. ``abandon`` is asked now and then
    whether the run is still wanted; if not, ``Abandoned`` is raised. ``kind``: the
    interpreter to run it (lab.cell.stepping's watches its backward pass)."""
    caught: list[str] = []
    try:
        tree = check.parse(source, limits, caught)
    except (Refused, Stopped) as problem:
        kind = "refused" if isinstance(problem, Refused) else "limit"
        error = CellError(kind, getattr(problem, "line", None), getattr(problem, "column", None),
                          problem.message)
        return CellResult("", warnings=tuple(caught), error=error), None
    interpreter = kind(source, tree, limits, caught, abandon)
    return interpreter.run(), interpreter


def run_program(source: str, limits: Limits = DEFAULT_LIMITS,
                abandon: Callable[[], bool] | None = None) -> CellResult:
    """Run a student's PyTorch program in the cell; see ``lab.cell``."""
    return interpret(source, limits, abandon)[0]
