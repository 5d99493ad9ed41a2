"""What the classroom tests check on a loaded page: WCAG (axe-core), focus rings, overflow on a
phone, clipped formulas, lecture-mode sizes, and a page's state (controls and numbers).

Plain functions over a Playwright page; each returns what it found, the tests assert on it.
"""

from __future__ import annotations

from pathlib import Path

# axe-core 4.14.1 from its npm package (`npm pack axe-core@4.14.1`), vendored with its
# licence: tests/browser/vendor/README.md.
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
# Violations left to Streamlit that the app cannot fix, each (rule, one CSS selector) with
# the reason: none at present. Keep this narrow: one rule, one element.
ALLOWED: tuple[tuple[str, str], ...] = ()


TRANSITIONS_OVER = """() => !document.getAnimations().some(
  a => a instanceof CSSTransition && a.playState === 'running')"""


def axe_violations(page, impacts=BLOCKING) -> list[dict]:
    """axe-core's WCAG 2.0/2.1 A and AA violations of these impacts on the page as shown:
    [{rule, impact, help, targets}]."""
    # Colours read mid-transition (a theme switch fades for ~0.2 s) are neither theme's.
    page.wait_for_function(TRANSITIONS_OVER, polling=50)
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """([tags, allowed]) => axe.run(document, {
             runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'],
             elementRef: true
           }).then(r => r.violations.map(v => {
             const nodes = v.nodes.filter(n => !allowed.some(
               ([rule, selector]) => rule === v.id && n.element.matches(selector)));
             return {rule: v.id, impact: v.impact, help: v.help, count: nodes.length,
                     targets: nodes.map(n => n.target.join(' ')).slice(0, 5),
                     why: nodes.map(n => n.failureSummary.split('\\n').slice(-1)[0]).slice(0, 5)};
           }).filter(v => v.count > 0))""",
        [WCAG_AA, [list(pair) for pair in ALLOWED]])
    return [v for v in result if v["impact"] in impacts]


# WCAG 2.1's contrast: a CSS colour parsed, its relative luminance, the ratio of two.
CONTRAST = """  const parse = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => { const f = v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05); };
"""

FOCUS_RING = """() => {
""" + CONTRAST + """  const ground = e => { for (let n = e; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c.length && (c.length < 4 || c[3] > 0.5)) return c.slice(0, 3); }
    return [255, 255, 255]; };
  const a = document.activeElement;
  if (!a || a === document.body) return null;
  const name = (a.getAttribute('aria-label') || a.innerText || a.tagName).trim().slice(0, 40);
  // a visually hidden input (toggle, radio, slider) shows its focus on a visible box near it
  const near = [a, a.closest('label')?.querySelector(':scope > div'),
                a.closest('label')?.querySelector(':scope > div > div'),
                a.closest('div[data-rac][style*="position: absolute"]')];
  for (let n = a.parentElement, k = 0; n && k < 4; n = n.parentElement, k++) near.push(n);
  for (const e of near) {
    if (!e) continue;
    const box = e.getBoundingClientRect();
    if (box.width <= 2 || box.height <= 2 || e.closest('[style*="clip"]')) continue;
    const s = getComputedStyle(e);
    if (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2)
      return {name, width: parseFloat(s.outlineWidth),
              contrast: ratio(parse(s.outlineColor), ground(e.parentElement || e))};
  }
  return {name, width: 0, contrast: 0};
}"""


def focus_rings(page, most: int = 120) -> list[dict]:
    """Tab through the page once: for each stop, the focus ring's width and its contrast
    with what surrounds it ({name, width, contrast}; width 0: no ring found)."""
    stops, first = [], None
    for _ in range(most):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        if ring is None:
            continue
        if first is None:
            first = ring["name"]
        elif ring["name"] == first:
            break
        stops.append(ring)
    return stops


OVERFLOW = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  return {page: document.documentElement.scrollWidth - window.innerWidth,
          main: main.scrollWidth - main.clientWidth};
}"""

# A formula is clipped when an ancestor that hides its overflow (hidden or clip) is smaller
# than the formula; a box that scrolls (auto, scroll) shows all of it.
CLIPPED_FORMULAS = """() => {
  const main = document.querySelector('[data-testid="stMain"]'), cut = [];
  for (const formula of main.querySelectorAll('.katex')) {
    const f = formula.getBoundingClientRect();
    if (!f.width) continue;                       // in a closed tab or expander
    for (let n = formula.parentElement; n && n !== main; n = n.parentElement) {
      const s = getComputedStyle(n), b = n.getBoundingClientRect();
      const hidesX = ['hidden', 'clip'].includes(s.overflowX);
      const hidesY = ['hidden', 'clip'].includes(s.overflowY);
      if ((hidesX && (f.left < b.left - 1 || f.right > b.right + 1))
          || (hidesY && (f.top < b.top - 1 || f.bottom > b.bottom + 1))) {
        cut.push(formula.querySelector('annotation')?.textContent || formula.textContent);
        break;
      }
    }
  }
  return cut;
}"""


def horizontal_overflow(page) -> dict:
    """Pixels by which the page and its main column are wider than the screen (0: none)."""
    return page.evaluate(OVERFLOW)


def clipped_formulas(page) -> list[str]:
    """The TeX of every shown formula that a box cuts off."""
    return page.evaluate(CLIPPED_FORMULAS)


# Everything a student can read or set on the page, in document order: what a shared link
# must reproduce. Labels come with values, so two pages in the same language compare.
STATE = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const text = e => e.innerText.replace(/\\s+/g, ' ').trim();
  const label = e => [e.closest('[role="radiogroup"]')?.getAttribute('aria-label'),
      e.getAttribute('aria-label') || e.closest('label')?.innerText
      || e.closest('[data-testid^="st"]')?.querySelector('[data-testid="stWidgetLabel"]')
        ?.innerText || e.innerText].filter(Boolean).map(x => x.trim()).join(': ');
  const controls = [...main.querySelectorAll(
      'input, textarea, [role="tab"], [role="radio"], [role="switch"]')].map(e =>
    [label(e), e.getAttribute('role') === 'tab' ? e.getAttribute('aria-selected')
       : (e.type === 'checkbox' || e.type === 'radio') ? String(e.checked)
       : e.value || e.getAttribute('aria-valuetext') || '']);
  const cells = [...main.querySelectorAll('table')].map(t =>
    [...t.querySelectorAll('tr')].map(r => [...r.children].map(text)));
  return {controls,
          tabs: [...main.querySelectorAll('[role="tabpanel"]')].map(p => !p.hidden),
          metrics: [...main.querySelectorAll('[data-testid="stMetricValue"]')].map(text),
          tables: cells,
          formulas: [...main.querySelectorAll('.katex annotation')].map(a => a.textContent),
          code: [...main.querySelectorAll('[data-testid="stCode"] code')].map(text),
          alerts: [...main.querySelectorAll('[data-testid="stAlertContainer"]')].map(text),
          graphs: [...main.querySelectorAll('[data-testid="stGraphVizChart"]')]
            .map(g => g.getAttribute('aria-label'))};
}"""


def page_state(page) -> dict:
    return page.evaluate(STATE)


def steady_state(page, expected: dict | None = None, timeout: float = 20.0) -> dict:
    """``page_state`` once two readings 0.3 s apart agree (a data grid redraws its cells
    after the run ends), or once it equals ``expected``; as it is after ``timeout`` s."""
    import time

    deadline = time.monotonic() + timeout
    state = page_state(page)
    while time.monotonic() < deadline:
        if expected is not None and state == expected:
            return state
        page.wait_for_timeout(300)
        again = page_state(page)
        if expected is None and again == state:
            return state
        state = again
    return state


# Every text a student can see, with its size on screen and its contrast with what lies
# under it: HTML text (its element's computed size and colour, over the first opaque
# background among its ancestors) and SVG text of plots and graphs (its size times the
# drawing's scale, its fill, over the last filled shape drawn before it that covers its
# centre, else the ground of the svg's ancestors). Hidden text is skipped: display none,
# visibility hidden, opacity 0, a closed expander, a screen-reader-only box.
TEXTS = """([minPx, minRatio]) => {
""" + CONTRAST + """  const over = (top, alpha, under) => top.map((c, i) => c * alpha + under[i] * (1 - alpha));
  const covers = (n, x, y) => { const b = n.getBoundingClientRect();
    return b.left <= x && x <= b.right && b.top <= y && y <= b.bottom; };
  const ground = (e, x, y) => {         // the first opaque background under (x, y) from e up
    const layers = [];
    for (let n = e; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c.length === 4 && c[3] === 0) continue;
      // a box beside the text (a slider's thumb under its value) is not its ground; a
      // scrolling box's ground goes on under everything it scrolls
      const st = getComputedStyle(n);
      if (n !== document.documentElement && n !== document.body && !covers(n, x, y)
          && !/auto|scroll/.test(st.overflowX + st.overflowY)) continue;
      layers.push(c);
      if (c.length < 4 || c[3] >= 1) break;
    }
    let colour = [255, 255, 255];
    for (const c of layers.reverse()) colour = over(c.slice(0, 3), c.length === 4 ? c[3] : 1, colour);
    return colour;
  };
  const opacity = e => { let o = 1; for (let n = e; n; n = n.parentElement)
    o *= parseFloat(getComputedStyle(n).opacity); return o; };
  const hidden = e => !e.checkVisibility({visibilityProperty: true, opacityProperty: true})
    || e.closest('.lab-sr-only, details:not([open]) > :not(summary)');
  const main = document.querySelector('[data-testid="stMain"]');
  const found = [];
  const record = (element, text, px, fg, bg, alpha, rect) => {
    const shown = over(fg, alpha, bg);
    found.push({text: text.trim().slice(0, 40), px: Math.round(px * 10) / 10,
                ratio: Math.round(ratio(shown, bg) * 100) / 100,
                fg: shown.map(Math.round), bg: bg.map(Math.round),
                where: (element.closest('[data-testid^="st"]')?.dataset.testid || element.tagName)
                  + ' ' + (element.getAttribute('class') || '').slice(0, 40),
                top: Math.round(rect.top)});
  };
  // HTML text
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const e = node.parentElement;
    if (!node.nodeValue.trim() || e.closest('svg') || hidden(e)) continue;
    if (e.closest('.katex-mathml, [aria-hidden="true"] .katex-mathml')) continue;   // MathML copy
    const range = document.createRange(); range.selectNodeContents(node);
    const rect = range.getBoundingClientRect();
    if (rect.width < 1 || rect.height < 1) continue;
    const s = getComputedStyle(e);
    const c = parse(s.color);
    record(e, node.nodeValue, parseFloat(s.fontSize), c.slice(0, 3),
           ground(e, (rect.left + rect.right) / 2, (rect.top + rect.bottom) / 2),
           (c.length === 4 ? c[3] : 1) * opacity(e), rect);
  }
  // SVG text: plots and graphs
  for (const t of main.querySelectorAll('svg text')) {
    if (!t.textContent.trim() || hidden(t)) continue;
    const rect = t.getBoundingClientRect();
    if (rect.width < 1 || rect.height < 1) continue;
    const m = t.getScreenCTM(), s = getComputedStyle(t);
    const px = parseFloat(s.fontSize) * Math.hypot(m.a, m.b);
    const fill = parse(s.fill);
    if (fill.length < 3) continue;
    const svg = t.ownerSVGElement, cx = (rect.left + rect.right) / 2, cy = (rect.top + rect.bottom) / 2;
    let bg = null;
    for (const shape of svg.querySelectorAll('polygon, ellipse, rect, path, circle')) {
      if (shape.compareDocumentPosition(t) !== Node.DOCUMENT_POSITION_FOLLOWING) continue;
      const f = parse(getComputedStyle(shape).fill), ss = getComputedStyle(shape);
      const a = (f.length === 4 ? f[3] : 1) * parseFloat(ss.fillOpacity) * parseFloat(ss.opacity);
      if (f.length < 3 || a < 0.5 || hidden(shape)) continue;
      const b = shape.getBoundingClientRect();
      if (b.left <= cx && cx <= b.right && b.top <= cy && cy <= b.bottom) bg = f.slice(0, 3);
    }
    // plotly stacks several svgs: the page's ground under the first
    record(t, t.textContent, px, fill.slice(0, 3), bg || ground(svg, cx, cy),
           (fill.length === 4 ? fill[3] : 1) * parseFloat(s.fillOpacity) * opacity(t), rect);
  }
  return found.filter(f => f.px < minPx - 0.05 || f.ratio < minRatio);
}"""


def small_or_faint_texts(page, min_px: float = 24, min_ratio: float = 4.5) -> list[dict]:
    """Every visible text smaller than ``min_px`` on screen or under ``min_ratio`` contrast:
    [{text, px, ratio, fg, bg, where, top}] (empty: every text is large and dark enough)."""
    page.wait_for_function(TRANSITIONS_OVER, polling=50)
    return page.evaluate(TEXTS, [min_px, min_ratio])


# Tick labels of one plot axis that overlap (pairs of texts), per plot.
TICKS_OVERLAP = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
  .filter(c => c.checkVisibility()).map(chart => {
    let pairs = 0;
    for (const layer of chart.querySelectorAll('.xaxislayer-above, .yaxislayer-above')) {
      const boxes = [...layer.querySelectorAll('text')].filter(t => t.textContent.trim())
        .map(t => t.getBoundingClientRect());
      for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i], boxes[j]];
        if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1
            && b.top < a.bottom - 1) pairs++;
      }
    }
    return pairs;
  })"""


def overlapping_ticks(page) -> list[int]:
    """For each visible plot, how many pairs of its axis tick labels overlap."""
    return page.evaluate(TICKS_OVERLAP)


# Buttons a finger or a pointer must hit: WCAG 2.2's minimum target, 24×24 CSS px (2.5.8).
SMALL_TARGETS = """(least) => [...document.querySelectorAll('[data-testid="stMain"] button')]
  .filter(b => b.checkVisibility({visibilityProperty: true, opacityProperty: true}))
  .map(b => { const r = b.getBoundingClientRect();
              return {name: (b.getAttribute('aria-label') || b.innerText).trim().slice(0, 30),
                      width: Math.round(r.width), height: Math.round(r.height)}; })
  .filter(t => t.width && (t.width < least || t.height < least))"""


def small_targets(page, least: int = 24) -> list[dict]:
    """Visible buttons of the page smaller than ``least`` px either way."""
    return page.evaluate(SMALL_TARGETS, least)
