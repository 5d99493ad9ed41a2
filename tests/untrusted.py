"""Crafted links for the untrusted-text tests (AppTest and browser): payloads, the URL
parameters the lab defines on each page, and the page states that show every widget."""

from __future__ import annotations

from lab.site import PAGES
from lab.ui.links import EVERY_PAGE, params

MARK = "PWN"                                  # every payload carries it
ADDRESSES = ("example.invalid", "127.0.0.1:9")   # addresses named in the payloads
HIDDEN = "\u202e\u202d\u2066\u200b\u200d\u200f\ufeff"   # bidi controls, zero-width marks
LONG = MARK + "A" * 5000
PAYLOADS = (
    f"[{MARK}](https://example.invalid/login)",
    f"![{MARK}](http://127.0.0.1:9/x.png)",
    f'<img src="http://127.0.0.1:9/i.png" alt="{MARK}">',
    f"<script>{MARK}()</script><b>{MARK}</b>",
    f"$\\Huge {MARK}$ $$\\text{{{MARK}}}$$",
    f"https://example.invalid/{MARK}",
    f"www.{MARK}.example.invalid",
    f"{MARK}\u202egnp.exe\u202d \u2066x\u200b\u200d\u200f\ufeff",
    f":red[{MARK}] :material/home: **{MARK}** `{MARK}` ``{MARK}``",
    f"x + www.{MARK}.example.invalid",          # a formula that names an address
    f"1, https://example.invalid/{MARK}, 2",     # a value list with one
    f"{MARK}\n# heading\n\n> quote",
    LONG,
)

# Every URL parameter each page declares (lab.ui.links, the one table), besides the
# language and lecture mode that every page has (SIDEBAR).
SIDEBAR = tuple(param.name for param in EVERY_PAGE)
PARAMETERS = {page.url: tuple(param.name for param in params(page.id)
                              if param.name not in SIDEBAR) for page in PAGES}
# The text boxes of each page: typed into in the tests (ex2_why is private: never in a link).
TEXT_BOXES = {"tensors": ("values", "cell"), "backward": tuple(f"ex1_{i}" for i in range(6)),
              "exercises": ("ex2_why", "ex2_code", "ex3_code"), "playground": ("f", "xs"),
              "code": ("program",), "inside_backward": ("f", "xs", "program")}
# Page states that show the widgets the defaults hide (a parameter fixed by a state
# gets no payload in it).
STATES = {
    "backward": ({}, {"backward": "true", "n": "6"}),
    "learning": ({}, {"reveal": "true"}),
    "exercises": ({}, {"exercise": "2", "ex2_guess": "error", "ex2_check": "true"},
                  {"exercise": "3", "ex3_reference": "true",
                   "ex3_code": "import torch\nx = torch.arange(1, 6)"}),
    "playground": ({}, {"xm": "torch.tensor"}),
    "inside_backward": ({}, {"comp": "formula"}, {"comp": "ex3"}, {"comp": "program"}),
    "mistakes": ({}, {f"{key}_run": "true" for key in
                      ("acc", "twice", "vec", "leaf", "nograd", "inplace")}),
}


# The text boxes each state shows: (page, index in its STATES) -> keys.
SHOWN_BOXES = {("tensors", 0): ("values", "cell"),
               ("backward", 0): TEXT_BOXES["backward"][:3],
               ("backward", 1): TEXT_BOXES["backward"],
               ("exercises", 1): ("ex2_code",), ("exercises", 2): ("ex3_code",),
               ("playground", 0): ("f",), ("playground", 1): ("f", "xs"),
               ("code", 0): ("program",), ("inside_backward", 1): ("f", "xs"),
               ("inside_backward", 3): ("program",)}


def states(url: str) -> tuple[dict, ...]:
    return STATES.get(url, ({},))


def name_groups(size: int) -> list[tuple[str, ...]]:
    """The payloads in groups small enough for the notice to list every name."""
    return [PAYLOADS[i:i + size] for i in range(0, len(PAYLOADS), size)]


def crafted_query(url: str, state: dict, rotation: int) -> dict:
    """Every parameter of the page holds a payload, shifted by ``rotation``: over
    len(PAYLOADS) rotations each parameter gets each payload."""
    free = [name for name in SIDEBAR + PARAMETERS[url] if name not in state]
    query = dict(state)
    for i, name in enumerate(free):
        query[name] = PAYLOADS[(i + rotation) % len(PAYLOADS)]
    return query


def outside_code_spans(markdown: str) -> tuple[str, list[str]]:
    """(the text outside code spans, the contents of the code spans), as CommonMark reads
    them: a run of n backticks opens a span that the next run of exactly n closes; a
    backslash outside a span escapes the next character."""
    outside, spans, i = [], [], 0
    while i < len(markdown):
        char = markdown[i]
        if char == "\\" and i + 1 < len(markdown):
            outside.append(markdown[i:i + 2])
            i += 2
            continue
        if char != "`":
            outside.append(char)
            i += 1
            continue
        end = i
        while end < len(markdown) and markdown[end] == "`":
            end += 1
        run, close, k = end - i, None, end
        while k < len(markdown):
            if markdown[k] != "`":
                k += 1
                continue
            stop = k
            while stop < len(markdown) and markdown[stop] == "`":
                stop += 1
            if stop - k == run:
                close = k
                break
            k = stop
        if close is None:                 # no closing run: the backticks are literal
            outside.append(markdown[i:end])
            i = end
            continue
        spans.append(markdown[end:close])
        outside.append(" ")
        i = close + run
    return "".join(outside), spans
