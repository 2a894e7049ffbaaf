"""Lifecycle of a cycle document (документ цикла).

draft → on_approval (to_approval; the type's approval route, sequential) | draft → awaiting_signature (to_signature,
on_approval → on_approval (agree: one step of the route is agreed)          when the type has no route)
on_approval → awaiting_signature (route_done, internal, after the last step)
on_approval | awaiting_signature → draft (return, with a mandatory comment; withdraw, by the authors)
awaiting_signature → awaiting_signature (cosign: a type with a second signer, e.g. the protocol's secretary, is
signed first by the person its context names; the signer's `sign` waits for that signature)
awaiting_signature → signed (sign: the signer re-enters the password; the signature keeps the file's SHA-256)
signed → registered (register: number from the organisation's journal for the year; a job then makes the
registered copy — the signed content with number, date and signature requisites — beside the signed file)
signed | registered → published (publish)
signed | registered | published → draft (revise: a new edition, i.e. a new version, is being prepared; the
signed version stays as it is and is marked superseded once the new one is signed)

Who approves each step, who may sign and whether the type is registered are catalogue data
(app/documents/data/document_types.yaml), read from the document's type by the permissions below; the
service checks the password before firing. Separation of duties: whoever prepared an edition (made it, or sent
it for approval) does not agree a step of its route; whoever agreed a route step of an edition does not sign that
edition, the second signer does not also sign as the signer, and whoever prepared the
edition (made it, or sent it for approval or signature) does not sign it — as themselves or as a stand-in.
"""


from app.auth.roles import APPROVERS, ASSIGNED_ROLES, EDITORS, ROLES
from app.auth.models import User
from app.auth.services import users_with_role_at
from app.core import russian
from app.core.dating import problems as dating_problems
from app.core.timeutil import utcnow
from app.extensions import db
from app.orgs.services import org_today
from workflows import hooks
from workflows.permissions import Permission, acted_by, has_role

NAME = "document"
OBJECT_TYPE = "document"
INITIAL = "draft"
STATE_LABELS = {
    "draft": "проект",
    "on_approval": "на согласовании",
    "awaiting_signature": "на подписи",
    "signed": "подписан",
    "registered": "зарегистрирован",
    "published": "опубликован",
}
STATES = STATE_LABELS  # the machine's states, in order (the name older code imports)
STATE_STYLES = {"draft": "primary", "on_approval": "warning", "awaiting_signature": "warning", "signed": "info",
                "registered": "success", "published": "success"}
# Those who register and publish: the owner's official, or the school's director for its own cycle.
REGISTRARS = frozenset({"official", "head", "director"})


def acknowledging_roles(doc, person) -> set[str]:
    """The roles in which `person` marks a signed document «ознакомлен»: an acknowledgement is its addressees' —
    the people of the organisation whose document it is (its staff, those above it, a supporting centre). Not the
    auditor, who only reads, nor the regional expert over a municipality assigned to them to evaluate: the expert
    reads its order as evidence, is none of its addressees, and a «ознакомлен» of theirs on it claimed a
    familiarisation that has no place there. The expert's own region's documents (the campaign's order that
    appoints them) are theirs to acknowledge: there the role is held at the document's organisation itself."""
    org = doc.organisation
    roles = person.roles_over(org) - {"auditor"}
    held_here = {r.role for r in person.roles if r.organisation_id == org.id}
    return {role for role in roles if role not in ASSIGNED_ROLES or role in held_here}


# «Ознакомлен» is no transition (the document's state does not move; each reader signs the edition once): this is
# the rule the document page offers the button by and the service admits by.
ACKNOWLEDGERS = Permission(lambda doc, person: min(acknowledging_roles(doc, person), default=None),
                           "сотрудник организации, издавшей документ, или вышестоящей")



# --- guards ---

def version_ready(doc) -> list[str]:
    current = doc.current
    if current is None:
        return ["У документа нет ни одной редакции."]
    if current.status in ("queued", "running"):
        return ["Документ ещё формируется: дождитесь окончания."]
    if current.status == "failed":
        return [f"Последняя редакция не сформирована: {current.error or 'ошибка формирования'}. "
                "Сформируйте документ заново."]
    if current.signed:
        return ["Текущая редакция уже подписана: изменения оформляются новой редакцией."]
    return []


def has_route(doc) -> list[str]:
    return [] if doc.doc_type and doc.doc_type.approval_route else ["Для этого вида документа не задан маршрут "
                                                                    "согласования: передайте его на подпись."]


def no_route(doc) -> list[str]:
    return ["Документ этого вида сначала проходит согласование."] if doc.doc_type and doc.doc_type.approval_route \
        else []


def route_staffed(doc) -> list[str]:
    """Each step of the route has someone to agree it: a holder of its role, other than who made the edition (who
    may not agree it: edition_preparers) — else the document would wait on a step nobody may take."""
    problems = []
    maker = doc.current.created_by_id if doc.current is not None else None
    for role in doc.doc_type.approval_route if doc.doc_type else ():
        holders = users_with_role_at(doc.organisation, {role})
        if not holders:
            # A new municipality often has no methodologist yet: the refusal says who can change that (walk 17).
            problems.append(f"Некому согласовать документ: ни в «{doc.organisation.display_name}», ни выше нет "
                            f"пользователя с ролью «{ROLES.get(role, role)}». Администратор назначает эту роль в "
                            "разделе «Пользователи»; до этого документ можно только сформировать.")
        elif all(u.id == maker for u in holders):
            problems.append(f"Некому согласовать документ: единственный пользователь с ролью «{ROLES.get(role, role)}» "
                            "подготовил эту редакцию, а согласует её другой (разделение обязанностей).")
    return problems


def recorded(doc, key: str):
    """A plain value the current edition's context recorded (its data snapshot, app.documents.snapshot: the
    context is under «context»), or None."""
    current = doc.current
    if current is None or not current.context_snapshot:
        return None
    return (current.context_snapshot.get("context") or {}).get(key)


def reports_current_data(doc) -> list[str]:
    """The edition reports its owner's data as it stands: an expert conclusion made before another mechanism's
    evaluation was approved would be signed and registered misreporting it (the page only warned)."""
    problems = hooks.document_outdated(doc)
    return [f"Редакция устарела: {'; '.join(problems)} Сформируйте новую редакцию."] if problems else []


def dated_sensibly(doc) -> list[str]:
    """The document signed or registered today: not before the data it reports, not after the event it orders,
    no deadline already reached (the rules its context builder recorded, app.core.dating)."""
    dating = recorded(doc, "dating")
    if not dating:
        return []
    org = doc.organisation
    return dating_problems(dating, org_today(org))


def cosign_meaning(doc) -> str | None:
    """The meaning recorded on the second signer's signature: their capacity («секретарь»), None for one signer."""
    dtype = doc.doc_type
    return dtype.cosigner if dtype and dtype.cosigner else None


def cosigner_id(doc) -> int | None:
    """The person the current edition names as its second signer (recorded by the context builder)."""
    who = recorded(doc, "cosigner")
    return who.get("user_id") if isinstance(who, dict) else None


def cosignatures(doc) -> list:
    meaning = cosign_meaning(doc)
    current = doc.current
    return [s for s in current.signatures if s.meaning == meaning] if meaning and current is not None else []


def awaits_cosignature(doc) -> bool:
    return bool(cosign_meaning(doc)) and not cosignatures(doc)


def cosign_open(doc) -> list[str]:
    if not cosign_meaning(doc):
        return ["Документ этого вида подписывает одно лицо."]
    if cosigner_id(doc) is None:
        return [f"В редакции не назван второй подписант ({doc.doc_type.cosigner}): сформируйте документ заново."]
    if cosignatures(doc):
        return [f"Эта редакция уже подписана: {doc.doc_type.cosigner}."]
    return []


def cosigned(doc) -> list[str]:
    """Both signatures before the document counts as signed (and so before registration): the second signer's
    first."""
    if not awaits_cosignature(doc):
        return []
    who = recorded(doc, "cosigner") or {}
    name = f" ({who['name']})" if who.get("name") else ""
    return [f"Документ подписывают двое: сначала подпись ставит {doc.doc_type.cosigner}{name}, затем — "
            "подписант документа."]


def registrable(doc) -> list[str]:
    return [] if doc.doc_type and doc.doc_type.registered else ["Документы этого вида не регистрируются."]


def publishable(doc) -> list[str]:
    if doc.doc_type and doc.doc_type.registered and doc.state != "registered":
        return ["Документ публикуется после регистрации."]
    return []


def current_is_new(doc) -> list[str]:
    current = doc.current
    if current is None or current.signed:
        return ["Новая редакция создаётся формированием документа заново."]
    return []


# --- who acts: catalogue data of the document's type, judged at the nearest level that has the role ---

def signer_roles(doc) -> tuple[str, ...]:
    return tuple(doc.doc_type.signer_roles) if doc.doc_type else ()


def _step_role(doc) -> tuple[str, ...]:
    step = pending_step(doc.current) if doc.state == "on_approval" else None
    return (step.role,) if step is not None else ()


def _step_refusal(doc) -> str:
    role = next(iter(_step_role(doc)), "")
    return f"На этом шаге документ согласует пользователь с ролью «{ROLES.get(role, role)}»."


def _signer_refusal(doc) -> str:
    named = recorded(doc, "named_signer")
    if isinstance(named, dict) and named.get("name"):
        return f"Этот документ подписывает названный в нём подписант: {named['name']}."
    roles = ", ".join(ROLES.get(r, r) for r in signer_roles(doc))
    return f"Подписать документ может только уполномоченное лицо ({roles})."


def _cosigner_check(doc, person):
    """Only the person the edition names as its second signer, by a role they hold over the organisation."""
    if person.id != cosigner_id(doc):
        return None
    roles = person.roles_over(doc.organisation) - {"auditor"}
    return sorted(roles)[0] if roles else None


def _cosigner_refusal(doc) -> str:
    who = recorded(doc, "cosigner") or {}
    capacity = doc.doc_type.cosigner if doc.doc_type and doc.doc_type.cosigner else "второй подписант"
    return f"Эту подпись ставит {capacity}, названный в документе" + (f": {who['name']}." if who.get("name")
                                                                     else ".")


COSIGNER = Permission(_cosigner_check, "второй подписант, названный в документе (секретарь)")
STEP_APPROVER = has_role(_step_role, nearest=True, describe="согласующий текущего шага маршрута")
def _named_signer_check(doc, person):
    """A document whose edition names its signer (an expert's conclusion: the expert who evaluated) is signed by
    that person only; the others are judged by the type's signer roles at the nearest level."""
    named = recorded(doc, "named_signer")
    if isinstance(named, dict) and named.get("user_id") is not None:
        if person.id != named["user_id"]:
            return None
        held = person.roles_over(doc.organisation) & set(signer_roles(doc))
        return sorted(held)[0] if held else None
    return _ROLE_SIGNER(doc, person)


_ROLE_SIGNER = has_role(signer_roles, nearest=True, describe="уполномоченный подписать документ")
SIGNER = Permission(_named_signer_check, "уполномоченный подписать документ (названный в нём, если назван)")
EDITOR = has_role(EDITORS)
REGISTRAR = has_role(REGISTRARS)


def route_approvers(doc) -> set[int]:
    """Who agreed a step of the current edition's route: they may not sign the same edition."""
    current = doc.current
    if current is None:
        return set()
    return {a.approver_id for a in current.approvals if a.decision == "approved"}


def edition_preparers(doc) -> set[int]:
    """Who prepared the current edition: made it, or sent it for approval or signature (and whom they stood in for
    then). They do not agree a step of its route: a visa checks someone else's work, whatever the type."""
    current = doc.current
    if current is None:
        return set()
    return acted_by(doc, ("to_approval", "to_signature")) | ({current.created_by_id} - {None})


def preparers(doc) -> set[int]:
    """Who prepared the current edition (edition_preparers) does not sign it: the signature approves someone else's
    work, so a deputy head who drafted an order does not sign it as «исполняющий обязанности» either. Not for a type
    signed by whoever compiles it (an analytic report signed by the official who wrote it, an expert's own
    conclusion): there the signature is authorship."""
    if set(signer_roles(doc)) - APPROVERS:
        return set()
    return edition_preparers(doc)


def second_signers(doc) -> set[int]:
    """Who signed the current edition as its second signer: they do not sign it again as the signer."""
    return {s.signer_id for s in cosignatures(doc)}


SEPARATION_OF_DUTIES = [
    {"triggers": {"agree"}, "excluded": edition_preparers,
     "reason": "Согласовать редакцию не может тот, кто её подготовил или отправил на согласование, — ни за себя, ни "
               "как исполняющий обязанности (разделение обязанностей)."},
    {"triggers": {"sign", "cosign"}, "excluded": route_approvers,
     "reason": "Подписать редакцию не может тот, кто согласовал её на маршруте (разделение обязанностей)."},
    {"triggers": {"sign"}, "excluded": second_signers,
     "reason": "Подписавший документ вторым подписантом (секретарь) не подписывает его за председателя "
               "(разделение обязанностей)."},
    {"triggers": {"sign"}, "excluded": preparers,
     "reason": "Подписать редакцию не может тот, кто её подготовил или передал на подпись, — ни за себя, ни как "
               "исполняющий обязанности (разделение обязанностей)."},
]

TRANSITIONS = [
    {"trigger": "to_approval", "source": "draft", "dest": "on_approval", "label": "Отправить на согласование",
     "allowed": EDITOR, "guards": [version_ready, has_route, route_staffed, reports_current_data],
     "offer_guards": [route_staffed]},
    {"trigger": "to_signature", "source": "draft", "dest": "awaiting_signature", "label": "Передать на подпись",
     "allowed": EDITOR, "guards": [version_ready, no_route, reports_current_data]},
    {"trigger": "agree", "source": "on_approval", "dest": "on_approval", "label": "Согласовать",
     "allowed": STEP_APPROVER, "style": "success", "denied": _step_refusal},
    {"trigger": "route_done", "source": "on_approval", "dest": "awaiting_signature", "label": "Согласование завершено"},
    {"trigger": "return", "source": "on_approval", "dest": "draft", "label": "Вернуть на доработку",
     "allowed": STEP_APPROVER, "requires_comment": True, "style": "warning",
     "denied": _step_refusal},
    {"trigger": "return", "source": "awaiting_signature", "dest": "draft", "label": "Вернуть на доработку",
     "allowed": SIGNER, "requires_comment": True, "style": "warning",
     "denied": _signer_refusal},
    {"trigger": "withdraw", "source": ["on_approval", "awaiting_signature"], "dest": "draft",
     "label": "Отозвать для изменения", "allowed": EDITOR, "style": "secondary"},
    {"trigger": "cosign", "source": "awaiting_signature", "dest": "awaiting_signature",
     "label": "Подписать (второй подписант)", "allowed": COSIGNER,
     "guards": [version_ready, cosign_open, dated_sensibly, reports_current_data], "style": "success",
     "denied": _cosigner_refusal},
    {"trigger": "sign", "source": "awaiting_signature", "dest": "signed", "label": "Подписать",
     "allowed": SIGNER, "guards": [version_ready, cosigned, dated_sensibly, reports_current_data], "style": "success",
     "denied": _signer_refusal},
    {"trigger": "register", "source": "signed", "dest": "registered", "label": "Зарегистрировать",
     "allowed": REGISTRAR, "guards": [registrable, dated_sensibly, reports_current_data]},
    {"trigger": "publish", "source": ["signed", "registered"], "dest": "published", "label": "Опубликовать",
     "allowed": REGISTRAR, "guards": [publishable], "style": "secondary"},
    {"trigger": "revise", "source": ["signed", "registered", "published"], "dest": "draft",
     "label": "Подготовить новую редакцию", "allowed": EDITOR, "guards": [current_is_new], "style": "secondary"},
]


# --- effects ---

def pending_step(version):
    """The first undecided step of the version's latest approval round, or None."""
    if version is None or not version.approvals:
        return None
    latest = max(a.round for a in version.approvals)
    return next((a for a in version.approvals if a.round == latest and a.decision is None), None)


def _decide(step, ctx, decision: str) -> None:
    step.decision, step.decided_at = decision, utcnow()
    step.approver_id = ctx.actor.id
    step.approver_name, step.approver_position = ctx.actor.full_name, ctx.actor.position
    step.comment = ctx.comment


def _enter_on_approval(ctx) -> None:
    from app.documents.models import DocumentApproval

    doc = ctx.obj
    version = doc.current
    if ctx.spec.trigger == "to_approval":
        doc.return_comment = None
        round_ = max((a.round for a in version.approvals), default=0) + 1
        for position, role in enumerate(doc.doc_type.approval_route, 1):
            version.approvals.append(DocumentApproval(round=round_, position=position, role=role))
    elif ctx.spec.trigger == "agree":
        _decide(pending_step(version), ctx, "approved")


def _enter_draft(ctx) -> None:
    doc = ctx.obj
    if ctx.spec.trigger == "return":
        doc.return_comment = ctx.comment
        step = pending_step(doc.current) if ctx.source == "on_approval" else None
        if step is not None:
            _decide(step, ctx, "returned")
    elif ctx.spec.trigger == "revise":
        doc.return_comment = None
        doc.published_at = None


def _add_signature(ctx, meaning: str, now) -> None:
    """The actor's signature of the current edition: name, position, meaning, time, the file's SHA-256."""
    from app.documents.models import Signature

    version = ctx.obj.current
    # A deputy signing in place of the absent official signs as «Заместитель …» (their own position) or else as
    # «Исполняющий обязанности …» of the absent one's: «Методист ИМЦ» under the head's order is not a capacity.
    position = ctx.actor.position
    if ctx.on_behalf_of is not None:
        position = russian.signing_position(ctx.actor.position, ctx.on_behalf_of.position)
    version.signatures.append(Signature(
        signer_id=ctx.actor.id, signer_name=ctx.actor.full_name, signer_position=position,
        signer_role=ctx.role, meaning=meaning, signed_at=now, file_sha256=version.sha256))


def _enter_awaiting_signature(ctx) -> None:
    if ctx.spec.trigger == "cosign":
        _add_signature(ctx, cosign_meaning(ctx.obj), utcnow())


def _enter_signed(ctx) -> None:
    doc = ctx.obj
    version = doc.current
    now = utcnow()
    version.signed, version.signed_at = True, now
    _add_signature(ctx, doc.doc_type.sign_meaning, now)
    for older in doc.versions:
        if older is not version and older.signed and older.superseded_at is None:
            older.superseded_at = now


def _enter_registered(ctx) -> None:
    from app.documents.registration import register_version
    from app.documents.services import queue_registered_copy

    register_version(ctx.obj.current, actor=ctx.actor)
    # The registered copy (number, date, signature requisites) is rendered by a job after commit; the signed
    # file stays as it was signed.
    queue_registered_copy(ctx.obj.current)


def _enter_published(ctx) -> None:
    ctx.obj.published_at = utcnow()


ON_ENTER = {"draft": _enter_draft, "on_approval": _enter_on_approval,
            "awaiting_signature": _enter_awaiting_signature, "signed": _enter_signed,
            "registered": _enter_registered, "published": _enter_published}


TASK_KINDS = {
    "approve_document": "Согласовать документ",
    "sign_document": "Подписать документ",
    "cosign_document": "Подписать документ (второй подписант)",
    "rework_document": "Доработать документ",
    "register_document": "Зарегистрировать документ",
}
TASK_LINKS = {"document": ("documents.document_detail", "document_id")}


def task_title(doc, kind: str) -> str:
    # A campaign's document is titled with its owner already («Приказ … — Мониторинг …, 2026/27»): the owner once.
    subject = doc.subject_title
    return f"{TASK_KINDS[kind]}: «{doc.title}»" + ("" if subject in doc.title else f" ({subject})")


def _due(doc):
    return doc.due_date


def _after_on_approval(ctx) -> None:
    doc = ctx.obj
    step = pending_step(doc.current)
    if step is None:
        ctx.fire_system(doc, "route_done")
        return
    for person in ctx.users_with_role(doc.organisation, {step.role}):
        ctx.open_task(kind="approve_document", title=task_title(doc, "approve_document"), assignee=person,
                      due_date=_due(doc))


def signers_of(doc, users_with_role) -> list:
    """Who may sign: holders of the type's signer roles at the nearest level of the owner's ancestry."""
    return users_with_role(doc.organisation, set(doc.doc_type.signer_roles)) if doc.doc_type else []


def _after_awaiting_signature(ctx) -> None:
    doc = ctx.obj
    if awaits_cosignature(doc):
        # The second signer first; the signer's task opens once their signature is there.
        person = db.session.get(User, cosigner_id(doc)) if cosigner_id(doc) is not None else None
        if person is not None and person.active:
            ctx.open_task(kind="cosign_document", title=task_title(doc, "cosign_document"), assignee=person,
                          due_date=_due(doc))
        return
    for person in signers_of(doc, ctx.users_with_role):
        ctx.open_task(kind="sign_document", title=task_title(doc, "sign_document"), assignee=person,
                      due_date=_due(doc))


def _after_draft(ctx) -> None:
    doc = ctx.obj
    if ctx.spec.trigger == "return" and doc.created_by is not None and doc.created_by.active:
        ctx.open_task(kind="rework_document", title=task_title(doc, "rework_document"), assignee=doc.created_by,
                      due_date=_due(doc))


def _after_signed(ctx) -> None:
    doc = ctx.obj
    if doc.doc_type and doc.doc_type.registered:
        for person in ctx.users_with_role(doc.organisation, {"official", "director"}):
            ctx.open_task(kind="register_document", title=task_title(doc, "register_document"), assignee=person,
                          due_date=_due(doc))


AFTER = {"on_approval": _after_on_approval, "awaiting_signature": _after_awaiting_signature,
         "draft": _after_draft, "signed": _after_signed}
