"""Russian audit-history labels of this feature, merged into app.audit.labels at start-up."""

from app.audit.present import namer
from app.effectiveness.models import PROPOSAL_KINDS, RESULT_SHORT, EffectivenessEvaluation, EffectivenessProposal

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

VALUES: dict[str, dict[str, str]] = {"assessments": RESULT_SHORT, "computed": RESULT_SHORT, "override": RESULT_SHORT,
                                     "effectiveness_proposal.kind": PROPOSAL_KINDS}
REFERENCES: dict[str, str] = {"assessments": "measure", "measure_id": "measure", "indicator_id": "indicator",
                              "applied_cycle_id": "cycle"}
NAMERS = {
    "effectiveness_evaluation": namer(EffectivenessEvaluation, lambda e: e.cycle.short_title),
    "effectiveness_proposal": namer(EffectivenessProposal, lambda p: p.kind_label),
}
