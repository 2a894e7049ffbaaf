"""The one workflow engine: every state change in the system goes through `fire` (or `fire_system`).

Each workflow module declares NAME, OBJECT_TYPE, its vocabulary (STATE_LABELS: state → Russian label, in the
machine's order; STATE_STYLES: state → badge style), INITIAL, TRANSITIONS (dicts) and its effects (ON_ENTER,
AFTER); the engine builds one static `transitions.Machine(model=None)` per
workflow and triggers its events on the ORM row directly, so loading a row never resets its state.

The engine is the only authority on who may act: each transition declares its permission as a
predicate (workflows/permissions.py), the engine evaluates it for the actor and, failing that, for each
person the actor stands in for today (заместитель), and enforces the workflow's separation of duties
(SEPARATION_OF_DUTIES). Views render `available_transitions`, role-gated code asks `can`; services do
not re-implement the check. `fire` then runs the guards, changes the state, flushes under optimistic
locking, writes the hash-chained audit event and opens/closes tasks, all in the caller's transaction
(it never commits). Transition data (an action plan, a chosen delegate) is passed to `fire` as keyword
arguments and reaches guards and effects as `ctx.data`; nothing is parked on the row.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError
from transitions import Machine

from app.audit import chain
from app.auth.services import users_with_role_at
from app.core.checks import check_seen
from app.core.errors import GuardFailed, InvalidTransition, PermissionDenied, StaleObject, ValidationFailed
from app.extensions import db
from app.tasks import services as tasks
from workflows import hooks
from workflows.permissions import Permission, has_role

SYSTEM_ROLE = "system"
# Modules of the package that declare no workflow.
_NOT_WORKFLOWS = {"engine", "hooks", "permissions"}
# Bootstrap badge styles a workflow may use for its states.
BADGE_STYLES = ("secondary", "primary", "info", "warning", "success", "danger", "dark", "light")
# Characters a transition's comment may hold: the longest any action form offers (its textarea's maxlength). Forms
# with a WTForms Length refuse sooner; this one limit holds for the rest (the assessment's forms, the API, a script),
# because the comment goes into the audit event and onto approval sheets and documents, where 50,000 characters (the
# request's own limit) would bury the page.
COMMENT_MAX_CHARS = 4000


def workflow_modules() -> list[str]:
    """Every module of the `workflows` package but the engine's own declares one workflow."""
    import workflows

    return sorted(f"workflows.{m.name}" for m in pkgutil.iter_modules(workflows.__path__)
                  if m.name not in _NOT_WORKFLOWS)


Guard = Callable[[Any, dict], list[str]]


@dataclass(frozen=True)
class TransitionSpec:
    trigger: str
    source: tuple[str, ...]
    dest: str
    label: str
    allowed: Permission | None = None  # None: internal, fired only by the engine's cascades (fire_system)
    guards: tuple[Guard, ...] = ()
    requires_comment: bool = False
    style: str = "primary"
    # The Russian refusal (or a function of the object giving it), when the generic one would not say who may act.
    denied: str | Callable[[Any], str] | None = None
    # Those of `guards` that no one could fix by acting on the page (nobody holds the role a route step needs): a
    # button they refuse is not offered — the page says why instead (withheld_transitions), not after a click.
    offer_guards: tuple[Guard, ...] = ()

    @property
    def internal(self) -> bool:
        return self.allowed is None

    @property
    def roles(self) -> frozenset[str]:
        return self.allowed.roles if self.allowed is not None else frozenset()

    def refusal(self, obj=None) -> str:
        if callable(self.denied):
            return self.denied(obj)
        return self.denied or f"Недостаточно прав для действия «{self.label}»."


@dataclass(frozen=True)
class Separation:
    """Separation of duties: `excluded(obj)` → ids of people who may not fire `triggers` on `obj`."""

    triggers: frozenset[str]
    excluded: Callable[[Any], set[int]]
    reason: str


@dataclass
class Workflow:
    name: str
    object_type: str
    states: dict[str, str]
    styles: dict[str, str]
    initial: str
    transitions: list[TransitionSpec]
    # ON_ENTER: field changes that must land in the same UPDATE as the state (CHECK constraints);
    # AFTER: follow-ups once the change is flushed and audited (tasks, cascaded transitions).
    on_enter: dict[str, Callable[["TransitionContext"], None]]
    after: dict[str, Callable[["TransitionContext"], None]]
    separation: list[Separation]
    machine: Machine = field(repr=False)

    def find(self, trigger: str) -> list[TransitionSpec]:
        return [t for t in self.transitions if t.trigger == trigger]

    def state_label(self, state: str) -> str:
        return self.states.get(state, state)

    def state_style(self, state: str) -> str:
        return self.styles.get(state, "secondary")


@dataclass
class TransitionContext:
    """What effects see: the object, who acts (and for whom), the transition and its data."""

    obj: Any
    actor: Any
    role: str
    spec: TransitionSpec
    source: str
    comment: str | None
    on_behalf_of: Any = None  # the absent person when the actor acts as their deputy
    data: dict = field(default_factory=dict)

    def fire_system(self, obj, trigger: str, **data) -> None:
        """Cascade: fire an internal transition on behalf of the same user action."""
        fire_system(obj, trigger, actor=self.actor, **data)

    def open_task(self, *, kind: str, title: str, assignee, due_date=None) -> None:
        tasks.open_task(self.obj, kind=kind, title=title, assignee=assignee, due_date=due_date)

    def users_with_role(self, org, roles) -> list:
        return users_with_role_at(org, roles)

    def excluded_from(self, trigger: str) -> set[int]:
        """Who the workflow's separation-of-duties rules keep from `trigger` on the object (ids), this transition's
        audit event included: a task asking for that step is not theirs."""
        return {i for rule in workflow_for(self.obj).separation if trigger in rule.triggers
                for i in rule.excluded(self.obj)}


def _guard(fn) -> Guard:
    """Guards take the object, and the transition data when they declare a second parameter."""
    if len(inspect.signature(fn).parameters) >= 2:
        return fn
    return lambda obj, data, _fn=fn: _fn(obj)


def _build(module_name: str) -> Workflow:
    module = importlib.import_module(module_name)
    specs = []
    for t in module.TRANSITIONS:
        source = t["source"]
        allowed = t.get("allowed")
        if allowed is not None and not isinstance(allowed, Permission):
            allowed = has_role(allowed)
        specs.append(TransitionSpec(
            trigger=t["trigger"],
            source=tuple(source) if isinstance(source, (list, tuple)) else (source,),
            dest=t["dest"],
            label=t["label"],
            allowed=allowed,
            guards=tuple(_guard(g) for g in t.get("guards", ())),
            requires_comment=t.get("requires_comment", False),
            style=t.get("style", "primary"),
            denied=t.get("denied"),
            offer_guards=tuple(_guard(g) for g in t.get("offer_guards", ())),
        ))
    machine = Machine(
        model=None,
        states=list(module.STATE_LABELS),
        initial=module.INITIAL,
        transitions=[{"trigger": s.trigger, "source": list(s.source), "dest": s.dest} for s in specs],
        auto_transitions=False,
        send_event=True,
        model_attribute="state",
    )
    separation = [Separation(frozenset(rule["triggers"]), rule["excluded"], rule["reason"])
                  for rule in getattr(module, "SEPARATION_OF_DUTIES", ())]
    return Workflow(module.NAME, module.OBJECT_TYPE, dict(module.STATE_LABELS), dict(module.STATE_STYLES),
                    module.INITIAL, specs, dict(getattr(module, "ON_ENTER", {})), dict(getattr(module, "AFTER", {})),
                    separation, machine)


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


def state_labels(object_type: str) -> dict[str, str]:
    return registry()[object_type].states


def state_styles(object_type: str) -> dict[str, str]:
    wf = registry()[object_type]
    return {state: wf.state_style(state) for state in wf.states}


@dataclass(frozen=True)
class Vocabulary:
    labels: dict[str, str]
    styles: dict[str, str]


def vocabulary(object_type: str) -> Vocabulary:
    """The Russian label and badge style of every state of a workflow (pages, documents, audit, OpenAPI)."""
    wf = registry().get(object_type)
    if wf is None:
        return Vocabulary({}, {})
    return Vocabulary(wf.states, state_styles(object_type))


def state_label_for(object_type: str, state: str) -> str | None:
    wf = registry().get(object_type)
    return wf.states.get(state) if wf is not None else None


def workflow_for(obj) -> Workflow:
    try:
        return registry()[obj.audit_type]
    except (AttributeError, KeyError):
        raise TypeError(f"no workflow declared for {type(obj).__name__}") from None


# --- authority ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Admission:
    """The engine's answer to «may `actor` fire this now?»: the role and the absent person acted for, or why not."""

    role: str | None
    on_behalf_of: Any = None
    refusal: str | None = None

    def __bool__(self) -> bool:
        return self.role is not None


def _excluded(wf: Workflow, spec: TransitionSpec, obj, *people) -> str | None:
    """The reason of the first separation-of-duties rule of `spec` that excludes one of `people` (ids), else None —
    the rule that excludes them, not another rule that only excludes somebody else."""
    wanted = set(people)
    for rule in wf.separation:
        if spec.trigger in rule.triggers and wanted & set(rule.excluded(obj)):
            return rule.reason
    return None


def decide(spec: TransitionSpec, obj, actor, wf: Workflow | None = None) -> Admission:
    """Who may fire `spec` on `obj`: the actor by their own permission, else as the deputy (заместитель) of
    someone they stand in for today who could (the predicate is judged for the absent person). Separation of
    duties excludes the actor, and the absent person they would act for, when either did the conflicting step."""
    if spec.internal or actor is None:
        return Admission(None, refusal=spec.refusal(obj))
    wf = wf or workflow_for(obj)
    role = spec.allowed(obj, actor)
    if role is not None:
        # Permitted, unless they did the conflicting step: then the refusal says why. (Asked only now: finding
        # who did the conflicting step may take a query.)
        reason = _excluded(wf, spec, obj, actor.id)
        return Admission(role) if reason is None else Admission(None, refusal=reason)
    refusal = spec.refusal(obj)
    for absent in hooks.covered_people(actor):
        role = spec.allowed(obj, absent)
        if role is None:
            continue
        reason = _excluded(wf, spec, obj, actor.id, absent.id)
        if reason is not None:
            refusal = reason
            continue
        return Admission(role, absent)
    return Admission(None, refusal=refusal)


def permits(permission: Permission, obj, actor) -> bool:
    """A workflow's permission judged outside a transition (a page or form gated by the same rule), with the same
    deputy resolution as `fire`: the actor, or someone they stand in for today."""
    if actor is None or getattr(actor, "id", None) is None:
        return False
    if permission(obj, actor) is not None:
        return True
    return any(permission(obj, absent) is not None for absent in hooks.covered_people(actor))


def _spec_for(wf: Workflow, obj, trigger: str) -> TransitionSpec:
    candidates = wf.find(trigger)
    if not candidates:
        raise InvalidTransition(f"Неизвестное действие «{trigger}».")
    spec = next((t for t in candidates if obj.state in t.source), None)
    if spec is None:
        raise InvalidTransition(
            # «объект» is the code's word, not the reader's; the usual cause is a page older than the state (another
            # tab, another person), which refreshing shows (walk 18)
            f"Действие «{candidates[0].label}» недоступно: сейчас состояние — «{wf.state_label(obj.state)}». "
            "Обновите страницу, чтобы увидеть доступные действия."
        )
    return spec


def authorize(obj, trigger: str, actor) -> Admission:
    """The decision for `trigger` in the object's current state; raises the Russian refusal when not allowed."""
    wf = workflow_for(obj)
    spec = _spec_for(wf, obj, trigger)
    if spec.internal:
        raise PermissionDenied()
    admission = decide(spec, obj, actor, wf)
    if not admission:
        raise PermissionDenied(admission.refusal or spec.refusal(obj))
    return admission


def can(obj, trigger: str, actor) -> bool:
    """May `actor` (or whom they stand in for) fire `trigger` on `obj` in its current state (guards aside)?"""
    wf = workflow_for(obj)
    return any(obj.state in t.source and bool(decide(t, obj, actor, wf)) for t in wf.find(trigger))


def can_any(obj, actor) -> bool:
    return bool(available_transitions(obj, actor))


def _offer_problems(spec: TransitionSpec, obj) -> list[str]:
    return [problem for guard in spec.offer_guards for problem in guard(obj, {})]


def available_transitions(obj, actor) -> list[TransitionSpec]:
    """Transitions the actor could fire now by permission and state (guards are evaluated on firing), less those
    an offer guard withholds (withheld_transitions)."""
    wf = workflow_for(obj)
    return [t for t in wf.transitions if obj.state in t.source and decide(t, obj, actor, wf)
            and not _offer_problems(t, obj)]


def withheld_transitions(obj, actor) -> list[tuple[TransitionSpec, list[str]]]:
    """The transitions the actor may fire by permission and state that an offer guard withholds, with its Russian
    problems: what the page says in place of the button."""
    wf = workflow_for(obj)
    withheld = []
    for t in wf.transitions:
        if t.offer_guards and obj.state in t.source and decide(t, obj, actor, wf):
            problems = _offer_problems(t, obj)
            if problems:
                withheld.append((t, problems))
    return withheld


def check_guards(obj, trigger: str, **data) -> list[str]:
    """The problems that would stop `trigger` now (empty when it may fire), for showing in the UI."""
    wf = workflow_for(obj)
    spec = next((t for t in wf.find(trigger) if obj.state in t.source), None)
    if spec is None:
        return []
    return [problem for guard in spec.guards for problem in guard(obj, data)]


# --- firing ------------------------------------------------------------------------------------------

def fire(obj, trigger: str, *, actor, comment: str | None = None, expected_version: int | None = None,
         **data) -> TransitionSpec:
    """Fire `trigger` on `obj` for `actor`, with the transition's data as keyword arguments.
    Raises a DomainError with a Russian reason when refused; nothing is changed then."""
    wf = workflow_for(obj)
    spec = _spec_for(wf, obj, trigger)
    if spec.internal:
        raise PermissionDenied()
    admission = decide(spec, obj, actor, wf)
    if not admission:
        raise PermissionDenied(admission.refusal or spec.refusal(obj))
    return _run(wf, spec, obj, actor=actor, role=admission.role, on_behalf_of=admission.on_behalf_of,
                comment=comment, expected_version=expected_version, data=data)


def fire_system(obj, trigger: str, *, actor=None, comment: str | None = None, **data) -> TransitionSpec:
    """Fire an internal transition (a cascade, or a step a service takes on its own): no permission check,
    recorded with the role «system» and `actor` as the user whose action caused it (may be None)."""
    wf = workflow_for(obj)
    spec = _spec_for(wf, obj, trigger)
    if not spec.internal:
        raise PermissionDenied("Это действие выполняет пользователь, а не система.")
    return _run(wf, spec, obj, actor=actor, role=SYSTEM_ROLE, on_behalf_of=None, comment=comment,
                expected_version=None, data=data)


def pin(obj) -> None:
    """Rows hanging off `obj` are about to change on the strength of its state (the scores of a self-assessment or
    an evaluation, allowed only while it is a draft or returned). Their own versions do not see a transition of
    `obj` committed meanwhile, so a save racing a «submit» changed the scores after submission. Pinned, the next
    flush sends UPDATE … WHERE version = :seen for `obj` too; a concurrent winner makes it match nothing (StaleObject).
    """
    flag_modified(obj, "state")


def start(obj, *, actor=None) -> None:
    """A new row in its initial state: open what that state owes (its AFTER effect). No audit event of its own:
    the service's «create» event is the record of the user's action."""
    wf = workflow_for(obj)
    spec = TransitionSpec(trigger="create", source=(obj.state,), dest=obj.state, label="Создание")
    if obj.state in wf.after:
        wf.after[obj.state](TransitionContext(obj, actor, SYSTEM_ROLE, spec, obj.state, None))


def _run(wf: Workflow, spec: TransitionSpec, obj, *, actor, role, on_behalf_of, comment, expected_version,
         data) -> TransitionSpec:
    check_seen(obj.version, expected_version)
    # A browser's maxlength counts a line break as one character and sends it as two (\r\n): counted as sent, a
    # comment the form took would be refused as too long.
    comment = (comment or "").replace("\r\n", "\n").strip() or None
    if spec.requires_comment and not comment:
        raise ValidationFailed(f"Для действия «{spec.label}» обязателен комментарий.")
    if comment and len(comment) > COMMENT_MAX_CHARS:
        raise ValidationFailed(f"Комментарий к действию «{spec.label}» длиннее {COMMENT_MAX_CHARS} символов "
                               f"({len(comment)}); сократите текст — действие не выполнено.")
    problems = [problem for guard in spec.guards for problem in guard(obj, data)]
    if problems:
        raise GuardFailed(f"Действие «{spec.label}» невозможно.", problems=problems)

    source = obj.state
    before = obj.audit_snapshot()
    wf.machine.events[spec.trigger].trigger(obj)
    if obj.state == source:
        # A transition that keeps the state (a route step agreed, the second signer's signature) changes only rows
        # hanging off the object, so no UPDATE of it would be sent and its version would not be checked: two such
        # requests at once both passed (two «cosign» signatures of one edition, one while another request withdrew
        # the document). Marking the state sends the UPDATE … WHERE version = :seen as any other transition does.
        pin(obj)
    ctx = TransitionContext(obj, actor, role, spec, source, comment, on_behalf_of, data)
    if spec.dest in wf.on_enter:
        wf.on_enter[spec.dest](ctx)
    try:
        # Flushing now runs the UPDATE … WHERE version = :seen; a concurrent winner makes it match nothing.
        db.session.flush()
    except StaleDataError:
        raise StaleObject() from None
    chain.record(
        action=spec.trigger, object_type=wf.object_type, object_id=obj.id, actor=actor, actor_role=role,
        cycle_id=obj.audit_cycle_id, organisation_id=obj.organisation.id,
        from_state=source, to_state=obj.state, before=before, after=obj.audit_snapshot(), reason=comment,
        on_behalf_of=on_behalf_of,
    )
    # Whatever was owed in the old state is done (or moot); AFTER opens what the new state owes.
    tasks.close_tasks_for(obj)
    if spec.dest in wf.after:
        wf.after[spec.dest](ctx)
    return spec
