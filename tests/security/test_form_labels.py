"""Every form field names itself in Russian: a field's error reaches the page as «‹label›: ‹error›», and a field
left without a label gets WTForms' own, its name in English — «Type Key: Обязательное поле.», «Version: Некорректная
версия формы…», «Trigger: Обязательное поле.», «Measure Id: …» for a hidden field sent empty or altered (attack 11)."""

import importlib
import inspect
import pkgutil

import app as app_package
from flask_wtf import FlaskForm


def _form_classes():
    found = set()
    for info in pkgutil.walk_packages(app_package.__path__, "app."):
        if info.name.rsplit(".", 1)[-1] not in ("forms", "views", "ui", "package_views", "picture_views"):
            continue
        for _name, cls in inspect.getmembers(importlib.import_module(info.name), inspect.isclass):
            if issubclass(cls, FlaskForm) and cls is not FlaskForm:
                found.add(cls)
    return sorted(found, key=lambda c: (c.__module__, c.__name__))


def test_no_field_keeps_the_english_default_label(app):
    english = []
    with app.test_request_context():
        classes = _form_classes()
        assert len(classes) > 40  # the scan found the application's forms
        for cls in classes:
            for field in cls(meta={"csrf": False}):
                if field.type != "CSRFTokenField" and field.label.text == field.name.replace("_", " ").title():
                    english.append(f"{cls.__module__}.{cls.__name__}.{field.name}")
    assert english == []


def test_an_altered_version_is_refused_in_russian(world, make_cycle, client, login, db_session):
    cycle = make_cycle(world["mun"], world["official"])
    db_session.commit()
    login(world["official"])
    stage = cycle.stage("GOAL")
    page = client.post(f"/stages/{stage.id}/transition/submit", data={"version": "abc"}, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "Некорректная версия формы" in text
    assert "Version:" not in text and "Версия формы: Некорректная версия формы" in text


def test_a_document_kind_sent_empty_is_named_in_russian(world, make_cycle, client, login, db_session):
    cycle = make_cycle(world["mun"], world["official"])
    db_session.commit()
    login(world["official"])
    stage = cycle.stage("GOAL")
    text = client.post(f"/documents/stages/{stage.id}/generate", data={"type_key": ""},
                       follow_redirects=True).get_data(as_text=True)
    assert "Вид документа: Обязательное поле." in text and "Type Key" not in text
