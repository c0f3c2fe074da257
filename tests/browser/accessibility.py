"""Accessibility checks run on every page the browser tests visit (axe-core, vendored)."""

from pathlib import Path

from playwright.sync_api import Page

AXE_SCRIPT = Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")

# Inline code would be blocked by the Content-Security-Policy in real browsers; the test
# contexts bypass the policy to inject axe, so the page is checked for it before injection.
FIND_INLINE_CODE = """() => Array.from(
    document.querySelectorAll(
        'script:not([src]):not([data-axe]), [style], [onclick], [onload], [onsubmit]'),
    el => el.outerHTML.slice(0, 120))"""

RUN_AXE = """async () => {
    const results = await axe.run(document, {resultTypes: ['violations']});
    return results.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary})),
    }));
}"""


def describe(violations: list[dict]) -> str:
    """A readable list of violations: rule, impact, and each offending element."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            summary = " ".join(node["summary"].split())
            lines.append(f"    {node['target']}: {summary}")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """Fail on inline code and on axe violations of serious or critical impact."""
    page.wait_for_load_state("load")
    inline = page.evaluate(FIND_INLINE_CODE)
    assert not inline, f"inline script or style on {page.url}: {inline}"
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=AXE_SCRIPT).evaluate("el => el.setAttribute('data-axe', '')")
    violations = page.evaluate(RUN_AXE)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"accessibility violations on {page.url}:\n{describe(blocking)}"


def assert_no_sideways_scrolling(page: Page) -> None:
    """The page reflows to the viewport's width (WCAG 1.4.10); wide tables scroll inside."""
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{page.url} is {widths[0]}px wide in a {widths[1]}px viewport"
