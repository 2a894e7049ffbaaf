"""The indicator dashboard of a cycle: each indicator's value per organisation and for the cycle's owner,
target attainment, change against the baseline and earlier periods, and the position of each school within
its context cluster.

The rows are precomputed (`refresh_dashboard`) after every analysis run and after imports
(`refresh_after_import`), and pages only read them: one query per page whatever the number of rows.
"""

import io
import logging

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import joinedload, noload
from sqlalchemy.orm.attributes import set_committed_value

from app.analysis import chart_cache
from app.analysis.models import AnalysisResult, AnalysisRun, ChartImage, DashboardRow
from app.core import russian as ru
from app.core.access import scope_condition
from app.core.timeutil import utcnow
from app.cycles.models import Cycle, Indicator
from app.extensions import db
from app.jobs.queue import dispatch_ready, enqueue_after_commit, job
from app.orgs.models import Organisation
from app.orgs.services import org_time_zone
from app.monitoring.models import IndicatorValue, Submission
from app.monitoring.values import owner_value, owner_value_rule, topmost_answers, unit_rule

log = logging.getLogger(__name__)
HISTORY_CYCLES = 2  # earlier periods shown beside the current one

SORTS = {
    "org": lambda r: ru.sort_key(r.organisation.display_name),  # by the name shown, «СОШ № 4» before «№ 10»
    "value": lambda r: (r.value is None, r.value if r.value is not None else 0),
    "change_baseline": lambda r: (r.change_baseline is None, r.change_baseline or 0),
    "change_previous": lambda r: (r.change_previous is None, r.change_previous or 0),
    "attainment": lambda r: (r.attainment is None, r.attainment or 0),
    "cluster_z": lambda r: (r.cluster_z is None, r.cluster_z or 0),
}
SORT_LABELS = {"org": "Организация", "value": "Значение", "change_baseline": "Изменение к базовому",
               "change_previous": "Изменение к прошлому периоду", "attainment": "Достижение цели, %",
               "cluster_z": "Положение в кластере"}
POSITION_LABELS = {"above": "выше ожидаемого для школ со схожими условиями",
                   "below": "ниже ожидаемого для школ со схожими условиями",
                   "typical": "на уровне школ со схожими условиями",
                   "expected": "на уровне школ со схожими условиями",
                   "within": "на уровне школ со схожими условиями",
                   "alone": "в кластере нет других школ для сравнения"}


def position_label(position: str | None) -> str:
    if not position:
        return "—"
    return POSITION_LABELS.get(position, position)


def _accepted_values(indicator_ids: list[int], periods: list[str]) -> list[tuple]:
    """(indicator_id, organisation_id, period, value) of accepted values: entered or imported directly,
    or submitted and accepted."""
    if not indicator_ids:
        return []
    return list(db.session.execute(
        select(IndicatorValue.indicator_id, IndicatorValue.organisation_id, IndicatorValue.period,
               IndicatorValue.value)
        .outerjoin(Submission, Submission.id == IndicatorValue.submission_id)
        .where(IndicatorValue.indicator_id.in_(indicator_ids), IndicatorValue.period.in_(periods),
               or_(IndicatorValue.submission_id.is_(None), Submission.state == "accepted"))))


def _cluster_labels(run: AnalysisRun | None):
    # Local: heavy: pandas and the statistical methods load only when a computation runs.
    import pandas as pd

    if run is None:
        return None
    pairs = db.session.execute(select(AnalysisResult.school_id, AnalysisResult.value).where(
        AnalysisResult.run_id == run.id, AnalysisResult.kind == "cluster")).all()
    if not pairs:
        return None
    return pd.Series({int(s): int(v) for s, v in pairs if s is not None and v is not None}, name="cluster")


def compute_rows(cycle: Cycle, run: AnalysisRun | None = None) -> list[dict]:
    """The dashboard rows of a cycle as plain dicts (also used by the report and the tests)."""
    owner = cycle.owner
    indicators = list(cycle.indicators)
    earlier, walk = [], cycle.previous
    while walk is not None and len(earlier) < HISTORY_CYCLES:
        earlier.append(walk)
        walk = walk.previous
    by_code = {c.id: {i.code: i for i in c.indicators} for c in earlier}
    ids = [i.id for i in indicators] + [i.id for c in earlier for i in c.indicators]
    periods = [cycle.period] + [c.period for c in earlier]
    in_scope = dict(db.session.execute(select(Organisation.id, Organisation.path)
                                       .where(Organisation.in_subtree_of(owner))).all())
    values: dict[tuple[int, int, str], float] = {}
    for indicator_id, org_id, period, value in _accepted_values(ids, periods):
        if org_id in in_scope and value is not None:
            values[(indicator_id, org_id, period)] = float(value)
    labels = _cluster_labels(run)
    rows = []
    for ind in indicators:
        history_ids = [(c.period, by_code[c.id].get(ind.code)) for c in earlier]
        orgs = sorted({org for (i, org, p) in values if i == ind.id and p == cycle.period}
                      | {org for (period, h) in history_ids if h is not None
                         for (i, org, p) in values if i == h.id and p == period})
        per_org = {}
        for org_id in orgs:
            current = values.get((ind.id, org_id, cycle.period))
            history = {period: values.get((h.id, org_id, period)) for period, h in history_ids if h is not None}
            per_org[org_id] = (current, {p: v for p, v in history.items() if v is not None})
        total_current, total_history, mean_of = _total(ind, owner.id, per_org, history_ids, values, in_scope)
        positions = _positions(ind, per_org, labels, exclude=owner.id)
        for org_id, (current, history) in per_org.items():
            if org_id == owner.id:
                continue
            rows.append(_row(cycle, ind, org_id, False, current, history, positions.get(org_id), None))
        rows.append(_row(cycle, ind, owner.id, True, total_current, total_history, None, mean_of))
    return rows


def _total(ind, owner_id, per_org, history_ids, values, paths):
    """The owner's value (monitoring.values.owner_value): its own where it was reported; otherwise its
    organisations' sum for a head count, their mean for anything else — of the topmost organisations that answered
    (`topmost_answers`: a municipality's answer holds its schools'); with how many organisations it was made of
    (None when it is the owner's own)."""
    if owner_id in per_org and per_org[owner_id][0] is not None:
        return per_org[owner_id][0], per_org[owner_id][1], None
    others = topmost_answers({paths[org]: v for org, (v, _h) in per_org.items()
                              if org != owner_id and v is not None})
    current = owner_value(ind.unit, others)
    history = {}
    for period, h in history_ids:
        if h is None:
            continue
        earlier = topmost_answers({paths[org]: v for (i, org, p), v in values.items()
                                   if i == h.id and p == period and org != owner_id})
        if earlier:
            history[period] = owner_value(ind.unit, earlier)
    return current, history, len(others) or None


def _positions(ind, per_org, labels, *, exclude: int) -> dict:
    # Local: heavy: pandas and the statistical methods load only when a computation runs.
    import pandas as pd

    if labels is None:
        return {}
    current = pd.Series({org: v for org, (v, _h) in per_org.items() if v is not None and org != exclude
                         and org in labels.index}, dtype=float)
    if len(current) < 2:
        return {}
    # Local, like pandas above: the statistical core loads only when a page needs positions in clusters.
    from app.analysis.methods.clusters import compare_with_cluster

    frame = compare_with_cluster(current, labels, higher_is_better=ind.direction == "up")
    if "school_id" not in frame.columns:
        frame = frame.reset_index()
    out = {}
    for record in frame.to_dict("records"):
        out[int(record["school_id"])] = (int(labels.get(int(record["school_id"]))),
                                         _float(record.get("cluster_mean")), _float(record.get("z")),
                                         record.get("position"))
    return out


def _float(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number


def goal_attainment(current, baseline, target, direction: str) -> tuple[float | None, bool | None]:
    """How far the value has come from the baseline towards the target, in % (the true figure, not capped),
    and whether the target is met — both read in the indicator's direction ("up": higher is better,
    "down": lower is better).

    When the baseline already is at (or beyond) the target, there is no way to go: the figure is then the
    value relative to the target (100 % = exactly at it), so a kept level reads as 100 %, not as a division
    by a zero or a tiny gap (−1350 %)."""
    if current is None or target is None:
        return None, None
    up = direction != "down"
    target_met = current >= target if up else current <= target
    if baseline is not None:
        gap = (target - baseline) if up else (baseline - target)
        if gap > 0:
            progress = (current - baseline) if up else (baseline - current)
            return round(progress / gap * 100, 1), target_met
    # No way to go from the baseline (or none given): the value against the target itself.
    if up:
        ratio = current / target if target > 0 else (1.0 if target_met else 0.0)
    else:
        ratio = target / current if current > 0 else 1.0
    return round(ratio * 100, 1), target_met


def attainment_shown(value: float | None) -> float | None:
    """The attainment as it is shown: capped to 0–100 % (the true figure goes into a tooltip)."""
    return None if value is None else min(100.0, max(0.0, value))


def _row(cycle, ind, org_id, is_total, current, history, position, mean_of) -> dict:
    baseline = float(ind.baseline) if ind.baseline is not None else None
    target = float(ind.target) if ind.target is not None else None
    if not is_total and unit_rule(ind.unit) == "count":
        # A head count's baseline and target are the owner's total (monitoring.values.owner_value sums it): a
        # school's 4 pupils are no «цель достигнута» against a municipality's target of 11.
        baseline = target = None
    previous_period = next(iter(history), None)  # history is ordered newest first
    previous = history.get(previous_period) if previous_period else None
    attainment, target_met = goal_attainment(current, baseline, target, ind.direction)
    cluster, cluster_mean, cluster_z, cluster_position = position or (None, None, None, None)
    return {"cycle_id": cycle.id, "indicator_id": ind.id, "organisation_id": org_id, "is_total": is_total,
            "period": cycle.period, "value": current, "previous_value": previous,
            "change_previous": None if current is None or previous is None else round(current - previous, 4),
            "change_baseline": None if current is None or baseline is None else round(current - baseline, 4),
            "attainment": attainment, "target_met": target_met, "cluster": cluster, "cluster_mean": cluster_mean,
            "cluster_z": cluster_z, "cluster_position": cluster_position,
            # mean_of: how many organisations the owner's value was made of, and how («сумма» / «среднее»)
            "history": {"periods": history, "mean_of": mean_of,
                        "made_by": owner_value_rule(ind.unit) if mean_of else None}}


def refresh_dashboard(cycle: Cycle, *, run: AnalysisRun | None = None) -> int:
    """Rebuild the cycle's dashboard rows (flushes, never commits). Returns the number of rows."""
    if run is None:
        run = db.session.scalar(select(AnalysisRun).where(AnalysisRun.cycle_id == cycle.id,
                                                          AnalysisRun.status == "done")
                                .order_by(AnalysisRun.id.desc()).limit(1))
    rows = compute_rows(cycle, run)
    db.session.execute(delete(DashboardRow).where(DashboardRow.cycle_id == cycle.id))
    now = utcnow()
    for row in rows:
        db.session.add(DashboardRow(**row, computed_at=now))
    db.session.flush()
    # The charts of the new numbers are drawn once, after the rows are committed (not on the next page view).
    enqueue_after_commit(render_dashboard_charts, cycle.id)
    return len(rows)


@job(queue="default", timeout=600)
def refresh_cycle_dashboard(cycle_id: int) -> None:
    """Job: rebuild one cycle's dashboard and commit."""
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        return
    refresh_dashboard(cycle)
    db.session.commit()
    dispatch_ready()  # the charts of the new numbers (a worker has no request to dispatch them after)


@job(queue="default", timeout=600)
def refresh_after_import(organisation_id: int) -> None:
    """Hook for imports (results or indicator values): rebuild the dashboards of open cycles whose owner
    is the organisation or one of its ancestors or descendants. Enqueue it after the import's commit:
    `enqueue_after_commit(refresh_after_import, org.id)`."""
    org = db.session.get(Organisation, organisation_id)
    if org is None:
        return
    cycles = db.session.scalars(
        select(Cycle).join(Cycle.owner).where(
            Cycle.state == "open",
            or_(Organisation.id.in_(org.ancestor_ids()), Organisation.path.like(org.path + "%"))))
    for cycle in cycles:
        refresh_dashboard(cycle)
    db.session.commit()
    dispatch_ready()


def dashboard_rows(cycle: Cycle, *, user=None, indicator_id: int | None = None, sort: str = "org",
                   descending: bool = False) -> list[DashboardRow]:
    """The precomputed rows visible to the user (their subtree), in one query, sorted server-side."""
    # The cycle's indicators are loaded once (a few rows) and each row's indicator is then found in the session,
    # instead of joining every indicator's long texts onto every one of hundreds of rows.
    indicators = list(cycle.indicators)
    query = (select(DashboardRow).join(DashboardRow.organisation)
             .where(DashboardRow.cycle_id == cycle.id)
             .options(joinedload(DashboardRow.organisation),
                      joinedload(DashboardRow.indicator) if not indicators else noload(DashboardRow.indicator)))
    if user is not None:
        query = query.where(scope_condition(Organisation.path, user))
    if indicator_id:
        query = query.where(DashboardRow.indicator_id == indicator_id)
    rows = list(db.session.scalars(query))
    if indicators:
        by_id = {i.id: i for i in indicators}
        for r in rows:
            set_committed_value(r, "indicator", by_id.get(r.indicator_id))
    key = SORTS.get(sort, SORTS["org"])
    grouped: dict = {}
    for r in rows:  # per indicator: its organisations, then the total
        grouped.setdefault((r.indicator.code, r.is_total), []).append(r)
    ordered = []
    for group_key in sorted(grouped):
        group = sorted(grouped[group_key], key=key)
        if descending:
            filled = [r for r in group if sort == "org" or key(r)[0] is False]
            kept = {id(r) for r in filled}
            ordered += list(reversed(filled)) + [r for r in group if id(r) not in kept]
        else:
            ordered += group
    return ordered


def shown_numbers(rows: list[DashboardRow]) -> dict[int, dict]:
    """Each row's numbers as the table prints them (row id → texts), the rule of the effectiveness page and the
    reports (app.core.russian.column): a head count whole; every other value with the decimals its organisations'
    values have, at least one (a computed mean is not more precise than its data: «71,9», not «71,93»; a
    value of «68,4» is not «68,40»), one number of decimals down a column; changes signed; baseline and target as
    entered."""
    units = [r.indicator.unit for r in rows]
    digits = chart_cache.value_digits(rows)  # the charts' numbers say the same
    columns = {"value": ru.column([r.value for r in rows], units, digits),
               "change_previous": ru.column([r.change_previous for r in rows], units, digits, sign=True),
               "change_baseline": ru.column([r.change_baseline for r in rows], units, digits, sign=True),
               "baseline": ru.column([r.indicator.baseline for r in rows], units),
               "target": ru.column([r.indicator.target for r in rows], units)}
    out = {}
    for n, r in enumerate(rows):
        periods = (r.history or {}).get("periods", {})
        earlier = ru.column(list(periods.values()), [r.indicator.unit] * len(periods), digits)
        out[r.id] = {**{key: column[n] for key, column in columns.items()},
                     "periods": list(zip(periods, earlier))}
    return out


def indicators_of(cycle: Cycle) -> list[Indicator]:
    return list(cycle.indicators)


XLSX_HEADER = ["Показатель", "Код", "Организация", "Период", "Значение", "Прошлый период", "Изменение к прошлому",
               "Базовое", "Целевое", "Изменение к базовому", "Достижение цели, %", "Цель достигнута",
               "Кластер", "Среднее в кластере", "z в кластере", "Положение в кластере"]


def xlsx_bytes(cycle: Cycle, rows: list[DashboardRow]) -> bytes:
    # Local: heavy: openpyxl loads only when a spreadsheet is read or written.
    from openpyxl import Workbook

    # loads openpyxl, like the import above: only when asked
    from app.core.spreadsheets import DECIMAL_1, INTEGER, append_row, finish_sheet, generated_note

    book = Workbook()
    sheet = book.active
    sheet.title = "Показатели"
    append_row(sheet, [f"Показатели цикла: {cycle.short_title} ({generated_note(org_time_zone(cycle.owner))})"])
    append_row(sheet, XLSX_HEADER)
    for r in rows:
        ind = r.indicator
        append_row(sheet, [ind.name, ind.code, ("Итого: " if r.is_total else "") + r.organisation.display_name,
                           r.period, r.value, r.previous_value, r.change_previous,
                           float(ind.baseline) if ind.baseline is not None else None,
                           float(ind.target) if ind.target is not None else None,
                           r.change_baseline, r.attainment,
                           None if r.target_met is None else ("да" if r.target_met else "нет"),
                           r.cluster, r.cluster_mean, r.cluster_z,
                           position_label(r.cluster_position) if r.cluster_position else None])
    # values, changes, baseline, target, attainment and cluster mean with one decimal, z with two (General printed
    # «8» under «57,2» and «0,333333» for a z); a head count stays whole
    finish_sheet(sheet, header_row=2, widths=(40, 10, 30, 10, 10, 12, 12, 10, 10, 12, 12, 10, 8, 12, 10, 30),
                 formats={**{c: DECIMAL_1 for c in (5, 6, 7, 8, 9, 10, 11, 14)}, 15: "0.00"})
    for line, r in zip(sheet.iter_rows(min_row=3, min_col=5, max_col=10), rows):
        if ru.is_count_unit(r.indicator.unit):
            for cell in line:
                cell.number_format = INTEGER
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@job(queue="default", timeout=600)
def render_dashboard_charts(cycle_id: int) -> None:
    """Job: draw the charts of a cycle's full dashboard (as its owner's officials see it, default order) after
    its rows were rebuilt, so the first visitors find them drawn; prune the cycle's charts of older data."""
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        return
    keys = []
    for _ind, data in chart_cache.by_indicator(cycle, dashboard_rows(cycle)):
        keys.append(chart_cache.svg("indicator", data, cycle_id=cycle.id)[0])
    db.session.execute(delete(ChartImage).where(ChartImage.cycle_id == cycle.id,
                                                ChartImage.created_at < utcnow() - chart_cache.KEEP_OLD,
                                                ChartImage.key.not_in(keys or [""])))
    chart_cache.commit_stored()
