"""Russian audit-history labels of this feature, merged into app.audit.labels at start-up."""

from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.audit.present import namer, quoted
from app.cycles.models import Cycle
from app.followup.models import (ADDRESSEE_GROUPS, DECISION_KINDS, MEASURE_KINDS, Decision, Measure, Recommendation,
                                 RecommendationItem)
from app.followup.services import can_see_item

ACTIONS: dict[str, str] = {
    "dispatch": "рекомендация направлена адресату", "acknowledge": "ознакомлен (подпись руководителя)",
    "start": "начато исполнение", "report": "отчёт об исполнении",
    "plan": "мероприятие запланировано", "complete": "мероприятие выполнено", "verify": "исполнение подтверждено",
    "cancel": "отменено", "prepare": "подготовлен проект решения", "adopt": "решение принято",
    "execute": "решение исполнено", "reschedule": "сроки мероприятия перенесены",
}
OBJECTS: dict[str, str] = {
    "recommendation": "адресная рекомендация", "recommendation_item": "рекомендация адресату",
    "measure": "мероприятие", "decision": "управленческое решение",
}
STATES: dict[str, str] = {
    "issued": "направлена", "acknowledged": "ознакомлен", "in_progress": "исполняется", "reported": "отчёт на проверке",
    "planned": "запланировано", "done": "выполнено", "verified": "исполнение подтверждено", "cancelled": "отменено",
    "adopted": "принято", "executed": "исполнено",
}
FIELDS: dict[str, str] = {
    "text": "текст", "addressee_group": "адресат", "addressee_note": "уточнение адресата", "basis": "основание",
    "response_deadline": "срок ответа", "due_date": "срок", "action_plan": "план действий",
    "planned_completion": "планируемый срок", "report": "отчёт", "return_comment": "комментарий при возврате",
    "acknowledged_by_id": "ознакомился", "title": "название", "kind": "вид", "responsible_id": "ответственный",
    "participants": "участники", "start_date": "начало", "end_date": "окончание",
    "expected_result": "ожидаемый результат", "cancel_reason": "причина отмены", "result_note": "результат",
    "deadline": "срок", "execution_note": "отметка об исполнении",
}

FIELDS.update({"findings": "выводы анализа", "addressees": "адресаты", "measures": "мероприятия",
               "recommendations": "рекомендации", "measure.indicators": "показатели",
               "decision.findings": "выводы анализа", "original_name": "имя файла", "sha256": "контрольная сумма",
               "size": "размер, байт", "attachment_id": "вложение"})
VALUES: dict[str, dict[str, str]] = {"addressee_group": ADDRESSEE_GROUPS, "measure.kind": MEASURE_KINDS,
                                     "decision.kind": DECISION_KINDS}
REFERENCES: dict[str, str] = {"findings": "finding", "measures": "measure", "recommendations": "recommendation",
                              "addressees": "organisation_code", "acknowledged_by_id": "user",
                              "measure.indicators": "indicator_code"}
# What each namer's scope check reads, loaded with the rows: `organisation` is the cycle's owner (a property), an item's
# page asks its recommendation's owner too (services.can_see_item), and the cycle check reads the cycle's owner.
_CYCLE_OWNER = {model: selectinload(model.cycle).selectinload(Cycle.owner) for model in (Recommendation, Measure,
                                                                                          Decision)}
NAMERS = {
    "recommendation": namer(Recommendation, lambda r: quoted(r.title), "followup.recommendation_detail",
                            "recommendation_id", options=(_CYCLE_OWNER[Recommendation],)),
    "recommendation_item": namer(
        RecommendationItem, lambda i: f"{quoted(i.recommendation.title, 60)} — {i.organisation.display_name}",
        "followup.item_detail", "rec_item_id",
        options=(selectinload(RecommendationItem.recommendation).selectinload(Recommendation.cycle)
                 .selectinload(Cycle.owner), selectinload(RecommendationItem.organisation)),
        # its page checks the item's state too: an addressee sees nothing of a draft item
        opens=lambda i, by_organisation: by_organisation(i.organisation) and can_see_item(i, current_user)),
    "measure": namer(Measure, lambda m: quoted(m.title), "followup.measure_detail", "measure_id",
                     options=(_CYCLE_OWNER[Measure],)),
    "decision": namer(Decision, lambda d: quoted(d.title), "followup.decision_detail", "decision_id",
                      options=(_CYCLE_OWNER[Decision],)),
}
