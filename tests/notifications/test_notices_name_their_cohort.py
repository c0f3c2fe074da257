"""Every notice and e-mail says which cohort it is about: people often take part in more
than one, and "New module open: Week 2" alone does not say where."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.cohorts.authoring import launch_cohort
from app.cohorts.models import CohortModule
from app.cohorts.releases import release_module
from app.cohorts.roster import add_member as enrol
from app.mail import OutboxEmail
from app.notifications.models import Notification, NotificationPreference
from tests.factories import add_member, create_module, create_program, create_user


def _two_cohorts_of_one_program(app, db):
    """One program run twice ("North" and "South"): the same module titles in both."""
    now = datetime.now(UTC)
    with db() as session:
        owner = create_user(session, can_own_programs=True)
        program = create_program(session, owner=owner)
        create_module(session, program, title="Week 2", release_offset_days=8)
    with app.app_context():
        north = launch_cohort(owner, program.id, name="North", timezone="UTC",
                              starts_on=now.date(), anonymity="off", now=now)
        south = launch_cohort(owner, program.id, name="South", timezone="UTC",
                              starts_on=now.date(), anonymity="off", now=now)
    with db() as session:
        learner = create_user(session)
        for cohort in (north, south):
            add_member(session, cohort, learner)
        session.add(NotificationPreference(user_id=learner.id, kind="module_released",
                                           delivery="email"))
        modules = {c.name: session.scalar(select(CohortModule.id).where(
            CohortModule.cohort_id == c.id)) for c in (north, south)}
    return owner, north, learner, modules, now


def test_a_release_notice_and_its_email_name_the_cohort(app, db):
    _, _, learner, modules, now = _two_cohorts_of_one_program(app, db)
    with app.app_context():
        for module_id in modules.values():
            assert release_module(module_id, now=now + timedelta(days=9))
    with db() as session:
        titles = session.scalars(select(Notification.title).where(
            Notification.user_id == learner.id).order_by(Notification.title)).all()
        subjects = session.scalars(select(OutboxEmail.subject).where(
            OutboxEmail.user_id == learner.id).order_by(OutboxEmail.subject)).all()
        bodies = session.scalars(select(Notification.body).where(
            Notification.user_id == learner.id).order_by(Notification.body)).all()
    assert titles == subjects == ["New module open in North: Week 2",
                                  "New module open in South: Week 2"]
    assert bodies == ["“Week 2” is now open in North.", "“Week 2” is now open in South."]


def test_an_invitation_to_a_cohort_names_it_in_the_subject(app, db):
    owner, north, _, _, now = _two_cohorts_of_one_program(app, db)
    with app.app_context():
        enrol(owner, north.id, email="newcomer@example.com", name="New Comer",
              role="learner", now=now)
    with db() as session:
        subject = session.scalar(select(OutboxEmail.subject).where(
            OutboxEmail.to_address == "newcomer@example.com"))
    assert subject == "You are invited to North on Cohort Commons"
