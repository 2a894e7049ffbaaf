"""Russian audit-history labels of this feature, merged into app.audit.labels at start-up."""

ACTIONS: dict[str, str] = {
    "run_analysis": "запуск анализа",
}
OBJECTS: dict[str, str] = {
    "finding": "вывод анализа",
    "analysis_run": "расчёт анализа",
    "risk_profile": "профиль рисков школы",
}
STATES: dict[str, str] = {}
FIELDS: dict[str, str] = {
    "problem": "проблема",
    "causes": "причины",
    "evidence": "доказательства",
    "analysis_run_id": "расчёт анализа",
    "organisation_ids": "затронутые организации",
    "scores": "оценки факторов риска",
    "priorities": "приоритетные риски",
    "year": "год",
}
