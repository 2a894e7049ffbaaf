"""Demo data of the follow-up feature, called from app.demo while it fills the REC, MEAS and DEC stages.

REC: a recommendation answering every finding of the cycle (or a free-text basis when there are none), issued
(each addressee's letter made, signed and registered first: its outgoing number and date prove the sending)
by the head to three schools (kindergartens for the preschool mechanism): MUN01-S01's director acknowledged it and
reported with evidence (the official has it to check), MUN01-S02's started and is overdue, the third waits; a
recommendation to mathematics teachers (accepted for the first school, acknowledged by the second) and one per
finding to the schools it names. The open cycles leave the directors work to do (PROGRESS_PLANS).
MEAS: a roadmap implementing every recommendation, each measure aimed at an indicator: one verified, one done,
one running and overdue, one planned. DEC: an organisational decision, a corrective one and an incentive
(поощрение), each resting on the analysis, with deadlines, responsible persons and participants.
"""

import io
from datetime import date, timedelta

from sqlalchemy import select

from app.auth.services import users_with_role_at
from app.core import charts
from app.core import russian as ru
from app.core.timeutil import period_bounds
from app.extensions import db
from app.cycles.basis import basis_indicators
from app.documents import services as document_services
from app.documents.demo import complete_document
from app.followup import services
from app.followup.letters import LETTER_TYPE
from app.followup.models import Decision, Measure, Recommendation
from app.monitoring.demo import addressee_kinds
from workflows import engine
from app.documents.attachments import attach
from app.tasks.models import Task
from app.deadlines.models import StandIn
from app.deadlines.standins import create_stand_in

MAX_ADDRESSEES = 4


def _evidence(item_or_measure, actor, name: str, kind: str = "evidence") -> None:
    attach(item_or_measure, stream=io.BytesIO(_demo_pdf(name)), filename=name, kind=kind, actor=actor)


def _demo_pdf(name: str) -> bytes:
    """A one-page A4 PDF naming the document in Russian (attachments are checked by content, app/core/uploads.py):
    the demo's files are named and read as a school's or a municipality's would be («Протокол мероприятия.pdf»),
    never «protokol-meropriyatiya.pdf» saying «UKO-Cikl demo document» inside."""
    fig = charts.figure(21, 29.7)
    fig.set_layout_engine("none")  # fixed places on the page, as a typed document has
    fig.text(0.12, 0.9, name.removesuffix(".pdf"), fontsize=14, fontweight="bold")
    fig.text(0.12, 0.87, "Демонстрационный файл системы «УКО-Цикл»: образец подтверждающего документа.", fontsize=11)
    return charts.render(fig, "pdf")


def _director(org):
    people = users_with_role_at(org, {"director"})
    return people[0] if people else None


def _schools(cycle) -> list:
    """The institutions the cycle's recommendations go to: its monitoring's addressees (the kindergartens of the
    preschool mechanism, the schools of the others)."""
    schools = (services.institutions(cycle, addressee_kinds(cycle))
               or services.institutions(cycle, services.SCHOOL_KINDS))  # a world without kindergartens
    # The demo's first school (MUN01-S01, director `director`) goes first when it is there, then the institutions of
    # the audience's first kind (the main recommendation's story is three schools', or three kindergartens'), then
    # the others (the house of children's creativity of M1.3 and M2.3, the schools with preschool groups of M2.4).
    first_kind = addressee_kinds(cycle)[0]
    return sorted(schools, key=lambda o: (not o.code.endswith("-S01"), o.kind != first_kind, o.code))


# The recommendations of a cycle about the results of assessment procedures (mathematics first), with the addressee
# group and note of the second one; a mechanism whose demo cycle reaches them gets its own subject's (the closed demo
# cycle is M2.3, воспитание, which was told to analyse tasks with a low success rate; M2.2, teachers' professional
# development, was told to ensure the objectivity of assessment procedures).
RECOMMENDATIONS = [
    "Провести внутришкольный анализ результатов оценочных процедур по выявленным проблемам, разработать план "
    "устранения дефицитов и включить его в план ВСОКО на текущий учебный год.",
    "Организовать методическое сопровождение учителей-предметников: посещение уроков, разбор заданий с "
    "низкой решаемостью, участие в работе муниципального методического объединения.",
    "Обеспечить объективность проведения оценочных процедур: независимые наблюдатели, перекрёстная проверка "
    "работ, анализ соответствия отметок за работу и текущих отметок.",
]
RECOMMENDATIONS_BY_MECHANISM = {
    "M2.3": ([
        "Проанализировать выполнение календарного плана воспитательной работы за полугодие, привести его в "
        "соответствие с рабочей программой воспитания и интересами обучающихся, результаты рассмотреть на "
        "педагогическом совете.",
        "Организовать методическое сопровождение классных руководителей: открытые классные часы, разбор "
        "практик вовлечения обучающихся в детские общественные объединения, участие в работе муниципального "
        "методического объединения.",
        "Обеспечить учёт занятости обучающихся во внеурочной деятельности и в каникулярный период, в первую "
        "очередь состоящих на профилактическом учёте.",
    ], "directors", None),
    # профессиональное развитие педагогов: the schools' heads, who send teachers to training and appoint mentors
    "M2.2": ([
        "Провести анализ профессиональных дефицитов педагогических работников по результатам диагностики, "
        "составить индивидуальные образовательные маршруты педагогов и включить их в план методической работы "
        "образовательной организации.",
        "Обеспечить участие педагогов с выявленными дефицитами в программах повышения квалификации из "
        "федерального реестра дополнительных профессиональных программ педагогического образования и в работе "
        "муниципальных методических объединений.",
        "Организовать наставничество для молодых педагогов и педагогов, испытывающих затруднения: закрепить "
        "наставников приказом по образовательной организации, предусмотреть взаимопосещение уроков и отчёт "
        "наставника по итогам полугодия.",
    ], "directors", None),
    # дошкольное образование: the heads of the kindergartens that answered the monitoring
    "M2.4": ([
        "Проанализировать результаты мониторинга качества дошкольного образования, разработать план устранения "
        "выявленных дефицитов (образовательная программа, развивающая предметно-пространственная среда, "
        "взаимодействие с семьями) и включить его в план внутренней системы оценки качества ДОО.",
        "Организовать методическое сопровождение воспитателей: открытые просмотры образовательной деятельности, "
        "разбор практик индивидуализации, участие в работе муниципального методического объединения педагогов "
        "дошкольного образования.",
        "Обеспечить реализацию адаптированных образовательных программ для детей с ОВЗ и их "
        "психолого-педагогическое сопровождение, привлечь учителя-логопеда и педагога-психолога в рамках "
        "сетевого взаимодействия.",
    ], "directors", None),
}
# How far the first addressees of the main and the group recommendation get (`_progress`). The closed cycle shows
# the whole loop; the cycles still open leave the directors work to do: СОШ № 1's director has a recommendation
# to sign off («Ознакомлен») and another to carry out and report on; the kindergartens' heads likewise.
PROGRESS_PLANS = {
    "M2.2": (("start", "overdue", "deputy"), ("wait", "acknowledge")),
    # (no overdue kindergarten: the demo's letter of recommendations goes to «Детский сад № 14», the first by name,
    # and a letter cannot state a response date already passed)
    "M2.4": (("report", "start"), ("wait", "acknowledge")),
}
DEFAULT_PLAN = (("report", "overdue", "deputy"), ("accept", "acknowledge"))


def fill_rec(stage, *, official, head, rng, today: date) -> None:
    cycle = stage.cycle
    if db.session.scalar(select(Recommendation.id).where(Recommendation.cycle_id == cycle.id).limit(1)):
        return
    schools = _schools(cycle)
    if not schools:
        return
    findings = services.cycle_findings(cycle)
    deadline = today + timedelta(days=45)
    texts, group_of, group_note = RECOMMENDATIONS_BY_MECHANISM.get(
        cycle.track.mechanism.code, (RECOMMENDATIONS, "subject_teachers", "математика"))
    basis = None if findings else "Аналитическая справка по результатам мониторинга (раздел «Выводы»)."
    # The main one: three schools (the first is MUN01-S01), answering every finding of the analysis.
    main = services.create_recommendation(
        cycle, text=texts[0], addressee_group="organisations", actor=official, today=today,
        response_deadline=deadline, organisation_ids=[o.id for o in schools[:3]],
        finding_ids=[f.id for f in findings], basis=basis)
    # A group one: the teachers of the subject (mathematics), or the directors, of the first schools.
    group = services.create_recommendation(
        cycle, text=texts[1], addressee_group=group_of, addressee_note=group_note, actor=official,
        today=today, response_deadline=deadline, organisation_ids=[o.id for o in schools[:MAX_ADDRESSEES]],
        finding_ids=[f.id for f in findings[:1]], basis=basis)
    recs = [main, group]
    # One per finding, to the schools the finding names (when it names any of them).
    for n, finding in enumerate(findings):
        concerned = [o.id for o in finding.organisations if o in schools][:MAX_ADDRESSEES]
        if concerned:
            recs.append(services.create_recommendation(
                cycle, text=texts[(n + 2) % len(texts)], addressee_group="organisations", actor=official,
                today=today, response_deadline=deadline, organisation_ids=concerned, finding_ids=[finding.id]))
    _register_letters(stage, recs, official=official, head=head)
    for rec in recs:
        services.issue_recommendation(rec, actor=head, today=today)
    main_plan, group_plan = PROGRESS_PLANS.get(cycle.track.mechanism.code, DEFAULT_PLAN)
    _progress(main, official=official, today=today, plan=main_plan)
    _progress(group, official=official, today=today, plan=group_plan)


def _register_letters(stage, recs, *, official, head) -> None:
    """Each addressee's letter «Адресные рекомендации», made, signed and registered before the recommendations go:
    its outgoing number and date are their proof of sending (the dispatch guard asks for them)."""
    addressees = {item.organisation_id: item.organisation for rec in recs for item in rec.items}
    for org in sorted(addressees.values(), key=lambda o: o.id):
        doc = document_services.generate_document(stage, LETTER_TYPE, actor=official, addressee=org,
                                                  validate=False, inline=True)
        complete_document(doc, official=official, head=head)


PLAN = ("1. Педсовет по результатам анализа — в течение двух недель.\n"
        "2. План устранения дефицитов — до конца месяца.\n"
        "3. Посещение уроков заместителем директора — ежемесячно.")
REPORT = ("Проведён педсовет, утверждён план устранения дефицитов, организовано посещение уроков. Приказ и "
          "протокол прилагаются.")
# A kindergarten has no lessons (уроки) and no deputy for teaching: its head plans and reports in its own words.
PRESCHOOL_PLAN = ("1. Педсовет по результатам мониторинга — в течение двух недель.\n"
                  "2. План устранения дефицитов — до конца месяца.\n"
                  "3. Просмотры образовательной деятельности старшим воспитателем — ежемесячно.")
# The order the report says is attached («Приказ … прилагаются»), attached under a name a school would give it.
PLAN_ORDER = "Приказ об утверждении плана устранения дефицитов.pdf"
PRESCHOOL_REPORT = ("Проведён педсовет, утверждён план устранения дефицитов, организованы просмотры образовательной "
                    "деятельности. Приказ и протокол прилагаются.")


def _progress(rec, *, official, today: date, plan) -> None:
    """Move the first addressees' items along: `plan` names how far each one gets (the rest stay issued)."""
    items = sorted(rec.items, key=lambda i: (not i.organisation.code.endswith("-S01"), i.organisation.code))
    for item, how_far in zip(items, plan):
        director = _director(item.organisation)
        if director is None or how_far == "wait":  # "wait": issued, the director still to sign off
            continue
        if how_far == "deputy":
            _acknowledge_by_deputy(item, director, today)
            continue
        engine.fire(item, "acknowledge", actor=director)  # the demo skips the password re-entry
        if how_far == "acknowledge":
            continue
        preschool = item.organisation.kind == "preschool"
        services.start_item(item, actor=director, planned_completion=item.due_date,
                            action_plan=PRESCHOOL_PLAN if preschool else PLAN)
        if how_far == "start":  # carrying it out: the report is due by the response date
            continue
        if how_far == "overdue":
            # Overdue on purpose: started, but the response date has passed without a report.
            item.due_date = today - timedelta(days=3)
            _backdate_tasks(item, item.due_date)
            continue
        services.report_item(item, actor=director, report=PRESCHOOL_REPORT if preschool else REPORT,
                             files=[(io.BytesIO(_demo_pdf(PLAN_ORDER)), PLAN_ORDER)])
        if how_far == "accept":
            services.review_item(item, "accept", actor=official)
    db.session.flush()


def _backdate_tasks(obj, due: date) -> None:
    """The demo's deadlines passed days ago, so the reminders have an overdue item to escalate."""
    for task in db.session.scalars(select(Task).where(Task.object_type == obj.audit_type, Task.object_id == obj.id,
                                                      Task.state == "open")):
        task.due_date = due


def _acknowledge_by_deputy(item, director, today: date) -> None:
    """The director is on leave; the deputy named for it signs off, and the audit log says for whom."""
    deputy = next((u for u in users_with_role_at(item.organisation, {"staff"}) if u.id != director.id), None)
    if deputy is None:
        return
    named = db.session.scalar(select(StandIn.id).where(StandIn.absent_id == director.id,
                                                       StandIn.deputy_id == deputy.id))
    if named is None:  # several demo cycles address this school: one leave covers them all
        create_stand_in(absent=director, deputy=deputy, start=today - timedelta(days=1),
                        end=today + timedelta(days=13), reason="ежегодный отпуск", actor=director, today=today)
    engine.fire(item, "acknowledge", actor=deputy)


# (title, kind, start and end in days from today, state): the measures of a cycle about the results in mathematics.
MEASURES = [
    ("Семинар для учителей математики «Задания с низкой решаемостью: разбор и приёмы»", "training",
     -40, -30, "verified"),
    ("Методический десант в школы с низкими результатами", "methodical_support", -25, -5, "done"),
    ("Мониторинг объективности проведения ВПР (независимые наблюдатели)", "monitoring", -20, -2, "in_progress"),
    ("Муниципальный конкурс методических разработок «Учимся решать задачи»", "event", 10, 60, "planned"),
]
MEASURE_PEOPLE = ("Учителя математики школ муниципалитета, методисты ИМЦ",
                  "Рост доли обучающихся, справившихся с заданиями базового уровня")
# A mechanism whose demo cycle reaches the measures gets measures of its own subject: the closed demo cycle is M2.3
# (воспитание), whose roadmap listed seminars for teachers of mathematics. Same days and states as MEASURES.
MEASURES_BY_MECHANISM = {
    "M2.3": ([
        ("Семинар для заместителей директоров по воспитательной работе «Рабочая программа воспитания: календарный "
         "план и оценка результатов»", "training", -40, -30, "verified"),
        ("Методическое сопровождение школ при обновлении рабочих программ воспитания", "methodical_support",
         -25, -5, "done"),
        ("Мониторинг занятости во внеурочной деятельности обучающихся, состоящих на профилактическом учёте",
         "monitoring", -20, -2, "in_progress"),
        ("Муниципальный фестиваль детских общественных объединений «Вместе»", "event", 10, 60, "planned"),
    ], ("Заместители директоров по воспитательной работе, советники директоров по воспитанию, методисты ИМЦ",
        "Рост доли обучающихся, вовлечённых в деятельность детских общественных объединений")),
}


def _within(cycle, today: date, offset: int) -> date:
    """`today + offset` days inside the cycle's period, the measures kept in their order: when the period leaves less
    room before (or after) today than MEASURES spans, the days on that side are squeezed in proportion. Clamping each
    day alone put a seminar's start and end and the next measure's start on the same first of September."""
    bounds = period_bounds(cycle.period)
    day = today + timedelta(days=offset)
    if not bounds:
        return day
    first, last = bounds
    span = max(-min(m[2] for m in MEASURES), 1) if offset < 0 else max(max(m[3] for m in MEASURES), 1)
    room = (today - first).days if offset < 0 else (last - today).days
    if 0 <= room < span:
        day = today + timedelta(days=round(offset * room / span))
    return min(max(day, first), last)


def fill_meas(stage, *, official, head, rng, today: date) -> None:
    cycle = stage.cycle
    if db.session.scalar(select(Measure.id).where(Measure.cycle_id == cycle.id).limit(1)):
        return
    people = services.responsible_choices(cycle)
    if not people:
        return
    recs = services.recommendations_of_cycle(cycle)
    findings = services.cycle_findings(cycle)
    indicators = basis_indicators(cycle)  # a partial cycle names its full cycle's indicators
    made = []
    measures, (participants, expected) = MEASURES_BY_MECHANISM.get(cycle.track.mechanism.code,
                                                                   (MEASURES, MEASURE_PEOPLE))
    for n, (title, kind, start, end, state) in enumerate(measures):
        responsible = people[n % len(people)]
        indicator = indicators[n % len(indicators)] if indicators else None
        # The expected result is the one the measure's indicator measures: one text for every measure printed «Рост
        # доли обучающихся, вовлечённых в … объединений (показатель: M2.3-01)» beside an indicator of programmes of
        # upbringing, and the same «Рост доли …» beside the number of pupils on the register, which should fall.
        result = expected if indicator is None else \
            f"{'Снижение' if indicator.direction == 'down' else 'Рост'} значения показателя {ru.quote(indicator.name)}"
        linked = [recs[n % len(recs)].id] if recs else []
        if n == len(measures) - 1:
            linked = [r.id for r in recs]  # the last one implements every recommendation
        measure = services.create_measure(
            cycle, actor=official, title=title, kind=kind, responsible_id=responsible.id,
            start_date=_within(cycle, today, start), end_date=_within(cycle, today, end),
            participants=participants, expected_result=result,
            recommendation_ids=linked, finding_ids=[findings[n % len(findings)].id] if findings else (),
            indicator_ids=[indicator.id] if indicator else ())
        made.append((measure, state))
    for measure, state in made:
        if state == "planned":
            continue
        engine.fire(measure, "start", actor=official)
        if state in ("done", "verified"):
            _evidence(measure, official, "Протокол мероприятия.pdf", kind="protocol")
            # the demo's «today», not the clock's: a demo seeded for another day dates its measures from it
            engine.fire(measure, "complete", actor=official, comment="Проведено, участников: 27.", today=today)
        if state == "verified":
            engine.fire(measure, "verify", actor=head)
    db.session.flush()


# (text, kind, days to the deadline, participants): the decisions of a cycle about the results of assessment
# procedures; a mechanism whose demo cycle reaches them gets its own (the closed M2.3 cycle, воспитание).
DECISIONS = [
    ("Утвердить дорожную карту мероприятий по повышению качества подготовки обучающихся и закрепить "
     "ответственных за каждое мероприятие.", "organisational", 20, "Специалисты УО, методисты ИМЦ, руководители ОО"),
    ("Включить школы с признаками необъективности результатов в план выездного контроля; руководителям "
     "представить планы устранения нарушений.", "corrective", 30, "Руководители ОО, заместители по УВР"),
    ("Объявить благодарность педагогам, чьи обучающиеся показали наибольший прирост результатов, и "
     "представить их к поощрению (премированию).", "incentive", 40, "Педагоги ОО, начальник УО"),
]
DECISIONS_BY_MECHANISM = {
    "M2.3": [
        ("Утвердить дорожную карту мероприятий по развитию воспитательной работы и закрепить ответственных за "
         "каждое мероприятие.", "organisational", 20, "Специалисты УО, методисты ИМЦ, руководители ОО"),
        ("Включить в план контроля УО проверку выполнения календарных планов воспитательной работы в школах с "
         "низкой вовлечённостью обучающихся; руководителям представить планы устранения недостатков.",
         "corrective", 30, "Руководители ОО, заместители по ВР"),
        ("Объявить благодарность руководителям детских общественных объединений, показавшим наибольший рост "
         "вовлечённости обучающихся, и представить их к поощрению (премированию).", "incentive", 40,
         "Педагоги ОО, начальник УО"),
    ],
}


def fill_dec(stage, *, official, head, rng, today: date) -> None:
    cycle = stage.cycle
    if db.session.scalar(select(Decision.id).where(Decision.cycle_id == cycle.id).limit(1)):
        return
    people = services.responsible_choices(cycle)
    if not people:
        return
    findings = services.cycle_findings(cycle)
    measures = services.measures_of_cycle(cycle)
    basis = "Аналитическая справка по результатам мониторинга и анализ исполнения адресных рекомендаций."
    specs = DECISIONS_BY_MECHANISM.get(cycle.track.mechanism.code, DECISIONS)
    for n, (text, kind, days, participants) in enumerate(specs):
        decision = services.create_decision(
            cycle, actor=official, today=today, text=text, kind=kind, deadline=today + timedelta(days=days),
            responsible_id=people[n % len(people)].id, participants=participants, basis=basis,
            finding_ids=[f.id for f in findings[:2]], measure_ids=[m.id for m in measures[:2]] if n == 0 else ())
        if n < 2 and users_with_role_at(cycle.owner, {"head", "director"}):
            approvers = users_with_role_at(cycle.owner, {"head", "director"})
            engine.fire(decision, "adopt", actor=approvers[0])
        if n == 0:
            engine.fire(decision, "execute", actor=official, comment="Приказ издан, дорожная карта утверждена.")
    db.session.flush()


STAGE_FILLERS = {"REC": fill_rec, "MEAS": fill_meas, "DEC": fill_dec}
