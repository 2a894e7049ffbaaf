"""Operations of the assessment of municipal mechanisms: campaigns, coordinators, the register of experts,
assignments, publishing, scores and evidence. They validate, change state through the workflow engine (which
decides who may act, writes the audit events and the tasks), flush, and never commit.

Who reads what (`Scope`): the region's officials, head, administrators and auditors read the whole campaign; a
coordinator reads the municipalities they coordinate, an expert the municipalities assigned to them; nobody else
(schools included) sees the campaign at all.

Beyond the campaign, the expert's role itself is valid only over the municipalities assigned to them
(`assigned_municipalities`, answering the core's `assigned_organisations` hook; app/auth/roles.py ASSIGNED_ROLES):
their cycles, documents and audit log, in every page scoped by the one access policy (app/core/access.py). An
assignment counts once its campaign is published (the regional order appoints the experts) and stays after the
campaign closes (the expert's conclusion and the evidence package are read later); a draft campaign's assignments
and an expert excluded from the register grant nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.assessment import evidence as auto
from app.assessment.criteria import level_of
from app.assessment.models import (
    EXPERT_STATUSES, Assignment, Campaign, CampaignMunicipality, CriteriaSet, Criterion, EvidenceItem, Expert, Score,
    SelfAssessment,
)
from app.audit import chain
from app.audit.models import AuditEvent
from app.auth.models import RoleAssignment, User, bump_assignment_generation
from app.auth.roles import ASSIGNED_ROLES
from app.core.access import acting_has_role, acting_roles_over
from app.core.checks import FORM_INCOMPLETE, MISSING_VERSION, check_seen, check_version, form_int, require_role
from app.core.spreadsheets import DATE, INTEGER, append_row, finish_sheet, generated_note
from app.core.forms import REQUIRED, one_line
from app.core.errors import InvalidTransition, NotFound, PermissionDenied, StaleObject, ValidationFailed
from app.core.timeutil import format_date, is_academic_year, utcnow
from app.cycles.models import Cycle
from app.documents.attachments import attach
from app.documents.models import Document, DocumentVersion
from app.extensions import db
from app.orgs.models import Organisation
from app.orgs.services import org_time_zone, org_today
from app.tasks import services as tasks
from workflows import engine
from workflows import expert_evaluation as evaluation_flow
from workflows import self_assessment as self_flow
from workflows.assessment_campaign import MANAGERS, past_end

READERS = frozenset({"official", "head", "admin", "auditor"})  # read the whole campaign (over its region)
MAX_COMMENT = 4000
MAX_TITLE = 500


# --- scope -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """What one user may read of one campaign: everything, or the municipalities coordinated / assigned, or — read
    only, the results as they are submitted and approved — the municipalities whose education authority they head."""

    all: bool
    coordinated: frozenset[int]
    assigned: frozenset[int]
    manager: bool
    headed: frozenset[int] = frozenset()

    @property
    def working_ids(self) -> frozenset[int]:
        """The municipalities the user works on in the campaign (coordinates or evaluates)."""
        return self.coordinated | self.assigned

    @property
    def municipality_ids(self) -> frozenset[int]:
        return self.coordinated | self.assigned | self.headed

    def sees(self, municipality_id: int) -> bool:
        return self.all or municipality_id in self.municipality_ids

    def __bool__(self) -> bool:
        return self.all or bool(self.municipality_ids)

    def shows_self(self, municipality_id: int, state: str | None) -> bool:
        """The self-assessment's points are the coordinator's work until submitted: the readers of the whole campaign
        and the municipality's coordinator see them as they stand, an expert (who reads the municipality by an
        assignment only) and the municipality's head once the coordinator has submitted them — not a draft, nor a
        returned one being revised."""
        return self.all or municipality_id in self.coordinated or state in SELF_SHOWN

    def shows_expert(self, municipality_id: int, state: str | None) -> bool:
        """The expert's points are the expert's work until sent for approval, as the self-assessment's are the
        coordinator's: the readers of the whole campaign (who organise the assessment and approve it) and the assigned
        expert see them as they stand; the municipality's coordinator once the expert has sent them (on approval or
        approved) — not a draft, nor one the region's head returned to the expert, being revised; the municipality's
        head once the region's head has approved them."""
        return (self.all or municipality_id in self.assigned
                or (municipality_id in self.coordinated and state in EXPERT_LEVEL_SHOWN) or state in EXPERT_PUBLISHED)


# The self-assessment states whose points an assigned expert (and the municipality's head) reads (Scope.shows_self).
SELF_SHOWN = frozenset({"submitted"})
# The evaluation states whose level the campaign table shows as the expert's, and whose points the municipality's
# coordinator reads (Scope.shows_expert): submitted or approved. A draft is the expert's work in progress, and one
# returned to the expert is being revised («на доработке») until resubmitted.
EXPERT_LEVEL_SHOWN = frozenset({"submitted", "approved"})
# The evaluation states whose points the municipality's head reads (Scope.shows_expert): approved by the region.
EXPERT_PUBLISHED = frozenset({"approved"})
# Who reads their own municipality's part of a published campaign without working on it: the head of its education
# authority (or their deputy while standing in), read-only.
MUNICIPAL_READERS = frozenset({"head"})
# Where an evaluation stands, said to a municipality's reader who does not see its points yet (expert_withheld).
_EXPERT_WHERE = {"returned": "Оценка возвращена эксперту на доработку.",
                 "submitted": "Оценка на утверждении у руководителя регионального органа."}
# The expert column's cell where the points are withheld (the sheet): the state in a word, not a blank.
_EXPERT_HIDDEN = {"returned": "на доработке", "submitted": "не утверждена"}


def expert_hidden_word(state: str | None) -> str:
    """What the sheet's expert column and «Итого» say where the points are withheld from the reader: the state of
    the evaluation in a word, or that no expert is assigned."""
    if state is None:
        return "эксперт не назначен"
    return _EXPERT_HIDDEN.get(state, "не направлена")


def expert_withheld(scope: Scope, municipality_id: int, state: str | None, *, self_shown: bool) -> str | None:
    """What the municipality's coordinator or head reads on an evaluation whose points are not theirs yet
    (Scope.shows_expert): where it stands, when its points open to them and what they read meanwhile (`self_shown`:
    the self-assessment's points are shown to them) — in place of the blank «эксперт — —» the page showed over a
    draft; None where the points are shown."""
    if scope.shows_expert(municipality_id, state):
        return None
    where = "Эксперт по механизму ещё не назначен." if state is None else \
        _EXPERT_WHERE.get(state, "Эксперт ещё оценивает механизм: черновик оценки — его рабочий материал.")
    if municipality_id in scope.coordinated:
        when = ", когда эксперт направит её повторно" if state == "returned" else \
            ", когда эксперт направит оценку на утверждение"
    else:
        when = " после утверждения оценки руководителем регионального органа"
    now = " и самооценка муниципалитета." if self_shown else "; самооценка — когда координатор её представит."
    # «вы»: the coordinator and the head see the points at different steps, so «муниципалитет увидит» was untrue
    return (f"{where} Баллы и комментарии эксперта вы увидите{when}. Сейчас здесь видны баллы, "
            f"предложенные системой, доказательства{now}")


def hidden_self(campaign: Campaign, scope: Scope) -> frozenset[tuple[int, str]]:
    """(municipality id, mechanism) of the self-assessments whose points `scope` may not see (one query; none for
    the readers of the whole campaign)."""
    if scope.all:
        return frozenset()
    return frozenset((mid, code) for mid, code, state in db.session.execute(
        select(SelfAssessment.municipality_id, SelfAssessment.mechanism_code, SelfAssessment.state)
        .where(SelfAssessment.campaign_id == campaign.id)) if not scope.shows_self(mid, state))


def hidden_expert(campaign: Campaign, scope: Scope) -> frozenset[tuple[int, str]]:
    """(municipality id, mechanism) of the evaluations whose points `scope` may not see yet (Scope.shows_expert)."""
    if scope.all or not (scope.headed or scope.coordinated):
        return frozenset()
    return frozenset((a.municipality_id, a.mechanism_code) for a in campaign.assignments
                     if not scope.shows_expert(a.municipality_id, a.state))


def _withheld(user, model, shown) -> set[int]:
    """Ids of the `model` rows (self-assessments or evaluations) of every campaign whose points `user` may not read
    yet (`shown`: Scope.shows_self or Scope.shows_expert): the audit log withholds their events as the pages
    withhold them (labels.WITHHELD)."""
    hidden: set[int] = set()
    for campaign in db.session.scalars(select(Campaign)):  # a handful: one a year per region
        scope = scope_of(campaign, user)
        if scope.all:
            continue
        hidden.update(row_id for row_id, mid, state in db.session.execute(
            select(model.id, model.municipality_id, model.state).where(model.campaign_id == campaign.id))
            if not shown(scope, mid, state))
    return hidden


def withheld_self_assessments(user) -> set[int]:
    return _withheld(user, SelfAssessment, Scope.shows_self)


def withheld_evaluations(user) -> set[int]:
    return _withheld(user, Assignment, Scope.shows_expert)


def without_self(totals_: dict) -> dict:
    """Totals with the self-assessment's side blanked (its points not shown to this reader yet)."""
    return {**totals_, "self": None, "self_level": None, "self_percent": None}


def without_expert(totals_: dict) -> dict:
    """Totals with the expert's side blanked (not approved yet, for the municipality's head)."""
    return {**totals_, "expert": None, "expert_level": None, "expert_percent": None}


def headed_municipalities(campaign: Campaign, user) -> frozenset[int]:
    """The campaign's municipalities whose authority `user` heads (or stands in for its head), once published."""
    if campaign.state == "draft" or not acting_has_role(user, *MUNICIPAL_READERS):
        return frozenset()  # no query for everybody who heads nothing
    # the municipalities in one query, not one lazy load each (a region has some fifty)
    return frozenset(org.id for org in db.session.scalars(
        select(Organisation).join(CampaignMunicipality, CampaignMunicipality.municipality_id == Organisation.id)
        .where(CampaignMunicipality.campaign_id == campaign.id))
        if acting_roles_over(user, org) & MUNICIPAL_READERS)


def scope_of(campaign: Campaign, user) -> Scope:
    roles = acting_roles_over(user, campaign.organisation)
    coordinated = frozenset(db.session.scalars(select(CampaignMunicipality.municipality_id).where(
        CampaignMunicipality.campaign_id == campaign.id, CampaignMunicipality.coordinator_id == user.id)))
    # As assigned_municipalities: an expert excluded from the register reads nothing more.
    assigned = frozenset(db.session.scalars(
        select(Assignment.municipality_id).join(Expert, Expert.id == Assignment.expert_id)
        .where(Assignment.campaign_id == campaign.id, Assignment.expert_user_id == user.id,
               Expert.status == "active"))) if campaign.state != "draft" else frozenset()
    readers = bool(roles & READERS)
    return Scope(all=readers, coordinated=coordinated if campaign.state != "draft" else frozenset(),
                 assigned=assigned, manager=bool(roles & MANAGERS),
                 headed=frozenset() if readers else headed_municipalities(campaign, user))


def assigned_municipalities(user) -> list[tuple[str, int]]:
    """(path, id) of the municipalities assigned to the user as an active expert of the register in a published
    or closed campaign (one query): where the expert role reads."""
    return [(path, org_id) for path, org_id in db.session.execute(
        select(Organisation.path, Organisation.id).distinct()
        .join(Assignment, Assignment.municipality_id == Organisation.id)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .join(Expert, Expert.id == Assignment.expert_id)
        .where(Assignment.expert_user_id == user.id, Campaign.state != "draft", Expert.status == "active"))]


def reads_criteria(user, cset: CriteriaSet) -> bool:
    """A region's own criteria version: read by the people of the region, and once published by the experts of its
    register too (their role reads only the municipalities assigned to them)."""
    if cset.organisation is None or acting_roles_over(user, cset.organisation) - ASSIGNED_ROLES:
        return True
    return cset.frozen and db.session.scalar(select(Expert.id).where(
        Expert.register_org_id == cset.organisation_id, Expert.user_id == user.id,
        Expert.status == "active")) is not None


def campaign_for(campaign_id: int, user) -> tuple[Campaign, Scope]:
    """The campaign and the user's scope in it, or NotFound (404) when the user sees nothing of it."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound()
    scope = scope_of(campaign, user)
    if not scope:
        raise NotFound()
    return campaign, scope


def require_sees(campaign: Campaign, scope: Scope, municipality_id: int) -> None:
    if not scope.sees(municipality_id):
        raise NotFound()


def campaigns_of(user) -> list[Campaign]:
    """Campaigns the user reads: of a region they hold a reading role over, or where they coordinate / are
    assigned / head a municipality's authority (published campaigns only)."""
    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.window_start.desc(), Campaign.id.desc())
                                   .options(selectinload(Campaign.organisation))).all()
    coordinated = set(db.session.scalars(select(CampaignMunicipality.campaign_id).where(
        CampaignMunicipality.coordinator_id == user.id)))
    assigned = set(db.session.scalars(select(Assignment.campaign_id).where(Assignment.expert_user_id == user.id)))
    out = []
    for c in campaigns:
        if acting_roles_over(user, c.organisation) & READERS or (
                c.state != "draft" and (c.id in coordinated or c.id in assigned or headed_municipalities(c, user))):
            out.append(c)
    return out


def manager_regions(user) -> list[Organisation]:
    """Regions where the user may organise campaigns (official or head of a region)."""
    return sorted({r.organisation for r in user.roles if r.role in MANAGERS and r.organisation.kind == "region"},
                  key=lambda o: o.name)


def history(*objects) -> list[AuditEvent]:
    """The audit events of self-assessments and expert evaluations, oldest first: who scored, submitted, returned,
    approved and attached evidence, when and with what comment. Their pages show it so that an auditor (and the head
    deciding on a returned evaluation) reads the trail of a score where the score is, not by combing the audit log."""
    pairs = [(o.audit_type, o.id) for o in objects if o is not None]
    if not pairs:
        return []
    return list(db.session.scalars(
        select(AuditEvent).where(or_(*((AuditEvent.object_type == kind) & (AuditEvent.object_id == oid)
                                       for kind, oid in pairs)))
        .order_by(AuditEvent.id)))


# --- helpers ---------------------------------------------------------------------------------------------------

def _clean(text, limit: int, label: str, problems: list[str]) -> str:
    """The typed text, trimmed; past `limit` characters it is refused, not cut: a problem naming the field and the
    limit goes to `problems` and the text comes back whole (the refused form shows it again). It was stored as its
    first `limit` characters without a word — a browser's maxlength stops typing, not a pasted or hand-made form."""
    text = (text or "").replace("\r\n", "\n").strip()  # a line break as the browser's maxlength counts it: one
    if len(text) > limit:
        problems.append(f"{label} длиннее {limit} символов ({len(text)}); сократите текст.")
    return text


def _clean_line(text, limit: int, label: str, problems: list[str]) -> str:
    """_clean for a one-line field: its line breaks become spaces and characters that print as nothing go, as
    app.core.forms.Form does for every one-line field. These pages' forms are written by hand, not WTForms, and a
    campaign's title with a right-to-left override or a line break went as typed into its tasks, its order and the
    audit log (attack 17)."""
    return _clean(one_line(text or ""), limit, label, problems)


def _audit(action: str, obj, *, actor, role, before=None, after=None, reason=None) -> None:
    chain.record(action=action, object_type=obj.audit_type, object_id=obj.id, actor=actor, actor_role=role,
                 organisation_id=obj.organisation.id, to_state=getattr(obj, "state", None), before=before,
                 after=after, reason=reason)


def _manager(actor, campaign_or_region) -> str:
    org = campaign_or_region.organisation if isinstance(campaign_or_region, Campaign) else campaign_or_region
    return require_role(actor, org, MANAGERS, "Кампанией оценки механизмов управляет специалист или руководитель "
                                              "регионального органа управления образованием.")


def municipalities_of(region: Organisation) -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).where(
        Organisation.kind == "municipality", Organisation.path.like(region.path + "%")).order_by(Organisation.name)))


def _require_draft(campaign: Campaign, what: str) -> None:
    if campaign.state != "draft":
        raise InvalidTransition(f"Кампания уже опубликована: {what} нельзя.")


# --- campaign --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _CampaignFields:
    title: str
    period: str
    window_start: date
    window_end: date
    criteria_set: CriteriaSet
    mechanisms: list[str]
    municipalities: list[Organisation]


def _by_form_id(model, raw):
    """The row a form's id names, or None for a missing or malformed one (core.checks.form_int)."""
    number = form_int(raw)
    return db.session.get(model, number) if number else None


def _campaign_fields(region: Organisation, *, title, period, window_start, window_end, criteria_set_id, mechanisms,
                     municipality_ids, refusal: str, kept_end: date | None = None) -> _CampaignFields:
    """The campaign's settings checked all at once: every problem in Russian, or the cleaned values. `kept_end`: the
    draft's saved end, which may stay as it is once past (its title can still be corrected)."""
    problems = []
    title = _clean_line(title, MAX_TITLE, "Название кампании", problems)
    period = _clean_line(period, 20, "Период оцениваемых циклов", problems)
    if not title:
        problems.append("Укажите название кампании.")
    if not period:
        problems.append("Укажите период оцениваемых циклов (например, 2025/26).")
    elif len(period) <= 20 and not is_academic_year(period):
        # The period finds the municipalities' cycles (Cycle.period) and is printed «в … учебном году»: «2025-2026»
        # found none of them and every mechanism read «нет цикла».
        problems.append(f"Период «{period}» указывается как учебный год оцениваемых циклов, например 2025/26.")
    if window_start is None or window_end is None:
        problems.append("Укажите начало и окончание периода оценки.")
    elif window_end < window_start:
        problems.append("Окончание периода оценки раньше его начала.")
    elif window_end != kept_end and (past := past_end(region, window_end)):
        problems.append(past)
    cset = _by_form_id(CriteriaSet, criteria_set_id)
    if cset is None or cset.state != "published" or cset.level != "municipal":
        problems.append("Выберите опубликованную версию критериев муниципального уровня.")
    codes = list(dict.fromkeys(mechanisms or []))
    if cset is not None:
        unknown = [c for c in codes if c not in cset.mechanism_codes()]
        if unknown:
            problems.append(f"Механизмы {', '.join(unknown)} не входят в набор критериев.")
    if not codes:
        problems.append("Выберите хотя бы один механизм.")
    allowed = {o.id: o for o in municipalities_of(region)}
    ids = list(dict.fromkeys(form_int(i) for i in municipality_ids or [] if form_int(i) is not None))
    if not ids:
        problems.append("Выберите хотя бы один муниципалитет.")
    if any(i not in allowed for i in ids):
        problems.append("Можно выбрать только муниципалитеты своего региона.")
    if problems:
        raise ValidationFailed(refusal, problems=problems)
    return _CampaignFields(title, period, window_start, window_end, cset, codes, [allowed[i] for i in ids])


def create_campaign(region: Organisation, *, actor, title: str, period: str, window_start: date | None,
                    window_end: date | None, criteria_set_id, mechanisms, municipality_ids) -> Campaign:
    """A draft campaign of the region; the criteria version is frozen into it."""
    role = _manager(actor, region)
    f = _campaign_fields(region, title=title, period=period, window_start=window_start, window_end=window_end,
                         criteria_set_id=criteria_set_id, mechanisms=mechanisms, municipality_ids=municipality_ids,
                         refusal="Кампания не создана.")
    campaign = Campaign(organisation=region, title=f.title, period=f.period, window_start=f.window_start,
                        window_end=f.window_end, criteria_set=f.criteria_set, mechanisms=f.mechanisms,
                        created_by_id=actor.id)
    campaign.municipalities = [CampaignMunicipality(municipality=m) for m in f.municipalities]
    db.session.add(campaign)
    db.session.flush()
    _audit("create", campaign, actor=actor, role=role, after=campaign.audit_snapshot())
    return campaign


def _settings(campaign: Campaign) -> dict:
    return {**campaign.audit_snapshot(), "municipalities": sorted(m.municipality_id for m in campaign.municipalities),
            "assignments": sorted(f"{a.municipality_id} {a.mechanism_code} {a.expert_id}"
                                  for a in campaign.assignments)}


def update_campaign(campaign: Campaign, *, actor, title: str, period: str, window_start: date | None,
                    window_end: date | None, criteria_set_id, mechanisms, municipality_ids,
                    expected_version: int | None = None) -> None:
    """Change a draft campaign's settings (title, period, window, criteria version, mechanisms, municipalities) in
    one audited step. A municipality taken out loses its coordinator and experts, a mechanism taken out its experts;
    those kept keep theirs. After publishing only the window is extended (extend_campaign)."""
    role = _manager(actor, campaign)
    check_version(campaign, expected_version)
    if campaign.state != "draft":
        raise InvalidTransition("Кампания опубликована: изменить её условия нельзя, можно только продлить срок оценки.")
    f = _campaign_fields(campaign.organisation, title=title, period=period, window_start=window_start,
                         window_end=window_end, criteria_set_id=criteria_set_id, mechanisms=mechanisms,
                         municipality_ids=municipality_ids, refusal="Изменения не сохранены.",
                         kept_end=campaign.window_end)
    before = _settings(campaign)
    campaign.title, campaign.period = f.title, f.period
    campaign.window_start, campaign.window_end = f.window_start, f.window_end
    campaign.criteria_set, campaign.mechanisms = f.criteria_set, f.mechanisms
    keep = {m.id for m in f.municipalities}
    campaign.municipalities = [m for m in campaign.municipalities if m.municipality_id in keep] + [
        CampaignMunicipality(municipality=m) for m in f.municipalities
        if m.id not in {row.municipality_id for row in campaign.municipalities}]
    campaign.assignments = [a for a in campaign.assignments
                            if a.municipality_id in keep and a.mechanism_code in f.mechanisms]
    if _settings(campaign) == before:
        return
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleObject() from None
    _audit("update", campaign, actor=actor, role=role, before=before, after=_settings(campaign))


def _is_user_of(user: User, municipality: Organisation) -> bool:
    return any(r.organisation.path.startswith(municipality.path) for r in user.roles)


def coordinator_choices(municipality: Organisation) -> list[User]:
    """Active users holding a role in the municipality or below it."""
    return list(db.session.scalars(
        select(User).join(RoleAssignment, RoleAssignment.user_id == User.id)
        .join(Organisation, Organisation.id == RoleAssignment.organisation_id)
        .where(Organisation.path.like(municipality.path + "%"), User.active.is_(True),
               RoleAssignment.role.in_(("official", "head", "methodologist"))).distinct().order_by(User.full_name)))


def appoint_coordinator(campaign: Campaign, *, municipality_id: int, user_id, actor,
                        expected_version: int | None = None) -> CampaignMunicipality:
    """Appoint the municipality's coordinator. `expected_version` is the municipality row's as the form was opened:
    another manager's appointment since then is refused as stale (it checked the campaign's version, which an
    appointment does not move, so the second «Назначить» silently replaced the first one's coordinator)."""
    role = _manager(actor, campaign)
    if campaign.state == "closed":
        raise InvalidTransition("Кампания завершена.")
    row = next((m for m in campaign.municipalities if m.municipality_id == municipality_id), None)
    if row is None:
        raise NotFound("Муниципалитет не участвует в кампании.")
    # Not «обновите страницу» (StaleObject's default): a reload lost the choice, which the page keeps beside the
    # coordinator appointed meanwhile (views._coordinator_stored); sending it again replaces them knowingly.
    stale = (f"Координатора муниципалитета «{row.municipality.display_name}» назначил другой пользователь, пока "
             "форма была открыта; ваш выбор не записан.")
    check_seen(row.version, expected_version, stale)
    user = _by_form_id(User, user_id)
    if user is None or not user.active or not _is_user_of(user, row.municipality):
        raise ValidationFailed("Координатором назначается пользователь этого муниципалитета.",
                               problems=[f"Выберите сотрудника: {row.municipality.display_name}."])
    # The conflict the expert's assignment refuses, seen from the other side: the municipality's coordinator would
    # evaluate (and return) the self-assessment they wrote. Experts appointed first are checked here.
    assessed = sorted(a.mechanism_code for a in campaign.assignments
                      if a.municipality_id == municipality_id and a.expert_user_id == user.id)
    if assessed:
        raise ValidationFailed("Координатор не назначен.", problems=[
            f"Конфликт интересов: {user.full_name} — эксперт по муниципалитету «{row.municipality.display_name}» "
            f"(механизмы {', '.join(assessed)}) и не может координировать его самооценку; назначьте другого "
            "координатора или замените эксперта."])
    before = row.audit_snapshot()
    row.coordinator_id = user.id
    # The self-assessments (after publishing) move to the new coordinator, with their open tasks.
    for sa in db.session.scalars(select(SelfAssessment).where(SelfAssessment.campaign_id == campaign.id,
                                                              SelfAssessment.municipality_id == municipality_id)):
        sa.coordinator_id = user.id
        tasks.reschedule(sa, due_date=campaign.window_closes, assignee=user)
    try:
        db.session.flush()
    except StaleDataError:  # appointed by a concurrent request after this one read the row
        raise StaleObject(stale) from None
    _audit("appoint_coordinator", row, actor=actor, role=role, before=before, after=row.audit_snapshot())
    return row


def appointment_of(row: CampaignMunicipality) -> AuditEvent | None:
    """The audit event of the row's latest coordinator appointment: who appointed the coordinator and when (kept in the
    audit log only), for a refused stale «Назначить» to name beside the coordinator appointed meanwhile."""
    return db.session.scalar(select(AuditEvent).where(
        AuditEvent.object_type == row.audit_type, AuditEvent.object_id == row.id,
        AuditEvent.action == "appoint_coordinator").order_by(AuditEvent.id.desc()).limit(1))


def conflict_of_interest(expert: Expert, municipality: Organisation) -> bool:
    """The expert works in the municipality (or holds a role there): they never assess it."""
    if expert.workplace.path.startswith(municipality.path):
        return True
    return _is_user_of(expert.user, municipality)


def assign_expert(campaign: Campaign, *, municipality_id: int, mechanism_code: str, expert_id, actor,
                  today: date | None = None, expected_version: int | None = None) -> Assignment:
    """Assign an expert of the register to (municipality × mechanism). Refused: an excluded expert, a mechanism
    outside the expert's competences, the expert's own municipality (conflict of interest), and a form opened at
    another `expected_version` of the assignment (0: there was none yet) than the stored one."""
    role = _manager(actor, campaign)
    if campaign.state == "closed":
        raise InvalidTransition("Кампания завершена.")
    row = next((m for m in campaign.municipalities if m.municipality_id == municipality_id), None)
    if row is None:
        raise NotFound("Муниципалитет не участвует в кампании.")
    if mechanism_code not in campaign.mechanisms:
        raise ValidationFailed("Механизм не оценивается в этой кампании.")
    existing = assignment_for(campaign, municipality_id, mechanism_code)
    # Another manager assigned an expert to the same cell while this form was open (or the expert moved the
    # evaluation): without the check the second «Назначить» silently replaced the first one's choice.
    # Not «обновите страницу» (StaleObject's default): a reload lost the choice, which the page keeps beside the
    # expert assigned meanwhile (views._assignment_stored), as the coordinator's appointment does.
    check_seen(existing.version if existing is not None else 0, expected_version,
               f"Эксперта по механизму {mechanism_code} муниципалитета «{row.municipality.display_name}» назначил "
               "другой пользователь, пока форма была открыта; ваш выбор не записан.")
    expert = _by_form_id(Expert, expert_id)
    if expert is None or expert.register_org_id != campaign.organisation_id:
        raise ValidationFailed("Эксперт не найден в реестре региона.")
    problems = []
    if expert.status != "active":
        problems.append(f"{expert.user.full_name} исключён(а) из реестра экспертов.")
    if mechanism_code not in (expert.competences or []):
        problems.append(f"Механизм {mechanism_code} не входит в компетенции эксперта {expert.user.full_name}.")
    if conflict_of_interest(expert, row.municipality):
        problems.append(f"Конфликт интересов: эксперт {expert.user.full_name} работает в муниципалитете "
                        f"«{row.municipality.display_name}» и не может его оценивать.")
    if problems:
        raise ValidationFailed("Эксперт не назначен.", problems=problems)
    if existing is not None:
        # An unfinished evaluation of an expert excluded from the register passes to the new one with the points
        # entered so far (the audit log keeps who entered them): nobody else could ever finish it.
        taken_over = existing.expert.status != "active" and existing.state in ("draft", "returned")
        if not taken_over and (existing.state != "draft" or _has_expert_scores(existing)):
            raise InvalidTransition("Эксперт уже начал оценку этого механизма: замена невозможна.")
        before = existing.audit_snapshot()
        existing.expert, existing.expert_user = expert, expert.user
        if campaign.state == "published" and not tasks.reschedule(
                existing, due_date=campaign.window_closes, assignee=expert.user):
            kind, title = evaluation_flow.expert_task(existing)  # the excluded expert's task was closed
            tasks.open_task(existing, kind=kind, title=title, assignee=expert.user, due_date=campaign.window_closes)
        _set_self_expert(campaign, municipality_id, mechanism_code, expert.user_id)
        db.session.flush()
        bump_assignment_generation()  # the replaced and the new expert read other municipalities now
        _audit("assign_expert", existing, actor=actor, role=role, before=before, after=existing.audit_snapshot())
        return existing
    assignment = Assignment(campaign=campaign, municipality_id=municipality_id, mechanism_code=mechanism_code,
                            expert=expert, expert_user_id=expert.user_id)
    db.session.add(assignment)
    db.session.flush()
    _set_self_expert(campaign, municipality_id, mechanism_code, expert.user_id)
    bump_assignment_generation()
    _audit("assign_expert", assignment, actor=actor, role=role, after=assignment.audit_snapshot())
    if campaign.state == "published":
        engine.start(assignment, actor=actor)
    return assignment


def _set_self_expert(campaign, municipality_id, mechanism_code, user_id) -> None:
    sa = db.session.scalar(select(SelfAssessment).where(
        SelfAssessment.campaign_id == campaign.id, SelfAssessment.municipality_id == municipality_id,
        SelfAssessment.mechanism_code == mechanism_code))
    if sa is not None:
        sa.expert_user_id = user_id


def _has_expert_scores(assignment: Assignment) -> bool:
    return db.session.scalar(select(Score.id).where(
        Score.campaign_id == assignment.campaign_id, Score.municipality_id == assignment.municipality_id,
        Score.mechanism_code == assignment.mechanism_code, Score.expert_points.is_not(None)).limit(1)) is not None


def fixed_assignments(campaign: Campaign) -> set[tuple[int, str]]:
    """(municipality id, mechanism) of the assignments `assign_expert` would refuse to replace: the expert has begun
    (a score entered, or the evaluation past its draft) and is still in the register. One query for the campaign; the
    page shows the expert there instead of a «Назначить» that can only be refused."""
    scored = set(db.session.execute(select(Score.municipality_id, Score.mechanism_code).where(
        Score.campaign_id == campaign.id, Score.expert_points.is_not(None)).distinct()).tuples())
    fixed = set()
    for a in campaign.assignments:
        taken_over = a.expert.status != "active" and a.state in ("draft", "returned")
        if not taken_over and (a.state != "draft" or (a.municipality_id, a.mechanism_code) in scored):
            fixed.add((a.municipality_id, a.mechanism_code))
    return fixed


def criteria_of(campaign: Campaign, mechanism_code: str | None = None) -> list[Criterion]:
    query = select(Criterion).where(Criterion.set_id == campaign.criteria_set_id)
    if mechanism_code is not None:
        query = query.where(Criterion.mechanism_code == mechanism_code)
    else:
        query = query.where(Criterion.mechanism_code.in_(campaign.mechanisms))
    return list(db.session.scalars(query.order_by(Criterion.position)))


def publish_campaign(campaign: Campaign, *, actor, expected_version: int | None = None) -> None:
    """Publish: the engine checks completeness and who acts; then each (municipality × mechanism) gets its
    self-assessment (the coordinator's task) and every assignment its evaluation task, due at the window's end,
    and the proposed scores are computed from the evidence."""
    engine.fire(campaign, "publish", actor=actor, expected_version=expected_version)
    bump_assignment_generation()  # the experts appointed by the published order read their municipalities now
    coordinators = {m.municipality_id: m.coordinator_id for m in campaign.municipalities}
    experts = {(a.municipality_id, a.mechanism_code): a.expert_user_id for a in campaign.assignments}
    created = []
    for m in campaign.municipalities:
        for code in campaign.mechanisms:
            sa = SelfAssessment(campaign=campaign, municipality_id=m.municipality_id, mechanism_code=code,
                                coordinator_id=coordinators[m.municipality_id],
                                expert_user_id=experts.get((m.municipality_id, code)))
            db.session.add(sa)
            created.append(sa)
    db.session.flush()
    refresh_proposals(campaign)
    for sa in created:
        engine.start(sa, actor=actor)
    for assignment in campaign.assignments:
        engine.start(assignment, actor=actor)


def close_campaign(campaign: Campaign, *, actor, comment: str | None = None,
                   expected_version: int | None = None) -> int:
    """«Завершить кампанию» (its guard: the analytical report registered). The tasks still open on its
    self-assessments and evaluations close with it: nothing is accepted any more, yet the coordinators', experts' and
    head's tasks stayed open, reminded and escalated towards a sheet that refuses every submit. Returns how many."""
    engine.fire(campaign, "close", actor=actor, comment=comment, expected_version=expected_version)
    closed = tasks.close_tasks_for_all([
        *db.session.scalars(select(SelfAssessment).where(SelfAssessment.campaign_id == campaign.id)),
        *campaign.assignments])
    db.session.flush()
    return closed


def refresh_proposals(campaign: Campaign) -> int:
    """(Re)compute the proposed score and reason of every criterion of every municipality; creates the score rows
    that are missing. Returns how many rows were written. A fixed number of queries whatever the region's size."""
    criteria = criteria_of(campaign)
    municipality_ids = [m.municipality_id for m in campaign.municipalities]
    facts = auto.gather(campaign.period, municipality_ids, campaign.mechanisms, today=org_today(campaign.organisation))
    groups = auto.required_groups(campaign.mechanisms)
    titles = auto.block_titles()
    existing = {(s.municipality_id, s.criterion_id): s for s in db.session.scalars(
        select(Score).where(Score.campaign_id == campaign.id))}
    now = utcnow()
    written, new = 0, []
    for municipality_id, c, proposal in auto.propose_all(criteria, facts, municipality_ids, groups=groups,
                                                         titles=titles):
        score = existing.get((municipality_id, c.id))
        if score is None:
            new.append(dict(campaign_id=campaign.id, municipality_id=municipality_id,
                            mechanism_code=c.mechanism_code, criterion_id=c.id, proposed_points=proposal.points,
                            proposed_reason=proposal.reason, updated_at=now, version=1))
        elif (score.proposed_points, score.proposed_reason) != (proposal.points, proposal.reason):
            # Through the row (its version moves): a form opened before the change is refused as stale.
            score.proposed_points, score.proposed_reason = proposal.points, proposal.reason
            written += 1
    db.session.flush()
    if new:
        # Publishing a region's campaign creates 50 × 8 × 16 rows: one executemany, not an object per row.
        db.session.execute(insert(Score), new)
    return written + len(new)


def extend_campaign(campaign: Campaign, *, actor, until: date | None, reason: str,
                    expected_version: int | None = None) -> None:
    """Move the end of the window later (audited with the reason)."""
    role = _manager(actor, campaign)
    check_version(campaign, expected_version)
    problems = []
    reason = _clean_line(reason, MAX_COMMENT, "Основание продления", problems)
    if campaign.state != "published":
        problems.append("Продлить можно только идущую кампанию.")
    if until is None or until <= campaign.window_closes:
        problems.append(f"Новая дата окончания должна быть позже {format_date(campaign.window_closes)}.")
    elif past := past_end(campaign.organisation, until):
        # an extension that ends before today reopened nothing: the sheets stayed closed
        problems.append(past)
    if not reason:
        problems.append("Укажите основание продления.")
    if problems:
        raise ValidationFailed("Срок не продлён.", problems=problems)
    before = campaign.audit_snapshot()
    campaign.extended_until = until
    for obj in [*db.session.scalars(select(SelfAssessment).where(SelfAssessment.campaign_id == campaign.id)),
                *campaign.assignments]:
        tasks.reschedule(obj, due_date=until)
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleObject() from None
    _audit("extend", campaign, actor=actor, role=role, before=before, after=campaign.audit_snapshot(), reason=reason)


# --- register of experts ---------------------------------------------------------------------------------------

def experts_of(region: Organisation) -> list[Expert]:
    return list(db.session.scalars(select(Expert).where(Expert.register_org_id == region.id)
                                   .options(selectinload(Expert.user), selectinload(Expert.workplace))
                                   .join(User, User.id == Expert.user_id).order_by(User.full_name)))


def add_expert(region: Organisation, *, actor, user_id, organisation_id, position: str, competences,
               included_on: date | None, basis: str, mechanism_codes) -> Expert:
    role = _manager(actor, region)
    problems = []
    user = _by_form_id(User, user_id)
    workplace = _by_form_id(Organisation, organisation_id)
    if form_int(user_id) is None:
        # The list opens on a blank choice (a preselected first user was included by a careless click).
        problems.append(f"Пользователь: {REQUIRED}")
    elif user is None or not user.active:
        problems.append("Выберите пользователя.")
    elif db.session.scalar(select(Expert.id).where(Expert.user_id == user.id)):
        problems.append(f"{user.full_name} уже в реестре экспертов.")
    if workplace is None or not workplace.path.startswith(region.path):
        problems.append("Укажите место работы эксперта в регионе.")
    position = _clean_line(position, 300, "Должность эксперта", problems)
    basis = _clean_line(basis, 300, "Основание включения", problems)
    if not position:
        problems.append("Укажите должность эксперта.")
    codes = [c for c in dict.fromkeys(competences or [])]
    if not codes or any(c not in mechanism_codes for c in codes):
        problems.append("Выберите компетенции эксперта из механизмов набора критериев.")
    if included_on is None:
        problems.append("Укажите дату включения в реестр.")
    if not basis:
        problems.append("Укажите основание включения (номер и дату приказа).")
    if problems:
        raise ValidationFailed("Эксперт не включён в реестр.", problems=problems)
    expert = Expert(register_org=region, user=user, workplace=workplace, position=position, competences=codes,
                    included_on=included_on, basis=basis)
    db.session.add(expert)
    db.session.flush()
    _audit("create", expert, actor=actor, role=role, after=expert.audit_snapshot())
    return expert


def exclude_expert(expert: Expert, *, actor, on: date | None, reason: str,
                   expected_version: int | None = None) -> None:
    role = _manager(actor, expert.register_org)
    check_version(expert, expected_version)
    if expert.status != "active":
        raise InvalidTransition("Эксперт уже исключён из реестра.")
    problems = []
    reason = _clean_line(reason, MAX_COMMENT, "Основание исключения", problems)
    if on is None or not reason:
        problems.append("Укажите дату и основание исключения.")
    if problems:
        raise ValidationFailed("Эксперт не исключён.", problems=problems)
    before = expert.audit_snapshot()
    expert.status, expert.excluded_on = "excluded", on
    # Her unfinished evaluations wait for the expert the region assigns instead (assign_expert): the tasks close,
    # they led to pages she may no longer open.
    for assignment in db.session.scalars(select(Assignment).join(Campaign).where(
            Assignment.expert_id == expert.id, Campaign.state != "closed",
            Assignment.state.in_(("draft", "returned")))):
        tasks.close_tasks_for(assignment)
    bump_assignment_generation()
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleObject() from None
    _audit("exclude", expert, actor=actor, role=role, before=before, after=expert.audit_snapshot(), reason=reason)


def exclusion_of(expert: Expert) -> tuple[date | None, str]:
    """When the expert was excluded from the register and on what basis (the reason lives in the audit log only)."""
    reason = db.session.scalar(select(AuditEvent.reason).where(
        AuditEvent.object_type == expert.audit_type, AuditEvent.object_id == expert.id, AuditEvent.action == "exclude")
        .order_by(AuditEvent.id.desc()).limit(1))
    return expert.excluded_on, reason or ""


def exclusion_reasons(experts: list[Expert]) -> dict[int, str]:
    """Expert id → the basis of their exclusion (the newest; in the audit log only), for the excluded ones of
    `experts` in one statement: the register and its export said «исключён с …» and nothing of the order."""
    ids = [e.id for e in experts if e.status != "active"]
    if not ids:
        return {}
    rows = db.session.execute(select(AuditEvent.object_id, AuditEvent.reason).where(
        AuditEvent.object_type == Expert.audit_type, AuditEvent.object_id.in_(ids), AuditEvent.action == "exclude")
        .order_by(AuditEvent.id))
    return {object_id: reason or "" for object_id, reason in rows}  # the newest last, so it stays


def register_xlsx(region: Organisation) -> bytes:
    """The register of experts as XLSX (one row per expert)."""
    # openpyxl is heavy: loaded only when the export is asked for.
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Реестр экспертов"
    # What, whose and as of when: the header alone said none of it on a printed page.
    append_row(ws, [f"Реестр региональных экспертов: {region.name} ({generated_note(org_time_zone(region))})"])
    header = ["№", "ФИО", "Место работы", "Должность", "Компетенции (механизмы)", "Статус", "Дата включения",
              "Основание включения", "Дата исключения", "Основание исключения"]
    append_row(ws, header)
    experts = experts_of(region)
    excluded = exclusion_reasons(experts)
    for n, e in enumerate(experts, start=1):
        # dates as dates (ДД.ММ.ГГГГ by the cell's format): text dates neither sort nor filter as dates
        append_row(ws, [n, e.user.full_name, e.workplace.name, e.position, ", ".join(e.competences or []),
                        EXPERT_STATUSES[e.status], e.included_on, e.basis, e.excluded_on, excluded.get(e.id)])
    finish_sheet(ws, header_row=2, widths=(5, 36, 40, 30, 30, 14, 14, 36, 14, 36),
                 formats={1: INTEGER, 7: DATE, 9: DATE})
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- scores ----------------------------------------------------------------------------------------------------

def scores_of(campaign: Campaign, municipality_id: int, mechanism_code: str) -> list[Score]:
    return list(db.session.scalars(
        select(Score).join(Criterion, Criterion.id == Score.criterion_id)
        .where(Score.campaign_id == campaign.id, Score.municipality_id == municipality_id,
               Score.mechanism_code == mechanism_code)
        .options(selectinload(Score.criterion)).order_by(Criterion.position)))


def _parse_points(raw, criterion: Criterion, problems: list[str], positions: dict[str, int]) -> int | None:
    text = str(raw if raw is not None else "").strip()
    if text == "":
        return None
    if form_int(text) is None or not 0 <= int(text) <= criterion.max_points:
        problems.append(f"Критерий {auto.criterion_number(criterion, positions)}: балл — целое число от 0 до "
                        f"{criterion.max_points}.")
        return None
    return int(text)


def _save_scores(obj, campaign, *, actor, role, entries: dict, side: str) -> int:
    """entries: score id → (points, comment, version seen). All or nothing; refused when a score is not of this
    municipality and mechanism (e.g. a criterion of another set), out of 0…max, or changed meanwhile."""
    own = {s.id: s for s in scores_of(campaign, obj.municipality_id, obj.mechanism_code)}
    problems = []
    changes = []
    positions = auto.block_positions()
    for score_id, (raw_points, comment, seen) in entries.items():
        score = own.get(score_id)
        if score is None:
            raise ValidationFailed("Критерий не относится к оцениваемому механизму и набору критериев кампании.")
        points = _parse_points(raw_points, score.criterion, problems, positions)
        # Refused, not cut (attack 13: a hand-made form sent 1.4 MB).
        comment = _clean(comment, MAX_COMMENT, f"Критерий {score.criterion.code}: комментарий", problems) or None
        # A version the form sent must be this score's; one that is not a number is no proof of freshness either.
        if seen == MISSING_VERSION:
            raise ValidationFailed(FORM_INCOMPLETE)
        if str(seen if seen is not None else "").strip() and form_int(seen) != score.version:
            raise StaleObject()
        current = (score.self_points, score.self_comment) if side == "self" else (score.expert_points,
                                                                                 score.expert_comment)
        if (points, comment) != current:
            changes.append((score, points, comment))
    if problems:
        raise ValidationFailed("Баллы не сохранены.", problems=problems)
    if not changes:
        return 0
    before = {s.criterion.code: [s.self_points if side == "self" else s.expert_points] for s, _, _ in changes}
    engine.pin(obj)  # the state checked by the caller must still hold when the scores are written
    for score, points, comment in changes:
        if side == "self":
            score.self_points, score.self_comment = points, comment
        else:
            score.expert_points, score.expert_comment = points, comment
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleObject() from None
    after = {s.criterion.code: [p, c] for s, p, c in changes}
    chain.record(action=f"score_{side}", object_type=obj.audit_type, object_id=obj.id, actor=actor,
                 actor_role=role, organisation_id=obj.organisation.id, to_state=obj.state, before=before, after=after)
    return len(changes)


def _window_open(campaign: Campaign, today: date) -> None:
    problems = self_flow.within_window(_Probe(campaign), {"today": today})
    if problems:
        raise InvalidTransition(problems[0])


@dataclass
class _Probe:
    campaign: Campaign


def save_self_scores(sa: SelfAssessment, *, actor, entries: dict, today: date,
                     expected_version: int | None = None) -> int:
    """The coordinator's scores and comments (draft or returned self-assessment, window open)."""
    if not engine.permits(self_flow.COORDINATOR, sa, actor):
        raise PermissionDenied("Самооценку заполняет муниципальный координатор кампании.")
    check_version(sa, expected_version)
    if sa.state not in ("draft", "returned"):
        raise InvalidTransition("Самооценка представлена: изменить баллы нельзя, пока эксперт её не вернёт.")
    _window_open(sa.campaign, today)
    role = sorted(actor.roles_over(sa.organisation))[0] if actor.roles_over(sa.organisation) else "official"
    return _save_scores(sa, sa.campaign, actor=actor, role=role, entries=entries, side="self")


def save_expert_scores(assignment: Assignment, *, actor, entries: dict, today: date,
                       expected_version: int | None = None) -> int:
    """The assigned expert's scores and comments; the evidence of the scored criteria is recorded with its hash."""
    if not engine.permits(evaluation_flow.EXPERT, assignment, actor):
        raise PermissionDenied("Оценку вводит эксперт, назначенный на этот механизм.")
    check_version(assignment, expected_version)
    if assignment.state not in ("draft", "returned"):
        raise InvalidTransition("Оценка направлена на утверждение: изменить баллы нельзя.")
    _window_open(assignment.campaign, today)
    changed = _save_scores(assignment, assignment.campaign, actor=actor, role="expert", entries=entries,
                           side="expert")
    if changed:
        record_evidence(assignment.campaign, assignment.municipality_id, assignment.mechanism_code)
    return changed


def _unscored(obj, side: str) -> list[str]:
    """The numbers («1.2») of the criteria without a score of `side`, as the refusal names them."""
    positions = auto.block_positions()
    return [auto.criterion_number(s.criterion, positions)
            for s in scores_of(obj.campaign, obj.municipality_id, obj.mechanism_code)
            if (s.self_points if side == "self" else s.expert_points) is None]


def _uncommented(assignment: Assignment) -> list[str]:
    """The numbers of the criteria whose expert score differs from the self-assessment without a comment — a
    submitted self-assessment: the points of a draft are not the expert's to see (Scope.shows_self), nor to answer."""
    sa = self_assessment_for(assignment.campaign, assignment.municipality_id, assignment.mechanism_code)
    if sa is None or sa.state not in SELF_SHOWN:
        return []
    positions = auto.block_positions()
    return [auto.criterion_number(s.criterion, positions)
            for s in scores_of(assignment.campaign, assignment.municipality_id, assignment.mechanism_code)
            if s.expert_comment_missing]


def transition_self(sa: SelfAssessment, trigger: str, *, actor, today: date, comment: str | None = None,
                    expected_version: int | None = None) -> None:
    engine.fire(sa, trigger, actor=actor, comment=comment, expected_version=expected_version, today=today,
                unscored=_unscored(sa, "self") if trigger in ("submit", "resubmit") else [])


def _conflicts(assignment: Assignment) -> list[str]:
    """The conflict of interest as it stands now (the expert may have taken a post in the municipality since the
    assignment): the evaluation's guard refuses with these words."""
    if not conflict_of_interest(assignment.expert, assignment.municipality):
        return []
    return [f"Конфликт интересов: эксперт {assignment.expert_user.full_name} работает в муниципалитете "
            f"«{assignment.municipality.display_name}» и не может его оценивать; назначьте другого эксперта."]


def transition_evaluation(assignment: Assignment, trigger: str, *, actor, today: date, comment: str | None = None,
                          expected_version: int | None = None) -> None:
    engine.fire(assignment, trigger, actor=actor, comment=comment, expected_version=expected_version,
                **_evaluation_data(assignment, trigger, today))


def _evaluation_data(assignment: Assignment, trigger: str, today: date) -> dict:
    """What the evaluation's guards for `trigger` are given: the same for firing and for asking beforehand."""
    data = {"today": today}
    if trigger in ("submit", "resubmit"):
        data.update(unscored=_unscored(assignment, "expert"), uncommented=_uncommented(assignment))
    if trigger in ("submit", "resubmit", "approve"):
        data["conflicts"] = _conflicts(assignment)
    return data


def evaluation_problems(assignment: Assignment, trigger: str, today: date) -> list[str]:
    """Why `trigger` would be refused now (empty: it may fire), for the page to say in place of the button."""
    return engine.check_guards(assignment, trigger, **_evaluation_data(assignment, trigger, today))


# --- evidence --------------------------------------------------------------------------------------------------

def evidence_of(campaign: Campaign, municipality_id: int, mechanism_code: str) -> dict[int, list[EvidenceItem]]:
    """Evidence items per criterion id: those recorded (documents with their hash at scoring time) and added."""
    items = db.session.scalars(
        select(EvidenceItem).join(Criterion, Criterion.id == EvidenceItem.criterion_id)
        .where(EvidenceItem.campaign_id == campaign.id, EvidenceItem.municipality_id == municipality_id,
               Criterion.mechanism_code == mechanism_code).order_by(EvidenceItem.id))
    out: dict[int, list[EvidenceItem]] = {}
    for item in items:
        out.setdefault(item.criterion_id, []).append(item)
    return out


def live_facts(campaign: Campaign, municipality_id: int, mechanism_code: str) -> auto.Facts:
    # The documents standing as evidence only: the integrity checks are for the proposed scores.
    return auto.gather(campaign.period, [municipality_id], [mechanism_code],
                       integrity=False)[(municipality_id, mechanism_code)]


def record_evidence(campaign: Campaign, municipality_id: int, mechanism_code: str) -> int:
    """Record the documents standing as evidence of each criterion as they are now (edition, registration, signer,
    SHA-256): a document superseded later stays in the evidence as it was when scored. Already recorded
    (document, edition) pairs are kept as they are."""
    facts = live_facts(campaign, municipality_id, mechanism_code)
    have = {(i.criterion_id, i.document_id, i.document_version_id)
            for items in evidence_of(campaign, municipality_id, mechanism_code).values() for i in items
            if i.kind == "document"}
    now = utcnow()
    added = 0
    for c in criteria_of(campaign, mechanism_code):
        for doc in auto.evidence_documents(c, facts):
            if (c.id, doc.document_id, doc.version_id) in have:
                continue
            db.session.add(EvidenceItem(
                campaign_id=campaign.id, municipality_id=municipality_id, criterion_id=c.id, kind="document",
                document_id=doc.document_id, document_version_id=doc.version_id, title=doc.title[:500],
                registration_number=doc.registration_number, registration_date=doc.registration_date,
                signer=doc.signer, sha256=doc.sha256, recorded_at=now))
            added += 1
    db.session.flush()
    return added


def add_evidence(sa: SelfAssessment, *, actor, criterion_id, comment: str, document_id=None, stream=None,
                 filename: str | None = None) -> EvidenceItem:
    """The coordinator adds evidence to a criterion: a file, or a document of the municipality's cycles."""
    if not engine.permits(self_flow.COORDINATOR, sa, actor):
        raise PermissionDenied("Доказательства добавляет муниципальный координатор кампании.")
    if sa.state not in ("draft", "returned"):
        raise InvalidTransition("Самооценка представлена: добавить доказательства нельзя.")
    engine.pin(sa)  # a «submit» committed meanwhile refuses this now, before a file is stored
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleObject() from None
    criterion = _by_form_id(Criterion, criterion_id)
    if criterion is None or criterion.set_id != sa.campaign.criteria_set_id \
            or criterion.mechanism_code != sa.mechanism_code:
        raise ValidationFailed("Критерий не относится к оцениваемому механизму и набору критериев кампании.")
    problems = []
    comment = _clean(comment, MAX_COMMENT, "Комментарий к доказательству", problems) or None
    if problems:  # before a file is stored
        raise ValidationFailed("Доказательство не добавлено.", problems=problems)
    item = EvidenceItem(campaign_id=sa.campaign_id, municipality_id=sa.municipality_id, criterion_id=criterion.id,
                        comment=comment, added_by_id=actor.id, recorded_at=utcnow())
    if document_id:
        # only what the picker offers (municipality_documents): a draft, another period's or an assessment's own
        # document (no cycle: it was a 500) is refused like an unknown id
        number = form_int(document_id)
        doc = db.session.scalar(_linkable(sa).where(Document.id == number)) if number else None
        if doc is None:
            raise ValidationFailed("Документ не найден среди документов муниципалитета.")
        version = db.session.scalar(select(DocumentVersion).where(DocumentVersion.document_id == doc.id)
                                    .order_by(DocumentVersion.registration_number.is_(None),
                                              DocumentVersion.number.desc()).limit(1))
        item.kind, item.document_id, item.title = "link", doc.id, doc.title[:500]
        if version is not None:
            item.document_version_id = version.id
            item.registration_number, item.registration_date = version.registration_number, version.registration_date
            item.sha256 = version.registered_sha256 or version.sha256
    elif stream is not None and filename:
        attachment = attach(sa, stream=stream, filename=filename, kind="evidence", actor=actor)
        item.kind, item.attachment_id, item.title = "attachment", attachment.id, attachment.original_name[:500]
        item.sha256 = attachment.sha256
    else:
        raise ValidationFailed("Приложите файл или выберите документ системы.")
    db.session.add(item)
    db.session.flush()
    chain.record(action="add_evidence", object_type=sa.audit_type, object_id=sa.id, actor=actor,
                 actor_role=sorted(actor.roles_over(sa.organisation) or {"official"})[0],
                 organisation_id=sa.organisation.id, to_state=sa.state,
                 after={"criterion": criterion.code, "kind": item.kind, "title": item.title, "sha256": item.sha256,
                        "comment": comment})
    return item


def _linkable(sa: SelfAssessment):
    """The documents a coordinator may link as evidence: of the municipality's own cycles of the campaign's period,
    past their draft."""
    return (select(Document).join(Cycle, Cycle.id == Document.cycle_id)
            .where(Cycle.owner_id == sa.municipality_id, Cycle.period == sa.campaign.period, Document.state != "draft"))


def municipality_documents(sa: SelfAssessment) -> list[Document]:
    """Documents of the municipality's cycles of the campaign's period (to link as evidence)."""
    return list(db.session.scalars(_linkable(sa).order_by(Document.title).limit(500)))


# --- the page of one municipality × mechanism --------------------------------------------------------------

def source_cycles(facts: auto.Facts) -> list[Cycle]:
    """The municipality's cycles of the mechanism and period that the proposed scores were counted from (with their
    stages): the sheet links them, so the expert and the auditor check «целей с обоснованием: 1» or «групп: 3 из 7»
    where it was counted — a criterion scored from a cycle's content had «—» for evidence and no way there."""
    if not facts.cycle_ids:
        return []
    return list(db.session.scalars(select(Cycle).where(Cycle.id.in_(facts.cycle_ids))
                                   .options(selectinload(Cycle.stages)).order_by(Cycle.id)))


def stages_by_block(cycles: list[Cycle]) -> dict[str, list]:
    """Block code → the stages of that block in `cycles` (each block's heading on the sheet links its stage)."""
    out: dict[str, list] = {}
    for cycle in cycles:
        for stage in cycle.stages:
            out.setdefault(stage.code, []).append(stage)
    return out


def unsupported_claims(scores: list[Score], evidence: dict, live: dict, side: str = "self") -> set[int]:
    """The scores whose points of `side` (self, expert) are above what the system proposed while nothing stands as
    evidence of the criterion (no document found in the cycles, none recorded or attached by the coordinator): the
    sheet marks them, so the expert sees which points rest on the coordinator's word alone, and the auditor which
    of the expert's rest on the expert's comment alone."""
    return {s.id for s in scores
            if (points := s.self_points if side == "self" else s.expert_points) is not None
            and s.proposed_points is not None and points > s.proposed_points
            and not evidence.get(s.criterion_id) and not live.get(s.criterion_id)}


def sheet_evidence(campaign: Campaign, municipality_id: int, mechanism_code: str, scores: list[Score],
                   facts: auto.Facts | None = None) -> tuple[dict, dict]:
    """(recorded and added evidence items, documents standing as evidence now) per criterion id."""
    facts = facts if facts is not None else live_facts(campaign, municipality_id, mechanism_code)
    return (evidence_of(campaign, municipality_id, mechanism_code),
            {s.criterion_id: auto.evidence_documents(s.criterion, facts) for s in scores})


def totals(scores: list[Score], thresholds: dict) -> dict:
    maximum = sum(s.criterion.max_points for s in scores)
    out = {"max": maximum}
    for side, attr in (("proposed", "proposed_points"), ("self", "self_points"), ("expert", "expert_points")):
        values = [getattr(s, attr) for s in scores]
        if any(v is None for v in values) or not maximum:
            out[side] = None
            out[f"{side}_level"] = None
            continue
        total = sum(values)
        out[side] = total
        # One decimal, and the level read from that same number, as the region picture (picture._percent) has
        # them: rounded to a whole number the campaign page said «5 %» where the heat map said «4,5».
        percent = round(100 * total / maximum, 1)
        out[f"{side}_percent"] = percent
        out[f"{side}_level"] = level_of(percent, thresholds)
    return out


def self_assessment_for(campaign: Campaign, municipality_id: int, mechanism_code: str) -> SelfAssessment | None:
    return db.session.scalar(select(SelfAssessment).where(
        SelfAssessment.campaign_id == campaign.id, SelfAssessment.municipality_id == municipality_id,
        SelfAssessment.mechanism_code == mechanism_code))


def assignment_for(campaign: Campaign, municipality_id: int, mechanism_code: str) -> Assignment | None:
    return db.session.scalar(select(Assignment).where(
        Assignment.campaign_id == campaign.id, Assignment.municipality_id == municipality_id,
        Assignment.mechanism_code == mechanism_code))


def overview_municipalities(campaign: Campaign, scope: Scope) -> list[Organisation]:
    """The campaign's municipalities the user sees, in the campaign's order: the choices of the overview's filter."""
    return [m.municipality for m in campaign.municipalities if scope.sees(m.municipality_id)]


def overview_groups(rows: list[dict]) -> list[dict]:
    """The overview's rows by municipality (consecutive in `overview`): the page names a municipality once above its
    mechanisms. Fifty municipalities × eight mechanisms repeated each long name on all eight rows (16,000–31,000 px
    of page at 1366 px)."""
    groups: list[dict] = []
    for row in rows:
        if not groups or groups[-1]["municipality"].id != row["municipality"].id:
            groups.append({"municipality": row["municipality"], "coordinator": row["coordinator"], "rows": []})
        groups[-1]["rows"].append(row)
    return groups


def overview(campaign: Campaign, scope: Scope, municipality_id: int | None = None) -> list[dict]:
    """Rows (municipality × mechanism) the user sees, with the states and totals (fixed number of queries); of one
    municipality with `municipality_id` (none if the user does not see it)."""
    rows = []
    sas = {(s.municipality_id, s.mechanism_code): s for s in db.session.scalars(
        select(SelfAssessment).where(SelfAssessment.campaign_id == campaign.id))}
    assignments = {(a.municipality_id, a.mechanism_code): a for a in campaign.assignments}
    scores: dict[tuple[int, str], list[Score]] = {}
    for s in db.session.scalars(select(Score).where(Score.campaign_id == campaign.id)
                                .options(selectinload(Score.criterion))):
        scores.setdefault((s.municipality_id, s.mechanism_code), []).append(s)
    for m in campaign.municipalities:
        if not scope.sees(m.municipality_id) or municipality_id not in (None, m.municipality_id):
            continue
        for code in campaign.mechanisms:
            key = (m.municipality_id, code)
            sa, assignment = sas.get(key), assignments.get(key)
            sums = totals(scores.get(key, []), campaign.criteria_set.thresholds)
            if assignment is None or assignment.state not in EXPERT_LEVEL_SHOWN:
                sums = {**sums, "expert_level": None, "expert_percent": None}
            if not scope.shows_expert(m.municipality_id, assignment.state if assignment else None):
                sums = without_expert(sums)
            rows.append({"municipality": m.municipality, "coordinator": m.coordinator, "mechanism": code,
                         "self_assessment": sa, "assignment": assignment,
                         "returned_to_expert": assignment is not None and assignment.state == "returned",
                         "totals": sums if scope.shows_self(m.municipality_id, sa and sa.state) else
                         without_self(sums)})
    return rows


def experts_for_assignment(campaign: Campaign) -> list[Expert]:
    return [e for e in experts_of(campaign.organisation) if e.status == "active"]


def find_users(region: Organisation) -> list[User]:
    """Users of the region (for the register form), active, sorted."""
    return list(db.session.scalars(
        select(User).join(RoleAssignment, RoleAssignment.user_id == User.id)
        .join(Organisation, Organisation.id == RoleAssignment.organisation_id)
        .where(Organisation.path.like(region.path + "%"), User.active.is_(True),
               or_(RoleAssignment.role.in_(("expert", "official", "methodologist", "head", "director")))).distinct()
        .order_by(User.full_name).limit(2000)))
