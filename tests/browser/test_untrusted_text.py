"""Issue 11 in Chromium: crafted links and typed payloads are shown as text, never run.

One browser tab walks every page (``lab.site.PAGES``) through crafted links:
payloads (tests/untrusted.py) in every URL parameter the lab defines, as parameter names,
and typed into every kind of text box. After each, nothing a payload holds may have become
a link (``a[href]``), an image, a KaTeX formula, an HTML element or an attribute; text
holding a payload may sit only inside code; no bidi or zero-width character reaches the
page (KaTeX's own zero-width spaces aside); and no request may leave for an address named
in a payload (every request for another host is recorded and aborted: the only one seen is
Streamlit's material icons at fonts.gstatic.com).
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pytest

from lab.site import PAGES
from lab.ui.verbatim import MAX_NAMES
from tests.browser.lab_browser import exception_count, open_page, rerun_after
from tests.untrusted import (ADDRESSES, HIDDEN, MARK, PAYLOADS, crafted_query,
                             name_groups, states)

pytestmark = pytest.mark.browser
URLS = [info.url for info in PAGES]

INTERPRETED = """([marks, hidden]) => {
  const marked = s => !!s && marks.some(m => s.includes(m));
  const root = document.querySelector('[data-testid="stApp"]');
  const bad = [];
  const show = el => el.outerHTML.slice(0, 200);
  // A link within the lab may carry typed text in its query, URL-encoded (page 6 opens the
  // student's program on page 7): only where it leads and what it says must be clean.
  const carried = (el, name) => {
    if (el.tagName !== 'A' || name !== 'href') return false;
    const u = new URL(el.getAttribute('href'), location.href);
    return u.origin === location.origin && !marked(decodeURIComponent(u.pathname));
  };
  for (const a of document.querySelectorAll('a[href]'))
    if ((marked(a.getAttribute('href')) && !carried(a, 'href')) || marked(a.textContent))
      bad.push('link: ' + show(a));
  for (const el of document.querySelectorAll(
      'img, image, picture, source, video, audio, iframe, object, embed, script, style, link'))
    if (marked(el.outerHTML)) bad.push('element: ' + show(el));
  for (const el of root.querySelectorAll('.katex, .katex-display'))
    if (marked(el.textContent)) bad.push('katex: ' + el.textContent.slice(0, 100));
  for (const el of root.querySelectorAll('b, strong, em, h1, h2, h3, h4, h5, h6, blockquote'))
    if (marked(el.textContent) && !el.closest('code, pre')) bad.push('markup: ' + show(el));
  for (const el of document.querySelectorAll('*'))
    for (const attribute of el.attributes)
      if (marked(attribute.value) && !(el.matches('input, textarea') && attribute.name === 'value')
          && !carried(el, attribute.name))
        bad.push(`attribute: <${el.tagName} ${attribute.name}="${attribute.value.slice(0, 100)}">`);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.nodeValue;
    if (marked(text) && !node.parentElement.closest('code, pre, textarea'))
      bad.push('text outside code: ' + text.slice(0, 100));
    // a text box holds what was typed, as typed (its text node is its value)
    if ([...hidden].some(h => text.includes(h)) && !node.parentElement.closest('.katex, textarea'))
      bad.push('hidden character: ' + JSON.stringify(text.slice(0, 100)));
  }
  return bad;
}"""

# One payload typed into each kind of text box: (page, state, widget key, payload).
TYPED = {
    ("tensors", 0): {"values": f"1, https://example.invalid/{MARK}, 2",
                     "cell": f"print('[{MARK}](https://example.invalid/login)')"},
    ("backward", 1): {"ex1_0": f"[{MARK}](https://example.invalid/login)",
                      "ex1_5": f"$\\Huge {MARK}$ www.{MARK}.example.invalid"},
    ("exercises", 1): {"ex2_why": f"<b>{MARK}</b> ![{MARK}](http://127.0.0.1:9/x.png)"},
    ("exercises", 2): {"ex3_code": f"x = 1\n{MARK}(https://example.invalid/{MARK})"},
    ("playground", 1): {"f": f"x + www.{MARK}.example.invalid",
                        "xs": f"1, ![{MARK}](http://127.0.0.1:9/x.png)"},
    ("code", 0): {"program": f"import torch\nprint('$\\Huge {MARK}$')\n<b>{MARK}</b>"},
    ("inside_backward", 1): {"f": f"x + {MARK}\u202egnp",
                             "xs": f'1, <img src="http://127.0.0.1:9/i" alt="{MARK}">'},
    ("inside_backward", 3): {"program": f"import torch\n**{MARK}** = torch.ones(1, "
                                        f"requires_grad=True)\n`{MARK}`.sum().backward()"},
}
# Requests the lab's pages make to other hosts (aborted here): Streamlit's material icons.
ICON_HOSTS = {"fonts.gstatic.com"}


def visits() -> list[tuple[str, dict, dict]]:
    """(page, link parameters, text then typed by widget key): every page state once,
    twice where one types into it (other payloads in its text boxes), and the payloads as
    parameter names, in groups the notice lists whole."""
    links = []
    for url in URLS:
        for number, state in enumerate(states(url)):
            typed = TYPED.get((url, number), {})
            rotations = (number, number + len(PAYLOADS) // 2) if typed else (number,)
            links += [(url, crafted_query(url, state, rotation), typed if last else {})
                      for last, rotation in zip((False, True)[-len(rotations):], rotations)]
    links += [("mistakes", {name: "1" for name in group}, {})
              for group in name_groups(MAX_NAMES)]
    return links


def test_crafted_links_and_typed_payloads_are_only_text(lab, chromium):
    page = chromium.new_page()
    errors, elsewhere, requested = [], [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requested.append(request.url))
    origin = urlsplit(lab.url).netloc

    def keep_local(route):
        if urlsplit(route.request.url).netloc not in ("", origin):
            elsewhere.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", keep_local)
    marks = [MARK, *ADDRESSES]

    def assert_only_text(where) -> None:
        assert exception_count(page) == 0, where
        assert page.evaluate(INTERPRETED, [marks, HIDDEN]) == [], where

    try:
        for url, params, typed in visits():
            open_page(page, lab, url, urlencode(params))
            assert_only_text(f"/{url}?{urlencode(params)[:300]}")
            for key, payload in typed.items():
                box = page.locator(f".st-key-{key} :is(input, textarea)")
                unchanged = box.input_value() == payload      # the link already carried it
                box.fill(payload)
                # a text area takes Enter as a new line: Ctrl+Enter commits it
                commit = ("Control+Enter" if box.evaluate("e => e.tagName") == "TEXTAREA"
                          else "Enter")
                if unchanged:                  # the same text again: Streamlit runs nothing
                    box.press(commit)
                else:
                    rerun_after(page, lambda: box.press(commit))
                assert_only_text((url, key, payload))
        assert len(requested) > 50                        # the listener saw the pages load
        leaving = [u for u in requested if urlsplit(u).netloc not in ("", origin)]
        assert not [u for u in leaving if any(a in urlsplit(u).netloc for a in ADDRESSES)]
        assert {urlsplit(u).netloc for u in elsewhere} <= ICON_HOSTS
        assert errors == []
    finally:
        page.close()
