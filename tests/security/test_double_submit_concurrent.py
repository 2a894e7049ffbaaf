"""Issue 17 item 8 under a real double click: two POSTs of one rendered form in flight at the same time
(PostgreSQL, real commits). The token is kept on the server, so the second waits for the first and creates
nothing; a token in the cookie session could not do this (both requests carry the cookie from before)."""

import re
import threading

import pytest
from sqlalchemy import func, select

from tests import services
from tests.conftest import track_of

pytestmark = pytest.mark.postgresql_only
DB_NAME = "uko_test_auth_double_submit"
PASSWORD = "tram-lilac-9031"


@pytest.fixture(scope="module")
def live_app():
    with services.migrated_postgres_app(DB_NAME) as app:
        yield app


def _world(app, suffix):
    from app.auth.services import create_user
    from app.cycles.services import create_cycle
    from app.extensions import db
    from app.orgs.services import create_organisation

    with app.app_context():
        region = create_organisation(code=f"R{suffix}", name="Область", kind="region")
        mun = create_organisation(code=f"M{suffix}", name="Муниципалитет", kind="municipality", parent=region)
        official = create_user(login=f"off{suffix}", full_name="Петрова Мария Ивановна", password=PASSWORD,
                               roles=[("official", mun)])
        cycle = create_cycle(track=track_of("M1.1"), owner=mun, period="2025/26", actor=official,
                             responsible=official)
        db.session.commit()
        return official.login, cycle.id


@pytest.mark.parametrize("round_", range(3))
def test_two_simultaneous_posts_of_one_form_create_one_goal(live_app, round_):
    from app.cycles.models import Goal
    from app.extensions import db

    login, cycle_id = _world(live_app, f"d{round_}")
    client = live_app.test_client()
    assert client.post("/login", data={"login": login, "password": PASSWORD}).status_code == 302
    path = f"/cycles/{cycle_id}/goals/new"
    page = client.get(path).get_data(as_text=True)
    token = re.search(r'name="form_token"[^>]*value="([^"]+)"', page).group(1)
    cookie = client.get_cookie("session").value
    data = {"direction": "Развитие добровольчества", "statement": "Вовлечь обучающихся в добровольчество",
            "justification": "Доля вовлечённых 12 %", "realism": "Есть ресурсный центр", "parent_goal_id": "0",
            "version": "", "form_token": token}
    barrier = threading.Barrier(2)
    responses = []

    def send():
        twin = live_app.test_client()
        twin.set_cookie("session", cookie)  # both carry the cookie from before either answer
        barrier.wait(timeout=10)
        responses.append(twin.post(path, data=data))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [r.status_code for r in responses] == [302, 302]
    with live_app.app_context():
        goals = db.session.scalar(select(func.count()).select_from(Goal).where(Goal.cycle_id == cycle_id))
        db.session.remove()
    assert goals == 1
