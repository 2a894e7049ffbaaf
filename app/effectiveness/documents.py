"""Context builder of the effectiveness report (справка об анализе эффективности принятых мер), registered with
the documents feature at start-up by the descriptor's setup (same contract as app/documents/contexts.py)."""

from sqlalchemy import select

from app.core import dating
from app.core import russian as ru
from app.documents.contexts import (
    DASH,
    date_range,
    local_day,
    number_rows,
    person,
    refuse,
    register_builder,
)
from app.cycles.basis import basis_cycles, basis_indicators, basis_problems
from app.effectiveness.models import RESULT_SHORT, EffectivenessEvaluation
from app.effectiveness.services import UNFINISHED, indicator_rows
from app.extensions import db
from app.followup.documents import MEASURE_STATE_LABELS
from app.followup.models import Measure
from workflows.measure import ACTIVE_STATES


def cited(indicators) -> str:
    """«Name» (code); … — indicators as a conclusion cites them."""
    return "; ".join(f"{ru.quote(i.name)} ({i.code})" for i in indicators)


def effectiveness_report(dtype, stage, ctx, **_):
    cycle = stage.cycle
    # A partial cycle is evaluated on the indicators of its full cycle (app/cycles/basis.py).
    problems = basis_problems(cycle)
    indicators = basis_indicators(cycle)
    if problems or not indicators:
        refuse(dtype.title, problems or ["Не задано ни одного показателя."])
    # The values the effectiveness page shows (accepted ones; the owner's value by monitoring.values.owner_value:
    # a head count summed, not averaged): the signed report says what the page said.
    evaluated = indicator_rows(cycle)
    rows, reached, missed, unknown, partial = [], [], [], [], []
    for ind, row in zip(indicators, evaluated):
        actual = row.after
        if actual is None or ind.target is None:
            assessment = "нет данных"
            unknown.append(ind)
        elif row.target_met:
            assessment = "достигнуто"
            reached.append(ind)
        else:
            assessment = "не достигнуто"
            missed.append(ind)
        if row.kept:
            # The value is the upper organisation's monitoring, the repeat covered a part: said in full in the
            # conclusions (the narrow «Оценка» cell broke «муниципалите-т» over two lines, PDF review).
            assessment += "; повторно измерена часть организаций (см. раздел 3)"
            partial.append(f"Показатель {ru.quote(ind.name)} ({ind.code}) повторно измерен частично: "
                           + "; ".join(f"{k.counted}, достигнутое значение — {k.source(f'{cycle.period} учебный год')}"
                                       for k in row.kept) + ".")
        rows.append({"code": ind.code, "name": ind.name, "unit": ind.unit, "baseline": ind.baseline,
                     "target": ind.target, "actual": actual, "change": row.change, "assessment": assessment})
    # Each column's numbers with one number of decimals, a count of people whole (as the analytic report prints
    # them): the computed mean and change with the precision of the values they come from, at least one decimal.
    units = [r["unit"] for r in rows]
    measured = [s.after for ind, row in zip(indicators, evaluated) if not ru.is_count_unit(ind.unit)
                for s in row.schools]
    digits = max(1, ru.decimals(measured))
    columns = {"baseline": ru.column([r["baseline"] for r in rows], units),
               "target": ru.column([r["target"] for r in rows], units),
               "actual": ru.column([r["actual"] for r in rows], units, digits),
               "change": ru.column([r["change"] for r in rows], units, digits, sign=True)}
    for n, row in enumerate(rows):
        row.update({key: column[n] for key, column in columns.items()})
    evaluation = db.session.scalar(select(EffectivenessEvaluation).where(EffectivenessEvaluation.cycle_id == cycle.id))
    assessed = {a.measure_id: a for a in evaluation.assessments} if evaluation is not None else {}
    measure_rows = []
    for m in db.session.scalars(select(Measure).where(Measure.cycle_id == cycle.id)
                                .order_by(Measure.start_date, Measure.id)):
        result = m.result_note or m.cancel_reason or m.expected_result or DASH
        if m.state in ACTIVE_STATES:
            # A measure still planned or under way has no effect to rate yet, whatever was entered.
            result = UNFINISHED
        elif m.id in assessed:
            assessment = assessed[m.id]
            # two sentences: «Есть эффект. Рост показателя» (it said «Есть эффект. рост показателя»)
            result = f"{RESULT_SHORT.get(assessment.result, assessment.result)}. {ru.upper_first(result)}"
            if assessment.note:
                result += f" ({assessment.note})"
        # the cell's text is a sentence: «Есть эффект. Проведено, …» (it began «есть эффект. Проведено»)
        result = ru.upper_first(result)
        if m.state in ("done", "verified"):
            # Its effect is rated: the report cannot be dated before the measure was finished.
            dating.not_before(ctx, local_day(m.done_at, cycle.owner), f"завершение мероприятия {ru.quote(m.title)}")
        measure_rows.append({"title": m.title, "dates": date_range(m.start_date, m.end_date),
                             "responsible": person(m.responsible),
                             "state": MEASURE_STATE_LABELS.get(m.state, m.state), "result": result})
    achieved = len(reached)
    # Each indicator is cited by its name with its code from the cycle's list («…» (M2.3-02)): the reader finds
    # it in the table and in the перечень показателей.
    if reached or missed:
        # «из 1 показателя», «из 21 показателя», «из 5 показателей»
        of = ru.plural_form(len(rows), ("показателя", "показателей", "показателей"))
        summary = f"Целевые значения достигнуты по {achieved} из {len(rows)} {of}"
        if not achieved:
            # «достигнуты по 0 из 7 показателей» said a nought where the sentence should say none
            summary = (f"Целевые значения не достигнуты ни по одному из {len(rows)} {of}" if len(rows) > 1 else
                       "Целевое значение показателя не достигнуто")
        conclusions = [summary + (f": {cited(reached)}." if reached else ".")]
        summary += "."
    else:
        # No value to compare: «достигнуты по 0 из 9 показателей» read as nine targets missed.
        summary = (f"Достижение целевых значений оценить нельзя: нет принятых значений показателей за "
                   f"{cycle.period} учебный год.")
        conclusions = [summary]
    if missed:
        conclusions.append(f"Не достигли целевых значений показатели: {cited(missed)}. Причины и меры "
                           "предлагается учесть в целях следующего цикла.")
    conclusions += partial
    if unknown and (reached or missed):
        conclusions.append(f"Нет данных для оценки по показателям: {cited(unknown)}.")
    if evaluation is not None:
        conclusions += [ru.sentence(line) for line in (evaluation.conclusions or "").splitlines() if line.strip()]
        # after the colon the proposal goes on in lower case and ends as a sentence («…: скорректировать …»)
        conclusions += [f"Предложение ({p.kind_label}): {ru.sentence(ru.lower_first(p.text.strip()))}"
                        for p in evaluation.proposals]
    if stage.summary:
        conclusions.append(ru.sentence(stage.summary))
    basis_of = "цикла" if cycle.track.own_indicators else (
        f"полного цикла механизма {ru.quote(cycle.track.mechanism.title)} (направление "
        + ", ".join(f"«{c.track.title}»" for c in basis_cycles(cycle)) + ")")
    ctx["doc"]["heading"] = f"об анализе эффективности принятых мер ({ctx['cycle']['mechanism']}, " \
                            f"{cycle.period} учебный год)"
    return {
        "report": {"intro": f"Эффективность мер оценена по изменению значений показателей {basis_of} "
                            f"({ru.plural(len(rows), 'показатель')}) за {cycle.period} учебный год относительно "
                            "базовых и целевых значений.",
                   "period": cycle.period, "achieved": achieved, "total": len(rows), "summary": summary},
        "indicator_rows": number_rows(rows), "measures": number_rows(measure_rows), "conclusions": conclusions,
    }


def register() -> None:
    """Called by the descriptor's setup."""
    register_builder("effectiveness_report", effectiveness_report)
