"""Factors and linkage (issue 16 item 8, Kirov's second and third goals).

Factors: how the municipality's level (the overall percent of the region picture) goes together with its context —
share of rural schools, number of schools, number of pupils, share of ШНОР, share of ШНСУ and share of schools
with signs of non-objective results (the latest finished analysis, through `app.analysis.school_signs`). The
coefficient is Spearman's rank correlation: with a few dozen municipalities at most and skewed sizes, ranks are
robust where Pearson's r would follow one large town. Words describe the strength of an association, never a
cause: |ρ| < 0,3 «слабая связь», < 0,7 «умеренная связь», otherwise «сильная связь»; with fewer than 5
municipalities «недостаточно данных».

Linkage: the region's own cycles of the regional mechanisms (R1.1 … the `upper_code` of each municipal mechanism)
scored with the same criteria of the campaign's set — by the evidence proposal (evidence.py), as no regional scoring
is entered by people yet — compared block by block with the municipalities' mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sqlalchemy import select

from app.analysis.school_signs import signs_by_municipality
from app.assessment import evidence as auto
from app.assessment.models import Criterion
from app.catalogue.models import Mechanism, MechanismSet
from app.extensions import db
from app.orgs.models import Organisation

MIN_N = 5
FACTORS = (
    ("rural_share", "Доля сельских школ, %"),
    ("schools", "Число общеобразовательных организаций"),
    ("pupils", "Число обучающихся"),
    ("shnor_share", "Доля ШНОР, %"),
    ("shnsu_share", "Доля ШНСУ, %"),
    ("flagged_share", "Доля школ с признаками необъективности результатов, %"),
)


def ranks(values: list[float]) -> list[float]:
    """Ranks from 1, ties given their average rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def pearson(x: list[float], y: list[float]) -> float | None:
    n = len(x)
    if n < 2:
        return None
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    if sxx == 0 or syy == 0:
        return None  # a constant: no association can be measured
    return sxy / math.sqrt(sxx * syy)


def spearman(x: list[float], y: list[float]) -> float | None:
    """Spearman's ρ: Pearson's r of the ranks (ties averaged)."""
    return pearson(ranks(x), ranks(y))


def strength(rho: float | None, n: int) -> str:
    """Plain Russian words for the strength and direction of the association (no causal wording)."""
    if n < MIN_N:
        return "недостаточно данных"
    if rho is None:
        return "связь не определяется (значения не различаются)"
    size = abs(rho)
    word = "слабая" if size < 0.3 else "умеренная" if size < 0.7 else "сильная"
    if size < 0.1:
        return "связь практически отсутствует"
    return f"{word} {'прямая' if rho > 0 else 'обратная'} связь"


@dataclass
class FactorRow:
    key: str
    label: str
    n: int
    rho: float | None
    words: str

    @property
    def rho_shown(self) -> str:
        return "—" if self.rho is None or self.n < MIN_N else f"{self.rho:.2f}".replace(".", ",")


@dataclass
class Factors:
    rows: list[FactorRow]
    context: dict[int, dict]  # municipality id → factor values
    method: str = ("Коэффициент ранговой корреляции Спирмена (ρ) между процентом от максимума по муниципалитету "
                   "и показателем контекста; n — число муниципалитетов, у которых известны оба значения. "
                   "Коэффициент описывает совместное изменение, а не причину.")
    analysis_runs: list[int] = field(default_factory=list)


def context_of(region: Organisation, municipalities: list) -> dict[int, dict]:
    """Per municipality: schools, pupils, rural share, ШНОР / ШНСУ / flagged shares (3 statements + analysis)."""
    if not municipalities:
        return {}
    ids = {m.id: m for m in municipalities}
    out = {m.id: {"schools": 0, "pupils": None, "rural_share": None, "shnor_share": None, "shnsu_share": None,
                  "flagged_share": None, "_rural": 0, "_settled": 0} for m in municipalities}
    for path, settlement, students in db.session.execute(
            select(Organisation.path, Organisation.settlement, Organisation.students)
            .where(Organisation.kind == "school", Organisation.path.like(region.path + "%"))):
        mid = next((int(p) for p in path.strip("/").split("/") if p and int(p) in ids), None)
        if mid is None:
            continue
        entry = out[mid]
        entry["schools"] += 1
        if students is not None:
            entry["pupils"] = (entry["pupils"] or 0) + students
        if settlement is not None:
            entry["_settled"] += 1
            entry["_rural"] += settlement == "village"
    signs = signs_by_municipality(region, municipalities)
    for mid, entry in out.items():
        if entry["_settled"]:
            entry["rural_share"] = round(100 * entry["_rural"] / entry["_settled"], 1)
        s = signs.get(mid)
        if s is not None and entry["schools"]:
            entry["shnor_share"] = round(100 * s.shnor / entry["schools"], 1)
            entry["shnsu_share"] = round(100 * s.shnsu / entry["schools"], 1)
            entry["flagged_share"] = round(100 * s.flagged / entry["schools"], 1)
            entry["run_id"] = s.run_id
        del entry["_rural"], entry["_settled"]
        if not entry["schools"]:
            entry["schools"] = None
    return out


def correlate(levels: dict[int, float | None], context: dict[int, dict]) -> list[FactorRow]:
    """One row per factor: Spearman's ρ over the municipalities with both a level and the factor's value."""
    rows = []
    for key, label in FACTORS:
        pairs = [(levels[mid], context[mid][key]) for mid in levels
                 if levels[mid] is not None and mid in context and context[mid].get(key) is not None]
        n = len(pairs)
        rho = spearman([p[1] for p in pairs], [p[0] for p in pairs]) if n >= 2 else None
        # Below MIN_N no coefficient is given at all, so no reader (or document) can quote one.
        rho = rho if n >= MIN_N else None
        rows.append(FactorRow(key=key, label=label, n=n, rho=round(rho, 3) if rho is not None else None,
                              words=strength(rho, n)))
    return rows


def factors_of(picture) -> Factors:
    campaign = picture.campaign
    context = context_of(campaign.organisation, [r.municipality for r in picture.rows])
    levels = {r.municipality.id: r.percent for r in picture.rows}
    return Factors(rows=correlate(levels, context), context=context,
                   analysis_runs=sorted({c["run_id"] for c in context.values() if c.get("run_id")}))


# --- linkage: the region's own cycles against the municipalities -----------------------------------------------

@dataclass
class Linkage:
    blocks: list[dict]  # block, region percent, municipalities' mean percent (same mechanisms), difference
    mechanisms: list[dict]  # municipal code, regional code, region percent, municipalities' mean
    compared: list[str] = field(default_factory=list)  # municipal mechanisms whose regional cycle exists
    basis: str = ("Оценка региональной системы рассчитана по предложенным системой баллам (доказательства "
                  "региональных циклов соответствующих механизмов за период кампании) по тем же критериям набора; "
                  "среднее муниципалитетов по блоку — по тем же механизмам.")

    @property
    def has_region(self) -> bool:
        return any(m["region_percent"] is not None for m in self.mechanisms)


def upper_codes(codes: list[str]) -> dict[str, str]:
    """Municipal mechanism code → the regional mechanism above it (active municipal catalogue)."""
    return {code: upper for code, upper in db.session.execute(
        select(Mechanism.code, Mechanism.upper_code).join(MechanismSet, MechanismSet.id == Mechanism.set_id)
        .where(MechanismSet.level == "municipal", MechanismSet.active.is_(True), Mechanism.code.in_(codes),
               Mechanism.upper_code.is_not(None)))}


def region_scores(campaign, uppers: dict[str, str]) -> dict[tuple[str, str], tuple[int, int]]:
    """(municipal mechanism, block) → (proposed points, maximum) of the region's own cycles, by the campaign's
    criteria. A fixed number of statements (evidence.gather over one organisation)."""
    codes = list(campaign.mechanisms)
    if not uppers:
        return {}
    facts = auto.gather(campaign.period, [campaign.organisation_id], list(set(uppers.values())))
    groups = auto.required_groups(codes)
    titles = auto.block_titles()
    criteria = db.session.scalars(select(Criterion).where(Criterion.set_id == campaign.criteria_set_id,
                                                          Criterion.mechanism_code.in_(list(uppers)))
                                  .order_by(Criterion.position)).all()
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for c in criteria:
        key = (campaign.organisation_id, uppers[c.mechanism_code])
        if key not in facts:
            continue  # the region has no cycle of this mechanism in the period
        proposal = auto.propose(c, facts[key], groups=groups.get(c.mechanism_code, []), titles=titles)
        points, maximum = out.get((c.mechanism_code, c.block), (0, 0))
        out[(c.mechanism_code, c.block)] = (points + proposal.points, maximum + c.max_points)
    return out


def linkage_of(picture) -> Linkage:
    """Block by block: the region's own cycles (proposed scores) against the municipalities' mean over the same
    mechanisms — those the region has a cycle of; all of the campaign's when it has none."""
    campaign = picture.campaign
    uppers = upper_codes(list(campaign.mechanisms))
    scored = region_scores(campaign, uppers)
    covered = sorted({code for code, _block in scored}) or list(picture.mechanisms)
    municipal = picture.block_percents(covered)
    blocks = []
    for b in picture.region_profile:  # the blocks in the cycle's order
        pts = [v for (code, block), v in scored.items() if block == b]
        maximum = sum(m for _, m in pts)
        region_pct = round(100 * sum(p for p, _ in pts) / maximum, 1) if maximum else None
        values = [per_block[b] for per_block in municipal.values() if per_block.get(b) is not None]
        mean = round(sum(values) / len(values), 1) if values else None
        blocks.append({"block": b, "region_percent": region_pct, "municipal_mean": mean, "n": len(values),
                       "difference": round(region_pct - mean, 1) if region_pct is not None and mean is not None
                       else None})
    mechanisms = []
    for d in picture.distribution:
        code = d["mechanism"]
        pts = [v for (c, _b), v in scored.items() if c == code]
        maximum = sum(m for _, m in pts)
        mechanisms.append({"mechanism": code, "regional": uppers.get(code),
                           "region_percent": round(100 * sum(p for p, _ in pts) / maximum, 1) if maximum else None,
                           "municipal_mean": d["mean"], "n": d["n"]})
    return Linkage(blocks=blocks, mechanisms=mechanisms, compared=covered if scored else [])
