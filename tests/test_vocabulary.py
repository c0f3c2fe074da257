"""The product speaks one vocabulary (docs/vocabulary.md): no page, notification, e-mail,
flash message or API error message uses a word it rules out.

Pages are read as their visible text (Jinja code, HTML tags and scripts removed) plus the
attributes people read (``title``, ``aria-label``, ``placeholder``, ``alt``). Messages are
the string literals passed to ``notify`` (titles and bodies of notifications and e-mails),
the domain errors, ``flash`` and form fields (labels, descriptions). A literal without a
space is a code identifier (a dedupe key, a field name, a path) and is left alone, as are
the ``code`` and ``dedupe_key`` arguments: code keeps its names.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "app" / "templates"

#: Words the vocabulary rules out in user-facing text, with the word to use instead.
FORBIDDEN = {
    r"\breleas(?:e|es|ed|ing)\b": "opens / opened / open (modules); passed on (reviews)",
    r"\bunlock(?:s|ed|ing)?\b": "opens (stages); plain words for post first",
    r"\bpublish(?:es|ed|ing)?\b": "opens / posts",
    r"\bthreads?\b": "discussion",
    r"\bforums?\b": "discussion",
    r"\bnotices?\b": "notification",
    r"\b(?:students?|participants?|attendees?|trainees?)\b": "learner / members",
    r"\b(?:teachers?|instructors?|tutors?|moderators?)\b": "facilitator",
    r"\b(?:courses?|lessons?)\b": "program / module",
}
#: Phrases the vocabulary allows although they contain a forbidden word, removed first.
ALLOWED = [
    # The staff's established action that opens a module at once ("Release now",
    # "Release “Week 2” now?", "release the module now").
    r"\brelease\b[^.?!:]{0,60}?\bnow\b",
    # The facilitator's lock on a discussion, and its counterpart.
    r"\bunlock the discussion\b",
]
#: Calls whose string arguments people read.
MESSAGE_CALLS = {"notify", "Conflict", "Invalid", "NotAllowed", "NotFound", "flash",
                 "InputRequired", "DataRequired"}
#: Keyword arguments that are code, whatever they hold.
CODE_KEYWORDS = {"code", "dedupe_key", "kind", "category"}

JINJA = re.compile(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", re.S)
HIDDEN = re.compile(r"<script\b.*?</script>|<style\b.*?</style>|<!--.*?-->", re.S | re.I)
READ_ATTRIBUTES = re.compile(r"""\b(?:title|aria-label|placeholder|alt)\s*=\s*(["'])(.*?)\1""",
                             re.S | re.I)
TAG = re.compile(r"<[^>]*>", re.S)


def problems_in(text: str) -> list[str]:
    """The forbidden words in a piece of user-facing text, after the allowed phrases."""
    for allowed in ALLOWED:
        text = re.sub(allowed, " ", text, flags=re.I)
    return [f"{match.group(0)!r} (say: {instead})"
            for pattern, instead in FORBIDDEN.items()
            for match in re.finditer(pattern, text, flags=re.I)]


def template_text(source: str) -> str:
    """What a reader of the rendered page sees of a template: its text and read attributes."""
    source = HIDDEN.sub(" ", JINJA.sub(" ", source))
    attributes = " . ".join(value for _, value in READ_ATTRIBUTES.findall(source))
    return f"{TAG.sub(' ', source)} . {attributes}"


def messages_in(source: str) -> list[tuple[int, str]]:
    """(line, text) of the string literals a module passes to user-facing calls."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", "")
        # Form fields (``StringField`` …) are read; the API schemas' ``Field`` descriptions
        # document fields named in code (``release_at``) for integrators, and may use them.
        if name not in MESSAGE_CALLS and not (name.endswith("Field") and name != "Field"):
            continue
        arguments = [*node.args, *(k.value for k in node.keywords
                                   if k.arg not in CODE_KEYWORDS)]
        for argument in arguments:
            for sub in ast.walk(argument):
                if (isinstance(sub, ast.Constant) and isinstance(sub.value, str)
                        and re.search(r"\s", sub.value)):
                    found.append((sub.lineno, sub.value))
    return found


def test_pages_use_the_vocabulary():
    found = [f"{path.relative_to(ROOT)}: {problem}"
             for path in sorted(TEMPLATES.rglob("*.html"))
             for problem in problems_in(template_text(path.read_text()))]
    assert not found, "see docs/vocabulary.md:\n" + "\n".join(found)


def test_messages_use_the_vocabulary():
    found = [f"{path.relative_to(ROOT)}:{line}: {problem}"
             for path in sorted((ROOT / "app").rglob("*.py"))
             for line, text in messages_in(path.read_text())
             for problem in problems_in(text)]
    assert not found, "see docs/vocabulary.md:\n" + "\n".join(found)


@pytest.mark.parametrize("text,bad", [
    ("<p>Not released yet.</p>", True),
    ('<a title="Open the thread" href="{{ url_for(\'threads.thread\') }}">Go</a>', True),
    ("<p>{{ module.released_at }} Opens {{ when(module.release_at, cohort) }}</p>", False),
    ("<button>Release now and notify</button><h1>Release “{{ m.title }}” now?</h1>", False),
    ("<p>A release cannot be undone.</p>", True),
    ('<div class="thread-page" data-thread-id="1">Discussion</div>', False),
])
def test_the_check_reads_pages_as_people_do(text, bad):
    assert bool(problems_in(template_text(text))) is bad


def test_the_check_reads_messages_and_leaves_code_alone():
    source = ('raise Conflict("This module is already released.", code="already_released")\n'
              'notify("module_released", q, dedupe_key=f"release:{i}", title="A notice")\n'
              'flash("Replies stay in the discussion.")\n')
    assert [problems_in(text) != [] for _, text in messages_in(source)] == [True, True, False]
