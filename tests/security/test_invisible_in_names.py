"""A one-line field (a person's name, an organisation's, a title) kept characters that print as nothing: «Петрова
Мария Ивановна» with a zero-width space was a second, different-yet-identical name on the responsible lists and in the
audit log, and a right-to-left override reversed the rest of the line wherever the name was shown. Single-line fields
drop them, as they drop line breaks; a textarea and a password are left as typed."""


from tests.security.test_line_breaks import text_fields_read
from tests.test_auth import _new_user_data, signed_in_client

MARKED = "Петрова\u200b Мария\u00ad \u202eИвановна\u2066"
CLEAN = "Петрова Мария Ивановна"


def test_every_single_line_field_drops_invisible_characters(app):
    read = text_fields_read(app, MARKED)
    for cls, name, one_line, data in read:
        assert data == (CLEAN if one_line else MARKED), (cls, name)
    assert sum(one_line for _, _, one_line, _ in read) > 20


def test_a_user_created_with_a_marked_name_is_stored_clean(app, world, db_session):
    from sqlalchemy import select

    from app.auth.models import User

    admin = signed_in_client(app, world["admin"])
    response = admin.post("/admin/users/new", data=_new_user_data(world, login="petrova.mi", full_name=MARKED))
    assert response.status_code == 302
    assert db_session.scalar(select(User.full_name).where(User.login == "petrova.mi")) == CLEAN
