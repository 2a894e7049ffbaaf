"""Notifications in the app: the list, the unread count in the navigation bar, marking read (own only)."""

from app.deadlines.notify import notify
from tests.fixtures_deadlines import notifications_for


def test_notifications_page_and_marking_read(world, client, login, db_session):
    first = notify(world["director_a"], kind="overdue", title="Просрочена задача «Отчёт»", body="Срок истёк",
                   link="/tasks/")[0]
    second = notify(world["director_a"], kind="reminder", title="Срок задачи «План» — сегодня")[0]
    other = notify(world["director_b"], kind="reminder", title="Чужое уведомление")[0]
    db_session.commit()
    login(world["director_a"])
    page = client.get("/deadlines/notifications").get_data(as_text=True)
    assert "Просрочена задача «Отчёт»" in page and "Срок задачи «План» — сегодня" in page
    assert "Чужое уведомление" not in page and "Непрочитанных: 2" in page

    # «Открыть» marks it read and goes to the link; marking someone else's is not found.
    response = client.post(f"/deadlines/notifications/{first.id}/read", data={"next": "link"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/tasks/")
    assert client.post(f"/deadlines/notifications/{other.id}/read").status_code == 404
    db_session.expire_all()
    assert first.read_at is not None and second.read_at is None and other.read_at is None
    assert client.post("/deadlines/notifications/read-all").status_code == 302
    db_session.expire_all()
    assert second.read_at is not None and other.read_at is None
    assert "Непрочитанных: 0" in client.get("/deadlines/notifications").get_data(as_text=True)


def test_a_notification_reaches_the_deputy_of_an_absent_person_too(world, head_on_leave, deputy_of_head, db_session):
    world["head"].full_name = "Иванов Сергей Петрович"  # a surname that changes in the accusative
    notify(world["head"], kind="escalation", title="Просрочка у школы")
    db_session.commit()
    assert [n.title for n in notifications_for(world["head"])] == ["Просрочка у школы"]
    copies = [n for n in notifications_for(deputy_of_head) if n.kind == "escalation"]
    assert [(n.title, n.on_behalf_of_id) for n in copies] == [
        ("За С.П. Иванова: Просрочка у школы", world["head"].id)]  # «за» + accusative, not «За С.П. Иванов»


def test_the_navigation_bar_shows_the_unread_count(world, client, login, db_session):
    notify(world["official"], kind="reminder", title="Скоро срок")
    notify(world["official"], kind="overdue", title="Срок истёк")
    db_session.commit()
    login(world["official"])
    page = client.get("/tasks/").get_data(as_text=True)
    assert 'id="unread-notifications">2<' in page and "/deadlines/" in page
    client.post("/deadlines/notifications/read-all")
    assert 'id="unread-notifications"' not in client.get("/tasks/").get_data(as_text=True)
