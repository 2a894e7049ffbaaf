"""Operations on recommendations, measures and decisions. They check who acts, validate, change state through
the workflow engine (which writes the audit events and the tasks), flush, and never commit.

Basis rule (decided here): a recommendation must answer at least one finding of its cycle's analysis when the
cycle has findings; when the cycle has none (the analysis was not recorded as findings), a free-text basis is
required instead. A decision rests on findings and/or a free-text basis: at least one of the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import contains_eager, selectinload
from sqlalchemy.orm.attributes import flag_modified

from app.analysis.models import AnalysisResult, AnalysisRun, Finding
from app.audit import chain
from app.auth.models import RoleAssignment, User
from app.auth.roles import CYCLE_MANAGERS, EDITORS
from app.auth.services import no_account_note, users_with_role_at, verify_password_reentry
from app.catalogue.models import Track
from app.core.access import acting_roles_over, scope_condition
from app.core.checks import check_version, require_role
from app.core.errors import GuardFailed, InvalidTransition, ValidationFailed
from app.core.russian import sort_key
from app.core.timeutil import today_in, utcnow
from app.cycles.basis import basis_condition
from app.cycles.models import Cycle, Indicator, Stage
from app.extensions import db
from app.followup.models import (
    ADDRESSEE_GROUPS, DECISION_KINDS, MEASURE_KINDS, Decision, Measure, Recommendation, RecommendationItem,
)
from app.orgs.models import Organisation
from app.orgs.services import org_time_zone, org_today
from app.tasks import services as tasks
from workflows import decision as decision_flow
from workflows import engine
from workflows.permissions import acted_for
from workflows import measure as measure_flow
from workflows.measure import ACTIVE_STATES
from workflows.recommendation_item import EVIDENCE_KIND, EXECUTORS, OWED_STATES, SIGNERS
from app.documents.attachments import attach, check_upload
from app.followup.letters import problems_of_items
from workflows.recommendation_item import STATES
from app.documents.attachments import KINDS

# Who writes recommendations, measures and decisions for the cycle owner (a director: for the school's own
# cycle; a director holds no role over a municipality, so cannot write a municipal cycle's content).
AUTHORS = frozenset({"official", "head", "methodologist", "director"})
MANAGERS = CYCLE_MANAGERS
SCHOOL_KINDS = ("school",)
INSTITUTION_KINDS = ("school", "preschool", "additional", "methodical_centre")
EDUCATIONAL_KINDS = ("school", "preschool", "additional")  # образовательные организации: heads, parents, pupils
MAX_TEXT = 10000


# --- time ---

def is_item_overdue(item: RecommendationItem, today: date | None = None) -> bool:
    """The school still owes something and the due date (in the school's time zone) has passed."""
    if item.state not in OWED_STATES:
        return False
    return item.due_date < (today or org_today(item.organisation))


def is_measure_overdue(measure: Measure, today: date | None = None) -> bool:
    return measure.state in ACTIVE_STATES and measure.end_date < (today or org_today(measure.organisation))


def is_decision_overdue(decision: Decision, today: date | None = None) -> bool:
    return decision.state in ("draft", "adopted") and decision.deadline < (today or org_today(decision.organisation))


# --- shared checks ---

def stage_content_refusal(cycle: Cycle, code: str) -> str | None:
    """Why a recommendation, measure or decision of the cycle's stage `code` cannot be added (or a draft one changed)
    now (None: it can) — what a save refuses with, said before a form is opened."""
    stage = cycle.stage(code)
    if stage is None:
        return "В цикле этого направления нет такого этапа."
    # Planning ahead is allowed: content may be prepared while the stage waits for its predecessor.
    if cycle.state != "open" or stage.state not in ("waiting", "draft"):
        return f"Изменять содержание этапа «{stage.title}» можно, пока он не отправлен на утверждение."
    return None


def recommendation_edit_refusal(rec: Recommendation) -> str | None:
    """Why the recommendation's edit form does not apply (None: it does)."""
    if not rec.is_draft:
        return "Рекомендация уже направлена адресатам: изменить её нельзя."
    return stage_content_refusal(rec.cycle, "REC")


def _open_stage(cycle: Cycle, code: str) -> Stage:
    refusal = stage_content_refusal(cycle, code)
    if refusal:
        raise ValidationFailed(refusal)
    return cycle.stage(code)


def _on_review_refusal(stage: Stage) -> str | None:
    if stage.state == "on_review":
        return (f"Этап «{stage.title}» на утверждении: изменять его содержание можно, пока он не отправлен на "
                "утверждение (или после возврата на доработку).")
    return None


def _stage_not_on_review(stage: Stage) -> None:
    """An edit of a measure or decision already planned: refused while the stage is on review (the head approves
    what was sent to them), as a new one is; the edit bumps the stage like a new one (racing a submit)."""
    refusal = _on_review_refusal(stage)
    if refusal:
        raise ValidationFailed(refusal)
    if stage.state in ("waiting", "draft"):
        _touch(stage)


def _touch(stage: Stage) -> None:
    # Bumps the stage version: an edit and a concurrent submit of the stage cannot both win.
    stage.content_updated_at = utcnow()


def _bump(obj, column: str) -> None:
    """The row's version moves on every edit, also one that changes only its lists (addressees, findings, linked
    measures or indicators: other tables), so a form opened before it is refused as stale, not saved over it."""
    flag_modified(obj, column)


def _clean(text: str | None) -> str:
    return (text or "").strip()


def _ids(values) -> list[int]:
    out = []
    for v in values or ():
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            raise ValidationFailed("Некорректный выбор в списке.") from None
    return list(dict.fromkeys(out))


def _pick(model, ids, allowed_condition, message: str, problems: list[str]) -> list:
    ids = _ids(ids)
    if not ids:
        return []
    rows = list(db.session.scalars(select(model).where(model.id.in_(ids), allowed_condition)))
    if len(rows) != len(ids):
        problems.append(message)
    by_id = {r.id: r for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def responsible_choices(cycle: Cycle) -> list[User]:
    """Active people of the cycle owner who may run a measure or a decision: those holding an editing role at
    the owner organisation itself (so the measure's page, task and actions are theirs)."""
    return list(db.session.scalars(
        select(User).join(RoleAssignment)
        .where(RoleAssignment.organisation_id == cycle.owner_id, RoleAssignment.role.in_(EDITORS),
               User.active.is_(True))
        .order_by(User.full_name, User.id).distinct()))


def _responsible(cycle: Cycle, responsible_id, problems: list[str], what: str) -> User | None:
    if not responsible_id:
        problems.append(f"Укажите ответственного за {what}.")
        return None
    chosen = next((u for u in responsible_choices(cycle) if u.id == int(responsible_id)), None)
    if chosen is None:
        problems.append(f"Ответственный за {what} должен быть сотрудником «{cycle.owner.display_name}».")
    return chosen


def cycle_findings(cycle: Cycle) -> list[Finding]:
    return list(db.session.scalars(select(Finding).where(Finding.cycle_id == cycle.id).order_by(Finding.id)))


def _audit(action: str, obj, *, actor, role: str, before=None, after=None) -> None:
    chain.record(action=action, object_type=obj.audit_type, object_id=obj.id, actor=actor, actor_role=role,
                 cycle_id=obj.audit_cycle_id, organisation_id=obj.organisation.id,
                 to_state=getattr(obj, "state", None), before=before, after=after)


# --- addressees ---

def institutions(cycle: Cycle, kinds=INSTITUTION_KINDS) -> list[Organisation]:
    """Possible addressees: the institutions below the owner; a school's own cycle addresses the school itself."""
    if cycle.owner.kind != "municipality" and cycle.owner.kind != "region":
        return [cycle.owner] if cycle.owner.serves(kinds) or kinds == SCHOOL_KINDS else []
    # `serving`: where the kindergartens are asked, the schools with preschool groups are too.
    return list(db.session.scalars(
        select(Organisation).where(Organisation.in_subtree_of(cycle.owner), Organisation.serving(kinds),
                                   Organisation.id != cycle.owner_id)
        .order_by(Organisation.name, Organisation.id).limit(5000)))


def clusters(cycle: Cycle) -> dict[int, list[int]]:
    """Cluster number → school ids, from the cycle's latest finished analysis run (empty if none)."""
    run_id = db.session.scalar(select(AnalysisRun.id).where(AnalysisRun.cycle_id == cycle.id,
                                                             AnalysisRun.status == "done")
                               .order_by(AnalysisRun.id.desc()).limit(1))
    if run_id is None:
        return {}
    out: dict[int, list[int]] = {}
    for school_id, value in db.session.execute(
            select(AnalysisResult.school_id, AnalysisResult.value)
            .where(AnalysisResult.run_id == run_id, AnalysisResult.kind == "cluster",
                   AnalysisResult.school_id.is_not(None), AnalysisResult.value.is_not(None))):
        out.setdefault(int(value), []).append(school_id)
    return dict(sorted(out.items()))


def acknowledged_for(item: RecommendationItem) -> User | None:
    """The director in whose name a deputy signed off «ознакомлен» (the item's page: «Белов И.О. за Н.И.
    Ковалёву»); None when the addressee's head signed it themselves or it is not signed off yet."""
    if item.acknowledged_at is None:
        return None
    absent = acted_for(item, ("acknowledge",))
    return db.session.get(User, absent) if absent is not None else None


def expand_addressees(cycle: Cycle, group: str, *, organisation_ids=(), cluster=None) -> list[Organisation]:
    """The addressee organisations of a group: one recommendation item is made for each."""
    chosen = set(_ids(organisation_ids))
    if group == "organisations":
        return [o for o in institutions(cycle) if o.id in chosen]
    if group == "cluster":
        members = set(clusters(cycle).get(int(cluster), [])) if cluster not in (None, "") else set()
        return [o for o in institutions(cycle, SCHOOL_KINDS) if o.id in members]
    if group == "methodical_centre":
        return institutions(cycle, ("methodical_centre",))
    if group in ("directors", "parents") and chosen:
        # The heads (the parents) of the chosen educational organisations: a kindergarten's head too, whom the
        # preschool mechanism's recommendations go to (only schools were kept: «не выбран ни один адресат»).
        return [o for o in institutions(cycle, EDUCATIONAL_KINDS) if o.id in chosen]
    if group in ("directors", "parents") and not chosen:
        # None chosen: the institutions the mechanism concerns (Mechanism.audience), the kindergartens of the
        # preschool mechanism rather than the schools.
        return institutions(cycle, cycle.track.mechanism.audience)
    if group == "subject_teachers":
        # All schools of the owner, or the chosen ones among them (subject teachers are a school's).
        schools = institutions(cycle, SCHOOL_KINDS)
        return [o for o in schools if o.id in chosen] if chosen else schools
    return []


# --- recommendations ---

def _recommendation_fields(cycle: Cycle, *, text, addressee_group, addressee_note, organisation_ids, cluster,
                           finding_ids, basis, response_deadline, today: date):
    problems: list[str] = []
    text, note, basis = _clean(text), _clean(addressee_note) or None, _clean(basis) or None
    if not text:
        problems.append("Укажите текст рекомендации.")
    elif len(text) > MAX_TEXT:
        problems.append(f"Текст рекомендации — не более {MAX_TEXT} символов.")
    orgs: list[Organisation] = []
    if addressee_group not in ADDRESSEE_GROUPS:
        problems.append("Выберите адресата рекомендации.")
    else:
        if addressee_group == "subject_teachers" and not note:
            problems.append("Укажите предмет, учителям которого адресована рекомендация.")
        if addressee_group == "cluster" and cluster not in (None, ""):
            note = note or f"кластер {cluster}"
        orgs = expand_addressees(cycle, addressee_group, organisation_ids=organisation_ids, cluster=cluster)
        if not orgs:
            problems.append("Не выбран ни один адресат рекомендации: укажите организации (или группу, в которой "
                            "есть организации).")
    if response_deadline is None:
        problems.append("Укажите срок ответа (исполнения) рекомендации.")
    elif response_deadline < today:
        problems.append("Срок ответа не может быть в прошлом.")
    findings = _pick(Finding, finding_ids, Finding.cycle_id == cycle.id,
                     "Выбран вывод анализа другого цикла.", problems)
    if cycle_findings(cycle):
        if not findings:
            problems.append("Укажите вывод анализа, на который отвечает рекомендация.")
    elif not basis:
        problems.append("Укажите основание рекомендации: в анализе цикла нет выводов, опишите основание текстом.")
    if problems:
        raise ValidationFailed("Рекомендация не сохранена.", problems=problems)
    return text, note, basis, orgs, findings


def _rec_snapshot(rec: Recommendation) -> dict:
    return {**rec.audit_snapshot(), "findings": [f.id for f in rec.findings],
            "addressees": sorted(i.organisation.code for i in rec.items)}


def create_recommendation(cycle: Cycle, *, text: str, addressee_group: str, actor: User, today: date,
                          response_deadline: date | None, addressee_note: str | None = None, organisation_ids=(),
                          cluster=None, finding_ids=(), basis: str | None = None) -> Recommendation:
    """A draft recommendation expanded into one draft item per addressee organisation."""
    role = require_role(actor, cycle.owner, AUTHORS, "Составлять рекомендации может специалист, методист или "
                                                     "руководитель органа управления.")
    stage = _open_stage(cycle, "REC")
    text, note, basis, orgs, findings = _recommendation_fields(
        cycle, text=text, addressee_group=addressee_group, addressee_note=addressee_note,
        organisation_ids=organisation_ids, cluster=cluster, finding_ids=finding_ids, basis=basis,
        response_deadline=response_deadline, today=today)
    rec = Recommendation(cycle=cycle, stage=stage, text=text, addressee_group=addressee_group,
                         addressee_note=note, basis=basis, response_deadline=response_deadline,
                         created_by_id=actor.id)
    rec.findings = findings
    rec.items = [RecommendationItem(organisation=o, due_date=response_deadline) for o in orgs]
    db.session.add(rec)
    _touch(stage)
    db.session.flush()
    _audit("create", rec, actor=actor, role=role, after=_rec_snapshot(rec))
    return rec


def update_recommendation(rec: Recommendation, *, actor: User, today: date, text: str, addressee_group: str,
                          response_deadline: date | None, addressee_note: str | None = None, organisation_ids=(),
                          cluster=None, finding_ids=(), basis: str | None = None,
                          expected_version: int | None = None) -> None:
    """Change a draft: its text, addressees (items re-expanded), basis and response date."""
    role = require_role(actor, rec.organisation, AUTHORS, "Изменять рекомендации может специалист, методист или "
                                                          "руководитель.")
    check_version(rec, expected_version)
    if not rec.is_draft:
        raise InvalidTransition("Рекомендация уже направлена адресатам: изменить её нельзя.")
    stage = _open_stage(rec.cycle, "REC")
    text, note, basis, orgs, findings = _recommendation_fields(
        rec.cycle, text=text, addressee_group=addressee_group, addressee_note=addressee_note,
        organisation_ids=organisation_ids, cluster=cluster, finding_ids=finding_ids, basis=basis,
        response_deadline=response_deadline, today=today)
    before = _rec_snapshot(rec)
    rec.text, rec.addressee_group, rec.addressee_note, rec.basis = text, addressee_group, note, basis
    rec.response_deadline = response_deadline
    rec.findings = findings
    current = {i.organisation_id: i for i in rec.items}
    rec.items = [current.get(o.id) or RecommendationItem(organisation=o) for o in orgs]
    for item in rec.items:
        item.due_date = response_deadline
    _bump(rec, "text")
    _touch(stage)
    db.session.flush()
    _audit("update", rec, actor=actor, role=role, before=before, after=_rec_snapshot(rec))


def delete_recommendation(rec: Recommendation, *, actor: User, expected_version: int | None = None) -> None:
    role = require_role(actor, rec.organisation, AUTHORS, "Удалять рекомендации может специалист или руководитель.")
    check_version(rec, expected_version)
    if not rec.is_draft:
        raise InvalidTransition("Рекомендация уже направлена адресатам: удалить её нельзя.")
    _audit("delete", rec, actor=actor, role=role, before=_rec_snapshot(rec))
    stage = rec.stage
    db.session.delete(rec)
    if stage.state in ("waiting", "draft"):
        _touch(stage)
    db.session.flush()


def issued_message(rec: Recommendation) -> tuple[str, str]:
    """The message after «Направить адресатам» and its category (a warning when some task reached no one): how many
    addressees, and those whose «Ознакомлен» task reached no one (no director's account: «Руководителям поставлены
    задачи» was said of them too, walk of 7 December 2026)."""
    nobody = sorted({i.organisation.display_name for i in rec.items
                     if not users_with_role_at(i.organisation, SIGNERS)}, key=sort_key)
    text = f"Рекомендация направлена адресатам: {len(rec.items)}."
    note = no_account_note(nobody, "после этого рекомендация появится у руководителя в разделе «Рекомендации».")
    return (f"{text} {note}", "warning") if note else (f"{text} Руководителям поставлены задачи.", "success")


def issue_problems(rec: Recommendation) -> list[str]:
    """What stops «Направить адресатам» in the items' guards (the addressees' letters), for the page and the
    service alike: the guard's own function (letters.letter_problems) over all the items at once — through the
    engine, item by item, it was two queries an addressee on every view of the page."""
    return problems_of_items(list(rec.items))


def issue_recommendation(rec: Recommendation, *, actor: User, today: date,
                         expected_version: int | None = None) -> None:
    """The head issues the recommendation: every addressee's item at once (one transaction: all or none). Who
    may issue is the items' `dispatch` permission (the nearest head of the owner, or their deputy)."""
    check_version(rec, expected_version)
    if not rec.is_draft:
        raise InvalidTransition("Рекомендация уже направлена адресатам.")
    for item in rec.items[:1]:
        engine.authorize(item, "dispatch", actor)
    if rec.cycle.state != "open" or rec.stage.state == "waiting":
        raise InvalidTransition("Этап «Адресные рекомендации» не открыт.")
    if rec.response_deadline < today:
        raise ValidationFailed("Срок ответа уже прошёл: удалите черновик и составьте рекомендацию с новым сроком.")
    if not rec.items:
        raise ValidationFailed("У рекомендации нет адресатов.")
    # Every addressee's problem at once (the engine would stop at the first item's): all go, or none.
    problems = issue_problems(rec)
    if problems:
        raise GuardFailed("Рекомендация не направлена.", problems=problems)
    for item in rec.items:
        engine.fire(item, "dispatch", actor=actor)
    rec.issued_at, rec.issued_by_id = utcnow(), actor.id
    db.session.flush()


def acknowledge_item(item: RecommendationItem, *, actor: User, password: str,
                     expected_version: int | None = None) -> None:
    """«Ознакомлен»: the addressee's director (or their stand-in) signs off with the password re-entered."""
    check_version(item, expected_version)
    if item.state != "issued":
        raise InvalidTransition("Ознакомление уже подтверждено или рекомендация ещё не направлена.")
    engine.authorize(item, "acknowledge", actor)  # before the password: a stranger learns nothing from it
    # A wrong password raises ReauthRefused (429 once throttled): the caller commits the recorded attempt.
    verify_password_reentry(actor, password, purpose="acknowledge_recommendation",
                            message="Неверный пароль: ознакомление не подтверждено.")
    engine.fire(item, "acknowledge", actor=actor, expected_version=expected_version)


def start_item(item: RecommendationItem, *, actor: User, action_plan: str, planned_completion: date | None = None,
               expected_version: int | None = None) -> None:
    """The school states what it will do and by when."""
    check_version(item, expected_version)
    if planned_completion is not None and planned_completion < item.issued_at.date():
        raise ValidationFailed("Планируемый срок исполнения раньше даты направления рекомендации.")
    engine.fire(item, "start", actor=actor, expected_version=expected_version, action_plan=action_plan,
                planned_completion=planned_completion)


def report_item(item: RecommendationItem, *, actor: User, report: str, files=(),
                expected_version: int | None = None) -> None:
    """The school reports the execution: text plus evidence files (attached in the same transaction)."""
    check_version(item, expected_version)
    if item.state in ("draft", "issued"):
        raise InvalidTransition("Отчитаться можно только по рекомендации, с которой руководитель ознакомлен: "
                                "сначала подтвердите ознакомление.")
    if item.state == "acknowledged":
        raise InvalidTransition("Сначала укажите планируемые действия и сроки («Приступить к исполнению»).")
    if item.state not in ("in_progress", "returned"):
        raise InvalidTransition("Отчёт по этой рекомендации уже представлен.")
    engine.authorize(item, "report", actor)  # before the files are stored
    files = [(check_upload("evidence", stream, filename)[1], filename) for stream, filename in files]
    for stream, filename in files:  # every file checked before the first is stored: a refusal leaves nothing
        attach(item, stream=stream, filename=filename, kind=EVIDENCE_KIND, actor=actor)
    engine.fire(item, "report", actor=actor, expected_version=expected_version, report=report)


def review_item(item: RecommendationItem, trigger: str, *, actor: User, comment: str | None = None,
                expected_version: int | None = None) -> None:
    if trigger not in ("accept", "return"):
        raise InvalidTransition("Неизвестное действие.")
    engine.fire(item, trigger, actor=actor, comment=comment, expected_version=expected_version)


# --- reading recommendations ---

def recommendations_of_cycle(cycle: Cycle) -> list[Recommendation]:
    return list(db.session.scalars(
        select(Recommendation).where(Recommendation.cycle_id == cycle.id)
        .options(selectinload(Recommendation.findings), selectinload(Recommendation.measures))
        .order_by(Recommendation.id)))


@dataclass
class Rollup:
    """The official's view: addressees × status, and every recommendation's items."""

    states: dict[str, str]
    organisations: list[Organisation]
    matrix: dict[int, dict[str, int]]  # organisation id → state → count
    overdue: dict[int, int]  # organisation id → overdue items
    by_recommendation: dict[int, list[RecommendationItem]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def total_overdue(self) -> int:
        return sum(self.overdue.values())


def rollup(cycle: Cycle) -> Rollup:
    """One query over the cycle's items with their recommendation and addressee (no N+1)."""
    owner_tz = org_time_zone(cycle.owner)
    items = db.session.scalars(
        select(RecommendationItem).join(RecommendationItem.recommendation).join(RecommendationItem.organisation)
        .where(Recommendation.cycle_id == cycle.id)
        .options(contains_eager(RecommendationItem.recommendation), contains_eager(RecommendationItem.organisation))
        .order_by(Organisation.name, Organisation.id, RecommendationItem.id)).all()
    orgs: dict[int, Organisation] = {}
    matrix: dict[int, dict[str, int]] = {}
    overdue: dict[int, int] = {}
    by_rec: dict[int, list[RecommendationItem]] = {}
    totals = {s: 0 for s in STATES}
    todays: dict[str, date] = {}
    for item in items:
        org = item.organisation
        orgs.setdefault(org.id, org)
        row = matrix.setdefault(org.id, {s: 0 for s in STATES})
        row[item.state] += 1
        totals[item.state] += 1
        tz = org.timezone or owner_tz
        today = todays.setdefault(tz, today_in(tz))
        if is_item_overdue(item, today):
            overdue[org.id] = overdue.get(org.id, 0) + 1
        by_rec.setdefault(item.recommendation_id, []).append(item)
    return Rollup(STATES, list(orgs.values()), matrix, overdue, by_rec, totals)


def items_of_school(user: User, limit: int = 500) -> list[RecommendationItem]:
    """Issued items addressed to the user's own organisations (director, staff): a school sees only its own."""
    return list(db.session.scalars(
        select(RecommendationItem).join(RecommendationItem.organisation).join(RecommendationItem.recommendation)
        .where(scope_condition(Organisation.path, user, roles=EXECUTORS), RecommendationItem.state != "draft")
        .options(contains_eager(RecommendationItem.organisation), contains_eager(RecommendationItem.recommendation)
                 .selectinload(Recommendation.cycle).selectinload(Cycle.track).selectinload(Track.mechanism),
                 contains_eager(RecommendationItem.recommendation).selectinload(Recommendation.cycle)
                 .selectinload(Cycle.owner))
        # What the school owes first (to sign off, carry out, rework), then the reports the official is checking,
        # then the accepted ones: among forty, the few waiting for the director were scattered by their dates.
        .order_by(case((RecommendationItem.state.in_(OWED_STATES), 0), (RecommendationItem.state == "reported", 1),
                       else_=2), RecommendationItem.due_date, RecommendationItem.id)
        .limit(limit)))


def cited_findings(item: RecommendationItem, user: User) -> tuple[list[Finding], bool]:
    """The findings a copy of a recommendation cites, as its reader may see them, and whether they may be opened:
    the owner's people see them all (and open them); the addressee sees those about its own organisation or about
    no school in particular — another school's problems are not its business."""
    findings = item.recommendation.findings
    if acting_roles_over(user, item.recommendation.organisation):
        return findings, True
    return [f for f in findings if not f.organisations or item.organisation in f.organisations], False


def can_see_item(item: RecommendationItem, user: User) -> bool:
    """The owner's people see every item; the addressee sees its item once issued."""
    if acting_roles_over(user, item.recommendation.organisation):
        return True
    return item.state != "draft" and bool(acting_roles_over(user, item.organisation))


# --- measures ---

def _measure_fields(cycle: Cycle, *, title, kind, responsible_id, participants, start_date, end_date,
                    expected_result, recommendation_ids, finding_ids, indicator_ids):
    problems: list[str] = []
    title = _clean(title)
    if not title:
        problems.append("Укажите название мероприятия.")
    elif len(title) > 500:
        problems.append("Название мероприятия — не более 500 символов.")
    if kind not in MEASURE_KINDS:
        problems.append("Выберите вид мероприятия.")
    responsible = _responsible(cycle, responsible_id, problems, "мероприятие")
    problems += measure_flow.date_problems(cycle.period, start_date, end_date)
    recs = _pick(Recommendation, recommendation_ids, Recommendation.cycle_id == cycle.id,
                 "Выбрана рекомендация другого цикла.", problems)
    findings = _pick(Finding, finding_ids, Finding.cycle_id == cycle.id, "Выбран вывод анализа другого цикла.",
                     problems)
    indicators = _pick(Indicator, indicator_ids, basis_condition(cycle, Indicator.cycle_id),
                       "Выбран показатель другого цикла." if cycle.track.own_indicators else
                       "Выбран показатель не из полного цикла этого механизма, организации и периода.", problems)
    if problems:
        raise ValidationFailed("Мероприятие не сохранено.", problems=problems)
    return dict(title=title, kind=kind, responsible_id=responsible.id, participants=_clean(participants) or None,
                start_date=start_date, end_date=end_date,
                expected_result=_clean(expected_result) or None), recs, findings, indicators


def _measure_snapshot(m: Measure) -> dict:
    return {**m.audit_snapshot(), "recommendations": [r.id for r in m.recommendations],
            "findings": [f.id for f in m.findings], "indicators": [i.code for i in m.indicators]}


def create_measure(cycle: Cycle, *, actor: User, title: str, kind: str, responsible_id, start_date, end_date,
                   participants: str | None = None, expected_result: str | None = None, recommendation_ids=(),
                   finding_ids=(), indicator_ids=()) -> Measure:
    """A planned measure of the roadmap; its responsible person gets a task due at its end date."""
    role = require_role(actor, cycle.owner, AUTHORS, "Планировать мероприятия может специалист, методист или "
                                                     "руководитель органа управления.")
    stage = _open_stage(cycle, "MEAS")
    fields, recs, findings, indicators = _measure_fields(
        cycle, title=title, kind=kind, responsible_id=responsible_id, participants=participants,
        start_date=start_date, end_date=end_date, expected_result=expected_result,
        recommendation_ids=recommendation_ids, finding_ids=finding_ids, indicator_ids=indicator_ids)
    measure = Measure(cycle=cycle, stage=stage, created_by_id=actor.id, **fields)
    measure.recommendations, measure.findings, measure.indicators = recs, findings, indicators
    db.session.add(measure)
    _touch(stage)
    db.session.flush()
    _audit("create", measure, actor=actor, role=role, after=_measure_snapshot(measure))
    engine.start(measure, actor=actor)
    return measure


def update_measure(measure: Measure, *, actor: User, expected_version: int | None = None, **data) -> None:
    """Edit a planned or running measure; the responsible person's task follows the new dates (one audit event)."""
    role = require_role(actor, measure.organisation, AUTHORS, "Изменять мероприятия может специалист, методист или "
                                                              "руководитель.")
    check_version(measure, expected_version)
    if measure.state not in ACTIVE_STATES:
        raise InvalidTransition(measure_edit_refusal(measure))
    if measure_flow.roadmap_approved(measure):
        # What the head approved does not change silently: its dates move only through the engine (reschedule).
        raise ValidationFailed(measure_edit_refusal(measure))
    _stage_not_on_review(measure.stage)
    fields, recs, findings, indicators = _measure_fields(measure.cycle, **data)
    before = _measure_snapshot(measure)
    measure.recommendations, measure.findings, measure.indicators = recs, findings, indicators
    for name, value in fields.items():
        setattr(measure, name, value)
    _bump(measure, "title")
    db.session.flush()
    tasks.reschedule(measure, kind="execute_measure", due_date=measure.end_date,
                     assignee=db.session.get(User, measure.responsible_id),
                     title=measure_flow.execute_title(measure))
    _audit("update", measure, actor=actor, role=role, before=before, after=_measure_snapshot(measure))


def measure_edit_refusal(measure: Measure) -> str | None:
    """Why the edit form does not apply to the measure (None: it does) — what update_measure refuses with, said
    before the form is opened rather than after it is filled in."""
    if measure.state not in ACTIVE_STATES:
        return "Выполненное или отменённое мероприятие изменить нельзя."
    if measure_flow.roadmap_approved(measure):
        return (f"Этап «{measure.stage.title}» утверждён: мероприятие утверждённой дорожной карты не редактируется. "
                "Перенести сроки может руководитель, утвердивший её («Перенести сроки» на странице мероприятия, с "
                "указанием причины); ненужное мероприятие отменяют («Отменить», с причиной).")
    return _on_review_refusal(measure.stage)


def measure_editable(measure: Measure) -> bool:
    """The edit form applies: an active measure of a roadmap that is neither on review nor approved."""
    return measure_edit_refusal(measure) is None


def reschedule_measure(measure: Measure, *, actor: User, start_date, end_date, comment: str | None,
                       expected_version: int | None = None) -> None:
    """New dates of a measure of the approved roadmap: the engine's «reschedule» (the roadmap's approver, a reason
    required); the responsible person's task moves to the new end date."""
    engine.fire(measure, "reschedule", actor=actor, comment=comment, expected_version=expected_version,
                start_date=start_date, end_date=end_date)


def transition_measure(measure: Measure, trigger: str, *, actor: User, comment: str | None = None,
                       expected_version: int | None = None) -> None:
    if trigger not in ("start", "complete", "verify", "cancel"):
        raise InvalidTransition("Неизвестное действие.")
    engine.fire(measure, trigger, actor=actor, comment=comment, expected_version=expected_version)


def attach_to(obj, *, stream, filename: str | None, kind: str, actor: User):
    """Proof of execution (programme, protocol, report) for a measure, or evidence for a decision."""
    if kind not in KINDS:
        raise ValidationFailed("Выберите вид документа.")
    if obj.state in ("verified", "cancelled"):
        raise InvalidTransition("Исполнение уже подтверждено (или мероприятие отменено): документы не добавляются.")
    return attach(obj, stream=stream, filename=filename, kind=kind, actor=actor)


def measures_of_cycle(cycle: Cycle) -> list[Measure]:
    """The roadmap rows with everything a row shows, in a fixed number of queries."""
    return list(db.session.scalars(
        select(Measure).where(Measure.cycle_id == cycle.id)
        .options(selectinload(Measure.responsible), selectinload(Measure.recommendations),
                 selectinload(Measure.findings), selectinload(Measure.indicators))
        .order_by(Measure.start_date, Measure.end_date, Measure.id)))


def measure_counts(cycle_ids) -> dict[int, dict[str, int]]:
    result: dict[int, dict[str, int]] = {}
    if cycle_ids:
        for cycle_id, state, n in db.session.execute(
                select(Measure.cycle_id, Measure.state, func.count()).where(Measure.cycle_id.in_(list(cycle_ids)))
                .group_by(Measure.cycle_id, Measure.state)):
            result.setdefault(cycle_id, {})[state] = n
    return result


# --- decisions ---

def _decision_fields(cycle: Cycle, *, text, kind, deadline, responsible_id, participants, basis, finding_ids,
                     measure_ids, today: date):
    problems: list[str] = []
    text, basis = _clean(text), _clean(basis) or None
    if not text:
        problems.append("Укажите текст решения.")
    if kind not in DECISION_KINDS:
        problems.append("Выберите вид решения.")
    if deadline is None:
        problems.append("Укажите срок исполнения решения.")
    elif deadline < today:
        problems.append("Срок исполнения решения не может быть в прошлом.")
    responsible = _responsible(cycle, responsible_id, problems, "исполнение решения")
    findings = _pick(Finding, finding_ids, Finding.cycle_id == cycle.id, "Выбран вывод анализа другого цикла.",
                     problems)
    measures = _pick(Measure, measure_ids, Measure.cycle_id == cycle.id, "Выбрано мероприятие другого цикла.",
                     problems)
    if not findings and not basis:
        problems.append("Укажите основание решения: выводы анализа, на которых оно основано, и (или) текст.")
    if problems:
        raise ValidationFailed("Решение не сохранено.", problems=problems)
    return dict(text=text, kind=kind, deadline=deadline, responsible_id=responsible.id,
                participants=_clean(participants) or None, basis=basis), findings, measures


def _decision_snapshot(d: Decision) -> dict:
    return {**d.audit_snapshot(), "findings": [f.id for f in d.findings], "measures": [m.id for m in d.measures]}


def create_decision(cycle: Cycle, *, actor: User, today: date, text: str, kind: str, deadline, responsible_id,
                    participants: str | None = None, basis: str | None = None, finding_ids=(),
                    measure_ids=()) -> Decision:
    """A draft decision; the head is asked to adopt it, then the responsible person to execute it."""
    role = require_role(actor, cycle.owner, AUTHORS, "Готовить управленческие решения может специалист, методист или "
                                                     "руководитель органа управления.")
    stage = _open_stage(cycle, "DEC")
    fields, findings, measures = _decision_fields(
        cycle, text=text, kind=kind, deadline=deadline, responsible_id=responsible_id, participants=participants,
        basis=basis, finding_ids=finding_ids, measure_ids=measure_ids, today=today)
    decision = Decision(cycle=cycle, stage=stage, created_by_id=actor.id, **fields)
    decision.findings, decision.measures = findings, measures
    db.session.add(decision)
    _touch(stage)
    db.session.flush()
    _audit("create", decision, actor=actor, role=role, after=_decision_snapshot(decision))
    engine.start(decision, actor=actor)
    return decision


def update_decision(decision: Decision, *, actor: User, today: date, expected_version: int | None = None,
                    **data) -> None:
    role = require_role(actor, decision.organisation, AUTHORS, "Изменять проект решения может специалист, методист "
                                                               "или руководитель.")
    check_version(decision, expected_version)
    if decision.state != "draft":
        raise InvalidTransition(decision_edit_refusal(decision))
    if decision.stage.state == "approved":
        # The head approved the stage with this draft in it: it is adopted as approved, not rewritten afterwards.
        raise ValidationFailed(decision_edit_refusal(decision))
    _stage_not_on_review(decision.stage)
    fields, findings, measures = _decision_fields(decision.cycle, today=today, **data)
    before = _decision_snapshot(decision)
    decision.findings, decision.measures = findings, measures
    for name, value in fields.items():
        setattr(decision, name, value)
    _bump(decision, "text")
    db.session.flush()
    tasks.reschedule(decision, kind="adopt_decision", due_date=decision.deadline,
                     title=decision_flow.adopt_title(decision))
    _audit("update", decision, actor=actor, role=role, before=before, after=_decision_snapshot(decision))


def decision_edit_refusal(decision: Decision) -> str | None:
    """Why the edit form does not apply to the decision (None: it does): an adopted decision is not edited at all; a
    draft is not edited while its stage is on review, nor once the head has approved the stage — what was approved
    is then adopted as it stands («Принять решение»), as an approved roadmap's measures are not re-edited."""
    if decision.state != "draft":
        return "Принятое решение изменить нельзя."
    if decision.stage.state == "approved":
        return (f"Этап «{decision.stage.title}» утверждён: проект решения утверждённого этапа не редактируется. "
                "Руководитель принимает его в утверждённой редакции («Принять решение» на странице решения).")
    return _on_review_refusal(decision.stage)


def transition_decision(decision: Decision, trigger: str, *, actor: User, comment: str | None = None,
                        expected_version: int | None = None) -> None:
    if trigger not in ("adopt", "execute", "verify"):
        raise InvalidTransition("Неизвестное действие.")
    engine.fire(decision, trigger, actor=actor, comment=comment, expected_version=expected_version)


def decisions_of_cycle(cycle: Cycle) -> list[Decision]:
    return list(db.session.scalars(
        select(Decision).where(Decision.cycle_id == cycle.id)
        .options(selectinload(Decision.responsible), selectinload(Decision.findings),
                 selectinload(Decision.measures))
        .order_by(Decision.deadline, Decision.id)))
