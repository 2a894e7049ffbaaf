"""Russian audit-history labels of this feature, merged into app.audit.labels at start-up."""

ACTIONS: dict[str, str] = {"override": "оценка меры изменена", "reset_override": "оценка меры — как рассчитано"}
OBJECTS: dict[str, str] = {
    "effectiveness_evaluation": "анализ эффективности",
    "measure_assessment": "оценка меры",
    "effectiveness_proposal": "предложение для следующего цикла",
}
STATES: dict[str, str] = {}
FIELDS: dict[str, str] = {
    "conclusions": "выводы", "assessments": "оценки мер", "measure_id": "мера", "computed": "рассчитанная оценка",
    "override": "оценка специалиста", "note": "обоснование", "kind": "вид", "text": "текст",
    "indicator_id": "показатель", "new_target": "новое целевое значение", "applied_cycle_id": "перенесено в цикл",
    "target_before": "цель до корректировки", "target_after": "цель после корректировки",
}
