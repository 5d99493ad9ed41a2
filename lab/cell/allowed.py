"""The one table of what a cell may call, read and write.

Each entry is keyed the way a student writes it: ``torch.sin`` (a function of a
namespace), ``Tensor.backward`` (a method or attribute of a kind of value), ``print`` (a
builtin). Its ``action`` checks the arguments and the size of what the call will make
*before* doing the work, then calls the real PyTorch or Python function: the values a
program holds are real tensors, and what they print is what PyTorch prints.

The math operations come from the formula registry (``lab.ops.OPERATIONS``): each
operation's code template names its function (``torch.sin({a})``,
``torch.nn.functional.softplus({a})``, ``{a}.mean()``, ``{a} + {b}``), and the tensor
method of the same name is allowed where ``torch.Tensor`` has one. A new registry entry is
callable in the cell with no edit here.

A program can only ever hold: int, float, bool, None, str, list, tuple, dict (str keys),
slice, range, torch.Tensor, torch.dtype, torch.Size, torch.Generator, torch.optim.SGD, an
autograd graph node, numpy.ndarray (printable, nothing else), graphviz.Digraph, and the
sentinels below (``Namespace``, ``Function``), which can only be read from or called.
"""

from __future__ import annotations

import ast
import functools
import inspect
import math
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import graphviz
import numpy
import torch

from lab import ops
from lab.cell.limits import Refused, Stopped, span
from lab.i18n import Message, Typed

# ---- sentinels: the only values a program holds that are not PyTorch's or Python's own -------


class Namespace:
    """``torch``, ``torch.autograd``, ``torch.optim``, … : something to read names from."""

    __slots__ = ("path",)

    def __init__(self, path: str):
        self.path = path

    def __repr__(self) -> str:
        module = sys.modules.get(self.path)
        return repr(module) if module is not None else f"<module '{self.path}'>"


class Function:
    """An allowed callable (a method bound to its ``receiver``): it can only be called."""

    __slots__ = ("entry", "receiver")

    def __init__(self, entry: Entry, receiver=None):
        self.entry = entry
        self.receiver = receiver

    def __repr__(self) -> str:
        return self.entry.shown(self.receiver)


@dataclass
class Call:
    """One call's arguments as written, and bound to the entry's parameter names."""

    receiver: object
    args: tuple
    kwargs: dict
    bound: dict

    def given(self, name: str) -> bool:
        return name in self.bound

    def get(self, name: str, default=None):
        return self.bound.get(name, default)


class _Unset:
    def __repr__(self) -> str:
        return "…"


UNSET = _Unset()


def signature(spec: str) -> inspect.Signature:
    """``"input, /, dim=, keepdim="`` as a Signature: ``name=`` is optional, ``*name``
    takes any number of positional arguments, names after it or after ``*`` are keywords
    only, names before ``/`` are positional only."""
    names = [part.strip() for part in spec.split(",") if part.strip()]
    positional_only = "/" in names
    kind = (inspect.Parameter.POSITIONAL_ONLY if positional_only
            else inspect.Parameter.POSITIONAL_OR_KEYWORD)
    parameters = []
    for name in names:
        if name == "/":
            kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        elif name == "*":
            kind = inspect.Parameter.KEYWORD_ONLY
        elif name.startswith("*"):
            parameters.append(inspect.Parameter(name[1:], inspect.Parameter.VAR_POSITIONAL))
            kind = inspect.Parameter.KEYWORD_ONLY
        else:
            default = UNSET if name.endswith("=") else inspect.Parameter.empty
            parameters.append(inspect.Parameter(name.rstrip("="), kind, default=default))
    return inspect.Signature(parameters)


@dataclass(frozen=True)
class Entry:
    """One allowed name.

    ``kind``: "function" (called as ``action(run, call)``), "method" (the same, with the
    receiver in ``call.receiver``), "attribute" (read as ``action(run, owner)``; written
    with ``write(run, owner, value)`` when it has one), "constant" (``value``) or
    "context" (``action()`` makes the context manager of a ``with``).
    """

    name: str
    kind: str
    action: Callable | None = None
    spec: str = ""
    write: Callable | None = None
    value: object = None
    warns: bool = False          # capture PyTorch's warnings around it
    arrays: bool = False         # may take a NumPy array (printing only)
    for_only: bool = False       # only as what a for loop walks through
    target: Callable | None = field(default=None, compare=False)   # the real callable, for repr

    @functools.cached_property
    def signature(self) -> inspect.Signature:
        return signature(self.spec)

    @property
    def attribute(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    def shown(self, receiver) -> str:
        """What ``print`` shows for it, as for the real callable."""
        if receiver is not None:
            return (f"<built-in method {self.attribute} of {type(receiver).__name__} object"
                    f" at {id(receiver):#x}>")
        return repr(self.target) if self.target is not None else f"<function {self.attribute}>"

    def bind(self, receiver, args: tuple, kwargs: dict) -> Call:
        try:
            bound = self.signature.bind(*args, **kwargs).arguments
        except TypeError as problem:
            raise Refused(Message("cell.bad_arguments", name=self.name,
                                  signature=str(self.signature),
                                  detail=Typed(str(problem)))) from None
        return Call(receiver, args, kwargs, dict(bound))


# ---- what a value is ----------------------------------------------------------------------


def kind_of(value) -> str:
    """The name under which the table lists what a value allows (``Tensor.grad``)."""
    if isinstance(value, torch.Tensor):
        return "Tensor"
    if isinstance(value, torch.autograd.graph.Node):
        return "Node"
    if isinstance(value, torch.optim.SGD):
        return "SGD"
    if isinstance(value, torch.Generator):
        return "Generator"
    if isinstance(value, graphviz.Digraph):
        return "Digraph"
    if isinstance(value, torch.Size):
        return "Size"
    return type(value).__name__


HEAP_TYPE = 1 << 9          # Py_TPFLAGS_HEAPTYPE: a class defined in Python


def type_name(value) -> str:
    """The type's name as Python's messages write it: ``Tensor`` and ``NoneType``, but
    ``torch.Size`` (a C type's name carries its module); the sentinels as what they stand
    for (``module``, ``builtin_function_or_method``)."""
    if isinstance(value, Namespace):
        return "module"
    if isinstance(value, Function):
        return "builtin_function_or_method"
    kind = type(value)
    if kind.__flags__ & HEAP_TYPE or kind.__module__ == "builtins":
        return kind.__name__
    return f"{kind.__module__}.{kind.__name__}"


PLAIN = (int, float, bool, type(None), str, list, tuple, dict, slice, range, torch.Tensor,
         torch.dtype, torch.Size, torch.Generator, torch.optim.SGD, torch.autograd.graph.Node,
         numpy.ndarray, graphviz.Digraph, Namespace, Function)


def is_allowed_value(value) -> bool:
    """The invariant: every value a program holds is of one of these types (shallow)."""
    return isinstance(value, PLAIN)


def is_number(value) -> bool:
    return isinstance(value, (int, float))


def _tensor_span(value) -> int:
    return span(value.shape) if isinstance(value, torch.Tensor) else 1


def _no_complex(tensor: torch.Tensor) -> None:
    if tensor.is_complex():
        raise Refused(Message("cell.complex"))


# ---- size rules: how many elements a call will make, before it makes them ------------------


def broadcast_shape(*values):
    """The shape broadcasting gives tensors and numbers, or None where they do not
    broadcast (the real operation then raises PyTorch's own message)."""
    shapes = [tuple(v.shape) for v in values if isinstance(v, torch.Tensor)]
    if not shapes:
        return ()
    if all(shape == shapes[0] for shape in shapes):
        return shapes[0]
    try:
        return tuple(torch.broadcast_shapes(*shapes))
    except RuntimeError:
        return None


def _elementwise(fn: Callable, method: bool = False) -> Callable:
    """An operation whose result broadcasts its tensor arguments (one argument: same shape)."""
    def action(run, call: Call):
        operands = ((call.receiver,) if method else ()) + tuple(call.args)
        shape = broadcast_shape(*operands)
        if shape is not None:
            run.budget.tensor(shape)
        return fn(call.receiver, *call.args, **call.kwargs) if method else fn(*call.args,
                                                                              **call.kwargs)
    return action


def _reduction(fn: Callable, method: bool = False) -> Callable:
    """``sum``/``mean``: one element, or along ``dim`` at most as many as the input."""
    def action(run, call: Call):
        source = call.receiver if method else (call.args[0] if call.args else None)
        run.budget.tensor(_tensor_span(source) if call.given("dim") else 1)
        return fn(call.receiver, *call.args, **call.kwargs) if method else fn(*call.args,
                                                                              **call.kwargs)
    return action


def _copy(name: str) -> Callable:
    """A method that copies its tensor (``clone``, ``float``, …): as many elements."""
    real = getattr(torch.Tensor, name)

    def action(run, call: Call):
        run.budget.tensor(_tensor_span(call.receiver))
        return real(call.receiver, *call.args, **call.kwargs)
    return action


def _view(name: str) -> Callable:
    """A method that gives a view of its tensor (``detach``): no new element."""
    real = getattr(torch.Tensor, name)
    return lambda run, call: real(call.receiver, *call.args, **call.kwargs)


def _sizes(sizes) -> tuple | None:
    """Sizes as Python ints, or None where one is not a whole number (PyTorch then raises its
    own error). A tensor would pass as a size through ``__index__``, unchecked: refused."""
    sizes = tuple(sizes) if isinstance(sizes, (list, tuple)) else (sizes,)
    if any(isinstance(size, torch.Tensor) for size in sizes):
        raise Refused(Message("cell.sizes"))
    return sizes if all(isinstance(size, int) for size in sizes) else None


def _shape_arguments(call: Call, name: str = "shape"):
    """``zeros(2, 3)``, ``zeros((2, 3))``, ``zeros(size=(2, 3))``: the sizes asked for."""
    sizes = call.get(name, ())
    if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
        sizes = sizes[0]
    if call.given("size"):
        sizes = call.get("size")
    return _sizes(sizes)


# ---- registry operations -------------------------------------------------------------------

_SIGNATURES = {   # registry kind -> (function form, method form)
    "binary": ("input, other, /", "other, /"),
    "reduction": ("input, /, dim=, keepdim=", "dim=, keepdim="),
}
_ONE_ARGUMENT = ("input, /", "")


def _dotted(node: ast.AST) -> str | None:
    """``torch.nn.functional.softplus`` for that attribute chain; None for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id] + parts[::-1])
    return None


def _resolve(path: str):
    """The real object a registry template names (``torch.nn.functional.softplus``); the
    names come from the lab's own registry, never from a student's program."""
    parts = path.split(".")
    target = torch if parts[0] == "torch" else None
    for part in parts[1:]:
        target = getattr(target, part, None)
    return target


def _operation_entries(operation) -> tuple[dict[str, Entry], dict[str, str]]:
    """The entries one registry operation allows, and its Python operator if it has one."""
    entries: dict[str, Entry] = {}
    operators: dict[str, str] = {}
    written = ast.parse(operation.code.format(a="a", b="b"), mode="eval").body
    function_spec, method_spec = _SIGNATURES.get(operation.kind, _ONE_ARGUMENT)
    rule = _reduction if operation.kind == "reduction" else _elementwise
    paths = [f"torch.{operation.name}"]
    if isinstance(written, ast.Call) and (_dotted(written.func) or "").startswith("torch."):
        paths.insert(0, _dotted(written.func))
    for path in paths:
        real = _resolve(path)
        if callable(real) and path not in entries:
            entries[path] = Entry(path, "function", rule(real), function_spec, target=real)
    method = getattr(torch.Tensor, operation.name, None)
    if callable(method):
        name = f"Tensor.{operation.name}"
        entries[name] = Entry(name, "method", rule(method, method=True), method_spec)
    if isinstance(written, ast.BinOp):
        operators[f"binary {operation.symbol}"] = operation.name
    elif isinstance(written, ast.UnaryOp):
        operators[f"unary {operation.symbol}"] = operation.name
    return entries, operators


def _registry_key() -> tuple:
    return tuple((op.name, op.code, op.kind, op.symbol) for op in ops.OPERATIONS.values())


@functools.lru_cache(maxsize=8)
def _registry(key: tuple) -> tuple[dict[str, Entry], dict[str, str]]:
    entries: dict[str, Entry] = {}
    operators: dict[str, str] = {}
    for operation in ops.OPERATIONS.values():
        more, symbols = _operation_entries(operation)
        for name, entry in more.items():
            entries.setdefault(name, entry)
        operators.update(symbols)
    return entries, operators


def operators() -> dict[str, str]:
    """``"binary +"`` -> ``"add"``, ``"unary -"`` -> ``"neg"``: the Python operators the
    registry allows on tensors."""
    return _registry(_registry_key())[1]


# ---- constructors, autograd, optimizers, torchviz ------------------------------------------


MAX_DIMENSIONS = 64          # PyTorch's own limit on a tensor's dimensions


def _count_data(run, data) -> None:
    """``torch.tensor(data)``: the shape its nested lists ask for, read from their first
    elements (PyTorch reads it the same way, and stops at the first list of another length)."""
    shape = []
    while isinstance(data, (list, tuple)) and len(shape) <= MAX_DIMENSIONS:
        shape.append(len(data))
        data = data[0] if data else None
    if len(shape) > MAX_DIMENSIONS:
        raise Refused(Message("cell.too_nested", limit=MAX_DIMENSIONS))
    if isinstance(data, torch.Tensor):
        shape += list(data.shape)
    run.budget.tensor(tuple(shape))


def _tensor(run, call: Call):
    if call.args:
        _count_data(run, call.args[0])
    return torch.tensor(*call.args, **call.kwargs)


def _legacy_tensor(run, call: Call):
    """``torch.Tensor([...])``; ``torch.Tensor(3)`` would be uninitialised memory."""
    data = call.get("data", ())
    if not data:
        return torch.Tensor()
    if len(data) != 1 or not isinstance(data[0], (list, tuple)) or isinstance(data[0],
                                                                              torch.Size):
        # the lab's own rendering of the sizes (short whole numbers), not the student's text
        shown = ", ".join(repr(a) if isinstance(a, int) and abs(a) < 10 ** 6 else "…"
                          for a in data)
        raise Refused(Message("cell.uninitialised", piece=shown))
    _count_data(run, data[0])
    return torch.Tensor(data[0])


def _number(value):
    """A float from a number or a one-element tensor; None for anything else (PyTorch then
    raises its own error)."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_complex():
        return value.item()
    try:
        return float(value) if is_number(value) else None
    except OverflowError:
        return None


def _arange(run, call: Call):
    start, end, step = call.get("start"), call.get("end", UNSET), call.get("step", 1)
    if end is UNSET:
        start, end = 0, start
    numbers = [_number(v) for v in (start, end, step)]
    if None not in numbers and numbers[2] != 0 and all(map(math.isfinite, numbers)):
        count = math.ceil((numbers[1] - numbers[0]) / numbers[2])
        run.budget.tensor(max(count, 0))
    return torch.arange(*call.args, **call.kwargs)


def _linspace(run, call: Call):
    steps = _sizes(call.get("steps"))
    if steps is not None:
        run.budget.tensor(max(steps[0], 0))
    return torch.linspace(*call.args, **call.kwargs)


def _filled(fn: Callable, random: bool = False) -> Callable:
    """``zeros``, ``ones``, ``rand``, ``randn``: sizes first; random numbers only from a
    seeded generator (``torch.manual_seed`` in the program, or ``generator=``)."""
    def action(run, call: Call):
        sizes = _shape_arguments(call)
        if sizes is not None:
            run.budget.tensor(sizes)
        kwargs = dict(call.kwargs)
        if random and not call.given("generator"):
            kwargs["generator"] = run.seeded_generator(f"torch.{fn.__name__}")
        return fn(*call.args, **kwargs)
    return action


def _full(run, call: Call):
    sizes = _sizes(call.get("size"))
    if sizes is not None:
        run.budget.tensor(sizes)
    return torch.full(*call.args, **call.kwargs)


def _like(fn: Callable) -> Callable:
    def action(run, call: Call):
        run.budget.tensor(_tensor_span(call.get("input")))
        return fn(*call.args, **call.kwargs)
    return action


def _manual_seed(run, call: Call):
    return run.seed(call.get("seed"))


def _roots(value) -> list:
    """The grad_fn of a tensor, or of each tensor in a list or tuple."""
    values = value if isinstance(value, (list, tuple)) else [value]
    return [v.grad_fn for v in values if isinstance(v, torch.Tensor)]


def _backward(run, call: Call):
    return run.backward(call, run.budget.graph(_roots(call.receiver)))


def _autograd_grad(run, call: Call):
    run.budget.graph(_roots(call.get("outputs")))
    return torch.autograd.grad(*call.args, **call.kwargs)


_OPTIMIZER_READY = threading.Lock()
_optimizer_warm = False


def _warm_optimizers(run) -> None:
    """PyTorch imports ``torch._dynamo`` the first time any optimizer is built (about a
    second, once per process): pay it outside this program's clock."""
    global _optimizer_warm
    with _OPTIMIZER_READY:
        if _optimizer_warm:
            return
        started = time.monotonic()
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        _optimizer_warm = True
        run.budget.extend(time.monotonic() - started)


def _sgd(run, call: Call):
    params = call.get("params")
    if not (isinstance(params, (list, tuple))
            and all(isinstance(p, torch.Tensor) for p in params)):
        raise Refused(Message("cell.params"))
    _warm_optimizers(run)
    return torch.optim.SGD(*call.args, **call.kwargs)


def _sgd_step(run, call: Call):
    run.budget.charge(sum(p.numel() for group in call.receiver.param_groups
                          for p in group["params"]))
    return call.receiver.step()


def _make_dot(run, call: Call):
    nodes = run.budget.graph(_roots(call.get("var")))
    if len(nodes) > run.budget.limits.max_drawn_nodes:
        raise Stopped(Message("cell.drawing_too_big", nodes=len(nodes),
                              limit=run.budget.limits.max_drawn_nodes))
    from torchviz import make_dot  # imported on first use: it is not light
    dot = make_dot(*call.args, **call.kwargs)
    params = call.get("params")
    run.record_graph(dot, call.get("var"), params if isinstance(params, dict) else None)
    return dot


def _accumulated_variable(run, node):
    if type(node).__name__ != "AccumulateGrad":
        raise AttributeError(f"'{type(node).__name__}' object has no attribute 'variable'")
    return node.variable


def _source(run, dot):
    text = dot.source
    run.budget.sequence(len(text), "str")
    return text


def _set(name: str) -> Callable:
    """Assigning ``t.<name> = value``: PyTorch checks the value (and raises its errors)."""
    def write(run, owner, value):
        if name == "requires_grad":
            owner.requires_grad = value
        elif name == "grad":
            owner.grad = value
        else:
            owner.data = value
    return write


def _reshape(name: str) -> Callable:
    """``view``/``reshape``: the sizes asked for must fit (``-1`` is worked out by PyTorch
    from the elements the tensor has); ``reshape`` may copy them."""
    real = getattr(torch.Tensor, name)

    def action(run, call: Call):
        sizes = _shape_arguments(call)
        if sizes is not None:
            run.budget.tensor(tuple(size for size in sizes if size != -1))
        if name == "reshape":
            run.budget.charge(call.receiver.numel())
        return real(call.receiver, *call.args, **call.kwargs)
    return action


def _to(run, call: Call):
    if not isinstance(call.get("dtype"), torch.dtype):
        raise Refused(Message("cell.dtype_only"))
    run.budget.tensor(call.receiver.shape)
    return call.receiver.to(call.get("dtype"))


def _item(run, call: Call):
    _no_complex(call.receiver)
    return call.receiver.item()


def _tolist(run, call: Call):
    _no_complex(call.receiver)
    run.budget.charge(call.receiver.numel())
    return call.receiver.tolist()


def _numpy(run, call: Call):
    run.budget.charge(call.receiver.numel())
    return call.receiver.numpy()


def _append(run, call: Call):
    run.budget.sequence(len(call.receiver) + 1, "list")
    call.receiver.append(call.get("object"))


# ---- builtins ----------------------------------------------------------------------------


def _print(run, call: Call):
    sep, end = call.get("sep", " "), call.get("end", "\n")
    for name, value in (("sep", sep), ("end", end)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name} must be None or a string, not {type_name(value)}")
    texts = [run.text(value, str) for value in call.get("objects", ())]
    run.write((" " if sep is None else sep).join(texts) + ("\n" if end is None else end))


def _range(run, call: Call):
    return range(*call.args)


def _len(run, call: Call):
    return len(call.get("obj"))


def _abs(run, call: Call):
    value = call.get("x")
    if isinstance(value, torch.Tensor):
        run.budget.tensor(value.shape)
    return abs(value)


def _extreme(name: str, symbol: str) -> Callable:
    """``min``/``max`` of several values or of one iterable, compared through the cell's
    own (size-checked) comparison; the first of equal values wins, as in Python."""
    def action(run, call: Call):
        values = call.get("args", ())
        if not values:
            raise TypeError(f"{name} expected at least 1 argument, got 0")
        items = list(run.iterate(values[0])) if len(values) == 1 else list(values)
        if not items:
            raise ValueError(f"{name}() arg is an empty sequence")
        best = items[0]
        for item in items[1:]:
            run.budget.check_time()
            if run.truth(run.compare(symbol, item, best)):
                best = item
        return best
    return action


def _round(run, call: Call):
    value, digits = call.get("number"), call.get("ndigits")
    if digits is not None and not isinstance(digits, int):
        raise TypeError(f"'{type_name(digits)}' object cannot be interpreted as an integer")
    if digits is not None and abs(digits) > run.budget.limits.max_format:
        raise Stopped(Message("cell.format_too_wide", spec=Typed(f"ndigits={digits}"),
                              width=abs(digits), limit=run.budget.limits.max_format))
    if isinstance(value, torch.Tensor):
        run.budget.tensor(value.shape)
    return round(value) if digits is None else round(value, digits)


def _float(run, call: Call):
    return float(*call.args, **call.kwargs)


def _int(run, call: Call):
    """``int(text, base)``: the bits its digits can hold are checked before Python reads them
    (and the result after)."""
    value, base = call.get("x"), call.get("base", 10)
    if isinstance(value, str):
        per_digit = math.log2(base) if isinstance(base, int) and 2 <= base <= 36 else 4
        run.budget.int_bits(int(len(value.strip()) * per_digit) + 1)
    elif isinstance(value, float) and math.isfinite(value):
        run.budget.int_bits(math.frexp(value)[1])
    result = int(*call.args, **call.kwargs)
    run.budget.int_bits(abs(result).bit_length())
    return result


def _bool(run, call: Call):
    return run.truth(call.get("x", False))


def _sequence(kind: type) -> Callable:
    def action(run, call: Call):
        if not call.args:
            return kind()
        source = call.args[0]
        if isinstance(source, (list, tuple, str, range, dict, torch.Tensor)):
            run.budget.sequence(len(source), kind.__name__)
        return kind(run.iterate(source))
    return action


def _sum(run, call: Call):
    total = call.get("start", 0)
    if isinstance(total, str):
        raise TypeError("sum() can't sum strings [use ''.join(seq) instead]")
    for item in run.iterate(call.get("iterable")):
        total = run.binary("+", total, item)
    return total


def _str(run, call: Call):
    if not call.args:
        return ""
    return run.text(call.args[0], str)


def _enumerate(run, call: Call):
    return enumerate(run.iterate(call.get("iterable")), call.get("start", 0))


def _zip(run, call: Call):
    return zip(*(run.iterate(source) for source in call.get("iterables", ())))


# ---- the table -------------------------------------------------------------------------------

DTYPES = ("float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8",
          "uint8", "bool", "complex64", "float", "double", "long")
SETTABLE = ("requires_grad", "grad", "data")
FOR_ONLY = ("enumerate", "zip")
DICT_EXAMPLE = '{"x": x}'                       # make_dot's params, in messages
FROM_IMPORTS = ("torchviz.make_dot",)
_CREATION = "dtype=, requires_grad="


def _fixed_entries() -> list[Entry]:
    return [
        # builtins
        Entry("print", "function", _print, "*objects, sep=, end=, flush=", arrays=True,
              target=print),
        Entry("range", "function", _range, "*args", target=range),
        Entry("len", "function", _len, "obj, /", target=len),
        Entry("abs", "function", _abs, "x, /", target=abs),
        Entry("min", "function", _extreme("min", "<"), "*args", target=min),
        Entry("max", "function", _extreme("max", ">"), "*args", target=max),
        Entry("round", "function", _round, "number, ndigits=", target=round),
        Entry("float", "function", _float, "x=, /", target=float),
        Entry("int", "function", _int, "x=, /, base=", target=int),
        Entry("bool", "function", _bool, "x=, /", target=bool),
        Entry("list", "function", _sequence(list), "iterable=, /", target=list),
        Entry("tuple", "function", _sequence(tuple), "iterable=, /", target=tuple),
        Entry("sum", "function", _sum, "iterable, /, start=", target=sum),
        Entry("str", "function", _str, "object=", arrays=True, target=str),
        Entry("enumerate", "function", _enumerate, "iterable, start=", for_only=True,
              target=enumerate),
        Entry("zip", "function", _zip, "*iterables", for_only=True, target=zip),
        # torch: tensors
        Entry("torch.tensor", "function", _tensor, f"data, *, {_CREATION}", warns=True,
              target=torch.tensor),
        Entry("torch.Tensor", "function", _legacy_tensor, "*data", target=torch.Tensor),
        Entry("torch.arange", "function", _arange, f"start, end=, step=, *, {_CREATION}",
              target=torch.arange),
        Entry("torch.linspace", "function", _linspace, f"start, end, steps, *, {_CREATION}",
              target=torch.linspace),
        Entry("torch.zeros", "function", _filled(torch.zeros), f"*shape, size=, {_CREATION}",
              target=torch.zeros),
        Entry("torch.ones", "function", _filled(torch.ones), f"*shape, size=, {_CREATION}",
              target=torch.ones),
        Entry("torch.rand", "function", _filled(torch.rand, random=True),
              f"*shape, size=, generator=, {_CREATION}", target=torch.rand),
        Entry("torch.randn", "function", _filled(torch.randn, random=True),
              f"*shape, size=, generator=, {_CREATION}", target=torch.randn),
        Entry("torch.full", "function", _full, f"size, fill_value, *, {_CREATION}",
              target=torch.full),
        Entry("torch.zeros_like", "function", _like(torch.zeros_like),
              f"input, *, {_CREATION}", target=torch.zeros_like),
        Entry("torch.ones_like", "function", _like(torch.ones_like), f"input, *, {_CREATION}",
              target=torch.ones_like),
        Entry("torch.isfinite", "function", _elementwise(torch.isfinite), "input, /",
              target=torch.isfinite),
        Entry("torch.manual_seed", "function", _manual_seed, "seed", target=torch.manual_seed),
        Entry("torch.Generator", "function", lambda run, call: torch.Generator(), "",
              target=torch.Generator),
        Entry("Generator.manual_seed", "method",
              lambda run, call: call.receiver.manual_seed(call.get("seed")), "seed"),
        Entry("torch.no_grad", "context", torch.no_grad, target=torch.no_grad),
        Entry("torch.enable_grad", "context", torch.enable_grad, target=torch.enable_grad),
        # autograd, optimizers, torchviz
        Entry("torch.autograd.grad", "function", _autograd_grad,
              "outputs, inputs, grad_outputs=, retain_graph=, create_graph=, allow_unused=",
              warns=True, target=torch.autograd.grad),
        Entry("torch.optim.SGD", "function", _sgd, "params, lr=, momentum=",
              target=torch.optim.SGD),
        Entry("SGD.step", "method", _sgd_step, ""),
        Entry("SGD.zero_grad", "method", lambda run, call: call.receiver.zero_grad(), ""),
        Entry("torchviz.make_dot", "function", _make_dot,
              "var, params=, show_attrs=, show_saved=, max_attr_chars=", warns=True),
        Entry("Digraph.source", "attribute", _source),
        Entry("Node.next_functions", "attribute", lambda run, node: node.next_functions),
        Entry("Node.name", "method", lambda run, call: call.receiver.name(), ""),
        Entry("Node.variable", "attribute", _accumulated_variable),
        Entry("list.append", "method", _append, "object, /"),
        # tensors: attributes
        Entry("Tensor.grad", "attribute", lambda run, t: t.grad, write=_set("grad"),
              warns=True),
        Entry("Tensor.data", "attribute", lambda run, t: t.data, write=_set("data")),
        Entry("Tensor.requires_grad", "attribute", lambda run, t: t.requires_grad,
              write=_set("requires_grad")),
        Entry("Tensor.is_leaf", "attribute", lambda run, t: t.is_leaf),
        Entry("Tensor.grad_fn", "attribute", lambda run, t: t.grad_fn),
        Entry("Tensor.dtype", "attribute", lambda run, t: t.dtype),
        Entry("Tensor.shape", "attribute", lambda run, t: t.shape),
        Entry("Tensor.ndim", "attribute", lambda run, t: t.ndim),
        Entry("Tensor.T", "attribute", lambda run, t: t.T, warns=True),
        # tensors: methods
        Entry("Tensor.item", "method", _item, ""),
        Entry("Tensor.tolist", "method", _tolist, ""),
        Entry("Tensor.numpy", "method", _numpy, ""),
        Entry("Tensor.detach", "method", _view("detach"), ""),
        Entry("Tensor.clone", "method", _copy("clone"), ""),
        Entry("Tensor.backward", "method", _backward,
              "gradient=, retain_graph=, create_graph=", warns=True),
        Entry("Tensor.zero_", "method", _view("zero_"), ""),
        Entry("Tensor.requires_grad_", "method", _view("requires_grad_"), "requires_grad="),
        Entry("Tensor.retain_grad", "method", _view("retain_grad"), ""),
        Entry("Tensor.size", "method", _view("size"), "dim="),
        Entry("Tensor.numel", "method", _view("numel"), ""),
        Entry("Tensor.dim", "method", _view("dim"), ""),
        Entry("Tensor.view", "method", _reshape("view"), "*shape"),
        Entry("Tensor.reshape", "method", _reshape("reshape"), "*shape"),
        Entry("Tensor.float", "method", _copy("float"), ""),
        Entry("Tensor.double", "method", _copy("double"), ""),
        Entry("Tensor.long", "method", _copy("long"), ""),
        Entry("Tensor.int", "method", _copy("int"), ""),
        Entry("Tensor.to", "method", _to, "dtype, /"),
    ] + [Entry(f"torch.{name}", "constant", value=getattr(torch, name)) for name in DTYPES]


_FIXED = {entry.name: entry for entry in _fixed_entries()}


def table() -> dict[str, Entry]:
    """Every allowed name -> its entry: the fixed ones above, then the registry's."""
    return _table(_registry_key())


@functools.lru_cache(maxsize=8)
def _table(key: tuple) -> dict[str, Entry]:
    entries = dict(_FIXED)
    for name, entry in _registry(key)[0].items():
        entries.setdefault(name, entry)
    return entries


def lookup(name: str) -> Entry | None:
    return table().get(name)


@functools.lru_cache(maxsize=8)
def _namespaces(key: tuple) -> frozenset[str]:
    paths = set()
    for name in _table(key):
        parts = name.split(".")
        if parts[0] == "torch":
            paths.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return frozenset(paths)


def namespaces() -> frozenset[str]:
    """``torch`` and every namespace below it that holds an allowed name."""
    return _namespaces(_registry_key())


def member(path: str, name: str):
    """``torch.sin`` -> a Function, ``torch.float32`` -> the dtype, ``torch.autograd`` -> a
    Namespace; None when the cell does not allow it."""
    full = f"{path}.{name}"
    if full in namespaces():
        return Namespace(full)
    entry = lookup(full)
    if entry is None:
        return None
    return entry.value if entry.kind == "constant" else Function(entry)


def builtin_names() -> frozenset[str]:
    return frozenset(name for name in _FIXED if "." not in name)


def importable() -> frozenset[str]:
    """Modules a program may import: the namespaces the table has."""
    return namespaces()


def import_lines() -> str:
    lines = ["`import torch`"]
    if "torch.nn.functional" in namespaces():
        lines.append("`import torch.nn.functional as F`")
    return ", ".join(lines + [f"`from {name.rsplit('.', 1)[0]} import {name.rsplit('.', 1)[1]}`"
                              for name in FROM_IMPORTS])


@functools.lru_cache(maxsize=8)
def _attribute_names(key: tuple) -> frozenset[str]:
    names = {name.rsplit(".", 1)[1] for name in _table(key) if "." in name}
    names.update(path.rsplit(".", 1)[1] for path in _namespaces(key) if "." in path)
    return frozenset(names)


def attribute_names() -> frozenset[str]:
    """Every attribute name some allow-list has: anything else is refused before running."""
    return _attribute_names(_registry_key())
