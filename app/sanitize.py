"""User content: Markdown to HTML, cleaned by an allowlist. The only place that imports bleach.

Render on write: a model column of Markdown declares the column that holds its cleaned HTML
with :func:`keep_rendered`; whenever the Markdown is set through the ORM the HTML is rendered
beside it, in the same flush. Pages and the API only read the stored HTML, so a request that
shows content never parses Markdown or HTML. When these rules change, bump
:data:`RULES_VERSION` and run ``flask content rerender`` (see :func:`rerender_all`).

Raw HTML in Markdown is shown as text, and the rendered HTML is cleaned anyway: tags outside
:data:`ALLOWED_TAGS` are dropped (their text kept), attributes outside
:data:`ALLOWED_ATTRIBUTES` too, and comments. A link keeps its address only when that is
relative or http, https or mailto, and then gets ``rel`` :data:`LINK_REL`.

Images stay off. Markdown image syntax is not parsed, so ``![alt](url)`` shows a ``!`` and a
plain link to the picture, and ``img`` is not allowed either: no ``<img>`` is ever stored. A
remote image is fetched by every reader's browser as the page opens, which makes it a
tracking beacon that tells its host who read what, when and from which IP address.

bleach (with html5lib) and markdown-it are imported on first use: a web worker that only
reads stored HTML never loads them.
"""

import re
from collections.abc import Callable
from functools import cache, partial
from html import unescape

from markupsafe import Markup
from sqlalchemy import event, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

#: Bump whenever the allowlist, the Markdown options or the link rules change: the stored
#: HTML was made by an older version and ``flask content rerender`` must be run.
RULES_VERSION = 2

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
})
ALLOWED_ATTRIBUTES = {"a": ["href", "title"], "th": ["align"], "td": ["align"], "ol": ["start"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
#: Every link in user content: not endorsed (nofollow), marked as user-generated (ugc), and
#: the page it opens gets no handle on ours (noopener).
LINK_REL = "nofollow noopener ugc"
#: Tags the allowlist must never contain: they run script, load from elsewhere, submit, or
#: parse their content unlike other tags (what mutation XSS relies on).
FORBIDDEN_TAGS = frozenset({
    "script", "style", "svg", "math", "noscript", "iframe", "textarea", "title", "xmp",
    "noembed", "noframes", "plaintext", "img", "object", "embed", "form", "input",
    "base", "meta", "link", "frame", "frameset", "applet", "template", "select", "option",
    "button",
})


#: Whitespace and control characters, dropped before an address's scheme is read: browsers
#: skip some of them (``java&#9;script:``). Dropping too many only costs a link its address.
_IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f-\xa0\s]+")
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):", re.IGNORECASE)


def _url_scheme(href: str) -> str | None:
    """The scheme a browser reads in an attribute value, lowercase; None when it is relative."""
    found = _SCHEME.match(_IGNORED_IN_URL.sub("", unescape(href)))
    return found[1].lower() if found else None


def _mark_link(attrs, new=False):
    """Keep a link's address only for an allowed scheme, and mark the link as a user's.

    bleach checks schemes too, but lets through any ``scheme:digits`` (``tel:5551234``,
    ``javascript:1``), which its URL parser takes for a host and port.
    """
    href = attrs.get((None, "href"))
    if href is None:
        return attrs
    scheme = _url_scheme(href)
    if scheme is not None and scheme not in ALLOWED_PROTOCOLS:
        del attrs[(None, "href")]
        return attrs
    attrs[(None, "rel")] = LINK_REL
    return attrs


@cache
def _renderer() -> tuple[Callable[[str], str], Callable[[str], str]]:
    """The Markdown renderer and the cleaner, built once per process on first use."""
    import bleach
    from bleach.linkifier import LinkifyFilter
    from markdown_it import MarkdownIt

    # Raw HTML in Markdown is escaped by the parser, then the result is cleaned anyway.
    markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    markdown.disable("image")
    # Cleaning and linkifying happen in one pass, as bleach recommends. The cleaner drops
    # every rel; the link callback, run on every link after cleaning, sets the only one.
    cleaner = bleach.Cleaner(
        tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, protocols=ALLOWED_PROTOCOLS,
        strip=True, strip_comments=True,
        filters=[partial(LinkifyFilter, callbacks=[_mark_link], parse_email=False,
                         skip_tags={"pre", "code"})],
    )
    return markdown.render, cleaner.clean


def clean_html(html: str) -> str:
    """Clean HTML through the allowlist."""
    return _renderer()[1](html)


def render_html(text: str | None) -> str:
    """User Markdown as cleaned HTML, for storing beside its source (empty stays empty)."""
    if not text:
        return ""
    render, clean = _renderer()
    return clean(render(text))


def render_markdown(text: str | None) -> Markup:
    """Render user Markdown to safe HTML for an element context (never an attribute)."""
    return Markup(render_html(text))  # noqa: S704 (cleaned above)


#: Every (Markdown column, HTML column) pair declared with :func:`keep_rendered`.
RENDERED: list[tuple[InstrumentedAttribute, InstrumentedAttribute]] = []


def keep_rendered(source: InstrumentedAttribute, target: InstrumentedAttribute, *,
                  copied: bool = False) -> None:
    """Declare that ``target`` holds the cleaned HTML of ``source``.

    Setting the Markdown on a model object (in its constructor or later) renders the HTML
    at once. ``copied`` columns (a cohort's copy of a program's content, made at launch)
    are written together with the HTML they copy, never rendered again on the way, so
    they get no such hook. Either way :func:`rerender_all` covers them.
    """
    RENDERED.append((source, target))
    if copied:
        return
    name = target.key

    @event.listens_for(source, "set")
    def _render(instance, value, _old, _initiator) -> None:
        """Render the new Markdown into the HTML column."""
        setattr(instance, name, render_html(value))


def rerender_all(batch: int = 200) -> int:
    """Render every stored Markdown column again; return how many HTML values changed.

    Run (``flask content rerender``) after the cleaning rules change. Rows whose HTML is
    already current are not written; everything commits together.
    """
    from app.db import transaction

    with transaction() as session:
        return _rerender(session, batch)


def _rerender(session: Session, batch: int) -> int:
    """Render each declared column again in batches of rows, writing only what changed."""
    changed = 0
    for source, target in RENDERED:
        model = source.class_
        key = model.__mapper__.primary_key[0]
        last = None
        while True:
            query = select(key, source, target).order_by(key).limit(batch)
            if last is not None:
                query = query.where(key > last)
            rows = session.execute(query).all()
            if not rows:
                break
            for row_id, text, html in rows:
                fresh = render_html(text)
                if fresh != html:
                    session.execute(update(model).where(key == row_id).values({target: fresh})
                                    .execution_options(synchronize_session=False))
                    changed += 1
            last = rows[-1][0]
    return changed
