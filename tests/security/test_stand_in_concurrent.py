"""Stand-ins named at the same moment (PostgreSQL, real commits). Two people naming each other is refused (each would
hand the work to someone who is away), but the check read the other's stand-ins before either was written: on the
running server (attack 8) `official` naming `methodologist` and `methodologist` naming `official` at once were both
created. The absent person's and the deputy's rows are locked before the checks, so the second waits and is refused;
so is a second overlapping period of one person sent from another tab."""

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests import services

pytestmark = pytest.mark.postgresql_only
DB_NAME = "uko_test_stand_in_race"
PASSWORD = "tram-lilac-9031"


live_app = services.live_postgres_app(DB_NAME)


def _people(live_app, code):
    from app.auth.services import create_user
    from app.extensions import db
    from app.orgs.services import create_organisation

    with live_app.app_context():
        org = create_organisation(code=code, name=f"Управление {code}", kind="region")
        anna = create_user(login=f"anna-{code.lower()}", full_name="Петрова Анна Ивановна", password=PASSWORD,
                           roles=[("official", org)])
        boris = create_user(login=f"boris-{code.lower()}", full_name="Сидоров Борис Петрович", password=PASSWORD,
                            roles=[("official", org)])
        vera = create_user(login=f"vera-{code.lower()}", full_name="Кузнецова Вера Олеговна", password=PASSWORD,
                           roles=[("official", org)])
        db.session.commit()
        ids = anna.id, boris.id, vera.id
        db.session.remove()
    return ids


def _at_once(live_app, monkeypatch, pairs):
    """Create the stand-ins (absent id, deputy id) in threads, each waiting after its checks for the others."""
    from app.deadlines import standins
    from app.extensions import db

    # Without the lock every stand-in passes the checks before any is written.
    monkeypatch.setattr(standins, "notify", services.after_the_others(threading.Barrier(len(pairs)), standins.notify))
    outcomes = []
    start = date.today() + timedelta(days=10)

    def create(absent_id, deputy_id):
        def action():
            absent, deputy = db.session.get(standins.User, absent_id), db.session.get(standins.User, deputy_id)
            standins.create_stand_in(absent=absent, deputy=deputy, start=start, end=start + timedelta(days=7),
                                     actor=absent, today=date.today())
        services.as_one_request(live_app, outcomes, "created", action)

    services.at_once(create, pairs)
    return outcomes


def _count(live_app, absent_ids):
    from app.deadlines.models import StandIn
    from app.extensions import db

    with live_app.app_context():
        n = db.session.scalar(select(func.count()).select_from(StandIn).where(StandIn.absent_id.in_(absent_ids)))
        db.session.remove()
    return n


def test_two_people_naming_each_other_at_once_get_one_stand_in(live_app, monkeypatch):
    anna, boris, _ = _people(live_app, "RSIA")
    outcomes = _at_once(live_app, monkeypatch, [(anna, boris), (boris, anna)])
    assert outcomes.count("created") == 1
    assert any("отсутствует" in o for o in outcomes if o != "created")
    assert _count(live_app, [anna, boris]) == 1


def test_two_overlapping_periods_of_one_person_at_once_get_one_stand_in(live_app, monkeypatch):
    anna, boris, vera = _people(live_app, "RSIB")
    outcomes = _at_once(live_app, monkeypatch, [(anna, boris), (anna, vera)])
    assert outcomes.count("created") == 1
    assert any("пересекается" in o for o in outcomes if o != "created")
    assert _count(live_app, [anna]) == 1
