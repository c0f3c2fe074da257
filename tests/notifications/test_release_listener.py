"""Release notices reach members whatever else listens to releases, and only once."""

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from app import create_app
from app.cohorts.authoring import launch_cohort
from app.cohorts.models import CohortModule
from app.cohorts.releases import release_module
from app.cohorts.signals import module_released
from app.db import Model, get_database, get_session
from app.notifications.models import Notification
from app.notifications.services import notify_module_released
from tests.conftest import test_config as config_for_tests
from tests.factories import add_member, create_module, create_program, create_user

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


def test_notices_are_sent_when_another_feature_listened_first():
    """Discussions (say) connect to module_released before notifications do."""
    heard = []

    def another_feature(cohort_module, **_):
        heard.append(cohort_module.id)

    module_released.disconnect(notify_module_released)
    module_released.connect(another_feature)
    try:
        app = create_app(config_for_tests())  # notifications connect here, after the other
        create_app(config_for_tests())  # a second app in the same process connects nothing more
        Model.metadata.create_all(get_database(app).engine)
        with app.app_context():
            session = get_session()
            owner = create_user(session, can_own_programs=True)
            program = create_program(session, owner=owner)
            create_module(session, program)
            session.commit()
            cohort = launch_cohort(owner, program.id, name="Spring",
                                   starts_on=date(2026, 3, 2), timezone="UTC",
                                   anonymity="off", now=NOW)
            for _ in range(3):
                add_member(session, cohort)
            session.commit()
            module = session.scalars(select(CohortModule)).one()
            assert release_module(module.id, now=NOW) is True
            assert session.scalar(select(func.count()).select_from(Notification)) == 3
        assert heard == [module.id]
        assert list(module_released.receivers.values()).count(notify_module_released) == 1
        get_database(app).engine.dispose()
    finally:
        module_released.disconnect(another_feature)
        module_released.connect(notify_module_released, weak=False)
