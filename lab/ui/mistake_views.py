"""The mistakes page's views: one classic mistake as a card that asks first (predict, run,
compare), with PyTorch's words verbatim."""

from __future__ import annotations

import streamlit as st

from lab.i18n import localized
from lab.mistakes import EXPERIMENTS, MistakeRun
from lab.ui import cached
from lab.ui.links import linked
from lab.ui.shell import lang, tr
from lab.ui.views import pytorch_said, verdict


def index(keys) -> None:
    """Links to every card: the page is long, a student may come back for one."""
    st.markdown(f"**{tr('mistakes.index')}**\n\n" + "\n".join(
        f"{i}. [{tr(f'mistakes.{key}_title')}](#{EXPERIMENTS[key].param})"
        for i, key in enumerate(keys, start=1)))


def _program(result: MistakeRun) -> None:
    # its comments in the page's language (lab.i18n.comment)
    st.code(localized(result.code, lang()), language="python", wrap_lines=True)


def _what_it_did(result: MistakeRun) -> None:
    if result.output or not result.error:
        st.markdown(tr("mistakes.printed"))
        st.code(result.output or tr("mistakes.no_output"), language=None, wrap_lines=True)
    if result.warning:
        st.warning(f"{tr('mistakes.warned')}\n\n" + pytorch_said("UserWarning", result.warning),
                   icon=":material/warning:")
    if result.error:
        st.error(f"{tr('mistakes.raised')}\n\n" + pytorch_said(result.error_type, result.error),
                 icon=":material/error:")


def _verdict(key: str, guess: str | None, happened: str) -> None:
    said = tr(f"mistakes.{key}_{happened}")
    verdict(None if guess is None else guess == happened, tr("mistakes.right", said=said),
            tr("mistakes.wrong", guess=tr(f"mistakes.{key}_{guess}"), said=said),
            tr("mistakes.no_guess", said=said))


def card(key: str) -> bool:
    """One mistake: its program, the prediction, then (once run) what it did, the verdict,
    why, the fix and the fixed version. Returns whether the student has run it."""
    experiment = EXPERIMENTS[key]
    name = experiment.param
    with st.container(border=True):
        st.header(tr(f"mistakes.{key}_title"), anchor=name)
        mistake = cached.mistake_run(key, True)
        _program(mistake)
        labels = {option: tr(f"mistakes.{key}_{option}") for option in experiment.options}
        guess = linked(st.radio, name, label=tr("mistakes.predict"), options=experiment.options,
                       format_func=labels.get)
        if not linked(st.toggle, f"{name}_run", label=tr("mistakes.run")):
            return False
        _what_it_did(mistake)
        _verdict(key, guess, cached.mistake_outcome(key))
        st.markdown(f"**{tr('app.why')}** {tr(f'mistakes.{key}_why')}")
        st.markdown(f"**{tr('app.fix')}** {tr(f'mistakes.{key}_fix')}")
        if linked(st.toggle, f"{name}_fixed", label=tr("mistakes.run_fixed")):
            fixed = cached.mistake_run(key, False)
            _program(fixed)
            _what_it_did(fixed)
    return True
