"""Owners of documents other than a cycle's stage.

A higher feature (the assessment of municipal mechanisms: its campaign, a municipality of it) makes documents through
this feature — the same catalogue, templates, approval, signature, registration and journals — without this package
importing it: at start-up it registers an `OwnerKind` under the owner's audit_type, which says how to load the owner,
which organisation issues its documents, how to name it and by when its tasks are due, and which builder makes the
template context of each of its types (same contract as app/documents/contexts.py: plain primitives only).

A document of an owner stores owner_type/owner_id and the issuing organisation (Document.organisation), whose journals
number it and whose subtree reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Callable


@dataclass(frozen=True)
class OwnerKind:
    """How this feature reaches one kind of owner (see the module docstring)."""

    owner_type: str
    load: Callable[[int], object | None]               # owner id → the owner, or None
    issuer: Callable[[object], object]                 # owner → the Organisation issuing its documents
    title: Callable[[object], str]                     # owner → short words for task titles («кампания …»)
    due: Callable[[object], date | None]               # owner → the deadline of the tasks about its documents
    url: Callable[[object], str]                       # owner → the page the document page links back to
    # type key → fn(dtype, owner, ctx, *, params) → the type's own variables (the requisites are in ctx already)
    builders: dict[str, Callable] = field(default_factory=dict)
    # owner → the signer (a User) the requisites name before the document is signed, or None for the default
    signer: Callable[[object, object], object | None] | None = None
    # owner → the executor (a User) of the executor mark, or None for the signer
    executor: Callable[[object], object | None] | None = None
    # () → an owner to render a draft of each type from (the linter renders one of every type), or None
    sample: Callable[[], object | None] | None = None
    # owner → the organisation its documents are about when it is not the issuer (an expert's conclusion on one
    # municipality, issued by the region): a reader must also hold a role over it, so that a role valid at the
    # issuer only for its own objects (a regional expert's) does not open conclusions on others' municipalities
    subject: Callable[[object], object] | None = None
    # type key → fn(doc) → why the document's current edition no longer reports its owner's data (Russian lines, empty
    # when it does): the page marks such an edition as out of date and asks for a new one
    outdated: dict[str, Callable[[object], list[str]]] = field(default_factory=dict)
    # owner ids → those owners in one statement, with what `subject` reads (a page of the history names the documents
    # of many owners: `load` costs a statement each); None when the kind has no batch loader (`load` each)
    load_many: Callable[[list[int]], list] | None = None


_KINDS: dict[str, OwnerKind] = {}


def register_owner(kind: OwnerKind) -> None:
    """Declare an owner kind (idempotent: the factory may build several applications in one process)."""
    _KINDS[kind.owner_type] = kind


def kind_of(owner_type: str) -> OwnerKind:
    try:
        return _KINDS[owner_type]
    except KeyError:
        raise LookupError(f"no document owner kind {owner_type!r} is registered") from None


def kinds() -> dict[str, OwnerKind]:
    return dict(_KINDS)


def owner_of(doc):
    if doc.owner_type is None:
        return None
    return kind_of(doc.owner_type).load(doc.owner_id)


def load_owners(docs) -> list:
    """The owners of `docs` (None among them allowed) loaded at once: one `load_many` per owner kind, whatever the
    number of documents. The caller holds the list while it reads them: `owner_of` then finds each in the session."""
    wanted: dict[str, set[int]] = {}
    for doc in docs:
        if doc is not None and doc.owner_type is not None:
            wanted.setdefault(doc.owner_type, set()).add(doc.owner_id)
    loaded: list = []
    for owner_type, ids in wanted.items():
        kind = kind_of(owner_type)
        ids = sorted(ids)
        loaded += kind.load_many(ids) if kind.load_many else [kind.load(i) for i in ids]
    return loaded


def subject_of(doc):
    """The organisation `doc` is about when its owner kind names one apart from the issuer, else None."""
    if doc.owner_type is None:
        return None
    kind = kind_of(doc.owner_type)
    return kind.subject(owner_of(doc)) if kind.subject else None


def named_signer(kind: OwnerKind, dtype, owner):
    """The person the owner kind names as the signer of `dtype` (only they, or their deputy, sign), or None."""
    return kind.signer(dtype, owner) if kind.signer else None


def outdated(doc) -> list[str]:
    """Why `doc`'s current edition is out of date with its owner's data (its owner kind's check), or []."""
    if doc.owner_type is None or doc.current is None or doc.current.status != "done":
        return []
    check = kind_of(doc.owner_type).outdated.get(doc.type_key)
    return check(doc) if check else []


def subject_title(doc) -> str:
    return kind_of(doc.owner_type).title(owner_of(doc))


def due_date(doc):
    return kind_of(doc.owner_type).due(owner_of(doc))


def owner_url(doc) -> str:
    return kind_of(doc.owner_type).url(owner_of(doc))
