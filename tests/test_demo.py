"""`flask seed demo` builds the documented demo through the real services, once."""

from sqlalchemy import func, select

from app.auth.models import User
from app.cycles.models import Cycle
from app.demo import DEMO_PASSWORD, USERS, seed_demo
from app.orgs.models import Organisation


def test_demo_is_complete_and_idempotent(db_session):
    assert seed_demo() is True
    db_session.commit()
    orgs = db_session.scalars(select(Organisation)).all()
    kinds = [o.kind for o in orgs]
    assert kinds.count("region") == 1 and kinds.count("municipality") == 2
    institutions = [o for o in orgs if o.kind in ("school", "preschool", "additional")]
    assert 25 <= len(institutions) <= 35
    schools = [o for o in orgs if o.kind == "school"]
    assert all(o.students and o.settlement and o.profile and o.low_income_share is not None for o in schools)
    assert {u.login for u in db_session.scalars(select(User))} == {u[0] for u in USERS}
    roles = {r.role for u in db_session.scalars(select(User)) for r in u.roles}
    assert roles == {"admin", "official", "head", "methodologist", "director", "staff", "expert", "auditor"}
    cycles = db_session.scalars(select(Cycle)).all()
    municipal = {c.track.mechanism.code for c in cycles if c.owner.code == "MUN01"}
    assert municipal == {"M1.1", "M1.2", "M1.3", "M1.4", "M2.1", "M2.2", "M2.3", "M2.4"}
    stage_states = {s.state for c in cycles for s in c.stages}
    assert stage_states == {"waiting", "draft", "on_review", "approved"}
    assert any(c.state == "closed" for c in cycles)
    count = db_session.scalar(select(func.count()).select_from(Cycle))
    assert seed_demo() is False
    assert db_session.scalar(select(func.count()).select_from(Cycle)) == count


def test_demo_users_log_in_with_the_documented_password(db_session, client):
    seed_demo()
    db_session.commit()
    response = client.post("/login", data={"login": "official", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert "Петрова Мария Ивановна" in client.get("/").get_data(as_text=True)
