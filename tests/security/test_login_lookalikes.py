"""A login names a person in the audit log, task lists and signatures, so no two may look alike. An administrator
could create «оfficial» (Cyrillic «о»), «official» with a zero-width space, a soft hyphen or a right-to-left mark:
each was stored and shown exactly as «official», a second account wearing the first one's name."""

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.test_auth import _new_user_data, body, post_login, signed_in_client

RULE = "Логин: от 1 до 80 латинских букв, цифр и знаков"

TAKEN = "Пользователь с логином «official» уже существует."
LOOKALIKES = [
    ("оfficial", RULE),                 # Cyrillic «о»
    ("official\u200b", TAKEN),          # zero-width space: the form drops it (a one-line field), then it is taken
    ("offic\u00adial", TAKEN),          # soft hyphen
    ("\u202eofficial", TAKEN),          # right-to-left override
    ("official\u2060", TAKEN),          # word joiner
    ("off icial", RULE),                # a space inside
    ("official.", RULE),                # ends with punctuation
    ("петрова", RULE),                  # Cyrillic altogether
]


@pytest.mark.parametrize("login, refusal", LOOKALIKES)
def test_a_login_that_could_pass_for_another_is_refused_in_russian(app, world, db_session, login, refusal):
    from app.auth.models import User

    before = db_session.scalar(select(func.count(User.id)))
    admin = signed_in_client(app, world["admin"])
    response = admin.post("/admin/users/new", data=_new_user_data(world, login=login))
    assert response.status_code == 422
    assert refusal in body(response)
    assert db_session.scalar(select(func.count(User.id))) == before


@pytest.mark.parametrize("login", [login for login, _ in LOOKALIKES])
def test_the_service_refuses_them_whoever_calls_it(world, db_session, login):
    """The command line and the seed reach `create_user` without a form: the service holds the rule itself."""
    from app.auth.services import create_user
    from app.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match=RULE):
        create_user(login=login, full_name="Новикова Анна", password="long-enough-pass-73",
                    roles=[("admin", world["region"])])


def test_a_full_width_login_is_the_same_login(app, world, db_session):
    """NFKC: «ＨＥＡＤ» typed with an East Asian input method is «head», already taken; and it signs «head» in."""
    admin = signed_in_client(app, world["admin"])
    response = admin.post("/admin/users/new", data=_new_user_data(world, login="ＨＥＡＤ"))
    assert response.status_code == 422
    assert "Пользователь с логином «head» уже существует." in body(response)
    assert post_login(app.test_client(), "ｈｅａｄ", PASSWORD).status_code == 302
