"""The one workflow engine: every state change in the system goes through `fire`.

Each workflow module declares NAME, OBJECT_TYPE, STATES, INITIAL, TRANSITIONS (dicts) and EFFECTS;
the engine builds one static `transitions.Machine(model=None)` per workflow and triggers its events
on the ORM row directly, so loading a row never resets its state. `fire` checks permission, runs
the guards, changes the state, flushes under optimistic locking, writes the hash-chained audit
event and opens/closes tasks, all in the caller's transaction (it never commits).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy.orm.exc import StaleDataError
from transitions import Machine

from app.audit import chain
from app.auth.services import users_with_role_at
from app.core.errors import GuardFailed, InvalidTransition, PermissionDenied, StaleObject, ValidationFailed
from app.extensions import db
from app.tasks import services as tasks

SYSTEM_ROLE = "system"


def workflow_modules() -> list[str]:
    """Every module of the `workflows` package but the engine declares one workflow."""
    import pkgutil

    import workflows

    return sorted(f"workflows.{m.name}" for m in pkgutil.iter_modules(workflows.__path__) if m.name != "engine")


@dataclass(frozen=True)
class TransitionSpec:
    trigger: str
    source: tuple[str, ...]
    dest: str
    label: str
    roles: frozenset[str] = frozenset()  # empty: internal, fired only by the engine's cascades
    guards: tuple[Callable[[Any], list[str]], ...] = ()
    requires_comment: bool = False
    # Only the holders of `roles` at the nearest level of the object's organisation that has any (the
    # people the engine assigns the task to), not every holder further up the tree.
    nearest_only: bool = False
    style: str = "primary"

    @property
    def internal(self) -> bool:
        return not self.roles


@dataclass
class Workflow:
    name: str
    object_type: str
    states: dict[str, str]
    initial: str
    transitions: list[TransitionSpec]
    # ON_ENTER: field changes that must land in the same UPDATE as the state (CHECK constraints);
    # AFTER: follow-ups once the change is flushed and audited (tasks, cascaded transitions).
    on_enter: dict[str, Callable[["TransitionContext"], None]]
    after: dict[str, Callable[["TransitionContext"], None]]
    machine: Machine = field(repr=False)

    def find(self, trigger: str) -> list[TransitionSpec]:
        return [t for t in self.transitions if t.trigger == trigger]

    def state_label(self, state: str) -> str:
        return self.states.get(state, state)


@dataclass
class TransitionContext:
    """What guards' callers and effects see: the object, who acts, and engine helpers."""

    obj: Any
    actor: Any
    role: str
    spec: TransitionSpec
    source: str
    comment: str | None
    on_behalf_of: Any = None  # the absent person when the actor acts as their deputy

    def fire_internal(self, obj, trigger: str) -> None:
        fire(obj, trigger, actor=self.actor, _internal=True)

    def open_task(self, *, kind: str, title: str, assignee, due_date=None) -> None:
        tasks.open_task(self.obj, kind=kind, title=title, assignee=assignee, due_date=due_date)

    def users_with_role(self, org, roles) -> list:
        return users_with_role_at(org, roles)


def _build(module_name: str) -> Workflow:
    module = importlib.import_module(module_name)
    specs = []
    for t in module.TRANSITIONS:
        source = t["source"]
        specs.append(TransitionSpec(
            trigger=t["trigger"],
            source=tuple(source) if isinstance(source, (list, tuple)) else (source,),
            dest=t["dest"],
            label=t["label"],
            roles=frozenset(t.get("roles", ())),
            guards=tuple(t.get("guards", ())),
            requires_comment=t.get("requires_comment", False),
            nearest_only=t.get("nearest_only", False),
            style=t.get("style", "primary"),
        ))
    machine = Machine(
        model=None,
        states=list(module.STATES),
        initial=module.INITIAL,
        transitions=[{"trigger": s.trigger, "source": list(s.source), "dest": s.dest} for s in specs],
        auto_transitions=False,
        send_event=True,
        model_attribute="state",
    )
    return Workflow(module.NAME, module.OBJECT_TYPE, dict(module.STATES), module.INITIAL, specs,
                    dict(getattr(module, "ON_ENTER", {})), dict(getattr(module, "AFTER", {})), machine)


_REGISTRY: dict[str, Workflow] = {}


def registry() -> dict[str, Workflow]:
    if not _REGISTRY:
        for name in workflow_modules():
            wf = _build(name)
            _REGISTRY[wf.object_type] = wf
    return _REGISTRY


def task_kinds() -> dict[str, str]:
    """Task kind → Russian label, from each workflow module's TASK_KINDS."""
    return {kind: label for name in workflow_modules()
            for kind, label in getattr(importlib.import_module(name), "TASK_KINDS", {}).items()}


def task_links() -> dict[str, tuple[str, str]]:
    """Object type → (endpoint, URL argument) where a task about such an object takes its assignee."""
    return {object_type: link for name in workflow_modules()
            for object_type, link in getattr(importlib.import_module(name), "TASK_LINKS", {}).items()}


def workflow_for(obj) -> Workflow:
    try:
        return registry()[obj.audit_type]
    except (AttributeError, KeyError):
        raise TypeError(f"no workflow declared for {type(obj).__name__}") from None


def _own_role(spec: TransitionSpec, obj, person) -> str | None:
    held = person.roles_over(obj.organisation) & spec.roles
    if held and spec.nearest_only:
        if person.id not in {u.id for u in users_with_role_at(obj.organisation, spec.roles)}:
            return None
    # Deterministic choice for the audit record when several roles qualify.
    return sorted(held)[0] if held else None


def _acting_as(spec: TransitionSpec, obj, actor) -> tuple[str | None, Any]:
    """(role, absent person) with which `actor` may fire `spec` on `obj`: by the actor's own roles, else as the
    deputy (заместитель) of someone they stand in for today who could fire it (nearest_only judged for them)."""
    role = _own_role(spec, obj, actor)
    if role is not None:
        return role, None
    from app.deadlines.standins import absent_people_covered_by  # late: the feature loads models

    for absent in absent_people_covered_by(actor):
        role = _own_role(spec, obj, absent)
        if role is not None:
            return role, absent
    return None, None


def _acting_role(spec: TransitionSpec, obj, actor) -> str | None:
    return _acting_as(spec, obj, actor)[0]


def available_transitions(obj, actor) -> list[TransitionSpec]:
    """Transitions the actor could fire now by role and state (guards are evaluated on firing)."""
    wf = workflow_for(obj)
    return [t for t in wf.transitions
            if not t.internal and obj.state in t.source and _acting_role(t, obj, actor)]


def check_guards(obj, trigger: str) -> list[str]:
    """The problems that would stop `trigger` now (empty when it may fire), for showing in the UI."""
    wf = workflow_for(obj)
    spec = next((t for t in wf.find(trigger) if obj.state in t.source), None)
    if spec is None:
        return []
    return [problem for guard in spec.guards for problem in guard(obj)]


def fire(obj, trigger: str, *, actor, comment: str | None = None, expected_version: int | None = None,
         _internal: bool = False) -> TransitionSpec:
    """Fire `trigger` on `obj` for `actor`. Raises a DomainError with a Russian reason when refused."""
    wf = workflow_for(obj)
    candidates = wf.find(trigger)
    if not candidates:
        raise InvalidTransition(f"Неизвестное действие «{trigger}».")
    spec = next((t for t in candidates if obj.state in t.source), None)
    if spec is None:
        raise InvalidTransition(
            f"Действие «{candidates[0].label}» недоступно: объект в состоянии «{wf.state_label(obj.state)}»."
        )
    if spec.internal:
        if not _internal:
            raise PermissionDenied()
        role, on_behalf_of = SYSTEM_ROLE, None
    else:
        role, on_behalf_of = _acting_as(spec, obj, actor)
        if role is None:
            raise PermissionDenied(f"Недостаточно прав для действия «{spec.label}».")
    if expected_version is not None and obj.version != expected_version:
        raise StaleObject()
    comment = (comment or "").strip() or None
    if spec.requires_comment and not comment:
        raise ValidationFailed(f"Для действия «{spec.label}» обязателен комментарий.")
    problems = [problem for guard in spec.guards for problem in guard(obj)]
    if problems:
        raise GuardFailed(f"Действие «{spec.label}» невозможно.", problems=problems)

    source = obj.state
    before = obj.audit_snapshot()
    wf.machine.events[trigger].trigger(obj)
    ctx = TransitionContext(obj, actor, role, spec, source, comment, on_behalf_of)
    if spec.dest in wf.on_enter:
        wf.on_enter[spec.dest](ctx)
    try:
        # Flushing now runs the UPDATE … WHERE version = :seen; a concurrent winner makes it match nothing.
        db.session.flush()
    except StaleDataError:
        raise StaleObject() from None
    chain.record(
        action=trigger, object_type=wf.object_type, object_id=obj.id, actor=actor, actor_role=role,
        cycle_id=obj.audit_cycle_id, organisation_id=obj.organisation.id,
        from_state=source, to_state=obj.state, before=before, after=obj.audit_snapshot(), reason=comment,
        on_behalf_of=on_behalf_of,
    )
    # Whatever was owed in the old state is done (or moot); AFTER opens what the new state owes.
    tasks.close_tasks_for(obj)
    if spec.dest in wf.after:
        wf.after[spec.dest](ctx)
    return spec
