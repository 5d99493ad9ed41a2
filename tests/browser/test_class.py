"""Issue 24 in a real browser: a class projected, answered from students' browsers, counted
live on the projector and revealed to a student who never answered.

The server has a SQLite file of its own (``LAB_DATABASE_URL``). An instructor starts the class
on a laptop and opens the instructor's link on the projector (1920×1080, lecture mode): the
code in large type, the QR code and the join link are on screen, the key in no address.
Three students open the join link and send their prediction for exercise 2; a fourth opens
it and answers nothing. The projector's panel counts them without a reload (its fragment
polls), the instructor reveals, and the fourth student's page shows the answer without a
touch (its watch polls). Screenshots go to /tmp/class_shots (or ``LAB_CLASS_SHOTS``).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from lab.i18n import t
from lab.ui.class_views import WATCH_EVERY, shown_code
from tests.browser.checks import axe_violations, horizontal_overflow
from tests.browser.conftest import new_context, serve, tab
from tests.browser.lab_browser import (LOAD_TIMEOUT_MS, PHONE, PROJECTOR, exception_count,
                                       open_link_box, settle, shows_text)

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("LAB_CLASS_SHOTS", "/tmp/class_shots"))
LOCALES = {"en": "en-US", "es": "es-ES"}


@pytest.fixture(scope="module")
def class_lab(tmp_path_factory, chromium):
    folder = tmp_path_factory.mktemp("class-store")
    env = dict(os.environ, LAB_DATABASE_URL=f"sqlite:///{folder / 'answers.sqlite3'}")
    server = serve(tmp_path_factory, "class", env=env)
    yield server
    server.stop()


def shot(page, name: str, focus=None) -> None:
    """A screenshot for a person to look at, ``focus`` (a locator) scrolled into view."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    if focus is not None:
        focus.first.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"{name}.png"), animations="disabled", caret="hide")


def main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def wait_for_text(page, text: str, timeout: float = LOAD_TIMEOUT_MS) -> None:
    page.wait_for_function(shows_text(text), timeout=timeout, polling=200)


def sidebar_codes(page) -> list[str]:
    return [text.strip() for text in page.locator(
        '[data-testid="stSidebar"] [data-testid="stCode"] code').all_text_contents()]


def start_class(page, server, lang: str) -> tuple[str, str]:
    """On a laptop: start a class; its code and the instructor's link from the sidebar."""
    page.goto(server.page_url("exercises", f"lang={lang}&exercise=2"), timeout=LOAD_TIMEOUT_MS)
    settle(page)
    start = page.get_by_role("button", name=t("answers.start_class", lang))
    shot(page, f"laptop-join-form-{lang}", start)
    assert axe_violations(page) == []
    start.click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stSidebar\"]').innerText"
        f".includes({t('answers.instructor_link_title', lang)!r})", timeout=LOAD_TIMEOUT_MS)
    settle(page)
    code = parse_qs(urlsplit(page.url).query)["class"][0]
    assert "teach" not in parse_qs(urlsplit(page.url).query)
    page.locator('[data-testid="stSidebar"] [data-testid="stExpander"] summary',
                 has_text=t("answers.instructor_link_title", lang)).click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stSidebar\"] code')]"
        ".some(c => c.textContent.includes('teach='))", timeout=LOAD_TIMEOUT_MS)
    instructor_link = next(c for c in sidebar_codes(page) if "teach=" in c)
    shot(page, f"laptop-instructor-{lang}",
         page.locator('[data-testid="stSidebar"] [data-testid="stCode"]'))
    assert axe_violations(page) == []
    open_link_box(page, lang, holding="exercise=2")
    share = [c for c in sidebar_codes(page) if "exercise=2" in c]
    assert share and all("teach" not in c for c in share)     # "Link to this state"
    return code, instructor_link


def send(page, lang: str, guess: str) -> None:
    page.get_by_role("radio", name=t(f"exercises.ex2_{guess}", lang), exact=True).check(
        force=True)
    settle(page)
    page.get_by_role("switch", name=t("exercises.ex2_check", lang), exact=True).click(
        force=True)
    wait_for_text(page, t("answers.notice_queued", lang))
    settle(page)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_projected_class_answers_is_counted_live_and_sees_the_reveal(browser, class_lab,
                                                                       lang):
    locale = LOCALES[lang]
    laptop = new_context(browser, locale=locale)
    projector = new_context(browser, viewport=PROJECTOR, locale=locale)
    students = [new_context(browser, locale=locale) for _ in range(3)]
    phone = new_context(browser, viewport=PHONE, is_mobile=True, has_touch=True, locale=locale)
    try:
        code, instructor_link = start_class(tab(laptop), class_lab, lang)
        shown = shown_code(code)

        # The projector: lecture mode through the instructor's link.
        screen = tab(projector)
        screen.goto(f"{instructor_link}&lecture=true&exercise=2", timeout=LOAD_TIMEOUT_MS)
        settle(screen)
        address = parse_qs(urlsplit(screen.url).query)
        assert address["class"] == [code] and "teach" not in address
        projected = screen.locator('[data-testid="stExpander"]',
                                   has_text=t("answers.project_title", lang, code=shown))
        big = projected.locator(".lab-class-code")
        assert big.is_visible() and big.inner_text().strip() == shown
        assert float(big.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 64
        qr = projected.locator(".lab-qr-projected img")
        box = qr.bounding_box()
        assert qr.is_visible() and box["width"] >= 250 and abs(box["width"] - box["height"]) < 2
        assert qr.get_attribute("alt") == t("answers.qr_title", lang)
        assert qr.evaluate("i => i.complete && i.naturalWidth > 0")            # it decoded
        assert box["y"] + box["height"] <= PROJECTOR["height"]         # on the first screen
        join_link = next(c for c in projected.locator("code").all_text_contents()
                         if f"class={code}" in c)
        assert "teach" not in join_link and join_link.startswith(class_lab.url)
        assert exception_count(screen) == 0 and not screen.lab_errors
        shot(screen, f"lecture-projected-{lang}")

        # Three students answer; a fourth joins on a phone and answers nothing.
        pages = [tab(context) for context in students]
        for page, guess in zip(pages, ("error", "error", "works")):
            page.goto(f"{join_link}&exercise=2", timeout=LOAD_TIMEOUT_MS)
            settle(page)
            assert t("answers.joined", lang, code=shown) in main_text(page)
            send(page, lang, guess)
            text = main_text(page)
            assert t("answers.waiting", lang) in text and "int64" not in text
        waiting = '[data-testid="stAlertContentInfo"]:visible'
        shot(pages[0], f"student-waiting-{lang}",
             pages[0].locator(waiting, has_text=t("answers.waiting", lang)))
        late = tab(phone)
        late.goto(f"{join_link}&exercise=2", timeout=LOAD_TIMEOUT_MS)
        settle(late)
        assert t("answers.waiting", lang) in main_text(late)
        shot(late, f"phone-waiting-{lang}",
             late.locator(waiting, has_text=t("answers.waiting", lang)))
        assert axe_violations(late) == [] and horizontal_overflow(late) == {"page": 0, "main": 0}

        # The projector counts them without a reload, then reveals.
        works, error = t("answers.ex2_works", lang), t("answers.ex2_runtime_error", lang)
        wait_for_text(screen, t("answers.answered", lang, count=3), timeout=15_000)
        wait_for_text(screen, f"{error}: 2 (67 %)", timeout=5_000)
        bars = screen.locator('[data-testid="stProgress"]').all_inner_texts()
        assert any(f"{works}: 1 (33 %)" in bar for bar in bars), bars
        assert "int64" not in main_text(screen)                      # the projector held it
        projected.locator("summary").click()                         # closed: the code stays
        assert projected.locator("summary").inner_text().strip().endswith(shown)
        panel = screen.locator(".st-key-class_panel_ex2")
        shot(screen, f"lecture-counted-{lang}", panel)
        assert axe_violations(screen) == []
        screen.get_by_role("button", name=t("answers.reveal", lang)).click()
        wait_for_text(screen, t("answers.right", lang, right=2, total=3))
        settle(screen)
        assert "int64" in main_text(screen)
        shot(screen, f"lecture-revealed-{lang}", panel)

        # The student who never answered sees the answer, untouched.
        wait_for_text(late, "int64", timeout=int((3 * WATCH_EVERY + 10) * 1000))
        settle(late)
        assert t("answers.waiting", lang) not in main_text(late)
        assert exception_count(late) == 0 and not late.lab_errors
        answer = '[data-testid="stMain"] :text("int64"):visible'
        shot(late, f"phone-revealed-{lang}", late.locator(answer))
        pages[2].wait_for_function(shows_text("int64"), timeout=int((3 * WATCH_EVERY + 10)
                                                                    * 1000))
        settle(pages[2])
        shot(pages[2], f"student-revealed-{lang}",
             pages[2].locator('[data-testid="stAlertContentWarning"]:visible'))
        assert t("exercises.ex2_guess_wrong", lang)[:12] in main_text(pages[2])
    finally:
        for context in (laptop, projector, *students, phone):
            context.close()
