"""Who stands in for whom today: the queries both stand-ins and notifications need.

Kept apart from app/deadlines/standins.py (which names and revokes deputies and notifies them) so that
notifications can copy a message to the deputies without importing the module that sends them.
"""

from datetime import date

from sqlalchemy import and_, event, select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.deadlines.models import StandIn
from app.deadlines.services import user_today_of
from app.extensions import db

# Who a deputy covers is asked once per transition check (available_transitions asks per button): the answer
# is kept for the rest of the transaction, and forgotten at commit, rollback or any stand-in change.
_COVER_CACHE = "uko_stand_in_cover"


def _active_on(day: date):
    return and_(StandIn.revoked_at.is_(None), StandIn.start_date <= day, StandIn.end_date >= day)


def absent_people_covered_by(deputy, day: date | None = None) -> list[User]:
    """The people `deputy` stands in for on `day` (default: the deputy's today)."""
    if deputy is None or getattr(deputy, "id", None) is None:
        return []
    day = day or user_today_of(deputy)
    cache = db.session.info.setdefault(_COVER_CACHE, {})
    if (deputy.id, day) not in cache:
        cache[(deputy.id, day)] = list(db.session.scalars(
            select(User).join(StandIn, StandIn.absent_id == User.id)
            .where(StandIn.deputy_id == deputy.id, _active_on(day), User.active.is_(True))
            .order_by(User.id).distinct()))
    return list(cache[(deputy.id, day)])


def forget_cover(session, *args) -> None:
    session.info.pop(_COVER_CACHE, None)


event.listen(Session, "after_commit", forget_cover)
event.listen(Session, "after_soft_rollback", forget_cover)


def deputies_of(absent, day: date | None = None) -> list[User]:
    """Who stands in for `absent` on `day` (default: the absent person's today)."""
    day = day or user_today_of(absent)
    return list(db.session.scalars(
        select(User).join(StandIn, StandIn.deputy_id == User.id)
        .where(StandIn.absent_id == absent.id, _active_on(day), User.active.is_(True))
        .order_by(User.id).distinct()))


def deputies_on(people, day: date) -> dict[int, list[User]]:
    """{absent person's id: who stands in for them on `day`} for each of `people` who is away, in one query (a
    list of addressees names the stand-in of every director on leave)."""
    ids = {p.id for p in people}
    out: dict[int, list[User]] = {}
    if not ids:
        return out
    for absent_id, deputy in db.session.execute(
            select(StandIn.absent_id, User).join(User, User.id == StandIn.deputy_id)
            .where(StandIn.absent_id.in_(sorted(ids)), _active_on(day), User.active.is_(True))
            .order_by(User.full_name, User.id).distinct()):
        out.setdefault(absent_id, []).append(deputy)
    return out
