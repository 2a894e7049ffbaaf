"""Operations on data requests and submissions. They change state through the workflow engine (which alone
decides who may act: workflows/data_request.py and workflows/submission.py declare it), flush, audit, and
never commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.orm.attributes import flag_modified

from app.audit import chain
from app.audit.models import AuditEvent
from app.auth.models import RoleAssignment, User
from app.auth.services import no_account_note, users_with_role_at
from app.core.access import acting_roles_over, scope_condition
from app.core.checks import check_version, require_role
from app.core import hooks
from app.core.russian import deputy_for, plural, plural_form, sort_key
from app.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from app.core.timeutil import period_bounds, utcnow
from app.cycles.models import Cycle, Indicator
from app.extensions import db
from app.jobs.queue import enqueue_after_commit
from app.monitoring.models import DataRequest, DataRequestIndicator, IndicatorValue, Submission
from app.orgs.models import Organisation
from workflows import engine
from workflows.data_request import REQUEST_STAGES, REQUESTER, REQUESTERS
from workflows.submission import AUTHORITY_FILLERS, DONE_STATES, FILLERS, OPEN_STATES, fillers_of
from workflows.submission import STATES as SUBMISSION_STATES
import json
from app.monitoring.values import display_value, save_values
from app.cycles.aggregation import combine, organisations, part
from app.cycles.basis import basis_indicators
from decimal import Decimal, InvalidOperation

INSTITUTION_KINDS = ("school", "preschool", "additional")
REVIEW_TRIGGERS = {"accept", "return", "mark_not_provided", "remind"}
FILL_TRIGGERS = {"submit", "resubmit"}
# Jobs to enqueue once a submission is accepted, fn(cycle_id): filled at start-up by the features that compute from
# accepted values (the analysis dashboards), which this feature must not import.
AFTER_ACCEPT: list = []
# fn(cycle) → the ids of the indicators the cycle's measures were expected to move: filled at start-up by the
# effectiveness feature (the measures live in follow-up, above this feature), read as a repeat request's default.
REPEAT_INDICATORS: list = []


def can_manage(user: User, request: DataRequest) -> bool:
    """Creates, sends and closes the request and reviews the answers: the owner's official or head (or their
    deputy), the same permission the engine judges for send and close."""
    return engine.permits(REQUESTER, request, user)


# --- choices ---

def addressee_choices(cycle: Cycle) -> list[Organisation]:
    """Institutions in the cycle owner's subtree (the owner itself, when the owner is an institution); a regional
    cycle may also address its municipalities, which answer for themselves or pass the request down."""
    owner = cycle.owner
    kinds = INSTITUTION_KINDS + (("municipality",) if owner.kind == "region" else ())
    return list(db.session.scalars(
        select(Organisation).where(Organisation.in_subtree_of(owner), Organisation.kind.in_(kinds))
        .order_by(Organisation.kind != "municipality", Organisation.name, Organisation.id).limit(5000)))


def audience_addressees(cycle: Cycle) -> list[Organisation]:
    """Whom «все образовательные организации» of the cycle's data request means: the addressee choices of the kinds
    the cycle's mechanism concerns (Mechanism.audience: the kindergartens and the schools with preschool groups of the
    preschool mechanism M2.4, the schools of the others; a kindergarten answers nothing about ВПР, a school without
    preschool groups nothing about preschool education) and a regional cycle's municipalities; an institution's own
    cycle addresses the institution itself."""
    choices = addressee_choices(cycle)
    if cycle.owner.kind not in ("municipality", "region"):
        return choices
    audience = cycle.track.mechanism.audience
    return [org for org in choices if asked_by_all(org, cycle.owner.kind, audience)]


def asked_by_all(org: Organisation, owner_kind: str, audience) -> bool:
    """Whether «все образовательные организации» of a cycle whose owner is of `owner_kind` asks `org` of the owner's
    subtree (audience_addressees, one organisation at a time: the evaluation of effectiveness reads it for many
    cycles at once): an institution the mechanism concerns, or a regional cycle's municipality (an institution's own
    cycle asks the institution)."""
    if org.kind == "municipality":
        return owner_kind == "region"
    if org.kind not in INSTITUTION_KINDS:
        return False
    return owner_kind not in ("municipality", "region") or org.serves(audience)


def audience_words(cycle: Cycle) -> str:
    """What «все образовательные организации» of the cycle's request means, in words: «школы», «детские сады и школы
    с дошкольными группами»; a regional cycle's «все» takes its municipalities too («муниципалитеты, школы»)."""
    words = cycle.track.mechanism.audience_label
    return f"муниципалитеты, {words}" if cycle.owner.kind == "region" else words


def delegate_choices(submission: Submission) -> list[User]:
    """Active staff members of the addressee organisation."""
    return list(db.session.scalars(
        select(User).join(RoleAssignment)
        .where(RoleAssignment.organisation_id == submission.organisation_id, RoleAssignment.role == "staff",
               User.active.is_(True))
        .order_by(User.full_name).distinct()))


# --- requests ---

# REQUEST_STAGES (workflows.data_request): the monitoring, and the repeat measurement (повторное измерение) of the
# effectiveness stage — without it no indicator could be measured again after the measures once the monitoring was
# approved, and the effectiveness stage stayed blocked by «не измерялся после окончания меры» for ever (walk of
# 7 December 2026).


def requesting_stage(cycle: Cycle) -> str | None:
    """The code of the stage whose data requests are open now: «MON» while the monitoring is a draft, else «EFF»
    (the repeat measurement) while the effectiveness stage is; None when neither (or the cycle is closed)."""
    if cycle.state != "open":
        return None
    for code in REQUEST_STAGES:
        stage = cycle.stage(code)
        if stage is not None and stage.state == "draft":
            return code
    return None


def closed_reason(cycle: Cycle) -> str:
    """Why no data request can be created in the cycle now (for the pages and the refusals)."""
    if cycle.state != "open":
        return "Цикл закрыт: запросы сведений не создаются."
    return ("Запросы сведений создаются и направляются, пока этап «Мониторинг показателей» открыт (черновик); "
            "после его утверждения — запросы повторного измерения, пока открыт этап «Анализ эффективности "
            "принятых мер».")


def _monitoring_stage(cycle: Cycle, code: str | None = None):
    """The stage whose request is being created or changed (code: the request's stage; None: the stage whose
    requests are open now), refused unless it is a draft of an open cycle."""
    code = code or requesting_stage(cycle) or "MON"
    stage = cycle.stage(code)
    if stage is None:
        raise ValidationFailed(f"В цикле этого направления нет этапа «{REQUEST_STAGES[code]}».")
    if stage.state != "draft" or cycle.state != "open":
        if code == "EFF":
            raise ValidationFailed("Запросы повторного измерения создаются и направляются, пока этап «Анализ "
                                   "эффективности принятых мер» открыт (черновик).")
        raise ValidationFailed(closed_reason(cycle))
    return stage


def request_indicators(cycle: Cycle, stage_code: str = "MON") -> list[Indicator]:
    """The indicators a request of the stage may ask: the cycle's own for the monitoring; for the repeat measurement
    those its measures may name (basis_indicators) — a partial cycle (measures, decisions, effectiveness) has none of
    its own and re-measures its full cycle's, else its form offered nothing and every request was refused."""
    return basis_indicators(cycle) if stage_code == "EFF" else list(cycle.indicators)


def repeat_indicator_ids(cycle: Cycle) -> list[int]:
    """The indicators a repeat measurement asks by default: those the cycle's measures were expected to move (told by
    the hooks of REPEAT_INDICATORS), else all the cycle's indicators."""
    ids = [i for hook in REPEAT_INDICATORS for i in hook(cycle)]
    return list(dict.fromkeys(ids)) or [i.id for i in request_indicators(cycle, "EFF")]


def _touch_stage(stage) -> None:
    # Bumps the stage version: a request edit and a concurrent submit of the stage cannot both win.
    stage.content_updated_at = utcnow()


def _validated_choices(cycle: Cycle, *, title: str, period: str, deadline: date | None, indicator_ids,
                       organisation_ids, today: date, stage_code: str = "MON"):
    problems = []
    title, period = (title or "").strip(), (period or "").strip()
    if not title:
        problems.append("Укажите название запроса.")
    if not period:
        problems.append("Укажите период, за который запрашиваются сведения.")
    elif stage_code == "EFF" and not _after_cycle_period(period, cycle):
        # Values are keyed by (indicator, organisation, period): the cycle's period would overwrite the monitoring's
        # values, the «до» of the evaluation, with the «после»; an earlier one would be read as an earlier period's
        # (the roll-up's «было», the next cycle's «прошлый период») and is not after the measures anyway.
        problems.append(f"Повторное измерение указывается за период после мер, который заканчивается позже периода "
                        f"мониторинга ({cycle.period}), например «{repeat_period(cycle)}».")
    if deadline is None:
        problems.append("Укажите срок представления сведений.")
    elif deadline < today:
        problems.append("Срок представления сведений не может быть в прошлом.")
    by_id = {i.id: i for i in request_indicators(cycle, stage_code)}
    indicator_ids = list(dict.fromkeys(int(i) for i in indicator_ids or ()))
    if not indicator_ids:
        problems.append("Выберите хотя бы один показатель.")
    elif any(i not in by_id for i in indicator_ids):
        problems.append("Выбран показатель, не относящийся к этому циклу.")
    allowed = {o.id: o for o in addressee_choices(cycle)}
    organisation_ids = list(dict.fromkeys(int(i) for i in organisation_ids or ()))
    if not organisation_ids:
        problems.append("Выберите хотя бы одну организацию-адресата.")
    elif any(i not in allowed for i in organisation_ids):
        problems.append("Выбрана организация вне подведомственных организаций владельца цикла.")
    if problems:
        raise ValidationFailed("Запрос не сохранён.", problems=problems)
    return title, period, [by_id[i] for i in indicator_ids], [allowed[i] for i in organisation_ids]


def _after_cycle_period(period: str, cycle: Cycle) -> bool:
    """`period` ends after the cycle's period (both periods as the form accepts them)."""
    bounds, own = period_bounds(period), period_bounds(cycle.period)
    return bounds is not None and (own is None or bounds[1] > own[1])


def repeat_period(cycle: Cycle) -> str:
    """The period a repeat measurement is proposed for (the form's default): the calendar year in which the cycle's
    school year ends («2025/26» → «2026»), or the year after a calendar-year cycle — a period as the form accepts it
    (a school or calendar year), after the measures, and not the monitoring's."""
    start = (cycle.period or "")[:4]
    return str(int(start) + 1) if start.isdigit() else ""


def _request_snapshot(request: DataRequest) -> dict:
    return {**request.audit_snapshot(), "indicators": [i.indicator.code for i in request.items],
            "addressees": sorted(s.organisation.code for s in request.submissions)}


def create_request(cycle: Cycle, *, title: str, period: str, deadline: date | None, indicator_ids,
                   organisation_ids, actor: User, today: date) -> DataRequest:
    """A draft request; its addressees are pending submissions without tasks until it is sent."""
    role = require_role(actor, cycle.owner, REQUESTERS, "Создавать запросы сведений может специалист или руководитель.")
    stage = _monitoring_stage(cycle)
    title, period, indicators, orgs = _validated_choices(
        cycle, title=title, period=period, deadline=deadline, indicator_ids=indicator_ids,
        organisation_ids=organisation_ids, today=today, stage_code=stage.code)
    request = DataRequest(cycle=cycle, title=title, period=period, deadline=deadline, created_by_id=actor.id,
                          stage_code=stage.code)
    request.items = [DataRequestIndicator(indicator=ind, position=n) for n, ind in enumerate(indicators)]
    request.submissions = [Submission(organisation=org) for org in orgs]
    db.session.add(request)
    _touch_stage(stage)
    db.session.flush()
    chain.record(action="create", object_type="data_request", object_id=request.id, actor=actor, actor_role=role,
                 cycle_id=cycle.id, organisation_id=cycle.owner_id, to_state=request.state,
                 after=_request_snapshot(request))
    return request


def update_request(request: DataRequest, *, title: str, period: str, deadline: date | None, indicator_ids,
                   organisation_ids, actor: User, today: date, expected_version: int | None = None) -> None:
    """Change a draft: its title, period, deadline, indicators and addressees."""
    role = require_role(actor, request.organisation, REQUESTERS, "Изменять запросы сведений может специалист или "
                                                             "руководитель.")
    check_version(request, expected_version)
    if request.state != "draft":
        raise InvalidTransition("Запрос уже направлен адресатам: изменить его нельзя.")
    stage = _monitoring_stage(request.cycle, request.stage_code)
    title, period, indicators, orgs = _validated_choices(
        request.cycle, title=title, period=period, deadline=deadline, indicator_ids=indicator_ids,
        organisation_ids=organisation_ids, today=today, stage_code=request.stage_code)
    before = _request_snapshot(request)
    request.title, request.period, request.deadline = title, period, deadline
    current = {item.indicator_id: item for item in request.items}
    request.items = [current.get(ind.id) or DataRequestIndicator(indicator=ind) for ind in indicators]
    for n, item in enumerate(request.items):
        item.position = n
    by_org = {s.organisation_id: s for s in request.submissions}
    request.submissions = [by_org.get(org.id) or Submission(organisation=org) for org in orgs]
    # The version moves even when only the lists changed, so a stale edit form is refused.
    flag_modified(request, "state")
    _touch_stage(stage)
    db.session.flush()
    chain.record(action="update", object_type="data_request", object_id=request.id, actor=actor, actor_role=role,
                 cycle_id=request.cycle_id, organisation_id=request.organisation.id, before=before,
                 after=_request_snapshot(request))


def delete_request(request: DataRequest, *, actor: User, expected_version: int | None = None) -> None:
    role = require_role(actor, request.organisation, REQUESTERS, "Удалять запросы сведений может специалист или "
                                                             "руководитель.")
    check_version(request, expected_version)
    if request.state != "draft":
        raise InvalidTransition("Удалить можно только черновик запроса; направленный запрос закрывается.")
    stage = request.cycle.stage(request.stage_code)
    before = _request_snapshot(request)
    chain.record(action="delete", object_type="data_request", object_id=request.id, actor=actor, actor_role=role,
                 cycle_id=request.cycle_id, organisation_id=request.organisation.id, from_state=request.state,
                 before=before)
    db.session.delete(request)
    if stage is not None and stage.state == "draft":
        _touch_stage(stage)
    db.session.flush()


def transition_request(request: DataRequest, trigger: str, *, actor: User, today: date,
                       expected_version: int | None = None) -> None:
    """send (draft → sent: opens the addressees' tasks) or close (sent → closed, when all have answered)."""
    if trigger in ("send", "close"):
        engine.authorize(request, trigger, actor)
    check_version(request, expected_version)
    if trigger == "send" and request.state == "draft" and request.deadline < today:
        raise ValidationFailed("Срок представления сведений уже прошёл: измените срок перед отправкой.")
    engine.fire(request, trigger, actor=actor, expected_version=expected_version)
    stage = request.cycle.stage(request.stage_code)
    if stage is not None and stage.state == "draft":
        _touch_stage(stage)
        db.session.flush()


# --- submissions ---

def transition_submission(submission: Submission, trigger: str, *, actor: User, comment: str | None = None,
                          expected_version: int | None = None) -> None:
    """Fire a page transition of a submission (the engine judges who may: the addressee's side fills, the
    owner's side reviews)."""
    if trigger not in FILL_TRIGGERS | REVIEW_TRIGGERS:
        raise PermissionDenied()
    engine.fire(submission, trigger, actor=actor, comment=comment, expected_version=expected_version)
    if submission.state == "accepted":
        # Accepted values are what the cycle's indicator dashboard shows: the jobs that rebuild what depends on
        # them (registered at start-up by the analysis feature) run once this commits.
        for follow_up in AFTER_ACCEPT:
            enqueue_after_commit(follow_up, submission.request.cycle_id)


def delegate_submission(submission: Submission, *, delegate: User | None, actor: User,
                        expected_version: int | None = None) -> None:
    """The director hands the answer (and its task) to a staff member, or takes it back (delegate=None)."""
    engine.authorize(submission, "delegate", actor)
    if delegate is not None and delegate.id not in {u.id for u in delegate_choices(submission)}:
        raise ValidationFailed(f"{delegate.full_name} не является сотрудником организации "
                               f"«{submission.organisation.display_name}».")
    engine.fire(submission, "delegate", actor=actor, expected_version=expected_version, delegate=delegate)


# An addressee reminded within this time is not reminded again: each «Напомнить» renewed every addressee's task and
# wrote to them, so a few clicks flooded a school's list with the same request (attack 10).
REMIND_INTERVAL = timedelta(hours=12)


def unstaffed(submissions) -> list[str]:
    """The addressees nobody answers for: no delegate and no active director (for a municipality, its official) —
    their fill task reaches no one. A new municipality's schools often have no accounts yet: «направлен, задачи
    поставлены» and «напоминание отправлено» were said of them (walk of 7 December 2026)."""
    return sorted((s.organisation.display_name for s in submissions if not _answered_for(s)), key=sort_key)


def _answered_for(submission: Submission) -> bool:
    return bool(fillers_of(submission, users_with_role_at))


def unstaffed_note(names: list[str]) -> str:
    """What to do about the addressees nobody answers for (empty when there are none)."""
    return no_account_note(names, "после этого нажмите «Напомнить» — задача придёт руководителю.")


def sent_message(request: DataRequest) -> tuple[str, str]:
    """The message after «Направить запрос» and its category: how many addressees, and those whose task reached no
    one (a warning then)."""
    note = unstaffed_note(unstaffed(request.submissions))
    text = f"Запрос направлен адресатам: {len(request.submissions)}."
    return (f"{text} {note}", "warning") if note else (f"{text} Им поставлены задачи.", "success")


@dataclass(frozen=True)
class Reminded:
    """What one «Напомнить» did: addressees reminded, those skipped as reminded within REMIND_INTERVAL, and those
    not reminded because nobody answers for them (unstaffed)."""

    sent: int
    skipped: int
    unstaffed: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        text = f"Напоминание отправлено {plural(self.sent, ('адресату', 'адресатам', 'адресатам'))}"
        if self.skipped:
            skipped = plural(self.skipped, ("адресат пропущен", "адресата пропущены", "адресатов пропущены"))
            them = plural_form(self.skipped, ("ему", "им", "им"))
            text = f"{text}; {skipped}: {them} напоминали менее 12 часов назад"
        note = unstaffed_note(list(self.unstaffed))
        return f"{text}. {note}" if note else text + "."


def remind(request: DataRequest, *, actor: User, submission_ids=None) -> Reminded:
    """Remind the addressees who have not answered (all of them, or the chosen ones) and were not reminded within
    REMIND_INTERVAL: each reminder is audited, renews the addressee's task and stamps the submission's
    last_reminded_at. Returns how many were reminded and how many skipped."""
    if not engine.permits(REQUESTER, request, actor):
        raise PermissionDenied("Напоминать адресатам может специалист или руководитель.")
    if request.state != "sent":
        raise InvalidTransition("Напоминания отправляются только по направленному и не закрытому запросу.")
    chosen = {int(i) for i in submission_ids} if submission_ids else None
    targets = [s for s in request.submissions if s.state in OPEN_STATES and (chosen is None or s.id in chosen)]
    if not targets:
        raise ValidationFailed("Нет адресатов, которым нужно напомнить: все ответили.")
    # An addressee nobody answers for is not «reminded»: the reminder reached no one, and its stamp kept the director
    # the administrator then appointed from getting the task for 12 hours.
    nobody = unstaffed(targets)
    targets = [s for s in targets if _answered_for(s)]
    if not targets:
        raise ValidationFailed("Напомнить некому.", problems=[unstaffed_note(nobody)])
    recent = utcnow() - REMIND_INTERVAL
    due = [s for s in targets if s.last_reminded_at is None or s.last_reminded_at <= recent]
    if not due:
        raise ValidationFailed("Этим адресатам уже напоминали за последние 12 часов: повторное напоминание можно "
                               "отправить позже.")
    for submission in due:
        engine.fire(submission, "remind", actor=actor)
    return Reminded(sent=len(due), skipped=len(targets) - len(due), unstaffed=tuple(nobody))


# --- reading ---

def is_overdue(submission: Submission, today: date) -> bool:
    """Deadline passed and the addressee has not answered (not submitted, accepted or marked not provided)."""
    request = submission.request
    return request.state == "sent" and submission.state in OPEN_STATES and request.deadline < today


@dataclass
class GridRow:
    submission: Submission
    overdue: bool
    filled: int
    total: int
    assignees: list[User] = field(default_factory=list)
    # «Исполнитель» as the table names it: each assignee, or whoever stands in for them today («… (за И.И. Иванова)»),
    # as the deputy takes over their tasks while they are away.
    executors: list[str] = field(default_factory=list)
    # Two-step request: the request this addressee passed down to its institutions, and their answers by state.
    passed_down: DataRequest | None = None
    lower_counts: dict[str, int] = field(default_factory=dict)

    @property
    def lower_total(self) -> int:
        return sum(self.lower_counts.values())

    @property
    def lower_done(self) -> int:
        return sum(n for state, n in self.lower_counts.items() if state in DONE_STATES)


@dataclass
class Grid:
    rows: list[GridRow]
    counts: dict[str, int]
    overdue: int

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def waiting(self) -> int:
        return sum(1 for r in self.rows if r.submission.state in OPEN_STATES)


def preload(request: DataRequest) -> DataRequest:
    """Load the request's indicators in one query (pages list them all)."""
    db.session.scalars(select(DataRequest).where(DataRequest.id == request.id).options(
        selectinload(DataRequest.items).selectinload(DataRequestIndicator.indicator))).all()
    return request


def grid(request: DataRequest, today: date) -> Grid:
    """The official's table of addressees × status, in a fixed number of queries whatever its size."""
    preload(request)
    # by the name the table shows, numbers by value («СОШ № 1», «СОШ № 4», «СОШ № 10»), as the form that chose them
    # lists them; the full legal names put «№ 10» before «№ 1» and the kindergartens before the gymnasium
    submissions = sorted(db.session.scalars(
        select(Submission).where(Submission.request_id == request.id)
        .options(selectinload(Submission.organisation), selectinload(Submission.delegate),
                 selectinload(Submission.submitted_by))),
        key=lambda s: (sort_key(s.organisation.display_name), s.organisation_id))
    indicator_ids = [item.indicator_id for item in request.items]
    org_ids = [s.organisation_id for s in submissions]
    filled: dict[int, int] = {}
    directors: dict[int, list[User]] = {}
    if org_ids and indicator_ids:
        filled = dict(db.session.execute(
            select(IndicatorValue.organisation_id, func.count())
            .where(IndicatorValue.indicator_id.in_(indicator_ids), IndicatorValue.organisation_id.in_(org_ids),
                   IndicatorValue.period == request.period)
            .group_by(IndicatorValue.organisation_id)).all())
    if org_ids:
        for org_id, user in db.session.execute(
                select(RoleAssignment.organisation_id, User).join(RoleAssignment.user)
                .where(RoleAssignment.organisation_id.in_(org_ids), RoleAssignment.role == "director",
                       User.active.is_(True)).order_by(User.full_name)):
            directors.setdefault(org_id, []).append(user)
    children: dict[int, DataRequest] = {}
    if any(s.organisation.kind == "municipality" for s in submissions):
        children = {c.parent_submission_id: c for c in db.session.scalars(
            select(DataRequest).where(DataRequest.parent_submission_id.in_([s.id for s in submissions])))}
    lower = state_counts([c.id for c in children.values()])
    owing = {s.id: [s.delegate] if s.delegate is not None and s.delegate.active
             else directors.get(s.organisation_id, []) for s in submissions}
    away = hooks.deputies_on([u for people in owing.values() for u in people], today)
    rows, counts = [], {state: 0 for state in SUBMISSION_STATES}
    for s in submissions:
        counts[s.state] += 1
        assignees = owing[s.id]
        executors = [name for u in assignees for name in (
            [f"{d.full_name} ({deputy_for(u)})" for d in away[u.id]] if u.id in away else [u.full_name])]
        child = children.get(s.id)
        rows.append(GridRow(s, is_overdue(s, today), filled.get(s.organisation_id, 0), len(indicator_ids), assignees,
                            executors, child, lower.get(child.id, {}) if child is not None else {}))
    return Grid(rows, counts, sum(1 for r in rows if r.overdue))


def requests_of_cycle(cycle: Cycle) -> list[DataRequest]:
    return list(db.session.scalars(select(DataRequest).where(DataRequest.cycle_id == cycle.id)
                                   .order_by(DataRequest.created_at.desc(), DataRequest.id.desc())))


def state_counts(request_ids) -> dict[int, dict[str, int]]:
    """request id → {submission state: count}, in one query."""
    result: dict[int, dict[str, int]] = {}
    if not request_ids:
        return result
    for request_id, state, n in db.session.execute(
            select(Submission.request_id, Submission.state, func.count())
            .where(Submission.request_id.in_(list(request_ids))).group_by(Submission.request_id, Submission.state)):
        result.setdefault(request_id, {})[state] = n
    return result


def requests_in_scope(user: User, limit: int = 500) -> list[DataRequest]:
    """Requests of cycles whose owner lies in one of the user's subtrees (officials, heads, auditors…)."""
    addressee = aliased(Organisation)
    return list(db.session.scalars(
        select(DataRequest).join(DataRequest.cycle).join(Cycle.owner)
        .outerjoin(Submission, Submission.id == DataRequest.parent_submission_id)
        .outerjoin(addressee, addressee.id == Submission.organisation_id)
        .where(scope_condition(Organisation.path, user) | scope_condition(addressee.path, user))
        .options(selectinload(DataRequest.cycle).selectinload(Cycle.owner),
                 selectinload(DataRequest.cycle).selectinload(Cycle.track))
        .order_by(DataRequest.state == "closed", DataRequest.deadline, DataRequest.id).limit(limit)))


def my_submissions(user: User, limit: int = 500) -> list[Submission]:
    """Answers owed by the user's organisations (director, staff; a municipality's official or head for the
    answers the municipality owes itself), of requests that have been sent."""
    own_authorities = [r.organisation_id for r in user.roles if r.role in AUTHORITY_FILLERS]
    owed = scope_condition(Organisation.path, user, roles=FILLERS)
    if own_authorities:
        owed = owed | (Submission.organisation_id.in_(own_authorities) & (Organisation.kind == "municipality"))
    return list(db.session.scalars(
        select(Submission).join(Submission.request).join(Submission.organisation)
        .where(owed, DataRequest.state != "draft")
        .options(selectinload(Submission.request), selectinload(Submission.organisation),
                 selectinload(Submission.delegate))
        .order_by(DataRequest.state == "closed", DataRequest.deadline, Submission.id).limit(limit)))


def visible_submission(submission: Submission, user: User) -> bool:
    """Addressees see their answer only once the request is sent; the owner's people see drafts too."""
    return submission.request.state != "draft" or bool(acting_roles_over(user, submission.request.organisation))


def current_values(submission: Submission) -> dict[int, IndicatorValue]:
    """indicator id → the addressee's value for the request's period."""
    ids = [item.indicator_id for item in submission.request.items]
    if not ids:
        return {}
    return {v.indicator_id: v for v in db.session.scalars(select(IndicatorValue).where(
        IndicatorValue.indicator_id.in_(ids), IndicatorValue.organisation_id == submission.organisation_id,
        IndicatorValue.period == submission.request.period))}


def history(submission: Submission, limit: int = 500) -> list[AuditEvent]:
    """The answer's own events and those of the values saved through it, newest first."""
    value_ids = list(db.session.scalars(select(IndicatorValue.id).where(IndicatorValue.submission_id == submission.id)))
    condition = (AuditEvent.object_type == "submission") & (AuditEvent.object_id == submission.id)
    if value_ids:
        condition = condition | ((AuditEvent.object_type == "indicator_value") & AuditEvent.object_id.in_(value_ids))
    return list(db.session.scalars(select(AuditEvent).where(condition).order_by(AuditEvent.id.desc()).limit(limit)))


HISTORY_LABELS = {
    "issue": "запрос получен", "submit": "сведения отправлены", "resubmit": "сведения отправлены повторно",
    "accept": "сведения приняты", "return": "возвращено на доработку",
    "mark_not_provided": "отмечено «не представлено»",
    "delegate": "поручено исполнителю", "remind": "напоминание", "create": "значение внесено",
    "update": "значение изменено",
}


def history_rows(submission: Submission) -> list[tuple[AuditEvent, str, str]]:
    """(event, what happened, details) in Russian for the submission page."""

    events = history(submission)
    codes = indicator_codes({item.indicator_id for item in submission.request.items})
    people = {}
    delegate_ids = {json.loads(e.after or "{}").get("delegate_id") for e in events if e.action == "delegate"} - {None}
    if delegate_ids:
        people = {u.id: u.full_name for u in db.session.scalars(select(User).where(User.id.in_(delegate_ids)))}

    def number(text):
        try:
            return display_value(Decimal(str(text)))
        except (InvalidOperation, ValueError):
            return str(text)

    rows = []
    for e in events:
        after = json.loads(e.after) if e.after else {}
        before = json.loads(e.before) if e.before else {}
        if e.object_type == "indicator_value":
            detail = f"{codes.get(after.get('indicator_id'), '')}: "
            if before:
                detail += f"{number(before.get('value'))} → "
            detail += number(after.get("value"))
            if after.get("comment"):
                detail += f" («{after['comment']}»)"
        elif e.action == "delegate":
            detail = people.get(after.get("delegate_id"), "руководитель")
        else:
            detail = e.reason or ""
        rows.append((e, HISTORY_LABELS.get(e.action, e.action), detail))
    return rows


def indicator_codes(ids) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(Indicator.id, Indicator.code).where(Indicator.id.in_(list(ids)))).all())


def done(request: DataRequest) -> bool:
    return all(s.state in DONE_STATES for s in request.submissions)


# --- two-step requests: a municipality passes the region's request down to its institutions ---

def passed_down(submission: Submission) -> DataRequest | None:
    return db.session.scalar(select(DataRequest).where(DataRequest.parent_submission_id == submission.id))


def pass_down(submission: Submission, *, actor: User, today: date) -> DataRequest:
    """One click: the municipality's answer becomes a request of the same indicators and period to its
    institutions, owned and reviewed by the municipality, sent at once; the municipality then answers the region
    from their values (answer_from_lower)."""
    if submission.organisation.kind != "municipality":
        raise ValidationFailed("Передать запрос нижестоящим организациям может только муниципалитет-адресат.")
    if submission.request.state != "sent" or submission.state not in OPEN_STATES:
        raise InvalidTransition("Запрос можно передать в подведомственные организации, пока ответ не отправлен.")
    admission = engine.authorize(submission, "submit" if submission.state == "pending" else "resubmit", actor)
    if passed_down(submission) is not None:
        raise ValidationFailed("Запрос уже передан в подведомственные организации.")
    institutions = list(db.session.scalars(
        select(Organisation).where(Organisation.in_subtree_of(submission.organisation),
                                   Organisation.kind.in_(INSTITUTION_KINDS))
        .order_by(Organisation.name, Organisation.id)))
    if not institutions:
        raise ValidationFailed(f"У «{submission.organisation.display_name}» нет подведомственных организаций.")
    parent = submission.request
    child = DataRequest(cycle_id=parent.cycle_id, title=f"{parent.title} — {submission.organisation.display_name}",
                        period=parent.period, deadline=max(parent.deadline, today), created_by_id=actor.id,
                        parent_submission=submission, stage_code=parent.stage_code)
    child.items = [DataRequestIndicator(indicator_id=item.indicator_id, position=item.position)
                   for item in parent.items]
    child.submissions = [Submission(organisation=org) for org in institutions]
    db.session.add(child)
    db.session.flush()
    chain.record(action="pass_down", object_type="data_request", object_id=child.id, actor=actor,
                 actor_role=admission.role, on_behalf_of=admission.on_behalf_of,
                 cycle_id=parent.cycle_id, organisation_id=submission.organisation_id, to_state=child.state,
                 after={**_request_snapshot(child), "parent_request": parent.id, "submission": submission.id})
    engine.fire(child, "send", actor=actor)
    return child


def answer_from_lower(submission: Submission, *, actor: User) -> int:
    """The municipality's answer computed from its institutions' accepted values of the passed-down request, each
    indicator by its declared aggregation (app/cycles/aggregation.py); saved as the municipality's values."""
    child = passed_down(submission)
    if child is None:
        raise ValidationFailed("Запрос не передавался в подведомственные организации.")
    accepted = [s for s in child.submissions if s.state == "accepted"]
    if not accepted:
        raise ValidationFailed("Ни одна подведомственная организация ещё не представила принятых сведений.")
    ids = [item.indicator_id for item in child.items]
    rows = db.session.execute(
        select(IndicatorValue.indicator_id, IndicatorValue.value, Organisation.students)
        .join(Organisation, Organisation.id == IndicatorValue.organisation_id)
        .where(IndicatorValue.indicator_id.in_(ids), IndicatorValue.period == child.period,
               IndicatorValue.organisation_id.in_([s.organisation_id for s in accepted]))).all()
    by_indicator: dict[int, list] = {}
    for ind_id, value, students in rows:
        by_indicator.setdefault(ind_id, []).append((Decimal(value), students))
    values, counts = [], {}
    for item in child.items:
        ind = item.indicator
        parts = [part(v, aggregation=ind.aggregation, students=n, target=ind.target, direction=ind.direction)
                 for v, n in by_indicator.get(ind.id, [])]
        total = combine(parts, ind.aggregation)
        if total is None:
            continue
        comment = f"Рассчитано по данным {len(parts)} из {len(child.submissions)} организаций ({ind.aggregation_label})"
        # What the figure stands for goes up with it (README, «The vertical»): the region adds organisations up,
        # not shares; a mean weighs as the students of the schools it is the mean of, not as all the municipality's.
        if ind.aggregation == "share_meeting":
            met, counted = organisations(parts)
            counts[ind.id] = (met, counted, None)
            comment += f": цели достигли {met} из {counted}"
        elif ind.aggregation == "mean_weighted":
            counts[ind.id] = (None, None, int(sum(p.weight for p in parts)) or None)
        values.append({"indicator_code": ind.code, "organisation_code": submission.organisation.code,
                       "period": child.period, "value": display_value(total), "comment": comment + "."})
    report = save_values(values, actor=actor, source="form", submission=submission, counts=counts)
    if not report.ok:
        raise ValidationFailed("Сведения не рассчитаны.", problems=report.lines())
    return report.saved
