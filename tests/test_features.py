"""The feature contract: every app/ package declares one `Feature` and everything central is filled from them.

The navigation each role sees is pinned to what the hand-written navigation bar showed before descriptors
(compared link by link for every demo role when the bar moved to NavEntry).
"""

import importlib
import re
from pathlib import Path

import pytest

from app.core import features
from app.core.features import INFRASTRUCTURE, Feature
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = sorted(p.parent.name for p in ROOT.glob("app/*/__init__.py") if p.parent.name not in INFRASTRUCTURE)

# The bar as every role sees it: (group, label) in the order of the menus (app/core/navigation.py GROUPS).
EVERYONE_ENTRIES = [("Работа", "Мои задачи"), ("Работа", "Календарь"), ("Работа", "Заместители"),
                    ("Циклы", "Все циклы"), ("Циклы", "Механизмы и направления"),
                    ("Данные", "Сбор сведений"), ("Данные", "Импорт данных"),
                    ("Аналитика", "Ситуационный центр"), ("Аналитика", "Организации")]
SCHOOL = EVERYONE_ENTRIES[:2] + [("Работа", "Рекомендации")] + EVERYONE_ENTRIES[2:8] + [
    ("Аналитика", "Профиль моей организации"), ("Аналитика", "Организации")]
# The assessment of municipal mechanisms: every role but the schools'.
ASSESSMENT = EVERYONE_ENTRIES + [("Аналитика", "Оценка механизмов")]
# The audit log: an administrator's tool, and part of the work of those who check (auditor, expert, head).
AUDIT = ASSESSMENT + [("Работа", "Журнал аудита")]
NAVIGATION = {
    "admin": ASSESSMENT + [("Администрирование", "Журнал аудита"), ("Администрирование", "Пользователи"),
                           ("Администрирование", "Шаблоны документов")],
    "official": ASSESSMENT, "methodologist": ASSESSMENT,
    "head": AUDIT, "expert": AUDIT, "auditor": AUDIT,
    "director": SCHOOL, "staff": SCHOOL,
}
GROUP_ORDER = ("Работа", "Циклы", "Данные", "Аналитика", "Администрирование")


def test_an_administrator_who_is_also_an_auditor_sees_the_audit_log_once_among_the_admin_tools(app):
    with app.app_context():
        entries = [(e.group, e.label) for e in features.navigation(Holder("auditor", "admin")) if e.group]
    assert [e for e in entries if e[1] == "Журнал аудита"] == [("Администрирование", "Журнал аудита")]


class Holder:
    """Just what NavEntry asks of a user."""

    def __init__(self, *roles):
        self.roles = roles

    def has_role(self, *wanted):
        return any(r in wanted for r in self.roles)


@pytest.mark.parametrize("name", PACKAGES)
def test_every_package_declares_its_feature(name):
    module = importlib.import_module(f"app.{name}")
    # tasks: its __init__.py belongs to the engine branch for now; the descriptor waits in app/tasks/feature.py
    descriptor = getattr(module, "FEATURE", None) or importlib.import_module(f"app.{name}.feature").FEATURE
    assert isinstance(descriptor, Feature) and descriptor.name == name


def test_discovery_finds_every_package_once():
    assert sorted(f.name for f in features.discover()) == PACKAGES


def test_no_stub_cli_modules_are_left():
    for path in ROOT.glob("app/*/cli.py"):
        assert not re.search(r"^cli = None", path.read_text(encoding="utf-8"), re.M), path


def test_a_package_without_a_descriptor_is_an_error(monkeypatch):
    monkeypatch.setattr(features, "_DISCOVERED", [])
    broken = importlib.import_module("app.orgs")
    monkeypatch.delattr(broken, "FEATURE")
    with pytest.raises(RuntimeError, match="app/orgs/__init__.py declares no FEATURE"):
        features.discover()


@pytest.mark.parametrize("role", sorted(NAVIGATION))
def test_navigation_per_role_comes_from_the_descriptors(app, role):
    with app.app_context():
        entries = [e for e in features.navigation(Holder(role)) if e.group]
    assert sorted((e.group, e.label) for e in entries) == sorted(NAVIGATION[role])


@pytest.mark.parametrize("key, role", [("admin", "admin"), ("official", "official"), ("head", "head"),
                                       ("director_a", "director"), ("staff_a", "staff"), ("auditor", "auditor")])
def test_the_navigation_bar_is_rendered_from_the_entries(app, world, key, role):
    client = app.test_client()
    response = client.post("/login", data={"login": world[key].login, "password": PASSWORD})
    assert response.status_code == 302
    page = client.get("/tasks/").get_data(as_text=True)
    nav = page[page.index('id="nav-groups"'):page.index('id="user-menu"')]
    groups = re.findall(r'id="nav-group-\d+">([^<]+)</button>', nav)
    assert groups == [g for g in GROUP_ORDER if any(p[0] == g for p in NAVIGATION[role])]
    labels = re.findall(r'class="dropdown-item[^"]*" href="[^"]+"[^>]*>([^<]+)</a>', nav)
    assert sorted(labels) == sorted(label for _g, label in NAVIGATION[role])
    assert 'aria-label="Уведомления"' in page  # the bell, beside the user menu


def test_registries_are_filled_from_the_descriptors(app):
    from app.audit import labels
    from workflows import engine

    commands = set(app.cli.commands)
    assert {"seed", "jobs", "orgs", "catalogue", "audit", "users", "import", "analysis", "reminders"} <= commands
    # every task kind a workflow opens belongs to a feature's descriptor
    assert features.task_kinds() == engine.task_kinds()
    for feature in features.discover():
        assert set(feature.audit.objects) <= set(labels.OBJECTS), feature.name
        assert set(feature.audit.actions) <= set(labels.ACTIONS), feature.name
        if feature.access_cases:
            importlib.import_module(feature.access_cases)


def test_stage_and_cycle_partials_keep_their_order(app):
    with app.app_context():
        assert features.stage_partials("ANL") == ["analysis/_stage_ANL.html", "documents/_stage.html",
                                                  "effectiveness/_stage.html"]
        assert features.stage_partials("REC") == ["followup/_stage_REC.html", "documents/_stage.html",
                                                  "effectiveness/_stage.html"]
        assert features.stage_partials("EFF") == ["effectiveness/_stage_EFF.html", "documents/_stage.html",
                                                  "effectiveness/_stage.html"]
        assert features.cycle_partials() == ["analysis/_cycle.html", "effectiveness/_cycle.html",
                                             "vertical/_cycle.html"]


def test_demo_fillers_run_monitoring_first_and_documents_last(app):
    from app.documents.demo import fill_documents
    from app.effectiveness.demo import fill_effectiveness

    assert features.demo_fillers("MON")[-1] is fill_documents
    assert features.demo_fillers("MON")[0].__module__ == "app.monitoring"
    assert features.demo_fillers("EFF") == [fill_effectiveness, fill_documents]


def test_the_demo_region_code_is_the_one_the_deadlines_filler_checks():
    from app.deadlines import demo as deadlines_demo
    from app.demo import REGION_CODE

    assert deadlines_demo.REGION_CODE == REGION_CODE
