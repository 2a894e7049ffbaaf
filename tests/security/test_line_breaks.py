"""A line break typed into a one-line field (a hand-made POST: an <input> cannot send one) reached task titles
and then the Subject of the reminder e-mail, which `EmailMessage` refuses: the e-mail job failed on every run and
`flask reminders run` stopped with a traceback (attack 4). Single-line fields keep no line break, and an
e-mail header is one line whatever the data holds."""

from datetime import timedelta

import pytest
from werkzeug.datastructures import MultiDict

from app.core.forms import Form
from tests.fixtures_deadlines import DUE, at, notifications_for

BROKEN = "Строка 1\r\nBcc: evil@example.org\r\n\r\nтело"


def _forms():
    # Every form of the application, imported through the features (the app fixture loaded them).
    seen, stack = [], list(Form.__subclasses__())
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return sorted(seen, key=lambda c: f"{c.__module__}.{c.__name__}")


def text_fields_read(app, typed: str):
    """(form class, field name, is it a one-line field, what it read) for every plain text field of every form, each
    sent `typed`: not those that parse the text themselves (ids, versions) or filter it already."""
    from wtforms import PasswordField, StringField, TextAreaField

    read = []
    with app.test_request_context(method="POST"):
        for cls in _forms():
            names = [name for name, unbound in vars(cls).items()
                     if getattr(unbound, "field_class", None) and issubclass(unbound.field_class, StringField)
                     and unbound.field_class.process_formdata is StringField.process_formdata
                     and not unbound.kwargs.get("filters")]
            form = cls(formdata=MultiDict({name: typed for name in names}), meta={"csrf": False})
            read += [(cls, name, not isinstance(form[name], (TextAreaField, PasswordField)), form[name].data)
                     for name in names]
    return read


def test_every_single_line_field_drops_line_breaks_and_a_textarea_keeps_them(app):
    read = text_fields_read(app, BROKEN)
    for cls, name, one_line, data in read:
        assert data == ("Строка 1 Bcc: evil@example.org тело" if one_line else BROKEN), (cls, name)
    assert sum(one_line for _, _, one_line, _ in read) > 20


def test_a_reminder_for_a_title_with_a_line_break_is_e_mailed_on_one_subject_line(
        official_task, app, world, db_session, tmp_path, monkeypatch):
    from app.deadlines.reminders import reminders_job

    monkeypatch.setitem(app.config, "MAIL_BACKEND", "file")
    monkeypatch.setitem(app.config, "MAIL_FILE_DIR", str(tmp_path))
    world["official"].email = "official@example.org"
    official_task.title = f"Провести мероприятие «{BROKEN}»"  # as stored before single-line fields
    db_session.commit()
    monkeypatch.setattr("app.deadlines.reminders.utcnow", lambda: at(DUE - timedelta(days=1)))
    assert reminders_job() == 1
    (mail,) = list(tmp_path.iterdir())
    head = mail.read_bytes().decode("utf-8").split("\n\n", 1)[0]
    assert "\nBcc:" not in head
    (notification,) = notifications_for(world["official"])
    assert notification.emailed_at is not None


@pytest.mark.parametrize("title", [BROKEN, "a\rb", "a\nb", "a\u2028b"])
def test_the_subject_header_is_one_line(official_task, world, db_session, title):
    from app.deadlines import notify

    world["official"].email = "official@example.org"
    (notification,) = notify.notify(world["official"], kind="reminder", title=title, link="/tasks/")
    message = notify.build_message(notification)
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
    assert message["Bcc"] is None
    assert message.as_bytes()
