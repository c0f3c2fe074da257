"""Signals cohorts send, so later features can react without cohorts importing them."""

from blinker import Namespace

signals = Namespace()

#: Sent inside the release's transaction, once per release:
#: ``module_released.send(cohort_module, member_count=n, now=now)``; listeners select the
#: members themselves (set-based), the count tells them how many there are.
module_released = signals.signal("module-released")

#: Sent inside the launch transaction, after the modules are copied:
#: ``cohort_launched.send(cohort, modules={module_id: cohort_module_id}, now=now)``;
#: features copy their own parts of each module (the snapshot rule).
cohort_launched = signals.signal("cohort-launched")

#: Sent inside the transaction that sets or moves release times (launch, move, release
#: now): ``releases_scheduled.send(cohort, cohort_module_ids=[...], now=now)``; the
#: scheduler, when it runs in this process, updates those releases' jobs after the commit.
releases_scheduled = signals.signal("releases-scheduled")

#: Sent inside the removal transaction when someone leaves a cohort:
#: ``member_removed.send(cohort, user_id=user_id, now=now)``; features close what the
#: person could still follow (e.g. their live thread rooms).
member_removed = signals.signal("member-removed")

#: Sent inside the transaction that posts an announcement:
#: ``announcement_posted.send(announcement, cohort=cohort, author_name=name,
#: member_count=n, now=now)``; listeners tell the members (the count, as for releases,
#: says how many of them there are, the author aside).
announcement_posted = signals.signal("announcement-posted")
