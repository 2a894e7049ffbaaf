"""`flask seed demo` builds the documented demo through the real services, once."""

from datetime import date

import lxml.html

from sqlalchemy import func, select

from app.auth.models import User
from app.cycles.models import Cycle
from app.demo import DEMO_PASSWORD, USERS, seed_demo
from app.orgs.models import Organisation


def test_demo_is_complete_and_idempotent(db_session):
    assert seed_demo() is True
    db_session.commit()
    orgs = db_session.scalars(select(Organisation)).all()
    kinds = [o.kind for o in orgs]
    assert kinds.count("region") == 1 and kinds.count("municipality") == 2
    institutions = [o for o in orgs if o.kind in ("school", "preschool", "additional")]
    assert 25 <= len(institutions) <= 35
    schools = [o for o in orgs if o.kind == "school"]
    assert all(o.students and o.settlement and o.profile and o.low_income_share is not None for o in schools)
    assert {u.login for u in db_session.scalars(select(User))} == {u[0] for u in USERS}
    roles = {r.role for u in db_session.scalars(select(User)) for r in u.roles}
    assert roles == {"admin", "official", "head", "methodologist", "director", "staff", "expert", "analyst", "auditor"}
    # Each municipality's ИМЦ supports it and РЦОКО the region (README, demo users `imc` and `rcoko`).
    from app.orgs.models import OrganisationSupport

    supports = {(s.centre.kind, s.supported.kind) for s in db_session.scalars(select(OrganisationSupport))}
    assert supports == {("methodical_centre", "municipality"), ("assessment_centre", "region")}
    cycles = db_session.scalars(select(Cycle)).all()
    municipal = {c.track.mechanism.code for c in cycles if c.owner.code == "MUN01"}
    assert municipal == {"M1.1", "M1.2", "M1.3", "M1.4", "M2.1", "M2.2", "M2.3", "M2.4"}
    stage_states = {s.state for c in cycles for s in c.stages}
    assert stage_states == {"waiting", "draft", "on_review", "approved"}
    assert any(c.state == "closed" for c in cycles)
    count = db_session.scalar(select(func.count()).select_from(Cycle))
    assert seed_demo() is False
    assert db_session.scalar(select(func.count()).select_from(Cycle)) == count


def test_demo_users_log_in_with_the_documented_password(demo, client):
    response = client.post("/login", data={"login": "official", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert "Петрова Мария Ивановна" in client.get("/").get_data(as_text=True)


def test_demo_closes_the_loop_as_issue_six_describes(demo, db_session):
    """A recommendation to three schools: one reported, one overdue and escalated to the head, one acknowledged
    by a deputy while the director is on leave; the closed cycle's integrity panel is empty."""
    from app.audit.models import AuditEvent
    from app.deadlines.models import Notification
    from app.effectiveness.integrity import check_cycle
    from app.followup.models import Recommendation

    closed = next(c for c in db_session.scalars(select(Cycle)) if c.state == "closed")
    main = db_session.scalars(select(Recommendation).where(Recommendation.cycle_id == closed.id)
                              .order_by(Recommendation.id)).first()
    by_school = {i.organisation.code: i for i in main.items}
    assert sorted(by_school) == ["MUN01-S01", "MUN01-S02", "MUN01-S03"]
    assert by_school["MUN01-S01"].state == "reported"
    assert by_school["MUN01-S02"].state == "in_progress" and by_school["MUN01-S02"].due_date < closed.closed_at.date()
    deputy_ack = db_session.scalar(select(AuditEvent).where(
        AuditEvent.object_type == "recommendation_item", AuditEvent.object_id == by_school["MUN01-S03"].id,
        AuditEvent.action == "acknowledge"))
    director3 = db_session.scalar(select(User).where(User.login == "director3"))
    assert deputy_ack.on_behalf_of_id == director3.id and "(за Н.И. Ковалёву)" in deputy_ack.actor_name
    head = db_session.scalar(select(User).where(User.login == "head"))
    escalated = db_session.scalars(select(Notification.title).where(
        Notification.user_id == head.id, Notification.kind == "escalation")).all()
    assert any("Д.А. Морозов" in title for title in escalated)
    assert check_cycle(closed) == []
    incomplete = next(c for c in db_session.scalars(select(Cycle)) if c.track.mechanism.code == "M2.4")
    assert check_cycle(incomplete) != []


def test_the_demos_dates_and_signatures_are_plausible(demo, db_session):
    """The regional order (08-70) is signed by the head of the authority, not a head of department; the summaries
    cite no document dated before the cycle's period; the roadmap's measures keep their order inside the period."""
    from app.assessment.documents import ORDER
    from app.core.timeutil import period_bounds
    from app.cycles.models import Stage
    from app.documents.models import Document, Signature
    from app.followup.models import Measure

    order = db_session.scalar(select(Document).where(Document.type_key == ORDER))
    (signature,) = db_session.scalars(select(Signature).where(Signature.version_id == order.current.id)).all()
    assert signature.signer_position == "Министр образования Демонстрационной области", signature.signer_position
    for stage in db_session.scalars(select(Stage).where(Stage.summary.is_not(None))):
        assert "2025" not in stage.summary and "12 мероприятий" not in stage.summary, stage.summary
    by_cycle: dict = {}
    for m in db_session.scalars(select(Measure).order_by(Measure.id)):
        by_cycle.setdefault(m.cycle_id, []).append(m)
    assert by_cycle
    for measures in by_cycle.values():
        if measures[0].cycle.track.mechanism.code == "M2.3":  # воспитание: no seminar for teachers of mathematics
            assert not any("математик" in m.title or "математик" in (m.participants or "") for m in measures)
        first, last = period_bounds(measures[0].cycle.period)
        assert all(first <= m.start_date <= m.end_date <= last for m in measures)
        starts = [m.start_date for m in measures]
        assert starts == sorted(starts), starts


def test_the_closed_upbringing_cycle_recommends_and_decides_on_its_own_subject(demo, db_session):
    """The closed demo cycle is M2.3 (воспитание): its recommendations and decisions were about assessment
    procedures, tasks with a low success rate and mathematics."""
    from app.cycles.models import Cycle
    from app.followup.models import Decision, Recommendation

    cycle = next(c for c in db_session.scalars(select(Cycle).where(Cycle.state == "closed"))
                 if c.track.mechanism.code == "M2.3")
    recs = db_session.scalars(select(Recommendation).where(Recommendation.cycle_id == cycle.id)).all()
    decisions = db_session.scalars(select(Decision).where(Decision.cycle_id == cycle.id)).all()
    assert recs and decisions
    texts = [r.text for r in recs] + [r.addressee_note or "" for r in recs] + [d.text for d in decisions]
    for word in ("оценочных процедур", "решаемост", "математик", "необъективност"):
        assert not [t for t in texts if word in t], word
    assert any("воспита" in t for t in texts)
    # its goal (the public pages show it) is its own, not «Развитие … по направлению механизма»
    assert "воспита" in cycle.goals[0].direction and "по направлению механизма" not in cycle.goals[0].statement
    from app.effectiveness.services import evaluation_of

    assert " по 0" not in evaluation_of(cycle).conclusions  # «целевое значение достигнуто по 0»


def test_no_mechanism_but_the_results_ones_summarises_mathematics(demo, db_session):
    """The documents review: the preschool (M2.4) and teachers' (M2.2) reports concluded on «доля «2» по
    математике в основной школе» — the stages' summaries were the results mechanisms' for every mechanism."""
    from app.analysis.sections import sections_for
    from app.cycles.models import Stage

    summaries = [(s.cycle.track.mechanism.code, s.summary) for s in db_session.scalars(
        select(Stage).where(Stage.summary.is_not(None)))]
    others = [(code, text) for code, text in summaries if not sections_for(code) & {"objectivity", "low_results"}]
    assert others and not [(code, text) for code, text in others if "математик" in text]


def test_the_demos_measures_keep_their_order_when_seeded_at_the_start_of_the_period():
    from types import SimpleNamespace

    from app.followup.demo import MEASURES, _within

    cycle = SimpleNamespace(period="2026/27")
    today = date(2026, 9, 4)  # four days into the school year: forty days back would leave it
    starts = [_within(cycle, today, m[2]) for m in MEASURES]
    ends = [_within(cycle, today, m[3]) for m in MEASURES]
    assert all(date(2026, 9, 1) <= s <= e for s, e in zip(starts, ends))
    assert starts == sorted(starts) and len(set(starts)) > 1
    assert ends[0] < ends[1]  # the seminar is over before the next measure ends


def test_the_demo_publishes_what_an_authority_puts_on_its_site(demo, db_session, client):
    """The public pages had no document to show: the closed cycle's положение, analytic report, roadmap and
    effectiveness report are published once registered; its orders and letters are not."""
    from app.public.services import published

    documents = published()
    kinds = sorted(d.document.type_key for d in documents)
    # one of each, of the cycle the demo carries to its end (the other M2.3 track's положение stays unpublished)
    assert kinds == ["analytic_report", "effectiveness_report", "regulation", "roadmap"], kinds
    page = lxml.html.fromstring(client.get("/public/orgs/MUN01").get_data(as_text=True))
    cells = page.xpath("//table[.//th[.='Документ']]//tbody/tr/td[1]")
    assert len(cells) == 4
    # each names its cycle's track under the title, never the title again as its kind
    for cell, d in zip(cells, documents):
        title, under = (" ".join(cell.xpath(path)[0].text_content().split()) for path in ("./a", "./div"))
        assert (title, under) == (d.document.title, f"{d.document.cycle.track.title}, {d.document.cycle.period}")


def _m24(db_session):
    """The full M2.4 cycle of ГО Северный (its first track) that reached the recommendations."""
    return next(c for c in db_session.scalars(select(Cycle)) if c.owner.code == "MUN01"
                and c.track.mechanism.code == "M2.4" and c.track.position == 1)


def test_the_preschool_mechanism_asks_the_kindergartens(demo, db_session):
    """M2.4 (дошкольное образование) was answered by СОШ № 1, Лицей № 2 and Гимназия № 3: its data request, its
    finding and its recommendations named schools. Now the kindergartens answer, and the schools' assessment analysis
    (ВПР, ОГЭ) neither runs for it nor lists a kindergarten anywhere."""
    from app.analysis.models import AnalysisResult, AnalysisRun, Finding
    from app.followup.models import Recommendation
    from app.monitoring.models import DataRequest

    cycle = _m24(db_session)
    # the municipalities' own requests: the region's R1.1 asks the municipalities (and ГО Северный passes it down)
    requests = [r for r in db_session.scalars(select(DataRequest)) if r.cycle.owner.kind == "municipality"]
    answering = {(r.cycle.track.mechanism.code == "M2.4", s.organisation.kind, s.state)
                 for r in requests for s in r.submissions}
    assert answering == {(True, "preschool", "accepted"), (False, "school", "accepted")}
    assert {r.cycle_id for r in requests if r.cycle.track.mechanism.code == "M2.4"} == {cycle.id}
    findings = db_session.scalars(select(Finding).where(Finding.cycle_id == cycle.id)).all()
    assert findings and {o.kind for f in findings for o in f.organisations} == {"preschool"}
    recs = db_session.scalars(select(Recommendation).where(Recommendation.cycle_id == cycle.id)).all()
    # the kindergartens and the village primary school that keeps preschool groups (НОШ д. Боровое)
    assert recs and {(i.organisation.kind, i.organisation.preschool_groups)
                     for r in recs for i in r.items} == {("preschool", False), ("school", True)}
    texts = " ".join(r.text for r in recs)
    assert "оценочных процедур" not in texts and "дошкольн" in texts
    assert db_session.scalar(select(func.count()).select_from(AnalysisRun).where(AnalysisRun.cycle_id == cycle.id)) == 0
    # its indicator dashboard holds the kindergartens' accepted values (no run rebuilt it)
    from app.analysis.models import DashboardRow

    rows = db_session.scalars(select(DashboardRow).where(DashboardRow.cycle_id == cycle.id))
    shown = {r.organisation.kind for r in rows}
    assert shown == {"preschool", "municipality"}
    kinds = set(db_session.scalars(select(Organisation.kind).join(
        AnalysisResult, AnalysisResult.school_id == Organisation.id).distinct()))
    assert kinds == {"school"}


def test_the_heads_of_institutions_and_the_experts_start_the_day_with_tasks(demo, db_session, client):
    """The director of СОШ № 1 had no open task in the demo: every recommendation to the school was already
    reported or accepted. Each head now has one to sign off («Ознакомлен») or to carry out, and the home page
    lists it."""
    from app.core.timeutil import today_in
    from app.tasks.services import inbox_query

    today = today_in("Europe/Moscow")

    def tasks_of(login):
        user = db_session.scalar(select(User).where(User.login == login))
        return {t.kind for t in db_session.scalars(inbox_query(user, today=today))}

    assert {"acknowledge_recommendation", "execute_recommendation"} <= tasks_of("director")
    kinds = {login: tasks_of(login) for login in ("kindergarten", "kindergarten2", "expert", "expert2")}
    assert "acknowledge_recommendation" in kinds["kindergarten"]
    assert "execute_recommendation" in kinds["kindergarten2"]
    assert "evaluate_mechanism" in kinds["expert"] and "evaluate_mechanism" in kinds["expert2"]
    client.post("/login", data={"login": "director", "password": DEMO_PASSWORD})
    home = client.get("/").get_data(as_text=True)
    assert "Ознакомиться с рекомендацией" in home and "Исполнить рекомендацию и отчитаться" in home


def test_the_indicators_name_the_demos_people_as_responsible(demo, db_session):
    """«Ответственный» of every indicator was «Петрова М.И., главный специалист УО», a text no demo user's position
    reads; it names the official or, for the indicators about teachers and methodical work, the methodologist."""
    from app.core import russian as ru
    from app.cycles.models import Indicator

    people = {login: f"{ru.initials_surname(u)}, {ru.lower_first(u.position)}"
              for login, u in ((u.login, u) for u in db_session.scalars(select(User)))}
    own = db_session.scalars(select(Indicator).where(Indicator.upper_indicator_id.is_(None))).all()
    named = {i.responsible for i in own if i.cycle.owner.kind == "municipality"}
    assert named == {people["official"], people["methodologist"]}, named
    # the region's own name its official; an indicator inherited from above names the stage's responsible, as
    # inheriting writes it (app/cycles/services.py), whom the demo makes the cycle's people
    assert {i.responsible for i in own if i.cycle.owner.kind == "region"} == {people["region_official"]}
    inherited = db_session.scalars(select(Indicator).where(Indicator.upper_indicator_id.is_not(None))).all()
    assert inherited and all(i.responsible == i.cycle.stage("IND").responsible.short_name for i in inherited)
    assert people["official"] == "М.И. Петрова, главный специалист управления образования"


def test_the_preschool_analysis_page_does_not_ask_for_a_results_run(demo, db_session, client):
    """The preschool cycle's approved analysis stage read «Анализ по этому циклу ещё не выполнялся» once it no longer
    computed the schools' ВПР: the page says such a calculation is not the mechanism's."""
    cycle = _m24(db_session)
    client.post("/login", data={"login": "official", "password": DEMO_PASSWORD})
    page = client.get(f"/analysis/cycles/{cycle.id}").get_data(as_text=True)
    assert "ещё не выполнялся" not in page and "к механизму M2.4" in page
    stage = client.get(f"/stages/{cycle.stage('ANL').id}").get_data(as_text=True)
    assert "ещё не выполнялся" not in stage and "не относится" in stage


def test_every_open_mechanisms_recommendations_speak_of_its_own_subject(demo, db_session):
    """M2.2 (профессиональное развитие педагогов) was told to «обеспечить объективность проведения оценочных
    процедур» — the results mechanisms' wording; its recommendations now speak of teachers' development."""
    from app.catalogue.models import Mechanism, Track
    from app.cycles.models import Cycle
    from app.followup.models import Recommendation

    texts = " ".join(db_session.scalars(
        select(Recommendation.text).join(Cycle, Cycle.id == Recommendation.cycle_id)
        .join(Track, Track.id == Cycle.track_id).join(Mechanism, Mechanism.id == Track.mechanism_id)
        .where(Mechanism.code == "M2.2")))
    assert texts and "оценочных процедур" not in texts
    assert "повышения квалификации" in texts and "наставни" in texts
