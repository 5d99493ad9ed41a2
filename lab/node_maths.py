"""The maths of each recorded node, from the operation registry (``lab.ops``).

For every node of a ``Record``: what it computes, as the sympy form the registry gives
for PyTorch's node (``ops.node_form``) over symbols for its input tensors' elements
(``z1ᵢ``, ``xᵢ``; an unnamed input such as the reciprocal inside ``2/z4`` is its own form,
``1/z4ᵢ``); and its local derivative for each input slot, ``sympy.diff`` of that form
with respect to a dummy standing for that slot alone (so ``x·x`` gives ``x`` per slot,
not ``2x``), the dummies then replaced by the inputs. ``local_values`` evaluates those
derivatives at the forward values the record holds, in the run's dtype as PyTorch's
nodes compute them (``lab.evaluate``: torch operations, no generated code).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy
import torch

from lab import ops
from lab.evaluate import evaluate
from lab.printing import element
from lab.recording import ACCUMULATE, Record
from lab.symbolic import constant as exact_number


@dataclass(frozen=True)
class NodeMaths:
    """One node: its output, what it computes, and ∂output/∂input per input slot."""

    output: sympy.Expr                       # z2 for a named tensor, 1/z4 for an unnamed one
    form: sympy.Expr | None                  # from its inputs (None: AccumulateGrad, unknown)
    inputs: tuple[sympy.Expr | None, ...]    # per slot; None where PyTorch sees a constant
    constants: tuple[sympy.Expr, ...]        # the values of those constant slots, in order
    locals: tuple[sympy.Expr | None, ...]    # per slot; None for a constant (or unknown)


def symbol(name: str, size: int = 2) -> sympy.Symbol:
    """The symbol of a named tensor (its element i; ``size`` 1: one number, and y always
    is): ``x_{i}``, ``z3[i]``, ``y`` (lab.printing.element)."""
    return element(name, scalar=name == "y" or (name != "x" and size == 1))


def symbol_of(record: Record, name: str) -> sympy.Symbol:
    return symbol(name, record.values[name].numel())


def _step_constants(record: Record, step: int) -> list:
    """The constants of forward step ``step`` in the order the formula wrote them; the
    number of elements ``n`` for a reduction."""
    if step == 0:
        return []
    _, op, args = record.steps[step - 1]
    if ops.OPERATIONS[op].kind == "reduction":
        return [sympy.Integer(record.values[args[0]].numel())]
    # a folded constant can be inf or nan: kept unevaluated, so that z + inf still has
    # ∂/∂z = 1 (sympy would make the whole sum inf, and its derivative 0)
    return [exact_number(a) if math.isfinite(a) else sympy.UnevaluatedExpr(exact_number(a))
            for a in args if not isinstance(a, str)]


def _local_derivatives(name: str, inputs: list, constants: list) -> tuple:
    """∂form/∂(slot) for each slot: a dummy per slot, differentiated, then substituted."""
    slots = [None if a is None else sympy.Dummy(real=True) for a in inputs]
    form = ops.node_form(name, slots, constants)
    actual = {slot: a for slot, a in zip(slots, inputs) if slot is not None}
    return tuple(None if slot is None else sympy.powsimp(sympy.diff(form, slot).subs(actual))
                 for slot in slots)


def node_maths(record: Record) -> dict[str, NodeMaths]:
    """Every node's maths, by node id."""
    done: dict[str, NodeMaths] = {}

    def maths(node_id: str) -> NodeMaths:
        if node_id in done:
            return done[node_id]
        node = record.node(node_id)
        if node.name == ACCUMULATE:
            done[node_id] = NodeMaths(symbol_of(record, "x"), None, (), (), ())
            return done[node_id]
        inputs = [None if i is None else maths(i).output for i in node.inputs]
        constants = _step_constants(record, node.step)
        known = node.name in ops.NODE_FORMS
        form = ops.node_form(node.name, inputs, constants) if known else None
        output = symbol_of(record, node.tensor) if node.tensor else form
        locals_ = (_local_derivatives(node.name, inputs, constants) if known
                   else (None,) * len(inputs))
        filled = tuple(constants[:inputs.count(None)])
        done[node_id] = NodeMaths(output if output is not None else sympy.Symbol("?"), form,
                                  tuple(inputs), filled, locals_)
        return done[node_id]

    for node in record.nodes:
        maths(node.id)
    return done


def local_values(record: Record, node_id: str, maths: NodeMaths) -> tuple:
    """Each slot's local derivative evaluated at the recorded forward values (run's dtype),
    broadcast to the shape of the gradients it multiplies; None where it cannot be."""
    upstream = record.upstream.get(node_id)
    passed = record.passed.get(node_id, ())
    env = {symbol_of(record, name): value for name, value in record.values.items()}
    values = []
    for local, sent in zip(maths.locals, passed):
        if local is None or upstream is None or sent is None:
            values.append(None)
            continue
        like = torch.zeros(torch.broadcast_shapes(upstream.shape, sent.shape),
                           dtype=upstream.dtype)
        try:
            result = evaluate(local, env, like)
        except (ValueError, TypeError, RuntimeError):
            values.append(None)
            continue
        values.append(result.expand(torch.broadcast_shapes(like.shape, result.shape)))
    return tuple(values)
