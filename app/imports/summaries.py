"""Result summaries (ResultSummary): per school and per organisation above schools, per work.

Rebuilt set-based (two INSERT … SELECT per work) inside the transaction that changed the results, so they
are never out of step with them: after each results import (results.load), after synthetic data is written
(the demo), and all at once by `flask imports summaries`."""

from dataclasses import dataclass

from sqlalchemy import func, select, text

from app.extensions import db
from app.imports.models import ResultSummary
from app.orgs.models import Organisation

_WORK = "procedure = :procedure AND year = :year AND subject = :subject AND grade = :grade"
_MARKS = ", ".join(f"SUM(CASE WHEN r.mark = {m} THEN 1 ELSE 0 END)" for m in (2, 3, 4, 5))
_COLUMNS = "organisation_id, level, procedure, year, subject, grade, participants, percent_sum, marked, " \
           "mark_2, mark_3, mark_4, mark_5"
SCHOOLS = (f"INSERT INTO result_summaries ({_COLUMNS}) "
           f"SELECT r.school_id, 'school', r.procedure, r.year, r.subject, r.grade, COUNT(*), "
           f"SUM(100.0 * r.primary_score / r.max_score), COUNT(r.mark), {_MARKS} "
           f"FROM assessment_results AS r WHERE {{where}} "
           f"GROUP BY r.school_id, r.procedure, r.year, r.subject, r.grade")
# every organisation above a school gets the sum over the schools of its subtree (materialised paths)
GROUPS = (f"INSERT INTO result_summaries ({_COLUMNS}) "
          f"SELECT a.id, 'group', s.procedure, s.year, s.subject, s.grade, SUM(s.participants), SUM(s.percent_sum), "
          f"SUM(s.marked), SUM(s.mark_2), SUM(s.mark_3), SUM(s.mark_4), SUM(s.mark_5) "
          f"FROM result_summaries AS s JOIN organisations AS o ON o.id = s.organisation_id "
          f"JOIN organisations AS a ON o.path LIKE (a.path || '%') AND a.id <> o.id "
          f"WHERE s.level = 'school' AND {{where}} GROUP BY a.id, s.procedure, s.year, s.subject, s.grade")


def refresh(works) -> None:
    """Rebuild the summaries of `works` ((procedure, year, subject, grade) …) from the stored results."""
    for procedure, year, subject, grade in sorted(works):
        params = {"procedure": procedure, "year": int(year), "subject": subject, "grade": int(grade)}
        db.session.execute(text(f"DELETE FROM result_summaries WHERE {_WORK}"), params)
        where = " AND ".join(f"r.{c} = :{c}" for c in params)
        db.session.execute(text(SCHOOLS.format(where=where)), params)
        db.session.execute(text(GROUPS.format(where=" AND ".join(f"s.{c} = :{c}" for c in params))), params)


def refresh_all() -> int:
    """Rebuild every work's summaries; returns the number of works."""
    works = db.session.execute(text("SELECT DISTINCT procedure, year, subject, grade FROM assessment_results")).all()
    db.session.execute(text("DELETE FROM result_summaries"))
    for procedure, year, subject, grade in works:
        params = {"procedure": procedure, "year": year, "subject": subject, "grade": grade}
        db.session.execute(text(SCHOOLS.format(where=" AND ".join(f"r.{c} = :{c}" for c in params))), params)
        db.session.execute(text(GROUPS.format(where=" AND ".join(f"s.{c} = :{c}" for c in params))), params)
    return len(works)


@dataclass
class LoadedResults:
    """What results the subtrees hold, by procedure: its years (newest first), and the result rows of all."""
    rows: int
    years: dict  # procedure → [year, …]


def loaded_results(paths: list[str]) -> LoadedResults | None:
    """The results stored for the subtrees at `paths` (each counted once: a path inside another is dropped), from
    the summaries of their top organisations; None when there are none. One query. The demo writes its results
    without an import run, and the imports page said «Импортов пока не было» over a region full of results."""
    top = [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]
    if not top:
        return None
    found = db.session.execute(
        select(ResultSummary.procedure, ResultSummary.year, func.sum(ResultSummary.participants))
        .join(Organisation, Organisation.id == ResultSummary.organisation_id).where(Organisation.path.in_(top))
        .group_by(ResultSummary.procedure, ResultSummary.year)
        .order_by(ResultSummary.procedure, ResultSummary.year.desc())).all()
    if not found:
        return None
    years: dict = {}
    for procedure, year, _rows in found:
        years.setdefault(procedure, []).append(year)
    return LoadedResults(sum(int(rows or 0) for _p, _y, rows in found), years)
