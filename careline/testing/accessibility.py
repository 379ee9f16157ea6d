"""Quality checks a browser test runs on a page: axe-core's accessibility rules, and a phone's width.

axe-core is a test-only asset (careline/testing/vendor/README.md): it is evaluated in the page through the
DevTools protocol, which the page's Content-Security-Policy does not govern, so pages are checked under the
same policy staff get.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

AXE_SCRIPT = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
# What fails a page: axe's two highest impacts ("minor" and "moderate" are reported by axe but not failed on).
FAILING_IMPACTS = frozenset({"serious", "critical"})
PHONE_VIEWPORT = {"width": 390, "height": 844}
DESKTOP_VIEWPORT = {"width": 1280, "height": 900}


@dataclass(frozen=True)
class AxeViolation:
    """One axe rule a page breaks, with the elements that break it."""

    rule: str
    impact: str
    help: str
    selectors: tuple[str, ...]

    def describe(self, where: str) -> str:
        """A line for a failure message: the page, the rule, and the offending elements (the first eight)."""
        shown = ", ".join(self.selectors[:8]) + (" ..." if len(self.selectors) > 8 else "")
        return f"{where}: {self.rule} ({self.impact}: {self.help}) at {shown}"


@cache
def _axe_source() -> str:
    return AXE_SCRIPT.read_text(encoding="utf-8")


_RUN_AXE = """async () => {
  const results = await window.axe.run(document, { resultTypes: ["violations"] });
  return results.violations.map((v) => ({
    rule: v.id,
    impact: v.impact || "",
    help: v.help,
    selectors: v.nodes.map((node) => node.target.map((t) => Array.isArray(t) ? t.join(" >>> ") : t).join(" ")),
  }));
}"""


def axe_violations(page: Any) -> list[AxeViolation]:
    """Every axe rule the page in PAGE breaks now (all of axe's rules but the experimental ones)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    found = page.evaluate(_RUN_AXE)
    return [
        AxeViolation(item["rule"], item["impact"], item["help"], tuple(item["selectors"])) for item in found
    ]


def serious_axe_violations(page: Any) -> list[AxeViolation]:
    """The violations of PAGE serious or critical enough to fail it."""
    return [violation for violation in axe_violations(page) if violation.impact in FAILING_IMPACTS]


# Whether the document scrolls sideways and, if so, the elements that stick out on the right, leaving out those
# that a scrolling or clipping box of their own holds in.
_HORIZONTAL_OVERFLOW = """() => {
  const limit = window.innerWidth + 1;
  const scrollWidth = document.documentElement.scrollWidth;
  if (scrollWidth <= limit) return { scrollWidth, innerWidth: window.innerWidth, widest: [], innermost: [] };
  const describe = (element) => {
    let name = element.tagName.toLowerCase();
    if (element.id) return `${name}#${element.id}`;
    const classes = [...element.classList].slice(0, 3);
    if (classes.length) name += "." + classes.join(".");
    const parent = element.parentElement;
    if (parent && parent !== document.body && parent !== document.documentElement) {
      return `${describe(parent)} > ${name}`;
    }
    return name;
  };
  const heldIn = (element) => {
    for (let box = element.parentElement; box && box !== document.body; box = box.parentElement) {
      if (getComputedStyle(box).overflowX !== "visible") return true;
    }
    return false;
  };
  const offenders = [];
  for (const element of document.body.querySelectorAll("*")) {
    const rect = element.getBoundingClientRect();
    if (rect.width === 0 || rect.right <= limit || heldIn(element)) continue;
    offenders.push({ element, name: describe(element), right: Math.round(rect.right), width: Math.round(rect.width) });
  }
  // The widest offender is the box that makes the page too wide; the innermost ones (no offending element
  // inside) are usually what pushes it.
  const innermost = offenders.filter((o) => !offenders.some((other) => other !== o && o.element.contains(other.element)));
  offenders.sort((a, b) => b.width - a.width || b.right - a.right);
  innermost.sort((a, b) => b.right - a.right);
  const plain = (items) => items.slice(0, 3).map(({ name, right, width }) => ({ name, right, width }));
  return { scrollWidth, innerWidth: window.innerWidth, widest: plain(offenders.slice(0, 1)), innermost: plain(innermost) };
}"""


def horizontal_overflow(page: Any) -> str | None:
    """None when PAGE fits its viewport's width; else how wide it is, the widest element sticking out and the
    innermost ones."""
    found = page.evaluate(_HORIZONTAL_OVERFLOW)
    if found["scrollWidth"] <= found["innerWidth"] + 1:
        return None

    def named(items: list[dict[str, Any]]) -> str:
        return (
            "; ".join(f"{i['name']} ({i['width']}px wide, right edge at {i['right']}px)" for i in items)
            or "-"
        )

    return (
        f"{found['scrollWidth']}px wide in a {found['innerWidth']}px viewport; widest: {named(found['widest'])}; "
        f"innermost: {named(found['innermost'])}"
    )


# The focused element's outline against the colour behind it (WCAG 2.2's 3:1 for a focus indicator).
_FOCUS_RING = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const behind = (start) => {
    for (let box = start; box; box = box.parentElement) {
      const [r, g, b, a = 1] = rgb(getComputedStyle(box).backgroundColor);
      if (a > 0) return [r, g, b];
    }
    return [255, 255, 255];
  };
  const luminance = ([r, g, b]) => {
    const linear = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  };
  const ring = luminance(rgb(style.outlineColor));
  const back = luminance(behind(element.parentElement));
  const name = element.tagName.toLowerCase() + (element.id ? `#${element.id}` : "") +
    (element.className && typeof element.className === "string" ? "." + element.className.split(" ").join(".") : "");
  return {
    name: `${name} "${(element.textContent || element.getAttribute("name") || "").trim().slice(0, 30)}"`,
    width: parseFloat(style.outlineWidth) || 0,
    style: style.outlineStyle,
    contrast: (Math.max(ring, back) + 0.05) / (Math.min(ring, back) + 0.05),
  };
}"""


def focus_ring_problems(page: Any, presses: int) -> tuple[list[str], int]:
    """Press Tab PRESSES times on PAGE; the focused elements whose outline is missing, thinner than 2px or under
    3:1 against what is behind it, and how many elements were checked."""
    problems = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        ring = page.evaluate(_FOCUS_RING)
        if ring["style"] == "none" or ring["width"] < 2 or ring["contrast"] < 3:
            problems.append(
                f"{ring['name']}: {ring['style']} {ring['width']}px outline at {ring['contrast']:.1f}:1"
            )
    return problems, presses


class NetworkWatch:
    """The requests a page has in flight, for `settled`: Playwright's "networkidle" waits for 500 ms without
    any, which the page sweeps pay twice per page; `settled` asks for the same state held QUIET_MS instead.

    Attach it right after creating the page (it counts from then on)."""

    QUIET_MS = 150
    POLL_MS = 25

    def __init__(self, page: Any) -> None:
        self.page = page
        self.in_flight: set[Any] = set()
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _started(self, request: Any) -> None:
        self.in_flight.add(request)

    def _ended(self, request: Any) -> None:
        self.in_flight.discard(request)

    def settled(self, timeout_ms: float = 15_000) -> None:
        """Wait for the page's load event, then until no request has been in flight for QUIET_MS (the
        requests a page makes once loaded, such as HTMX's `load` triggers, included)."""
        self.page.wait_for_load_state("load")
        quiet = 0.0
        waited = 0.0
        while quiet < self.QUIET_MS:
            if waited > timeout_ms:
                raise TimeoutError(f"requests still in flight after {timeout_ms:.0f} ms: {self.in_flight}")
            self.page.wait_for_timeout(self.POLL_MS)  # lets Playwright deliver the page's request events
            waited += self.POLL_MS
            quiet = 0.0 if self.in_flight else quiet + self.POLL_MS


def watch_network(page: Any) -> Any:
    """PAGE, with a NetworkWatch attached for `network_settled` (call it right after creating the page)."""
    page._careline_network_watch = NetworkWatch(page)
    return page


def network_settled(page: Any) -> None:
    """The page loaded and its network quiet: NetworkWatch.settled if `watch_network` was called on the page,
    else Playwright's "networkidle"."""
    watch = getattr(page, "_careline_network_watch", None)
    if watch is None:
        page.wait_for_load_state("networkidle")
    else:
        watch.settled()
