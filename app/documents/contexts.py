"""Context builders: for each document type, the plain data its Word template needs.

`build_context(type_key, stage, *, addressee=None, params=None, version=None)` returns only primitives
(str / int / float / None, lists and dicts of them; `charts` maps names to PNG bytes): no ORM object leaves
this module, dates are already formatted (ДД.ММ.ГГГГ, 20 апреля 2021 г.), numbers use the decimal comma.
When the data a type needs is missing the builder raises ValidationFailed listing what is missing, so an
official document never goes out with an empty spot.

This module builds the types whose data it can reach below the features that own more (cycles, monitoring).
The types built from another feature's data (the analytic report from the analysis, recommendations, measures
and decisions from the follow-up, the effectiveness report) are built by that feature and registered here at
start-up (`register_builder`, called from the feature descriptor's setup): this package never imports them.
"""

import re
from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import lazyload

from app.auth.models import RoleAssignment, User
from app.auth.roles import ASSIGNED_ROLES, ROLES
from app.core import dating
from app.core import russian as ru
from app.core import timeutil
from app.core.db import in_ids
from app.core.errors import ValidationFailed
from app.cycles.basis import basis_condition, basis_indicators
from app.cycles.models import Indicator
from app.documents.catalogue import DocumentType, get_type
from app.documents.models import Document, DocumentVersion
from app.documents.rendering import declared_variables
from app.extensions import db
from app.monitoring.models import DataRequest, IndicatorValue
from app.monitoring.services import addressee_choices
from app.orgs.models import Organisation
from app.orgs.requisites import requisites_lines
from app.orgs.services import org_time_zone, org_today

LEGAL_BASIS = [
    "Федеральный закон от 29.12.2012 № 273-ФЗ «Об образовании в Российской Федерации»",
    "письмо Рособрнадзора от 20.04.2021 № 08-70 «О направлении методических рекомендаций по организации и "
    "проведению оценки механизмов управления качеством образования»",
]
# The same acts after «в соответствии с» (the instrumental): «разработано в соответствии с: — Федеральным законом …».
LEGAL_BASIS_INSTRUMENTAL = [LEGAL_BASIS[0].replace("Федеральный закон", "Федеральным законом", 1),
                            LEGAL_BASIS[1].replace("письмо", "письмом", 1)]
DASH = "—"
CONTROL_ITEM = "Контроль за исполнением настоящего приказа оставляю за собой."
LEVEL_SYSTEM = {"regional": "региональной", "municipal": "муниципальной", "school": "внутренней"}


# --- small formatting helpers (the shared Russian formatters of app.core.russian) ---------------------------

def fmt_date(value: date | datetime | None) -> str | None:
    """ДД.ММ.ГГГГ, or None (a template prints its blank then)."""
    return ru.date_short(value) or None


def fmt_date_long(value: date | None) -> str | None:
    """6 апреля 2026 г. (ГОСТ Р 7.0.97-2016, 5.11), or None. The registered orders printed «06» декабря 2026 г., a
    form the standard does not know, beside 06.12.2026 in their annex marks."""
    return ru.date_words(value) or None


def fmt_number(value, digits: int = 2) -> str:
    """12 → «12», 45.5000 → «45,5», None → «—»: the Russian decimal comma, no trailing zeros."""
    return ru.number(value, digits)


def with_unit(value: str, unit: str | None) -> str:
    return f"{value} {unit}".strip() if value != DASH and unit == "%" else value


def initials_name(full_name: str | None, case: str = "nomn") -> str:
    """«Петрова Мария Ивановна» → «М.И. Петрова» (initials before the surname, as in a signature block)."""
    return ru.initials_surname(full_name, case) or (full_name or "")


def in_text(position: str) -> str:
    """A position inside a sentence starts in lower case («начальник управления»), an acronym stays («ИМЦ»)."""
    return ru.lower_first(position)


def person(user: User | None) -> str:
    """«С.П. Иванов, начальник управления образования»: who is responsible, as a document names them."""
    if user is None:
        return DASH
    name = ru.initials_surname(user.full_name) or user.short_name
    return f"{name}, {in_text(user.position)}" if user.position else name


# «Петрова М.И.» (and «Петрова М. И.», «Римская-Корсакова А.-М.С.») at the start of a free-text «Ответственный»
_SURNAME_FIRST = re.compile(r"^([А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?) ((?:[А-ЯЁ]\.(?:-[А-ЯЁ]\.)?) ?(?:[А-ЯЁ]\.)?)(?=,|$)")


def initials_first(text: str | None) -> str | None:
    """A responsible person typed as «Петрова М.И., главный специалист» named as the documents name everyone else
    (ГОСТ Р 7.0.97: И.О. Фамилия): «М.И. Петрова, главный специалист». Any other text is left as it is."""
    if not text:
        return text
    return _SURNAME_FIRST.sub(lambda m: f"{m.group(2).replace(' ', '')} {m.group(1)}", text.strip(), count=1)


def date_range(start: date | None, end: date | None) -> str:
    return ru.date_range(start, end)


def _attr(obj, name, default=None):
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def number_rows(rows: list[dict]) -> list[dict]:
    for n, row in enumerate(rows, 1):
        row["number"] = n
    return rows


def titles(findings) -> str:
    """Findings' problems joined into one line, each once, without their own full stops. The full text, never the
    short title cut at 90 characters for lists on pages («…» mid-word is not a basis a head signs)."""
    return "; ".join(dict.fromkeys(" ".join((getattr(f, "problem", None) or f.title).split()).rstrip(".")
                                   for f in findings))


def refuse(title: str, problems: list[str]):
    raise ValidationFailed(f"Недостаточно данных для документа «{title}».", problems=problems)


# --- indicator values (monitoring) -------------------------------------------------------------------------


def indicator_values(cycle) -> dict[int, list[tuple[Organisation, Decimal]]]:
    """Indicator id → [(organisation, value)] for the cycle's period, over the indicators its measures are evaluated
    against (a partial cycle's are those of its full cycle: app/cycles/basis.py)."""
    rows = db.session.execute(
        select(IndicatorValue.indicator_id, Organisation, IndicatorValue.value)
        .join(Indicator, Indicator.id == IndicatorValue.indicator_id)
        .join(Organisation, Organisation.id == IndicatorValue.organisation_id)
        .where(basis_condition(cycle, Indicator.cycle_id), IndicatorValue.period == cycle.period)
        .order_by(IndicatorValue.indicator_id, Organisation.name))
    values = defaultdict(list)
    for indicator_id, org, value in rows:
        values[indicator_id].append((org, value))
    return values


def mean(values) -> Decimal | None:
    return sum(values) / len(values) if values else None


# --- people -----------------------------------------------------------------------------------------------

_SHARED_LOOKUPS: ContextVar[dict | None] = ContextVar("document_context_people", default=None)


@contextmanager
def shared_lookups():
    """Within the block, the people of the requisites (signer, approvers, an organisation's head) are looked up
    once per organisation and role: the letters of one click share them, and each letter would otherwise ask
    the database for the same people again. Scoped to one batch, so the data are as fresh as the batch."""
    token = _SHARED_LOOKUPS.set({})
    try:
        yield
    finally:
        _SHARED_LOOKUPS.reset(token)


def remember(key, value) -> None:
    """Keep `value` for the rest of the batch (within shared_lookups; outside one, nothing is kept)."""
    shared = _SHARED_LOOKUPS.get()
    if shared is not None:
        shared[key] = value


def recalled(key):
    """What the batch remembered under `key`, or None (outside a batch, or not remembered)."""
    shared = _SHARED_LOOKUPS.get()
    return shared.get(key) if shared is not None else None


# Who heads an institution, in order of preference (its director, else a head): the addressee block names them.
HEAD_ROLES = ("director", "head")
# Per-addressee types whose builder reads more per addressee than its head: fn(cycle_id, org_ids) reads it for all
# of them at once and `remember`s it (register_builder(..., prepare=…)).
_PREPARERS: dict = {}


def prepare_addressees(type_key: str, stage, addressees) -> None:
    """Within shared_lookups: read what the letters of `type_key` to `addressees` need — their heads, and what the
    type's preparer reads — in one query each, so the letters of a click or a batch ask the database nothing per
    letter. Outside a batch it does nothing (each letter then reads its own)."""
    shared = _SHARED_LOOKUPS.get()
    org_ids = [org.id for org in addressees if org is not None]
    if shared is None or not org_ids:
        return
    _prefetch_users(org_ids, HEAD_ROLES, shared)
    preparer = _PREPARERS.get(type_key)
    if preparer is not None:
        preparer(stage.cycle_id, org_ids)


def prime_batch_reads() -> None:
    """Run the batch reads of prepare_addressees once for nobody, so their SQL is compiled in this process (the
    worker's parent: see jobs.warm_up)."""
    with shared_lookups():
        _prefetch_users([], HEAD_ROLES, {})
        for preparer in _PREPARERS.values():
            preparer(0, [])


def _prefetch_users(org_ids: list[int], roles, shared: dict) -> None:
    """Fill the batch's people look-up for every (organisation, role) of `org_ids` × `roles` with one query: the
    same users, in the same order, as _users_at would find one pair at a time."""
    found = {(org_id, role): [] for org_id in org_ids for role in roles}
    rows = db.session.execute(
        select(RoleAssignment.organisation_id, RoleAssignment.role, User)
        .join(User, User.id == RoleAssignment.user_id)
        .where(in_ids(RoleAssignment.organisation_id, org_ids), RoleAssignment.role.in_(roles),
               User.active.is_(True))
        .order_by(User.id).options(lazyload(User.roles)))
    for org_id, role, user in rows:
        users = found[org_id, role]
        if user not in users:
            users.append(user)
    shared.update(found)


def _users_at(org: Organisation, role: str) -> list[User]:
    """Active users holding `role` at `org` itself (not at an ancestor)."""
    shared = _SHARED_LOOKUPS.get()
    if shared is not None and (org.id, role) in shared:
        return shared[org.id, role]
    # Roles are not loaded with the users (one query less per look-up; `role_codes()` loads them when asked).
    users = list(db.session.scalars(
        select(User).join(RoleAssignment)
        .where(RoleAssignment.organisation_id == org.id, RoleAssignment.role == role, User.active.is_(True))
        .order_by(User.id).distinct().options(lazyload(User.roles))))
    if shared is not None:
        shared[org.id, role] = users
    return users


def first_of(org: Organisation, users: list[User]) -> User | None:
    """The one of `users` (holders of one role at `org`) a document names: the one whose position is the
    organisation's «должность руководителя» (its requisite), else the first. Two holders of the head role at a
    ministry — the minister and a head of department — made the 08-70 order's draft name the head of department
    under the ministry's ПРИКАЗ, while the minister signed it (PDF review, 5 December 2026)."""
    title = (org.head_position or "").strip().lower()
    if title:
        for user in users:
            if (user.position or "").strip().lower().startswith(title):
                return user
    return users[0] if users else None


def signer_user(dtype: DocumentType, stage) -> User | None:
    """Who signs: the stage's responsible person when they hold a signer role over the owner, else the holder
    of the first signer role that someone holds at the owner organisation itself (its head first, `first_of`)."""
    org = stage.cycle.owner
    responsible = stage.responsible
    held = responsible.roles_over(org) if responsible is not None and responsible.active else set()
    for role in dtype.signer_roles:
        # Roles are in order of preference: the compiler of a report signs it, the head signs an order.
        if role in held:
            return responsible
        users = _users_at(org, role)
        if users:
            return first_of(org, users)
    return None


def _head_user(org: Organisation) -> User | None:
    for role in HEAD_ROLES:
        users = _users_at(org, role)
        if users:
            return first_of(org, users)
    return None


def _head_of(org: Organisation) -> str:
    head = _head_user(org)
    return ru.initials_surname(head.full_name) if head is not None else DASH


# The builders other features own (registered with register_builder) call these by their public names.
head_of = _head_of
head_user = _head_user


def _addressee_lines(org: Organisation, head: User | None) -> list[str]:
    """«Директору МБОУ „Лицей № 2“» / «Н.И. Ковалёвой»: the head's position (the organisation's requisite, else
    the head's own, else «Руководитель») in the dative with the organisation's name, and the head's name in the
    dative."""
    position = getattr(org, "head_position", None) or (head.position if head is not None else None) or "Руководитель"
    return ru.addressee_lines(position, _name_after_position(org), head.full_name if head is not None else None)


addressee_lines = _addressee_lines


def _name_after_position(org: Organisation) -> str:
    """The organisation as it follows «Директору …»: a name that starts with its legal form's abbreviation
    («МОУ „Гимназия № 3“») is not declined; otherwise the name is put in the genitive («Гимназии № 3»,
    «муниципального бюджетного общеобразовательного учреждения …»)."""
    for name in (org.short_name, org.name):
        first = (name or "").split(" ", 1)[0]
        if len(first) > 1 and first.isupper():
            return name
    if org.short_name:
        return ru.genitive(org.short_name)
    return ru.lower_first(ru.genitive(org.name))


def name_genitive(org: Organisation) -> str:
    """The organisation's full name after «для», «в адрес» (кого / чего): «муниципального бюджетного
    общеобразовательного учреждения «…»»; a name that starts with its legal form's abbreviation («МОУ „Гимназия
    № 3“») is not declined."""
    first = (org.name or "").split(" ", 1)[0]
    if len(first) > 1 and first.isupper():
        return org.name
    return ru.lower_first(ru.genitive(org.name))


# A settlement in an address: «г. Северный», «пос. Лесной», «с. Заречье» (a capital letter follows, so «д. 12», a
# house number, is not one).
_SETTLEMENT = re.compile(r"(?:^|,)\s*((?:пгт\.?|(?:г|гор|пос|п|с|д|дер|ст-ца|х)\.)\s?[А-ЯЁ][^,]*)")


def _place(org: Organisation) -> str:
    """The place of issue (ГОСТ Р 7.0.97, место составления документа): the settlement of the issuer's address
    («г. Северный»), else its municipality's or region's name. The territory's short name alone gave «ГО Северный»,
    and a ministry's order «Демонстрационная область», where the form wants the town."""
    node = org
    while node is not None:
        match = _SETTLEMENT.search(getattr(node, "address", None) or "")
        if match:
            return match.group(1).strip()
        if node.kind in ("municipality", "region"):
            break
        node = node.parent
    node = org
    while node is not None and node.kind not in ("municipality", "region"):
        node = node.parent
    node = node or org
    return node.short_name or node.name


# --- requisites shared by every type ----------------------------------------------------------------------

def local_day(moment: datetime | date | None, org: Organisation) -> date | None:
    """The calendar day of a stored moment where the organisation works (orgs.services.org_time_zone: its own zone or
    its nearest ancestor's), by the one rule of app/core/timeutil.local_day (a naive moment is UTC; a date stays):
    a naive moment was taken as already local, and a school under a region in Yekaterinburg was dated in Moscow."""
    return timeutil.local_day(moment, org_time_zone(org))


def _agreements(dtype: DocumentType, org: Organisation, version) -> list[dict]:
    """The «СОГЛАСОВАНО» stamps: the approvals that happened (with their dates) of the latest round, else the
    people the route will ask (date left for the hand)."""
    approvals = [a for a in (_attr(version, "approvals") or []) if _attr(a, "decision") == "approved"]
    if approvals:
        latest = max(_attr(a, "round") or 1 for a in approvals)
        return [{"position": _attr(a, "approver_position") or ROLES.get(_attr(a, "role"), ""),
                 "name": initials_name(_attr(a, "approver_name")),
                 "date": fmt_date_long(local_day(_attr(a, "decided_at"), org))}
                for a in approvals if (_attr(a, "round") or 1) == latest]
    stamps = []
    for role in dtype.approval_route:
        users = _users_at(org, role)
        if users:
            stamps.append({"position": users[0].position or ROLES[role],
                           "name": ru.initials_surname(users[0].full_name), "date": None})
    return stamps


def _common(dtype: DocumentType, stage, version, params: dict) -> dict:
    cycle = stage.cycle
    signer = signer_user(dtype, stage)
    # The executor (исполнитель) is who prepared the document: the stage's responsible person, else whoever made
    # the edition; only where neither is known, the signer (a head is seldom the executor of what he signs).
    preparer = _attr(version, "created_by")
    ctx = requisites(dtype, cycle.owner, version, params, signer=signer,
                     executor=stage.responsible or (preparer if isinstance(preparer, User) else None) or signer)
    mechanism = cycle.track.mechanism
    ctx["doc"]["period"] = cycle.period
    # The direction in words: the track's own title where the mechanism has several tracks (two cycles of one
    # mechanism and period are two different directions, and their documents say which), never the code.
    ctx["cycle"] = {"title": cycle.title,
                    "mechanism": ru.quote(cycle.track.title if len(mechanism.tracks) > 1 else mechanism.title),
                    "period": cycle.period, "stage": stage.title}
    return ctx


def _executor_contact(executor: User, org: Organisation) -> str:
    """ГОСТ Р 7.0.97 отметка об исполнителе after the name: the executor's own phone, else the issuer's phone when the
    executor works at the issuer, then the e-mail. Nobody's phone is printed as someone else's: a regional expert
    (a teacher or methodologist of another organisation) got the ministry's phone as his own. With no phone the mark
    is the name and e-mail alone — never «тел. ______», which a registered copy must not carry (lint.BLANK_REQUISITE).
    """
    # «Works at the issuer» is a role held at the issuer itself: the tree has no structural subdivisions (a ministry's
    # department is the ministry's own users), and every organisation below the issuer (a municipality, a school, a
    # centre) is another legal entity with its own phone. An assignment-scoped role (ASSIGNED_ROLES, the regional
    # expert) is held at the region for its reach, not because its holder works there.
    works_here = any(r.organisation_id == org.id and r.role not in ASSIGNED_ROLES for r in executor.roles)
    phone = executor.phone or (org.phone if works_here else None)
    return ", ".join(x for x in (phone, executor.email) if x)


def requisites(dtype: DocumentType, org: Organisation, version, params: dict, *, signer: User | None,
               executor: User | None) -> dict:
    """The requisites every type shares (issuer, бланк, number and date, signer, approval stamps, executor mark) of a
    document `org` issues; a stage's document adds its cycle (`_common`), an owner's its own (app/documents/owned.py).
    """
    if signer is None:
        roles = ", ".join(f"«{ROLES[r]}»" for r in dtype.signer_roles)
        refuse(dtype.title, [f"В организации «{org.display_name}» нет пользователя с ролью {roles}, "
                              "который мог бы подписать документ."])
    executor = executor or signer
    number = _attr(version, "registration_number")
    reg_date = _attr(version, "registration_date")
    signatures = [s for s in (_attr(version, "signatures") or []) if _attr(s, "meaning") == dtype.sign_meaning]
    approved_on = _attr(signatures[0], "signed_at") if signatures else reg_date
    # A signed version names its signer as the signature recorded them, not as the people are today.
    signed_by = ({"position": _attr(signatures[0], "signer_position") or "",
                  "name": initials_name(_attr(signatures[0], "signer_name"))} if signatures else
                 {"position": signer.position or ROLES.get(sorted(signer.role_codes())[0], ""),
                  "name": ru.initials_surname(signer.full_name)})
    # The бланк's справочные данные (address, phone, e-mail, ОКПО/ОГРН/ИНН/КПП); the place when there are none.
    letterhead = [line for line in params.get("letterhead") or [] if line] or requisites_lines(org) or [_place(org)]
    return {
        "org": {"name": org.name, "name_genitive": name_genitive(org), "short_name": org.display_name,
                "place": params.get("place") or _place(org),
                "letterhead": letterhead, "head_position": org.head_position,
                **{key: getattr(org, key) for key in ("address", "phone", "email", "website", "okpo", "ogrn", "inn",
                                                      "kpp")}},
        "doc": {"type_title": dtype.title.upper(), "title": dtype.title, "heading": dtype.title,
                "date": fmt_date(reg_date), "date_long": fmt_date_long(reg_date), "number": number,
                "draft_mark": "" if number else "ПРОЕКТ", "period": None,
                "version": _attr(version, "number") or 1},
        "signer": signed_by,
        "executor": {"name": executor.full_name, "contact": _executor_contact(executor, org)},
        "approval": {**signed_by,
                     # the day it was signed where the organisation works, not its UTC day (22:30 UTC is 01:30 in
                     # Moscow the next day)
                     "date": fmt_date_long(local_day(approved_on, org))},
        "agreements": _agreements(dtype, org, version),
    }


def registered_reference(cycle, type_key: str) -> str:
    """« от 07.12.2026 № 1-с»: the date and registration number of the cycle's latest registered document of
    `type_key`, for a document that rests on it («На основании аналитической справки … от … № …»); empty while none
    is registered. ГОСТ Р 7.0.97 cites a document by its date and number: «на основании аналитической справки по
    результатам мониторинга» named none, though the справка was registered (records-office review, 7 December 2026).
    """
    version = db.session.scalars(
        select(DocumentVersion).join(Document)
        .where(Document.cycle_id == cycle.id, Document.type_key == type_key,
               DocumentVersion.registration_number.is_not(None))
        .order_by(DocumentVersion.registration_date.desc(), DocumentVersion.id.desc()).limit(1)).first()
    if version is None:
        return ""
    return f" от {fmt_date(version.registration_date)} № {version.registration_number}"


def _indicator_rows(cycle) -> list[dict]:
    indicators, units = cycle.indicators, [i.unit for i in cycle.indicators]
    # one number of decimals per column («72,0» under «50,5»), a count whole
    baselines = ru.column([i.baseline for i in indicators], units)
    targets = ru.column([i.target for i in indicators], units)
    return number_rows([{
        "code": i.code, "name": i.name, "unit": i.unit, "baseline": baseline, "target": target,
        "direction": i.direction_label, "source": i.source or DASH, "periodicity": i.periodicity or DASH,
        "responsible": initials_first(i.responsible) or DASH, "group": i.group_name,
    } for i, baseline, target in zip(indicators, baselines, targets)])


def _organisation_rows(orgs) -> list[dict]:
    return number_rows([{"name": o.name, "head": head_of(o)} for o in orgs])


# --- the builders, one per type -------------------------------------------------------------------------

def _regulation(dtype, stage, ctx, **_):
    cycle = stage.cycle
    if not cycle.goals:
        refuse(dtype.title, ["Не сформулировано ни одной цели цикла (этап «Цели»)."])
    level = LEVEL_SYSTEM.get(cycle.owner.level or "", "")
    # The heading names the direction: the положения of two tracks of one owner and period are not identical.
    ctx["doc"]["heading"] = (f"о {level} системе оценки качества образования по направлению "
                             f"{ctx['cycle']['mechanism']}").replace("о  ", "о ")
    return {
        # «(направление: развитие …)»: the direction goes on the sentence in lower case; so do the justification and
        # the realism after their labels («Обоснование: доля …», as the analytic report's «Причины: …»), each ending
        # with one full stop — «Обоснование: Доля …», «Реалистичность: В школах …» (records-office review, 7 December
        # 2026)
        "goals": number_rows([{"direction": ru.lower_first(g.direction), "statement": g.statement,
                                "justification": ru.sentence(ru.lower_first((g.justification or "").strip())),
                                "realism": ru.sentence(ru.lower_first((g.realism or "").strip()))}
                               for g in cycle.goals]),
        "schedule": number_rows([{"title": s.title, "responsible": person(s.responsible),
                                   "deadline": fmt_date(s.deadline) or DASH} for s in cycle.stages]),
        "basis": list(LEGAL_BASIS_INSTRUMENTAL),
    }


def _indicators_approval(dtype, stage, ctx, **_):
    cycle = stage.cycle
    problems = []
    if not cycle.indicators:
        problems.append("Не задано ни одного показателя (этап «Показатели»).")
    if stage.code == "METH" and not cycle.collection_methods:
        problems.append("Не описано ни одного метода сбора информации (этап «Методы»).")
    if problems:
        refuse(dtype.title, problems)
    methods = number_rows([{"source": m.source, "method": m.method, "tool": m.tool, "schedule": m.schedule}
                           for m in cycle.collection_methods])
    # made at «Показатели» before the methods are described, the перечень is of the indicators only
    subject = "показателей и методов сбора и обработки информации" if methods else "показателей"
    ctx["doc"]["heading"] = f"{subject} ({ctx['cycle']['mechanism']}) на {cycle.period} учебный год"
    return {"indicators": _indicator_rows(cycle), "methods": methods}


def _requests(cycle) -> list:
    return list(db.session.scalars(select(DataRequest).where(DataRequest.cycle_id == cycle.id)
                                   .order_by(DataRequest.id)))


def _regulation_named(cycle) -> str:
    """The cycle's положение after «в соответствии с» as its title says it («положением о муниципальной системе оценки
    качества образования») with its date and number once registered (it said «о системе …», without either)."""
    level = LEVEL_SYSTEM.get(cycle.owner.level or "", "")
    return (f"положением о {level} системе оценки качества образования".replace("о  ", "о ")
            + registered_reference(cycle, "regulation"))


def _monitoring_order(dtype, stage, ctx, **_):
    cycle = stage.cycle
    problems = []
    if not cycle.indicators:
        problems.append("Не задано ни одного показателя мониторинга.")
    requests = _requests(cycle)
    responsible = person(stage.responsible)
    items = []

    def item(text: str, executor: str, day) -> None:
        # An order takes effect when it is signed: none of its items falls due before that day (the event and the
        # campaign orders record the start of what they order, the decision order its decisions' deadlines).
        items.append({"text": text, "executor": executor, "label": ru.responsible_label(executor),
                      "deadline": fmt_date(day)})
        dating.deadline(ctx, day, f"исполнение пункта {len(items)} приказа")

    last = max((r.deadline for r in requests), default=stage.deadline)
    if last is None:
        # a new cycle's later stages have no deadlines: the refusal says where to set one (walk 17)
        problems.append(f"Не указан срок этапа «{stage.title}» и нет ни одного запроса сведений со сроком: укажите "
                        "срок этапа в разделе «Ответственный и срок» или создайте запрос сведений.")
    if problems:
        refuse(dtype.title, problems)
    for req in requests:
        # A single request is the monitoring itself: its title («Сведения для мониторинга … по направлению «…»»)
        # only repeated «сбор сведений» and the direction of the preamble; several are told apart by their titles.
        which = f" по запросу {ru.quote(req.title)}" if len(requests) > 1 else ""
        item(f"Провести сбор сведений о значениях показателей{which} за {req.period} учебный год по перечню "
             "показателей (приложение № 1).", responsible, req.deadline)
    if not requests:
        item("Провести мониторинг показателей по перечню (приложение № 1).", responsible, last)
    item("Руководителям организаций — участников мониторинга (приложение № 2) обеспечить представление "
         "достоверных сведений в установленный срок.", "руководители образовательных организаций", last)
    analysis = cycle.stage("ANL")
    item("Подготовить аналитическую справку по результатам мониторинга.",
         person(analysis.responsible if analysis and analysis.responsible else stage.responsible),
         analysis.deadline if analysis and analysis.deadline else last)
    if requests:
        orgs = {s.organisation.id: s.organisation for r in requests for s in r.submissions}
        addressees = sorted(orgs.values(), key=lambda o: o.name)
    else:
        addressees = addressee_choices(cycle)
    ctx["doc"]["heading"] = f"О проведении мониторинга показателей ({ctx['cycle']['mechanism']}) " \
                            f"в {cycle.period} учебном году"
    return {
        "preamble": f"В целях получения объективной информации о состоянии и результатах деятельности по "
                    f"направлению {ctx['cycle']['mechanism']} и в соответствии с {_regulation_named(cycle)},",
        "items": items, "control": CONTROL_ITEM,
        "indicators": [{k: r[k] for k in ("number", "code", "name", "unit", "source")} for r in _indicator_rows(cycle)],
        "addressees": _organisation_rows(addressees),
    }


def _data_request_letter(dtype, stage, ctx, *, params, **_):
    cycle = stage.cycle
    request = None
    if params.get("data_request_id"):
        request = db.session.get(DataRequest, int(params["data_request_id"]))
        if request is None or request.cycle_id != cycle.id:
            refuse(dtype.title, ["Запрос сведений не найден в этом цикле."])
    else:
        requests = _requests(cycle)
        request = requests[-1] if requests else None
    if request is None:
        refuse(dtype.title, ["В цикле нет запроса сведений, к которому относится письмо."])
    if not request.items:
        refuse(dtype.title, [f"В запросе {ru.quote(request.title)} нет ни одного показателя."])
    dating.deadline(ctx, request.deadline, "предоставление сведений")
    orgs = sorted((s.organisation for s in request.submissions), key=lambda o: o.name)
    indicators = number_rows([{"code": i.code, "name": i.name, "unit": i.unit} for i in request.indicators])
    addressees = _organisation_rows(orgs)
    ctx["doc"]["heading"] = "О предоставлении сведений"
    return {
        "letter": {"reply_number": params.get("reply_number"), "reply_date": params.get("reply_date")},
        "addressee_block": ["Руководителям образовательных организаций", "(по списку рассылки)"],
        "request": {"title": ru.quotable(request.title), "period": request.period,
                    "deadline": fmt_date(request.deadline),
                    "deadline_long": fmt_date_long(request.deadline)},
        "indicators": indicators,
        "addressees": addressees,
        "appendix": {"title": "перечень запрашиваемых показателей и список рассылки",
                     "sheets": appendix_sheets(indicators, addressees), "copies": 1},
    }


# The data request letter's appendix, measured in LibreOffice (A4, 12 pt table text): about 47 table lines a page
# after the repeated header row; the appendix's mark, two headings and two header rows take about 10; an indicator's
# name wraps at about 55 characters of its 11.5 cm column, an organisation's at about 50 of its 10.5 cm.
_APPENDIX_LINES_PER_SHEET = 47
_APPENDIX_OVERHEAD_LINES = 10


def appendix_sheets(indicators: list[dict], addressees: list[dict]) -> int:
    """The sheets the letter's appendix (the indicators and the mailing list) takes, for «Приложение: … на N л.»:
    «1 + (indicators + organisations) // 30» said 6 sheets for 5 indicators and 150 schools that print on 4."""
    lines = _APPENDIX_OVERHEAD_LINES
    lines += sum(max(1, -(-len(i.get("name") or "") // 55)) for i in indicators)
    lines += sum(max(1, -(-len(a.get("name") or "") // 50)) for a in addressees)
    return max(1, -(-lines // _APPENDIX_LINES_PER_SHEET))


def addressee_org(addressee) -> Organisation | None:
    if addressee is None or isinstance(addressee, Organisation):
        return addressee
    return db.session.get(Organisation, int(addressee))


def _practice_values(values, units, digits: int | None = None) -> list[str]:
    """A column of the practices' table: «59,0 %» beside «95,7 %» (one number of decimals), a count whole as the
    analytic report prints it («24», never «24,33»)."""
    return [f"{text} %" if unit == "%" and text != DASH else text
            for text, unit in zip(ru.column(values, units, digits), units)]


def _best_practices(dtype, stage, ctx, *, params, **_):
    cycle = stage.cycle
    values = indicator_values(cycle)
    practices, raw, measured = [], [], []
    for ind in basis_indicators(cycle):
        pairs = values.get(ind.id) or []
        if len(pairs) < 2:
            continue
        best = (max if ind.direction == "up" else min)(pairs, key=lambda p: p[1])
        # a value in «чел.», «ед.» … is printed bare (units are not declined): the unit follows the indicator's name
        unit = f", {ind.unit.strip()}" if ind.unit and ind.unit.strip() != "%" else ""
        practices.append({"organisation": best[0].name, "indicator": f"{ind.code} {ind.name}{unit}"})
        raw.append((best[1], mean([v for _, v in pairs]), ind.unit))
        if not ru.is_count_unit(ind.unit):
            measured += [v for _, v in pairs]
    if not practices:
        refuse(dtype.title, [f"Нет значений показателей за {cycle.period} учебный год хотя бы по двум "
                              "организациям: выделить успешные практики не из чего."])
    best_values, averages, units = zip(*raw)
    # the average, computed, with the precision of the values it comes from and at least one decimal
    for row, value, average in zip(practices, _practice_values(best_values, units),
                                   _practice_values(averages, units, max(1, ru.decimals(measured)))):
        row.update(value=value, average=average)
    leaders = list(dict.fromkeys(p["organisation"] for p in practices))
    lines = params.get("recommendations") or [
        f"Организовать изучение опыта: {', '.join(leaders[:5])} — на заседаниях методических объединений и "
        "в форме стажировок.",
        "Руководителям образовательных организаций включить изучение успешных практик в планы методической работы.",
        "Информационно-методическому центру обобщить и опубликовать описание успешных практик.",
    ]
    ctx["doc"]["heading"] = "Об использовании успешных практик"
    return {
        "letter": {"reply_number": params.get("reply_number"), "reply_date": params.get("reply_date")},
        "addressee_block": ["Руководителям образовательных организаций", "(по списку рассылки)"],
        "practices": number_rows(practices), "recommendations": list(lines),
    }


BUILDERS = {
    "regulation": _regulation,
    "indicators_approval": _indicators_approval,
    "monitoring_order": _monitoring_order,
    "data_request_letter": _data_request_letter,
    "best_practices": _best_practices,
}


def register_builder(type_key: str, builder, *, prepare=None) -> None:
    """Declare the builder of a type whose data another feature owns: fn(dtype, stage, ctx, *, addressee, params)
    returns the type's own variables (the requisites are in `ctx` already). `prepare`: for a per-addressee type,
    fn(cycle_id, org_ids) reading for all the addressees of a batch at once what the builder reads per addressee
    (see prepare_addressees)."""
    BUILDERS[type_key] = builder
    if prepare is not None:
        _PREPARERS[type_key] = prepare


def build_context(type_key: str, stage, *, addressee=None, params=None, version=None) -> dict:
    """The template context of a document of `type_key` for `stage` (see the module docstring).
    `addressee`: the Organisation (or its id) of a per-addressee type; `params`: extra choices such as
    data_request_id, measure_id, place, letterhead, reply_number/reply_date; `version`: the DocumentVersion
    (or a dict) whose registration number/date, approvals and signatures the requisites show."""
    dtype = get_type(type_key)
    builder = BUILDERS.get(type_key)
    if builder is None:
        raise ValidationFailed(f"Для вида документа «{dtype.title}» не задан построитель данных.")
    params = dict(params or {})
    ctx = _common(dtype, stage, version, params)
    if "charts" in declared_variables(type_key):
        # A letter's бланк places the organisation's emblem (as a picture, like a chart); a report adds its charts.
        owner = stage.cycle.owner
        # Only an organisation that has an emblem pays for loading it (the letters of a batch share it).
        ctx["charts"] = {"emblem": owner.emblem} if owner.emblem_sha256 else {}
    built = builder(dtype, stage, ctx, addressee=addressee, params=params)
    if "charts" in built and ctx.get("charts"):
        built["charts"] = {**ctx["charts"], **built["charts"]}
    ctx.update(built)
    # A draft is made today and dated when it is signed: what cannot be dated today is refused now, with why
    # (the signature and the registration check the same rules again on their own day).
    org = stage.cycle.owner
    wrong = dating.problems(ctx.get("dating"), org_today(org))
    if wrong and not (_attr(version, "signatures") or _attr(version, "registration_number")):
        refuse(dtype.title, wrong)
    return ctx
