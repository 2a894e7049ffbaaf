"""A synthetic region with planted anomalies: the ground truth for the correctness tests, the data of
the benchmark and demo data.

Students answer tasks by a logistic model (ability − difficulty), so the clean data already has the
features real data has: strong schools gain more on middle tasks, small units are noisy, term marks
mostly agree with the assessment mark. Each planted anomaly touches its own schools only:

- inflated_scores  (→ K1): ВПР results lifted in every year, exams (ОГЭ) left as they are;
- cohort_drop      (→ K5, and K1 for that one unit): one ВПР class lifted in the first year, its cohort
  normal the next year;
- hard_better      (→ K2): hard tasks done far better and easy ones worse than the school's level;
- heaping          (→ K3): students one or two points short of a mark boundary lifted exactly onto it;
- inflated_marks   (→ K4): term marks one or two steps above the assessment marks;
- persistently_low (→ ШНОР): very low results every year.
"""

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import json
from app.imports.results import derive_boundaries, student_hasher
from app.orgs.services import create_organisation

ANOMALIES = ("inflated_scores", "cohort_drop", "hard_better", "heaping", "inflated_marks", "persistently_low")
SIGN_OF = {"inflated_scores": "K1", "cohort_drop": "K5", "hard_better": "K2", "heaping": "K3",
           "inflated_marks": "K4", "persistently_low": "ШНОР"}
DEFAULT_WORKS = (("ВПР", "Математика", 4), ("ВПР", "Русский язык", 4), ("ВПР", "Математика", 5),
                 ("ВПР", "Русский язык", 5), ("ОГЭ", "Математика", 9), ("ОГЭ", "Русский язык", 9))
SETTLEMENT_CODES = ("city", "town", "village")


@dataclass
class SyntheticRegion:
    schools: pd.DataFrame          # the columns of data.load_schools (synthetic ids)
    municipalities: pd.DataFrame   # id, code, name
    results: pd.DataFrame          # the columns of data.load_results + class_label, student_code
    truth: dict = field(default_factory=dict)   # anomaly → set of school ids
    planted_units: pd.DataFrame | None = None   # anomaly, school_id, year, procedure, subject, grade

    def expected(self, sign: str) -> set[int]:
        """Schools that must carry `sign` by construction (K1 also for the lifted cohort)."""
        names = [a for a, s in SIGN_OF.items() if s == sign]
        if sign == "K1":
            names.append("cohort_drop")
        out: set[int] = set()
        for name in names:
            out |= self.truth.get(name, set())
        return out


def _task_design(rng, tasks: int):
    maxes = np.array([1, 2, 3])[np.arange(tasks) % 3]
    # From easy (regional success ≈ 0.9) to hard (≈ 0.2): both groups of K2 exist in every work.
    difficulty = np.linspace(-2.2, 1.6, tasks)
    return maxes, difficulty


def _boundaries(max_score: int) -> dict[int, int]:
    return {3: math.ceil(0.25 * max_score), 4: math.ceil(0.55 * max_score), 5: math.ceil(0.80 * max_score)}


def _marks(score, bounds) -> np.ndarray:
    return np.where(score >= bounds[5], 5, np.where(score >= bounds[4], 4, np.where(score >= bounds[3], 3, 2)))


def generate_region(*, n_schools: int = 120, n_municipalities: int = 4, years=(2023, 2024, 2025),
                    works=DEFAULT_WORKS, students: int = 40, tasks: int = 14, seed: int = 0,
                    planted: dict | None = None, term_marks: bool = True, task_scores: bool = True,
                    small_unit_share: float = 0.02, size_range: tuple[int, int] | None = None,
                    exam_years=None) -> SyntheticRegion:
    """A region of `n_schools` schools; `students` is the mean class size of a unit. `planted` maps an
    anomaly to its number of schools (default: 5 % of schools each, ШНОР a decile). `size_range` (lo, hi)
    gives each school its own class size, log-uniform between lo and hi (a village school of 8 beside a
    city school of 120) instead of `students`; `exam_years` limits ОГЭ/ЕГЭ to those years (default: all)."""
    rng = np.random.default_rng(seed)
    years = tuple(sorted(years))
    each = max(2, round(0.05 * n_schools))
    planted = dict(planted) if planted is not None else {
        **{a: each for a in ANOMALIES if a != "persistently_low"}, "persistently_low": max(2, round(0.1 * n_schools))}
    ids = np.arange(1, n_schools + 1)
    mun_ids = np.arange(10001, 10001 + n_municipalities)
    municipalities = pd.DataFrame({"id": mun_ids, "code": [f"M{i:02d}" for i in range(1, n_municipalities + 1)],
                                   "name": [f"Муниципалитет {i}" for i in range(1, n_municipalities + 1)]})
    mun_of = rng.integers(0, n_municipalities, n_schools)
    settlement = rng.choice(3, n_schools, p=[0.45, 0.2, 0.35])
    village = settlement == 2
    remote = village & (rng.random(n_schools) < 0.4)
    size = np.where(village, rng.integers(40, 300, n_schools), rng.integers(250, 1400, n_schools))
    low_income = np.round(np.where(village, rng.uniform(15, 45, n_schools), rng.uniform(3, 20, n_schools)), 1)
    non_native = np.round(rng.uniform(0, 12, n_schools), 1)
    ovz = np.round(rng.uniform(2, 11, n_schools), 1)
    social = (low_income - 15) / 10 + 0.5 * village + 0.5 * remote + (non_native - 6) / 6
    effect = -0.25 * social + rng.normal(0, 0.35, n_schools)
    profile = np.full(n_schools, "ordinary", dtype=object)
    order = rng.permutation(n_schools)
    truth: dict[str, set[int]] = {}
    pos = 0
    for anomaly in ANOMALIES:
        count = int(planted.get(anomaly, 0))
        chosen = order[pos:pos + count]
        pos += count
        truth[anomaly] = {int(ids[i]) for i in chosen}
        if anomaly == "persistently_low":
            effect[chosen] = -1.6 + rng.normal(0, 0.1, len(chosen))
        elif anomaly in ("inflated_scores", "cohort_drop"):
            # ordinary schools: the lift, not the school, is what makes their ВПР results high
            effect[chosen] = rng.normal(-0.2, 0.15, len(chosen))
    # A few strong lyceums and gymnasiums among the clean schools: genuinely high, exams too.
    strong = order[pos:pos + max(1, round(0.04 * n_schools))]
    profile[strong] = rng.choice(["lyceum", "gymnasium", "in_depth"], len(strong))
    effect[strong] = 0.9 + rng.normal(0, 0.1, len(strong))
    schools = pd.DataFrame({
        "id": ids, "code": [f"S{i:05d}" for i in ids], "name": [f"Школа № {i}" for i in ids],
        "municipality_id": mun_ids[mun_of], "municipality_code": municipalities["code"].to_numpy()[mun_of],
        "profile": profile, "settlement": np.array(SETTLEMENT_CODES, dtype=object)[settlement],
        "remote": remote, "students": size, "low_income_share": low_income, "non_native_share": non_native,
        "ovz_share": ovz})
    cohort_year = years[0]
    frames, planted_rows = [], []
    maxes, difficulty = _task_design(rng, tasks)
    max_score = int(maxes.sum())
    bounds = _boundaries(max_score)
    idx_of = {int(s): i for i, s in enumerate(ids)}
    flags = {a: np.isin(ids, sorted(truth[a])) for a in ANOMALIES}
    school_size = (np.exp(rng.uniform(np.log(size_range[0]), np.log(size_range[1]), n_schools))
                   if size_range else None)
    for year in years:
        year_noise = rng.normal(0, 0.1, n_schools)
        for procedure, subject, grade in works:
            if exam_years is not None and procedure in ("ОГЭ", "ЕГЭ") and year not in exam_years:
                continue
            if school_size is not None:
                sizes = np.maximum(3, np.round(school_size * rng.uniform(0.8, 1.2, n_schools))).astype(int)
            else:
                sizes = np.maximum(3, np.round(students * rng.uniform(0.6, 1.4, n_schools))).astype(int)
            small = rng.random(n_schools) < small_unit_share
            sizes[small] = rng.integers(3, 10, small.sum())
            school_of = np.repeat(ids, sizes)
            si = school_of - 1
            theta = effect[si] + year_noise[si] + rng.normal(0, 1.0, len(si))
            vpr = procedure != "ОГЭ" and procedure != "ЕГЭ"
            if vpr:
                theta = theta + 1.1 * flags["inflated_scores"][si]
                if year == cohort_year and grade == min(g for _p, _s, g in works) and subject == works[0][1]:
                    theta = theta + 1.5 * flags["cohort_drop"][si]
                    for s in truth["cohort_drop"]:
                        planted_rows.append(("cohort_drop", s, year, procedure, subject, grade))
            p = 1.0 / (1.0 + np.exp(-(theta[:, None] - difficulty[None, :])))
            if vpr:
                hb = flags["hard_better"][si]
                if hb.any():
                    easy = difficulty < -0.8
                    hard = difficulty > 0.5
                    p[np.ix_(hb, hard)] = np.clip(p[np.ix_(hb, hard)] + 0.4, 0, 0.97)
                    p[np.ix_(hb, easy)] = np.clip(p[np.ix_(hb, easy)] - 0.3, 0.02, 1)
            scores = rng.binomial(maxes[None, :], p)
            total = scores.sum(axis=1)
            if vpr:
                # works a couple of points short of a mark are "found" the missing points: 3, 4 and 5
                for c in (bounds[3], bounds[4], bounds[5]):
                    heap = flags["heaping"][si] & (total >= c - 2) & (total < c)
                    if not heap.any():
                        continue
                    deficit = c - total[heap]
                    sub = scores[heap]
                    for k in range(tasks):
                        add = np.minimum(maxes[k] - sub[:, k], deficit)
                        sub[:, k] += add
                        deficit -= add
                    scores[heap] = sub
                total = scores.sum(axis=1)
            mark = _marks(total, bounds)
            if term_marks:
                step = rng.choice([-1, 0, 1], len(si), p=[0.1, 0.8, 0.1])
                inflated = flags["inflated_marks"][si]
                step[inflated] = rng.choice([0, 1, 2], inflated.sum(), p=[0.1, 0.7, 0.2])
                term = np.clip(mark + step, 2, 5).astype(float)
            else:
                term = np.full(len(si), np.nan)
            n = len(si)
            local = np.concatenate([np.arange(k) for k in sizes])
            frames.append(pd.DataFrame({
                "year": np.full(n, year), "procedure": procedure, "subject": subject, "grade": np.full(n, grade),
                "school_id": school_of, "primary_score": total, "max_score": np.full(n, max_score),
                "mark": mark.astype(float), "term_mark": term,
                "task_scores": scores.tolist() if task_scores else [None] * n,
                **{f"task_{k + 1}": scores[:, k].astype(float) if task_scores else np.full(n, np.nan)
                   for k in range(tasks)},
                "class_label": [f"{grade}А"] * n,
                "student_code": [f"{s}-{year}-{grade}-{subject[:3]}-{i}" for s, i in zip(school_of, local)]}))
    for anomaly in ("inflated_scores", "hard_better", "heaping", "inflated_marks", "persistently_low"):
        for s in truth[anomaly]:
            planted_rows.append((anomaly, s, None, None, None, None))
    results = pd.concat(frames, ignore_index=True)
    del idx_of
    return SyntheticRegion(schools=schools, municipalities=municipalities, results=results, truth=truth,
                           planted_units=pd.DataFrame(planted_rows, columns=["anomaly", "school_id", "year",
                                                                             "procedure", "subject", "grade"]))


def as_loaded(results: pd.DataFrame) -> pd.DataFrame:
    """The frame as data.load_results returns it: task scores as their stored JSON text."""
    out = results.copy()
    out["task_scores"] = [None if t is None else json.dumps(list(t), separators=(",", ":"))
                          for t in results["task_scores"]]
    return out


INSERT_COLUMNS = ("procedure", "year", "subject", "grade", "school_id", "class_label", "student_hash", "task_scores",
                  "primary_score", "max_score", "mark", "term_mark")


def _copy_text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "\\N"
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def insert_results(session, df: pd.DataFrame, school_ids_map: dict | None = None, *, chunk: int = 20000) -> int:
    """Write result rows into assessment_results in the session's transaction (flushes, never commits):
    COPY on PostgreSQL, executemany in batches on SQLite; then derive the mark boundaries with the
    import's own mechanism (app.imports.results.derive_boundaries). `school_ids_map` maps the frame's
    school ids to organisation ids (identity when None). Participant codes are hashed with the
    deployment's salt, as the import does. Returns the number of rows written."""

    digest = student_hasher()
    school = df["school_id"].map(school_ids_map) if school_ids_map is not None else df["school_id"]
    if school.isna().any():
        raise ValueError("Для части строк не найдена школа в school_ids_map.")
    codes = df["student_code"] if "student_code" in df.columns else pd.Series(
        [f"row-{i}" for i in range(len(df))], index=df.index)
    labels = df["class_label"] if "class_label" in df.columns else pd.Series([None] * len(df), index=df.index)
    source = df["task_scores"] if "task_scores" in df.columns else [None] * len(df)
    tasks = [None if t is None or (isinstance(t, float) and math.isnan(t)) else t if isinstance(t, str)
             else json.dumps(list(t), separators=(",", ":")) for t in source]
    mark = df["mark"].astype(float)
    term = df["term_mark"].astype(float)
    columns = [df["procedure"].tolist(), df["year"].astype(int).tolist(), df["subject"].tolist(),
               df["grade"].astype(int).tolist(), school.astype(int).tolist(), labels.tolist(),
               [digest(str(c)) for c in codes], tasks, df["primary_score"].astype(int).tolist(),
               df["max_score"].astype(int).tolist(),
               [None if math.isnan(m) else int(m) for m in mark], [None if math.isnan(m) else int(m) for m in term]]
    rows = list(zip(*columns))
    session.flush()
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY assessment_results ({', '.join(INSERT_COLUMNS)}) FROM STDIN") as cp:
            for start in range(0, len(rows), chunk):
                cp.write("".join("\t".join(_copy_text(v) for v in row) + "\n" for row in rows[start:start + chunk]))
    else:
        # S608: column names are this module's constants; the values go as parameters.
        sql = (f"INSERT INTO assessment_results ({', '.join(INSERT_COLUMNS)}) "  # noqa: S608
               f"VALUES ({', '.join('?' * len(INSERT_COLUMNS))})")
        for start in range(0, len(rows), chunk):
            conn.exec_driver_sql(sql, rows[start:start + chunk])
    works = {(p, y, s, g): None for p, y, s, g in
             df[["procedure", "year", "subject", "grade"]].drop_duplicates().itertuples(index=False)}
    derive_boundaries({(p, int(y), s, int(g)): v for (p, y, s, g), v in works.items()})
    return len(rows)


def create_organisations(region: SyntheticRegion, *, parent, actor=None, code_prefix: str = "") -> dict[int, int]:
    """Create the region's municipalities (under `parent`, a region organisation) and schools with their
    context attributes through the ordinary service (audited); returns synthetic school id → organisation id
    for insert_results. Flushes, never commits."""
    municipalities = {}
    for m in region.municipalities.itertuples(index=False):
        municipalities[m.id] = create_organisation(code=f"{code_prefix}{m.code}", name=m.name, kind="municipality",
                                                   parent=parent, actor=actor)
    ids = {}
    for s in region.schools.itertuples(index=False):
        org = create_organisation(
            code=f"{code_prefix}{s.code}", name=s.name, kind="school", parent=municipalities[s.municipality_id],
            actor=actor, profile=s.profile, settlement=s.settlement, remote=bool(s.remote), students=int(s.students),
            low_income_share=float(s.low_income_share), non_native_share=float(s.non_native_share),
            ovz_share=float(s.ovz_share))
        ids[int(s.id)] = org.id
    return ids
