"""An accessibility check that runs in the page (through Playwright) and returns the violations.

Checks: one <main> and a banner and content info landmark; exactly one h1; heading levels that do not
skip; every form control, button and link has an accessible name; SVG charts have a text alternative;
images have alt text; and text contrast computed from the rendered colours (WCAG 2.2 AA: 4.5:1, or 3:1
for large text), walking up to the first opaque background.
"""

CHECK = r"""
() => {
  const problems = [];
  const visible = (el) => {
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden") return false;
    const rect = el.getBoundingClientRect();
    if (rect.width < 2 || rect.height < 2) return false;  // visually hidden, clipped
    return !el.closest("[hidden], [aria-hidden='true'], dialog:not([open]), details:not([open]) > :not(summary)");
  };
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "");

  // Landmarks
  if (document.querySelectorAll("main").length !== 1) problems.push("expected exactly one <main>");
  if (!document.querySelector("header")) problems.push("no banner (<header>)");
  if (!document.querySelector("footer")) problems.push("no content info (<footer>)");
  document.querySelectorAll("nav").forEach((nav) => {
    if (!nav.getAttribute("aria-label") && !nav.getAttribute("aria-labelledby")) problems.push("unlabelled <nav>");
  });

  // Headings
  const h1s = document.querySelectorAll("h1");
  if (h1s.length !== 1) problems.push(`expected one h1, found ${h1s.length}`);
  let last = 0;
  document.querySelectorAll("h1, h2, h3, h4, h5, h6").forEach((h) => {
    if (h.closest("dialog:not([open])")) return;
    const level = Number(h.tagName[1]);
    if (last && level > last + 1) problems.push(`heading level skips from h${last} to h${level}: "${h.textContent.trim().slice(0, 40)}"`);
    last = level;
  });

  // Names
  const nameOf = (el) => {
    const labelledby = el.getAttribute("aria-labelledby");
    if (labelledby) return labelledby.split(/\s+/).map((id) => document.getElementById(id)?.textContent || "").join(" ").trim();
    if (el.getAttribute("aria-label")) return el.getAttribute("aria-label").trim();
    if (el.id) {
      const label = document.querySelector(`label[for="${CSS.escape(el.id)}"]`);
      if (label) return label.textContent.trim();
    }
    const wrapping = el.closest("label");
    if (wrapping) return wrapping.textContent.trim();
    if (el.tagName === "BUTTON" || el.tagName === "A" || el.tagName === "SUMMARY") return el.textContent.trim();
    if (el.getAttribute("title")) return el.getAttribute("title").trim();
    return "";
  };
  document.querySelectorAll("input, select, textarea").forEach((el) => {
    if (["hidden", "submit", "button", "reset"].includes(el.type)) return;
    if (!nameOf(el)) problems.push(`form control without a label: ${describe(el)}`);
  });
  document.querySelectorAll("button, a[href], summary").forEach((el) => {
    if (!nameOf(el) && !el.querySelector("img[alt], svg[aria-label], svg title")) problems.push(`no accessible name: ${describe(el)}`);
  });
  document.querySelectorAll("img").forEach((img) => { if (!img.hasAttribute("alt")) problems.push("img without alt"); });
  document.querySelectorAll("svg[role='img']").forEach((svg) => {
    if (!nameOf(svg)) problems.push(`chart without a text alternative: ${describe(svg)}`);
  });

  // Contrast
  const parse = (value) => {
    const m = value.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const parts = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return { r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1 };
  };
  const blend = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a), g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a), a: 1,
  });
  const background = (el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const bg = parse(getComputedStyle(node).backgroundColor);
      if (bg && bg.a > 0) { layers.push(bg); if (bg.a >= 1) break; }
    }
    let colour = { r: 255, g: 255, b: 255, a: 1 };
    for (let i = layers.length - 1; i >= 0; i--) colour = blend(layers[i], colour);
    return colour;
  };
  const luminance = ({ r, g, b }) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => { const [l1, l2] = [luminance(a), luminance(b)].sort((x, y) => y - x); return (l1 + 0.05) / (l2 + 0.05); };
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    const el = walker.currentNode.parentElement;
    if (!text || !el || seen.has(el) || el.closest("svg, option, script, style")) continue;
    seen.add(el);
    if (!visible(el)) continue;
    const style = getComputedStyle(el);
    if (Number(style.opacity) < 1 || el.closest("[disabled]")) continue;
    const fg = parse(style.color);
    if (!fg) continue;
    const bg = background(el);
    const size = parseFloat(style.fontSize);
    const bold = Number(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    const got = ratio(blend(fg, bg), bg);
    if (got < needed) problems.push(`contrast ${got.toFixed(2)}:1 < ${needed}:1 for "${text.slice(0, 30)}" (${describe(el)})`);
  }
  return problems;
}
"""


def check(page) -> list[str]:
    """Run the check on the current page; returns the list of problems (empty when all is well)."""
    return page.evaluate(CHECK)
