"""A one-line field (a person's name, an organisation's, a title) kept characters that print as nothing: «Петрова
Мария Ивановна» with a zero-width space was a second, different-yet-identical name on the responsible lists and in the
audit log, and a right-to-left override reversed the rest of the line wherever the name was shown. Single-line fields
drop them, as they drop line breaks; a textarea and a password are left as typed."""

from werkzeug.datastructures import MultiDict

from tests.security.test_line_breaks import _forms
from tests.test_auth import _new_user_data, signed_in_client

MARKED = "Петрова\u200b Мария\u00ad \u202eИвановна\u2066"
CLEAN = "Петрова Мария Ивановна"


def test_every_single_line_field_drops_invisible_characters(app):
    from wtforms import PasswordField, StringField, TextAreaField

    checked = 0
    with app.test_request_context(method="POST"):
        for cls in _forms():
            names = [name for name, unbound in vars(cls).items()
                     if getattr(unbound, "field_class", None) and issubclass(unbound.field_class, StringField)
                     and unbound.field_class.process_formdata is StringField.process_formdata
                     and not unbound.kwargs.get("filters")]
            form = cls(formdata=MultiDict({name: MARKED for name in names}), meta={"csrf": False})
            for name in names:
                field = form[name]
                if isinstance(field, (TextAreaField, PasswordField)):
                    assert field.data == MARKED, (cls, name)
                else:
                    assert field.data == CLEAN, (cls, name)
                    checked += 1
    assert checked > 20


def test_a_user_created_with_a_marked_name_is_stored_clean(app, world, db_session):
    from sqlalchemy import select

    from app.auth.models import User

    admin = signed_in_client(app, world["admin"])
    response = admin.post("/admin/users/new", data=_new_user_data(world, login="petrova.mi", full_name=MARKED))
    assert response.status_code == 302
    assert db_session.scalar(select(User.full_name).where(User.login == "petrova.mi")) == CLEAN
