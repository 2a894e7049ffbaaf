"""One vocabulary: every workflow names and colours each of its states once, and pages, the audit page and the
OpenAPI document take the names from there; one clock helper."""

import pathlib
import re

import pytest

from workflows import engine

ROOT = pathlib.Path(__file__).resolve().parent.parent
WORKFLOWS = sorted(engine.registry())


@pytest.mark.parametrize("module_name", engine.workflow_modules())
def test_every_workflow_declares_its_vocabulary(module_name):
    import importlib

    module = importlib.import_module(module_name)
    assert isinstance(module.STATE_LABELS, dict) and isinstance(module.STATE_STYLES, dict)
    assert set(module.STATE_STYLES) == set(module.STATE_LABELS)


@pytest.mark.parametrize("object_type", WORKFLOWS)
def test_every_state_has_a_russian_label_and_a_badge_style(object_type):
    wf = engine.registry()[object_type]
    assert set(wf.states) == set(wf.machine.states), "the labels name exactly the machine's states"
    for state in wf.states:
        label = wf.state_label(state)
        assert label and label != state and re.search("[а-яё]", label), f"{object_type}.{state}: no Russian label"
        assert state in wf.styles, f"{object_type}.{state}: no badge style"
        assert wf.styles[state] in engine.BADGE_STYLES
    assert set(wf.styles) <= set(wf.states), "a style for a state the workflow does not have"
    for spec in wf.transitions:
        assert {*spec.source, spec.dest} <= set(wf.states)


def test_the_state_badge_macro_uses_the_workflow_vocabulary(app):
    with app.test_request_context():
        macro = app.jinja_env.get_template("_workflow.html").module.state_badge
        html = str(macro("document", "awaiting_signature"))
    assert 'data-state="awaiting_signature"' in html and "на подписи" in html and "text-bg-warning" in html


def test_no_feature_declares_its_own_state_badge_macro():
    macros = [p for p in (ROOT / "app").rglob("*.html")
              if re.search(r"{%-?\s*macro\s+\w*(state|doc|submission|request)_badge\(", p.read_text(encoding="utf-8"))]
    assert [p.relative_to(ROOT).as_posix() for p in macros] == ["app/templates/_workflow.html"]


def test_audit_page_and_openapi_use_the_workflow_labels(app):
    from app.api.openapi import CYCLE, STAGE
    from app.audit.labels import state_label

    assert state_label("draft", "document") == engine.registry()["document"].states["draft"]
    assert state_label("draft", "stage") == engine.registry()["stage"].states["draft"]
    assert STAGE["properties"]["state"]["enum"] == list(engine.registry()["stage"].states)
    assert CYCLE["properties"]["state"]["enum"] == list(engine.registry()["cycle"].states)
    assert "на рассмотрении" in STAGE["properties"]["state"]["description"]


def test_one_clock_helper():
    sources = [*(ROOT / "app").rglob("*.py"), *(ROOT / "workflows").rglob("*.py")]
    stray = [p.relative_to(ROOT).as_posix() for p in sources
             if re.search(r"def _now\(\) -> datetime|datetime\.now\(timezone\.utc\)|datetime\.utcnow\(",
                          p.read_text(encoding="utf-8"))]
    assert stray == ["app/core/timeutil.py"]
