"""Access-walk knowledge of this feature's routes (merged by tests/test_access.py).

ROUTE_ARGUMENTS: URL argument → (scope, fn(objs, values, rule) → list of school-B values); use objs.extra.
ENDPOINT_SCOPES: endpoint → scope, where the argument's scope is not the endpoint's.
FORM_ROUTES: endpoint → fn(objs, world, session) → (actor key, URL values, form data of a successful POST).
school_b_objects(world, make_cycle, db_session, objs) → dict of extra school-B ids, put in objs.extra.
"""

from datetime import date, timedelta

from tests.snapshots import measure_dates

ORG_SCOPED = "organisation"

ROUTE_ARGUMENTS: dict = {
    "recommendation_id": (ORG_SCOPED, lambda o, v, r: [o.extra["recommendation_id"]]),
    "rec_item_id": (ORG_SCOPED, lambda o, v, r: [o.extra["rec_item_id"]]),
    "measure_id": (ORG_SCOPED, lambda o, v, r: [o.extra["measure_id"]]),
    "decision_id": (ORG_SCOPED, lambda o, v, r: [o.extra["decision_id"]]),
}
ENDPOINT_SCOPES: dict = {}


def _day(n: int) -> str:
    return (date.today() + timedelta(days=n)).isoformat()


def _recommendation_form(objs, world, session):
    from app.cycles.models import Cycle
    from app.followup import services

    findings = [str(f.id) for f in services.cycle_findings(session.get(Cycle, objs.cycle_id))][:1]
    return "director_b", {"cycle_id": objs.cycle_id}, {
        "text": "Провести педсовет по итогам ВПР", "addressee_group": "organisations", "finding_ids": findings,
        "organisation_ids": [str(objs.org_id)], "basis": "Справка по итогам анализа", "response_deadline": _day(20)}


def _edit_recommendation_form(objs, world, session):
    from app.followup.models import Recommendation

    rec = session.get(Recommendation, objs.extra["recommendation_id"])
    return "director_b", {"recommendation_id": rec.id}, {
        "text": "Изменённый текст", "addressee_group": "organisations", "organisation_ids": [str(objs.org_id)],
        "finding_ids": [str(f.id) for f in rec.findings], "basis": "Анализ ВПР", "response_deadline": _day(25),
        "version": str(rec.version)}


def _measure_data(world, title, version=None):
    data = {"title": title, "kind": "event", "responsible_id": str(world["director_b"].id),
            **{key: day.isoformat() for key, day in measure_dates(2, 12).items()}, "participants": "Учителя",
            "expected_result": "Рост"}
    if version is not None:
        data["version"] = str(version)
    return data


def _new_measure_form(objs, world, session):
    return "director_b", {"cycle_id": objs.cycle_id}, _measure_data(world, "Ещё одно мероприятие")


def _edit_measure_form(objs, world, session):
    from app.followup.models import Measure

    measure = session.get(Measure, objs.extra["measure_id"])
    return "director_b", {"measure_id": measure.id}, _measure_data(world, "Переименовано", measure.version)


def _decision_data(world, text, version=None):
    data = {"text": text, "kind": "organisational", "deadline": _day(15), "responsible_id": str(world["director_b"].id),
            "participants": "Учителя", "basis": "Справка по итогам анализа"}
    if version is not None:
        data["version"] = str(version)
    return data


def _new_decision_form(objs, world, session):
    return "director_b", {"cycle_id": objs.cycle_id}, _decision_data(world, "Утвердить план")


def _edit_decision_form(objs, world, session):
    from app.followup.models import Decision

    decision = session.get(Decision, objs.extra["decision_id"])
    return "director_b", {"decision_id": decision.id}, _decision_data(world, "Изменённый текст", decision.version)


FORM_ROUTES: dict = {
    "followup.new_recommendation": _recommendation_form,
    "followup.edit_recommendation": _edit_recommendation_form,
    "followup.new_measure": _new_measure_form,
    "followup.edit_measure": _edit_measure_form,
    "followup.new_decision": _new_decision_form,
    "followup.edit_decision": _edit_decision_form,
}


def school_b_objects(world, make_cycle, db_session, objs) -> dict:
    """A recommendation (to the school itself), a measure and a decision of school B's own cycle."""
    from app.cycles.models import Cycle
    from app.followup import services

    cycle = db_session.get(Cycle, objs.cycle_id)
    director, today = world["director_b"], date.today()
    findings = [f.id for f in services.cycle_findings(cycle)]  # the analysis case may have recorded one
    rec = services.create_recommendation(
        cycle, text="Учителям начальных классов: разобрать задания с низкой решаемостью",
        addressee_group="organisations", organisation_ids=[objs.org_id], basis="Анализ ВПР", actor=director,
        today=today, response_deadline=today + timedelta(days=20), finding_ids=findings[:1])
    measure = services.create_measure(cycle, actor=director, title="Семинар", kind="training",
                                      responsible_id=director.id, **measure_dates(0, 9))
    decision = services.create_decision(cycle, actor=director, today=today, text="Утвердить план", kind="staff",
                                        deadline=today + timedelta(days=9), responsible_id=director.id,
                                        participants="Учителя", basis="Анализ ВПР", measure_ids=[measure.id])
    return {"recommendation_id": rec.id, "rec_item_id": rec.items[0].id, "measure_id": measure.id,
            "decision_id": decision.id}
