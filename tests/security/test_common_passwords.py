"""Issue 17 item 4: common passwords, and passwords containing the login or the person's name, are refused
at password change, at the administrator's user creation and in the CLI; the list is local."""

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD

COMMON = ["password12", "qwerty1234", "1234567890", "uko-demo-2026", "Password2026!", "QWERTYUIOP", "йцукенгшщз"]


def test_the_list_is_shipped_and_large():
    from app.auth.passwords import COMMON_PASSWORDS_FILE, common_passwords

    assert COMMON_PASSWORDS_FILE.is_file()
    assert len(common_passwords()) > 10_000
    assert {"password12", "qwerty1234", "1234567890"} <= common_passwords()


@pytest.mark.parametrize("password", COMMON)
def test_common_passwords_are_refused(password):
    from app.auth.passwords import WeakPassword, check_new_password

    with pytest.raises(WeakPassword, match="самых распространённых"):
        check_new_password(password, login="someone", full_name="Петрова Мария Ивановна")


@pytest.mark.parametrize("password, message", [
    ("mpetrova-2026", "логин"),
    ("MPetrova!!1234", "логин"),
    ("petrova-maria-1", "фамилию"),       # transliterated surname
    ("my-mariya-42x", "фамилию"),         # the informal spelling of the first name
    ("Петрова1985год", "фамилию"),        # the surname itself
    ("gtnhjdf1985!", "фамилию"),          # «петрова» typed in the Latin keyboard layout
    ("ivanovna-2000", "фамилию"),         # the patronymic
])
def test_login_and_name_inside_the_password_are_refused(password, message):
    from app.auth.passwords import WeakPassword, check_new_password

    with pytest.raises(WeakPassword, match=message):
        check_new_password(password, login="mpetrova", full_name="Петрова Мария Ивановна")


@pytest.mark.parametrize("password", [PASSWORD, "brand-new-password-77", "Ель-у-дороги-2026", "tram-lilac-9031"])
def test_reasonable_passwords_pass(password):
    from app.auth.passwords import check_new_password

    check_new_password(password, login="mpetrova", full_name="Петрова Мария Ивановна")


def test_short_name_parts_do_not_refuse_everything():
    from app.auth.passwords import check_new_password

    check_new_password("clever-yak-2026", login="ya", full_name="Ли Ян")


def _post_change(client, new):
    return client.post("/password", data={"current": PASSWORD, "new": new, "repeat": new})


def test_password_change_refuses_a_common_password_and_one_with_the_login(app, world, db_session):
    from app.auth import services

    head = world["head"]
    client = app_client(app, head)
    for new, message in (("qwerty1234", "самых распространённых"), ("head-of-office-1", "логин")):
        response = _post_change(client, new)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    db_session.expire_all()
    assert services.check_password(head, PASSWORD)
    # A refused new password does not count as a failed re-entry: the current one was right.
    assert _post_change(client, "tram-lilac-9031").status_code == 302


def app_client(app, user):
    client = app.test_client()
    assert client.post("/login", data={"login": user.login, "password": PASSWORD}).status_code == 302
    return client


def test_admin_cannot_create_a_user_with_a_common_password_or_their_name(app, world, db_session):
    from app.auth.models import User

    client = app_client(app, world["admin"])
    base = {"login": "mpetrova", "full_name": "Петрова Мария Ивановна", "role": "official",
            "organisation_id": world["mun"].id}
    users_before = db_session.scalar(select(func.count()).select_from(User))
    for password, message in (("1234567890", "самых распространённых"), ("uko-demo-2026", "самых распространённых"),
                              ("petrova-2026!", "фамилию"), ("mpetrova-2026", "логин")):
        response = client.post("/admin/users/new", data={**base, "password": password})
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(User)) == users_before
    response = client.post("/admin/users/new", data={**base, "password": "tram-lilac-9031"})
    assert response.status_code == 302


def test_cli_create_admin_refuses_a_common_password(app, world, db_session):
    from app.auth.models import User

    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create-admin", "newadmin", world["region"].code,
                                 "--password", "password12"])
    assert result.exit_code != 0
    assert "самых распространённых" in result.output
    assert db_session.scalar(select(User).where(User.login == "newadmin")) is None
    result = runner.invoke(args=["users", "create-admin", "newadmin", world["region"].code,
                                 "--password", "tram-lilac-9031"])
    assert result.exit_code == 0, result.output
