"""The kindness nudge: a small, curated list of harsh or absolute phrasings in feedback, each
with a gentler way to say what the reviewer means.

It is a nudge, not a filter: the reviewer sees what was found and may change it or submit
as it is. Feedback submitted unchanged is held for a facilitator before its author reads it
(when the cohort keeps the hold on, the default). Matching is on whole words, any case, so
"useless" is found and "used lessons" is not.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Finding:
    """A phrasing that was found, and what to try instead."""

    phrase: str
    suggestion: str


#: (pattern, suggestion). Patterns are regular expressions matched as whole words.
_PHRASINGS: tuple[tuple[str, str], ...] = (
    (r"(?:this|it|that) (?:is|was) (?:useless|worthless|pointless|garbage|rubbish|trash)",
     "Say what the work does not do yet, and what would make it useful to you."),
    (r"useless|worthless|pointless|garbage|rubbish|pathetic|terrible|awful|horrible",
     "Name the part that did not work for you and why, instead of judging the whole."),
    (r"stupid|dumb|idiotic|lazy|incompetent|clueless",
     "Describe the work, never the person: what in it could be clearer?"),
    (r"you (?:always|never)",
     "Point to this piece of work rather than to what someone always or never does."),
    (r"makes? no sense|nonsense",
     "Say where you lost the thread: \"I could not follow the step from … to …\"."),
    (r"(?:this|it) is (?:wrong|bad)|completely wrong|totally wrong|all wrong",
     "Say which part you see differently, and what you would expect instead."),
    (r"(?:did|do)(?: not|n't) even (?:try|bother)|zero effort|no effort",
     "Assume effort; suggest the one change that would most improve it."),
    (r"what were you thinking|obviously|any idiot|even a child",
     "Take out what reads as a put-down and keep the point you are making."),
    (r"waste of (?:time|my time)",
     "Tell the author what you would have wanted to find in it."),
    (r"hate|sucks?",
     "Say what did not work for you, and what would make it work."),
)

_COMPILED = tuple((re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE), suggestion)
                  for pattern, suggestion in _PHRASINGS)


def harsh_phrasings(*texts: str) -> list[Finding]:
    """The harsh or absolute phrasings in ``texts``, each once, in the order found."""
    found: dict[str, Finding] = {}
    for text in texts:
        if not text:
            continue
        # Curly apostrophes as straight ones, so "don’t even try" is found too.
        text = text.replace("\u2019", "'")
        for pattern, suggestion in _COMPILED:
            for match in pattern.finditer(text):
                phrase = match.group(0).lower()
                if not any(phrase in seen for seen in found):
                    found[phrase] = Finding(phrase, suggestion)
    return list(found.values())
