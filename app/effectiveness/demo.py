"""Demo data of this feature, called from app.demo for each stage it fills: the EFF stage gets an evaluation
computed from the cycle's accepted values, conclusions written from those numbers, and proposals for the
next period (a corrected target, or a goal when nothing was measured), so the closed demo cycle passes the EFF guard."""

from decimal import Decimal
from app.core import russian as ru
from app.effectiveness import services
from app.monitoring.values import unit_rule
from workflows.measure import ACTIVE_STATES


def _conclusions(rows, results) -> str:
    measured = [r for r in rows if r.after is not None and r.baseline is not None]
    better = [r for r in measured if r.improved]
    reached = [r for r in measured if r.target_met]
    moved = sum(1 for r in results if r.computed == "moved")
    # a measure still planned or under way is not rated (the report's table says «мера не завершена — эффект не
    # оценивается»): «Оценено мер: 4» beside two such rows contradicted it
    unfinished = sum(1 for r in results if r.measure.state in ACTIVE_STATES)
    rated = f"Оценено мер: {len(results) - unfinished}; дали измеримый эффект: {moved}"
    if unfinished:
        rated += f"; не завершены и не оценивались: {unfinished}"
    # «достигнуто по 0» read as a slip: none is said in words
    reached_text = f"целевое значение достигнуто по {len(reached)}" if reached else \
        "целевое значение не достигнуто ни по одному"
    lines = [f"Из {len(rows)} показателей цикла значения после мер получены по {len(measured)}; "
             f"улучшились по сравнению с базовым значением {len(better)}, {reached_text}.",
             rated + "."]
    lagging = [r for r in measured if not r.improved]
    if lagging:
        # named as the report cites them («name» (code)): the public page shows this text to citizens; «Меры по
        # этим показателям» after a single one read as a slip in the signed report
        which = "этим показателям" if len(lagging) > 1 else "этому показателю"
        lines.append("Не удалось улучшить: " + "; ".join(f"{ru.quote(r.name)} ({r.code})" for r in lagging[:5])
                     + f". Меры по {which} требуют корректировки в следующем цикле.")
    return "\n".join(lines)


def fill_effectiveness(stage, *, official, head, rng, today) -> None:
    cycle = stage.cycle
    if services.evaluation_of(cycle) is not None and services.evaluation_of(cycle).conclusions:
        return
    rows = services.indicator_rows(cycle)
    results = services.assess_measures(cycle, rows, today=today)
    services.save_evaluation(cycle, conclusions=_conclusions(rows, results), actor=official, today=today)
    # An indicator correction seeds the next cycle without adding goals to it (the carried goals stay as they
    # were); a goal is proposed only when no indicator was measured.
    measured = [r for r in rows if r.after is not None and r.target is not None]
    if not measured:
        services.add_proposal(cycle, kind="goal", actor=official,
                              text="Организовать сбор сведений по всем показателям цикла, чтобы оценить эффект мер")
    else:
        worst = min(measured, key=lambda r: r.progress if r.progress is not None else Decimal(0))
        step = Decimal(1) if worst.direction == "up" else Decimal(-1)
        target = worst.after + step
        rule = unit_rule(worst.unit)
        if rule == "percent":
            target = min(Decimal(100), max(Decimal(0), target))
        elif rule == "count":
            target = max(Decimal(0), target.to_integral_value())
        services.add_proposal(cycle, kind="indicator_correction", actor=official, indicator_id=worst.id,
                              new_target=target,
                              text=f"Скорректировать целевое значение показателя {worst.code} с учётом достигнутого "
                                   "уровня: прежняя цель оказалась нереалистичной для одного года")


STAGE_FILLERS: dict = {"EFF": fill_effectiveness}
