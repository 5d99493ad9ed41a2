"""Issue 12, item 5: Spanish as a Spanish-speaking lecturer writes it.

PyTorch's English messages keep their words and get a Spanish translation beneath them on
Spanish pages (lab.glosses); generated code speaks the page's language in its comments.
"""

import itertools
import re
from pathlib import Path

import pytest

from lab import export, glosses, mistakes, tensors, training
from lab.cell import run_program
from lab.i18n import catalogue, localized, t
from lab.training import Loop
from tests.conftest import CODE, open_page

pytestmark = pytest.mark.quick

# ---- every message PyTorch can say on a page, glossed ----------------------------------------

# Page 1's values and dtypes that make PyTorch speak: an integer that requires grad,
# backward() without requires_grad, a complex y, values an integer dtype cannot hold.
PAGE_1_VALUES = ("2., 3.", "2, 3", "-1, 2", "1e40", "99999999999999999999999")


def page_1_messages() -> set[tuple[str, str]]:
    said = set()
    for values, dtype, requires_grad, backward in itertools.product(
            PAGE_1_VALUES, tensors.TENSOR_DTYPES, (False, True), (False, True)):
        report = tensors.inspect(values, dtype, requires_grad, backward)
        if report.error:
            said.add((report.error_type, report.error))
    return said


def every_message() -> set[tuple[str, str]]:
    """(kind, message) for everything PyTorch raises or warns on the lab's pages."""
    said = page_1_messages()
    exercise_2 = tensors.inspect("2, 3", tensors.INFERRED, True, False)       # page 4
    said.add((exercise_2.error_type, exercise_2.error))
    for key, mistake in itertools.product(mistakes.KEYS, (True, False)):      # page 7
        run = mistakes.run(key, mistake)
        if run.error:
            said.add((run.error_type, run.error))
        if run.warning:
            said.add(("UserWarning", run.warning))
    for loop in (Loop(no_grad=False), Loop(no_grad=False, zero_grad=False)):  # page 9
        run = training.train(loop)
        said.add((run.error_type, run.error))
    # the cell (pages 1, 4 and 6) shows any of PyTorch's messages, with why and the fix where
    # the lab has them: one it knows that no other page shows
    numpy = run_program("import torch\nx = torch.ones(2, requires_grad=True)\nx.numpy()")
    said.add((numpy.error.exception, numpy.error.text))
    return said


MESSAGES = sorted(every_message())


def test_the_lab_shows_each_kind_of_pytorch_message():
    """The list below is what the pages can show: if PyTorch stops saying one of them, or
    the lab stops showing it, this list (and its gloss) must be revisited."""
    keys = {glosses.recognise(message)[0] for _, message in MESSAGES}
    assert keys == {key for key in catalogue("en") if key.startswith("pytorch.")}
    assert ("ValueError", "Overflow when unpacking long long") in MESSAGES   # no traceback


@pytest.mark.parametrize("kind,message", MESSAGES, ids=[m[:40] for _, m in MESSAGES])
def test_every_pytorch_message_has_a_spanish_gloss(kind, message):
    spanish = glosses.gloss(message, "es")
    assert spanish and "{" not in spanish and "⟦" not in spanish
    assert glosses.gloss(message, "en") is None          # PyTorch's own language: no gloss


def test_a_gloss_carries_the_parts_that_vary():
    message = mistakes.run("inplace", True).error
    key, parts = glosses.recognise(message)
    assert key == "pytorch.inplace" and parts["op"] == "Exp" and parts["version"] == "1"
    assert "`Exp`" in glosses.gloss(message, "es")
    overflow = "value cannot be converted to type uint8 without overflow"
    assert glosses.gloss(overflow, "es") == (
        "el valor no se puede convertir al tipo `uint8` sin desbordamiento.")
    assert glosses.recognise("some message PyTorch never wrote") is None
    assert glosses.gloss(overflow + " and more", "es") is None     # a reworded message: no gloss


def shown_verbatim_with_gloss(body: str, kind: str, message: str, lang: str) -> bool:
    """The alert quotes PyTorch exactly and, in Spanish only, adds the translation."""
    translated = glosses.gloss(message, lang)
    glossed = translated is not None and t("app.gloss", lang, text=translated) in body
    return f"{kind}: {message}" in body and glossed == (lang == "es")


RUN_EVERY_MISTAKE = {f"{e.param}_run": "true" for e in mistakes.EXPERIMENTS.values()}


def test_the_mistakes_page_glosses_every_message_in_spanish_only():
    for lang in ("es", "en"):
        at = open_page("pages/8_mistakes.py", query={"lang": lang, **RUN_EVERY_MISTAKE})
        assert not at.exception
        alerts = [e.value for e in at.error] + [w.value for w in at.warning
                                                if "PyTorch" in w.value]
        shown = [(run.error_type, run.error) if run.error else ("UserWarning", run.warning)
                 for run in (mistakes.run(key, True) for key in mistakes.KEYS)
                 if run.error or run.warning]
        assert len(alerts) == len(shown)
        for kind, message in shown:
            assert any(shown_verbatim_with_gloss(body, kind, message, lang)
                       for body in alerts), (lang, message)
        assert ("En español" in "".join(alerts)) == (lang == "es")


@pytest.mark.parametrize("page,query,source", [
    ("pages/1_tensors.py", {"dtype": "int64", "requires_grad": "true"},
     lambda: tensors.inspect("2., 3.", "int64", True)),
    ("pages/1_tensors.py", {"backward": "true"},
     lambda: tensors.inspect("2., 3.", "float32", False, True)),
    ("pages/1_tensors.py", {"dtype": "int8", "values": "99999999999999999999999"},
     lambda: tensors.inspect("99999999999999999999999", "int8", False)),
    ("pages/4_exercises.py", {"exercise": "2", "ex2_guess": "error", "ex2_check": "true"},
     lambda: tensors.inspect("2, 3", tensors.INFERRED, True)),
    ("pages/9_learning.py", {"nograd": "true", "reveal": "true"},
     lambda: training.train(Loop(no_grad=False))),
], ids=["integer", "no-graph", "overflow", "exercise-2", "learning"])
@pytest.mark.parametrize("lang", ["es", "en"])
def test_pages_quote_pytorch_and_gloss_it_in_spanish(page, query, source, lang):
    at = open_page(page, query={"lang": lang, **query})
    assert not at.exception
    said = source()
    assert any(shown_verbatim_with_gloss(e.value, said.error_type, said.error, lang)
               for e in at.error)


# ---- generated code: comments in the page's language -------------------------------------------

def test_generated_code_comments_come_from_the_catalogue():
    codes = [mistakes.code(key, mistake)
             for key, mistake in itertools.product(mistakes.KEYS, (True, False))]
    codes += [training.code(Loop(sgd=sgd, zero_grad=zero, no_grad=no_grad))
              for sgd, zero, no_grad in itertools.product((False, True), repeat=3)]
    for code in codes:
        for lang in ("es", "en"):
            shown = localized(code, lang)
            assert not re.search(r"# \([a-z_]+\.[a-z_0-9]+\)", shown)      # every key found
        spanish = localized(code, "es")
        assert "saves its result" not in spanish and "gradient descent starts" not in spanish
    assert "# exp guarda su resultado para backward()" in localized(
        mistakes.code("twice", True), "es")


def test_exports_carry_their_header_in_the_pages_language():
    assert export.script("x = 1\n", "Título", "", "es").splitlines()[1] == (
        "# Exportado desde Autograd Lab")
    assert "Exported from Autograd Lab" in export.notebook("x = 1\n", "Title", "", "en")


# Pages in Spanish in states that show every generated comment (the learning page's three
# loops, the mistakes made and fixed, the inside of backward()'s retain_grad, page 3's
# drawing, page 5's f″).
SPANISH_STATES = [
    ("pages/3_torchviz.py", {}), ("pages/5_playground.py", {}),
    ("pages/7_inside_backward.py", {}), ("pages/8_mistakes.py", {}),
    ("pages/8_mistakes.py", {**RUN_EVERY_MISTAKE, **{f"{e.param}_fixed": "true"
                                                     for e in mistakes.EXPERIMENTS.values()}}),
    ("pages/9_learning.py", {}), ("pages/9_learning.py", {"nozero": "true", "nograd": "true"}),
    ("pages/9_learning.py", {"nozero": "true", "update": "torch.optim.SGD"}),
]


@pytest.mark.parametrize("page,query", SPANISH_STATES)
def test_code_on_spanish_pages_comments_in_spanish(page, query):
    """Every code block a Spanish page shows (the exports are the same text) has its
    comments in Spanish: no comment key left, no English comment of the catalogue."""
    at = open_page(page, query={"lang": "es", **query}, opened=(CODE,))
    assert not at.exception
    english = {text for key, text in catalogue("en").items() if ".code_" in key}
    shown = "\n".join(block.value for block in at.code)
    assert "import torch" in shown
    assert not re.search(r"# \([a-z_]+\.[a-z_0-9]+\)", shown)
    lines = [line for text in english for line in text.splitlines()]
    assert [line for line in lines if line in shown] == []
    assert any(text.splitlines()[0] in shown for key, text in catalogue("es").items()
               if ".code_" in key)


# ---- one glossary, and the catalogue follows it ----------------------------------------------

GLOSSARY = Path(__file__).resolve().parent.parent / "docs" / "glossary.md"
# English words a Spanish text must not use outside code, where Spanish has its own (the
# glossary's second column says which); an English term may follow its Spanish one once,
# in italics in parentheses: «difusión (*broadcasting*)».
ENGLISH = ("shape", "upstream", "leaf", "leaves", "backward function", "backward pass",
           "forward pass", "backward", "forward", "backpropagation", "learning rate",
           "gradient descent", "gradient", "loss", "step", "hook", "hooks", "broadcasting",
           "in-place", "inplace", "in place", "corner", "kink", "detach", "output", "input")
# Slips seen in earlier versions that are no term of the glossary: (wrong, right).
SLIPS = (("es tan cerca", "calcula la tangente cerca"),)


def glossary() -> list[list[str]]:
    """The glossary's rows: Spanish, English, what it means in the lab, forms to avoid."""
    rows = []
    for line in GLOSSARY.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 4 and cells[0] not in ("Español", "---"):
            rows.append(cells)
    return rows


def loanwords() -> list[str]:
    """English terms the glossary keeps as they are, in italics (its Spanish column: *hook*)."""
    return [row[0].strip("*") for row in glossary() if row[0].startswith("*")]


def prose(key: str, text: str) -> str:
    """A catalogue text without what is code: code spans, {placeholders}, the English term
    given for reference after its Spanish one, the glossary's loanwords in italics, and in
    code comments the quoted code."""
    text = re.sub(r"(`+).+?\1", " ", text, flags=re.S)
    for word in loanwords():
        text = re.sub(rf"\*{re.escape(word)}s?\*", " ", text)
    text = re.sub(r"\{\w+\}", " ⋯ ", text)
    text = re.sub(r"\(\*[^*]+\*", "(", text)
    if ".code_" in key:
        text = re.sub(r"'[^']*'", " ", text)
    return text


def spanish_texts() -> dict[str, str]:
    # The [pytorch] section translates PyTorch's own words: it is checked like the rest.
    return {key: prose(key, text) for key, text in catalogue("es").items()}


def found(phrase: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text, re.I) is not None


def test_the_glossary_is_one_table_of_25_to_40_terms():
    rows = glossary()
    assert 25 <= len(rows) <= 40
    spanish = [row[0] for row in rows]
    assert len(set(spanish)) == len(spanish)
    for term in ("grafo computacional", "pasada hacia atrás", "pasada hacia delante", "paso",
                 "gradiente entrante", "tensor hoja, hoja", "punto anguloso",
                 "tasa de aprendizaje", "descenso por gradiente", "retropropagación"):
        assert term in spanish, term


def test_the_catalogue_uses_the_glossarys_terms():
    """Each noun of the glossary is the word the Spanish texts use (a verb's forms vary)."""
    everything = " ".join(catalogue("es").values())
    for spanish, english, meaning, _ in glossary():
        if english.startswith("to ") or "no se usa" in meaning:
            continue
        for term in spanish.split(", "):
            assert found(term, everything), term


def problems(key: str, text: str) -> list[str]:
    """What a Spanish text does that the glossary rejects (``text`` already ``prose``)."""
    found_here = []
    for spanish, _, _, avoid in glossary():
        for rejected in filter(None, (form.strip() for form in avoid.split("·"))):
            if found(rejected, text):
                found_here.append(f"{key}: «{rejected}», write «{spanish}»")
    found_here += [f"{key}: «{wrong}», write «{right}»" for wrong, right in SLIPS
                   if found(wrong, text)]
    for word in ENGLISH:       # not code: no letter, dot or _ before, no ( . _ after
        if re.search(rf"(?<![\w.]){re.escape(word)}(?![\w(._])", text, re.I):
            found_here.append(f"{key}: English «{word}» in a Spanish text")
    doubled = re.search(r"(?<![\w.])(\w+)\s+\1(?![\w(.])", text, re.I)
    if doubled:
        found_here.append(f"{key}: «{doubled.group(0)}», a word twice")
    return found_here


def test_every_spanish_text_follows_the_glossary():
    assert [problem for key, text in spanish_texts().items()
            for problem in problems(key, text)] == []


def test_the_checks_catch_what_the_issue_found():
    """The phrases issue 12 found in the Spanish pages fail the check above."""
    for bad in ("{step} es tan cerca de un múltiplo", "la fórmula tiene una esquina",
                "Cambiar z en el sitio", "devuelve los mismos valores sin historia",
                "pasa tú el gradiente de arriba", "guardados para el paso hacia atrás",
                "respecto a su salida y y lo multiplica", "Un número es una forma (shape)",
                "las funciones backward que ejecutará autograd"):
        assert problems("x.y", prose("x.y", bad)), bad
    assert not problems("x.y", prose("x.y", "difusión (*broadcasting*), `z.grad`, y.backward()"))
