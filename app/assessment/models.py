"""Assessment of municipal mechanisms (letter 08-70, domain.md §2 and §7): criteria sets as versioned data, the
campaign with its municipalities and coordinators, the register of regional experts, the expert assignments
(municipality × mechanism), the per-criterion scores (proposed, self-assessment and expert score, all kept) and
the evidence items with the hash they had when they were scored.

Designed for the whole issue: the region picture, factors, documents and the evidence package (items 7–11) read
these tables and add none of their own besides what they generate.
"""

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.db import Audited
from app.core.timeutil import utcnow
from app.extensions import db
from app.orgs.models import Organisation

# Levels of formation (уровень сформированности) in the order of their lower bounds, highest first.
LEVELS = {"high": "высокий", "medium": "средний", "low": "низкий", "none": "не сформирован"}
LEVEL_STYLES = {"high": "success", "medium": "info", "low": "warning", "none": "danger"}
DEFAULT_THRESHOLDS = {"high": 80, "medium": 50, "low": 20}
EXPERT_STATUSES = {"active": "действующий", "excluded": "исключён"}
EVIDENCE_KINDS = {"document": "документ системы (найден автоматически)", "attachment": "файл",
                  "link": "ссылка на документ системы"}


class CriteriaSet(Audited, db.Model):
    """A version of the criteria (критерии оценки механизмов): published versions are frozen, a campaign keeps the
    version it was created with; a change is a new version (`based_on`)."""

    __tablename__ = "assessment_criteria_sets"
    __table_args__ = (
        UniqueConstraint("level", "version"),
        CheckConstraint("level IN ('municipal','regional')", name="level"),
        CheckConstraint("state IN ('draft','published')", name="state"),
        CheckConstraint("(state = 'published') = (published_at IS NOT NULL)", name="published_at_iff_published"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(20), default="municipal")
    version: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    # {"high": 80, "medium": 50, "low": 20}: lower bounds (percent of the maximum) of the levels.
    thresholds: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20), default="draft")
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("assessment_criteria_sets.id"))
    # The region that published it; None for the set shipped with the system (loaded from YAML).
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    source: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    version_counter: Mapped[int] = mapped_column("row_version", default=1)

    criteria: Mapped[list["Criterion"]] = relationship(
        back_populates="criteria_set", order_by="Criterion.position", cascade="all, delete-orphan")
    based_on: Mapped["CriteriaSet | None"] = relationship(remote_side=[id])
    organisation: Mapped[Organisation | None] = relationship()

    __mapper_args__ = {"version_id_col": version_counter}
    audit_type = "criteria_set"
    audit_fields = ("level", "version", "title", "thresholds", "state")

    @property
    def frozen(self) -> bool:
        return self.state == "published"

    def mechanism_codes(self) -> list[str]:
        seen: dict[str, None] = {}
        for c in self.criteria:
            seen.setdefault(c.mechanism_code)
        return list(seen)


class Criterion(db.Model):
    """One criterion of one mechanism and block: text, maximum points and the rule of what evidence satisfies it
    (`evidence`: documents of the block, registered or not; content counts; 1 point per covered indicator group)."""

    __tablename__ = "assessment_criteria"
    __table_args__ = (
        UniqueConstraint("set_id", "mechanism_code", "code"),
        CheckConstraint("max_points >= 1", name="max_points"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("assessment_criteria_sets.id", ondelete="CASCADE"), index=True)
    mechanism_code: Mapped[str] = mapped_column(String(20))
    block: Mapped[str] = mapped_column(String(10))
    code: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    max_points: Mapped[int]
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(default=0)

    criteria_set: Mapped[CriteriaSet] = relationship(back_populates="criteria")


class Campaign(Audited, db.Model):
    """Кампания мониторинга механизмов: the region's order sets the window, the municipalities, the mechanisms and
    the frozen criteria version. `extended_until` is a later end of the window set by the regional official."""

    __tablename__ = "assessment_campaigns"
    __table_args__ = (
        CheckConstraint("state IN ('draft','published','closed')", name="state"),
        CheckConstraint("window_end >= window_start", name="window_order"),
        CheckConstraint("extended_until IS NULL OR extended_until >= window_end", name="extension_later"),
        CheckConstraint("(state = 'draft') = (published_at IS NULL)", name="published_at_iff_not_draft"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    period: Mapped[str] = mapped_column(String(20))  # the cycles' period whose evidence is assessed, «2025/26»
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    extended_until: Mapped[date | None] = mapped_column(Date)
    criteria_set_id: Mapped[int] = mapped_column(ForeignKey("assessment_criteria_sets.id"))
    mechanisms: Mapped[list] = mapped_column(JSON)  # mechanism codes assessed
    state: Mapped[str] = mapped_column(String(20), default="draft")
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("assessment_campaigns.id"))  # for dynamics (item 7)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    organisation: Mapped[Organisation] = relationship()
    criteria_set: Mapped[CriteriaSet] = relationship()
    municipalities: Mapped[list["CampaignMunicipality"]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", order_by="CampaignMunicipality.id")
    assignments: Mapped[list["Assignment"]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", order_by="Assignment.id")

    __mapper_args__ = {"version_id_col": version}
    audit_type = "assessment_campaign"
    audit_fields = ("title", "period", "window_start", "window_end", "extended_until", "criteria_set_id",
                    "mechanisms", "state")

    @property
    def window_closes(self) -> date:
        return self.extended_until or self.window_end

    def is_open_on(self, day: date) -> bool:
        return self.state == "published" and self.window_start <= day <= self.window_closes


class CampaignMunicipality(Audited, db.Model):
    """A municipality assessed in a campaign, with its appointed coordinator (a user of the municipality)."""

    __tablename__ = "assessment_campaign_municipalities"
    __table_args__ = (UniqueConstraint("campaign_id", "municipality_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("assessment_campaigns.id", ondelete="CASCADE"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Moves with each appointment: «Назначить» (a coordinator) sends the version its form was opened at, and a
    # coordinator someone else appointed meanwhile is refused as stale instead of silently overwritten.
    version: Mapped[int] = mapped_column(default=1)

    campaign: Mapped[Campaign] = relationship(back_populates="municipalities")
    municipality: Mapped[Organisation] = relationship()
    coordinator: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    audit_type = "assessment_municipality"
    audit_fields = ("municipality_id", "coordinator_id")

    @property
    def organisation(self) -> Organisation:
        return self.municipality


class Expert(Audited, db.Model):
    """An entry of the regional register of experts (региональный реестр экспертов)."""

    __tablename__ = "assessment_experts"
    __table_args__ = (
        UniqueConstraint("user_id"),
        CheckConstraint("status IN ('active','excluded')", name="status"),
        CheckConstraint("(status = 'excluded') = (excluded_on IS NOT NULL)", name="excluded_on_iff_excluded"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    register_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)  # the region
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Where the expert works: an expert never assesses the municipality this organisation lies in.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    position: Mapped[str] = mapped_column(String(300))
    competences: Mapped[list] = mapped_column(JSON)  # mechanism codes
    status: Mapped[str] = mapped_column(String(20), default="active")
    included_on: Mapped[date] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(String(300))  # «приказ от 01.06.2026 № 123»
    excluded_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(default=1)

    user: Mapped[User] = relationship()
    workplace: Mapped[Organisation] = relationship(foreign_keys=[organisation_id])
    register_org: Mapped[Organisation] = relationship(foreign_keys=[register_org_id])

    __mapper_args__ = {"version_id_col": version}
    audit_type = "assessment_expert"
    audit_fields = ("user_id", "organisation_id", "position", "competences", "status", "included_on", "basis",
                    "excluded_on")

    @property
    def organisation(self) -> Organisation:
        return self.register_org


class SelfAssessment(Audited, db.Model):
    """Самооценка of one municipality for one mechanism, by the campaign's coordinator (workflows/self_assessment)."""

    __tablename__ = "assessment_self_assessments"
    __table_args__ = (
        UniqueConstraint("campaign_id", "municipality_id", "mechanism_code"),
        CheckConstraint("state IN ('draft','submitted','returned')", name="state"),
        CheckConstraint("state != 'returned' OR return_comment IS NOT NULL", name="comment_when_returned"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("assessment_campaigns.id", ondelete="CASCADE"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    mechanism_code: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default="draft")
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The expert assigned to the same (municipality × mechanism): who may return the self-assessment.
    expert_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    return_comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    campaign: Mapped[Campaign] = relationship()
    municipality: Mapped[Organisation] = relationship()
    coordinator: Mapped[User | None] = relationship(foreign_keys=[coordinator_id])

    __mapper_args__ = {"version_id_col": version}
    audit_type = "self_assessment"
    audit_fields = ("state", "coordinator_id", "expert_user_id", "return_comment")

    @property
    def organisation(self) -> Organisation:
        return self.municipality


class Assignment(Audited, db.Model):
    """An expert assigned to (municipality × mechanism) of a campaign; the row is the expert evaluation
    (workflows/expert_evaluation.py): draft → submitted → approved by the regional head, or returned."""

    __tablename__ = "assessment_assignments"
    __table_args__ = (
        UniqueConstraint("campaign_id", "municipality_id", "mechanism_code"),
        CheckConstraint("state IN ('draft','submitted','returned','approved')", name="state"),
        CheckConstraint("state != 'returned' OR return_comment IS NOT NULL", name="comment_when_returned"),
        CheckConstraint("(state = 'approved') = (approved_at IS NOT NULL)", name="approved_at_iff_approved"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("assessment_campaigns.id", ondelete="CASCADE"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    mechanism_code: Mapped[str] = mapped_column(String(20))
    expert_id: Mapped[int] = mapped_column(ForeignKey("assessment_experts.id"), index=True)
    expert_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="draft")
    return_comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    campaign: Mapped[Campaign] = relationship(back_populates="assignments")
    municipality: Mapped[Organisation] = relationship()
    expert: Mapped[Expert] = relationship()
    expert_user: Mapped[User] = relationship(foreign_keys=[expert_user_id])

    __mapper_args__ = {"version_id_col": version}
    audit_type = "expert_evaluation"
    audit_fields = ("state", "expert_id", "return_comment")

    @property
    def organisation(self) -> Organisation:
        return self.municipality


class Score(Audited, db.Model):
    """Per criterion of one municipality: the proposed score with its Russian reason, the self-assessment and the
    expert's score, each with its comment. All three are kept; every change is audited."""

    __tablename__ = "assessment_scores"
    __table_args__ = (
        UniqueConstraint("campaign_id", "municipality_id", "criterion_id"),
        Index("ix_assessment_scores_campaign_mechanism", "campaign_id", "mechanism_code"),
        CheckConstraint("proposed_points IS NULL OR proposed_points >= 0", name="proposed_points"),
        CheckConstraint("self_points IS NULL OR self_points >= 0", name="self_points"),
        CheckConstraint("expert_points IS NULL OR expert_points >= 0", name="expert_points"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("assessment_campaigns.id", ondelete="CASCADE"))
    municipality_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    mechanism_code: Mapped[str] = mapped_column(String(20))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("assessment_criteria.id"))
    proposed_points: Mapped[int | None]
    proposed_reason: Mapped[str | None] = mapped_column(Text)
    self_points: Mapped[int | None]
    self_comment: Mapped[str | None] = mapped_column(Text)
    expert_points: Mapped[int | None]
    expert_comment: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    criterion: Mapped[Criterion] = relationship()
    municipality: Mapped[Organisation] = relationship()

    __mapper_args__ = {"version_id_col": version}
    audit_type = "assessment_score"
    audit_fields = ("proposed_points", "self_points", "self_comment", "expert_points", "expert_comment")

    @property
    def organisation(self) -> Organisation:
        return self.municipality

    @property
    def expert_comment_missing(self) -> bool:
        """The expert's score differs from the self-assessment and carries no comment: the evaluation is not
        submitted so (workflows/expert_evaluation.comments_where_different names these criteria)."""
        return (self.expert_points is not None and self.self_points is not None
                and self.expert_points != self.self_points and not (self.expert_comment or "").strip())


class EvidenceItem(db.Model):
    """Evidence of one criterion: a document found automatically, a file or a link added by the coordinator. The
    document's SHA-256 (and registration) are recorded as they were when the item was scored, so a document
    superseded later is still shown (and packaged) as it was (`recorded_at`)."""

    __tablename__ = "assessment_evidence"
    __table_args__ = (
        Index("ix_assessment_evidence_campaign_municipality", "campaign_id", "municipality_id"),
        CheckConstraint("kind IN ('document','attachment','link')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("assessment_campaigns.id", ondelete="CASCADE"))
    municipality_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("assessment_criteria.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))
    document_version_id: Mapped[int | None] = mapped_column(ForeignKey("document_versions.id", ondelete="SET NULL"))
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id", ondelete="SET NULL"))
    url: Mapped[str | None] = mapped_column(String(1000))
    title: Mapped[str] = mapped_column(String(500))
    registration_number: Mapped[str | None] = mapped_column(String(40))
    registration_date: Mapped[date | None] = mapped_column(Date)
    signer: Mapped[str | None] = mapped_column(String(300))
    sha256: Mapped[str | None] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_at: Mapped[datetime | None]  # when the hash was taken (at scoring time)

    criterion: Mapped[Criterion] = relationship()
    municipality: Mapped[Organisation] = relationship()

    @property
    def organisation(self) -> Organisation:
        return self.municipality
