"""An empty task list says what the reader's work is: an auditor (read-only) and a РЦОКО analyst (approves and signs
nothing) were told that stage approvals and signatures would appear there, which never happens to their roles."""

from tests.test_screens3_pages import _login, _page, _text


def test_an_auditors_empty_task_list_says_where_an_auditors_work_is(demo, client):
    _login(client, "auditor")
    for url in ("/", "/tasks/"):
        text = _text(_page(client, url))
        assert "роль аудитора — только чтение" in text, url
        assert "утверждение этапов" not in text, url


def test_a_working_roles_empty_task_list_keeps_its_own_words(demo, client):
    from sqlalchemy import select

    from app.auth.models import User
    from app.tasks.models import Task

    # the demo's minister without open tasks of her own: a role that approves and signs keeps the general words
    _login(client, "minister")
    minister = demo.scalars(select(User).where(User.login == "minister")).one()
    assert not demo.scalars(select(Task).where(Task.assignee_id == minister.id, Task.state == "open")).first()
    text = _text(_page(client, "/"))
    assert "утверждение этапов и документов" in text and "роль аудитора" not in text and "РЦОКО" not in text


def test_an_analysts_empty_task_list_says_where_an_analysts_work_is(demo, client):
    """РЦОКО's analyst approves and signs nothing, yet read that stage approvals and signatures would appear."""
    _login(client, "rcoko")
    for url in ("/", "/tasks/"):
        text = _text(_page(client, url))
        assert "аналитику РЦОКО задачи не назначаются" in text and "«Импорт данных»" in text, url
        assert "утверждение этапов" not in text, url
