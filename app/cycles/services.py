"""Operations on management cycles and their stage content. They flush, audit, and never commit."""

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.audit import chain
from app.auth.models import User
from app.auth.roles import CYCLE_MANAGERS, EDITORS, SUPPORT_ROLES
from app.catalogue.models import Mechanism, StageDefinition, Track
from app.core.access import scope_condition
from app.core.checks import check_version, require_role
from app.core.errors import StaleObject, ValidationFailed
from app.core.timeutil import next_period, utcnow
from app.cycles.models import AGGREGATIONS, CollectionMethod, Cycle, Goal, Indicator, Stage, default_aggregation
from app.extensions import db
from app.orgs.models import Organisation
from app.tasks import services as tasks
from workflows import engine
from workflows import stage as stage_workflow
from app.auth.models import RoleAssignment
from app.catalogue.models import LibraryIndicator

# Called after a cycle is carried over into the next period: fn(old_cycle, new_cycle, *, actor). Features that
# own content of the next cycle register here from their descriptor's setup (this feature must not import them).
CARRY_OVER_HOOKS: list = []

# Which stage holds each kind of content: editing it is allowed only while that stage is a draft.
CONTENT_STAGE = {Goal: "GOAL", Indicator: "IND", CollectionMethod: "METH"}


def cycles_in_scope(user: User, *, mechanism_code: str | None = None, organisation_id: int | None = None,
                    state: str | None = None):
    """Cycles the user may see, with everything the list pages show loaded in a fixed number of queries."""
    query = (
        select(Cycle).join(Cycle.owner).join(Cycle.track).join(Track.mechanism)
        .where(scope_condition(Organisation.path, user))
        .options(selectinload(Cycle.stages).selectinload(Stage.responsible),
                 selectinload(Cycle.owner), selectinload(Cycle.track).selectinload(Track.mechanism))
        .order_by(Cycle.period.desc(), Mechanism.code, Track.position, Organisation.name)
    )
    if mechanism_code:
        query = query.where(Mechanism.code == mechanism_code)
    if organisation_id:
        # An organisation stands for its subtree: a municipality's filter keeps its schools' cycles too.
        chosen = db.session.get(Organisation, organisation_id)
        query = query.where(Organisation.in_subtree_of(chosen) if chosen is not None else Cycle.owner_id.is_(None))
    if state:
        query = query.where(Cycle.state == state)
    return query


def _held_within(user: User, org: Organisation) -> bool:
    """The user's editing role over `org` is held in its subtree: at `org` itself, or a support role at a centre
    within it (the municipality's ИМЦ methodologist), not at a level above."""
    return any(r.role in EDITORS and (r.organisation_id == org.id
                                      or (r.role in SUPPORT_ROLES and r.organisation.is_within(org)))
               for r in user.roles) and bool(user.roles_over(org) & EDITORS)


def eligible_responsibles(org: Organisation) -> list[User]:
    """Whom the «Ответственный» choice of `org`'s cycle offers: its own people, editors whose role is held in its
    subtree (a ministry official holds a role over every municipality, but a municipal or a kindergarten's cycle is
    that organisation's own work); an organisation without any gets the editors over it from above, whose role holds
    in its subtree (domain.md §2), as the stage's approval falls back to the nearest head above. The service accepts
    either (_validate_responsible)."""
    above = list(db.session.scalars(
        select(User).join(RoleAssignment)
        .where(RoleAssignment.organisation_id.in_(org.ancestor_ids()), RoleAssignment.role.in_(EDITORS),
               User.active.is_(True))
        .options(selectinload(User.roles).selectinload(RoleAssignment.organisation))
        .order_by(User.full_name).distinct()
    ))
    own = list(db.session.scalars(
        select(User).join(RoleAssignment).join(Organisation, Organisation.id == RoleAssignment.organisation_id)
        .where(Organisation.in_subtree_of(org), RoleAssignment.role.in_(SUPPORT_ROLES), User.active.is_(True))
        .options(selectinload(User.roles).selectinload(RoleAssignment.organisation))
        .order_by(User.full_name).distinct()))
    people = {u.id: u for u in above + own if _held_within(u, org)}
    return sorted(people.values(), key=lambda u: (u.full_name, u.id)) or above


def _validate_responsible(user: User | None, org: Organisation) -> None:
    if user is not None and not user.roles_over(org) & EDITORS:
        raise ValidationFailed(f"{user.full_name} не может отвечать за этап: "
                               f"нет роли в организации «{org.display_name}».")


def tracks_opened_for_all(tracks: list[Track], orgs: list[Organisation], period: str) -> set[int]:
    """The ids of `tracks` for which every organisation of `orgs` that could own a cycle of the track (its level,
    a mechanism that concerns it) already has one for `period`: the track offers nothing new in the form. One
    query for all the tracks."""
    owners = {t.id: {o.id for o in orgs if o.level == t.mechanism.level and t.mechanism.concerns(o)} for t in tracks}
    candidates = {org_id for ids in owners.values() for org_id in ids}
    if not candidates:
        return set()
    held: dict[int, set[int]] = {}
    for track_id, owner_id in db.session.execute(select(Cycle.track_id, Cycle.owner_id).where(
            Cycle.track_id.in_(list(owners)), Cycle.owner_id.in_(candidates), Cycle.period == period)):
        held.setdefault(track_id, set()).add(owner_id)
    return {track_id for track_id, ids in owners.items() if ids and ids <= held.get(track_id, set())}


def create_cycle(*, track: Track, owner: Organisation, period: str, actor: User,
                 responsible: User | None = None, deadlines: dict[str, date] | None = None,
                 previous: Cycle | None = None) -> Cycle:
    """Open a management cycle for a track, owner organisation and period, with its stages."""
    role = require_role(actor, owner, CYCLE_MANAGERS, "Недостаточно прав, чтобы открыть цикл в этой организации.")
    if track.mechanism.level != owner.level:
        raise ValidationFailed(
            f"Механизм {track.mechanism.code} относится к другому уровню управления, чем «{owner.display_name}».")
    if not track.mechanism.concerns(owner):
        raise ValidationFailed(f"Механизм {track.mechanism.code} «{track.mechanism.title}» не относится к "
                               f"организации «{owner.display_name}» ({owner.kind_label}).")
    period = period.strip()
    duplicate = db.session.scalar(select(Cycle.id).where(
        Cycle.track_id == track.id, Cycle.owner_id == owner.id, Cycle.period == period))
    if duplicate is not None:
        raise ValidationFailed(f"Цикл по этому направлению на период {period} уже существует.")
    _validate_responsible(responsible, owner)
    definitions = list(db.session.scalars(select(StageDefinition).order_by(StageDefinition.position)))
    blocks = track.blocks or [d.code for d in definitions]
    deadlines = deadlines or {}
    cycle = Cycle(track=track, owner=owner, period=period, created_by_id=actor.id, previous=previous)
    cycle.stages = [Stage(code=d.code, definition=d, position=d.position, responsible=responsible,
                          deadline=deadlines.get(d.code)) for d in definitions if d.code in blocks]
    db.session.add(cycle)
    db.session.flush()
    chain.record(action="create", object_type="cycle", object_id=cycle.id, actor=actor, actor_role=role,
                 cycle_id=cycle.id, organisation_id=owner.id, to_state=cycle.state, after=cycle.audit_snapshot())
    if cycle.stage("IND") is not None:
        # The upper level's invariant indicators come with the cycle (README, «The vertical»).
        _inherit(cycle, missing_invariants(cycle), actor=actor, role=role)
    engine.fire_system(cycle.stages[0], "open", actor=actor)
    return cycle


def update_stage_settings(stage: Stage, *, responsible: User | None, deadline: date | None, actor: User,
                          expected_version: int | None = None) -> None:
    """Assign the stage's responsible person and deadline; an open fill task follows the new responsible."""
    role = require_role(actor, stage.organisation, CYCLE_MANAGERS,
                    "Назначать ответственных может только специалист или руководитель.")
    check_version(stage, expected_version)
    if stage.state == "approved":
        raise ValidationFailed("Этап уже утверждён: ответственного и срок изменить нельзя.")
    _validate_responsible(responsible, stage.organisation)
    before = stage.audit_snapshot()
    changed_person = stage.responsible_id != (responsible.id if responsible else None)
    stage.responsible = responsible
    stage.deadline = deadline
    db.session.flush()
    after = stage.audit_snapshot()
    chain.record(action="update_settings", object_type="stage", object_id=stage.id, actor=actor, actor_role=role,
                 cycle_id=stage.cycle_id, organisation_id=stage.organisation.id, before=before, after=after)
    if stage.state == "draft" and (changed_person or before["deadline"] != after["deadline"]):
        # The owed task moves and keeps its kind: a returned stage still owes «Доработать», not «Заполнить».
        if responsible is None:
            tasks.close_tasks_for(stage)
        elif not tasks.reschedule(stage, due_date=deadline, assignee=responsible):
            kind = "rework_stage" if stage.return_comment else "fill_stage"
            tasks.open_task(stage, kind=kind, title=stage_workflow.task_title(stage, kind), assignee=responsible,
                            due_date=deadline)


def content_refusal(stage: Stage) -> str | None:
    """Why a goal, indicator or collection method of the stage cannot be added or changed now (None: it can) — what
    a save refuses with, said before a form is opened (the edit pages, the integrity panel's «Исправить»)."""
    if stage.state != "draft":
        return (f"Этап «{stage.title}» сейчас не редактируется (состояние: "
                f"{engine.workflow_for(stage).state_label(stage.state)}).")
    return None


def _editable_stage(cycle: Cycle, code: str, actor: User) -> Stage:
    require_role(actor, cycle.owner, EDITORS, "Недостаточно прав для изменения содержания цикла.")
    stage = cycle.stage(code)
    if stage is None:
        raise ValidationFailed("Этот блок не входит в цикл данного направления.")
    refusal = content_refusal(stage)
    if refusal:
        raise ValidationFailed(refusal)
    # Bumps the stage version, so this edit and a concurrent submit of the stage cannot both win.
    stage.content_updated_at = utcnow()
    return stage


def _actor_role(actor: User, org: Organisation) -> str:
    return require_role(actor, org, EDITORS, "Недостаточно прав для изменения содержания цикла.")


def save_content(model, cycle: Cycle, *, data: dict, actor: User, obj=None, expected_version: int | None = None):
    """Create or update one row of stage content (goal, indicator, collection method)."""
    _editable_stage(cycle, CONTENT_STAGE[model], actor)
    if obj is not None:
        check_version(obj, expected_version)
    if model is Indicator:
        _validate_indicator(cycle, data, obj)
    if model is Goal and data.get("parent_goal_id"):
        _validate_parent_goal(cycle, data["parent_goal_id"])
    before = obj.audit_snapshot() if obj is not None else None
    if obj is None:
        obj = model(position=len(cycle.goals)) if model is Goal else model()
        # Added before it joins the cycle's collection, so autoflush never meets a half-attached row.
        db.session.add(obj)
        obj.cycle = cycle
    for key, value in data.items():
        setattr(obj, key, value)
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleObject() from None
    chain.record(action="update" if before else "create", object_type=obj.audit_type, object_id=obj.id,
                 actor=actor, actor_role=_actor_role(actor, cycle.owner), cycle_id=cycle.id,
                 organisation_id=cycle.owner_id, before=before, after=obj.audit_snapshot())
    return obj


def delete_content(obj, *, actor: User, expected_version: int | None = None) -> None:
    cycle = obj.cycle
    _editable_stage(cycle, CONTENT_STAGE[type(obj)], actor)
    if isinstance(obj, Indicator):
        _refuse_dropping_invariant(obj)
    check_version(obj, expected_version)
    before = obj.audit_snapshot()
    chain.record(action="delete", object_type=obj.audit_type, object_id=obj.id, actor=actor,
                 actor_role=_actor_role(actor, cycle.owner), cycle_id=cycle.id, organisation_id=cycle.owner_id,
                 before=before)
    db.session.delete(obj)
    db.session.flush()


def _validate_indicator(cycle: Cycle, data: dict, obj) -> None:
    if data.get("aggregation", "mean_weighted") not in AGGREGATIONS:
        raise ValidationFailed("Выберите способ свода значений из перечня.")
    code = data.get("code")
    clash = db.session.scalar(select(Indicator.id).where(Indicator.cycle_id == cycle.id, Indicator.code == code))
    if clash is not None and (obj is None or clash != obj.id):
        raise ValidationFailed(f"Показатель с кодом «{code}» уже есть в этом цикле.")
    groups = [g.name for g in cycle.track.mechanism.indicator_groups]
    if groups and data.get("group_name") not in groups:
        raise ValidationFailed("Выберите группу показателей из перечня механизма.")


def _validate_parent_goal(cycle: Cycle, parent_goal_id: int) -> None:
    parent = db.session.get(Goal, parent_goal_id)
    if parent is None or parent.cycle.owner_id == cycle.owner_id or not cycle.owner.is_within(parent.cycle.owner):
        raise ValidationFailed("Связать можно только с целью цикла вышестоящей организации.")


def higher_level_goals(cycle: Cycle) -> list[Goal]:
    """Goals of the same period's cycles owned by the organisations above this cycle's owner."""
    ancestors = cycle.owner.ancestor_ids()[:-1]
    if not ancestors:
        return []
    return list(db.session.scalars(
        select(Goal).join(Goal.cycle).where(Cycle.owner_id.in_(ancestors), Cycle.period == cycle.period)
        .order_by(Goal.cycle_id, Goal.position)
    ))


def save_summary(stage: Stage, *, text: str, actor: User, expected_version: int | None = None) -> None:
    check_version(stage, expected_version)
    _editable_stage(stage.cycle, stage.code, actor)
    before = stage.audit_snapshot()
    stage.summary = text
    db.session.flush()
    chain.record(action="update_content", object_type="stage", object_id=stage.id, actor=actor,
                 actor_role=_actor_role(actor, stage.organisation), cycle_id=stage.cycle_id,
                 organisation_id=stage.organisation.id, before=before, after=stage.audit_snapshot())


def transition_stage(stage: Stage, trigger: str, *, actor: User, comment: str | None = None,
                     expected_version: int | None = None) -> None:
    """Submit, approve or return a stage through the workflow engine."""
    engine.fire(stage, trigger, actor=actor, comment=comment, expected_version=expected_version)


def start_next_period(cycle: Cycle, *, actor: User) -> Cycle:
    """Open the next period's cycle and carry goals, indicators and methods over as drafts to correct
    (принцип цикличности: the effectiveness analysis feeds the next cycle's goals and indicators)."""
    role = require_role(actor, cycle.owner, CYCLE_MANAGERS, "Недостаточно прав, чтобы начать следующий период.")
    if cycle.state != "closed":
        raise ValidationFailed("Следующий период можно начать только после завершения текущего цикла.")
    deadlines = {s.code: s.deadline + timedelta(days=365) for s in cycle.stages if s.deadline}
    responsible = next((s.responsible for s in cycle.stages if s.responsible), None)
    new = create_cycle(track=cycle.track, owner=cycle.owner, period=next_period(cycle.period), actor=actor,
                       responsible=responsible, deadlines=deadlines, previous=cycle)
    for s_old, s_new in zip(cycle.stages, new.stages):
        s_new.responsible_id = s_old.responsible_id
    for goal in cycle.goals:
        new.goals.append(Goal(position=goal.position, direction=goal.direction, statement=goal.statement,
                              justification=goal.justification, realism=goal.realism,
                              parent_goal_id=goal.parent_goal_id, carried_from_id=goal.id))
    inherited = {i.code for i in new.indicators}  # the upper level's invariants, already in the new cycle
    for ind in cycle.indicators:
        if ind.code in inherited:
            continue
        new.indicators.append(Indicator(
            code=ind.code, name=ind.name, unit=ind.unit, definition=ind.definition, group_name=ind.group_name,
            source=ind.source, collection_method=ind.collection_method, periodicity=ind.periodicity,
            baseline=ind.baseline, target=ind.target, direction=ind.direction, responsible=ind.responsible,
            invariant=ind.invariant, aggregation=ind.aggregation, carried_from_id=ind.id))
    for m in cycle.collection_methods:
        new.collection_methods.append(CollectionMethod(source=m.source, method=m.method, tool=m.tool,
                                                       schedule=m.schedule))
    db.session.flush()
    chain.record(action="carry_over", object_type="cycle", object_id=new.id, actor=actor,
                 actor_role=role, cycle_id=new.id,
                 organisation_id=cycle.owner_id,
                 after={"from_cycle": cycle.id, "goals": len(new.goals), "indicators": len(new.indicators),
                        "collection_methods": len(new.collection_methods)})
    for hook in CARRY_OVER_HOOKS:  # e.g. the effectiveness feature: EFF proposals → draft goals, corrected targets
        hook(cycle, new, actor=actor)
    return new


def add_library_indicators(cycle: Cycle, codes: list[str], *, actor: User) -> int:
    """Copy indicators of the default library into the cycle; values, targets and responsible are filled later."""
    if not codes:
        raise ValidationFailed("Не выбрано ни одного показателя.")
    present = {i.code for i in cycle.indicators}
    rows = db.session.scalars(select(LibraryIndicator).where(
        LibraryIndicator.code.in_(codes), LibraryIndicator.mechanism_code == cycle.track.mechanism.code))
    added = 0
    stage = cycle.stage("IND")
    responsible = stage.responsible.short_name if stage and stage.responsible else "не назначен"
    for li in rows:
        if li.code in present:
            continue
        save_content(Indicator, cycle, actor=actor, data={
            "code": li.code, "name": li.name, "unit": li.unit, "definition": li.formula or li.name,
            "group_name": li.group_name, "source": li.source or "", "collection_method": li.source or "",
            "periodicity": li.periodicity or "ежегодно", "direction": li.direction, "responsible": responsible,
            "baseline": None, "target": None, "aggregation": default_aggregation(li.unit)})
        added += 1
    return added


# --- the vertical: invariant indicators (README, «The vertical») ---

def _track_applies(upper_track: Track, lower_track: Track) -> bool:
    """An upper track's invariants bind the lower track of the same code, or every lower track when the lower
    mechanism has no track of that code (R2.5 «main» binds both tracks of M2.3)."""
    if upper_track.code == lower_track.code:
        return True
    return upper_track.code not in {t.code for t in lower_track.mechanism.tracks}


def upper_cycles(cycle: Cycle) -> list[Cycle]:
    """The same period's cycles of the counterpart mechanism one level up (Mechanism.upper_code), owned by the
    organisations above this cycle's owner."""
    upper_code = cycle.track.mechanism.upper_code
    ancestors = cycle.owner.ancestor_ids()[:-1]
    if not upper_code or not ancestors:
        return []
    found = db.session.scalars(
        select(Cycle).join(Cycle.track).join(Track.mechanism)
        .where(Cycle.owner_id.in_(ancestors), Cycle.period == cycle.period, Mechanism.code == upper_code)
        .options(selectinload(Cycle.track), selectinload(Cycle.owner)).order_by(Cycle.id))
    return [c for c in found if _track_applies(c.track, cycle.track)]


def upper_invariants(cycle: Cycle) -> list[Indicator]:
    """The invariant indicators of the upper cycles: mandatory for this cycle."""
    ids = [c.id for c in upper_cycles(cycle)]
    if not ids:
        return []
    return list(db.session.scalars(
        select(Indicator).where(Indicator.cycle_id.in_(ids), Indicator.invariant.is_(True))
        .options(selectinload(Indicator.cycle).selectinload(Cycle.owner)).order_by(Indicator.cycle_id, Indicator.code)))


def missing_invariants(cycle: Cycle) -> list[Indicator]:
    """Upper invariants that no indicator of this cycle inherits yet."""
    held = {i.upper_indicator_id for i in cycle.indicators if i.upper_indicator_id}
    return [u for u in upper_invariants(cycle) if u.id not in held]


def invariant_problems(cycle: Cycle) -> list[str]:
    """The indicators stage's guard (workflows/stage.py asks it through workflows.hooks): every invariant
    indicator of the upper level is in the cycle."""
    return [f"Нет обязательного показателя вышестоящего уровня {u.code} «{u.name}» "
            f"({u.cycle.owner.display_name}): добавьте обязательные показатели."
            for u in missing_invariants(cycle)]


def _inherited_group(cycle: Cycle, upper: Indicator) -> str:
    groups = [g.name for g in cycle.track.mechanism.indicator_groups]
    return upper.group_name if not groups or upper.group_name in groups else groups[0]


def _inherit(cycle: Cycle, uppers: list[Indicator], *, actor: User, role: str) -> int:
    """Copy the upper invariants into the cycle, the upper target as the default target; an indicator of the
    same code already there is linked instead of duplicated."""
    by_code = {i.code: i for i in cycle.indicators}
    stage = cycle.stage("IND")
    responsible = stage.responsible.short_name if stage is not None and stage.responsible else "не назначен"
    for upper in uppers:
        own = by_code.get(upper.code)
        before = own.audit_snapshot() if own is not None else None
        if own is None:
            own = Indicator(code=upper.code, name=upper.name, unit=upper.unit, definition=upper.definition,
                            group_name=_inherited_group(cycle, upper), source=upper.source,
                            collection_method=upper.collection_method, periodicity=upper.periodicity,
                            baseline=None, target=upper.target, direction=upper.direction, responsible=responsible)
            db.session.add(own)
            own.cycle = cycle
        # Inherited indicators are invariant for the next level down too, so the roll-up reaches the schools.
        own.upper_indicator_id, own.invariant, own.aggregation = upper.id, True, upper.aggregation
        db.session.flush()
        chain.record(action="inherit", object_type="indicator", object_id=own.id, actor=actor, actor_role=role,
                     cycle_id=cycle.id, organisation_id=cycle.owner_id, before=before, after=own.audit_snapshot())
    return len(uppers)


def inherit_invariants(cycle: Cycle, *, actor: User) -> int:
    """Add the upper level's invariant indicators the cycle lacks (while the indicators stage is a draft)."""
    _editable_stage(cycle, "IND", actor)
    missing = missing_invariants(cycle)
    if not missing:
        raise ValidationFailed("Все обязательные показатели вышестоящего уровня уже есть в цикле.")
    return _inherit(cycle, missing, actor=actor, role=_actor_role(actor, cycle.owner))


def _refuse_dropping_invariant(indicator: Indicator) -> None:
    upper = indicator.upper_indicator
    if upper is not None and upper.invariant:
        raise ValidationFailed(
            f"Показатель {indicator.code} обязателен: его установил вышестоящий уровень "
            f"({upper.cycle.owner.display_name}, {upper.cycle.track.mechanism.code}). Удалить его нельзя — "
            f"можно изменить целевое значение.")
