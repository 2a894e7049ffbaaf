"""Context builders of the document types made from this feature's data (registered with the documents feature
at start-up by the descriptor's setup): addressed recommendations, the event order, the roadmap, the deficiency
plan, the decision order and the meeting protocol. Same contract as app/documents/contexts.py: plain
primitives only, and `refuse(...)` listing what is missing when a document cannot be made."""

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from app.analysis.models import Finding
from app.auth.models import RoleAssignment, User
from app.core import dating
from app.core import russian as ru
from app.core.db import in_ids
from app.documents import invited
from app.documents import services as document_services
from app.documents.rendering import unbroken_code
from app.documents.contexts import (
    CONTROL_ITEM,
    DASH,
    addressee_lines,
    addressee_org,
    date_range,
    fmt_date,
    head_user,
    in_text,
    name_genitive,
    number_rows,
    person,
    recalled,
    refuse,
    register_builder,
    registered_reference,
    remember,
    signer_user,
    titles,
)
from app.extensions import db
from app.followup.models import DECISION_KINDS, Decision, Measure, Recommendation, RecommendationItem
from app.orgs.models import Organisation
from app.orgs.services import org_today
from workflows.measure import STATE_LABELS as MEASURE_STATES

MEASURE_STATE_LABELS = MEASURE_STATES  # the measure workflow's own words (one vocabulary)


def findings_of(cycle) -> list[Finding]:
    return list(db.session.scalars(select(Finding).where(Finding.cycle_id == cycle.id).order_by(Finding.id)))


def measures_of(cycle) -> list[Measure]:
    """The cycle's measures that are not cancelled, in roadmap order."""
    return list(db.session.scalars(
        select(Measure).where(Measure.cycle_id == cycle.id, Measure.state != "cancelled")
        .order_by(Measure.start_date, Measure.id)))


def decisions_of(cycle) -> list[Decision]:
    return list(db.session.scalars(select(Decision).where(Decision.cycle_id == cycle.id)
                                   .order_by(Decision.deadline, Decision.id)))


def findings_about(findings, org, cycle) -> list[Finding]:
    """The findings a letter to `org` may cite as its basis: those about `org` itself and those about the whole
    territory (the cycle's owner, or no organisation named) — never another school's problems."""
    return [f for f in findings
            if not f.organisations or any(o.id in (org.id, cycle.owner_id) for o in f.organisations)]


def _recommendation_items(cycle_id: int, org_ids: list[int]):
    return db.session.scalars(
        select(RecommendationItem).join(Recommendation)
        .where(Recommendation.cycle_id == cycle_id, in_ids(RecommendationItem.organisation_id, org_ids))
        .order_by(RecommendationItem.due_date, RecommendationItem.id)
        .options(contains_eager(RecommendationItem.recommendation)))  # no query per item


def prepare_addressed_recommendations(cycle_id: int, org_ids: list[int]) -> None:
    """The recommendation items of every addressee of a batch in one query (contexts.prepare_addressees)."""
    items = {org_id: [] for org_id in org_ids}
    for item in _recommendation_items(cycle_id, org_ids):
        items[item.organisation_id].append(item)
    remember(("recommendation_items", cycle_id), items)


def addressed_recommendations(dtype, stage, ctx, *, addressee, params, **_):
    cycle = stage.cycle
    org = addressee_org(addressee)
    if org is None:
        refuse(dtype.title, ["Не выбран адресат рекомендаций."])
    rows, due = [], []
    prepared = recalled(("recommendation_items", cycle.id)) or {}
    items = prepared[org.id] if org.id in prepared else _recommendation_items(cycle.id, [org.id])
    for item in items:
        rec = item.recommendation
        basis = rec.basis or titles(findings_about(rec.findings, org, cycle)) or DASH
        rows.append({"text": rec.text, "basis": basis, "due_date": fmt_date(item.due_date)})
        due.append(item.due_date)
    if not rows:
        refuse(dtype.title, [f"Для «{org.display_name}» в цикле нет адресных рекомендаций."])
    dating.deadline(ctx, min(due), "ответ на рекомендации (план их выполнения)")
    head = head_user(org)
    ctx["doc"]["heading"] = "О направлении адресных рекомендаций"
    return {
        "letter": {"reply_number": params.get("reply_number"), "reply_date": params.get("reply_date")},
        # the sentence says «направляет адресные рекомендации для …»: the name in the genitive
        "addressee": {"name": org.name, "name_genitive": name_genitive(org), "short_name": org.display_name,
                      "head": ru.initials_surname(head.full_name) if head is not None else DASH,
                      "lines": addressee_lines(org, head)},
        "recommendations": number_rows(rows),
        "response_deadline": fmt_date(min(due)),
    }


def measure_row(m, *, cell=False) -> dict:
    """A measure's printed fields; in a table `cell` its indicator codes do not break at their hyphen."""
    codes = [i.code for i in getattr(m, "indicators", []) or []]
    if cell:
        codes = [unbroken_code(code) for code in codes]
    expected = m.expected_result or DASH
    # «(показатель: M2.3-01)» for one, «(показатели: M2.3-01, M2.3-02)» for several
    label = "показатель" if len(codes) == 1 else "показатели"
    return {"title": m.title, "dates": date_range(m.start_date, m.end_date), "responsible": person(m.responsible),
            "participants": m.participants or DASH,
            "expected_result": f"{expected} ({label}: {', '.join(codes)})" if codes else expected}


def _summary_row(dtype, stage) -> dict:
    """What a stage without structured content can offer: its summary, deadline and responsible person."""
    problems = []
    if not stage.summary:
        problems.append(f"Не заполнено содержание этапа «{stage.title}».")
    if stage.deadline is None:
        problems.append(f"Не указан срок этапа «{stage.title}».")
    if problems:
        refuse(dtype.title, problems)
    return {"title": stage.summary, "dates": fmt_date(stage.deadline), "responsible": person(stage.responsible),
            "participants": "руководители образовательных организаций", "expected_result": DASH}


def event_order(dtype, stage, ctx, *, params, **_):
    measures = measures_of(stage.cycle)
    chosen = None
    if params.get("measure_id"):
        chosen = next((m for m in measures if m.id == int(params["measure_id"])), None)
        if chosen is None:
            refuse(dtype.title, ["Мероприятие не найдено в этом цикле."])
    elif measures:
        # without a choice: the next event not yet begun (an order about a past one could not be executed)
        today = org_today(stage.cycle.owner)
        chosen = next((m for m in measures if m.start_date is None or m.start_date >= today), measures[0])
    if chosen is None:
        refuse(dtype.title, [_nothing_yet(stage, "MEAS", "ни одного мероприятия", "Добавить мероприятие")])
    event = measure_row(chosen)
    start, end = chosen.start_date, chosen.end_date
    # An order about an event is signed before the event starts: dated later, it orders what has begun.
    dating.not_after(ctx, start, f"мероприятие {ru.quote(event['title'])}")
    purpose = in_text((chosen.expected_result or "").strip().rstrip("."))
    ctx["doc"]["heading"] = f"О проведении мероприятия {ru.quote(event['title'])}"
    items = [
        {"text": f"Провести мероприятие {ru.quote(event['title'])}{_when(start, end)}.",
         "executor": event["responsible"], "deadline": fmt_date(end)},
        {"text": f"Обеспечить участие в мероприятии (участники: {in_text(event['participants'])}).",
         "executor": "руководители образовательных организаций", "deadline": fmt_date(start)},
        {"text": "Представить информацию о результатах мероприятия с подтверждающими материалами.",
         "executor": event["responsible"], "deadline": fmt_date(end)},
    ]
    for item in items:
        item["label"] = ru.responsible_label(item["executor"])
    return {
        # the roadmap by its date and number once it is registered (ГОСТ Р 7.0.97 cites a document so)
        "preamble": f"Во исполнение комплекса мер{registered_reference(stage.cycle, 'roadmap')} "
                    f"({ctx['cycle']['mechanism']}, {stage.cycle.period} учебный год)"
                    + (f" в целях достижения результата: {purpose}," if purpose else ","),
        "items": items, "control": CONTROL_ITEM, "event": event,
    }


def _when(start, end) -> str:
    """« в период с 15.12.2026 по 03.02.2027», « 15.12.2026» for a one-day event, nothing without dates: the order
    printed «в срок: 15.12.2026 – 03.02.2027», a table's range where a sentence wants words."""
    if start and end and start != end:
        return f" в период с {fmt_date(start)} по {fmt_date(end)}"
    day = start or end
    return f" {fmt_date(day)}" if day else ""


def _nothing_yet(stage, code: str, what: str, button: str) -> str:
    """«В цикле нет …» with the stage as its page names it and the button that adds one: «(этап «Решения»)» named
    no stage of the cycle («Управленческие решения») and left a new cycle's official to guess (walk 17)."""
    where = stage.cycle.stage(code)
    title = where.title if where is not None else code
    here = "на этой странице" if where is not None and where.id == stage.id else f"на этапе «{title}»"
    return f"В цикле нет {what}: добавьте его кнопкой «{button}» {here}."


def roadmap(dtype, stage, ctx, **_):
    measures = measures_of(stage.cycle)
    if not measures:
        refuse(dtype.title, [_nothing_yet(stage, "MEAS", "ни одного мероприятия", "Добавить мероприятие")])
    ctx["doc"]["heading"] = f"по достижению целей ({ctx['cycle']['mechanism']}) на {stage.cycle.period} учебный год"
    return {"measures": number_rows([measure_row(m, cell=True) for m in measures])}


def deficiency_plan(dtype, stage, ctx, **_):
    def deficiencies(m):
        found = list(m.findings) or [f for r in m.recommendations for f in r.findings]
        return titles(found)

    linked = [m for m in measures_of(stage.cycle) if deficiencies(m)]
    if not linked:
        refuse(dtype.title, ["Ни одно мероприятие не связано с выявленными недостатками (проблемами анализа)."])
    rows = [{**measure_row(m, cell=True), "deficiency": deficiencies(m)} for m in linked]
    ctx["doc"]["heading"] = f"устранения недостатков, выявленных по результатам мониторинга " \
                            f"({ctx['cycle']['mechanism']}, {stage.cycle.period} учебный год)"
    return {"rows": number_rows(rows)}


def _decision_rows(dtype, stage) -> list[dict]:
    """Decisions with deadline, responsible and participants (the hard rule of domain.md §6)."""
    decisions = decisions_of(stage.cycle)
    if not decisions:
        refuse(dtype.title, [_nothing_yet(stage, "DEC", "ни одного управленческого решения", "Подготовить решение")])
    problems = [f"Решение № {n}: не указаны участники." for n, d in enumerate(decisions, 1)
                if not (d.participants or "").strip()]
    if problems:
        refuse(dtype.title, problems)
    return [{"text": d.text, "kind": DECISION_KINDS.get(d.kind, d.kind), "deadline": fmt_date(d.deadline),
             "responsible": person(d.responsible), "participants": d.participants,
             "basis": d.basis or titles(d.findings) or DASH} for d in decisions]


def decision_order(dtype, stage, ctx, **_):
    rows = number_rows(_decision_rows(dtype, stage))
    for n, d in enumerate(decisions_of(stage.cycle), 1):
        dating.deadline(ctx, d.deadline, f"исполнение решения № {n}")
    items = [{"text": f"{d['text'].rstrip('.')}. Участники: {in_text(d['participants'])}.",
              "executor": d["responsible"],
              "deadline": d["deadline"]} for d in rows]
    ctx["doc"]["heading"] = f"Об управленческих решениях по итогам мониторинга ({ctx['cycle']['mechanism']}, " \
                            f"{stage.cycle.period} учебный год)"
    return {
        # the analytic report the decisions rest on (domain.md §4, DEC), by its date and number once registered
        "preamble": "На основании аналитической справки по результатам мониторинга"
                    f"{registered_reference(stage.cycle, 'analytic_report')}, в целях устранения выявленных "
                    "проблем и поощрения достигнутых результатов,",
        "items": items, "control": CONTROL_ITEM, "decisions": rows,
    }


def _meeting_people(org: Organisation) -> list[User]:
    return list(db.session.scalars(
        select(User).join(RoleAssignment)
        .where(RoleAssignment.organisation_id == org.id, RoleAssignment.role.in_(("head", "official",
                                                                                  "methodologist", "director",
                                                                                  "staff")),
               User.active.is_(True))
        .order_by(User.full_name).distinct()))


def _heard(user: User) -> str:
    """«М.И. Петрову, главного специалиста управления образования,»: the one a protocol «СЛУШАЛИ»."""
    name = ru.initials_surname(user.full_name, "accs") or user.short_name
    return f"{name}, {ru.accusative(in_text(user.position))}," if user.position else name


def protocol(dtype, stage, ctx, *, params, **_):
    cycle = stage.cycle
    chair = signer_user(dtype, stage)
    people = _meeting_people(cycle.owner)
    # The secretary signs the protocol beside the chair (a second signer, separation of duties): never the
    # chair. The stage's responsible person keeps the minutes; else the first other participant of the meeting.
    secretary = next((u for u in ([stage.responsible] if stage.responsible else []) + people
                      if u is not None and u.active and u.id != chair.id), None)
    if secretary is None:
        refuse(dtype.title, ["Некому вести протокол: кроме председателя, в организации нет пользователей, которые "
                             "могут быть секретарём совещания."])
    for user in (chair, secretary):
        if user not in people:
            people.append(user)
    # «Присутствовали» lists them in alphabetical order of surnames: the chair or secretary added last broke it
    people.sort(key=lambda u: ru.sort_key(ru.surname_initials(u.full_name)))
    if stage.code == "DEC" or decisions_of(cycle):
        decided = _decision_rows(dtype, cycle.stage("DEC") or stage)
        # The meeting decides them: their deadlines lie after the protocol's date.
        for n, d in enumerate(decisions_of(cycle), 1):
            dating.deadline(ctx, d.deadline, f"исполнение решения 1.{n}")
    else:
        row = _summary_row(dtype, stage)
        decided = [{"text": row["title"], "deadline": row["dates"], "responsible": row["responsible"]}]
    analysis = cycle.stage("ANL")
    findings = findings_of(cycle)
    # «СЛУШАЛИ: М.И. Петрову, главного специалиста …, о …» (whom the meeting heard: the accusative; ВЫСТУПИЛИ keeps
    # the nominative); the problems continue the sentence after the colon in lower case.
    heard = (f"{_heard(analysis.responsible if analysis and analysis.responsible else secretary)} о результатах "
             f"мониторинга и анализа ({ctx['cycle']['mechanism']}, {cycle.period} учебный год).")
    if findings:
        heard += " Выявленные проблемы: " + ru.lower_first(titles(findings)) + "."
    elif analysis and analysis.summary:
        heard += " " + analysis.summary
    agenda = [{
        "number": 1, "title": f"О результатах мониторинга и управленческих решениях ({ctx['cycle']['mechanism']})",
        "heard": heard,
        "spoke": params.get("spoke") or f"{person(chair)} — о предлагаемых управленческих решениях.",
        "decided": [{"number": f"1.{n}", "text": d["text"].rstrip("."), "deadline": d["deadline"],
                     "responsible": d["responsible"]} for n, d in enumerate(decided, 1)],
        "votes_for": len(people), "votes_against": 0, "votes_abstained": 0,
    }]
    ctx["doc"]["heading"] = "совещания"
    return {
        "meeting": {"body": params.get("body") or f"совещания по итогам управленческого цикла "
                                                  f"{ctx['cycle']['mechanism']} ({cycle.period})",
                    "chair": ru.initials_surname(chair.full_name),
                    "chair_position": ru.lower_first(chair.position or "председатель"),
                    "secretary": ru.initials_surname(secretary.full_name),
                    "secretary_position": ru.lower_first(secretary.position or "секретарь")},
        # «Иванов С.П.»: the form and the order of a list of those present
        "present": number_rows([{"name": ru.surname_initials(u.full_name), "position": u.position or DASH}
                                for u in people]),
        # those invited from outside (directors, the ИМЦ), as the official typed them in the «Сформировать» form
        "invited": [line for line in params.get(invited.PARAM) or [] if isinstance(line, str) and line.strip()],
        "agenda": agenda,
        # Who signs as the secretary (the workflow admits only this person to the second signature).
        "cosigner": {"user_id": secretary.id, "name": ru.initials_surname(secretary.full_name),
                     "position": secretary.position or ""},
    }


def recommendation_addressee_ids(stage) -> list[int]:
    """The organisations the cycle's addressed recommendations go to, in the order the items were written."""
    return list(dict.fromkeys(db.session.scalars(
        select(RecommendationItem.organisation_id).join(Recommendation)
        .where(Recommendation.cycle_id == stage.cycle_id).order_by(RecommendationItem.id))))


BUILDERS = {"addressed_recommendations": addressed_recommendations, "event_order": event_order, "roadmap": roadmap,
            "deficiency_plan": deficiency_plan, "decision_order": decision_order, "protocol": protocol}
PREPARERS = {"addressed_recommendations": prepare_addressed_recommendations}


def register() -> None:
    """Called by the descriptor's setup: the documents feature builds these types and addresses letters with them."""
    for key, builder in BUILDERS.items():
        register_builder(key, builder, prepare=PREPARERS.get(key))
    document_services.use_addressee_source(recommendation_addressee_ids)
