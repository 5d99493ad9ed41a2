"""Tuning of the server process the lab runs in, applied at the start of every full run.

Full garbage collections (README, "Performance"). With torch, sympy, plotly and pandas
loaded the process holds ~300,000 objects that live as long as it does, and a full
(generation 2) collection walks all of them: ~300 ms with the GIL held, measured here,
during which every session stalls. Python starts one by itself whenever enough objects
have survived younger collections, every few seconds under a lecture hall's load.
``gc.freeze()`` moves every object alive now to a permanent generation that collections
skip; a full collection then walks only what sessions created since. It runs again
whenever the process has imported new modules (the first visit of a page that imports
sympy, say), after one collection so that no garbage is frozen. ``LAB_GC_FREEZE=0`` in
the environment turns it off (for the benchmarks' "before").
"""

from __future__ import annotations

import gc
import os
import sys

_modules_at_freeze = 0


def freeze_after_imports() -> bool:
    """Freeze the heap if modules were imported since the last freeze; True if it did."""
    global _modules_at_freeze
    if len(sys.modules) == _modules_at_freeze or os.environ.get("LAB_GC_FREEZE") == "0":
        return False
    _modules_at_freeze = len(sys.modules)
    gc.collect()
    gc.freeze()
    return True


def tune() -> None:
    """Called at the start of every full run; cheap when there is nothing to do."""
    freeze_after_imports()
