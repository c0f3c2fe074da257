"""User content: Markdown to HTML, cleaned by an allowlist. The only place that imports bleach."""

from functools import partial

import bleach
from bleach.linkifier import LinkifyFilter
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
})
ALLOWED_ATTRIBUTES = {"a": ["href", "title"], "th": ["align"], "td": ["align"], "ol": ["start"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
#: Tags that every known sanitizer bypass needs; the allowlist must never contain them.
FORBIDDEN_TAGS = frozenset({
    "script", "style", "svg", "math", "noscript", "iframe", "textarea", "title", "xmp",
    "noembed", "noframes", "plaintext", "img", "object", "embed", "form", "input",
})

# Raw HTML in Markdown is escaped by the parser, then the result is cleaned anyway.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_markdown.disable("image")


def _nofollow(attrs, new=False):
    """Mark user links as untrusted and keep the opener from being reachable."""
    if (None, "href") in attrs:
        attrs[(None, "rel")] = "nofollow noopener noreferrer"
    return attrs


# Cleaning and linkifying happen in one pass, as bleach recommends.
_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS, attributes={**ALLOWED_ATTRIBUTES, "a": ["href", "title", "rel"]},
    protocols=ALLOWED_PROTOCOLS, strip=True, strip_comments=True,
    filters=[partial(LinkifyFilter, callbacks=[_nofollow], parse_email=False,
                     skip_tags={"pre", "code"})],
)


def clean_html(html: str) -> str:
    """Clean HTML through the allowlist."""
    return _cleaner.clean(html)


def render_markdown(text: str) -> Markup:
    """Render user Markdown to safe HTML for an element context (never an attribute)."""
    return Markup(_cleaner.clean(_markdown.render(text or "")))  # noqa: S704 (cleaned above)
