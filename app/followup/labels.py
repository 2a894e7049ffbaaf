"""Russian audit-history labels of this feature, merged into app.audit.labels at start-up."""

ACTIONS: dict[str, str] = {
    "dispatch": "рекомендация направлена адресату", "acknowledge": "ознакомлен (подпись руководителя)",
    "start": "начато исполнение", "report": "отчёт об исполнении",
    "plan": "мероприятие запланировано", "complete": "мероприятие выполнено", "verify": "исполнение подтверждено",
    "cancel": "отменено", "prepare": "подготовлен проект решения", "adopt": "решение принято",
    "execute": "решение исполнено",
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
