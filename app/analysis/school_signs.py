"""What the analysis says about the schools of each municipality, for features above this one (the assessment's
factors table): how many schools the latest finished analysis lists as ШНОР, as ШНСУ, and with the verdict
«признаки необъективности». Read-only; a fixed number of statements whatever the number of municipalities.

Which run: per municipality the newest finished run whose scope covers it — the region's own or the
municipality's — so a region that analyses once for everyone and one whose municipalities analyse themselves
both get an answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.analysis.methods.verdicts import FLAGGED
from app.analysis.models import AnalysisResult, AnalysisRun
from app.extensions import db
from app.orgs.models import Organisation

KINDS = ("shnor", "shnsu", "verdict")


@dataclass
class SchoolSigns:
    run_id: int
    shnor: int = 0
    shnsu: int = 0
    flagged: int = 0


def signs_by_municipality(region: Organisation, municipalities: list[Organisation]) -> dict[int, SchoolSigns]:
    """municipality id → counts of distinct schools (ШНОР, ШНСУ, flagged as not objective) in the latest finished
    run covering it; a municipality no finished run covers is absent. Two statements."""
    if not municipalities:
        return {}
    scopes = [region.id, *(m.id for m in municipalities)]
    runs = db.session.execute(
        select(AnalysisRun.id, AnalysisRun.organisation_id).where(
            AnalysisRun.status == "done", AnalysisRun.organisation_id.in_(scopes))
        .order_by(AnalysisRun.finished_at.desc(), AnalysisRun.id.desc())).all()
    newest: dict[int, int] = {}
    for run_id, org_id in runs:
        newest.setdefault(org_id, run_id)
    chosen: dict[int, int] = {}  # municipality id → run id
    for m in municipalities:
        candidates = [r for r in (newest.get(m.id), newest.get(region.id)) if r is not None]
        if candidates:
            # Ids grow with time: the higher is the newer of the two.
            chosen[m.id] = max(candidates)
    if not chosen:
        return {}
    seen: dict[tuple[int, str], set[int]] = {}
    for run_id, kind, school_id, path, payload in db.session.execute(
            select(AnalysisResult.run_id, AnalysisResult.kind, AnalysisResult.school_id, Organisation.path,
                   AnalysisResult.payload)
            .join(Organisation, Organisation.id == AnalysisResult.school_id)
            .where(AnalysisResult.run_id.in_(set(chosen.values())), AnalysisResult.kind.in_(KINDS))):
        if kind == "verdict" and (payload or {}).get("verdict") != FLAGGED:
            continue
        # The school's municipality is the one of its ancestors (ids in its path) among those asked about.
        mid = next((int(p) for p in path.strip("/").split("/") if p and int(p) in chosen), None)
        if mid is not None and chosen[mid] == run_id:
            seen.setdefault((mid, kind), set()).add(school_id)
    return {mid: SchoolSigns(run_id=run, shnor=len(seen.get((mid, "shnor"), ())),
                             shnsu=len(seen.get((mid, "shnsu"), ())),
                             flagged=len(seen.get((mid, "verdict"), ()))) for mid, run in chosen.items()}
