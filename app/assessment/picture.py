"""The region picture of an assessment campaign (issue 16 item 7): a heat map municipalities × mechanisms, each
municipality's profile across the blocks with its problem zones, the distribution of levels per mechanism, the
dynamics against the region's previous campaign and the gap between self-assessment and expert score.

Which score counts («учитываемый балл»): the expert's score of an approved expert evaluation where there is one,
else the self-assessment once the coordinator has submitted it with every criterion scored; a cell with neither is
«нет оценки». Percent = points / maximum × 100, the level from the campaign's frozen thresholds.

Pure functions over the campaign's rows: `campaign_data` reads them in a fixed number of statements (whatever the
number of municipalities — tests/test_assessment_picture.py counts them), everything else computes on plain
values. `region_picture(campaign)` is the one entry point the analytical report (documents.py) uses.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.assessment import evidence
from app.assessment.criteria import level_label, level_of
from app.assessment.models import LEVELS, Assignment, Campaign, CampaignMunicipality, Criterion, Score, SelfAssessment
from app.core.spreadsheets import (DECIMAL_1, append_row, fit_row_height, generated_note, header_widths,
                                  print_setup)
from app.extensions import db
from app.orgs.services import org_time_zone
from workflows import expert_evaluation as evaluation_flow
from workflows import self_assessment as self_flow

BLOCKS = ("GOAL", "IND", "METH", "MON", "ANL", "REC", "MEAS", "DEC", "EFF")
# A municipality over-assesses itself when its self-assessment exceeds the expert's by this many points of percent
# or more (over the mechanisms with an expert score). [default]
OVER_ASSESSMENT_GAP = 10
SOURCE_LABELS = {"expert": "экспертная оценка (утверждена)", "self": "самооценка", None: "нет оценки"}
EXPERT_SHOWN = ("submitted", "returned", "approved")  # expert scores taken into the gap (not drafts in progress)


def _percent(points: float, maximum: float) -> float | None:
    return round(100 * points / maximum, 1) if maximum else None


@dataclass
class CriterionRow:
    """One score of one municipality × criterion, as plain values."""

    municipality_id: int
    mechanism: str
    block: str
    code: str
    text: str
    max_points: int
    position: int
    proposed: int | None
    self_points: int | None
    expert_points: int | None


@dataclass
class Cell:
    """A municipality × mechanism of the heat map."""

    municipality_id: int
    mechanism: str
    max_points: int = 0
    self_points: int | None = None
    expert_points: int | None = None
    self_state: str | None = None
    expert_state: str | None = None
    source: str | None = None  # which score counts: "expert" (approved), "self", or None

    @property
    def points(self) -> int | None:
        return self.expert_points if self.source == "expert" else self.self_points if self.source == "self" else None

    @property
    def percent(self) -> float | None:
        return _percent(self.points, self.max_points) if self.points is not None else None

    @property
    def self_percent(self) -> float | None:
        return _percent(self.self_points, self.max_points) if self.self_points is not None else None

    @property
    def expert_percent(self) -> float | None:
        return _percent(self.expert_points, self.max_points) if self.expert_points is not None else None

    level: str | None = None

    @property
    def title(self) -> str:
        """The hover text: both scores and which of them counts."""
        parts = [f"Самооценка: {_shown(self.self_percent)}"
                 + (" (черновик)" if self.self_state == "draft" and self.self_points is not None else ""),
                 f"эксперт: {_shown(self.expert_percent)}"
                 + (" (утверждена)" if self.expert_state == "approved" else
                    " (не утверждена)" if self.expert_points is not None else ""),
                 f"учитывается: {SOURCE_LABELS[self.source]}"]
        return "; ".join(parts)


def _shown(percent: float | None) -> str:
    return "—" if percent is None else f"{_num(percent)} %"


def _num(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}".replace(".", ",")


@dataclass
class CampaignData:
    """Everything the picture is computed from, read once."""

    campaign: Campaign
    municipalities: list  # [Organisation], in the campaign's order
    mechanisms: list[str]
    rows: list[CriterionRow]
    self_states: dict[tuple[int, str], str]
    expert_states: dict[tuple[int, str], str]
    thresholds: dict


def campaign_data(campaign: Campaign, municipality_ids=None, hidden=frozenset()) -> CampaignData:
    """The campaign's scores as plain rows: 4 statements whatever the size (municipalities, assignments,
    self-assessments, scores joined with their criteria). `municipality_ids`: limit to these (a user's scope);
    `hidden`: (municipality id, mechanism) whose self-assessment points the reader may not see yet (a draft, for its
    expert: services.hidden_self), left blank."""
    members = db.session.scalars(select(CampaignMunicipality).where(CampaignMunicipality.campaign_id == campaign.id)
                                 .options(selectinload(CampaignMunicipality.municipality))
                                 .order_by(CampaignMunicipality.id)).all()
    wanted = None if municipality_ids is None else set(municipality_ids)
    municipalities = [m.municipality for m in members if wanted is None or m.municipality_id in wanted]
    ids = [m.id for m in municipalities]
    expert_states = {(a, m): s for a, m, s in db.session.execute(
        select(Assignment.municipality_id, Assignment.mechanism_code, Assignment.state)
        .where(Assignment.campaign_id == campaign.id))}
    self_states = {(a, m): s for a, m, s in db.session.execute(
        select(SelfAssessment.municipality_id, SelfAssessment.mechanism_code, SelfAssessment.state)
        .where(SelfAssessment.campaign_id == campaign.id))}
    query = (select(Score.municipality_id, Score.mechanism_code, Criterion.block, Criterion.code, Criterion.text,
                    Criterion.max_points, Criterion.position, Score.proposed_points, Score.self_points,
                    Score.expert_points)
             .join(Criterion, Criterion.id == Score.criterion_id)
             .where(Score.campaign_id == campaign.id, Score.mechanism_code.in_(list(campaign.mechanisms)))
             .order_by(Score.municipality_id, Criterion.position))
    if wanted is not None:
        query = query.where(Score.municipality_id.in_(ids))
    rows = [CriterionRow(*r) for r in db.session.execute(query)] if ids else []
    for row in rows:
        if (row.municipality_id, row.mechanism) in hidden:
            row.self_points = None
    return CampaignData(campaign=campaign, municipalities=municipalities, mechanisms=list(campaign.mechanisms),
                        rows=rows, self_states=self_states, expert_states=expert_states,
                        thresholds=dict(campaign.criteria_set.thresholds))


SELF_COUNTED = ("submitted", "returned")  # a self-assessment the coordinator has submitted (a draft is not one yet)


def counted_source(rows: list[CriterionRow], expert_state: str | None, self_state: str | None) -> str | None:
    """Which side counts for one municipality × mechanism: the approved expert's, else a complete submitted
    self-assessment (also one the expert returned for correction: it stands until resubmitted)."""
    if not rows:
        return None
    if expert_state == "approved" and all(r.expert_points is not None for r in rows):
        return "expert"
    if self_state in SELF_COUNTED and all(r.self_points is not None for r in rows):
        return "self"
    return None


def _points(rows, attr) -> int | None:
    values = [getattr(r, attr) for r in rows]
    return None if not values or any(v is None for v in values) else sum(values)


def cells_of(data: CampaignData) -> dict[tuple[int, str], Cell]:
    groups: dict[tuple[int, str], list[CriterionRow]] = {}
    for r in data.rows:
        groups.setdefault((r.municipality_id, r.mechanism), []).append(r)
    cells = {}
    for m in data.municipalities:
        for code in data.mechanisms:
            rows = groups.get((m.id, code), [])
            cell = Cell(municipality_id=m.id, mechanism=code, max_points=sum(r.max_points for r in rows),
                        self_points=_points(rows, "self_points"), expert_points=_points(rows, "expert_points"),
                        self_state=data.self_states.get((m.id, code)),
                        expert_state=data.expert_states.get((m.id, code)),
                        source=counted_source(rows, data.expert_states.get((m.id, code)),
                                              data.self_states.get((m.id, code))))
            cell.level = level_of(cell.percent, data.thresholds)
            cells[(m.id, code)] = cell
    return cells


def counted_points(row: CriterionRow, source: str | None) -> int | None:
    return row.expert_points if source == "expert" else row.self_points if source == "self" else None


def block_profile(rows: list[CriterionRow], sources: dict[tuple[int, str], str | None]) -> dict[str, dict]:
    """Per block: counted points and maximum summed over the mechanisms whose score counts, and the percent."""
    out = {b: {"points": 0, "max": 0} for b in BLOCKS}
    for r in rows:
        source = sources.get((r.municipality_id, r.mechanism))
        points = counted_points(r, source)
        if points is None:
            continue
        entry = out.setdefault(r.block, {"points": 0, "max": 0})
        entry["points"] += points
        entry["max"] += r.max_points
    for entry in out.values():
        entry["percent"] = _percent(entry["points"], entry["max"]) if entry["max"] else None
    return out


def problem_zones(profile: dict[str, dict], below: float) -> list[dict]:
    """Blocks scoring below `below` percent across the mechanisms, lowest first (ties in the cycle's order)."""
    order = {b: n for n, b in enumerate(BLOCKS)}
    zones = [{"block": b, **v} for b, v in profile.items() if v["percent"] is not None and v["percent"] < below]
    return sorted(zones, key=lambda z: (z["percent"], order.get(z["block"], 99)))


@dataclass
class MunicipalityRow:
    municipality: object
    cells: dict[str, Cell]
    percent: float | None  # over all mechanisms with a counted score (points / maximum)
    level: str | None
    profile: dict[str, dict]
    problem_zones: list[dict]
    # The self-vs-expert gap over the mechanisms with an expert score (submitted, returned or approved).
    gap: dict = field(default_factory=dict)
    previous_percent: float | None = None

    @property
    def delta(self) -> float | None:
        if self.percent is None or self.previous_percent is None:
            return None
        return round(self.percent - self.previous_percent, 1)

    @property
    def name(self) -> str:
        return self.municipality.display_name


def gap_of(cells: list[Cell]) -> dict:
    """Self-assessment minus expert score, in points of percent, over the mechanisms both scored."""
    both = [c for c in cells if c.self_points is not None and c.expert_points is not None
            and c.expert_state in EXPERT_SHOWN]
    if not both:
        return {"mechanisms": 0, "self_percent": None, "expert_percent": None, "gap": None, "over": False,
                "unapproved": 0}
    maximum = sum(c.max_points for c in both)
    self_pct = _percent(sum(c.self_points for c in both), maximum)
    expert_pct = _percent(sum(c.expert_points for c in both), maximum)
    gap = round(self_pct - expert_pct, 1)
    return {"mechanisms": len(both), "self_percent": self_pct, "expert_percent": expert_pct, "gap": gap,
            "over": gap >= OVER_ASSESSMENT_GAP,
            # compared before the head approved them (the report's note says so only when there are such)
            "unapproved": sum(1 for c in both if c.expert_state != "approved")}


@dataclass
class Picture:
    """The region picture of one campaign (what the page and the analytical report show)."""

    campaign: Campaign
    mechanisms: list[str]
    thresholds: dict
    rows: list[MunicipalityRow]
    distribution: list[dict]  # per mechanism: counts per level, mean, min, max
    region_profile: dict[str, dict]  # per block over every municipality
    region_zones: list[dict]  # blocks below the line over the region, lowest first
    previous: Campaign | None = None
    dynamics: list[dict] = field(default_factory=list)  # per mechanism: mean now, mean before, delta
    factors: object = None  # factors.Factors (item 8), filled by region_picture
    linkage: object = None
    problem_below: float = 50
    criterion_rows: list[CriterionRow] = field(default_factory=list)
    sources: dict = field(default_factory=dict)

    @property
    def counted_note(self) -> str:
        return ("Учитывается балл эксперта по утверждённой экспертной оценке, при её отсутствии — представленная "
                "самооценка муниципалитета (черновик самооценки не учитывается); уровень — по порогам набора "
                "критериев версии "
                f"{self.campaign.criteria_set.version} (высокий ≥ {self.thresholds['high']} %, средний ≥ "
                f"{self.thresholds['medium']} %, низкий ≥ {self.thresholds['low']} %).")

    def heatmap(self) -> list[dict]:
        """Plain rows for a document: municipality, per mechanism percent and level, overall."""
        return [{"municipality": r.name, "percent": r.percent, "level": r.level, "level_label": level_label(r.level),
                 "cells": [{"mechanism": code, "percent": r.cells[code].percent, "level": r.cells[code].level,
                            "level_label": level_label(r.cells[code].level),
                            "self_percent": r.cells[code].self_percent,
                            "expert_percent": r.cells[code].expert_percent, "source": r.cells[code].source}
                           for code in self.mechanisms]} for r in self.rows]

    @property
    def over_assessed(self) -> list[MunicipalityRow]:
        return [r for r in self.rows if r.gap.get("over")]

    def block_percents(self, mechanisms) -> dict[int, dict[str, float | None]]:
        """Per municipality, each block's percent over the given mechanisms only (the linkage compares the region's
        own cycles with the municipalities over the same mechanisms)."""
        wanted = set(mechanisms)
        rows: dict[int, list[CriterionRow]] = {}
        for r in self.criterion_rows:
            if r.mechanism in wanted:
                rows.setdefault(r.municipality_id, []).append(r)
        return {m.municipality.id: {b: v["percent"] for b, v in block_profile(rows.get(m.municipality.id, []),
                                                                              self.sources).items()}
                for m in self.rows}

    def plain(self) -> dict:
        """The picture as plain values (names, numbers, Russian words) for a document's context."""
        factors, linkage = self.factors, self.linkage
        return {
            "counted_note": self.counted_note, "mechanisms": list(self.mechanisms), "thresholds": dict(self.thresholds),
            "problem_below": self.problem_below, "heatmap": self.heatmap(),
            "problem_zones": [{"municipality": r.name, "zones": [{"block": z["block"], "percent": z["percent"]}
                                                                 for z in r.problem_zones]} for r in self.rows],
            "region_zones": [{"block": z["block"], "percent": z["percent"], "below": z["below"]}
                             for z in self.region_zones],
            "distribution": [{"mechanism": d["mechanism"], "n": d["n"], "mean": d["mean"], "min": d["min"],
                              "max": d["max"], **{level: d["counts"][level] for level in LEVELS},
                              "unscored": d["counts"][None]} for d in self.distribution],
            "dynamics": {"previous": self.previous.title if self.previous is not None else None,
                         "mechanisms": [dict(d) for d in self.dynamics],
                         "municipalities": [{"municipality": r.name, "now": r.percent, "before": r.previous_percent,
                                             "delta": r.delta} for r in self.rows]},
            "gap": [{"municipality": r.name, **r.gap} for r in self.rows],
            "over_assessed": [r.name for r in self.over_assessed],
            "factors": None if factors is None else {
                "method": factors.method,
                "rows": [{"label": f.label, "rho": f.rho, "rho_shown": f.rho_shown, "n": f.n, "words": f.words}
                         for f in factors.rows]},
            "linkage": None if linkage is None else {
                "basis": linkage.basis, "has_region": linkage.has_region, "compared": list(linkage.compared),
                "blocks": [dict(b) for b in linkage.blocks],
                "mechanisms": [dict(m) for m in linkage.mechanisms]},
        }


def _overall(cells: list[Cell]) -> float | None:
    counted = [c for c in cells if c.points is not None]
    if not counted:
        return None
    return _percent(sum(c.points for c in counted), sum(c.max_points for c in counted))


def compute(data: CampaignData, previous: CampaignData | None = None) -> Picture:
    """The picture from read data (no statements)."""
    cells = cells_of(data)
    sources = {k: c.source for k, c in cells.items()}
    below = data.thresholds.get("medium", 50)
    by_municipality: dict[int, list[CriterionRow]] = {}
    for r in data.rows:
        by_municipality.setdefault(r.municipality_id, []).append(r)
    before = {}
    before_cells = {}
    if previous is not None:
        before_cells = cells_of(previous)
        for m in previous.municipalities:
            before[m.id] = _overall([before_cells[(m.id, code)] for code in previous.mechanisms])
    rows = []
    for m in data.municipalities:
        own = {code: cells[(m.id, code)] for code in data.mechanisms}
        profile = block_profile(by_municipality.get(m.id, []), sources)
        percent = _overall(list(own.values()))
        rows.append(MunicipalityRow(municipality=m, cells=own, percent=percent, level=level_of(percent,
                                                                                                data.thresholds),
                                    profile=profile, problem_zones=problem_zones(profile, below),
                                    gap=gap_of(list(own.values())), previous_percent=before.get(m.id)))
    distribution = []
    for code in data.mechanisms:
        values = [cells[(m.id, code)] for m in data.municipalities]
        percents = [c.percent for c in values if c.percent is not None]
        counts = {level: sum(1 for c in values if c.level == level) for level in LEVELS}
        counts[None] = sum(1 for c in values if c.level is None)
        distribution.append({"mechanism": code, "counts": counts, "n": len(percents),
                             "mean": round(sum(percents) / len(percents), 1) if percents else None,
                             "min": min(percents) if percents else None, "max": max(percents) if percents else None})
    region_profile = block_profile(data.rows, sources)
    for b, entry in region_profile.items():
        entry["below"] = sum(1 for r in rows if r.profile.get(b, {}).get("percent") is not None
                             and r.profile[b]["percent"] < below)
    dynamics = []
    if previous is not None:
        for d in distribution:
            code = d["mechanism"]
            old = [before_cells[(m.id, code)].percent for m in previous.municipalities
                   if (m.id, code) in before_cells and before_cells[(m.id, code)].percent is not None]
            mean_before = round(sum(old) / len(old), 1) if old else None
            dynamics.append({"mechanism": code, "now": d["mean"], "before": mean_before,
                             "delta": round(d["mean"] - mean_before, 1) if d["mean"] is not None
                             and mean_before is not None else None})
    return Picture(campaign=data.campaign, mechanisms=data.mechanisms, thresholds=data.thresholds, rows=rows,
                   distribution=distribution, region_profile=region_profile,
                   region_zones=problem_zones(region_profile, below),
                   previous=previous.campaign if previous is not None else None, dynamics=dynamics,
                   problem_below=below, criterion_rows=data.rows, sources=sources)


def previous_campaign(campaign: Campaign) -> Campaign | None:
    """The campaign compared with: the one named as previous, else the region's latest published or closed campaign
    whose window started before this one's."""
    if campaign.previous_id:
        return db.session.get(Campaign, campaign.previous_id)
    return db.session.scalar(select(Campaign).where(
        Campaign.organisation_id == campaign.organisation_id, Campaign.id != campaign.id,
        Campaign.state != "draft", Campaign.window_start < campaign.window_start)
        .order_by(Campaign.window_start.desc(), Campaign.id.desc()).limit(1))


SORTS = ("name", "total", "gap", "delta")


def sort_rows(rows: list[MunicipalityRow], key: str, descending: bool) -> list[MunicipalityRow]:
    """Rows sorted by name, overall percent, gap, dynamics or a mechanism's percent; unscored always last."""
    if key == "name":
        return sorted(rows, key=lambda r: r.name.lower(), reverse=descending)

    def value(r: MunicipalityRow):
        if key == "total":
            return r.percent
        if key == "gap":
            return r.gap.get("gap")
        if key == "delta":
            return r.delta
        cell = r.cells.get(key)
        return cell.percent if cell is not None else None

    scored = [r for r in rows if value(r) is not None]
    unscored = [r for r in rows if value(r) is None]
    return sorted(scored, key=lambda r: (value(r), r.name.lower()), reverse=descending) + unscored


def region_picture(campaign: Campaign, municipality_ids=None, *, with_factors: bool = True,
                   hidden=frozenset()) -> Picture:
    """The whole picture of a campaign (or of the given municipalities, an expert's scope): heat map rows, problem
    zones, distribution, dynamics against the previous campaign, the gap, and (item 8) the factors table and the
    region-vs-municipalities linkage. A fixed number of statements whatever the number of municipalities."""
    data = campaign_data(campaign, municipality_ids, hidden)
    prior = previous_campaign(campaign)
    previous = campaign_data(prior, municipality_ids) if prior is not None else None
    picture = compute(data, previous)
    if with_factors:
        # Local: factors reads the analysis results and the region's cycles; the picture alone does not need them.
        from app.assessment import factors

        picture.factors = factors.factors_of(picture)
        picture.linkage = factors.linkage_of(picture)
    return picture


XLSX_HEADER = ["Код муниципалитета", "Муниципалитет", "Механизм", "Блок", "Критерий", "Формулировка", "Максимум",
               "Предложено", "Самооценка", "Эксперт", "Учитывается", "Источник учитываемого балла",
               "Состояние самооценки", "Состояние экспертной оценки"]
# The states in the words of the campaign page and the sheets (the workflows' labels): the workbook said «черновик»
# and «возвращена» where the page said «оценивается» and «возвращена эксперту», and the auditor matching the two
# could not tell which «возвращена» was whose.
SELF_STATES = self_flow.STATE_LABELS
EXPERT_STATES = evaluation_flow.STATE_LABELS


def scores_xlsx(picture: Picture) -> bytes:
    """All scores as XLSX: one row per municipality × mechanism × criterion (every text cell through the formula
    guard of app/core/spreadsheets.py), and a second sheet with the heat map. Written in openpyxl's streaming
    (write-only) mode: a region's 6,400 rows take half the time and a fraction of the memory."""
    # openpyxl is heavy: loaded only when the export is asked for.
    from openpyxl import Workbook

    wb = Workbook(write_only=True)

    # What, whose and as of when, above the header of each sheet (a printed page said none of it).
    campaign = picture.campaign
    # the period once: a campaign's title usually holds it already («…, 2026/27, 2026/27» printed it twice)
    named = campaign.title if campaign.period in campaign.title else f"{campaign.title}, {campaign.period}"
    title = f"{named}: {campaign.organisation.name} ({generated_note(org_time_zone(campaign.organisation))})"

    def header(sheet, what, names, widths):
        append_row(sheet, [f"{what} — {title}"], bold=True)
        fit_row_height(sheet, 2, names, widths)
        append_row(sheet, names, bold=True, wrap=True)

    ws = wb.create_sheet("Баллы")
    wrapped = {2, 4, 6, 12, 13, 14}  # the municipality, the block, the wording and the states: longer than a column
    # Widths, the frozen header and the page setup must be set before the first row in write-only mode.
    # «Код муниципалитета» was printed «Код муниципалите/та»: a header's words are kept whole
    widths = header_widths(XLSX_HEADER, (14, 36, 10, 18, 10, 52, 11, 12, 12, 10, 13, 30, 16, 22))
    print_setup(ws, header_row=2, widths=widths)
    header(ws, "Баллы по критериям", XLSX_HEADER, widths)
    by_id = {r.municipality.id: r for r in picture.rows}
    # The block and the criterion as the sheet on screen names them («1. Цели», «1.2»), not by the data's codes
    # («GOAL», «GOAL.2»), which no reader of the workbook has seen.
    positions, titles = evidence.block_positions(), evidence.block_titles()
    number = 2  # the row written last: a write-only sheet takes a row's height before the row
    for c in picture.criterion_rows:
        row = by_id.get(c.municipality_id)
        if row is None:
            continue
        cell = row.cells[c.mechanism]
        block = f"{positions[c.block]}. {titles.get(c.block, c.block)}" if c.block in positions else c.block
        values = [row.municipality.code, row.municipality.name, c.mechanism, block,
                  evidence.criterion_number(c, positions), c.text,
                  c.max_points, c.proposed, c.self_points, c.expert_points, counted_points(c, cell.source),
                  SOURCE_LABELS[cell.source], SELF_STATES.get(cell.self_state, "—"),
                  EXPERT_STATES.get(cell.expert_state, "эксперт не назначен")]
        # the criterion's wording and the municipality's name wrap (they were cut at the column on paper)
        number += 1
        fit_row_height(ws, number, values, widths)
        append_row(ws, values, wrap=wrapped)
    heat = wb.create_sheet("Тепловая карта")
    n = len(picture.mechanisms)
    names = ["Муниципалитет", *picture.mechanisms, "Итого, %", "Уровень"]
    widths = header_widths(names, (36, *[9] * (n + 1), 16))
    print_setup(heat, header_row=2, widths=widths)
    header(heat, "Доля максимального балла по механизмам, %", names, widths)
    percents = {column: DECIMAL_1 for column in range(2, n + 3)}  # 4,5 and 40,0 alike, not «40» under «4,5»
    for r in picture.rows:
        append_row(heat, [r.name, *[r.cells[code].percent for code in picture.mechanisms], r.percent,
                          level_label(r.level)], formats=percents)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
