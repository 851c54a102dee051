"""axe-core in the browser tests: inject it into a Playwright page, run it, format what it finds.

axe-core comes from the npm registry, pinned by package.json and package-lock.json (`make test` runs
`npm ci`). The app's CSP allows only its own scripts, so `add_script_tag` works only in a browser
context created with `bypass_csp=True`: give axe a context of its own, so the pages measured for
layout are the ones real visitors get.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

AXE_JS = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
FAILING_IMPACTS = ("serious", "critical")

RUN = """
async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((n) => n.target.map((t) => (Array.isArray(t) ? t.join(" >> ") : t)).join(" >> ")),
  }));
}
"""


def available() -> bool:
    """True when `npm ci` has installed axe-core."""
    return AXE_JS.exists()


def require_axe() -> None:
    """Fail under REQUIRE_E2E=1 when axe-core is missing (the suite must not silently lose it)."""
    if not available() and os.environ.get("REQUIRE_E2E") == "1":
        pytest.fail(f"REQUIRE_E2E=1 but axe-core is missing at {AXE_JS} (run `make test` or `npm ci`)")


def run(page) -> list[dict]:
    """Every axe violation on the page as it is now: id, impact, help and the target selectors."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(RUN, TAGS)


def failing(violations: list[dict]) -> list[dict]:
    """The violations that fail the suite: impact "serious" or "critical"."""
    return [v for v in violations if v["impact"] in FAILING_IMPACTS]


def describe(page_name: str, violations: list[dict]) -> list[str]:
    """One line per violation: "page: rule id (impact): target selectors"."""
    return [f"{page_name}: {v['id']} ({v['impact']}): {', '.join(v['targets'])}" for v in violations]
