"""Page 7's view: one classic mistake as a live experiment, with PyTorch's words verbatim."""

from __future__ import annotations

import streamlit as st

from lab.i18n import localized
from lab.mistakes import MistakeRun
from lab.ui.shell import lang, tr
from lab.ui.views import pytorch_said

# The toggle of each experiment: its URL parameter name.
TOGGLES = {"accumulate": "acc", "twice": "twice", "vector": "vec", "nonleaf": "leaf",
           "no_grad": "nograd", "detach": "detach", "target": "target", "inplace": "inplace",
           "leaf_update": "leafstep", "numpy": "numpy", "integer": "int"}


# Where a mistake comes up again: (page, catalogue key of the link's label, icon).
RELATED = {"integer": ("pages/1_tensors.py", "mistakes.integer_link", ":material/data_array:"),
           "leaf_update": ("pages/8_learning.py", "mistakes.leaf_update_link",
                           ":material/trending_down:")}


def related_link(key: str) -> None:
    """A link to the page where this mistake comes up again, if there is one."""
    if key in RELATED:
        page, label, icon = RELATED[key]
        st.page_link(page, label=tr(label), icon=icon)


def mistake_toggle(key: str) -> bool:
    """On (the default): the experiment makes the mistake; off: the fixed version runs."""
    return st.toggle(tr(f"mistakes.{key}_toggle"), True, key=TOGGLES[key], bind="query-params")


def experiment(result: MistakeRun) -> None:
    """What the version printed, warned or raised, why, the fix, and the code that ran."""
    left, right = st.columns([1, 1])
    with left:
        if result.output or not result.error:
            st.markdown(tr("mistakes.printed"))
            st.code(result.output or tr("mistakes.no_output"), language=None, wrap_lines=True)
        if result.warning:
            st.warning(f"{tr('mistakes.warned')}\n\n"
                       + pytorch_said("UserWarning", result.warning), icon=":material/warning:")
        if result.error:
            st.error(f"{tr('mistakes.raised')}\n\n"
                     + pytorch_said(result.error_type, result.error), icon=":material/error:")
        st.markdown(f"**{tr('app.why')}** {tr(f'mistakes.{result.key}_why')}")
        st.markdown(f"**{tr('app.fix')}** {tr(f'mistakes.{result.key}_fix')}")
    with right:
        # its comments in the page's language (lab.i18n.comment)
        st.code(localized(result.code, lang()), language="python", wrap_lines=True)
