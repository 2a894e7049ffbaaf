"""Issue 13 (screens): honest dashboard numbers, form limits that match the database, the navigation."""

import pytest

from app.analysis.dashboard import attainment_shown, goal_attainment


@pytest.mark.parametrize(("current", "baseline", "target", "direction", "expected"), [
    (58, 50, 60, "up", (80.0, False)),             # 8 of the 10 points to go
    (45, 50, 60, "up", (-50.0, False)),            # went the wrong way
    (64, 50, 60, "up", (140.0, True)),             # beyond the target (shown capped, true value kept)
    (4, 10, 2, "down", (75.0, False)),             # lower is better: 6 of the 8 points
    (1.0, 10, 2, "down", (112.5, True)),
    (12, 10, 2, "down", (-25.0, False)),
    (12.7, 10, 9.8, "up", (129.6, True)),          # a target below the baseline: no "−1350 %"
    (9.5, 10, 10, "up", (95.0, False)),            # baseline equal to target: kept level against target
    (10, 10, 10, "up", (100.0, True)),
    (3, 2, 2, "down", (66.7, False)),
    (0, 2, 2, "down", (100.0, True)),
    (None, 10, 12, "up", (None, None)),
    (5, 10, None, "up", (None, None)),
    (5, None, 4, "up", (125.0, True)),             # no baseline: against the target
])
def test_goal_attainment_reads_the_direction(current, baseline, target, direction, expected):
    assert goal_attainment(current, baseline, target, direction) == expected


def test_attainment_is_shown_capped():
    assert [attainment_shown(v) for v in (None, -1350.0, 0.0, 55.5, 100.0, 960.0)] == [None, 0.0, 0.0, 55.5, 100.0,
                                                                                        100.0]


# --- limits: every text field of every form has a maximum the database agrees with ---------------------

FORM_MODULES = ("analysis", "api", "auth", "catalogue", "cycles", "deadlines", "documents", "effectiveness",
                "followup", "imports", "monitoring", "orgs")

# Form class → the model whose columns its fields of the same name are saved to.
FORM_MODELS = {
    "app.analysis.forms.FindingForm": "app.analysis.models.Finding",
    "app.api.forms.TokenForm": "app.api.models.ApiToken",
    "app.auth.forms.UserForm": "app.auth.models.User",
    "app.catalogue.forms.MechanismForm": "app.catalogue.models.Mechanism",
    "app.catalogue.forms.TrackForm": "app.catalogue.models.Track",
    "app.cycles.forms.GoalForm": "app.cycles.models.Goal",
    "app.cycles.forms.IndicatorForm": "app.cycles.models.Indicator",
    "app.cycles.forms.CollectionMethodForm": "app.cycles.models.CollectionMethod",
    "app.cycles.forms.SummaryForm": "app.cycles.models.Stage",
    "app.cycles.forms.CycleForm": "app.cycles.models.Cycle",
    "app.deadlines.forms.StandInForm": "app.deadlines.models.StandIn",
    "app.effectiveness.forms.ConclusionsForm": "app.effectiveness.models.EffectivenessEvaluation",
    "app.effectiveness.forms.AssessmentForm": "app.effectiveness.models.MeasureAssessment",
    "app.effectiveness.forms.ProposalForm": "app.effectiveness.models.EffectivenessProposal",
    "app.followup.forms.RecommendationForm": "app.followup.models.Recommendation",
    "app.followup.forms.MeasureForm": "app.followup.models.Measure",
    "app.followup.forms.DecisionForm": "app.followup.models.Decision",
    "app.followup.forms.StartForm": "app.followup.models.RecommendationItem",
    "app.followup.forms.ReportForm": "app.followup.models.RecommendationItem",
    "app.monitoring.forms.RequestForm": "app.monitoring.models.DataRequest",
    "app.orgs.forms.OrganisationForm": "app.orgs.models.Organisation",
}


def _load(dotted: str):
    import importlib

    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _text_fields(form_class):
    """(name, max length or None) of every free-text field of the form (hidden and password fields aside)."""
    from wtforms import HiddenField, PasswordField, StringField
    from wtforms.fields.core import UnboundField
    from wtforms.validators import Length

    for name in dir(form_class):
        unbound = getattr(form_class, name)
        if not isinstance(unbound, UnboundField) or not issubclass(unbound.field_class, StringField):
            continue
        if issubclass(unbound.field_class, (HiddenField, PasswordField)):
            continue
        validators = unbound.kwargs.get("validators") or (unbound.args[1] if len(unbound.args) > 1 else [])
        maxima = [v.max for v in validators if isinstance(v, Length) and v.max not in (None, -1)]
        yield name, min(maxima) if maxima else None, validators


def _all_form_classes():
    import importlib

    from app.core.forms import Form

    for module in FORM_MODULES:
        importlib.import_module(f"app.{module}.forms")
    seen, stack = [], list(Form.__subclasses__())
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return [c for c in seen if c.__module__.startswith("app.")]


def column_limit(column) -> int | None:
    """The maximum the database layer holds a text column to: VARCHAR(n), or info["max_length"] of a Text."""
    return getattr(column.type, "length", None) or column.info.get("max_length")


def test_every_text_field_of_every_form_has_a_maximum_the_column_agrees_with(app):
    from sqlalchemy import String

    from app.core.limits import FREE_TEXT_FIELDS_WITHOUT_COLUMN  # noqa: F401 - documents the exceptions

    problems = []
    classes = _all_form_classes()
    assert len(classes) > 30
    for cls in classes:
        key = f"{cls.__module__}.{cls.__name__}"
        model = _load(FORM_MODELS[key]) if key in FORM_MODELS else None
        for name, maximum, validators in _text_fields(cls):
            choice_like = any(type(v).__name__ in ("AnyOf",) for v in validators) or name in ("trigger", "type_key")
            if maximum is None and not choice_like and name != "period":
                problems.append(f"{key}.{name}: no Length(max=…)")
                continue
            column = model.__table__.columns.get(name) if model is not None else None
            if column is None or not isinstance(column.type, String):
                continue  # not stored as text (a number parsed from the field) or not in the form's model
            limit = column_limit(column)
            if limit is None:
                problems.append(f"{key}.{name}: column {column} has no maximum (String(n) or info max_length)")
            elif maximum is not None and maximum > limit:
                problems.append(f"{key}.{name}: form allows {maximum}, column holds {limit}")
    assert not problems, "\n".join(problems)


def test_a_flush_refuses_text_longer_than_its_column_in_russian(world, make_cycle, db_session):
    """Any path (a service, the API, an import) is held to the same maximum as the forms: a 280 000-character
    goal is refused with a Russian message and nothing is written, never stored whole or cut."""
    from sqlalchemy import func, select

    from app.core.errors import ValidationFailed
    from app.cycles.models import Goal

    cycle = make_cycle(world["mun"], world["official"])
    db_session.commit()
    before = db_session.scalar(select(func.count()).select_from(Goal))
    db_session.add(Goal(cycle=cycle, direction="Направление", statement="ц" * 280_000, justification="о",
                        realism="р"))
    with pytest.raises(ValidationFailed) as refused:
        db_session.flush()
    assert refused.value.message == ("Слишком длинный текст в поле «Цель»: 280 000 знаков при допустимых 4 000. "
                                     "Сократите текст — ничего не сохранено.")
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Goal)) == before

    db_session.add(Goal(cycle=cycle, direction="н" * 501, statement="ц", justification="о", realism="р"))
    with pytest.raises(ValidationFailed, match="501 знаков при допустимых 500"):
        db_session.flush()
    db_session.rollback()


def test_text_fields_render_their_maximum(client, world, login, make_cycle, db_session):
    cycle = make_cycle(world["mun"], world["official"])
    db_session.commit()
    login(world["official"])
    html = client.get(f"/cycles/{cycle.id}/goals/new").get_data(as_text=True)
    assert 'maxlength="500"' in html and 'maxlength="4000"' in html and 'maxlength="8000"' in html


# --- navigation and confirmations -----------------------------------------------------------------------

def _nav(html: str) -> str:
    return html[html.index('id="nav-groups"'):html.index('id="user-menu"')]


def test_navigation_groups_entries_by_role(client, world, login):
    login(world["admin"])
    nav = _nav(client.get("/tasks/").get_data(as_text=True))
    for group in ("Работа", "Циклы", "Данные", "Аналитика", "Администрирование"):
        assert f">{group}</button>" in nav
    assert "/admin/users" in nav and "/documents/templates" in nav and "/audit/" in nav
    assert "/followup/my" not in nav

    client.post("/logout")
    login(world["director_a"])
    html = client.get("/tasks/").get_data(as_text=True)
    nav = _nav(html)
    assert ">Администрирование</button>" not in nav  # a group with nothing to show is left out
    assert "/followup/my" in nav and f"/analysis/schools/{world['school_a'].id}" in nav
    # The user menu: password, tokens, log-out; the skip link and the favicon on every page.
    assert "/password" in html and ">Выйти</button>" in html
    assert 'href="#content"' in html and "favicon.svg" in html


def test_the_audit_log_is_in_the_work_menu_of_an_auditor_and_no_administration_menu_is_shown(client, world, login):
    import lxml.html

    login(world["auditor"])
    nav = lxml.html.fromstring(_nav(client.get("/audit/").get_data(as_text=True)).split(">", 1)[1])
    groups = {" ".join(li.xpath("button")[0].text_content().split()): li.xpath(".//a/@href")
              for li in nav.xpath("//li[button]")}
    assert "Администрирование" not in groups
    assert [h for h in groups["Работа"] if h.startswith("/audit/")] == ["/audit/"]
    assert "active" in nav.xpath("//li[button[normalize-space()='Работа']]/button/@class")[0]


def test_destructive_buttons_ask_first(client, world, login, make_cycle, db_session):
    cycle = make_cycle(world["mun"], world["official"])
    db_session.commit()
    login(world["official"])
    client.post(f"/cycles/{cycle.id}/goals/new", data={
        "direction": "Н", "statement": "Ц", "justification": "О", "realism": "Р", "parent_goal_id": "0"})
    html = client.get(f"/stages/{cycle.stage('GOAL').id}").get_data(as_text=True)
    assert 'data-confirm="Удалить эту запись? Действие нельзя отменить."' in html
    # The question is asked by a script in <head>: a click before the page has loaded still asks.
    head = html.split("</head>")[0]
    assert "/static/js/confirm.js" in head and 'id="confirm-modal"' in html


def test_attainment_cell_shows_the_capped_figure_and_the_true_one_in_a_tooltip(app):
    from flask import render_template_string

    template = ("{% from 'analysis/_macros.html' import attainment %}"
                "[{{ attainment(960.0, true) }}][{{ attainment(-1350.0, false) }}][{{ attainment(55.5, none) }}]"
                "[{{ attainment(none, none) }}]")
    with app.test_request_context():
        html = render_template_string(template)
    over, under, plain, empty = html.strip("[]").split("][")
    assert ">100,0+<" in over and 'title="Фактически 960,0 %' in over and "цель достигнута" in over
    assert ">0,0<" in under and "Фактически \u22121350,0 %" in under and "цель не достигнута" in under
    assert "title=" not in plain and ">55,5<" in plain and "цель" not in plain
    assert empty == "—"


def test_the_criteria_page_says_in_russian_what_confirms_each_criterion(client, world, login):
    """«Что подтверждает» showed the evidence rule's JSON ({"content": {"goals": 1}, "integrity": [...]}) and the block
    column its code (GOAL); now both read in Russian."""
    from app.assessment.criteria import load_criteria, published_sets

    load_criteria()
    cset = next(s for s in published_sets() if s.level == "municipal")
    login(world["admin"])
    html = client.get(f"/assessment/criteria/{cset.id}").get_data(as_text=True)
    assert "{&#34;content" not in html and "goals_justified" not in html and "per_group" not in html
    assert "decision_without_deadline" not in html and "<td>GOAL</td>" not in html
    assert "целей с обоснованием: не меньше 1" in html and "«Решение без срока»" in html
    assert "показатели по каждой обязательной группе" in html
    # each mechanism's table is headed by its title too, not by the code alone («M1.1»)
    from app.assessment.documents import mechanism_titles

    code = cset.criteria[0].mechanism_code
    title = mechanism_titles([code])[code]
    assert title != code and f"{code} — {title}" in html


def test_time_zones_are_named_as_a_reader_knows_them(client, world, login):
    """The audit log said «даты фильтра — по часовому поясу Europe/Moscow»: now «UTC+3 (Москва)»."""
    from datetime import datetime, timezone

    from app.core.timeutil import zone_label

    winter = datetime(2026, 1, 15, tzinfo=timezone.utc)
    assert zone_label("Europe/Moscow", winter) == "UTC+3 (Москва)"
    assert zone_label("Asia/Kamchatka", winter) == "UTC+12 (Петропавловск-Камчатский)"
    assert zone_label("Asia/Kolkata", winter) == "UTC+5:30"
    assert zone_label("America/New_York", winter) == "UTC\u22125"
    login(world["auditor"])
    html = client.get("/audit/").get_data(as_text=True)
    assert "Europe/" not in html and "по часовому поясу UTC+" in html


def test_analysis_numbers_carry_a_real_minus_and_z_stays_on_one_line(app):
    """The dashboard printed deviations with a hyphen («-21,20», «z = -1,27») and broke «(z =» from its value at
    1366 px; a negative number now has a real minus, a rounded-away one none."""
    from app.analysis.views import analysis_number

    assert analysis_number(-21.2) == "\u221221,20" and analysis_number(-1.27, 1) == "\u22121,3"
    assert analysis_number(-0.001) == "0,00" and analysis_number(0.9) == "0,90" and analysis_number(None) == "—"
    for name in ("dashboard", "school"):
        source = app.jinja_env.loader.get_source(app.jinja_env, f"analysis/{name}.html")[0]
        assert '<span class="text-nowrap">(z = ' in source


def test_a_sheets_total_not_yet_scored_is_one_dash(app):
    """The self-assessment's «Итого» under «Эксперт» read «— —» (no total and no level) before the expert scored."""
    import re

    with app.test_request_context():
        template = app.jinja_env.get_template("assessment/_sheet.html")
        html = template.render(scores=[], mode="read", totals={
            "max": 22, "proposed": 2, "proposed_level": "none", "proposed_percent": 9, "self": 2,
            "self_level": "none", "self_percent": 9, "expert": None, "expert_level": None})
    foot = html[html.index("<tfoot>"):html.index("</tfoot>")]
    cells = [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in foot.split("<td>")[1:]]
    assert cells[2] == "—" and "— —" not in foot
    assert cells[0].startswith("2 не сформирован")
