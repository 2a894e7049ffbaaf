"""A login names a person in the audit log, task lists and signatures, so no two may look alike. An administrator
could create «оfficial» (Cyrillic «о»), «official» with a zero-width space, a soft hyphen or a right-to-left mark:
each was stored and shown exactly as «official», a second account wearing the first one's name."""

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.test_auth import _new_user_data, body, post_login, signed_in_client

RULE = "Логин: от 1 до 80 латинских букв, цифр и знаков"


@pytest.mark.parametrize("login", [
    "оfficial",            # Cyrillic «о»
    "official\u200b",      # zero-width space
    "offic\u00adial",      # soft hyphen
    "\u202eofficial",      # right-to-left override
    "official\u2060",      # word joiner
    "off icial",           # a space inside
    "official.",           # ends with punctuation
    "петрова",             # Cyrillic altogether: looks like nobody else, but mixes in the next one
])
def test_a_login_that_could_pass_for_another_is_refused_in_russian(app, world, db_session, login):
    from app.auth.models import User

    before = db_session.scalar(select(func.count(User.id)))
    admin = signed_in_client(app, world["admin"])
    response = admin.post("/admin/users/new", data=_new_user_data(world, login=login))
    assert response.status_code == 422
    assert RULE in body(response)
    assert db_session.scalar(select(func.count(User.id))) == before


def test_a_full_width_login_is_the_same_login(app, world, db_session):
    """NFKC: «ＨＥＡＤ» typed with an East Asian input method is «head», already taken; and it signs «head» in."""
    admin = signed_in_client(app, world["admin"])
    response = admin.post("/admin/users/new", data=_new_user_data(world, login="ＨＥＡＤ"))
    assert response.status_code == 422
    assert "Пользователь с логином «head» уже существует." in body(response)
    assert post_login(app.test_client(), "ｈｅａｄ", PASSWORD).status_code == 302


def test_the_command_line_refuses_it_too(app, world, db_session):
    from app.auth.services import create_user
    from app.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match=RULE):
        create_user(login="аdmin", full_name="Новикова Анна", password="long-enough-pass-73",
                    roles=[("admin", world["region"])])
