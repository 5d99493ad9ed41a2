"""The questions a class answers together: one table, one entry per question.

A page that asks students to commit to an answer before it shows the result records that
answer under a question id from ``QUESTIONS`` (``lab.answers.Store.record``; the views are
``lab.ui.class_views``). Each entry says which options a student can commit to, which of
them are right (or that the page decides, as on the learning page, where rightness depends
on the learning rate the student chose) and the catalogue keys of its title and of each
option (``answers.<id>`` and ``answers.<id>_<option>``); the ``*_option`` functions turn a
page's own check into an option. Adding a question is one entry here plus its texts in
``[answers]`` of both catalogues.

A question asked once per element (exercise 1: one partial derivative per ``xᵢ``) has
``parts``: its answers are recorded under ``"ex1.0"``, ``"ex1.1"``… (``part_id``), one
tally per element, while the instructor reveals or resets the question as a whole
(``"ex1"``, or any of its parts' ids).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    """One question: its id, the options a student can commit to and which are right.

    ``right`` is the set of right options; ``None`` when the page decides rightness per
    answer (it passes ``correct`` to ``record``, validated as a bool either way, and
    checked against ``right`` when ``right`` is given).
    """

    id: str
    options: tuple[str, ...]
    right: frozenset[str] | None
    parts: int = 0              # > 0: asked per element, ids "<id>.0" … "<id>.<parts - 1>"

    @property
    def title_key(self) -> str:
        return f"answers.{self.id}"

    def option_key(self, option: str) -> str:
        return f"answers.{self.id}_{option}"


QUESTIONS: dict[str, Question] = {q.id: q for q in (
    # Exercise 1 (page 2): each typed partial derivative, classified as the page's hint is
    # (``ex1_option``).
    Question("ex1", ("right", "rounding", "forgot_n", "chain", "other"), frozenset({"right"}),
             parts=6),
    # Exercise 2 (page 4): does `torch.tensor([2, 3], requires_grad=True)` work?
    Question("ex2", ("works", "runtime_error"), frozenset({"runtime_error"})),
    # Exercise 3 (page 4): the student's implementation, right or its first mistake
    # (``ex3_code_option``).
    Question("ex3_code", ("right", "sum_not_mean", "wrong_x", "no_grad", "other"),
             frozenset({"right"})),
    # Learning with gradients: what the chosen learning rate does, one of
    # lab.training.BEHAVIOURS (right depends on the student's rate: the page decides).
    Question("learning", ("converges_smoothly", "converges_zigzag", "keeps_swinging",
                          "diverges"), None),
)}

# How a page's own check becomes an option: the catalogue key of exercise 1's hint
# (lab.chain.check_answers) and of exercise 3's first message (lab.cell.grading).
EX1_HINTS = {"backward.hint_round_less": "rounding", "backward.hint_forgot_n": "forgot_n",
             "backward.hint_sum_no_n": "forgot_n", "backward.hint_chain": "chain"}
EX3_CODE_MESSAGES = {"cell.grade_right": "right", "cell.grade_sum": "sum_not_mean",
                     "cell.grade_arange": "wrong_x", "cell.grade_x_values": "wrong_x",
                     "cell.grade_no_x": "wrong_x", "cell.grade_no_requires_grad": "no_grad"}
EX2_GUESSES = {"works": "works", "error": "runtime_error"}     # lab.tensors.GUESSES


def ex1_option(correct: bool | None, hint: str) -> str | None:
    """One box of exercise 1 as an option: None when there is nothing to count (an empty
    box, or text that is not a number)."""
    if correct:
        return "right"
    if correct is None:
        return None
    return EX1_HINTS.get(hint, "other")


def ex2_option(guess: str | None) -> str | None:
    return EX2_GUESSES.get(guess) if isinstance(guess, str) else None


def ex3_code_option(correct: bool, first_message: str | None) -> str:
    """Exercise 3's grade as an option: right, or what its first message names."""
    if correct:
        return "right"
    option = EX3_CODE_MESSAGES.get(first_message or "", "other")
    return "other" if option == "right" else option


_ID = re.compile(r"([a-z][a-z0-9_]*)(?:\.([0-9]{1,2}))?")
MAX_ID = 40                 # characters of a question id (the store's column holds this)


def part_id(question: str, part: int) -> str:
    """The id of one element of a question asked per element: ``part_id("ex1", 2)``."""
    return f"{question}.{part}"


def question(question_id: object, whole: bool = False) -> Question | None:
    """The question behind an id (``"ex2"``, or ``"ex1.3"`` for a part), or None when the
    id is not one of the registry's (an unknown name, a part out of range, a part of a
    question that has none). A question with parts is answered per part; ``whole``
    accepts its own id too (``"ex1"``: what the instructor reveals or resets at once)."""
    if not isinstance(question_id, str) or len(question_id) > MAX_ID:
        return None
    match = _ID.fullmatch(question_id)
    if match is None:
        return None
    entry = QUESTIONS.get(match.group(1))
    if entry is None:
        return None
    part = match.group(2)
    if entry.parts == 0 or part is None:
        return entry if part is None and (whole or entry.parts == 0) else None
    if str(int(part)) != part or int(part) >= entry.parts:
        return None
    return entry


def answer_ids(entry: Question) -> list[str]:
    """The ids a question's answers are recorded under: its parts', or its own."""
    return [part_id(entry.id, i) for i in range(entry.parts)] or [entry.id]


def question_ids() -> list[str]:
    """Every id answers can be recorded under, parts spelled out."""
    return [qid for entry in QUESTIONS.values() for qid in answer_ids(entry)]
