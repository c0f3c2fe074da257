"""Anonymous posting: pseudonyms, the policy a post is shown under, and the one function
that turns a post's author into what a given viewer may see.

:func:`present_author` is the only path from a post to a name. Pages, the API, live
events, notifications, e-mails, exports, revisions and the audit view all call it, so the
anonymity rules of DESIGN.md hold on every channel at once:

- ``off`` (a named post): everyone sees the author's name.
- ``peers``: learners see the pseudonym; facilitators and the program's owner see who
  wrote it as well (duty of care).
- ``everyone``: nobody sees who wrote it — only a break-glass reveal, approved by a
  second owner or admin, shows it, to the person who asked.

A post is shown under the stronger of the policy it was written under and the cohort's
current one: a cohort's policy can be made stronger for everything, never weaker for
posts already written. The author always sees their own post as theirs.
"""

import hashlib
import hmac
from dataclasses import dataclass

from flask import current_app

from app.cohorts.access import CohortAccess
from app.cohorts.models import ANONYMITY_POLICIES

#: Policies from weakest to strongest (the cohort model's list, which is in that order).
POLICIES = ANONYMITY_POLICIES

#: Pseudonyms are "Anonymous" and one of these (a number is added once a thread has used
#: them all). Animals read kindly and say nothing about the person.
ANIMALS = (
    "Albatross", "Alpaca", "Badger", "Bear", "Beaver", "Bison", "Bluebird", "Bobcat",
    "Buffalo", "Camel", "Caribou", "Cheetah", "Chipmunk", "Cormorant", "Coyote", "Crane",
    "Dolphin", "Dove", "Eagle", "Egret", "Elk", "Falcon", "Ferret", "Finch", "Flamingo",
    "Fox", "Gazelle", "Gecko", "Gibbon", "Giraffe", "Goose", "Gull", "Hare", "Hawk",
    "Hedgehog", "Heron", "Hummingbird", "Ibex", "Ibis", "Jackal", "Jay", "Kestrel",
    "Kingfisher", "Kite", "Koala", "Lark", "Lemur", "Leopard", "Lynx", "Magpie", "Manatee",
    "Marmot", "Marten", "Meerkat", "Mink", "Moose", "Narwhal", "Newt", "Nightingale",
    "Ocelot", "Orca", "Osprey", "Otter", "Owl", "Panda", "Panther", "Pelican", "Penguin",
    "Pheasant", "Plover", "Puffin", "Quail", "Rabbit", "Raven", "Robin", "Salamander",
    "Sandpiper", "Seal", "Sparrow", "Squirrel", "Starling", "Stork", "Swallow", "Swan",
    "Swift", "Tapir", "Tern", "Tortoise", "Toucan", "Turtle", "Vole", "Walrus", "Warbler",
    "Weasel", "Whale", "Wolf", "Wombat", "Wren", "Yak", "Zebra",
)


def stronger(first: str, second: str) -> str:
    """The stronger of two anonymity policies."""
    return max(first, second, key=POLICIES.index)


def pseudonym_candidate(thread_id: int, user_id: int, attempt: int) -> str:
    """The ``attempt``-th pseudonym to try for a person in a thread.

    A keyed hash (HMAC-SHA256 with a key derived from the app's secret) of the thread and
    the person picks it, so it is stable within a thread, unrelated across threads, and
    cannot be worked back to a user id without the server's secret. Attempts after the
    first resolve clashes with someone else's pseudonym in the same thread.
    """
    key = hmac.new(current_app.config["SECRET_KEY"].encode(), b"pseudonym",
                   hashlib.sha256).digest()
    digest = hmac.new(key, f"{thread_id}:{user_id}:{attempt}".encode(), hashlib.sha256)
    animal = ANIMALS[int.from_bytes(digest.digest()[:8], "big") % len(ANIMALS)]
    if attempt >= 2 * len(ANIMALS):
        return f"Anonymous {animal} {attempt - 2 * len(ANIMALS) + 2}"
    return f"Anonymous {animal}"


@dataclass(frozen=True)
class AuthorView:
    """A post's author as one viewer may see them."""

    #: What to show: a name, a pseudonym, or a pseudonym with the name for staff.
    label: str
    #: The pseudonym the post carries, if anonymous.
    pseudonym: str | None
    #: The author's real name, only when this viewer may see it.
    name: str | None
    #: The author's user id, only when this viewer may see who wrote the post.
    user_id: int | None
    #: The viewer wrote the post.
    is_you: bool
    #: The post is anonymous (to this viewer or to others).
    anonymous: bool
    #: The author is one of the cohort's staff (shown as a badge on named posts only).
    is_staff: bool


def shown_policy(post, cohort_policy: str) -> str:
    """The policy a post is shown under: the stronger of its own and the cohort's."""
    if not post.is_anonymous:
        return "off"
    return stronger(post.anonymity, cohort_policy)


def present_author(post, viewer: CohortAccess, author_name: str, *,
                   policy: str | None = None) -> AuthorView:
    """The only path from a post to its author's identity (see the module docstring).

    ``author_name`` is the author's name as loaded with the post; it is returned only when
    this viewer may see it. ``post`` is anything with a post's ``is_anonymous``,
    ``anonymity``, ``pseudonym``, ``author_id`` and ``by_staff``: peer review presents
    reviewers and authors through here too, with its own fixed ``policy`` (double-blind is
    ``peers``: facilitators always see both sides) instead of the cohort's.
    """
    is_you = post.author_id == viewer.user.id
    if not post.is_anonymous:
        return AuthorView(label=author_name, pseudonym=None, name=author_name,
                          user_id=post.author_id, is_you=is_you, anonymous=False,
                          is_staff=post.by_staff)
    if policy is None:
        policy = shown_policy(post, viewer.cohort.anonymity)
    if is_you:
        return AuthorView(label=f"{post.pseudonym} (you)", pseudonym=post.pseudonym,
                          name=author_name, user_id=post.author_id, is_you=True,
                          anonymous=True, is_staff=False)
    if policy == "peers" and viewer.is_staff:
        return AuthorView(label=f"{post.pseudonym} ({author_name})", pseudonym=post.pseudonym,
                          name=author_name, user_id=post.author_id, is_you=False,
                          anonymous=True, is_staff=False)
    return AuthorView(label=post.pseudonym, pseudonym=post.pseudonym, name=None,
                      user_id=None, is_you=False, anonymous=True, is_staff=False)


def who_sees_the_name(policy: str) -> dict[str, str]:
    """What the composer tells an author before they post, for each choice they can make.

    ``named`` is said of a named post, ``anonymous`` of an anonymous one under the
    cohort's policy (absent when the policy is ``off``).
    """
    named = "Everyone in the cohort will see your name on this post."
    if policy == "off":
        return {"named": named}
    if policy == "peers":
        anonymous = ("Learners will see a pseudonym. Facilitators and the program's owner "
                     "will see your name.")
    else:
        anonymous = ("Nobody in the cohort will see your name, facilitators included. Only "
                     "a reveal that two owners or admins agree to, with a written reason, "
                     "can show it, and you would be told who asked and why.")
    return {"named": named, "anonymous": anonymous}
