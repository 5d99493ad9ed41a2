"""A class's answers, live: the store behind the instructor's view.

An instructor starts a class (``Store.start_class``) and projects its join link, short
code and QR code (``qr_svg``); students who open the link join it for their browser tab's
session (``join``) and every answer they commit to is recorded (``record``): one current
answer per student and question, a later one replacing it. The instructor's view, behind a
secret key, polls the distribution (``tally``), reveals a question to the whole class
(``reveal``; every student's page asks ``revealed``) or resets it for a second vote
(``reset``). Classes expire (``LAB_CLASS_HOURS``, 24 by default) and their rows go with
them (``expire``).

Nothing personal is stored: a student is an opaque random id made per browser tab
(``new_student_id``), an answer is a question id, one of the registry's options
(``lab.questions``), right or wrong, and a time. No names, no addresses, no free text.

One interface over SQLAlchemy Core: a SQLite file by default (WAL, a busy timeout, foreign
keys on), PostgreSQL by one setting (``LAB_DATABASE_URL=postgresql+psycopg://…``), which
is what several replicas share. A page run never waits for a write and never sees an
exception: ``record`` validates, rate-limits and puts the answer on a bounded queue that
one background thread drains in batches; a store that fails marks itself down
(``healthy``, ``last_error``), answers ``"store_down"`` at once, and the writer probes it
with backoff until it answers again. Reads (``tally``, ``revealed``) go to the database
directly, through short in-process caches, so that a class of 150 polling pages costs about
one query per second.

No I/O at import, none in ``Store()`` or ``store()``: the first call that needs the
database connects and creates the tables.
"""

from __future__ import annotations

import atexit
import enum
import hashlib
import hmac
import logging
import os
import queue
import re
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Iterator, Mapping

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.dialects import postgresql, sqlite

from lab import questions
from lab.i18n import t

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1            # lab_meta's "schema_version"; bump with any change of table
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"      # no 0/O, 1/I/L
CODE_LENGTH = 8               # 31**8 ≈ 8.5·10¹¹ codes: a class cannot be guessed
KEY_MAX = 100                 # characters of an instructor key worth hashing at all
STUDENT_ID = re.compile(r"[0-9a-f]{16,64}")            # new_student_id(): 16 hex digits
CLASS_HOURS = 24.0            # a class's lifetime unless LAB_CLASS_HOURS says otherwise
QUEUE_SIZE = 2000             # answers waiting for the writer; past it record() is "busy"
BATCH = 500                   # answers per write
RATE = (10, 10.0)             # a student's writes: at most 10 in any 10 s (a token bucket)
TALLY_TTL = 0.5               # seconds a tally is reused by every view of this process
STATE_TTL = 1.0               # seconds a class's reveals are reused by every page
CLASS_TTL = 1.0               # seconds a class looked up (or found missing) is reused
BUSY_TIMEOUT = 5.0            # seconds SQLite waits for another writer's lock
PG_CONNECT_TIMEOUT = 3        # seconds (libpq's minimum is 2)
PG_STATEMENT_TIMEOUT_MS = 3000
BACKOFF = (0.25, 15.0)        # seconds between probes of a store that is down: first, last
EXPIRE_EVERY = 300.0          # seconds between the writer's sweeps of expired classes
DEFAULT_DIR = "~/.autograd-lab"
SQLITE_FILE = "answers.sqlite3"


class Recorded(str, enum.Enum):
    """What ``record`` did with an answer; ``notice`` is the catalogue key that tells the
    student."""

    QUEUED = "queued"                # on its way to the store
    INVALID = "invalid"              # not a question, option, student id or bool we know
    RATE_LIMITED = "rate_limited"    # this student wrote too often: try again shortly
    UNKNOWN_CLASS = "unknown_class"  # no such class here (never joined, or expired)
    STORE_DOWN = "store_down"        # the store is not reachable: the answer stays in the page
    BUSY = "busy"                    # the writer's queue is full: try again shortly

    @property
    def notice(self) -> str:
        return f"answers.notice_{self.value}"


@dataclass(frozen=True)
class NewClass:
    """A class just started: its code (for the join link), the instructor's key (shown
    once, in the instructor's link; the store keeps only its hash) and when it expires."""

    code: str
    instructor_key: str
    expires_at: datetime


@dataclass(frozen=True)
class Tally:
    """How a class answered one question: ``total`` students, ``counts`` per option (every
    option of the question, 0 included), ``right`` of them right, whether the question is
    ``revealed``, and its ``round`` (0, then 1 after the first reset, ...)."""

    total: int
    counts: Mapping[str, int]       # read-only: one tally is shared by every view
    right: int
    revealed: bool
    round: int = 0


@dataclass(frozen=True)
class QuestionState:
    """What the instructor decided for one question: revealed or not, and which vote."""

    revealed: bool = False
    round: int = 0
    opened_at: float = 0.0        # the last reset (epoch seconds): older answers don't count


@dataclass(frozen=True)
class _Class:
    key_hash: str
    expires_at: float


@dataclass(frozen=True)
class _Answer:
    class_code: str
    student: str
    question: str
    option: str
    correct: bool
    answered_at: float


# -- codes, keys, ids ---------------------------------------------------------------------
def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(typed: object) -> str | None:
    """A class code as typed or read from a link, in its canonical form, or None.

    Case, spaces and hyphens don't matter ("abcd-efgh" is "ABCDEFGH"); a character the
    alphabet leaves out because it looks like another (0 O 1 I L) is refused, not guessed.
    """
    if not isinstance(typed, str) or len(typed) > 4 * CODE_LENGTH:
        return None
    code = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", typed)).upper()
    if len(code) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in code):
        return None
    return code


def new_student_id() -> str:
    """An opaque id for one browser tab's session: 16 random hex digits, nothing else."""
    return secrets.token_hex(8)


def key_hash(key: str) -> str:
    """What the store keeps of an instructor key: its SHA-256 (the key is 192 random bits,
    too many to guess, so no pepper is needed, and every replica checks it alike)."""
    return hashlib.sha256(key.encode()).hexdigest()


def _epoch(now: datetime | None) -> float:
    return time.time() if now is None else now.timestamp()


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:300]


# -- the schema -----------------------------------------------------------------------------
metadata = sa.MetaData()

meta = sa.Table(
    "lab_meta", metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("value", sa.String(100), nullable=False),
)
classes = sa.Table(
    "lab_classes", metadata,
    sa.Column("code", sa.String(CODE_LENGTH), primary_key=True),
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),        # epoch seconds
    sa.Column("expires_at", sa.Double, nullable=False, index=True),
)
answers = sa.Table(
    "lab_answers", metadata,
    sa.Column("class_code", sa.String(CODE_LENGTH),
              sa.ForeignKey("lab_classes.code", ondelete="CASCADE"), primary_key=True),
    sa.Column("question", sa.String(questions.MAX_ID), primary_key=True),
    sa.Column("student", sa.String(64), primary_key=True),
    sa.Column("option", sa.String(40), nullable=False),
    sa.Column("correct", sa.Boolean, nullable=False),
    sa.Column("answered_at", sa.Double, nullable=False),
)
question_states = sa.Table(
    "lab_questions", metadata,
    sa.Column("class_code", sa.String(CODE_LENGTH),
              sa.ForeignKey("lab_classes.code", ondelete="CASCADE"), primary_key=True),
    sa.Column("question", sa.String(questions.MAX_ID), primary_key=True),
    sa.Column("round", sa.Integer, nullable=False),
    sa.Column("revealed", sa.Boolean, nullable=False),
    sa.Column("opened_at", sa.Double, nullable=False),
)


def default_url() -> str:
    """``LAB_DATABASE_URL``, else a SQLite file in ``LAB_DATA_DIR`` (or ``~/.autograd-lab``)."""
    url = os.environ.get("LAB_DATABASE_URL", "").strip()
    if url:
        return url
    folder = Path(os.environ.get("LAB_DATA_DIR", "").strip() or DEFAULT_DIR).expanduser()
    return f"sqlite:///{folder / SQLITE_FILE}"


def _class_hours() -> float:
    try:
        hours = float(os.environ.get("LAB_CLASS_HOURS", CLASS_HOURS))
    except ValueError:
        return CLASS_HOURS
    return hours if 0 < hours <= 24 * 30 else CLASS_HOURS


# -- small parts ----------------------------------------------------------------------------
class RateLimit:
    """A token bucket per student: ``burst`` writes at once, refilled at ``burst / per``
    a second. ``allow(student, at)`` takes a token if there is one."""

    def __init__(self, burst: int, per: float):
        self.burst, self.rate = burst, burst / per
        self.lock = threading.Lock()
        self.buckets: dict[str, tuple[float, float]] = {}     # student -> (tokens, at)

    def allow(self, student: str, at: float | None = None) -> bool:
        at = time.monotonic() if at is None else at
        with self.lock:
            tokens, last = self.buckets.get(student, (self.burst, at))
            tokens = min(self.burst, tokens + (at - last) * self.rate)
            if tokens < 1:
                self.buckets[student] = (tokens, at)
                return False
            self.buckets[student] = (tokens - 1, at)
            return True

    def forget_idle(self, at: float | None = None) -> None:
        """Drop the buckets that have refilled (they hold nothing a new one wouldn't)."""
        at = time.monotonic() if at is None else at
        full = self.burst / self.rate
        with self.lock:
            for student in [s for s, (_, last) in self.buckets.items() if at - last > full]:
                del self.buckets[student]


class TtlCache:
    """Values reused for ``ttl`` seconds, loaded by one thread at a time per key.

    While one thread reloads an expired value the others get the old one at once (a
    polling page never queues behind a slow database); only a key with no value yet makes
    them wait for the load.
    """

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic):
        self.ttl, self.clock = ttl, clock
        self.lock = threading.Lock()
        self.values: dict = {}          # key -> (value, loaded at)
        self.loading: dict = {}         # key -> the lock of the thread loading it

    def get(self, key, load: Callable[[], object]):
        with self.lock:
            hit = self.values.get(key)
            if hit is not None and self.clock() - hit[1] < self.ttl:
                return hit[0]
            gate = self.loading.setdefault(key, threading.Lock())
        if not gate.acquire(blocking=hit is None):
            return hit[0]                                   # being reloaded: the old value
        try:
            with self.lock:
                again = self.values.get(key)
            if again is not None and again is not hit and self.clock() - again[1] < self.ttl:
                return again[0]                             # loaded while this one waited
            value = load()
            with self.lock:
                self.values[key] = (value, self.clock())
                if len(self.values) > 10_000:
                    self._prune()
            return value
        finally:
            gate.release()
            with self.lock:
                if not gate.locked():
                    self.loading.pop(key, None)

    def peek(self, key):
        """The value last loaded for ``key``, however old (None: never loaded)."""
        with self.lock:
            hit = self.values.get(key)
        return None if hit is None else hit[0]

    def forget(self, match: Callable[[object], bool]) -> None:
        with self.lock:
            for key in [key for key in self.values if match(key)]:
                del self.values[key]

    def _prune(self) -> None:
        old = self.clock() - 10 * self.ttl
        for key in [key for key, (_, at) in self.values.items() if at < old]:
            del self.values[key]


# -- the store ------------------------------------------------------------------------------

def _write_ahead_log(cursor, patience: float) -> None:
    """SQLite's WAL mode, set once: the file keeps it. Switching to it takes a lock that
    SQLite does not wait for (its busy timeout does not apply there), so replicas opening a
    new file together retry for up to ``patience`` seconds (1 in 20 such starts failed)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except Exception as error:      # noqa: BLE001 - sqlite3's, re-raised unless "locked"
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)

class Store:
    """A class's answers in one database (see the module's docstring).

    Every public method is thread-safe, never raises for bad input or a failing database
    and, but for ``flush`` and ``close``, never waits for the background writer.
    ``url``: a SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://…``; a plain
    ``postgresql://`` means psycopg 3); None: ``default_url()``. The keywords tune limits
    and timings (tests make them small).
    """

    def __init__(self, url: str | None = None, *, queue_size: int = QUEUE_SIZE,
                 rate: tuple[int, float] = RATE, tally_ttl: float = TALLY_TTL,
                 state_ttl: float = STATE_TTL, busy_timeout: float = BUSY_TIMEOUT,
                 backoff: tuple[float, float] = BACKOFF, class_hours: float | None = None):
        self.class_seconds = 3600 * (class_hours or _class_hours())
        self.backoff = backoff
        self.limits = RateLimit(*rate)
        self.tallies = TtlCache(tally_ttl)
        self.states = TtlCache(state_ttl)
        self.classes = TtlCache(CLASS_TTL)          # one lookup for a class's many joins
        self._queue: queue.Queue[_Answer | None] = queue.Queue(maxsize=queue_size)
        self._known: dict[str, _Class] = {}         # classes this process has seen alive
        self._lock = threading.Lock()               # guards the fields below (no I/O held)
        self._preparing = threading.Lock()          # one thread creates the tables
        self._ready = False                         # tables created and version checked
        self._down_since: float | None = None
        self.last_error: str | None = None
        self._pending = 0                           # answers queued or held, not written
        self._settled = threading.Condition(self._lock)
        self._writer: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()              # cuts a backoff short (flush, close)
        url = url or default_url()
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        try:
            self.url = sa.make_url(url)
            self.engine: sa.Engine | None = self._engine(busy_timeout)
        except Exception as error:      # noqa: BLE001 - a bad setting: down for good, said once
            self.url, self.engine = None, None
            self._down_since = time.monotonic()
            self.last_error = _first_line(error)
            log.error("lab: no answers store (%s)", self.last_error)

    # -- connection --------------------------------------------------------------------
    def _engine(self, busy_timeout: float) -> sa.Engine:
        if self.url.get_backend_name() == "sqlite":
            engine = sa.create_engine(self.url, pool_timeout=busy_timeout,
                                      connect_args={"timeout": busy_timeout})

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_connection, _record):
                dbapi_connection.isolation_level = None     # transactions begin below
                cursor = dbapi_connection.cursor()
                cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
                _write_ahead_log(cursor, busy_timeout)
                cursor.execute("PRAGMA synchronous = NORMAL")
                cursor.execute("PRAGMA foreign_keys = ON")
                cursor.close()

            @event.listens_for(engine, "begin")
            def _begin(connection):
                # A write takes the lock at its start, so it waits for another writer
                # (busy_timeout) instead of failing when its snapshot turns out stale.
                immediate = connection.get_execution_options().get("write", False)
                connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

            return engine
        args = {}
        if self.url.get_backend_name() == "postgresql":
            args = {"connect_timeout": PG_CONNECT_TIMEOUT,
                    "options": f"-c statement_timeout={PG_STATEMENT_TIMEOUT_MS}",
                    "application_name": "autograd-lab"}
        return sa.create_engine(self.url, pool_pre_ping=True, pool_timeout=PG_CONNECT_TIMEOUT,
                                connect_args=args)

    def _connect(self, write: bool = False) -> "_Transaction":
        """A connection in a transaction (``write``: SQLite takes its write lock at once),
        the tables made first if this store has not yet checked them."""
        self._prepare()
        return self._connect_ready(write)

    def _connect_ready(self, write: bool = False) -> "_Transaction":
        connection = self.engine.connect()
        if write:
            connection = connection.execution_options(write=True)
        return _Transaction(connection)

    def _prepare(self) -> None:
        """Create the folder and the tables once, and check the schema's version."""
        if self._ready:
            return
        with self._preparing:
            if self._ready:
                return
            if self.url.get_backend_name() == "sqlite" and self.url.database not in (None, "",
                                                                                   ":memory:"):
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            for attempt in range(3):        # PostgreSQL replicas starting together may race
                try:                        # on CREATE (SQLite: one writer at a time)
                    with self._connect_ready(write=True) as connection:
                        metadata.create_all(connection, checkfirst=True)
                    break
                except (exc.IntegrityError, exc.ProgrammingError):
                    if attempt == 2:
                        raise
            with self._connect_ready(write=True) as connection:
                connection.execute(self._insert(meta).values(
                    name="schema_version", value=str(SCHEMA_VERSION)
                ).on_conflict_do_nothing(index_elements=["name"]))
                found = connection.scalar(sa.select(meta.c.value).where(
                    meta.c.name == "schema_version"))
            if found != str(SCHEMA_VERSION):
                raise RuntimeError(f"the answers' tables are at schema version {found}, "
                                   f"this lab reads version {SCHEMA_VERSION}")
            self._ready = True

    def _insert(self, table: sa.Table):
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            return postgresql.insert(table)
        if dialect == "sqlite":
            return sqlite.insert(table)
        raise RuntimeError(f"the answers store supports SQLite and PostgreSQL, not {dialect}")

    # -- health --------------------------------------------------------------------------
    @property
    def healthy(self) -> bool:
        """False from a failure of the database until the writer reaches it again."""
        return self._down_since is None

    def _failed(self, error: BaseException) -> None:
        with self._lock:
            first = self._down_since is None
            if first:
                self._down_since = time.monotonic()
            self.last_error = _first_line(error)
            self._ready = False                     # check the tables again on recovery
        if first:
            log.warning("lab: the answers store is down (%s); answers stay in the pages "
                        "until it answers again", self.last_error)
        self._start_writer()

    def _recovered(self) -> None:
        with self._lock:
            was = self._down_since
            self._down_since = None
        if was is not None:
            log.info("lab: the answers store is back after %.1f s", time.monotonic() - was)

    def _guarded(self, default, action: Callable[[], object]):
        """``action()``, or ``default`` when the store is down or the database fails."""
        if not self.healthy:
            return default
        try:
            return action()
        except Exception as error:      # noqa: BLE001 - a page never sees the store fail
            self._failed(error)
            return default

    # -- classes -------------------------------------------------------------------------
    def start_class(self, now: datetime | None = None) -> NewClass | None:
        """A new class (None when the store is down); expired classes are swept first."""
        def start():
            at = _epoch(now)
            self._expire(at)
            key = secrets.token_urlsafe(24)
            for _ in range(5):
                code = new_code()
                row = _Class(key_hash(key), at + self.class_seconds)
                try:
                    with self._connect(write=True) as connection:
                        connection.execute(sa.insert(classes).values(
                            code=code, key_hash=row.key_hash, created_at=at,
                            expires_at=row.expires_at))
                except exc.IntegrityError:
                    continue                                    # the code is taken
                with self._lock:
                    self._known[code] = row
                return NewClass(code, key, datetime.fromtimestamp(row.expires_at, timezone.utc))
            raise RuntimeError("five class codes in a row were taken")
        return self._guarded(None, start)

    def _live(self, code: str, at: float) -> _Class | None:
        """The live class with this (normalised) code: from memory (also while the store
        is down), else from the database, one lookup per code a second."""
        with self._lock:
            known = self._known.get(code)
        if known is None:
            known = self._guarded(None, lambda: self.classes.get(
                code, lambda: self._read_class(code)))
            if known is not None and known.expires_at > at:
                with self._lock:
                    self._known[code] = known
        return known if known is not None and known.expires_at > at else None

    def _read_class(self, code: str) -> _Class | None:
        with self._connect() as connection:
            row = connection.execute(sa.select(classes.c.key_hash, classes.c.expires_at)
                                     .where(classes.c.code == code)).first()
        return None if row is None else _Class(row.key_hash, row.expires_at)

    def join(self, code: object, now: datetime | None = None) -> bool:
        """Whether ``code`` is a live class a student can join. A class this process has
        not seen yet can't be joined while the store is down (``healthy`` tells)."""
        code = normalise_code(code)
        return code is not None and self._live(code, _epoch(now)) is not None

    def is_instructor(self, code: object, key: object, now: datetime | None = None) -> bool:
        """Whether ``key`` is the instructor key of the live class ``code``."""
        code = normalise_code(code)
        if code is None or not isinstance(key, str) or not 0 < len(key) <= KEY_MAX:
            return False
        row = self._live(code, _epoch(now))
        return row is not None and hmac.compare_digest(key_hash(key), row.key_hash)

    # -- answers -------------------------------------------------------------------------
    def record(self, code: object, student: object, question: object, option: object,
               correct: object, now: datetime | None = None) -> Recorded:
        """Queue one committed answer; never blocks, never raises (see ``Recorded``)."""
        try:
            entry = questions.question(question)
            if (not isinstance(student, str) or STUDENT_ID.fullmatch(student) is None
                    or entry is None or option not in entry.options
                    or type(correct) is not bool
                    or (entry.right is not None and correct != (option in entry.right))):
                return Recorded.INVALID
            code = normalise_code(code)
            at = _epoch(now)
            with self._lock:
                known = self._known.get(code)
            if known is None or known.expires_at <= at:
                return Recorded.UNKNOWN_CLASS
            if not self.healthy or self._stop.is_set():
                return Recorded.STORE_DOWN
            if not self.limits.allow(student):
                return Recorded.RATE_LIMITED
            with self._lock:
                self._pending += 1
            try:
                self._queue.put_nowait(_Answer(code, student, question, option, correct, at))
            except queue.Full:
                self._settle(1)
                return Recorded.BUSY
            self._start_writer()
            return Recorded.QUEUED
        except Exception as error:      # noqa: BLE001 - a page never sees the store fail
            log.exception("lab: record() failed: %s", _first_line(error))
            return Recorded.BUSY

    def tally(self, code: object, question: object) -> Tally | None:
        """The class's answers to one question, reused by every caller for ``TALLY_TTL``
        seconds (a code of no class: all zeros). None for what is not a class code or an
        answerable question id, and while the store is down."""
        code, entry = normalise_code(code), questions.question(question)
        if code is None or entry is None:
            return None
        return self._guarded(None, lambda: self.tallies.get(
            (code, question), lambda: self._read_tally(code, question, entry)))

    def _read_tally(self, code: str, question: str, entry: questions.Question) -> Tally:
        state = question_states
        with self._connect() as connection:
            decided = connection.execute(
                sa.select(state.c.revealed, state.c.round, state.c.opened_at)
                .where(state.c.class_code == code, state.c.question == entry.id)).first()
            rows = connection.execute(
                sa.select(answers.c.option, sa.func.count(),
                          sa.func.sum(sa.case((answers.c.correct, 1), else_=0)))
                .where(answers.c.class_code == code, answers.c.question == question,
                       answers.c.answered_at >= (decided.opened_at if decided else 0.0))
                .group_by(answers.c.option)).all()
        counts = dict.fromkeys(entry.options, 0)
        right = 0
        for option, count, correct in rows:
            if option in counts:                        # an option since removed: ignored
                counts[option] = count
                right += int(correct or 0)
        return Tally(sum(counts.values()), MappingProxyType(counts), right,
                     bool(decided and decided.revealed), decided.round if decided else 0)

    # -- the instructor's decisions -------------------------------------------------------
    def state(self, code: object, question: object) -> QuestionState:
        """Whether the instructor revealed ``question`` to the class, and which vote it is
        (a question with parts is decided as a whole: ``"ex1"`` and ``"ex1.3"`` alike).
        Every student's page asks it on every run: one query per class per ``STATE_TTL``
        seconds in this process, for all its questions at once."""
        code, entry = normalise_code(code), questions.question(question, whole=True)
        if code is None or entry is None:
            return QuestionState()
        last = self.states.peek(code) or {}          # while the store is down: the last seen
        states = self._guarded(last, lambda: self.states.get(
            code, lambda: self._read_states(code)))
        return states.get(entry.id, QuestionState())

    def revealed(self, code: object, question: object) -> bool:
        """Whether the instructor unlocked the reveal of ``question`` for the class."""
        return self.state(code, question).revealed

    def _read_states(self, code: str) -> dict[str, QuestionState]:
        state = question_states
        with self._connect() as connection:
            rows = connection.execute(
                sa.select(state.c.question, state.c.revealed, state.c.round, state.c.opened_at)
                .where(state.c.class_code == code)).all()
        return {row.question: QuestionState(bool(row.revealed), row.round, row.opened_at)
                for row in rows}

    def reveal(self, code: object, key: object, question: object,
               now: datetime | None = None) -> bool:
        """Unlock ``question``'s reveal for every student of the class; False if refused
        (not the instructor, not a question) or the store is down."""
        return self._decide(code, key, question, reset=False, now=now)

    def reset(self, code: object, key: object, question: object,
              now: datetime | None = None) -> bool:
        """A second vote on ``question``: its answers deleted, its reveal locked again, its
        round one more. Answers given before now and written later don't count."""
        return self._decide(code, key, question, reset=True, now=now)

    def _decide(self, code, key, question, reset: bool, now: datetime | None) -> bool:
        entry = questions.question(question, whole=True)
        if entry is None or not self.is_instructor(code, key, now):
            return False
        code = normalise_code(code)
        at = _epoch(now)
        state = question_states

        def write():
            decided = self._insert(state).values(
                class_code=code, question=entry.id, round=int(reset), revealed=not reset,
                opened_at=at if reset else 0.0)
            changes = ({"round": state.c.round + 1, "revealed": False, "opened_at": at}
                       if reset else {"revealed": True})
            with self._connect(write=True) as connection:
                if reset:
                    connection.execute(sa.delete(answers).where(
                        answers.c.class_code == code,
                        answers.c.question.in_(questions.answer_ids(entry))))
                connection.execute(decided.on_conflict_do_update(
                    index_elements=[state.c.class_code, state.c.question], set_=changes))
            self.states.forget(lambda cached: cached == code)
            self.tallies.forget(lambda cached: cached[0] == code)
            return True
        return self._guarded(False, write)

    # -- expiry ----------------------------------------------------------------------------
    def expire(self, now: datetime | None = None) -> int:
        """Delete the classes that expired by ``now`` and all their rows; how many classes
        (0 when the store is down)."""
        return self._guarded(0, lambda: self._expire(_epoch(now)))

    def _expire(self, at: float) -> int:
        with self._connect(write=True) as connection:
            gone = connection.execute(sa.delete(classes).where(classes.c.expires_at <= at))
        with self._lock:
            for code in [code for code, row in self._known.items() if row.expires_at <= at]:
                del self._known[code]
        return gone.rowcount or 0

    # -- the writer ------------------------------------------------------------------------
    def _start_writer(self) -> None:
        if self._writer is not None or self._stop.is_set() or self.engine is None:
            return
        with self._lock:
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_loop, daemon=True,
                                                name="lab-answers-writer")
                self._writer.start()

    def _write_loop(self) -> None:
        """Drain the queue in batches; while the store is down, probe it with backoff,
        holding the batch that failed (``record`` queues nothing meanwhile)."""
        held: list[_Answer] = []
        backoff = self.backoff[0]
        next_sweep = time.monotonic() + EXPIRE_EVERY
        while not self._stop.is_set():
            if not self.healthy:
                self._wake.wait(backoff)
                self._wake.clear()
                if self._stop.is_set():
                    break
                backoff = min(2 * backoff, self.backoff[1])
                if not self._probe(held):
                    continue
                backoff = self.backoff[0]
                self._settle(len(held))
                held = []
            if not held:
                held = self._take(timeout=0.5)
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + EXPIRE_EVERY
                self.expire()
                self.limits.forget_idle()
            if held and self._write(held):
                self._settle(len(held))
                held = []

    def _take(self, timeout: float) -> list[_Answer]:
        """The next batch: waits up to ``timeout`` for its first answer (a None in the
        queue, from ``close``, only wakes the writer)."""
        try:
            batch = [self._queue.get(timeout=timeout)]
        except queue.Empty:
            return []
        while len(batch) < BATCH:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return [answer for answer in batch if answer is not None]

    def _probe(self, held: list[_Answer]) -> bool:
        """Try the database again: the held batch, or a trivial query. True if it answered."""
        try:
            if held:
                self._write_batch(held)
            else:
                with self._connect() as connection:
                    connection.scalar(sa.select(1))
        except Exception as error:      # noqa: BLE001 - still down
            with self._lock:
                self.last_error = _first_line(error)
                self._ready = False
            return False
        self._recovered()
        return True

    def _write(self, batch: list[_Answer]) -> bool:
        """Write a batch; False (and the store marked down) when the database failed."""
        try:
            self._write_batch(batch)
        except (exc.SQLAlchemyError, OSError, RuntimeError) as error:
            self._failed(error)
            return False
        except Exception:               # noqa: BLE001 - a bug: logged, the batch dropped
            log.exception("lab: %d answers dropped", len(batch))
        return True

    def _write_batch(self, batch: list[_Answer]) -> None:
        """One transaction: the answers of live classes upserted, each (class, student,
        question) once, the latest; an answer older than the one stored changes nothing."""
        latest: dict[tuple[str, str, str], _Answer] = {}
        for answer in batch:
            key = (answer.class_code, answer.student, answer.question)
            if key not in latest or latest[key].answered_at <= answer.answered_at:
                latest[key] = answer
        codes = sorted({answer.class_code for answer in latest.values()})
        for attempt in range(2):
            try:
                with self._connect(write=True) as connection:
                    live = set(connection.scalars(sa.select(classes.c.code).where(
                        classes.c.code.in_(codes), classes.c.expires_at > time.time())))
                    rows = [{"class_code": a.class_code, "student": a.student,
                             "question": a.question, "option": a.option,
                             "correct": a.correct, "answered_at": a.answered_at}
                            for a in latest.values() if a.class_code in live]
                    if rows:
                        upsert = self._insert(answers).values(rows)
                        connection.execute(upsert.on_conflict_do_update(
                            index_elements=[answers.c.class_code, answers.c.question,
                                            answers.c.student],
                            set_={"option": upsert.excluded.option,
                                  "correct": upsert.excluded.correct,
                                  "answered_at": upsert.excluded.answered_at},
                            where=answers.c.answered_at <= upsert.excluded.answered_at))
                return
            except exc.IntegrityError:
                if attempt:             # a class expired between the check and the write
                    log.warning("lab: %d answers of an expired class dropped", len(latest))
                    return

    def _settle(self, count: int) -> None:
        with self._lock:
            self._pending -= count
            self._settled.notify_all()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued answer is written (True) or ``timeout`` passes (False)."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        with self._lock:
            while self._pending > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._settled.wait(min(left, 0.05))
        return True

    def close(self, timeout: float = 2.0) -> None:
        """Write what is queued (up to ``timeout``), stop the writer, close the connections."""
        if not self.flush(timeout):
            log.warning("lab: %d answers not written at close (%s)", self._pending,
                        self.last_error or "the store is slow")
        self._stop.set()
        self._wake.set()
        writer = self._writer
        if writer is not None:
            try:
                self._queue.put_nowait(None)        # wakes the writer waiting for answers
            except queue.Full:
                pass                                # it is busy: it will see the stop
            writer.join(timeout)
        if self.engine is not None:
            self.engine.dispose()


class _Transaction:
    """``with store._connect() as connection``: one transaction, committed at the end,
    rolled back on an error, the connection returned to the pool either way."""

    def __init__(self, connection: sa.Connection):
        self.connection = connection

    def __enter__(self) -> sa.Connection:
        try:
            self.transaction = self.connection.begin()
        except BaseException:
            self.connection.close()
            raise
        return self.connection

    def __exit__(self, kind, error, trace) -> None:
        try:
            if kind is None:
                self.transaction.commit()
            else:
                self.transaction.rollback()
        finally:
            self.connection.close()


# -- the QR code ------------------------------------------------------------------------------
def qr_svg(url: str, lang: str = "en") -> str:
    """The join link as an SVG QR code: dark modules on a light square with the quiet zone
    around it, sized by its container (a viewBox, no width or height), announced to screen
    readers as an image by its ``<title>``."""
    import segno        # only the instructor's view draws one

    code = segno.make(url, error="m", micro=False)
    svg = code.svg_inline(dark="#000000", light="#ffffff", border=4, omitsize=True,
                          title=t("answers.qr_title", lang), svgclass="lab-qr")
    return svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" role="img" ', 1)


# -- the process's store ------------------------------------------------------------------------
_store: Store | None = None
_store_lock = threading.Lock()


def store() -> Store:
    """This process's store, made at the first call (no I/O until it is used), written
    out at exit."""
    global _store
    if _store is None:
        with _store_lock:
            if _store is None:
                made = Store()
                atexit.register(made.close)
                _store = made
    return _store


def all_rows(engine: sa.Engine) -> Iterator[tuple[str, int]]:
    """How many rows each table holds (for tests and an operator's check)."""
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            yield table.name, connection.scalar(sa.select(sa.func.count()).select_from(table))
