"""Stage guards of the last four stages (REC, MEAS, DEC, EFF): the cycle integrity checks of that stage.

The minimum content of each stage is itself a defect of the chain («нет рекомендаций», «нет мер», «нет решений»,
«нет анализа эффективности»), so the guard and the integrity panel can never disagree. The free-text summary of
these stages no longer counts as content: the structured rows do."""
from app.effectiveness.integrity import check_cycle
from workflows.data_request import monitoring_stage_problems

GUARDED_STAGES = ("REC", "MEAS", "DEC", "EFF")


def stage_content(stage) -> list[str]:
    """Russian problems that stop the stage from being submitted: the integrity defects of its stage."""
    if stage.code not in GUARDED_STAGES:
        return []
    problems = [d.message for d in check_cycle(stage.cycle) if d.stage == stage.code]
    if stage.code == "EFF":
        # its repeat measurements (повторное измерение) closed: an approved stage must not leave a school a task
        problems += monitoring_stage_problems(stage)
    return problems
