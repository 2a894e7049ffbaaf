"""Organisation pickers as a tree: the choices of a form grouped region → municipality → institutions.

`org_tree(ids)` (a template global) takes the organisation ids a form offers and answers the groups to draw:
one per municipality (its institutions under it, the municipality itself first when it is offered) and one
for what lies outside every municipality (the region, its centres). Each choice carries the municipality in
its full label («СОШ № 1, ГО Северный»), so two schools of the same name in two municipalities stay apart
for a screen reader and for the picker's search. Two queries, whatever the number of choices.
"""

from dataclasses import dataclass, field

from sqlalchemy import select

from app.core.checks import form_int
from app.core.russian import sort_key
from app.extensions import db
from app.orgs.models import Organisation


@dataclass
class Choice:
    id: int
    name: str  # as shown inside its group
    context: str = ""  # the municipality, said to assistive technology and searched, not shown twice
    own_group: bool = False  # the group's own organisation (a municipality offered with its institutions)

    @property
    def full(self) -> str:
        return f"{self.name}, {self.context}" if self.context else self.name


@dataclass
class Group:
    label: str
    choices: list[Choice] = field(default_factory=list)


def _ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


def org_tree(ids) -> list[Group]:
    ids = [form_int(i) for i in ids if form_int(i) is not None]
    if not ids:
        return []
    orgs = db.session.scalars(select(Organisation).where(Organisation.id.in_(ids))).all()
    ancestors = {a for o in orgs for a in _ids(o.path)} - {o.id for o in orgs}
    known = {o.id: o for o in orgs}
    if ancestors:
        known.update({o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(ancestors)))})
    groups: dict[int | None, Group] = {}
    outside = None
    for org in sorted(orgs, key=lambda o: o.path):
        municipality = next((known[a] for a in _ids(org.path) if a in known and known[a].kind == "municipality"),
                            None)
        if municipality is None:
            if outside is None:
                region = next((known[a] for a in _ids(org.path) if a in known and known[a].kind == "region"), org)
                outside = groups.setdefault(None, Group(region.display_name))
            outside.choices.append(Choice(org.id, org.display_name, own_group=org.kind == "region"))
            continue
        group = groups.setdefault(municipality.id, Group(municipality.display_name))
        if org.id == municipality.id:
            group.choices.insert(0, Choice(org.id, f"{org.display_name} — вся подведомственная сеть", own_group=True))
        else:
            group.choices.append(Choice(org.id, org.display_name, municipality.display_name))
    for group in groups.values():
        own = [c for c in group.choices if c.own_group]
        group.choices = own + sorted((c for c in group.choices if not c.own_group), key=lambda c: sort_key(c.name))
    ordered = [groups[None]] if None in groups else []
    return ordered + sorted((g for k, g in groups.items() if k is not None), key=lambda g: sort_key(g.label))
