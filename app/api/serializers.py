"""Rows → the plain JSON objects the API answers with (their shapes are declared in app/api/openapi.py)."""

from datetime import date, datetime, timezone
from decimal import Decimal


def timestamp(value: datetime | None) -> str | None:
    """RFC 3339 in UTC. SQLite hands back naive datetimes, which are stored as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def number(value: Decimal | float | int | None) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def organisation(org, parent_code: str | None) -> dict:
    return {
        "code": org.code,
        "name": org.name,
        "short_name": org.short_name,
        "kind": org.kind,
        "parent_code": parent_code,
        "timezone": org.timezone,
        "settlement": org.settlement,
        "remote": org.remote,
        "preschool_groups": org.preschool_groups,
        "students": org.students,
        "profile": org.profile,
        "low_income_share": number(org.low_income_share),
        "non_native_share": number(org.non_native_share),
        "ovz_share": number(org.ovz_share),
        "unqualified_teachers_share": number(org.unqualified_teachers_share),
        "teacher_vacancies": org.teacher_vacancies,
    }


def cycle(c) -> dict:
    mechanism = c.track.mechanism
    return {
        "id": c.id,
        "title": c.title,
        "mechanism": mechanism.code,
        "mechanism_title": mechanism.title,
        "track": c.track.code,
        "track_title": c.track.title,
        "organisation_code": c.owner.code,
        "organisation_name": c.owner.name,
        "period": c.period,
        "state": c.state,
        "created_at": timestamp(c.created_at),
        "closed_at": timestamp(c.closed_at),
    }


def stage(s) -> dict:
    return {
        "code": s.code,
        "position": s.position,
        "title": s.title,
        "state": s.state,
        "responsible": s.responsible.full_name if s.responsible is not None else None,
        "deadline": day(s.deadline),
        "submitted_at": timestamp(s.submitted_at),
        "approved_at": timestamp(s.approved_at),
    }


def indicator(i) -> dict:
    return {
        "code": i.code,
        "name": i.name,
        "unit": i.unit,
        "definition": i.definition,
        "group": i.group_name,
        "source": i.source,
        "collection_method": i.collection_method,
        "periodicity": i.periodicity,
        "baseline": number(i.baseline),
        "target": number(i.target),
        "direction": i.direction,
        "responsible": i.responsible,
    }


def import_run(run) -> dict:
    return {
        "id": run.id,
        "kind": run.kind,
        "status": run.status,
        "progress": run.progress,
        "original_filename": run.original_filename,
        "organisation_code": run.organisation.code,
        "rows_total": run.rows_total,
        "rows_inserted": run.rows_inserted,
        "rows_updated": run.rows_updated,
        "rows_unchanged": run.rows_unchanged,
        "rows_rejected": run.rows_rejected,
        "message": run.message,
        "has_error_report": bool(run.error_report_path),
        "created_at": timestamp(run.created_at),
        "started_at": timestamp(run.started_at),
        "finished_at": timestamp(run.finished_at),
    }

