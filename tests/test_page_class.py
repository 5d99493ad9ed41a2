"""Issue 24 in the pages: a class started, joined and taught, through AppTest.

Every test runs against a real SQLite file of its own (``lab.answers.Store``, made the
process's store for the test), with the store's caches off so that a tally or a reveal
shows at the next run. Students and the instructor are separate AppTest sessions of one
process, as they are separate sessions of one server.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from lab import answers, questions
from lab.answers import Recorded, Store
from lab.i18n import t
from lab.ui import class_views, links
from tests.conftest import SHARE, all_text, open_page, texts

quick = pytest.mark.quick
EXERCISES = "pages/4_exercises.py"
BACKWARD = "pages/2_backward.py"
LEARNING = "pages/9_learning.py"
EX2 = {"exercise": "2"}


@pytest.fixture
def store(tmp_path, monkeypatch):
    made = Store(f"sqlite:///{tmp_path / 'answers.sqlite3'}", tally_ttl=0, state_ttl=0)
    monkeypatch.setattr(answers, "_store", made)
    yield made
    made.close()


def start(page: str = EXERCISES, query: dict | None = None, lang: str = "en"):
    """An instructor's session that started a class: (its AppTest, its membership)."""
    at = open_page(page, {"lang": lang, **(query or {})}, opened=(SHARE,))
    at.button(key="class_start").click().run()
    assert not at.exception
    return at, at.session_state["lab.class"]


def join(code: str, page: str = EXERCISES, query: dict | None = None, lang: str = "en"):
    at = open_page(page, {"lang": lang, "class": code, **(query or {})})
    assert not at.exception
    return at


def bars(at, question: str = "ex2") -> dict[str, str]:
    """The instructor's bars for ``question``: option label (with " ✓" once revealed) ->
    what the bar says after the label."""
    entry = questions.QUESTIONS[question]
    labels = {t(entry.option_key(option), "en") for option in entry.options}
    shown = {}
    for bar in at.get("progress"):
        label, _, rest = bar.proto.text.rpartition(": ")
        if label.removesuffix(" ✓") in labels:
            shown[label] = rest
    return shown


def send_ex2(at, guess: str):
    at.radio(key="ex2_guess").set_value(guess).run()
    return at.toggle(key="ex2_check").set_value(True).run()


def waiting(at, sends: str = "answers.sends") -> bool:
    """Whether the page holds this question's answer for the class (page 4 has two)."""
    tail = t(sends, "en", code="§").split("§")[1]
    return any(t("answers.waiting", "en") in box.value and tail in box.value
               for box in at.info)


# ---- what the pages turn into options --------------------------------------------------------

@quick
def test_a_pages_own_check_becomes_one_of_the_questions_options():
    assert questions.ex1_option(True, "") == "right"
    assert questions.ex1_option(None, "") is None                          # empty box
    assert questions.ex1_option(None, "backward.hint_unreadable") is None  # not a number
    assert questions.ex1_option(False, "backward.hint_forgot_n") == "forgot_n"
    assert questions.ex1_option(False, "backward.hint_sum_no_n") == "forgot_n"
    assert questions.ex1_option(False, "backward.hint_round_less") == "rounding"
    assert questions.ex1_option(False, "backward.hint_chain") == "chain"
    assert questions.ex1_option(False, "something.new") == "other"
    assert [questions.ex2_option(g) for g in ("works", "error", None, "x")] == [
        "works", "runtime_error", None, None]
    assert questions.ex3_code_option(True, "cell.grade_right") == "right"
    assert questions.ex3_code_option(False, "cell.grade_right") == "other"
    assert questions.ex3_code_option(False, "cell.grade_sum") == "sum_not_mean"
    assert questions.ex3_code_option(False, "cell.grade_arange") == "wrong_x"
    assert questions.ex3_code_option(False, "cell.grade_no_requires_grad") == "no_grad"
    assert questions.ex3_code_option(False, None) == "other"
    for mapping, question in ((questions.EX1_HINTS, "ex1"), (questions.EX2_GUESSES, "ex2"),
                              (questions.EX3_CODE_MESSAGES, "ex3_code")):
        assert set(mapping.values()) <= set(questions.QUESTIONS[question].options)


@quick
def test_a_link_carries_a_code_and_a_key_only_in_their_own_forms():
    code, secret = links.ClassCode(), links.Secret()
    assert code.parse(["abcd-efgh"]) == "ABCDEFGH"
    for bad in (["ABCDEFG0"], ["ABC"], ["ABCDEFGH", "ABCDEFGH"], ["<b>ABCDEFGH</b>"]):
        with pytest.raises(ValueError):
            code.parse(bad)
    assert secret.parse(["a-b_C9"]) == "a-b_C9"
    for bad in ([""], ["a" * 61], ["key with spaces"], ["ключ"], ["a/b"]):
        with pytest.raises(ValueError):
            secret.parse(bad)
    assert {"class", "teach"} <= {p.name for p in links.params("exercises")}
    assert links.SECRET == {"teach"}


# ---- starting, joining, leaving ------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "es"])
def test_an_instructor_starts_a_class_and_the_key_stays_out_of_every_shared_link(store, lang):
    at, member = start(lang=lang)
    assert member.key and answers.normalise_code(member.code) == member.code
    assert store.is_instructor(member.code, member.key)
    assert at.query_params["class"] == member.code and "teach" not in at.query_params
    sidebar = [block.value for block in at.sidebar.code]
    join_link, instructor_link, share = sidebar
    assert f"class={member.code}" in join_link and member.key not in join_link
    assert f"teach={member.key}" in instructor_link               # the instructor's own
    assert member.key not in share and "teach" not in share      # "Link to this state"
    assert any(t("answers.teaching", lang, code=class_views.shown_code(member.code)) == m.value
               for m in at.sidebar.markdown)
    assert at.sidebar.expander[0].label == t("answers.instructor_link_title", lang) or any(
        e.label == t("answers.instructor_link_title", lang) for e in at.sidebar.expander)
    assert "data:image/svg+xml;base64," in "".join(str(h.proto.body) for h in at.get("html"))
    student = join(member.code, lang=lang)
    assert member.key not in all_text(student)
    assert not student.get("progress")                            # no instructor's panel


def test_the_instructor_link_brings_the_view_back_and_leaves_the_address(store):
    _, member = start()
    at = open_page(EXERCISES, {**EX2, "class": member.code, "teach": member.key},
                   opened=(SHARE,))
    assert not at.exception and "teach" not in at.query_params
    assert at.session_state["lab.class"].key == member.key
    assert bars(at)                                               # the panel is there
    assert member.key not in at.sidebar.code[-1].value            # the share box


def test_a_forged_instructor_key_is_refused_and_the_session_is_a_student(store):
    _, member = start()
    forged = member.key[:-4] + ("AAAA" if not member.key.endswith("AAAA") else "BBBB")
    for key in (forged, "x", "<script>alert(1)</script>"):
        at = open_page(EXERCISES, {**EX2, "class": member.code, "teach": key})
        assert not at.exception and "teach" not in at.query_params
        assert [w.value for w in at.warning] == [
            t("answers.bad_key", "en", code=class_views.shown_code(member.code))]
        assert at.session_state["lab.class"].key is None
        assert not bars(at) and not [b for b in at.button if b.key.startswith("class_reveal")]
        assert not store.reveal(member.code, key, "ex2")          # the store refuses it too


def test_students_join_by_link_and_by_typing_the_code_in_any_form(store):
    _, member = start()
    at = join(member.code)
    assert [s.value for s in at.success] == [
        t("answers.joined", "en", code=class_views.shown_code(member.code))]
    typed = open_page(EXERCISES, {"lang": "es"})
    shown = class_views.shown_code(member.code).lower().replace("-", " - ")
    typed.text_input(key="class_typed").input(shown)
    next(b for b in typed.button if b.label == t("answers.join", "es")).click().run()
    assert not typed.exception and typed.session_state["lab.class"].code == member.code
    assert typed.query_params["class"] == member.code
    assert t("answers.joined", "es", code=class_views.shown_code(member.code)) in [
        m.value for m in typed.sidebar.markdown]
    next(b for b in typed.button if b.key == "class_leave").click().run()
    assert "lab.class" not in typed.session_state and "class" not in typed.query_params


@pytest.mark.parametrize("typed", ["ABCDEFGH", "nope", "ABCD-EFG0", "[x](https://e.invalid)",
                                   "A" * 40])
def test_a_wrong_code_typed_or_linked_is_refused_with_a_message(store, typed):
    at = open_page(EXERCISES)
    at.text_input(key="class_typed").input(typed)
    next(b for b in at.button if b.label == t("answers.join", "en")).click().run()
    assert not at.exception and "lab.class" not in at.session_state
    assert [w.value for w in at.sidebar.warning] == [t("answers.bad_code", "en")]
    linked = open_page(EXERCISES, {"class": typed})
    assert not linked.exception and "lab.class" not in linked.session_state
    assert [w.value for w in linked.warning] == [t("answers.bad_code", "en")]
    assert "class" not in linked.query_params and "e.invalid" not in all_text(linked)


# ---- answers, the panel, reveal and reset ----------------------------------------------------

def test_answers_are_held_counted_live_and_revealed_to_every_student(store):
    teacher, member = start(query=EX2)
    assert bars(teacher) == {t("answers.ex2_works", "en"): "**0** (0 %)",
                             t("answers.ex2_runtime_error", "en"): "**0** (0 %)"}
    students = [join(member.code, query=EX2) for _ in range(4)]
    for at, guess in zip(students, ("error", "error", "works")):
        send_ex2(at, guess)
        assert not at.exception and waiting(at)
        assert not at.success and "int64" not in texts(at)      # held: no verdict, no answer
        assert any(t("answers.notice_queued", "en") in c.value for c in at.caption)
    late = students[3]                                            # has not answered
    assert waiting(late) and "int64" not in texts(late)
    assert late.session_state["lab.class_held"] == {"ex2": 0}    # the open exercise's watch
    assert store.flush()
    teacher.run()
    assert bars(teacher) == {t("answers.ex2_works", "en"): "**1** (33 %)",
                             t("answers.ex2_runtime_error", "en"): "**2** (67 %)"}
    assert t("answers.answered", "en", count=3) in [m.value for m in teacher.markdown]
    assert "int64" not in texts(teacher)                          # the projector holds it too
    teacher.button(key="class_reveal_ex2").click().run()
    assert not teacher.exception and store.revealed(member.code, "ex2")
    assert t("answers.ex2_runtime_error", "en") + " ✓" in bars(teacher)
    assert t("answers.right", "en", right=2, total=3) in [c.value for c in teacher.caption]
    assert teacher.button(key="class_reveal_ex2").disabled
    late.run()
    assert not late.exception and not waiting(late) and "int64" in texts(late)
    assert late.session_state["lab.class_held"] == {}          # ex2 revealed: nothing held
    assert any("no prediction" in box.value for box in late.info)
    students[0].run()
    assert any("Right: PyTorch refuses" in box.value for box in students[0].success)


def test_a_second_vote_clears_the_count_and_asks_each_student_again(store):
    teacher, member = start(query=EX2)
    student = join(member.code, query=EX2)
    send_ex2(student, "works")
    assert store.flush() and store.tally(member.code, "ex2").total == 1
    teacher.button(key="class_reset_ex2").click().run()
    assert not teacher.exception and store.tally(member.code, "ex2").total == 0
    student.run()
    assert student.toggle(key="ex2_check").value is False
    assert t("answers.second_vote", "en") in [box.value for box in student.info]
    student.run()                                                  # a rerun sends nothing
    assert store.flush() and store.tally(member.code, "ex2").total == 0
    send_ex2(student, "error")
    assert store.flush() and store.tally(member.code, "ex2").counts["runtime_error"] == 1
    assert t("answers.second_vote", "en") not in [box.value for box in student.info]


def test_exercise_1_sends_each_box_and_the_panel_counts_per_box(store):
    teacher, member = start(BACKWARD)
    student = join(member.code, BACKWARD)
    for box, typed in (("ex1_0", "2/3"), ("ex1_1", "4"), ("ex1_2", "5")):
        student.text_input(key=box).input(typed).run()
    assert not student.success and not student.error              # held: not judged yet
    student.toggle(key="backward").set_value(True).run()
    assert waiting(student) and not student.dataframe             # no x.grad yet
    assert store.flush()
    teacher.run()
    table = teacher.table[0].value
    assert list(table[t("answers.ex1_right", "en")][:3]) == [1, 0, 0]
    assert list(table[t("answers.ex1_forgot_n", "en")][:3]) == [0, 1, 0]
    assert list(table[t("answers.ex1_chain", "en")][:3]) == [0, 0, 1]
    assert list(table[t("answers.total", "en")]) == [1, 1, 1, 0, 0, 0]
    teacher.button(key="class_reveal_ex1").click().run()
    student.run()
    assert student.dataframe and any("right" in s.value for s in student.success)
    assert any("divided by n" in e.value for e in student.error)


def test_the_learning_prediction_is_sent_and_judged_against_the_students_own_run(store):
    teacher, member = start(LEARNING)
    student = join(member.code, LEARNING)
    student.radio(key="guess").set_value("diverges").run()
    student.toggle(key="reveal").set_value(True).run()
    assert waiting(student) and not student.metric                # held: no run shown
    assert store.flush()
    tally = store.tally(member.code, "learning")
    assert tally.counts["diverges"] == 1 and tally.right == 0     # lr 0.1 converges
    teacher.run()
    assert bars(teacher, "learning")[t("answers.learning_diverges", "en")] == "**1** (100 %)"
    teacher.button(key="class_reveal_learning").click().run()
    student.run()
    assert student.metric and not waiting(student)


def test_exercise_3_sends_each_new_program_and_reveals_the_labs_solution(store):
    teacher, member = start(query={"exercise": "3"})
    student = join(member.code, query={"exercise": "3"})
    late = join(member.code, query={"exercise": "3"})
    program = ("import torch\nx = torch.arange(1., 6., requires_grad=True)\n"
               "y = (torch.sin(x) * torch.exp(x) + 1 / (x + 2)).sum()\ny.backward()")
    student.text_area(key="ex3_code").input(program).run()
    assert not student.exception and waiting(student, "answers.sends_code")
    assert not [tg for tg in student.toggle if tg.key == "ex3_reference"]
    student.run()                                                   # the same program: once
    assert store.flush()
    assert dict(store.tally(member.code, "ex3_code").counts)["sum_not_mean"] == 1
    teacher.button(key="class_reveal_ex3_code").click().run()
    late.run()
    assert not late.exception and late.get("graphviz_chart")       # the lab's graph
    assert any("x.grad" in str(frame.value.columns.tolist()) for frame in late.dataframe)


def test_the_instructors_lecture_view_projects_the_code_the_link_and_the_qr_code(store):
    at, member = start(query={"lecture": "true", **EX2}, lang="es")
    code = class_views.shown_code(member.code)
    projected = next(e for e in at.main.expander
                     if e.label == t("answers.project_title", "es", code=code))
    bodies = "".join(str(h.proto.body) for h in projected.get("html"))
    assert "data:image/svg+xml;base64," in bodies and "lab-class-code" in bodies
    assert code in bodies
    assert any(f"class={member.code}" in c.value and member.key not in c.value
               for c in projected.code)
    student = join(member.code, query={"lecture": "true"})
    assert not [e for e in student.main.expander if code in e.label]


def test_a_class_that_expires_opens_the_gates_and_says_it_is_over(store):
    teacher, member = start(query=EX2)
    student = join(member.code, query=EX2)
    assert waiting(student)
    later = datetime.now(timezone.utc) + timedelta(hours=25)
    assert store.expire(now=later) == 1            # deleted, rows and all
    store.classes.forget(lambda cached: True)      # the process's 1 s cache of classes
    send_ex2(student, "error")
    assert not student.exception and not waiting(student) and "int64" in texts(student)
    assert t("answers.notice_unknown_class", "en") in [w.value for w in student.sidebar.warning]
    teacher.run()
    assert not teacher.exception and not bars(teacher)


# ---- the store down ----------------------------------------------------------------------------

def test_without_a_store_no_class_starts_and_the_lab_keeps_working(tmp_path, monkeypatch):
    down = Store("nosuchdialect://nowhere")
    monkeypatch.setattr(answers, "_store", down)
    at = open_page(EXERCISES, EX2)
    at.button(key="class_start").click().run()
    assert not at.exception and "lab.class" not in at.session_state
    assert [w.value for w in at.sidebar.warning] == [t("answers.start_down", "en")]
    linked = open_page(EXERCISES, {**EX2, "class": "ABCDEFGH"})
    assert [w.value for w in linked.warning] == [t("answers.join_down", "en")]
    down.close()


def test_a_store_that_fails_in_class_opens_the_gate_and_says_so(tmp_path, monkeypatch):
    store = Store(f"sqlite:///{tmp_path / 'down.sqlite3'}", backoff=(60.0, 60.0))
    monkeypatch.setattr(answers, "_store", store)                  # down for a minute
    _, member = start(query=EX2)
    student = join(member.code, query=EX2)
    store._failed(RuntimeError("the disk is gone"))                # as a failed write does
    assert store.record(member.code, answers.new_student_id(), "ex2", "works",
                        False) is Recorded.STORE_DOWN
    send_ex2(student, "error")
    assert not student.exception and not waiting(student)
    assert t("answers.notice_store_down", "en") in [w.value for w in student.warning]
    assert "int64" in texts(student)                                # the lab goes on
    store.close(timeout=0.1)
