"""A user created with an e-mail address (found by bench/attack.py: WTForms' Email validator needs the
email_validator package, which is not installed, so every filled-in address was a 500)."""

import pytest
from sqlalchemy import func, select


def _data(world, email):
    return {"login": "mailed", "full_name": "Почтова Анна Сергеевна", "position": "учитель", "email": email,
            "password": "long-enough-pass", "role": "staff", "organisation_id": str(world["school_a"].id)}


def _count(db_session):
    from app.auth.models import User

    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(User).where(User.login == "mailed"))


def test_a_user_with_an_email_is_created(world, client, login, db_session):
    from app.auth.models import User

    login(world["admin"])
    response = client.post("/admin/users/new", data=_data(world, "anna.pochtova@school.example.ru"))
    assert response.status_code == 302
    assert db_session.scalar(select(User.email).where(User.login == "mailed")) == "anna.pochtova@school.example.ru"


@pytest.mark.parametrize("email", ["not-an-address", "a@b", "a b@school.ru", "@school.ru", "a@@school.ru",
                                   "<x-red>@school.ru ", "x" * 300 + "@school.ru"])
def test_a_malformed_email_is_refused_in_russian(world, client, login, db_session, email):
    login(world["admin"])
    response = client.post("/admin/users/new", data=_data(world, email))
    assert response.status_code == 422
    assert "Некорректный адрес эл. почты." in response.get_data(as_text=True)
    assert _count(db_session) == 0
