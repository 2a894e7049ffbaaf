"""Audit events in words, for the audit page, the cycle history and their exports.

`present(events)` turns one page of events into rows: the object named and linked («документ «Положение о
МСОКО», ред. 2, № 1-лна»), the cycle, and every changed field with its value through the vocabularies
(labels.py) — states by their workflow's labels, codes by the forms' choices, ids and codes by the names of
what they point to. Names are loaded by kind (NAMERS), one query per kind per page, so a page costs a fixed
number of statements. The people and organisations the audit layer knows itself are named here; the
features name their own objects (their descriptor's `audit` vocabulary).
"""

from collections import defaultdict
from dataclasses import dataclass

from flask import has_request_context, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import aliased, lazyload

from app.audit import labels
from app.auth.forms import UserForm
from app.auth.models import User
from app.auth.roles import ROLES
from app.core.access import can_open
from app.extensions import db
from app.orgs.forms import OrganisationForm
from app.orgs.models import Organisation
from app.orgs.requisites import LABELS as REQUISITE_LABELS

INSTITUTION_KINDS = ("school", "preschool", "additional", "methodical_centre")


@dataclass
class Row:
    event: object
    kind: str  # «документ», «этап»
    name: str | None  # the object's own name, or None when only its kind is known
    url: str | None
    cycle: tuple[str, str | None] | None
    changes: list[tuple[str, str, str]]
    # the words shown in place of the comment and the changes of an object whose title is withheld (WITHHELD_NAME):
    # its stored fields are its content («text» of another municipality's recommendation), as its title is
    withheld: str = ""

    @property
    def reason(self) -> str:
        return self.withheld or self.event.reason or ""


def organisation_label(org: Organisation, parent: Organisation | None) -> str:
    """An institution's name with its municipality («СОШ № 1, ГО Северный»): two municipalities may each have
    a «СОШ № 1»."""
    if parent is not None and org.kind in INSTITUTION_KINDS and parent.kind == "municipality":
        return f"{org.display_name}, {parent.display_name}"
    return org.display_name


def _organisations(where) -> list[tuple[Organisation, str]]:
    parent = aliased(Organisation)
    rows = db.session.execute(select(Organisation, parent).outerjoin(parent, parent.id == Organisation.parent_id)
                                .where(where))
    return [(org, organisation_label(org, up)) for org, up in rows]


def _org_link(org: Organisation, opens) -> str | None:
    # Organisations are named for everyone (their names are public), linked only for a reader their page opens to.
    return url_for("orgs.org_detail", org_id=org.id) if opens is not None and opens(org) else None


def name_organisations(ids) -> dict:
    ids = [i for i in ids if isinstance(i, int)]
    opens = opener()
    return {org.id: (label, _org_link(org, opens))
            for org, label in _organisations(Organisation.id.in_(ids))} if ids else {}


def name_organisation_codes(codes) -> dict:
    codes = [str(c) for c in codes]
    opens = opener()
    return {org.code: (label, _org_link(org, opens))
            for org, label in _organisations(Organisation.code.in_(codes))} if codes else {}


def name_users(ids) -> dict:
    ids = [i for i in ids if isinstance(i, int)]
    if not ids:
        return {}
    users = db.session.scalars(select(User).where(User.id.in_(ids)).options(lazyload(User.roles)))
    return {u.id: (u.short_name, None) for u in users}


def name_role_grants(grants) -> dict:
    """(role, organisation code) pairs of a user's roles: «руководитель ОО (СОШ № 1, ГО Северный)»."""
    orgs = name_organisation_codes({code for _role, code in grants})
    return {(role, code): (f"{labels.lower_first(ROLES.get(role, role))} ({orgs.get(code, (code,))[0]})", None)
            for role, code in grants}


def install() -> None:
    """The audit layer's own words: people, organisations (fields and choices from their forms), roles."""
    for form, object_type in ((OrganisationForm, "organisation"), (UserForm, "user")):
        fields, values = labels.form_vocabulary(form, object_type)
        labels.FIELDS.update(fields)
        for name, words in values.items():
            labels.VALUES.setdefault(name, {}).update(words)
    labels.FIELDS.update({f"organisation.{k}": labels.lower_first(v) for k, v in REQUISITE_LABELS.items()})
    labels.FIELDS.update({"organisation.parent": "вышестоящая организация", "organisation.emblem_sha256": "герб",
                          "organisation.timezone": "часовой пояс"})
    # A role granted or revoked names its organisation by code (auth.services.grant_role): «organisation: DEMO».
    labels.FIELDS.update({"user.organisation": "организация"})
    labels.REFERENCES.update({"organisation.parent": "organisation_code", "roles": "role_grant",
                              "user.organisation": "organisation_code"})
    labels.NAMERS.update({"user": name_users, "organisation": name_organisations,
                          "organisation_code": name_organisation_codes, "role_grant": name_role_grants})


def _wanted(events) -> dict[str, set]:
    wanted: dict[str, set] = defaultdict(set)
    for e in events:
        if e.object_id:
            wanted[e.object_type].add(e.object_id)
        if e.cycle_id:
            wanted["cycle"].add(e.cycle_id)
        for data in (labels.load(e.before), labels.load(e.after)):
            for kind, key in labels.references_of(e.object_type, data):
                wanted[kind].add(key)
    return wanted


def names_for(events) -> dict[str, dict]:
    """kind → {id or code: (name, url)} for everything the events mention, one query per kind."""
    return {kind: labels.NAMERS[kind](keys) for kind, keys in _wanted(events).items() if kind in labels.NAMERS}


def _from_data(event) -> str | None:
    """What the stored fields say about an object that is gone (deleted goals, indicators)."""
    data = labels.load(event.after) or labels.load(event.before)
    for key in ("title", "statement", "name", "code", "source", "login"):
        text = data.get(key)
        if isinstance(text, str) and text:
            return f"«{text[:80]}{'…' if len(text) > 80 else ''}»"
    return None


def present(events) -> list[Row]:
    names = names_for(events)
    rows = []
    for e in events:
        found = names.get(e.object_type, {}).get(e.object_id)
        name, url = found if found else (_from_data(e), None)
        kind = labels.OBJECTS.get(e.object_type) or "объект"
        withheld = labels.WITHHELD_TEXT if found == WITHHELD_NAME else ""
        rows.append(Row(e, kind, name, url, names.get("cycle", {}).get(e.cycle_id),
                        [] if withheld else labels.changes(e, names), withheld))
    return rows


# A target the reader may not open, outside every cycle they read: its kind alone, never its title (present(),
# labels.name_of). A reader who reads the target's cycle reads its objects' titles there, so they stay named.
WITHHELD_NAME = (None, None)


def opener():
    """Whether the reader may open an organisation's objects (access.can_open, what get_in_scope admits), asked once
    an organisation; None outside a signed-in request (a command's export): nothing is linked and nothing withheld."""
    if not has_request_context() or not current_user.is_authenticated:
        return None
    answers: dict[int, bool] = {}

    def opens(org) -> bool:
        if org is None:
            return False
        if org.id not in answers:
            answers[org.id] = can_open(org)
        return answers[org.id]
    return opens


def _owner_opens(row, opens) -> bool:
    return opens(row.organisation)


def _cycle_read(row, opens) -> bool:
    cycle = getattr(row, "cycle", None)
    return cycle is not None and opens(cycle.owner)


def namer(model, label, endpoint: str | None = None, arg: str | None = None, options=(), *, opens=_owner_opens,
          public: bool = False, prepare=None):
    """A NAMERS entry for a feature's model: loads the rows by id in one query (with `options` for everything the
    label, `opens` and the cycle check read — `row.organisation`, `row.cycle.owner`: a property read lazily cost one
    statement per cycle, tens of thousands in an export) and names each by `label(row)`; `prepare(rows)`, if given,
    loads at once what `options` cannot reach (a document's owner of another feature) and returns it. It links
    `endpoint` only when the reader may open the row — `opens(row, by_organisation)`, by default its owner
    organisation (`row.organisation`, what get_in_scope checks); a feature whose page checks more passes its own.
    A row the reader may not open is still named when its cycle is one the reader reads, or when its names are
    `public` (a cycle's mechanism and period, a stage's title); otherwise only its kind is shown (WITHHELD_NAME)."""
    def name(ids) -> dict:
        ids = [i for i in ids if isinstance(i, int)]
        if not ids:
            return {}
        rows = list(db.session.scalars(select(model).where(model.id.in_(ids)).options(*options)))
        # what `prepare` loaded is held while the rows are checked (the session keeps its objects weakly)
        held = prepare(rows) if prepare is not None else None  # noqa: F841
        by_organisation = opener()
        names = {}
        for row in rows:
            may = by_organisation is not None and opens(row, by_organisation)
            if may or public or by_organisation is None or _cycle_read(row, by_organisation):
                names[row.id] = (label(row), url_for(endpoint, **{arg: row.id}) if endpoint and may else None)
            else:
                names[row.id] = WITHHELD_NAME
        return names
    return name


def quoted(text: str | None, limit: int = 80) -> str:
    text = " ".join((text or "").split())
    return f"«{text[:limit].rstrip()}{'…' if len(text) > limit else ''}»"
