"""The lab's command line, for instructors preparing material and for scripts.

    python -m lab grad "FORMULA" --x 1,2,3 [--reduce mean|sum] [--dtype float32|float64]
                                 [--json] [--lang en|es]
    python -m lab graph "FORMULA" --x 0:3 --format dot|svg|png -o FILE [--annotated|--torchviz]
    python -m lab run FILE [--json] [--lang en|es]

``--x`` takes a list (``1, 2.5, 2/3``) or a range ``start:stop[:step]`` (``torch.arange``).
A refused formula or a bad option prints one line on stderr and exits with status 2;
nothing a user types ever produces a traceback. Texts come from the lab's catalogue.
``run`` runs a PyTorch program in the lab's cell (``lab.cell``): what it prints goes to
stdout, its error to stderr in one line; status 1 when the program raised, 2 when the cell
refused or stopped it.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from typing import Callable

from lab.i18n import DEFAULT_LANGUAGE, LANGUAGES, Message, Typed, UserError, t

EXIT_OK, EXIT_INTERNAL, EXIT_REFUSED = 0, 1, 2
EXIT_PROGRAM_ERROR = 1             # run: the program raised (PyTorch's or Python's error)
COMMANDS = ("grad", "graph", "run")
COMMANDS_METAVAR = "{" + ",".join(COMMANDS) + "}"
RANGE_SEPARATOR = ":"
DEFAULT_X = "0:3"                  # the seed's x = torch.arange(3)
USER_VALUES = {"value", "arguments"}   # placeholders of argparse's complaints a user typed


class Refused(UserError):
    """A problem with what the user typed: one line, exit status 2."""

    def render(self, lang: str) -> str:
        return " ".join(super().render(lang).split())     # one line, whatever it holds


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option as ``Refused`` instead of printing its usage."""

    def error(self, message: str):
        raise Refused(_usage_message(message))


def _usage_message(detail: str) -> Message:
    """argparse's English complaint, as a catalogue message where we know its shape."""
    patterns = (
        (r"argument (?P<option>\S+): invalid choice: '?(?P<value>[^' ]*)'? \(choose from "
         r"(?P<choices>.*)\)", "cli.invalid_choice"),
        (r"argument (?P<option>\S+): expected one argument", "cli.expects_value"),
        (r"the following arguments are required: (?P<names>.*)", "cli.missing"),
        (r"unrecognized arguments: (?P<arguments>.*)", "cli.unknown_arguments"),
    )
    for pattern, key in patterns:
        match = re.fullmatch(pattern, detail.strip())
        if match:
            values = {name: value.replace("'", "") for name, value in match.groupdict().items()}
            for name, value in values.items():      # the sub-command's own metavar
                values[name] = value.replace(COMMANDS_METAVAR, "|".join(COMMANDS))
            for name in USER_VALUES & set(values):   # what the user typed, shown as typed
                values[name] = Typed(values[name])
            return Message(key, **values)
    return Message("cli.bad_option", detail=Typed(detail.strip()))


def _language(argv: list[str]) -> str:
    """``--lang`` read before parsing, so that even parse errors come in that language."""
    for i, arg in enumerate(argv):
        value = None
        if arg == "--lang" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
        if value in LANGUAGES:
            return value
    return DEFAULT_LANGUAGE


def parse_x(text: str):
    """``1,2,3`` -> ``torch.tensor([...])``; ``start:stop[:step]`` -> ``torch.arange(...)``."""
    from lab.formula import FormulaError, parse_number
    from lab.xvalues import InputError, XSpec, parse_values

    if RANGE_SEPARATOR not in text:
        return XSpec.of(parse_values(text))
    parts = text.split(RANGE_SEPARATOR)
    if len(parts) not in (2, 3):
        raise InputError(Message("cli.bad_range", value=Typed(text)))
    try:
        numbers = [parse_number(part) for part in parts]
    except FormulaError:
        raise InputError(Message("cli.bad_range", value=Typed(text))) from None
    spec = XSpec.arange(*numbers)
    spec.check()
    return spec


def _plain(value):
    """JSON has no inf/nan: they become the strings "inf", "-inf" and "nan"."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _short(values: list[float | None], limit: int = 12) -> str:
    def one(v):
        return "—" if v is None else f"{v:.6g}"

    shown = ", ".join(one(v) for v in values[:limit])
    return f"[{shown}{', …' if len(values) > limit else ''}]"


def grad_report(result, lang: str) -> dict:
    """The JSON object of ``grad --json`` (keys documented in the README)."""
    return _plain({
        "expression": result.text,
        "x": result.x,
        "reduce": result.reduce,
        "dtype": result.dtype,
        "y": result.y,
        "grad": result.grad,
        "symbolic_grad": result.symbolic,
        "numeric_grad": result.numeric,
        "symbolic_derivative": (result.shown.derivative or None) if result.shown else None,
        "agrees_symbolic": result.symbolic_marks(),
        "agrees_numeric": result.numeric_marks(),
        "numeric_error": result.numeric_error,
        "tolerance": {"rtol": result.tolerance[0], "atol": result.tolerance[1]},
        "notes": [note.render(lang) for note in result.notes],
        "code": result.code,
    })


def _agreement(marks: list[bool | None], lang: str) -> str:
    agree = sum(m is True for m in marks)
    disagree = sum(m is False for m in marks)
    skipped = sum(m is None for m in marks)
    return t("cli.agreement", lang, agree=agree, disagree=disagree, skipped=skipped)


def grad_text(result, lang: str) -> str:
    """What ``grad`` prints without ``--json``: y and x.grad exactly as PyTorch prints them."""
    lines = [f"y = {result.y_repr}", f"x.grad = {result.grad_repr}"]
    if result.shown and result.shown.derivative:
        lines.append(t("cli.derivative", lang, latex=result.shown.derivative))
    rtol, atol = result.tolerance
    for label, values, marks in (("cli.symbolic", result.symbolic, result.symbolic_marks()),
                                 ("cli.numeric", result.numeric, result.numeric_marks())):
        if values is not None:
            lines.append(f"{t(label, lang)}: {_short(values)}  {_agreement(marks, lang)}")
    lines.append(t("cli.tolerance", lang, rtol=f"{rtol:g}", atol=f"{atol:g}"))
    lines += [f"{t('cli.note', lang)}: {note.render(lang)}" for note in result.notes]
    return "\n".join(lines)


def _torchviz(args, x_spec) -> str:
    from lab import graphs

    return graphs.torchviz_drawing(args.formula, x_spec, args.reduce, args.dtype,
                                   args.show_attrs, args.show_saved).dot()


def _annotated(args, x_spec) -> str:
    """The annotated graph (values, gradients, local derivatives) of a real backward()."""
    from lab import annotated, backward

    trace = backward.trace(args.formula, x_spec, args.reduce, args.dtype)
    return annotated.annotated_dot(trace, args.lang, legend=True)


# Graph styles for ``graph --style``: name -> function(args, x_spec) -> DOT text.
GRAPH_STYLES: dict[str, Callable] = {"annotated": _annotated, "torchviz": _torchviz}


def _style(args) -> str:
    """The chosen drawing; torchviz's own options without a choice mean torchviz's drawing."""
    torchviz_options = args.show_attrs or args.show_saved
    if args.style is None:
        return "torchviz" if torchviz_options else "annotated"
    if args.style != "torchviz" and torchviz_options:
        raise Refused(Message("cli.torchviz_only", style=args.style))
    return args.style


def _write(data: bytes, path: str) -> None:
    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        with open(path, "wb") as handle:
            handle.write(data)
    except OSError as error:
        raise Refused(Message("cli.cannot_write", path=Typed(path),
                              reason=error.strerror or type(error).__name__)) from None


def _run_grad(args, lang: str) -> int:
    from lab.gradients import run

    result = run(args.formula, parse_x(args.x), args.reduce, args.dtype)
    if args.json:
        print(json.dumps(grad_report(result, lang), ensure_ascii=False, allow_nan=False))
    else:
        print(grad_text(result, lang))
    return EXIT_OK


def _read_program(path: str, limit: int) -> str:
    """The program's text (``-``: standard input), read no further than the cell could take."""
    import os

    try:
        if path == "-":
            return sys.stdin.read(limit + 1)
        with open(path, encoding="utf-8") as handle:
            text = handle.read(limit + 1)
        if len(text) > limit:                   # report the file's real size, not the cut
            text += " " * max(0, os.path.getsize(path) - len(text))
        return text
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or getattr(error, "reason", None)
        raise Refused(Message("cell.cli_cannot_read", path=Typed(path),
                              reason=reason or type(error).__name__)) from None


def cell_report(result, lang: str) -> dict:
    """The JSON object of ``run --json``."""
    error = result.error
    return {"stdout": result.stdout,
            "error": None if error is None else {
                "kind": error.kind, "line": error.line, "column": error.column,
                "message": " ".join(error.render(lang).split())}}


def _run_cell(args, lang: str) -> int:
    from lab.cell import Limits, run_program

    limits = Limits()
    result = run_program(_read_program(args.file, limits.max_chars), limits)
    if args.json:
        print(json.dumps(cell_report(result, lang), ensure_ascii=False))
    else:
        sys.stdout.write(result.stdout)
        sys.stdout.flush()
        for warning in result.warnings:
            print(f"{t('cell.cli_warning', lang)}: {' '.join(warning.split())}",
                  file=sys.stderr)
        if result.error is not None:
            print(f"{t('cli.error', lang)}: {result.error.one_line(lang)}", file=sys.stderr)
    if result.error is None:
        return EXIT_OK
    return EXIT_PROGRAM_ERROR if result.error.kind == "pytorch" else EXIT_REFUSED


def _format_of(args) -> str:
    if args.format:
        return args.format
    suffix = args.output.rsplit(".", 1)[-1].lower() if "." in args.output else ""
    return suffix if suffix in ("dot", "svg", "png") else "dot"


def _run_graph(args, lang: str) -> int:
    from lab import drawing, formula

    formula.parse(args.formula)              # a refused formula: its message, nothing else
    x_spec = parse_x(args.x)
    fmt = _format_of(args)
    if fmt != "dot" and not drawing.dot_available():
        raise Refused(Message("cli.no_dot", format=fmt))
    dot = GRAPH_STYLES[_style(args)](args, x_spec)
    try:
        data = drawing.export(dot, fmt)
    except drawing.ExportUnavailable:
        raise Refused(Message("cli.no_dot", format=fmt)) from None
    _write(data, args.output)
    if args.output != "-":
        print(t("cli.wrote", lang, path=args.output, size=len(data), format=fmt))
    return EXIT_OK


def build_parser(lang: str) -> argparse.ArgumentParser:
    from lab.gradients import DTYPES
    from lab.ops import REDUCTIONS

    def h(key: str, **values) -> str:
        return t(f"cli.help_{key}", lang, **values).replace("%", "%%")

    parser = _Parser(prog="python -m lab", description=h("description"))
    commands = parser.add_subparsers(dest="command", required=True, metavar=COMMANDS_METAVAR,
                                     parser_class=_Parser)

    def common(sub):
        sub.add_argument("formula", help=h("formula"))
        sub.add_argument("--x", default=DEFAULT_X, metavar="VALUES", help=h("x"))
        sub.add_argument("--reduce", choices=REDUCTIONS, default="mean", help=h("reduce"))
        sub.add_argument("--dtype", choices=tuple(DTYPES), default="float32",
                         help=h("dtype"))
        sub.add_argument("--lang", choices=LANGUAGES, default=DEFAULT_LANGUAGE, help=h("lang"))

    grad = commands.add_parser("grad", help=h("grad"), description=h("grad"))
    common(grad)
    grad.add_argument("--json", action="store_true", help=h("json"))

    graph = commands.add_parser("graph", help=h("graph"), description=h("graph"))
    common(graph)
    graph.add_argument("--format", choices=("dot", "svg", "png"), default=None, help=h("format"))
    graph.add_argument("-o", "--output", default="-", metavar="FILE", help=h("output"))
    style = graph.add_mutually_exclusive_group()
    style.add_argument("--style", choices=sorted(GRAPH_STYLES), default=None, help=h("style"))
    style.add_argument("--annotated", dest="style", action="store_const", const="annotated",
                       help=h("annotated"))
    style.add_argument("--torchviz", dest="style", action="store_const", const="torchviz",
                       help=h("torchviz"))
    graph.add_argument("--show-attrs", action="store_true", help=h("show_attrs"))
    graph.add_argument("--show-saved", action="store_true", help=h("show_saved"))

    def cell_help(key: str) -> str:
        return t(f"cell.cli_help_{key}", lang).replace("%", "%%")

    run = commands.add_parser("run", help=cell_help("run"), description=cell_help("run"))
    run.add_argument("file", metavar="FILE", help=cell_help("file"))
    run.add_argument("--json", action="store_true", help=cell_help("json"))
    run.add_argument("--lang", choices=LANGUAGES, default=DEFAULT_LANGUAGE, help=h("lang"))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status (0 ok, 2 refused input, 1 internal error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    lang = _language(argv)
    try:
        args = build_parser(lang).parse_args(argv)
        command = {"grad": _run_grad, "graph": _run_graph, "run": _run_cell}[args.command]
        return command(args, lang)
    except Exception as error:   # noqa: BLE001 - one line on stderr, never a traceback
        return _fail(error, lang)


def _fail(error: Exception, lang: str) -> int:
    status = EXIT_REFUSED
    if isinstance(error, UserError):
        text = error.render(lang)
    else:
        status = EXIT_INTERNAL
        text = t("cli.internal", lang, error=type(error).__name__)
    print(f"{t('cli.error', lang)}: {' '.join(text.split())}", file=sys.stderr)
    return status
