"""Criteria sets as data: the default set loaded from YAML (data/criteria.yaml), new versions made by the
region's administrator from a published one (points, texts and thresholds edited on the draft), published through
the workflow (workflows/criteria_set.py). A published version is never changed: campaigns keep theirs."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import flag_modified

from app.assessment import evidence
from app.assessment.models import DEFAULT_THRESHOLDS, LEVELS, CriteriaSet, Criterion
from app.audit import chain
from app.catalogue.models import IndicatorGroup, Mechanism, MechanismSet, StageDefinition
from app.core.checks import check_seen, form_int, require_role
from app.core.errors import InvalidTransition, ValidationFailed
from app.core.forms import one_line
from app.core.timeutil import utcnow
from app.effectiveness.integrity import LABELS as INTEGRITY_LABELS
from app.extensions import db
from workflows import engine

DATA_DIR = Path(__file__).resolve().parent / "data"
EVIDENCE_KEYS = {"documents", "stage_approved", "content", "per_group", "integrity"}
CONTENT_KEYS = ("goals", "goals_justified", "goals_realistic", "methods", "requests_closed", "findings",
                "findings_with_causes", "recommendations_issued", "items_acknowledged", "measures", "measures_done",
                "decisions", "decisions_complete", "evaluations_with_conclusions", "proposals")
MAX_POINTS_LIMIT = 100


def _group_counts() -> dict[str, int]:
    """Required indicator groups per municipal mechanism code of the active catalogue (one query)."""
    rows = db.session.execute(
        select(Mechanism.code, func.count(IndicatorGroup.id)).join(Mechanism.mechanism_set)
        .join(IndicatorGroup, IndicatorGroup.mechanism_id == Mechanism.id)
        .where(MechanismSet.level == "municipal", MechanismSet.active.is_(True), IndicatorGroup.required.is_(True))
        .group_by(Mechanism.code))
    return {code: n for code, n in rows}


def _check_evidence(rule: dict, where: str) -> None:
    unknown = set(rule) - EVIDENCE_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown evidence keys {sorted(unknown)}")
    unknown = set(rule.get("content") or {}) - set(CONTENT_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown content counts {sorted(unknown)}")
    checks = rule.get("integrity") or []
    if not isinstance(checks, list):
        raise ValueError(f"{where}: integrity is a list of integrity check codes")
    unknown = set(checks) - set(INTEGRITY_LABELS)
    if unknown:
        raise ValueError(f"{where}: unknown integrity checks {sorted(unknown)}")


def load_criteria(path: Path = DATA_DIR / "criteria.yaml") -> list[CriteriaSet]:
    """Load every (level, version) of the YAML not yet in the database, published; returns the new sets."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    groups = None
    blocks = set(db.session.scalars(select(StageDefinition.code)))
    created = []
    for spec in data["sets"]:
        exists = db.session.scalar(select(CriteriaSet.id).where(
            CriteriaSet.level == spec["level"], CriteriaSet.version == str(spec["version"])))
        if exists is not None:
            continue
        groups = groups if groups is not None else _group_counts()
        cset = CriteriaSet(level=spec["level"], version=str(spec["version"]), title=spec["title"],
                           thresholds=dict(spec.get("thresholds") or DEFAULT_THRESHOLDS), state="published",
                           published_at=utcnow(), source=str(path.name))
        overrides = spec.get("overrides") or {}
        position = 0
        for mechanism in spec["mechanisms"]:
            for item in spec["criteria"]:
                item = {**item, **(overrides.get(mechanism, {}).get(item["code"], {}))}
                if blocks and item["block"] not in blocks:
                    raise ValueError(f"criteria.yaml: unknown block {item['block']}")
                _check_evidence(item.get("evidence") or {}, f"criteria.yaml {mechanism} {item['code']}")
                points = item["max_points"]
                if points == "per_group":
                    points = groups.get(mechanism, 0)
                    if points < 1:
                        raise ValueError(f"criteria.yaml: {mechanism} has no required indicator groups")
                position += 1
                cset.criteria.append(Criterion(mechanism_code=mechanism, block=item["block"], code=item["code"],
                                               text=item["text"], max_points=int(points),
                                               evidence=item.get("evidence") or {}, position=position))
        db.session.add(cset)
        created.append(cset)
    db.session.flush()
    return created


def published_sets(level: str = "municipal") -> list[CriteriaSet]:
    return list(db.session.scalars(select(CriteriaSet).where(
        CriteriaSet.level == level, CriteriaSet.state == "published").order_by(CriteriaSet.published_at.desc(),
                                                                               CriteriaSet.id.desc())))


def all_sets() -> list[CriteriaSet]:
    return list(db.session.scalars(select(CriteriaSet).order_by(CriteriaSet.created_at.desc(),
                                                                CriteriaSet.id.desc())))


def level_of(percent: float | None, thresholds: dict) -> str | None:
    """Level of formation from the percent of the maximum and the set's thresholds."""
    if percent is None:
        return None
    for level in ("high", "medium", "low"):
        if percent >= thresholds[level]:
            return level
    return "none"


def level_label(level: str | None) -> str:
    return LEVELS.get(level, "—") if level else "—"


def _snapshot(cset: CriteriaSet) -> dict:
    return {**cset.audit_snapshot(), "criteria": {f"{c.mechanism_code} {c.code}": [c.max_points, c.text]
                                                  for c in cset.criteria}}


def new_version(base: CriteriaSet, *, version: str, title: str, actor, region) -> CriteriaSet:
    """A draft copy of a published set, owned by the administrator's region, to edit and publish."""
    role = require_role(actor, region, {"admin"}, "Новую версию критериев создаёт администратор региона.")
    # one-line fields of a hand-written form: no line break, nothing that prints as nothing (core.forms.one_line)
    version = one_line(version or "").strip()
    title = one_line(title or "").strip()
    problems = []
    if not version or len(version) > 40:
        problems.append("Укажите обозначение версии (до 40 символов).")
    if not title or len(title) > 300:
        problems.append("Укажите название набора (до 300 символов).")
    if version and db.session.scalar(select(CriteriaSet.id).where(CriteriaSet.level == base.level,
                                                                  CriteriaSet.version == version)):
        problems.append(f"Версия «{version}» уже существует.")
    if problems:
        raise ValidationFailed("Версия не создана.", problems=problems)
    draft = CriteriaSet(level=base.level, version=version, title=title, thresholds=dict(base.thresholds),
                        based_on=base, organisation=region, created_by_id=actor.id, state="draft")
    for c in base.criteria:
        draft.criteria.append(Criterion(mechanism_code=c.mechanism_code, block=c.block, code=c.code, text=c.text,
                                        max_points=c.max_points, evidence=dict(c.evidence or {}),
                                        position=c.position))
    db.session.add(draft)
    db.session.flush()
    chain.record(action="create", object_type=draft.audit_type, object_id=draft.id, actor=actor, actor_role=role,
                 organisation_id=region.id, to_state=draft.state, after=_snapshot(draft))
    return draft


def edit_draft(cset: CriteriaSet, *, actor, thresholds: dict, criteria: dict[int, tuple[str, str]],
               expected_version: int | None = None) -> None:
    """Change the thresholds and each criterion's (text, max points) of a draft version; all or nothing."""
    if cset.organisation is None:
        raise InvalidTransition("Набор, поставляемый с системой, не изменяется: создайте новую версию.")
    role = require_role(actor, cset.organisation, {"admin"}, "Изменять критерии может администратор региона.")
    if cset.frozen:
        raise InvalidTransition("Версия опубликована и не изменяется: создайте новую версию.")
    check_seen(cset.version_counter, expected_version)
    problems = []
    values = {}
    for key in ("high", "medium", "low"):
        # form_int: ASCII digits only. `str.isdigit` let «²» through, on which int() raised (a 500 for the
        # administrator), and «٥٠» (Arabic-Indic), which int() reads as 50 (attack 8).
        number = form_int(thresholds.get(key, ""))
        if number is None or not 0 < number <= 100:
            problems.append(f"Порог уровня «{LEVELS[key]}» — целое число от 1 до 100.")
        else:
            values[key] = number
    if len(values) == 3 and not values["high"] > values["medium"] > values["low"]:
        problems.append("Пороги должны убывать: высокий > средний > низкий.")
    by_id = {c.id: c for c in cset.criteria}
    positions = evidence.block_positions()
    changes = {}
    for criterion_id, (text, points) in criteria.items():
        c = by_id.get(criterion_id)
        if c is None:
            problems.append("Критерий не относится к этой версии набора.")
            continue
        text = (text or "").strip()
        # named as the page numbers it: the mechanism, then «критерий 1.2»
        name = f"{c.mechanism_code}, критерий {evidence.criterion_number(c, positions)}"
        if not text or len(text) > 2000:
            problems.append(f"{name}: формулировка обязательна (до 2000 символов).")
        number = form_int(points)
        if number is None or not 1 <= number <= MAX_POINTS_LIMIT:
            problems.append(f"{name}: максимальный балл — целое число от 1 до {MAX_POINTS_LIMIT}.")
        else:
            changes[c.id] = (text, number)
    if problems:
        raise ValidationFailed("Изменения не сохранены.", problems=problems)
    before = _snapshot(cset)
    cset.thresholds = values
    flag_modified(cset, "thresholds")  # the set's own row is updated, so its version moves with every edit
    for criterion_id, (text, points) in changes.items():
        by_id[criterion_id].text, by_id[criterion_id].max_points = text, points
    db.session.flush()
    chain.record(action="update", object_type=cset.audit_type, object_id=cset.id, actor=actor, actor_role=role,
                 organisation_id=cset.organisation.id, to_state=cset.state, before=before, after=_snapshot(cset))


def publish(cset: CriteriaSet, *, actor, expected_version: int | None = None) -> None:
    """Publish a draft version; `expected_version`: the lock counter the page showed (its `version` is the name)."""
    check_seen(cset.version_counter, expected_version)
    engine.fire(cset, "publish", actor=actor)
