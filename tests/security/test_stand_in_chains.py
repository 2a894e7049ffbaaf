"""Stand-ins that point at someone who is away themselves (attack 6). The head named a deputy for a leave; the
deputy then named the head as their own deputy for overlapping days, and it was accepted: each covered the other
while both were away, so nobody present saw either's tasks (stand-ins do not chain). The same for a chain: naming
a deputy who has a deputy of their own for the period. Refused in Russian; nothing is written."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.core.errors import ValidationFailed
from app.deadlines.models import StandIn
from app.deadlines.standins import absent_people_covered_by, create_stand_in, revoke_stand_in


def _counts(db_session):
    return (db_session.scalar(select(func.count()).select_from(StandIn)),
            db_session.scalar(select(func.count()).select_from(AuditEvent)))


def test_two_people_cannot_stand_in_for_each_other(world, head_on_leave, deputy_of_head, db_session, client, login):
    today = date.today()
    login(deputy_of_head)  # (signing in is audited: count after it)
    before = _counts(db_session)
    page = client.post("/deadlines/standins/new", data={
        "deputy_id": str(world["head"].id), "start": today.isoformat(),
        "end": (today + timedelta(days=3)).isoformat(), "reason": "командировка"})
    assert page.status_code == 422 and "не может замещать" in page.get_data(as_text=True)
    assert _counts(db_session) == before
    with pytest.raises(ValidationFailed) as refused:
        create_stand_in(absent=deputy_of_head, deputy=world["head"], start=today, end=today + timedelta(days=3),
                        actor=deputy_of_head, today=today)
    db_session.rollback()
    assert refused.value.message.startswith(f"{world['head'].short_name} сам отсутствует с ")  # «Иван Петрович»
    assert "не может замещать" in refused.value.message
    assert _counts(db_session) == before
    assert absent_people_covered_by(world["head"], today) == []


def test_a_deputy_who_is_away_in_the_period_is_refused(world, head_on_leave, deputy_of_head, make_user, db_session):
    """A chain: a colleague names the head (on leave, covered by the deputy) for days inside the leave."""
    today = date.today()
    colleague = make_user("official", world["mun"], login="colleague", full_name="Коллегова Вера Ивановна")
    db_session.commit()
    before = _counts(db_session)
    with pytest.raises(ValidationFailed) as refused:
        create_stand_in(absent=colleague, deputy=world["head"], start=today + timedelta(days=5),
                        end=today + timedelta(days=10), actor=colleague, today=today)
    db_session.rollback()
    assert world["head"].short_name in refused.value.message
    assert _counts(db_session) == before
    # After the leave, or once it is revoked, the head may stand in again.
    create_stand_in(absent=colleague, deputy=world["head"], start=today + timedelta(days=8),
                    end=today + timedelta(days=10), actor=colleague, today=today)
    db_session.commit()
    with pytest.raises(ValidationFailed) as refused:  # the sentence agrees with a woman's name
        create_stand_in(absent=world["head"], deputy=colleague, start=today + timedelta(days=9),
                        end=today + timedelta(days=12), actor=world["head"], today=today)
    db_session.rollback()
    assert refused.value.message.startswith(f"{colleague.short_name} сама отсутствует с ")
    revoke_stand_in(head_on_leave, actor=world["head"])
    create_stand_in(absent=deputy_of_head, deputy=world["head"], start=today, end=today + timedelta(days=3),
                    actor=deputy_of_head, today=today)
    db_session.commit()
