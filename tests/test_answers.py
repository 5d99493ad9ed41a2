"""Issue 24: the class's answers, live (``lab/answers.py``, ``lab/questions.py``).

Every store test runs against a real SQLite file and a real PostgreSQL server
(``tests/postgres.py``). The fast ones are marked ``quick``: ``python -m pytest -m quick``.
"""

from __future__ import annotations

import json
import os
import random
import re
import secrets
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ElementTree
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import segno
import sqlalchemy as sa
from sqlalchemy import event

from lab import answers, questions
from lab.answers import (CODE_ALPHABET, Recorded, Store, TtlCache, RateLimit, key_hash,
                         new_code, new_student_id, normalise_code, qr_svg)
from lab.i18n import LANGUAGES, catalogue
from tests import postgres
from tests.postgres import postgres_server, postgres_url  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parent.parent
quick = pytest.mark.quick
# Not a speed goal: a bound far under every wait the store could impose on a page (SQLite's
# busy timeout, PostgreSQL's connect and statement timeouts: seconds). A call that returns
# within it did not wait for the database, however loaded the machine running the tests.
FAST = 0.25


def now_utc(seconds: float = 0.0) -> datetime:
    return datetime.now(timezone.utc) + timedelta(seconds=seconds)


def wait_for(condition, timeout: float = 10.0, every: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


def timed(call):
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


# ---- the registry ------------------------------------------------------------------------

@quick
def test_every_question_has_options_a_title_and_option_names_in_both_languages():
    assert set(questions.QUESTIONS) == {"ex1", "ex2", "ex3_code", "learning"}
    for entry in questions.QUESTIONS.values():
        assert len(set(entry.options)) == len(entry.options) >= 2, entry.id
        assert entry.right is None or entry.right <= set(entry.options), entry.id
        assert all(len(option) <= 40 for option in entry.options)
        for lang in LANGUAGES:
            keys = [entry.title_key, *map(entry.option_key, entry.options)]
            assert all(key in catalogue(lang) for key in keys), (entry.id, lang)
    assert questions.QUESTIONS["ex2"].right == {"runtime_error"}
    assert questions.QUESTIONS["learning"].right is None        # the page decides
    assert questions.QUESTIONS["learning"].options == training_behaviours()


def training_behaviours() -> tuple[str, ...]:
    from lab.training import BEHAVIOURS          # torch: imported by this test alone

    return BEHAVIOURS


@quick
def test_question_ids_with_and_without_parts():
    assert questions.question_ids()[:6] == [f"ex1.{i}" for i in range(6)]
    assert [qid for qid in questions.question_ids() if "." not in qid] == [
        "ex2", "ex3_code", "learning"]
    for good in ("ex2", "ex1.0", "ex1.5", "learning"):
        assert questions.question(good) is not None, good
    for bad in ("ex1", "ex1.6", "ex1.05", "ex1.-1", "ex1.٣", "ex2.0", "EX2", "ex2 ", "",
                "nope", "ex1.1.1", None, 2, "x" * 100):
        assert questions.question(bad) is None, bad
    assert questions.question("ex1", whole=True).id == "ex1"
    assert questions.question("ex1.3", whole=True).id == "ex1"
    assert questions.answer_ids(questions.QUESTIONS["ex2"]) == ["ex2"]


# ---- codes, keys, ids, notices -------------------------------------------------------------

@quick
def test_codes_are_eight_unambiguous_characters_and_typing_them_is_forgiving():
    codes = {new_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(len(code) == 8 and set(code) <= set(CODE_ALPHABET) for code in codes)
    assert not set("01OIL") & set(CODE_ALPHABET)
    assert normalise_code("abcd-efgh") == "ABCDEFGH"
    assert normalise_code(" ab cd\tef gh ") == "ABCDEFGH"
    assert normalise_code("ＡＢＣＤＥＦＧＨ") == "ABCDEFGH"                # full-width: NFKC
    for bad in ("ABCDEFG0", "ABCDEFGO", "ABCDEFG1", "ABCDEFGI", "ABCDEFGL", "ABCDEFG",
                "ABCDEFGHJ", "ABCD_EFG", "", None, 12345678, "ABCDEFGH" * 10):
        assert normalise_code(bad) is None, bad


@quick
def test_student_ids_and_key_hashes():
    student = new_student_id()
    assert answers.STUDENT_ID.fullmatch(student) and len(student) == 16
    assert key_hash("k") == key_hash("k") != key_hash("K")
    assert re.fullmatch(r"[0-9a-f]{64}", key_hash("k"))


@quick
def test_every_outcome_has_a_notice_in_both_languages():
    assert {outcome.value for outcome in Recorded} == {
        "queued", "invalid", "rate_limited", "unknown_class", "store_down", "busy"}
    for outcome in Recorded:
        assert outcome == outcome.value                  # a str for the UI
        for lang in LANGUAGES:
            assert outcome.notice in catalogue(lang), (outcome, lang)
    assert "not reachable" in catalogue("en")["answers.notice_store_down"]


@quick
def test_a_token_bucket_allows_ten_writes_in_ten_seconds():
    limit = RateLimit(10, 10.0)
    assert all(limit.allow("a", at=100.0) for _ in range(10))
    assert not limit.allow("a", at=100.0)
    assert limit.allow("b", at=100.0)                   # per student
    assert not limit.allow("a", at=100.5)               # half a token refilled
    assert limit.allow("a", at=101.01)
    assert not limit.allow("a", at=101.02)
    limit.forget_idle(at=200.0)
    assert limit.buckets == {}
    assert all(limit.allow("a", at=200.0) for _ in range(10))


@quick
def test_the_ttl_cache_reuses_a_value_and_loads_it_once_at_a_time():
    clock = [0.0]
    cache = TtlCache(1.0, clock=lambda: clock[0])
    loads = []

    def load():
        loads.append(1)
        return len(loads)

    assert cache.get("k", load) == 1
    clock[0] = 0.9
    assert cache.get("k", load) == 1
    clock[0] = 1.0
    assert cache.get("k", load) == 2
    # 50 threads asking for a key with no value yet: one load, everyone gets it.
    slow_loads = []

    def slow():
        slow_loads.append(1)
        time.sleep(0.2)
        return "v"

    got = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("new", slow)))
               for _ in range(50)]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]
    assert got == ["v"] * 50 and len(slow_loads) == 1
    # An expired value is reloaded by one thread; the others get the old one at once.
    clock[0] = 5.0
    loader = threading.Thread(target=cache.get, args=("new", slow))
    loader.start()
    time.sleep(0.05)
    value, took = timed(lambda: cache.get("new", slow))
    loader.join()
    assert value == "v" and took < FAST and len(slow_loads) == 2


# ---- the QR code ----------------------------------------------------------------------------

def dark_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules of segno's SVG (one path of horizontal lines), border included."""
    path = ElementTree.fromstring(svg).find("{http://www.w3.org/2000/svg}path[@class='qrline']")
    x = y = 0.0
    dark = set()
    for command, numbers in re.findall(r"([MmHh])([-\d. ]+)", path.get("d")):
        values = [float(value) for value in numbers.split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        else:
            dark |= {(int(x) + i, int(y - 0.5)) for i in range(int(values[0]))}
            x += values[0]
    return dark


@quick
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_qr_code_is_a_scalable_svg_with_a_title_that_encodes_the_link(lang):
    url = "https://lab.example.edu/?class=ABCD2345&lang=" + lang
    svg = qr_svg(url, lang)
    root = ElementTree.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg" and root.get("role") == "img"
    assert root.get("width") is None and root.get("height") is None
    side = int(root.get("viewBox").split()[2])
    assert root.get("viewBox") == f"0 0 {side} {side}"
    assert root[0].tag == f"{ns}title"
    assert root[0].text == catalogue(lang)["answers.qr_title"]
    background, modules = root.findall(f"{ns}path")
    assert background.get("fill") in ("#fff", "#ffffff")
    assert modules.get("stroke") in ("#000", "#000000")
    expected = segno.make(url, error="m", micro=False)
    assert side == len(expected.matrix) + 8                       # a quiet zone of 4
    assert dark_modules(svg) == {(x + 4, y + 4) for y, row in enumerate(expected.matrix)
                                 for x, bit in enumerate(row) if bit}
    other = segno.make(url + "x", error="m", micro=False)
    assert dark_modules(svg) != {(x + 4, y + 4) for y, row in enumerate(other.matrix)
                                 for x, bit in enumerate(row) if bit}


# ---- where the store lives, and no I/O before it is used ------------------------------------

@quick
def test_the_url_comes_from_the_argument_then_the_environment_then_a_default(monkeypatch,
                                                                             tmp_path):
    monkeypatch.delenv("LAB_DATABASE_URL", raising=False)
    monkeypatch.delenv("LAB_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert answers.default_url() == f"sqlite:///{tmp_path}/.autograd-lab/answers.sqlite3"
    monkeypatch.setenv("LAB_DATA_DIR", str(tmp_path / "data"))
    assert answers.default_url() == f"sqlite:///{tmp_path}/data/answers.sqlite3"
    monkeypatch.setenv("LAB_DATABASE_URL", "postgresql://u@db.example:5432/lab")
    store = Store()
    assert store.url.drivername == "postgresql+psycopg" and store.url.host == "db.example"
    assert Store(f"sqlite:///{tmp_path}/x.sqlite3").url.database == f"{tmp_path}/x.sqlite3"
    monkeypatch.setenv("LAB_CLASS_HOURS", "2")
    assert Store().class_seconds == 7200
    for bad in ("zero", "0", "-1", "1e9"):
        monkeypatch.setenv("LAB_CLASS_HOURS", bad)
        assert Store().class_seconds == 24 * 3600
    assert not list(tmp_path.rglob("*.sqlite3"))


@quick
def test_importing_and_getting_the_store_does_no_io_and_no_streamlit(tmp_path):
    script = """
import sys, threading
import lab.answers, lab.questions
store = lab.answers.store()
assert store is lab.answers.store()
print(sorted(m for m in sys.modules if m == "streamlit" or m.startswith("streamlit.")))
print(threading.active_count())
"""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LAB_")}
    env["HOME"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[]", "1"]
    assert list(tmp_path.iterdir()) == []            # no folder, no file, until it is used


@quick
def test_the_process_store_is_one_even_when_asked_by_many_threads_at_once(monkeypatch,
                                                                          tmp_path):
    monkeypatch.setattr(answers, "_store", None)
    monkeypatch.delenv("LAB_DATABASE_URL", raising=False)
    monkeypatch.setenv("LAB_DATA_DIR", str(tmp_path / "answers"))
    made = []
    barrier = threading.Barrier(20)

    def ask():
        barrier.wait()
        made.append(answers.store())

    threads = [threading.Thread(target=ask) for _ in range(20)]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]
    try:
        assert len({id(store) for store in made}) == 1
        assert not (tmp_path / "answers").exists()
        assert made[0].start_class() is not None
        assert (tmp_path / "answers" / "answers.sqlite3").exists()
    finally:
        made[0].close()


@quick
@pytest.mark.parametrize("url", ["nonsense", "nosuchdb://x/y", "sqlite:///{tmp}/file/a.db"])
def test_a_store_that_cannot_be_made_is_down_and_says_why(url, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    store = Store(url.format(tmp=tmp_path))
    try:
        assert store.start_class() is None
        assert not store.healthy and store.last_error
        assert store.record("ABCDEFGH", new_student_id(), "ex2", "works", False) is \
            Recorded.UNKNOWN_CLASS
        assert store.tally("ABCDEFGH", "ex2") is None and store.expire() == 0
        assert not store.join("ABCDEFGH") and not store.revealed("ABCDEFGH", "ex2")
    finally:
        store.close()


@quick
def test_a_store_that_cannot_be_created_is_down_and_says_why(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    store = Store(f"sqlite:///{tmp_path}/file/answers.sqlite3")
    try:
        assert store.start_class() is None
        assert not store.healthy and store.last_error
        outcome, took = timed(lambda: store.record("ABCDEFGH", new_student_id(), "ex2",
                                                   "works", False))
        assert outcome is Recorded.UNKNOWN_CLASS and took < FAST
        assert store.tally("ABCDEFGH", "ex2") is None
        assert store.revealed("ABCDEFGH", "ex2") is False
        assert store.join("ABCDEFGH") is False
    finally:
        store.close()


@quick
def test_without_postgresql_its_tests_skip_but_fail_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        postgres.missing("no PostgreSQL")
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception):
        postgres.missing("no PostgreSQL")


# ---- against both databases ------------------------------------------------------------------

@pytest.fixture(params=[pytest.param("sqlite", marks=quick), "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/answers.sqlite3"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def make_store(url):
    made = []

    def make(**options) -> Store:
        options.setdefault("tally_ttl", 0.0)
        options.setdefault("state_ttl", 0.0)
        made.append(Store(url, **options))
        return made[-1]

    yield make
    for store in made:
        store.close()


def rows(store: Store, table: sa.Table, **where) -> list:
    with store.engine.connect() as connection:
        return connection.execute(sa.select(table).filter_by(**where)).all()


@contextmanager
def writes_blocked(store: Store):
    """Another connection holds the lock the writer needs, until the block ends."""
    if store.engine.dialect.name == "sqlite":
        holder = sqlite3.connect(store.url.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    else:
        with store.engine.connect() as holder:
            transaction = holder.begin()
            holder.execute(sa.text("LOCK TABLE lab_answers IN ACCESS EXCLUSIVE MODE"))
            try:
                yield
            finally:
                transaction.rollback()


def test_a_class_is_started_joined_and_only_its_instructor_decides(make_store):
    store = make_store()
    first, second = store.start_class(), store.start_class()
    assert first.code != second.code and set(first.code) <= set(CODE_ALPHABET)
    assert len(first.instructor_key) >= 32
    hours = (first.expires_at - now_utc()).total_seconds() / 3600
    assert 23.9 < hours <= 24
    student_store = make_store()                       # another replica: reads the database
    assert student_store.join(first.code)
    assert student_store.join(first.code.lower()[:4] + "-" + first.code.lower()[4:])
    assert store.is_instructor(first.code, first.instructor_key)
    assert student_store.is_instructor(first.code, first.instructor_key)
    key = first.instructor_key
    forged = [second.instructor_key, secrets.token_urlsafe(24), key[:-1], key + "x",
              key.upper() if key.upper() != key else key.lower(), "", " ", None, 42,
              first.code, new_student_id(), key_hash(key), "x" * 10_000]
    for other in forged:
        assert not student_store.is_instructor(first.code, other), other
        assert not student_store.reveal(first.code, other, "ex2"), other
        assert not student_store.reset(first.code, other, "ex2"), other
    assert not store.is_instructor(second.code, key)
    assert not student_store.revealed(first.code, "ex2")
    assert rows(store, answers.question_states) == []
    # Guessed codes: none is a class.
    guessed = {new_code() for _ in range(300)} - {first.code, second.code}
    assert not any(student_store.join(code) for code in guessed)
    assert not any(student_store.is_instructor(code, key) for code in guessed)
    # The key is kept only as its hash.
    (row,) = rows(store, answers.classes, code=first.code)
    assert row.key_hash == key_hash(key) and key not in " ".join(map(str, row))


def test_answers_are_validated_and_unknown_classes_refused(make_store):
    store = make_store()
    code = store.start_class().code
    student = new_student_id()
    invalid = [
        (student, "nope", "works", False), (student, "ex1", "right", True),
        (student, "ex1.6", "right", True), (student, "ex2", "maybe", False),
        (student, "ex2", "WORKS", False), (student, "ex2", None, False),
        (student, "ex2", "works", 0), (student, "ex2", "works", "no"),
        (student, "ex2", "works", None), (student, "ex2", "works", True),    # it doesn't
        (student, "ex2", "runtime_error", False), ("", "ex2", "works", False),
        ("Robert'); DROP TABLE lab_answers;--", "ex2", "works", False),
        ("alice@example.edu", "ex2", "works", False), (student.upper(), "ex2", "works", False),
        (student[:15], "ex2", "works", False), (None, "ex2", "works", False),
        (student, "learning", "diverges", 1),
    ]
    for case in invalid:
        assert store.record(code, *case) is Recorded.INVALID, case
    for bad_code in ("ZZZZZZZZ", "nonsense", None, code + "2", code.replace(code[0], "0")):
        assert store.record(bad_code, student, "ex2", "works", False) is \
            Recorded.UNKNOWN_CLASS, bad_code
    assert store.record(code, student, "learning", "diverges", True) is Recorded.QUEUED
    assert store.record(code, student, "ex1.5", "forgot_n", False) is Recorded.QUEUED
    assert store.flush(5)
    stored = rows(store, answers.answers, class_code=code)
    assert sorted((row.question, row.option, row.correct) for row in stored) == [
        ("ex1.5", "forgot_n", False), ("learning", "diverges", True)]
    assert store.tally(code, "nope") is None and store.tally(code, "ex1") is None
    assert store.tally("ZZZZZZZZ", "ex2").total == 0


def test_one_current_answer_per_student_the_latest_replacing_the_others(make_store):
    store = make_store()
    code = store.start_class().code
    ann, bob = new_student_id(), new_student_id()
    assert store.record(code, ann, "ex2", "works", False) is Recorded.QUEUED
    assert store.flush(5)
    assert store.record(code, ann, "ex2", "runtime_error", True) is Recorded.QUEUED
    assert store.record(code, bob, "ex2", "works", False) is Recorded.QUEUED
    assert store.flush(5)
    tally = store.tally(code, "ex2")
    assert (tally.total, dict(tally.counts), tally.right) == (
        2, {"works": 1, "runtime_error": 1}, 1)
    # An answer older than the stored one (a late write) changes nothing.
    later, earlier = now_utc(60), now_utc(30)
    assert store.record(code, bob, "ex2", "runtime_error", True, now=later) is Recorded.QUEUED
    assert store.flush(5)
    assert store.record(code, bob, "ex2", "works", False, now=earlier) is Recorded.QUEUED
    assert store.flush(5)
    assert dict(store.tally(code, "ex2").counts) == {"works": 0, "runtime_error": 2}
    assert len(rows(store, answers.answers, class_code=code)) == 2
    # Changes of mind that reach the writer in one batch: the last one is kept.
    carl = new_student_id()
    with writes_blocked(store):
        assert store.record(code, bob, "ex2", "runtime_error", True, now=now_utc(90)) is \
            Recorded.QUEUED                   # the writer waits on this one...
        time.sleep(0.2)
        for option in ("works", "runtime_error", "works"):     # ...while these queue up
            assert store.record(code, carl, "ex2", option, option == "runtime_error") is \
                Recorded.QUEUED
    assert store.flush(5) and store.healthy
    assert dict(store.tally(code, "ex2").counts) == {"works": 1, "runtime_error": 2}


def final_answers(store: Store, code: str, students: int, changers: int, spread: float,
                  question: str = "learning"):
    """``students`` threads answer ``question`` within ``spread`` seconds, the first
    ``changers`` of them twice; each one's final option."""
    options = questions.QUESTIONS["learning"].options
    final, outcomes = {}, []
    lock = threading.Lock()
    start = time.monotonic()

    def student(number: int):
        me = new_student_id()
        rng = random.Random(number)
        time.sleep(rng.uniform(0, spread))
        if not store.join(code):
            raise AssertionError("join refused")
        choice = options[number % 3]
        got = [store.record(code, me, question, choice, choice == "converges_zigzag")]
        if number < changers:
            time.sleep(rng.uniform(0, spread / 4))
            choice = options[(number + 1) % 3]
            got.append(store.record(code, me, question, choice, choice == "converges_zigzag"))
        with lock:
            final[me] = choice
            outcomes.extend(got)

    threads = [threading.Thread(target=student, args=(n,)) for n in range(students)]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]
    assert time.monotonic() - start < 10
    assert outcomes == [Recorded.QUEUED] * (students + changers)
    return final


def test_150_students_answering_within_seconds_are_each_counted_once(make_store):
    instructor = make_store()
    new = instructor.start_class()
    class_store = make_store()                   # the students' replica
    lookups = []
    event.listen(class_store.engine, "before_cursor_execute",
                 lambda *args: lookups.append(1) if "lab_classes.key_hash" in args[2] else None)
    polls = []
    stop = threading.Event()

    def poll():                                  # the instructor's live view, meanwhile
        while not stop.is_set():
            polls.append(instructor.tally(new.code, "learning"))
            time.sleep(0.05)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        final = final_answers(class_store, new.code, students=150, changers=40, spread=2.0)
        assert class_store.flush(10)
    finally:
        stop.set()
        poller.join()
    assert len(final) == 150
    assert 1 <= len(lookups) <= 3     # 150 joins: one lookup (stragglers: one a second)
    expected = {option: list(final.values()).count(option)
                for option in questions.QUESTIONS["learning"].options}
    tally = instructor.tally(new.code, "learning")
    assert tally.total == 150 and dict(tally.counts) == expected
    assert tally.right == expected["converges_zigzag"]
    stored = rows(instructor, answers.answers, class_code=new.code)
    assert {row.student: row.option for row in stored} == final
    assert all(poll is not None and poll.total <= 150 for poll in polls)
    assert class_store.healthy and instructor.healthy


def test_a_students_writes_are_rate_limited(make_store):
    store = make_store()
    code = store.start_class().code
    ann, bob = new_student_id(), new_student_id()
    assert [store.record(code, ann, "ex2", "works", False) for _ in range(10)] == [
        Recorded.QUEUED] * 10
    assert store.record(code, ann, "ex2", "works", False) is Recorded.RATE_LIMITED
    assert store.record(code, bob, "ex2", "works", False) is Recorded.QUEUED
    time.sleep(1.05)
    assert store.record(code, ann, "ex2", "runtime_error", True) is Recorded.QUEUED
    assert store.record(code, ann, "ex2", "runtime_error", True) is Recorded.RATE_LIMITED
    assert store.flush(5)
    assert dict(store.tally(code, "ex2").counts) == {"works": 1, "runtime_error": 1}


def test_a_full_queue_answers_busy_at_once_while_the_database_is_locked(make_store):
    store = make_store(queue_size=5)
    code = store.start_class().code
    store.record(code, new_student_id(), "ex2", "works", False)
    assert store.flush(5)
    outcomes, slowest = [], 0.0
    with writes_blocked(store):
        for _ in range(60):
            outcome, took = timed(lambda: store.record(code, new_student_id(), "ex2",
                                                       "works", False))
            outcomes.append(outcome)
            slowest = max(slowest, took)
            time.sleep(0.005)
        assert store.healthy                    # locked for < busy/statement timeout
    print(f"record() under a locked {store.engine.dialect.name}: slowest {slowest * 1e3:.2f} ms")
    assert slowest < FAST
    queued = outcomes.count(Recorded.QUEUED)
    assert 5 <= queued <= 6 + 5                 # a full queue, plus the batch being written
    assert outcomes.count(Recorded.BUSY) == 60 - queued
    assert store.flush(10)
    assert store.tally(code, "ex2").total == 1 + queued


@contextmanager
def outage(store: Store, request):
    """The database unreachable (PostgreSQL stopped) or locked past the busy timeout
    (SQLite) until the block ends."""
    if store.engine.dialect.name == "sqlite":
        with writes_blocked(store):
            yield
    else:
        server = request.getfixturevalue("postgres_server")
        server.stop()
        try:
            yield
        finally:
            server.start()


def test_a_store_that_fails_is_down_answers_at_once_and_recovers(make_store, request):
    store = make_store(busy_timeout=0.3, backoff=(0.05, 0.3), queue_size=20)
    other = make_store()
    new = store.start_class()
    before = new_student_id()
    assert store.record(new.code, before, "ex2", "works", False) is Recorded.QUEUED
    assert store.flush(5)
    assert store.reveal(new.code, new.instructor_key, "learning")
    assert store.revealed(new.code, "learning")
    outcomes, latencies = {}, []
    with outage(store, request):
        deadline = time.monotonic() + 5
        while store.healthy and time.monotonic() < deadline:
            student = new_student_id()
            outcome, took = timed(lambda: store.record(new.code, student, "ex2",
                                                       "runtime_error", True))
            outcomes[student] = outcome
            latencies.append(took)
            time.sleep(0.01)
        assert not store.healthy and store.last_error
        for _ in range(50):
            outcome, took = timed(lambda: store.record(new.code, new_student_id(), "ex2",
                                                       "runtime_error", True))
            assert outcome is Recorded.STORE_DOWN
            latencies.append(took)
        reads = [timed(lambda: store.tally(new.code, "ex2")),
                 timed(lambda: store.revealed(new.code, "ex2")),
                 timed(lambda: store.revealed(new.code, "learning")),    # as last seen
                 timed(lambda: store.join(new.code)),                  # from memory
                 timed(lambda: store.is_instructor(new.code, new.instructor_key)),
                 timed(lambda: store.join(new_code())),                # not seen yet
                 timed(lambda: store.reveal(new.code, new.instructor_key, "ex2")),
                 timed(lambda: store.expire())]
        assert [result for result, _ in reads] == [None, False, True, True, True, False,
                                                   False, 0]
        latencies += [took for _, took in reads]
        assert not store.flush(0.3)
    print(f"record() while {store.engine.dialect.name} fails: slowest "
          f"{max(latencies) * 1e3:.2f} ms over {len(latencies)} calls "
          f"({store.last_error})")
    assert max(latencies) < FAST
    assert Recorded.QUEUED in outcomes.values()
    assert wait_for(lambda: store.healthy, timeout=15)
    assert store.flush(10)
    queued = [student for student, outcome in outcomes.items() if outcome is Recorded.QUEUED]
    tally = other.tally(new.code, "ex2")
    assert tally.total == 1 + len(queued) and tally.counts["runtime_error"] == len(queued)
    assert store.record(new.code, new_student_id(), "ex2", "works", False) is Recorded.QUEUED
    assert store.reveal(new.code, new.instructor_key, "ex2") and store.flush(5)
    assert other.tally(new.code, "ex2").total == 2 + len(queued)


@pytest.mark.parametrize("server", ["closed", "silent"])
def test_a_postgresql_url_pointing_nowhere_costs_a_page_one_timeout_at_most(server):
    """A closed port fails at once; a server that never answers, after the connect
    timeout; from then on the store is down and every call returns at once."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        if server == "silent":
            listener.listen(16)                  # connections wait, unanswered
        else:
            listener.close()
        store = Store(f"postgresql+psycopg://lab@127.0.0.1:{port}/lab")
        try:
            joined, took = timed(lambda: store.join("ABCDEFGH"))
            assert joined is False and not store.healthy
            assert took < answers.PG_CONNECT_TIMEOUT + 1.5
            calls = [lambda: store.record("ABCDEFGH", new_student_id(), "ex2", "works", False),
                     lambda: store.tally("ABCDEFGH", "ex2"), lambda: store.start_class(),
                     lambda: store.revealed("ABCDEFGH", "ex2"), lambda: store.join("ABCDEFGH")]
            results = [timed(call) for call in calls]
            assert [result for result, _ in results] == [
                Recorded.UNKNOWN_CLASS, None, None, False, False]
            print(f"{server} port: first call {took:.2f} s, then "
                  f"{max(t for _, t in results) * 1e3:.2f} ms at most")
            assert all(took < FAST for _, took in results)
        finally:
            store.close(timeout=0.5)


def test_reveal_is_seen_by_every_page_and_reset_opens_a_second_vote(make_store):
    store = make_store()
    new = store.start_class()
    students = [new_student_id() for _ in range(4)]
    for student in students:
        assert store.record(new.code, student, "ex2", "works", False) is Recorded.QUEUED
        assert store.record(new.code, student, "ex1.0", "right", True) is Recorded.QUEUED
        assert store.record(new.code, student, "ex1.1", "chain", False) is Recorded.QUEUED
    assert store.flush(5)
    assert store.reveal(new.code, new.instructor_key, "ex2")
    assert store.revealed(new.code, "ex2") and not store.revealed(new.code, "ex1.0")
    assert store.tally(new.code, "ex2").revealed
    assert store.reveal(new.code, new.instructor_key, "ex2")            # twice: still one
    assert store.reveal(new.code, new.instructor_key, "ex1")
    assert store.revealed(new.code, "ex1.4") and store.revealed(new.code, "ex1")
    reset_at = now_utc()
    assert store.reset(new.code, new.instructor_key, "ex2", now=reset_at)
    tally = store.tally(new.code, "ex2")
    assert (tally.total, tally.revealed, tally.round) == (0, False, 1)
    assert store.state(new.code, "ex2").round == 1 and not store.revealed(new.code, "ex2")
    assert store.tally(new.code, "ex1.0").total == 4                     # untouched
    # An answer given before the reset but written after it does not count.
    late = students[0]
    assert store.record(new.code, late, "ex2", "works", False,
                        now=reset_at - timedelta(seconds=1)) is Recorded.QUEUED
    assert store.record(new.code, students[1], "ex2", "runtime_error", True,
                        now=reset_at + timedelta(seconds=1)) is Recorded.QUEUED
    assert store.flush(5)
    tally = store.tally(new.code, "ex2")
    assert (tally.total, dict(tally.counts), tally.right) == (
        1, {"works": 0, "runtime_error": 1}, 1)
    assert store.record(new.code, late, "ex2", "runtime_error", True,
                        now=reset_at + timedelta(seconds=2)) is Recorded.QUEUED
    assert store.flush(5)
    assert store.tally(new.code, "ex2").total == 2
    # A question asked per element is reset as a whole.
    assert store.reset(new.code, new.instructor_key, "ex1.3")
    assert store.tally(new.code, "ex1.0").total == store.tally(new.code, "ex1.1").total == 0
    assert store.state(new.code, "ex1.0").round == 1
    assert store.reset(new.code, new.instructor_key, "ex2")
    assert store.state(new.code, "ex2").round == 2
    assert not store.reveal(new.code, new.instructor_key, "nope")


def test_revealed_costs_one_query_per_second_for_a_whole_class(make_store):
    instructor = make_store()
    pages = make_store(state_ttl=1.0)            # the replica every student's page asks
    new = instructor.start_class()
    queries = []
    event.listen(pages.engine, "before_cursor_execute",
                 lambda *args: queries.append(args[2]) if "lab_questions" in args[2] else None)
    seen, stop = [], threading.Event()

    def student_page(question: str):
        while not stop.is_set():
            seen.append((time.monotonic(), pages.revealed(new.code, question)))
            time.sleep(0.02)

    threads = [threading.Thread(target=student_page, args=(("ex2", "learning")[n % 2],))
               for n in range(150)]
    [thread.start() for thread in threads]
    time.sleep(0.5)
    revealed_at = time.monotonic()
    assert instructor.reveal(new.code, new.instructor_key, "ex2")
    assert instructor.revealed(new.code, "ex2")          # the instructor's own process: now
    time.sleep(1.8)
    stop.set()
    [thread.join() for thread in threads]
    assert len(seen) > 1000
    assert len(queries) <= 4, len(queries)               # ~2.3 s at one query per second
    # Each page saw it within the cache's second (plus the slack of a loaded machine).
    first_seen = min(at for at, shown in seen if shown)
    assert first_seen - revealed_at < 1.5
    assert not any(shown for at, shown in seen if at < revealed_at)


def test_the_tally_is_shared_by_every_view_for_its_ttl(make_store):
    store = make_store(tally_ttl=1.0)
    code = store.start_class().code
    queries = []
    event.listen(store.engine, "before_cursor_execute",
                 lambda *args: queries.append(1) if "lab_answers" in args[2] else None)
    first = store.tally(code, "ex2")
    assert store.record(code, new_student_id(), "ex2", "works", False) is Recorded.QUEUED
    assert store.flush(5)
    views = [store.tally(code, "ex2") for _ in range(150)]
    assert all(view is first for view in views) and first.total == 0
    count = len(queries)
    time.sleep(1.05)
    assert store.tally(code, "ex2").total == 1
    assert len(queries) > count
    with pytest.raises(TypeError):
        first.counts["works"] = 99                          # shared: read-only


def test_expired_classes_are_deleted_with_all_their_rows(make_store, monkeypatch):
    store = make_store()
    old, kept = store.start_class(), store.start_class(now=now_utc(3600))
    for new in (old, kept):
        assert store.record(new.code, new_student_id(), "ex2", "works", False) is \
            Recorded.QUEUED
    assert store.flush(5)
    assert store.reveal(old.code, old.instructor_key, "ex2")
    assert store.reveal(kept.code, kept.instructor_key, "ex2")
    just_before = old.expires_at - timedelta(seconds=1)
    assert store.expire(now=just_before) == 0
    after = old.expires_at + timedelta(seconds=1)
    assert store.record(old.code, new_student_id(), "ex2", "works", False, now=after) is \
        Recorded.UNKNOWN_CLASS
    assert not store.join(old.code, now=after)
    assert store.expire(now=after) == 1
    counts = dict(answers.all_rows(store.engine))
    assert counts == {"lab_meta": 1, "lab_classes": 1, "lab_answers": 1, "lab_questions": 1}
    assert rows(store, answers.answers, class_code=old.code) == []
    assert rows(store, answers.question_states, class_code=old.code) == []
    assert not store.join(old.code) and not make_store().join(old.code)
    assert store.join(kept.code)


def test_the_writer_sweeps_expired_classes_by_itself(make_store, monkeypatch):
    monkeypatch.setattr(answers, "EXPIRE_EVERY", 0.2)
    store = make_store(class_hours=1 / 3600)              # a class of one second
    new = store.start_class()
    assert store.record(new.code, new_student_id(), "ex2", "works", False) is Recorded.QUEUED
    assert store.flush(5)
    assert wait_for(lambda: rows(store, answers.classes) == [], timeout=5)
    assert rows(store, answers.answers) == []


def test_the_schema_holds_nothing_personal(make_store):
    store = make_store()
    store.start_class()
    inspector = sa.inspect(store.engine)
    columns = {table: sorted(column["name"] for column in inspector.get_columns(table))
               for table in inspector.get_table_names()}
    assert columns == {
        "lab_meta": ["name", "value"],
        "lab_classes": ["code", "created_at", "expires_at", "key_hash"],
        "lab_answers": ["answered_at", "class_code", "correct", "option", "question",
                        "student"],
        "lab_questions": ["class_code", "opened_at", "question", "revealed", "round"],
    }
    assert rows(store, answers.meta) == [("schema_version", str(answers.SCHEMA_VERSION))]
    for table in ("lab_answers", "lab_questions"):
        (foreign,) = inspector.get_foreign_keys(table)
        assert foreign["referred_table"] == "lab_classes"
        assert foreign["options"].get("ondelete") == "CASCADE"
    assert sorted(inspector.get_pk_constraint("lab_answers")["constrained_columns"]) == [
        "class_code", "question", "student"]


def start_together(stores: list[Store]) -> list:
    """Each store starts a class at the same moment, from its own thread: what they got."""
    barrier = threading.Barrier(len(stores))
    started = []

    def start(store: Store):
        barrier.wait()
        started.append(store.start_class())

    threads = [threading.Thread(target=start, args=(store,)) for store in stores]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]
    return started


def test_replicas_starting_together_on_a_new_database_make_the_tables_once(make_store):
    stores = [make_store() for _ in range(8)]
    started = start_together(stores)
    assert all(started) and len(started) == 8, [store.last_error for store in stores]
    assert all(store.healthy for store in stores)
    assert dict(answers.all_rows(stores[0].engine))["lab_classes"] == 8


def test_a_store_refuses_tables_of_another_schema_version(make_store):
    store = make_store()
    assert store.start_class() is not None
    with store.engine.begin() as connection:
        connection.execute(sa.update(answers.meta).values(value="99"))
    later = make_store()
    assert later.start_class() is None and not later.healthy
    assert "schema version 99" in later.last_error


# ---- two replicas ---------------------------------------------------------------------------

def replica(url: str, code: str, first: int, count: int, key: str = "") -> None:
    """One replica of the lab (run in its own process): ``count`` students answer."""
    store = Store(url, state_ttl=0.0)
    assert store.join(code)
    options = questions.QUESTIONS["ex2"].options
    outcomes = [store.record(code, f"{number:016x}", "ex2", options[number % 2],
                             options[number % 2] == "runtime_error")
                for number in range(first, first + count)]
    assert store.flush(20)
    if key:
        assert store.reveal(code, key, "ex2")
    print(json.dumps({"outcomes": [outcome.value for outcome in outcomes],
                      "healthy": store.healthy}))
    store.close()


def test_two_replicas_count_one_class_together(make_store, url):
    here = make_store(state_ttl=0.5)
    new = here.start_class()
    assert not here.revealed(new.code, "ex2")
    runs = [subprocess.Popen(
        [sys.executable, "-c", "import sys; from tests.test_answers import replica; "
         "replica(*sys.argv[1:3], int(sys.argv[3]), int(sys.argv[4]), *sys.argv[5:])",
         url, new.code, str(first), "75", *keys],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for first, keys in ((0, ()), (75, (new.instructor_key,)))]
    reports = []
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    assert all(report["outcomes"] == ["queued"] * 75 and report["healthy"]
               for report in reports)
    tally = here.tally(new.code, "ex2")
    assert (tally.total, dict(tally.counts), tally.right) == (
        150, {"works": 75, "runtime_error": 75}, 75)
    assert wait_for(lambda: here.revealed(new.code, "ex2"), timeout=2)


@quick
def test_sqlite_replicas_opening_a_new_file_together_never_find_it_locked(tmp_path):
    """Switching a new file to WAL takes a lock SQLite's busy timeout does not wait for: 1 in
    20 starts of 8 replicas failed with "database is locked" before lab.answers retried it."""
    for trial in range(30):
        stores = [Store(f"sqlite:///{tmp_path}/{trial}.sqlite3", tally_ttl=0.0, state_ttl=0.0)
                  for _ in range(8)]
        started = start_together(stores)
        try:
            assert all(started) and len(started) == 8, (trial, [s.last_error for s in stores])
        finally:
            for store in stores:
                store.close()
