"""A class's answers in the pages (issue 24): joining, the instructor's view, the answers
students commit to, and the reveal. The store is ``lab.answers``; the questions
``lab.questions``.

**Joining.** A student opens the join link (``?class=<code>``) or types the code in the
sidebar's "Class" section; the tab's session then holds a ``Membership`` with an opaque id
(``new_student_id``). An instructor presses "Start a class" (or opens the instructor's link,
``?class=<code>&teach=<key>``). The key is read once and taken out of the address at once
(``arrive``): it is never in the address bar a projector shows, in "Link to this state", in
a join link or a QR code; the sidebar shows the instructor's link once, behind an expander.
Whether a session is the instructor's is asked of the store (``is_instructor``) on every
run that draws an instructor's control, never taken from the session alone.

**A question in class.** ``gate(question)`` tells a page whether this session is in a
class and whether the instructor has revealed the question. Until then the answer is
*held* (peer instruction: vote, discuss, vote again, then see): the page's switch that
would show the answer sends the student's answer to the class instead (``commit``: only a
changed answer is sent, never on a mere rerun), and ``at_question`` says that the
instructor will reveal it. A reveal opens the gate for every student, answered or not; a
reset ("second vote") turns the page's switch off again, so that each student sends a new
answer on purpose.

**How a reveal reaches students.** A student whose page holds an answer runs one small
fragment every ``WATCH_EVERY`` seconds (``watch``, one per page however many questions it
holds) that asks the store whether those questions were revealed or reset
(``Store.state``: one query per class a second for the whole process, the rest from its
cache) and reruns the page when one was. Nothing polls once the answers show, nor outside
a class. Measured on a real server (the 2-core development machine, the protocol client
of ``bench``): a watch run costs 2-3 ms of CPU (a full run of page 4: 11-19 ms), so 150
waiting students cost 30 watch runs a second, 7-9 % of the process's one core. The instructor's panel polls the tallies every
``PANEL_EVERY`` seconds.

**The store down.** The lab keeps working: the gates open as without a class, and a
notice says that answers stay in the page (``Recorded.notice``).
"""

from __future__ import annotations

import base64
import hashlib
import html
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlencode

import streamlit as st

from lab import answers, questions, site
from lab.answers import Recorded
from lab.i18n import Message
from lab.ui import links
from lab.ui.verbatim import say

PANEL_EVERY = 1.0        # seconds between the instructor's tallies (the store's last 0.5 s)
WATCH_EVERY = 5.0        # seconds between a waiting student's looks at the reveal
_MEMBER = "lab.class"
_ARRIVAL = "lab.class_arrival"   # what opening a link did, shown at the top of the page
_NOTE = "lab.class_note"         # what the sidebar's buttons did, shown in the sidebar
_HELD = "lab.class_held"         # question -> round, held on the page of this full run
TYPED = "class_typed"            # the sidebar's box for a typed code (never in a link)


@dataclass
class Membership:
    """This browser tab's place in a class (its session's, nothing stored elsewhere)."""

    code: str
    student: str                           # lab.answers.new_student_id()
    key: str | None = None                 # the instructor's key: this tab teaches
    expires_at: datetime | None = None     # known to the session that started the class
    voted: dict[str, tuple] = field(default_factory=dict)   # answer id -> (round, option,
    rounds: dict[str, int] = field(default_factory=dict)    # token); question -> round seen
    notices: dict[str, Recorded] = field(default_factory=dict)   # question -> last outcome
    second: set[str] = field(default_factory=set)  # questions re-opened, not yet answered


@dataclass(frozen=True)
class Gate:
    """One question as this session sees it: in ``code``'s class (None: no class, or the
    store is down), as its ``instructor`` or not, ``revealed`` by the instructor, in vote
    ``round``, and re-opened for a ``second_vote`` this session has not answered yet."""

    code: str | None = None
    instructor: bool = False
    revealed: bool = False
    round: int = 0
    second_vote: bool = False

    @property
    def held(self) -> bool:
        """In a class and not revealed yet: the page keeps the answer back."""
        return self.code is not None and not self.revealed


def _tr(key: str, **values) -> str:
    return say(Message(key, **values), links.language())


def shown_code(code: str) -> str:
    """A code as people read it aloud: two groups of four."""
    return f"{code[:4]}-{code[4:]}"


def membership() -> Membership | None:
    return st.session_state.get(_MEMBER)


def teaching(member: Membership | None = None) -> bool:
    """Whether this session is its class's instructor: the store checks the key, now."""
    member = member or membership()
    return bool(member and member.key
                and answers.store().is_instructor(member.code, member.key))


def _whole(question: str) -> str:
    return questions.question(question, whole=True).id


def _link(code: str, key: str | None = None) -> str:
    """The page's join link (with ``key``: the instructor's link) in the page language."""
    page = site.BY_ID.get(links.drawn_page(), site.HOME)
    query = {"class": code, **({"teach": key} if key else {}), "lang": links.language()}
    return f"{links.page_address(page.url)}?{urlencode(query)}"


# ---- arriving: the address, the sidebar ----------------------------------------------------

def _member(code: str, key: str | None = None,
            expires_at: datetime | None = None) -> Membership:
    """This session in ``code``'s class: the same membership if it is already in it."""
    member = membership()
    if member is None or member.code != code:
        member = Membership(code, answers.new_student_id())
        st.session_state[_MEMBER] = member
    if key is not None:
        member.key, member.expires_at = key, expires_at or member.expires_at
    return member


def _one(raw: list[str]) -> str | None:
    return raw[0] if len(raw) == 1 else None


def arrive() -> None:
    """At the start of every page's full run: a join link or an instructor's link in the
    address joins (or is refused, with a message at the top of the page); then the address
    carries the class this session is in, and never an instructor's key."""
    arrival = None
    store = answers.store()
    raw = st.query_params.get_all("class")
    if raw and raw != links.written("class"):        # a link, or an edited address
        code = answers.normalise_code(_one(raw))
        if code is None or not store.join(code):
            arrival = Message("answers.bad_code" if code is None or store.healthy
                              else "answers.join_down")
        else:
            _member(code)
            arrival = Message("answers.joined", code=shown_code(code))
    key = _one(st.query_params.get_all("teach"))
    member = membership()
    linked_code = answers.normalise_code(_one(raw)) if raw else None
    if (key is not None and member is not None and member.code == linked_code
            and (arrival is None or arrival.key == "answers.joined")):
        if store.is_instructor(member.code, key):
            _member(member.code, key)
            arrival = None                           # the sidebar says "You teach …"
        else:
            arrival = Message("answers.bad_key", code=shown_code(member.code))
    st.session_state[_ARRIVAL] = arrival
    st.session_state[_HELD] = {}                     # the page's questions note theirs
    links.keep(links.CLASS[1], None)                 # the key leaves the address at once
    links.keep(links.CLASS[0], member.code if member else None)


def _start() -> None:
    new = answers.store().start_class()
    if new is None:
        st.session_state[_NOTE] = Message("answers.start_down")
        return
    _member(new.code, new.instructor_key, new.expires_at)
    st.session_state[_NOTE] = None


def _join_typed() -> None:
    store = answers.store()
    code = answers.normalise_code(st.session_state.get(TYPED))
    if code is None or not store.join(code):
        st.session_state[_NOTE] = Message("answers.bad_code" if code is None or store.healthy
                                          else "answers.join_down")
        return
    _member(code)
    st.session_state[_NOTE] = None
    st.session_state[TYPED] = ""


def _leave() -> None:
    st.session_state.pop(_MEMBER, None)
    st.session_state[_NOTE] = None


def _qr(link: str, css_class: str) -> None:
    """The join link's QR code: an image of the SVG (``st.html`` drops inline SVG), its
    text alternative the catalogue's."""
    svg = base64.b64encode(answers.qr_svg(link, links.language()).encode()).decode()
    alt = html.escape(_tr("answers.qr_title"), quote=True)
    st.html(f'<div class="{css_class}"><img src="data:image/svg+xml;base64,{svg}" '
            f'alt="{alt}"></div>')


def sidebar() -> None:
    """The sidebar's "Class" section: join or start a class; in one, which and how to
    leave; the instructor's join link, QR code and own link."""
    st.markdown(f"**{_tr('answers.class')}**")
    note = st.session_state.get(_NOTE)
    member = membership()
    if member is None:
        with st.form("class_join", border=False, enter_to_submit=True):
            st.text_input(_tr("answers.code_label"), key=TYPED, max_chars=32,
                          placeholder="ABCD-EFGH", autocomplete="off")
            st.form_submit_button(_tr("answers.join"), on_click=_join_typed)
        if note is not None:
            st.warning(say(note, links.language()), icon=":material/group_off:")
        st.caption(_tr("answers.join_help"))
        st.button(_tr("answers.start_class"), on_click=_start, icon=":material/groups:",
                  key="class_start")
        hours = f"{answers.store().class_seconds / 3600:g}"
        st.caption(_tr("answers.start_class_help", hours=hours))
        return
    if teaching(member):
        st.markdown(_tr("answers.teaching", code=shown_code(member.code)))
        link = _link(member.code)
        st.caption(_tr("answers.join_link"))
        st.code(link, language=None, wrap_lines=True)
        _qr(link, "lab-qr lab-qr-small")
        if member.expires_at is not None:
            when = member.expires_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            st.caption(_tr("answers.expires", time=when))
        with st.expander(_tr("answers.instructor_link_title"), icon=":material/key:"):
            st.caption(_tr("answers.instructor_link"))
            st.caption(_tr("answers.instructor_reopen"))
            st.code(_link(member.code, member.key), language=None, wrap_lines=True)
    else:
        st.markdown(_tr("answers.joined", code=shown_code(member.code)))
        store = answers.store()
        if store.healthy and not store.join(member.code):     # expired, or deleted
            st.warning(_tr("answers.notice_unknown_class"), icon=":material/group_off:")
    st.button(_tr("answers.leave"), on_click=_leave, icon=":material/logout:",
              key="class_leave")


def top() -> None:
    """Under the page's title: what a link did (joined, refused), and in lecture mode the
    instructor's projection of the join link, the code in large type and the QR code,
    in an expander whose label keeps the code in view once it is closed."""
    arrival = st.session_state.get(_ARRIVAL)
    if arrival is not None:
        joined = arrival.key == "answers.joined"
        (st.success if joined else st.warning)(
            say(arrival, links.language()),
            icon=":material/groups:" if joined else ":material/group_off:")
    member = membership()
    if not (links.value("lecture", False) and teaching(member)):
        return
    link, code = _link(member.code), shown_code(member.code)
    with st.expander(_tr("answers.project_title", code=code), expanded=True,
                     icon=":material/qr_code_2:"):
        picture, words = st.columns([1, 2], vertical_alignment="center")
        with picture:
            _qr(link, "lab-qr lab-qr-projected")
        with words:
            st.html(f'<p class="lab-class-code" aria-label="{code}">{code}</p>')
            st.code(link, language=None, wrap_lines=True)
            st.caption(_tr("answers.scan"))


# ---- a question in class ---------------------------------------------------------------------

def gate(question: str, commit: str | None = None) -> Gate:
    """Where ``question`` stands for this session. ``commit``: the key of the page's
    switch that sends the answer (and otherwise shows it), turned off when the instructor
    opens a second vote; without one (a program), only a new answer counts in a new vote.
    Call it before that switch is drawn."""
    member = membership()
    store = answers.store()
    if member is None or not store.healthy or not store.join(member.code):
        return Gate()
    whole = _whole(question)
    state = store.state(member.code, whole)
    seen = member.rounds.get(whole)
    member.rounds[whole] = state.round
    if seen is not None and seen != state.round:       # a second vote: answer again
        for answer_id in [a for a in member.voted if _whole(a) == whole]:
            if commit is None:
                member.voted[answer_id] = (state.round,) + member.voted[answer_id][1:]
            else:
                del member.voted[answer_id]
        if commit is not None:
            st.session_state[commit] = False
        member.notices.pop(whole, None)
        member.second.add(whole)
    return Gate(member.code, teaching(member), state.revealed, state.round,
                whole in member.second)


def commit(answer_id: str, option: str | None, correct: bool | None = None,
           token: str | None = None) -> Recorded | None:
    """Send a student's answer to ``answer_id`` to the class, unless it is the one already
    sent in this vote (``token``: what else makes it new, e.g. a program's text). ``correct``
    defaults to the registry's right options. Never blocks; the outcome is kept for
    ``at_question``. Nothing for an instructor, outside a class, or without an option."""
    member = membership()
    entry = questions.question(answer_id)
    if member is None or option is None or entry is None or member.key:
        return None
    whole = _whole(answer_id)
    current = (member.rounds.get(whole, 0), option, token)
    if member.voted.get(answer_id) == current:
        return None
    if correct is None:
        correct = entry.right is not None and option in entry.right
    outcome = answers.store().record(member.code, member.student, answer_id, option, correct)
    member.notices[whole] = outcome
    if outcome is Recorded.QUEUED:
        member.voted[answer_id] = current
        member.second.discard(whole)
    return outcome


def program_token(program: str) -> str:
    """What makes a program a new answer: its text (hashed; the text stays in the page)."""
    return hashlib.sha256(program.encode()).hexdigest()[:16]


def at_question(question: str, gate: Gate, sends: str = "answers.sends") -> None:
    """The class at the question's place: the instructor's live panel; for a student, what
    became of the answer sent, and while it is held, that the instructor will reveal it
    (noted for the page's ``watch``, which notices the reveal)."""
    member = membership()
    whole = _whole(question)
    if member is None:
        return
    if gate.code is None:                  # the store is down, or the class is over
        outcome = member.notices.get(whole)
        if outcome is not None and outcome is not Recorded.QUEUED:
            st.warning(_tr(outcome.notice), icon=":material/cloud_off:")
        return
    if gate.instructor:
        _panel(whole)
        if gate.held:
            st.caption(_tr("answers.instructor_waiting"))
        return
    if whole in member.second:                 # not gate.second_vote: answered since?
        st.info(_tr("answers.second_vote"), icon=":material/how_to_vote:")
    outcome = member.notices.get(whole)
    if outcome is Recorded.QUEUED:
        st.caption(f":material/check: {_tr(outcome.notice)}")
    elif outcome is not None:
        st.warning(_tr(outcome.notice), icon=":material/cloud_off:")
    if gate.held:
        st.info(f"{_tr('answers.waiting')}\n\n{_tr(sends, code=shown_code(gate.code))}",
                icon=":material/hourglass_top:")
        st.session_state.setdefault(_HELD, {})[whole] = gate.round


def watch() -> None:
    """At the end of a page's full run: one watch over the answers the page holds (a
    section's own rerun cannot change which: a reveal or a reset reruns the whole page)."""
    held = st.session_state.get(_HELD) or {}
    member = membership()
    if held and member is not None:
        _watch(member.code, tuple(sorted(held.items())))


@st.fragment(run_every=WATCH_EVERY)
def _watch(code: str, held: tuple[tuple[str, int], ...]) -> None:
    """Rerun the page once the instructor reveals a held question or opens a new vote."""
    store = answers.store()
    for question, round_ in held:
        state = store.state(code, question)
        if state.revealed or state.round != round_:
            st.rerun()


# ---- the instructor's view -------------------------------------------------------------------

def _label(entry: questions.Question, option: str, revealed: bool) -> str:
    right = revealed and entry.right is not None and option in entry.right
    return _tr(entry.option_key(option)) + (" ✓" if right else "")


def _bars(entry: questions.Question, tally: answers.Tally, revealed: bool) -> None:
    for option in entry.options:
        count = tally.counts.get(option, 0)
        share = count / tally.total if tally.total else 0.0
        st.progress(share, text=f"{_label(entry, option, revealed)}: **{count}**"
                                f" ({100 * share:.0f} %)")


def _parts(entry: questions.Question, tallies: list[answers.Tally], revealed: bool) -> None:
    """A question asked per element: one row per box, one column per option."""
    columns = {_tr("answers.part"): [f"∂y/∂x{i}" for i in range(entry.parts)]}
    for option in entry.options:
        columns[_label(entry, option, revealed)] = [t.counts.get(option, 0) for t in tallies]
    columns[_tr("answers.total")] = [t.total for t in tallies]
    st.table(columns, hide_index=True)


@st.fragment(run_every=PANEL_EVERY)
def _panel(question: str) -> None:
    """How the class answered ``question``, live, with "Reveal" and "Second vote"."""
    member = membership()
    store = answers.store()
    if not teaching(member):
        return
    entry = questions.question(question, whole=True)
    tallies = [store.tally(member.code, answer_id) for answer_id in questions.answer_ids(entry)]
    with st.container(border=True, key=f"class_panel_{entry.id}"):
        st.markdown(f"**{_tr('answers.panel')}** · {_tr(entry.title_key)}")
        if any(tally is None for tally in tallies):
            st.warning(_tr("answers.notice_store_down"), icon=":material/cloud_off:")
            return
        revealed = tallies[0].revealed
        most = max(tally.total for tally in tallies)
        st.markdown(_tr("answers.answered", count=most) if most else _tr("answers.none_yet"))
        if entry.parts:
            _parts(entry, tallies, revealed)
        else:
            _bars(entry, tallies[0], revealed)
        if revealed and most:
            right = sum(tally.right for tally in tallies)
            total = sum(tally.total for tally in tallies)
            st.caption(_tr("answers.right", right=right, total=total))
        with st.container(horizontal=True):
            reveal = st.button(_tr("answers.revealed" if revealed else "answers.reveal"),
                               key=f"class_reveal_{entry.id}", disabled=revealed,
                               type="primary", icon=":material/visibility:")
            reset = st.button(_tr("answers.reset"), key=f"class_reset_{entry.id}",
                              help=_tr("answers.reset_help"), icon=":material/replay:")
        done = None
        if reveal:
            done = store.reveal(member.code, member.key, entry.id)
        elif reset:
            done = store.reset(member.code, member.key, entry.id)
        if done:
            st.rerun()                     # the whole page: the instructor's own gate
        elif done is not None:
            st.error(_tr("answers.not_instructor"), icon=":material/block:")
