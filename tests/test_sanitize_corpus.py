"""Known injection payloads (tests/sanitize_corpus.txt) through app/sanitize.py.

Whatever goes in, the output is read back with a real HTML parser and must hold allowlisted
tags and attributes only: no handlers, no styles, no comments, no tag that runs or loads
anything, and links only to http, https, mailto or relative addresses, each marked ugc.
The forbidden tags, the schemes and the rel are written out here rather than imported, so
that loosening them in the module shows.
"""

import re
from collections import Counter
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from app.sanitize import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, FORBIDDEN_TAGS, clean_html, render_html

CORPUS = Path(__file__).with_name("sanitize_corpus.txt")
SAFE_SCHEMES = {"http", "https", "mailto"}
REL = "nofollow noopener ugc"
#: Never in cleaned output: they run script, load from elsewhere, submit, or parse their
#: content as raw text (what mutation XSS relies on).
FORBIDDEN = {
    "script", "style", "svg", "math", "iframe", "frame", "frameset", "form", "input",
    "button", "select", "option", "textarea", "title", "xmp", "noembed", "noframes",
    "plaintext", "noscript", "template", "object", "embed", "applet", "base", "meta", "link",
    "img", "image", "video", "audio", "source", "isindex",
}
#: The renderers under test: Markdown as users write it, and raw HTML straight to the cleaner
#: (Markdown shows raw HTML as text, so only this path shows what the cleaner itself does).
RENDERERS = {"markdown": render_html, "html": clean_html}
#: Characters that browsers skip or that may hide a scheme, each put inside "javascript:".
CONTROLS = "\x00\x01\x08\x09\x0a\x0b\x0c\x0d\x1f\x7f\xa0"


def load_corpus(path: Path = CORPUS) -> list[tuple[str, str]]:
    """(class, payload) pairs: a payload follows a "%%" line; "%% name" starts a class."""
    entries: list[tuple[str, list[str]]] = []
    kind = None
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.startswith("%%"):
            kind = line[2:].strip() or kind
            entries.append((kind, []))
        elif entries:
            entries[-1][1].append(line)
    return [(kind, "\n".join(lines).removesuffix("\n")) for kind, lines in entries]


def case_ids(cases: list[tuple[str, str]]) -> list[str]:
    """Test ids: each payload's class and place in it ("markdown-links-3")."""
    seen: Counter[str] = Counter()
    ids = []
    for kind, _ in cases:
        seen[kind] += 1
        ids.append(f"{kind}-{seen[kind]}")
    return ids


CASES = load_corpus()
CONTROL_CASES = [
    *(f"[x](java{c}script:alert(1))" for c in CONTROLS),
    *(f"[x]({c}javascript:alert(1))" for c in CONTROLS),
    *(f'<a href="java{c}script:alert(1)">x</a>' for c in CONTROLS),
    *(f'<a href="{c}javascript:alert(1)">x</a>' for c in CONTROLS),
]


class Parsed(HTMLParser):
    """The tags, attributes (entity-decoded) and anything but elements and text in a page."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.end_tags: list[str] = []
        self.others: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs) -> None:
        """Record a start tag with its attributes."""
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs) -> None:
        """Record a self-closing tag like a start tag."""
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag) -> None:
        """Record an end tag."""
        self.end_tags.append(tag)

    def handle_comment(self, data) -> None:
        """Record a comment."""
        self.others.append(f"comment {data!r}")

    def handle_decl(self, decl) -> None:
        """Record a declaration (<!DOCTYPE …>)."""
        self.others.append(f"declaration {decl!r}")

    def unknown_decl(self, data) -> None:
        """Record a marked section (<![CDATA[…]]>)."""
        self.others.append(f"marked section {data!r}")

    def handle_pi(self, data) -> None:
        """Record a processing instruction (<?…>)."""
        self.others.append(f"processing instruction {data!r}")


def scheme(href: str) -> str | None:
    """The scheme in an address, read as strictly as a browser could read it."""
    # The parser decoded entities once; decoding again only makes the check stricter.
    bare = re.sub(r"[\x00-\x20\x7f-\xa0\s]+", "", unescape(href))
    found = re.match(r"([a-z][a-z0-9+.-]*):", bare, re.IGNORECASE)
    return found[1].lower() if found else None


def problems(markup: str) -> list[str]:
    """Everything in cleaned HTML that breaks the rules, as readable lines (none is good)."""
    parsed = Parsed(markup)
    found = list(parsed.others)
    for tag, attrs in parsed.tags:
        if tag not in ALLOWED_TAGS or tag in FORBIDDEN:
            found.append(f"tag <{tag}>")
        allowed = {*ALLOWED_ATTRIBUTES.get(tag, ()), *(("rel",) if tag == "a" else ())}
        for name, value in attrs:
            if name.startswith("on") or name == "style" or name not in allowed:
                found.append(f"attribute {name!r} on <{tag}>")
            if name == "href" and scheme(value or "") not in {None, *SAFE_SCHEMES}:
                found.append(f"href {value!r}")
        names = [name for name, _ in attrs]
        if len(names) != len(set(names)):
            found.append(f"repeated attribute on <{tag}>: {names}")
        if tag == "a" and "href" in names and dict(attrs).get("rel") != REL:
            found.append(f"link without rel {REL!r}: {attrs}")
    found += [f"end tag </{tag}>" for tag in parsed.end_tags if tag not in ALLOWED_TAGS]
    return found


@pytest.mark.parametrize("renderer", RENDERERS)
@pytest.mark.parametrize("payload", [payload for _, payload in CASES], ids=case_ids(CASES))
def test_payload_comes_out_harmless(renderer, payload):
    output = RENDERERS[renderer](payload)
    assert problems(output) == [], output
    # A browser parses the output again. What Markdown makes comes back unchanged; raw HTML
    # may not (html5lib keeps an <a> inside an <a> that a second parse splits), but it
    # stays harmless.
    again = clean_html(output)
    assert problems(again) == [], again
    if renderer == "markdown":
        assert again == output


@pytest.mark.parametrize("renderer", RENDERERS)
@pytest.mark.parametrize("payload", CONTROL_CASES, ids=lambda p: ascii(p)[1:-1])
def test_control_characters_hide_no_scheme(renderer, payload):
    output = RENDERERS[renderer](payload)
    assert problems(output) == [], output


def test_corpus_covers_every_class():
    assert all(payload.strip() for _, payload in CASES)
    counts = Counter(kind for kind, _ in CASES)
    assert len(CASES) >= 150
    assert set(counts) >= {
        "event-handlers", "javascript-urls", "other-schemes", "svg-mathml", "mutation-xss",
        "markdown-links", "markdown-images", "html-in-markdown", "encodings", "broken-tags",
        "forbidden-elements", "attribute-injection",
    }
    assert min(counts.values()) >= 10, counts


def test_the_checker_sees_what_it_must_refuse():
    assert problems('<a href="https://example.com">x</a>')  # no rel
    assert problems('<a href="java&#9;script:alert(1)" rel="nofollow noopener ugc">x</a>')
    assert problems('<p onclick="x">x</p>') and problems('<p style="x">x</p>')
    assert problems("<img src=x>") and problems("<!-- x -->") and problems("<svg></svg>")
    assert problems('<a href="/a" rel="nofollow noopener ugc">x</a>') == []


def test_the_allowlist_holds_no_forbidden_tag():
    assert ALLOWED_TAGS.isdisjoint(FORBIDDEN) and ALLOWED_TAGS.isdisjoint(FORBIDDEN_TAGS)
    assert FORBIDDEN - {"image", "video", "audio", "source", "isindex"} <= FORBIDDEN_TAGS


def test_a_link_is_marked_as_user_content():
    assert (render_html("[site](https://example.com/a?b=1)")
            == '<p><a href="https://example.com/a?b=1" rel="nofollow noopener ugc">site</a></p>\n')
    assert (render_html("see https://example.com")
            == '<p>see <a href="https://example.com" rel="nofollow noopener ugc">'
               "https://example.com</a></p>\n")


def test_an_image_is_a_plain_link_never_an_img():
    output = render_html("![alt](http://x/y.png)")
    assert [tag for tag, _ in Parsed(output).tags] == ["p", "a"]
    assert output == '<p>!<a href="http://x/y.png" rel="nofollow noopener ugc">alt</a></p>\n'


def test_a_mailto_link_is_kept():
    output = render_html("[write](mailto:someone@example.com)")
    assert output == ('<p><a href="mailto:someone@example.com" rel="nofollow noopener ugc">'
                      "write</a></p>\n")


@pytest.mark.parametrize("payload", [
    "[call](tel:5551234)", "[call](tel:+1-555-1234)", "[x](javascript:alert(1))",
    "[x](ms-settings:1)", '<a href="javascript:1">x</a>', '<a href="tel:5551234">x</a>',
])
def test_a_link_to_another_scheme_loses_its_address(payload):
    output = render_html(payload) if payload.startswith("[") else clean_html(payload)
    assert "href" not in output and "rel=" not in output
