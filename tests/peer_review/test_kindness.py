"""The kindness nudge's phrase list: whole words in any case, each phrasing once, with a
suggestion; ordinary critical feedback passes."""

import pytest

from app.peer_review.kindness import harsh_phrasings


@pytest.mark.parametrize("text, phrases", [
    ("This is useless.", ["this is useless"]),
    ("Honestly, USELESS and lazy", ["useless", "lazy"]),
    ("You always rush the ending; you never cite sources", ["you always", "you never"]),
    ("It makes no sense, and it’s clear you didn’t even try",
     ["makes no sense", "didn't even try"]),
    ("What a waste of my time", ["waste of my time"]),
])
def test_harsh_or_absolute_phrasings_are_found_with_a_suggestion(text, phrases):
    found = harsh_phrasings(text)
    assert [f.phrase for f in found] == phrases
    assert all(len(f.suggestion) > 20 for f in found)


@pytest.mark.parametrize("text", [
    "The used lessons were fine.",            # "useless" only as a whole word
    "The second slide lost me; I expected the numbers first.",
    "I would cut the intro and lead with the ask.",
    "Shatter the myth? Nice image.",           # "hate" inside a word
    "",
])
def test_ordinary_critical_feedback_passes(text):
    assert harsh_phrasings(text) == []


def test_each_phrasing_is_reported_once_across_all_comments():
    found = harsh_phrasings("This is useless.", "Really useless", "this is useless")
    assert [f.phrase for f in found] == ["this is useless"]
