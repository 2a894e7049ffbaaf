"""Russian audit-history labels of this feature, merged into app.audit.labels at start-up."""

from sqlalchemy.orm import selectinload

from app.analysis.models import AnalysisRun, Finding
from app.audit.present import namer, quoted
from app.cycles.models import Cycle

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

REFERENCES: dict[str, str] = {"organisation_ids": "organisation", "analysis_run_id": "analysis_run"}
NAMERS = {
    # a finding's organisation is its cycle's owner (a property): loaded with the rows, not once a cycle
    "finding": namer(Finding, lambda f: quoted(f.title), "analysis.finding_detail", "finding_id",
                     options=(selectinload(Finding.cycle).selectinload(Cycle.owner),)),
    "analysis_run": namer(AnalysisRun, lambda r: f"за {', '.join(str(y) for y in r.years or [])} гг.",
                          "analysis.run_detail", "analysis_run_id"),
}
