"""Russian audit-history labels of this feature, merged into app.audit.labels at start-up."""

from app.audit.present import namer
from app.core.russian import deputy_for
from app.deadlines.models import StandIn

ACTIONS: dict[str, str] = {
    "create_stand_in": "назначение заместителя", "revoke_stand_in": "отмена заместительства",
    "issue_calendar_feed": "создание ссылки на календарь", "revoke_calendar_feed": "отзыв ссылки на календарь",
}
OBJECTS: dict[str, str] = {
    "stand_in": "заместительство", "calendar_feed": "ссылка на календарь (iCalendar)",
}
STATES: dict[str, str] = {}
FIELDS: dict[str, str] = {
    "absent_id": "отсутствующий", "deputy_id": "заместитель", "start_date": "с", "end_date": "по",
    "reason": "основание", "revoked_at": "отменено", "prefix": "начало ссылки", "revoked": "отозвана",
}

REFERENCES: dict[str, str] = {"absent_id": "user", "deputy_id": "user"}
NAMERS = {"stand_in": namer(StandIn, lambda s: f"{s.deputy.short_name} {deputy_for(s.absent)}")}
