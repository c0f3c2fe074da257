"""Each member's part in a cohort's discussions, as its staff count it on the Members view:
reflections posted and replies given to peers.

Deleted posts do not count, nor replies under one's own post (as for
``ThreadParticipant.replies_given``). A post whose author
the staff may not see — written or now shown under the ``everyone`` policy — is left out of
its author's counts too: a per-person number would otherwise point at who wrote it.
"""

from datetime import datetime

from sqlalchemy import Subquery, and_, func, select
from sqlalchemy.orm import aliased

from app.cohorts.models import Cohort
from app.discussions.models import Post


class PostCounts:
    """The discussions' member facts (see app.cohorts.members)."""

    def member_facts(self, cohort: Cohort, now: datetime) -> Subquery:
        """Reflections and replies per author in the cohort (one grouped subquery)."""
        named = (Post.anonymity == "off" if cohort.anonymity == "everyone"
                 else Post.anonymity != "everyone")
        parent = aliased(Post)
        to_peer = and_(Post.kind == "reply", parent.author_id != Post.author_id)
        return (select(Post.author_id.label("user_id"),
                       func.count().filter(Post.kind == "reflection").label("reflections"),
                       func.count().filter(to_peer).label("replies"))
                .outerjoin(parent, parent.id == Post.parent_id)
                .where(Post.cohort_id == cohort.id, Post.deleted_at.is_(None),
                       Post.created_at <= now, named)
                .group_by(Post.author_id).subquery())


provider = PostCounts()
