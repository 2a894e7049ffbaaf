"""Operations on cycle documents. They change state through the workflow engine, flush, write the audit
event and register jobs after commit; they never commit.

    generate_document(stage, type_key, *, actor, addressee=None, params=None, data_request=None) -> Document
    transition(doc, trigger, *, actor, comment=None, expected_version=None)
    decide_step(doc, decision, *, actor, comment=None, expected_version=None)   # the current route step
    sign_document(doc, *, actor, password, expected_version=None) -> Signature
    acknowledge(version, *, actor, password) -> Signature                       # «ознакомлен»
    verify_version(version) -> Verification                                    # signed file + registered copy
    attach_signed_copy(version, *, stream, filename, kind, actor) -> Attachment
"""

import uuid

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.audit import chain
from app.auth.roles import EDITORS
from app.core.access import acting_roles_over
from app.core.checks import check_version, require_role
from app.core.errors import DomainError, PermissionDenied, ValidationFailed
from app.core.russian import sort_key
from app.cycles.models import Cycle, Stage
from app.documents import contexts, invited, owners
from app.documents.attachments import attach
from app.documents.catalogue import DocumentType, document_types, get_type, types_for_stage, types_of_owner
from app.documents.jobs import INTERNAL_ERROR, JOB_TIMEOUT, STALLED_REASON, produce_inline  # noqa: F401 - JOB_TIMEOUT for callers
from app.documents.models import ONE_PER_CYCLE_TYPES, Document, DocumentVersion, Signature
from app.documents.owned import build_owned_context
from app.documents.storage import (  # noqa: F401
    Verification,
    download_name,
    file_sha256,
    registered_download_name,
    registered_path,
    storage_root,
    verify_registered,
    verify_signed,
    verify_version,
    version_path,
)
from app.extensions import db
from app.imports.services import clean_filename
from app.jobs import registry
from app.jobs.tracked import enqueue_tracked, reconcile_rows
from app.orgs.models import Organisation
from workflows import engine
from workflows.document import ACKNOWLEDGERS, awaits_cosignature
from workflows.stage import documents_frozen
from app.auth.services import ReauthRefused, ReauthThrottled, verify_password_reentry

# A version waits «в очереди» or «формируется» until its job stores the file. When the job is gone (its worker was
# killed, Redis lost it, the web process running an inline job died) the reconciler of app.jobs.tracked sends it
# again or fails it with STALLED_REASON, periodically and on the spot when someone generates the document again:
# since the letters of one click render 25 to a job, one lost job would otherwise strand 25 letters.
registry.register(registry.TrackedKind(
    name="document_version", model=DocumentVersion, job="app.documents.jobs.generate_versions", batch=True,
    label="формирование документа", lost=STALLED_REASON, internal_error=INTERNAL_ERROR, message="error",
    on_claim=lambda: {"progress": 10}, on_fail=lambda: {"progress": 100}))
registry.register(registry.TrackedKind(
    name="registered_copy", model=DocumentVersion, job="app.documents.jobs.generate_registered_copy",
    label="зарегистрированный экземпляр", status="registered_status", message="registered_error",
    job_id_column=None, internal_error=INTERNAL_ERROR,
    lost="Изготовление прервано: задание не завершилось (фоновый процесс был остановлен). Сообщите администратору "
         "номер документа."))
# Letters of one click rendered per job: the batch shares one claim, load and commit (see jobs.generate_versions)
# and becomes ready together, well under a second for letters.
GENERATION_BATCH = 25
# The status of an edition (редакция, feminine): «Редакция 1 сформирована», the column «Редакция»: «2 сформирована».
GENERATION_STATUSES = {"queued": "в очереди", "running": "формируется", "done": "сформирована", "failed": "ошибка"}
# Triggers a user fires from the document page with the plain transition form (sign has its own form with the
# password; approve/return on a route step go through decide_step; revise happens by generating anew).
PAGE_TRIGGERS = ("to_approval", "to_signature", "withdraw", "register", "publish", "return", "agree")
ADDRESSEE_KINDS = ("school", "preschool", "additional", "methodical_centre")


class SigningRefused(PermissionDenied):
    """A refused signing attempt: the refusal itself is audited, so the caller commits (nothing else changed)."""

    def __init__(self, message: str):
        DomainError.__init__(self, message)


# --- reading -------------------------------------------------------------------------------------

def documents_of_stage(stage) -> list[Document]:
    """The stage's documents, with the cycle's one document of a type that evidences this stage and others
    (the перечень made on «Показатели» is also the document of «Методы»)."""
    where = Document.stage_id == stage.id
    spanning = [t.key for t in types_for_stage(stage.code) if t.one_per_cycle and stage.code in t.mandatory_for]
    if spanning:
        where = or_(where, and_(Document.type_key.in_(spanning), Document.stage_id.in_(
            select(Stage.id).where(Stage.cycle_id == stage.cycle_id))))
    return list(db.session.scalars(select(Document).where(where)
                                   .order_by(Document.type_key, Document.addressee_id, Document.id)))


def _same_document_stages(stage, doc_type: DocumentType):
    """The stage ids where the stage's document of `doc_type` may stand: the stage itself, or for a type that is
    one per cycle (DocumentType.one_per_cycle) every stage of the cycle it is mandatory for."""
    if doc_type.one_per_cycle and stage.code in doc_type.mandatory_for:
        return select(Stage.id).where(Stage.cycle_id == stage.cycle_id, Stage.code.in_(doc_type.mandatory_for))
    return [stage.id]


def find_document(stage, type_key: str, *, addressee=None, data_request=None) -> Document | None:
    query = select(Document).where(Document.stage_id.in_(_same_document_stages(stage, get_type(type_key))),
                                   Document.type_key == type_key)
    query = query.where(Document.addressee_id == addressee.id if addressee is not None
                        else Document.addressee_id.is_(None))
    query = query.where(Document.data_request_id == data_request.id if data_request is not None
                        else Document.data_request_id.is_(None))
    return db.session.scalars(query.order_by(Document.id)).first()


# Acts an organisation keeps once per track and period: the положение of a track's system is one document with
# editions, never a second one made from another stage (a catalogue may list the type for several stages); the
# database index uq_documents_cycle_one_per_cycle holds it when two stages make it at the same moment.
ONE_PER_TRACK_PERIOD = frozenset(ONE_PER_CYCLE_TYPES)


def _check_one_per_track_period(stage, doc_type: DocumentType, existing: Document | None) -> None:
    """Refuse a second live document of a ONE_PER_TRACK_PERIOD type for the cycle's owner, track and period."""
    if doc_type.key not in ONE_PER_TRACK_PERIOD:
        return
    cycle = stage.cycle
    query = (select(Document).join(Cycle, Cycle.id == Document.cycle_id)
             .where(Document.type_key == doc_type.key, Cycle.track_id == cycle.track_id,
                    Cycle.owner_id == cycle.owner_id, Cycle.period == cycle.period))
    if existing is not None:
        query = query.where(Document.id != existing.id)
    other = db.session.scalars(query.order_by(Document.id)).first()
    if other is not None:
        state = engine.workflow_for(other).state_label(other.state)
        raise ValidationFailed(
            f"Документ «{doc_type.title}» для этого направления на {cycle.period} учебный год уже есть "
            f"(этап «{other.stage.title}», {state}). Второе положение не создаётся: измените существующее — "
            "сформируйте его новую редакцию.")


def addressee_choices(owner: Organisation) -> list[Organisation]:
    """Organisations a per-addressee document may be addressed to: institutions in the owner's subtree, in the order
    of the names the list shows, numbers by value (by the full names «СОШ № 10» came before «СОШ № 1»)."""
    return sorted(db.session.scalars(select(Organisation).where(
        Organisation.in_subtree_of(owner), Organisation.id != owner.id, Organisation.kind.in_(ADDRESSEE_KINDS))),
        key=lambda o: (sort_key(o.display_name), o.id))


def can_edit(user, doc_or_stage) -> bool:
    return bool(acting_roles_over(user, doc_or_stage.organisation) & EDITORS)


# --- generation ----------------------------------------------------------------------------------

def _title(doc_type: DocumentType, addressee, data_request, level: str | None = None) -> str:
    """The document's title: its type's at the cycle owner's level (`level_titles`), with its addressee or request."""
    title = doc_type.title_for(level)
    if addressee is not None:
        return f"{title} — {addressee.display_name}"[:500]
    if data_request is not None:
        return f"{title} — «{data_request.title}»"[:500]
    return title


def _check_subject(stage, doc_type: DocumentType, addressee, data_request) -> None:
    if stage.cycle.state != "open":
        # A closed cycle's evidence is what it was closed with: no new document, no new edition of a registered one.
        raise ValidationFailed("Цикл закрыт: документы его этапов больше не формируются и не переиздаются.")
    if stage.code not in doc_type.stages:
        raise ValidationFailed(f"Документ «{doc_type.title}» не относится к этапу «{stage.title}».")
    if stage.state == "waiting":
        raise ValidationFailed(f"Этап «{stage.title}» ещё не открыт: документы по нему формировать рано.")
    if frozen := documents_frozen(stage):
        raise ValidationFailed(frozen[0])
    if doc_type.per_addressee:
        if addressee is None:
            raise ValidationFailed(f"Для документа «{doc_type.title}» выберите адресата.")
        if not addressee.is_within(stage.organisation):
            raise ValidationFailed("Адресат должен быть организацией владельца цикла или подведомственной ему.")
    elif addressee is not None:
        raise ValidationFailed(f"Документ «{doc_type.title}» не составляется отдельно для каждого адресата.")
    if doc_type.subject == "data_request":
        if data_request is None:
            raise ValidationFailed(f"Для документа «{doc_type.title}» выберите запрос сведений.")
        if data_request.cycle_id != stage.cycle_id:
            raise ValidationFailed("Запрос сведений относится к другому циклу.")
    elif data_request is not None:
        raise ValidationFailed(f"Документ «{doc_type.title}» не относится к запросу сведений.")


def check_context(doc_type: DocumentType, stage, *, addressee=None, params=None, data_request=None,
                  version=None) -> dict:
    """Build the template context now, so missing data is refused with the list of what is missing."""
    params = dict(params or {})
    if data_request is not None:
        params.setdefault("data_request_id", data_request.id)
    return contexts.build_context(doc_type.key, stage, addressee=addressee, params=params, version=version)


def generate_document(stage, type_key: str, *, actor, addressee=None, params=None, data_request=None,
                      validate: bool = True, inline: bool = False) -> Document:
    """Create the stage's document of `type_key` (or a new version of the existing one) and enqueue its
    generation after commit. A signed version is never touched: the document returns to draft with a new
    version. Refused while the document is on approval or awaiting signature (withdraw it first).
    `inline=True` (demo data) renders right away in the caller's transaction instead of enqueueing the job."""
    doc_type = get_type(type_key)
    role = require_role(actor, stage.organisation, EDITORS, "Недостаточно прав для подготовки документов этапа.")
    _check_subject(stage, doc_type, addressee, data_request)
    doc = find_document(stage, type_key, addressee=addressee, data_request=data_request)
    # A document of two stages (the перечень: IND and METH, run in parallel) is frozen by its own stage's review too:
    # from the other stage's page it got a new edition while the approver read it (review of walk 19).
    if doc is not None and doc.stage is not None and doc.stage.id != stage.id and (
            frozen := documents_frozen(doc.stage)):
        raise ValidationFailed(frozen[0])
    _check_one_per_track_period(stage, doc_type, doc)
    number = _next_edition(doc)
    params = _carried_over(doc_type, doc, params)
    if validate:
        check_context(doc_type, stage, addressee=addressee, params=params, data_request=data_request,
                      version={"number": number})
    if doc is None:
        doc = _new_documents(stage, doc_type, [(addressee, data_request)], actor=actor, role=role)[0]
    return _new_version(stage.organisation, doc, number, actor=actor, role=role, params=params,
                        data_request=data_request, inline=inline)


def _carried_over(doc_type: DocumentType, doc: Document | None, params: dict | None) -> dict | None:
    """`params` with what the official typed for the current edition and does not give anew (those invited to a
    protocol's meeting): a new edition made without the form's box (from the stage's decisions, by a script) kept
    nothing of them."""
    current = (doc.current.params or {}) if doc is not None and doc.current is not None else {}
    if invited.PARAM in (params or {}) or invited.PARAM not in current or not invited.asks_invited(doc_type.key):
        return params
    return {**(params or {}), invited.PARAM: current[invited.PARAM]}


def _next_edition(doc: Document | None) -> int:
    """The number of the edition to make of `doc` (1 for a new document); refused while the document is on its
    route or its last edition is still being made."""
    if doc is None:
        return 1
    if doc.state in ("on_approval", "awaiting_signature"):
        raise ValidationFailed(f"Документ «{doc.title}» {engine.workflow_for(doc).state_label(doc.state)}: "
                               "чтобы изменить его, сначала отзовите его или верните на доработку.")
    if doc.current is not None and doc.current.status in ("queued", "running") and not _stalled(doc.current):
        raise ValidationFailed(f"Документ «{doc.title}» уже формируется: дождитесь окончания.")
    return doc.current.number + 1 if doc.current is not None else 1


def _stalled(version: DocumentVersion) -> bool:
    """The version's generation job is over or gone (see stalled.py): it is failed now and may be replaced
    (a version whose job Redis forgot is enqueued again and keeps waiting)."""
    return bool(reconcile_rows("document_version", [version]).failed)


def _new_documents(stage, doc_type: DocumentType, subjects, *, actor, role: str) -> list[Document]:
    """Create draft documents of the type for `subjects` [(addressee, data_request)] in one flush, each with
    its «create» audit event. Flushes, never commits."""
    docs = [Document(cycle_id=stage.cycle_id, stage_id=stage.id, type_key=doc_type.key,
                     addressee_id=addressee.id if addressee is not None else None,
                     data_request_id=data_request.id if data_request is not None else None,
                     title=_title(doc_type, addressee, data_request, stage.cycle.owner.level), state="draft",
                     created_by_id=actor.id,
                     versions=[])  # new: no lazy load of the (empty) editions when the first is appended
            for addressee, data_request in subjects]
    try:
        with db.session.begin_nested():  # the partial unique indexes: one document per stage/type/addressee
            db.session.add_all(docs)
            db.session.flush()
    except IntegrityError:
        if doc_type.key in ONE_PER_TRACK_PERIOD:
            raise ValidationFailed(
                f"Документ «{doc_type.title}» для этого направления на {stage.cycle.period} учебный год уже создан "
                "одновременно с вами (второй не создан): обновите страницу и сформируйте новую редакцию "
                "существующего.") from None
        title = docs[0].title if len(docs) == 1 else f"«{doc_type.title}»"
        what = f"Документ «{title}» уже создан" if len(docs) == 1 else f"Документы {title} уже созданы"
        raise ValidationFailed(f"{what} одновременно с вами: обновите страницу этапа и откройте "
                               f"{'его' if len(docs) == 1 else 'их'} (второй экземпляр не создан).") from None
    chain.record_many([dict(action="create", object_type="document", object_id=doc.id, actor=actor,
                            actor_role=role, cycle_id=doc.cycle_id, organisation_id=stage.organisation.id,
                            to_state=doc.state, after=doc.audit_snapshot()) for doc in docs])
    return docs


def _add_version(org, doc: Document, number: int, *, actor, role: str, params=None, data_request=None,
                 job_id: str | None = None) -> tuple[DocumentVersion, dict]:
    """Append edition `number` (queued) to `doc` (no flush); the version and its «generate» audit entry."""
    stored_params = dict(params or {})
    if data_request is not None:
        stored_params["data_request_id"] = data_request.id
    version = DocumentVersion(number=number, status="queued", progress=0, rq_job_id=job_id or uuid.uuid4().hex,
                              params=stored_params or None, created_by_id=actor.id)
    doc.versions.append(version)
    return version, dict(action="generate", object_type="document", object_id=doc.id, actor=actor, actor_role=role,
                         cycle_id=doc.cycle_id, organisation_id=org.id,
                         after={"edition": number, "type_key": doc.type_key, "params": stored_params or None})


def _new_version(org, doc: Document, number: int, *, actor, role: str, params=None, data_request=None,
                 inline: bool = False) -> Document:
    """Append edition `number` (queued) to `doc`, audit it and enqueue its generation (or render it now)."""
    version, audit = _add_version(org, doc, number, actor=actor, role=role, params=params,
                                  data_request=data_request)
    db.session.flush()
    if doc.state in ("signed", "registered", "published"):
        engine.fire(doc, "revise", actor=actor)
    chain.record(**audit)

    if inline:
        produce_inline(version)
        return doc
    enqueue_tracked("document_version", [version.id], job_id=version.rq_job_id)
    return doc


def _first_versions(stage, docs: list[Document], *, actor, role: str) -> None:
    """The first edition of each of the new `docs` (one flush, the «generate» events in one append), their
    generation enqueued in batches of GENERATION_BATCH, one job each."""
    batches, audit = [], []
    for start in range(0, len(docs), GENERATION_BATCH):
        job_id = uuid.uuid4().hex
        added = [_add_version(stage.organisation, doc, 1, actor=actor, role=role, job_id=job_id)
                 for doc in docs[start:start + GENERATION_BATCH]]
        batches.append((job_id, [version for version, _ in added]))
        audit += [entry for _, entry in added]
    db.session.flush()
    chain.record_many(audit)
    for job_id, versions in batches:
        enqueue_tracked("document_version", [v.id for v in versions], job_id=job_id)


# --- documents of an owner other than a stage (app/documents/owners.py) ------------------------------------

def documents_of_owner(owner) -> list[Document]:
    """The documents `owner` (an object with audit_type and id) owns, in catalogue order of their types."""
    order = {t.key: n for n, t in enumerate(types_of_owner(owner.audit_type))}
    docs = db.session.scalars(select(Document).where(Document.owner_type == owner.audit_type,
                                                     Document.owner_id == owner.id)
                              .options(selectinload(Document.versions)))
    return sorted(docs, key=lambda d: (order.get(d.type_key, len(order)), d.id))


def find_owned(owner, type_key: str) -> Document | None:
    return db.session.scalar(select(Document).where(
        Document.owner_type == owner.audit_type, Document.owner_id == owner.id, Document.type_key == type_key))


def generate_for_owner(owner, type_key: str, *, actor, params=None, validate: bool = True,
                       inline: bool = False) -> Document:
    """Create the owner's document of `type_key` (or a new edition of it) and enqueue its generation after commit:
    the same rules as generate_document, the issuing organisation's editors make it."""
    doc_type = get_type(type_key)
    if doc_type.owner != owner.audit_type:
        raise ValidationFailed(f"Документ «{doc_type.title}» здесь не составляется.")
    org = owners.kind_of(doc_type.owner).issuer(owner)
    role = require_role(actor, org, EDITORS, "Недостаточно прав для подготовки документа.")
    doc = find_owned(owner, type_key)
    number = _next_edition(doc)
    if validate:
        build_owned_context(type_key, owner, params=params, version={"number": number})
    if doc is None:
        subject = owners.kind_of(doc_type.owner).title(owner)
        doc = Document(owner_type=owner.audit_type, owner_id=owner.id, organisation_id=org.id, type_key=type_key,
                       title=f"{doc_type.title} — {subject}"[:500], state="draft", created_by_id=actor.id,
                       versions=[])
        try:
            with db.session.begin_nested():  # uq_documents_owner_type: one document per owner and type
                db.session.add(doc)
                db.session.flush()
        except IntegrityError:
            raise ValidationFailed(f"Документ «{doc.title}» уже создан одновременно с вами: обновите страницу "
                                   "и откройте его (второй экземпляр не создан).") from None
        chain.record(action="create", object_type="document", object_id=doc.id, actor=actor, actor_role=role,
                     organisation_id=org.id, to_state=doc.state, after=doc.audit_snapshot())
    return _new_version(org, doc, number, actor=actor, role=role, params=params, inline=inline)


def regenerate(doc: Document, *, actor, params=None) -> Document:
    """A new edition of `doc` from today's data, whoever owns it."""
    if doc.owner_type is not None:
        return generate_for_owner(doc.owner, doc.type_key, actor=actor, params=params)
    return generate_document(doc.stage, doc.type_key, actor=actor, addressee=doc.addressee, params=params,
                             data_request=doc.data_request)


# Where a stage's per-addressee letters go, as the feature that owns the addressees says: fn(stage) → organisation
# ids in that feature's order. The follow-up feature sets it at start-up (its recommendations' addressees).
_addressee_sources: list = []


def use_addressee_source(source) -> None:
    if source not in _addressee_sources:
        _addressee_sources.append(source)


def recommendation_addressee_ids(stage) -> list[int]:
    return list(dict.fromkeys(i for source in _addressee_sources for i in source(stage)))


def recommendation_addressees(stage) -> list[Organisation]:
    """The organisations the cycle's addressed recommendations go to, by name."""
    ids = recommendation_addressee_ids(stage)
    if not ids:
        return []
    return list(db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)))


def generate_for_addressees(stage, type_key: str, *, actor, addressees) -> list[Document]:
    """One document per addressee that has none yet (a per-addressee type); all or nothing: if the data of
    one addressee is missing, nothing is generated and every problem is listed."""
    doc_type = get_type(type_key)
    if not doc_type.per_addressee:
        raise ValidationFailed(f"Документ «{doc_type.title}» не составляется отдельно для каждого адресата.")
    have = set(db.session.scalars(select(Document.addressee_id).where(
        Document.stage_id == stage.id, Document.type_key == type_key, Document.addressee_id.is_not(None),
        Document.data_request_id.is_(None))))  # one query instead of one per addressee
    missing = [org for org in addressees if org.id not in have]
    if not missing:
        raise ValidationFailed("Документы уже сформированы для всех адресатов.")
    role = require_role(actor, stage.organisation, EDITORS, "Недостаточно прав для подготовки документов этапа.")
    for org in missing:
        _check_subject(stage, doc_type, org, None)

    problems = []
    with contexts.shared_lookups():
        contexts.prepare_addressees(type_key, stage, missing)  # no query per addressee
        for org in missing:
            try:
                check_context(doc_type, stage, addressee=org, version={"number": 1})
            except ValidationFailed as exc:
                problems.extend(f"{org.display_name}: {p}" for p in (exc.problems or [exc.message]))
    if problems:
        raise ValidationFailed(f"Документы «{doc_type.title}» не сформированы: не хватает данных.", problems=problems)
    docs = _new_documents(stage, doc_type, [(org, None) for org in missing], actor=actor, role=role)
    _first_versions(stage, docs, actor=actor, role=role)
    return docs


# --- workflow ------------------------------------------------------------------------------------

def transition(doc: Document, trigger: str, *, actor, comment: str | None = None,
               expected_version: int | None = None) -> None:
    """Fire a page trigger; the engine decides who may (the route step's approver, the signer, an editor…)."""
    if trigger not in PAGE_TRIGGERS:
        raise ValidationFailed("Это действие выполняется не здесь.")
    engine.fire(doc, trigger, actor=actor, comment=comment, expected_version=expected_version)


def decide_step(doc: Document, decision: str, *, actor, comment: str | None = None,
                expected_version: int | None = None) -> None:
    """The current route step's approver approves (comment optional) or returns (comment required)."""
    check_version(doc, expected_version)
    if doc.state != "on_approval":
        raise ValidationFailed("Документ не находится на согласовании.")
    engine.fire(doc, "agree" if decision == "approved" else "return", actor=actor, comment=comment,
                expected_version=expected_version)


def _refuse(doc, version, *, actor, reason: str, action: str = "sign_refused"):
    chain.record(action=action, object_type="document", object_id=doc.id, actor=actor,
                 actor_role=sorted(actor.roles_over(doc.organisation))[0] if actor.roles_over(doc.organisation)
                 else None, cycle_id=doc.cycle_id, organisation_id=doc.organisation.id,
                 after={"edition": version.number if version else None}, reason=reason)
    return SigningRefused(reason)


def _reenter_password(doc, version, actor, password, *, purpose: str, action: str, wrong: str, locked: str) -> None:
    """The password re-entry of a signature, under the log-in throttle: a wrong password is refused and audited;
    past the limit the signature is locked for the throttling window (429), even with the right password."""

    try:
        verify_password_reentry(actor, password, purpose=purpose, message=wrong, audit=False)
    except ReauthThrottled as exc:
        refusal = _refuse(doc, version, actor=actor, reason=f"{locked} Повторите через {exc.minutes} мин.",
                          action=action)
        refusal.status_code = exc.status_code
        raise refusal from None
    except ReauthRefused:
        raise _refuse(doc, version, actor=actor, reason=wrong, action=action) from None


def sign_document(doc: Document, *, actor, password: str, expected_version: int | None = None) -> Signature:
    """The signer re-enters the password; the signature keeps name, position, meaning, time and the SHA-256 of
    the exact file. A wrong password is refused and the refusal audited (the caller commits the audit row)."""
    check_version(doc, expected_version)
    if doc.state != "awaiting_signature":
        state = engine.workflow_for(doc).state_label(doc.state)
        raise ValidationFailed(f"Документ не ожидает подписи (состояние: «{state}»).")
    # The second signer named in the edition (the protocol's secretary) signs with the same form; everyone else
    # signs as the signer (whose guard waits for the second signature).
    trigger = "cosign" if awaits_cosignature(doc) and engine.can(doc, "cosign", actor) else "sign"
    engine.authorize(doc, trigger, actor)  # before the password: who may sign, and separation of duties
    version = doc.current
    _reenter_password(doc, version, actor, password, purpose="sign", action="sign_refused",
                      wrong="Подпись не выполнена: неверный пароль.",
                      locked="Подпись заблокирована: слишком много неверных вводов пароля.")
    check = verify_version(version)
    if not check.ok:
        raise _refuse(doc, version, actor=actor, reason=f"Подпись не выполнена: {check.message}")
    engine.fire(doc, trigger, actor=actor, expected_version=expected_version)
    return version.signatures[-1]


def acknowledging_roles(actor, doc) -> set[str]:
    """The roles in which `actor` may mark a document «ознакомлен» (the document workflow's rule: its addressees, not
    the auditor nor the expert evaluating the organisation). The document page offers the button only when there is
    one."""
    role = ACKNOWLEDGERS(doc, actor)
    return {role} if role else set()


def acknowledge(version: DocumentVersion, *, actor, password: str) -> Signature:
    """«Ознакомлен»: a user in scope confirms having read a signed version (password re-entered)."""
    doc = version.document
    roles = acknowledging_roles(actor, doc)
    if not roles:
        raise PermissionDenied("Недостаточно прав для ознакомления с документом.")
    if not version.signed:
        raise ValidationFailed("Ознакомиться можно только с подписанной редакцией.")
    if any(s.signer_id == actor.id and s.meaning == "ознакомлен" for s in version.signatures):
        raise ValidationFailed("Вы уже отметили ознакомление с этой редакцией.")
    _reenter_password(doc, version, actor, password, purpose="acknowledge_document", action="acknowledge_refused",
                      wrong="Ознакомление не отмечено: неверный пароль.",
                      locked="Ознакомление заблокировано: слишком много неверных вводов пароля.")
    signature = Signature(signer_id=actor.id, signer_name=actor.full_name, signer_position=actor.position,
                          signer_role=sorted(roles)[0], meaning="ознакомлен", file_sha256=version.sha256)
    version.signatures.append(signature)
    db.session.flush()
    chain.record(action="acknowledge", object_type="document", object_id=doc.id, actor=actor,
                 actor_role=sorted(roles)[0], cycle_id=doc.cycle_id, organisation_id=doc.organisation.id,
                 after={"edition": version.number, "file_sha256": version.sha256})
    return signature


def queue_registered_copy(version: DocumentVersion) -> None:
    """Mark the registered copy of a just-registered version queued and enqueue its job after commit."""
    version.registered_status, version.registered_error = "queued", None
    version.registered_path = version.registered_sha256 = version.registered_size = None
    enqueue_tracked("registered_copy", version.id)


# --- signed copies -------------------------------------------------------------------------------

SIGNED_COPY_KINDS = {"scan": (".pdf",), "signature": (".sig", ".p7s", ".p7m", ".sgn")}


def attach_signed_copy(version: DocumentVersion, *, stream, filename: str | None, kind: str, actor):
    """Attach a scanned signed copy (PDF) or a detached electronic signature to a registered version."""
    doc = version.document
    require_role(actor, doc.organisation, EDITORS, "Недостаточно прав, чтобы прикладывать файлы к документу.")
    if kind not in SIGNED_COPY_KINDS:
        raise ValidationFailed("Выберите, что прикладывается: скан подписанного экземпляра или файл подписи.")
    if not version.registration_number and not (version.signed and not (doc.doc_type and doc.doc_type.registered)):
        raise ValidationFailed("Скан и файл подписи прикладываются к зарегистрированной редакции.")
    name = clean_filename(filename)
    if not name.lower().endswith(SIGNED_COPY_KINDS[kind]):
        expected = ", ".join(SIGNED_COPY_KINDS[kind])
        raise ValidationFailed(f"Файл «{name}» не подходит: ожидается файл {expected}.")
    if kind == "scan":
        head = stream.read(5)
        if head != b"%PDF-":
            raise ValidationFailed(f"Файл «{name}» не является PDF-документом.")
        stream = _Prefixed(head, stream)
    return attach(version, stream=stream, filename=name, kind=kind, actor=actor)


class _Prefixed:
    """A stream whose first bytes were already read (to check the file's signature)."""

    def __init__(self, head: bytes, rest):
        self.head, self.rest = head, rest

    def read(self, size: int = -1) -> bytes:
        if self.head:
            data, self.head = self.head, b""
            if size is None or size < 0:
                return data + self.rest.read()
            return data + self.rest.read(max(size - len(data), 0))
        return self.rest.read(size)


# --- stage overview ------------------------------------------------------------------------------

def stage_overview(stage) -> dict:
    """The stage's documents and the types that can still be generated for it."""
    documents = documents_of_stage(stage)
    by_type: dict[str, list[Document]] = {}
    for doc in documents:
        by_type.setdefault(doc.type_key, []).append(doc)
    types = types_for_stage(stage.code)
    return {"documents": documents, "types": types, "by_type": by_type,
            "mandatory": {t.key for t in types if stage.code in t.mandatory_for}}


def all_types() -> dict[str, DocumentType]:
    return document_types()
