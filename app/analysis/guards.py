"""Stage guard of the analysis stage (ANL): what must exist before it is submitted for review."""

from sqlalchemy import func, select
from app.analysis.models import AnalysisRun, Finding
from app.extensions import db


def analysis_content(stage) -> list[str]:
    """A finished analysis run or the stage's written conclusions, and at least one finding."""
    problems = []
    has_run = db.session.scalar(select(func.count()).select_from(AnalysisRun).where(
        AnalysisRun.cycle_id == stage.cycle_id, AnalysisRun.status == "done")) > 0
    if not has_run and not (stage.summary or "").strip():
        problems.append("Нет ни выполненного расчёта анализа, ни выводов этапа: запустите анализ "
                        "или опишите выводы.")
    findings = db.session.scalar(select(func.count()).select_from(Finding).where(Finding.stage_id == stage.id))
    if not findings:
        problems.append("Не сформулировано ни одного вывода (проблема, затронутые организации, доказательства).")
    return problems
