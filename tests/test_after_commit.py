"""One after-commit hook (app.db.after_commit): side effects only for what was saved.

Live events, scheduler job changes and socket closes all go through it, so these rules hold
for each of them; the realtime tests check the events end to end.
"""

import logging

import pytest
from sqlalchemy.exc import IntegrityError

from app import scheduler
from app.accounts.models import User
from app.db import after_commit, after_commit_batch, get_session, transaction
from tests.factories import create_user


def _record(calls: list, name: str):
    """A callback that notes its name when it runs."""
    return lambda: calls.append(name)


def test_callbacks_run_once_the_outer_transaction_commits(app):
    calls = []
    with app.app_context():
        with transaction():
            after_commit(_record(calls, "outer"))
            with transaction():  # a service calling another joins the outer transaction
                after_commit(_record(calls, "inner"))
            assert calls == []
        assert calls == ["outer", "inner"]
        with transaction():
            pass
        assert calls == ["outer", "inner"]  # run once, not again at the next commit


def test_a_rolled_back_transaction_runs_nothing(app):
    calls = []
    with app.app_context():
        with pytest.raises(RuntimeError), transaction():
            after_commit(_record(calls, "lost"))
            raise RuntimeError("the action failed")
        with transaction():
            after_commit(_record(calls, "kept"))
    assert calls == ["kept"]


def test_a_failed_commit_runs_nothing(app):
    calls = []
    with app.app_context():
        with transaction() as session:
            create_user(session, email="taken@example.com")
        with pytest.raises(IntegrityError), transaction() as session:
            after_commit(_record(calls, "lost"))
            session.add(User(email="taken@example.com", name="Duplicate"))
        with transaction():
            pass
    assert calls == []


def test_a_rolled_back_savepoint_drops_exactly_its_own_callbacks(app):
    calls, batched = [], []
    with app.app_context():
        create_user(get_session(), email="taken@example.com")
        with transaction() as session:
            after_commit(_record(calls, "before"))
            after_commit_batch(batched.extend, 1)
            with pytest.raises(IntegrityError), session.begin_nested():
                after_commit(_record(calls, "in the failed savepoint"))
                after_commit_batch(batched.extend, 2)
                session.add(User(email="taken@example.com", name="Duplicate"))
                session.flush()
            with session.begin_nested():
                after_commit(_record(calls, "in a kept savepoint"))
                after_commit_batch(batched.extend, 3)
            assert calls == [] and batched == []
    assert calls == ["before", "in a kept savepoint"]
    assert batched == [1, 3]


def test_a_batch_is_one_call_with_its_items_in_order(app):
    calls = []

    def send(items):
        calls.append(("send", list(items)))

    with app.app_context(), transaction():
        after_commit(lambda: calls.append("first"))
        after_commit_batch(send, "a")
        after_commit(lambda: calls.append("second"))
        after_commit_batch(send, "b")
        after_commit_batch(send, "c")
    assert calls == ["first", ("send", ["a", "b", "c"]), "second"]


def test_outside_a_transaction_a_callback_runs_at_once(app):
    calls = []
    with app.app_context():
        after_commit(_record(calls, "now"))
        assert calls == ["now"]


def test_a_failing_callback_is_logged_and_the_others_still_run(app, caplog):
    calls = []

    def fail():
        raise RuntimeError("the socket server is gone")

    with app.app_context(), caplog.at_level(logging.ERROR, logger="app.db"), transaction():
        after_commit(fail)
        after_commit(_record(calls, "after"))
    assert calls == ["after"]
    assert "an after-commit callback failed" in caplog.text


def test_scheduler_changes_of_a_rolled_back_savepoint_are_dropped(app, monkeypatch):
    applied = []
    monkeypatch.setattr(scheduler, "get_scheduler", lambda: "the scheduler")
    with app.app_context():
        create_user(get_session(), email="taken@example.com")
        with transaction() as session:
            scheduler.change_after_commit(lambda s: applied.append((s, "kept")))
            with pytest.raises(IntegrityError), session.begin_nested():
                scheduler.change_after_commit(lambda s: applied.append((s, "dropped")))
                session.add(User(email="taken@example.com", name="Duplicate"))
                session.flush()
    assert applied == [("the scheduler", "kept")]
