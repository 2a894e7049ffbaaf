"""Shared pytest fixtures of the followup feature (loaded through pytest_plugins in conftest)."""

import io
from datetime import date, timedelta

import pytest

from tests.snapshots import cycle_state_fixtures


def approve(stage, world):
    from workflows import engine

    engine.fire(stage, "submit", actor=world["official"])
    engine.fire(stage, "approve", actor=world["head"])


def drive_to(cycle, code, world):
    """Fill and approve every stage before `code` (demo content), so that `code` is open (draft)."""
    from app.demo import fill_stage
    from tests.conftest import fill_goal, fill_indicators, fill_method

    official = world["official"]
    for stage in cycle.stages:
        if stage.code == code:
            break
        if stage.code == "GOAL":
            fill_goal(cycle, official)
        elif stage.code == "IND":
            fill_indicators(cycle, official)
        elif stage.code == "METH":
            fill_method(cycle, official)
        else:
            fill_stage(stage, official=official, head=world["head"])
        approve(stage, world)
    assert cycle.stage(code).state == "draft"


def _drive_to_rec(cycle, world):
    drive_to(cycle, "REC", world)


_rec_cycle_snapshot, _rec_cycle_state = cycle_state_fixtures("rec_cycle", _drive_to_rec)


@pytest.fixture
def rec_cycle(_rec_cycle_snapshot, _rec_cycle_state, world):
    """A municipal M1.1 cycle (the world's municipality, its official responsible, the first deadline in ten
    days) whose «Адресные рекомендации» stage is open, its analysis holding findings. Built once per session
    and copied into the test's transaction (tests/snapshots.py); the test's `world` is the one it was built in."""
    return _rec_cycle_state["cycle"]


def register_letters(rec, world):
    """Each addressee's letter «Адресные рекомендации» made, routed, signed and registered as the demo does: what
    the head's «Направить адресатам» requires (its outgoing number and date prove the sending). For the tests that
    are not about the letter; tests/test_followup2.py is."""
    from app.documents import services as documents
    from app.documents.demo import complete_document

    for item in rec.items:
        doc = documents.generate_document(rec.stage, "addressed_recommendations", actor=world["official"],
                                          addressee=item.organisation, validate=False, inline=True)
        complete_document(doc, official=world["official"], head=world["head"])


@pytest.fixture
def make_recommendation(world, db_session):
    """A recommendation of `cycle` to the given schools (default: A and B), optionally issued by the head."""
    from app.followup import services

    def factory(cycle, orgs=None, *, issue=False, days=30, text="Провести анализ результатов ВПР"):
        findings = services.cycle_findings(cycle)
        rec = services.create_recommendation(
            cycle, text=text, addressee_group="organisations", actor=world["official"], today=date.today(),
            response_deadline=date.today() + timedelta(days=days),
            organisation_ids=[o.id for o in (orgs or [world["school_a"], world["school_b"]])],
            finding_ids=[findings[0].id] if findings else (), basis=None if findings else "Справка по анализу")
        if issue:
            register_letters(rec, world)
            services.issue_recommendation(rec, actor=world["head"], today=date.today())
        db_session.commit()
        return rec
    return factory


@pytest.fixture
def client_for(app, db_session):
    """A separate signed-in test client per user (the followup and assessment-package tests)."""
    from tests.conftest import PASSWORD, IsolatedClient

    def make(user):
        client = IsolatedClient(app, app.response_class, use_cookies=True)
        assert client.post("/login", data={"login": user.login, "password": PASSWORD}).status_code == 302
        return client
    return make


def evidence(name="otchet.pdf", body=b"%PDF report"):
    return (io.BytesIO(body), name)
