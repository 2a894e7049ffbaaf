"""The feature contract: one `Feature` descriptor per package, discovered the same way for all of them.

Every package under `app/` except the infrastructure ones (`INFRASTRUCTURE`) is a feature and must expose
`FEATURE = Feature(...)` in its `__init__.py`: what it brings to the application (blueprints, CLI groups,
navigation entries with the roles that see them, task kinds, audit vocabulary, stage/cycle page partials,
demo filler, access cases for the access walk, a start-up hook). `discover()` imports every package and
collects the descriptors; `install(app)` wires them into the app and fills the registries below, which the
lower layers (the audit page, the cycle pages, the navigation bar, the demo) read instead of importing the
features. Adding a feature is a new package with its descriptor (and its migration): no central list.

This module holds no business vocabulary: it knows descriptors, never a particular feature.
"""

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Flask, current_app
from flask.cli import AppGroup

from app.core.access import acting_has_role

# Packages under app/ that are layers below the features rather than features: no descriptor.
INFRASTRUCTURE = frozenset({"core", "jobs"})
EVERYONE: frozenset[str] = frozenset()  # navigation roles: an empty set means every signed-in user


@dataclass(frozen=True)
class Mount:
    """A blueprint and where it is mounted."""

    blueprint: Blueprint
    url_prefix: str | None = None
    csrf_exempt: bool = False  # e.g. the token-authenticated API, which has no cookies to protect


@dataclass(frozen=True)
class NavEntry:
    """One item of the navigation bar: in its `group`'s menu (app/core/navigation.py orders the groups), `order`
    placing it among the group's entries. An entry without a group is not in the menus (the bell is drawn
    beside the user menu)."""

    order: int
    label: str
    endpoint: str
    roles: frozenset[str] = EVERYONE  # who sees it (any of these roles, anywhere); empty: every signed-in user
    partial: str | None = None  # a template that renders the item itself (e.g. a counter badge), else a link
    group: str = ""
    args: Callable | None = None  # fn(user) → the endpoint's URL arguments, or None when it does not apply
    also: tuple[str, ...] = ()  # other endpoints that count as this entry (the active group is highlighted)
    # who never sees it: they have the same page as another entry in another group (a page in «Работа» for those
    # whose work it is, and under «Администрирование» for an administrator who also holds such a role)
    except_roles: frozenset[str] = frozenset()

    def visible_to(self, user) -> bool:
        # By the roles a role-gated page admits (the user's own and those of whom they stand in for today), so a
        # deputy is offered the pages they may open (README, «Stand-ins»).
        if self.except_roles and acting_has_role(user, *self.except_roles):
            return False
        return not self.roles or acting_has_role(user, *self.roles)


@dataclass(frozen=True)
class AuditVocabulary:
    """Russian words for the audit pages: actions, object types, states, changed fields."""

    actions: Mapping[str, str] = field(default_factory=dict)
    objects: Mapping[str, str] = field(default_factory=dict)
    states: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[str, str] = field(default_factory=dict)
    object_actions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # object type → action → label
    # Field («kind», or «measure.kind» for one object type) → stored code → Russian word.
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Field → the kind of thing its id(s) or code(s) name («responsible_id» → «user», «findings» → «finding»).
    references: Mapping[str, str] = field(default_factory=dict)
    # Kind → fn(set of ids or codes) → {id or code: (name, url or None)}; one query per page and kind.
    namers: Mapping[str, Callable] = field(default_factory=dict)
    # Object type → fn(user) → ids of objects of that type whose events the user may not read in the audit log
    # (what the feature's own pages withhold from that user, e.g. a self-assessment's draft from its expert).
    withheld: Mapping[str, Callable] = field(default_factory=dict)

    @classmethod
    def of(cls, module) -> "AuditVocabulary":
        """The vocabulary a feature's `labels.py` declares (ACTIONS, OBJECTS, STATES, FIELDS, OBJECT_ACTIONS,
        VALUES, REFERENCES, NAMERS, WITHHELD)."""
        return cls(actions=getattr(module, "ACTIONS", {}), objects=getattr(module, "OBJECTS", {}),
                   states=getattr(module, "STATES", {}), fields=getattr(module, "FIELDS", {}),
                   object_actions=getattr(module, "OBJECT_ACTIONS", {}), values=getattr(module, "VALUES", {}),
                   references=getattr(module, "REFERENCES", {}), namers=getattr(module, "NAMERS", {}),
                   withheld=getattr(module, "WITHHELD", {}))


@dataclass(frozen=True)
class Feature:
    """What one feature package brings. Only `name` is required; everything else defaults to nothing."""

    name: str
    blueprints: tuple[Mount, ...] = ()
    cli: tuple[AppGroup, ...] = ()
    navigation: tuple[NavEntry, ...] = ()
    task_kinds: Mapping[str, str] = field(default_factory=dict)  # task kind → Russian label
    audit: AuditVocabulary = field(default_factory=AuditVocabulary)
    # Page partials by template name: the stage page includes `<feature>/_stage_<CODE>.html` and
    # `<feature>/_stage.html`, the cycle page `<feature>/_cycle.html` (checked to exist at start-up).
    stage_partials: tuple[str, ...] = ()
    cycle_partials: tuple[str, ...] = ()
    # Demo filler: stage code → fn(stage, *, official, head, rng, today); `demo_order` sorts the fillers
    # (documents go last: they are generated from what the others have filled in).
    demo: Mapping[str, Callable] = field(default_factory=dict)
    demo_order: int = 50
    # Dotted name of the module with this feature's knowledge for the access walk (tests/test_access.py).
    access_cases: str | None = None
    # Called once per app before the blueprints are registered: registers the feature into other features'
    # registries (document context providers, hooks), loads view modules that cannot be imported earlier.
    setup: Callable[[Flask], None] | None = None
    order: int = 50  # the order of partials on the pages and of registration


_DISCOVERED: list[Feature] = []
# Transitional: app/tasks/__init__.py is being rewritten on the engine branch; until it re-exports its
# descriptor, the descriptor is read from app/tasks/feature.py. Remove this entry once it does.
_DESCRIPTOR_ELSEWHERE = {"tasks": "app.tasks.feature"}


def discover() -> list[Feature]:
    """Every feature descriptor under app/, in `order` then name; an app/ package without one is an error."""
    if not _DISCOVERED:
        found = []
        for info in pkgutil.iter_modules([str(Path(__file__).resolve().parent.parent)]):
            if not info.ispkg or info.name in INFRASTRUCTURE:
                continue
            module = importlib.import_module(f"app.{info.name}")
            descriptor = getattr(module, "FEATURE", None)
            if descriptor is None and info.name in _DESCRIPTOR_ELSEWHERE:
                descriptor = importlib.import_module(_DESCRIPTOR_ELSEWHERE[info.name]).FEATURE
            if not isinstance(descriptor, Feature):
                raise RuntimeError(f"app/{info.name}/__init__.py declares no FEATURE = Feature(...) "
                                   f"(see README, «Adding a feature»)")
            if descriptor.name != info.name:
                raise RuntimeError(f"app/{info.name}: FEATURE.name is «{descriptor.name}»")
            found.append(descriptor)
        _DISCOVERED.extend(sorted(found, key=lambda f: (f.order, f.name)))
    return list(_DISCOVERED)


def install(app: Flask, csrf=None) -> list[Feature]:
    """Register every feature's blueprints and CLI groups and fill the registries from the descriptors."""
    features = discover()
    for feature in features:
        if feature.setup is not None:
            feature.setup(app)
    for feature in features:
        for mount in feature.blueprints:
            if mount.csrf_exempt and csrf is not None:
                csrf.exempt(mount.blueprint)
            app.register_blueprint(mount.blueprint, url_prefix=mount.url_prefix)
        for group in feature.cli:
            app.cli.add_command(group)
    app.extensions["uko_features"] = features
    return features


def installed() -> list[Feature]:
    """The features of the current app (all of them once `install` ran)."""
    return current_app.extensions.get("uko_features") or discover()


def navigation(user) -> list[NavEntry]:
    """The navigation entries this user sees, in order."""
    entries = [e for f in installed() for e in f.navigation]
    return sorted((e for e in entries if e.visible_to(user)), key=lambda e: e.order)


def _templates() -> frozenset[str]:
    cached = current_app.extensions.get("uko_templates")
    if cached is None:
        cached = frozenset(current_app.jinja_env.list_templates())
        current_app.extensions["uko_templates"] = cached
    return cached


def stage_partials(stage_code: str) -> list[str]:
    """Each feature's part of a stage page: its `_stage_<CODE>.html` partials first, then its `_stage.html`."""
    declared = [p for f in installed() for p in f.stage_partials]
    own = [p for p in declared if p.endswith(f"/_stage_{stage_code}.html")]
    general = [p for p in declared if p.endswith("/_stage.html")]
    return [p for p in own + general if p in _templates()]


def cycle_partials() -> list[str]:
    return [p for f in installed() for p in f.cycle_partials if p in _templates()]


def task_kinds() -> dict[str, str]:
    return {kind: label for f in discover() for kind, label in f.task_kinds.items()}


def demo_fillers(stage_code: str) -> list[Callable]:
    ordered = sorted(discover(), key=lambda f: (f.demo_order, f.order, f.name))
    return [f.demo[stage_code] for f in ordered if stage_code in f.demo]


def audit_vocabularies() -> list[AuditVocabulary]:
    return [f.audit for f in discover()]
