"""Out-of-sample check of the school verdict «признаки необъективности выявлены» through the real command line.

Not a speed bench. `bench/verdict_quality.py` measures the verdicts on `app/analysis/methods/synthetic.py`, the
generator the methods were tuned on; this script generates regions of its own, written from issue 15 §1 and the
file formats of the README only (not from synthetic.py), and goes the way an independent checker goes:

1. a region of 50–60 schools in 5–7 municipalities (a few lyceums, villages, context shares), two years of ВПР
   (Русский язык and Математика in grades 4 and 5; the shipped declared structures of grade 4 with their labels
   `1К1`, `3(1)` …, grade 5 with labels of our own), ОГЭ of the last year in the РЦОИ form (Математика declared,
   Русский язык not); pupils with a latent ability (municipality, school and class effects), tasks with an
   IRT-like partial-credit model (difficulty, discrimination, each school's own task profile), term marks
   correlated with ability and each school's honest leniency, absences and tasks left empty;
2. planted schools of three kinds with plausible effects: hard-task inflation (a share of pupils given points on
   the work's three hardest tasks), inflated term marks (a share of pupils a mark up), heaping just above the mark
   boundaries (pupils one or two points short of «3», «4», «5» lifted onto it), each in most of the school's ВПР;
3. the files written as a region's officials get them (organisations CSV; one ВПР file per work with both years, the
   form's labels, the variant, the term mark; ОГЭ in the РЦОИ form: `+-+…` strings and `2(2)1(2)…`), imported into a
   fresh SQLite database with `flask import organisations|results`, and the list read from
   `flask analysis objectivity --year Y`; precision, recall and false alarms against the planted list.

    .venv/bin/python bench/verdict_oos.py [--seeds 0-9] [--regimes small,medium,large,mixed] [--clean-seeds 0-4]
        [--jobs 2]

Each region costs ≈ 8 command-line runs (≈ 30 s on one core). `--keep DIR` keeps the files and databases, and
each region's planted schools in `planted.txt` beside its database. Class sizes: small 8–12, medium 20–50 (the
region of issue 15), large 60–120, mixed 8–120; the default leaves medium out, as the earlier rounds did.
"""

import argparse
import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(ROOT / ".venv" / "bin" / "flask")
YEAR = 2025
VPR_YEARS = (YEAR - 1, YEAR)
KINDS = ("hard_tasks", "term_marks", "heaping")
KIND_WORDS = {"hard_tasks": "баллы за трудные задания", "term_marks": "завышенные четвертные",
              "heaping": "скопление на границах"}
# Class sizes of one grade of a school: every school in the range (log-uniform per school).
TERM_NOISE = 0.07  # the teacher's noise, a share of the work's maximum
REGIMES = {"small": (8, 12), "medium": (20, 50), "large": (60, 120), "mixed": (8, 120)}


@dataclass
class Work:
    procedure: str
    subject: str
    grade: int
    labels: list
    maxima: list
    cuts: tuple  # the lowest primary score of «3», «4», «5»
    form: str  # "vpr": a column per label; "rcoi": part1/part2 strings
    part1: int = 0  # РЦОИ: how many tasks are part 1

    @property
    def max_score(self) -> int:
        return int(sum(self.maxima))


def _works() -> list:
    # The declared structures (app/imports/data/work_structures.yaml, ВПР 4 and ОГЭ Математика) as the forms give
    # them; grade 5 and ОГЭ Русский язык with labels of our own (undeclared: the import keeps the first file's).
    rus4 = (["1К1", "1К2", "2", "3(1)", "3(2)", "4", "5", "6(1)", "6(2)", "7", "8", "9", "10", "11", "12(1)", "12(2)",
             "13(1)", "13(2)", "14(1)", "14(2)", "15(1)", "15(2)"],
            [4, 3, 3, 1, 3, 2, 2, 1, 2, 2, 3, 2, 1, 1, 1, 2, 1, 2, 1, 2, 1, 1])
    mat4 = (["1", "2", "3", "4", "5(1)", "5(2)", "6(1)", "6(2)", "7", "8", "9(1)", "9(2)", "10", "11", "12"],
            [1, 1, 2, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 2])
    rus5 = (["1К1", "1К2", "1К3", "2К1", "2К2", "2К3", "2К4", "3", "4(1)", "4(2)", "5(1)", "5(2)", "6(1)", "6(2)",
             "7(1)", "7(2)", "8", "9", "10", "11", "12"],
            [4, 3, 2, 3, 3, 3, 3, 2, 1, 2, 1, 2, 1, 2, 2, 1, 2, 3, 2, 2, 1])
    mat5 = (["1", "2", "3", "4", "5", "6", "7", "8", "9(1)", "9(2)", "10", "11", "12", "13", "14"],
            [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 2, 2, 2])
    oge_mat = ([str(i) for i in range(1, 26)], [1] * 19 + [2] * 6)
    oge_rus = ([str(i) for i in range(1, 23)], [1] * 11 + [2, 3, 1, 1, 3, 2, 2, 2, 2, 2, 2])
    return [
        Work("ВПР", "Русский язык", 4, *rus4, cuts=(14, 24, 33), form="vpr"),
        Work("ВПР", "Математика", 4, *mat4, cuts=(6, 10, 14), form="vpr"),
        Work("ВПР", "Русский язык", 5, *rus5, cuts=(17, 27, 37), form="vpr"),
        Work("ВПР", "Математика", 5, *mat5, cuts=(7, 11, 15), form="vpr"),
        Work("ОГЭ", "Математика", 9, *oge_mat, cuts=(8, 15, 22), form="rcoi", part1=19),
        Work("ОГЭ", "Русский язык", 9, *oge_rus, cuts=(15, 23, 29), form="rcoi", part1=11),
    ]


@dataclass
class Region:
    seed: int
    regime: str
    planted: dict  # school code -> kind
    organisations: list  # rows of the organisations file
    files: dict = field(default_factory=dict)  # file name -> (text, encoding)
    schools: list = field(default_factory=list)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


class _Generator:
    def __init__(self, seed: int, regime: str, per_kind: int, leniency: float = 0.025, profile_sd: float = 0.25):
        self.rng = np.random.default_rng(seed)
        self.seed, self.regime, self.per_kind = seed, regime, per_kind
        self.leniency_sd, self.profile_sd = leniency, profile_sd
        self.works = _works()
        rng = self.rng
        # Task parameters, fixed for the region and both years (the same work description).
        self.task = {}
        for w in self.works:
            n = len(w.labels)
            difficulty = rng.normal(-0.6, 1.0, n)
            discrimination = rng.uniform(0.8, 1.8, n)
            self.task[(w.subject, w.grade, w.procedure)] = (difficulty, discrimination)

    def schools(self):
        rng = self.rng
        n_mun = int(rng.integers(5, 8))
        n_sch = int(rng.integers(50, 61))
        mun_of = np.sort(rng.integers(0, n_mun, n_sch))
        mun_effect = rng.normal(0, 0.25, n_mun)
        lo, hi = REGIMES[self.regime]
        rows = []
        for i in range(n_sch):
            settlement = rng.choice(["город", "пгт", "село"], p=[0.5, 0.2, 0.3])
            profile = "лицей" if rng.random() < 0.06 else ("гимназия" if rng.random() < 0.04 else "общеобразовательная")
            low_income = float(np.clip(rng.normal(18 if settlement == "село" else 9, 6), 0, 60))
            non_native = float(np.clip(rng.exponential(3), 0, 40))
            ovz = float(np.clip(rng.normal(5, 2), 0, 20))
            size = float(np.exp(rng.uniform(np.log(lo), np.log(hi + 1))))
            effect = (mun_effect[mun_of[i]] + rng.normal(0, 0.4) - 0.015 * (low_income - 10)
                      + (0.5 if profile != "общеобразовательная" else 0) - (0.15 if settlement == "село" else 0))
            rows.append({
                "code": f"S{self.seed:03d}-{i + 1:03d}", "mun": f"M{mun_of[i] + 1:02d}", "settlement": settlement,
                "profile": profile, "low_income": low_income, "non_native": non_native, "ovz": ovz,
                "size": size, "effect": effect, "leniency": rng.normal(0, self.leniency_sd),
                "remote": int(settlement == "село" and rng.random() < 0.3),
            })
        return rows, n_mun

    def plant(self, schools):
        if self.per_kind == 0:
            return {}
        picks = self.rng.choice(len(schools), size=self.per_kind * len(KINDS), replace=False)
        return {schools[int(p)]["code"]: KINDS[k // self.per_kind] for k, p in enumerate(picks)}

    def pupils(self, school, lo, hi):
        """Grade size drawn around the school's size; ability with class effects; split into classes of ≤ 30."""
        rng = self.rng
        n = int(np.clip(round(school["size"] * rng.uniform(0.85, 1.15)), lo, hi))
        n_classes = max(1, int(np.ceil(n / 30)))
        klass = rng.integers(0, n_classes, n)
        class_effect = rng.normal(0, 0.25, n_classes)
        theta = rng.normal(school["effect"] + class_effect[klass], 1.0)
        return theta, klass

    def scores(self, work, theta, profile):
        difficulty, discrimination = self.task[(work.subject, work.grade, work.procedure)]
        maxima = np.array(work.maxima)
        out = np.zeros((len(theta), len(maxima)), dtype=int)
        expected = np.zeros(len(theta))
        u = self.rng.random((len(theta), len(maxima)))
        for j, m in enumerate(maxima):
            # Partial credit: P(score >= k) falls with k; one uniform per pupil and task keeps it monotone.
            for k in range(1, m + 1):
                step = difficulty[j] + (k - (m + 1) / 2) * 0.7
                p = _sigmoid(discrimination[j] * (theta + profile[j] - step))
                out[:, j] += (u[:, j] < p).astype(int)
                expected += p
        return out, expected

    def mark(self, work, primary):
        c3, c4, c5 = work.cuts
        return np.where(primary >= c5, 5, np.where(primary >= c4, 4, np.where(primary >= c3, 3, 2)))

    def term_marks(self, work, expected, leniency):
        """The teacher's mark follows the pupil's true level on the subject (the expected score), with the
        teacher's own noise and the school's honest leniency; a little above the work's marks on average."""
        latent = expected + work.max_score * (0.03 + leniency + self.rng.normal(0, TERM_NOISE, len(expected)))
        return self.mark(work, np.round(latent))


def _hardest(gen, work, k=3):
    difficulty, discrimination = gen.task[(work.subject, work.grade, work.procedure)]
    # The tasks with the lowest expected share of their maximum at the region's mean ability.
    return list(np.argsort(-(difficulty + 0.35 * (np.array(work.maxima) - 1)))[:k])


def _apply_heaping(gen, work, scores, strength):
    primary = scores.sum(axis=1)
    maxima = np.array(work.maxima)
    for i in range(len(primary)):
        for c in work.cuts:
            if c - 2 <= primary[i] < c and gen.rng.random() < strength:
                need = c - primary[i]
                room = np.flatnonzero(scores[i] < maxima)
                for j in gen.rng.permutation(room):
                    add = min(need, maxima[j] - scores[i, j])
                    scores[i, j] += add
                    need -= add
                    if need == 0:
                        break
                break
    return scores


def _apply_hard_tasks(gen, work, scores, share):
    maxima = np.array(work.maxima)
    hard = _hardest(gen, work)
    chosen = gen.rng.random(len(scores)) < share
    for j in hard:
        lift = chosen & (gen.rng.random(len(scores)) < 0.75)
        scores[lift, j] = np.minimum(maxima[j], scores[lift, j] + gen.rng.integers(1, maxima[j] + 1, lift.sum()))
    return scores


def generate_region(seed: int, regime: str, per_kind: int = 4, leniency: float = 0.025,
                    profile_sd: float = 0.25, write=None) -> Region:
    """leniency: the spread of honest schools' marking habits (sd of the term marks' shift, a share of the work's
    maximum); profile_sd: the spread of honest schools' own task profiles (logits, per school, work and task);
    write(work, rows, cp1251): makes each work's file (default _write; generate_rows keeps the rows instead)."""
    write = write or _write
    gen = _Generator(seed, regime, per_kind, leniency, profile_sd)
    rng = gen.rng
    schools, n_mun = gen.schools()
    planted = gen.plant(schools)
    lo, hi = REGIMES[regime]
    organisations = []
    for m in range(1, n_mun + 1):
        organisations.append([f"M{m:02d}", f"Управление образования муниципального округа № {m}",
                              f"МО № {m}", "муниципалитет", "REG", "", "", "", "", "", "", ""])
    for s in schools:
        organisations.append([
            s["code"], f"Муниципальное общеобразовательное учреждение «Школа {s['code']}»", f"МОУ {s['code']}",
            "школа", s["mun"], s["settlement"], str(s["remote"]), str(int(s["size"] * 9)), s["profile"],
            f"{s['low_income']:.1f}".replace(".", ","), f"{s['non_native']:.1f}".replace(".", ","),
            f"{s['ovz']:.1f}".replace(".", ","),
        ])
    # Cohorts: the grade 4 of the first year is the grade 5 of the second (the same pupils and codes).
    rows = {id(w): [] for w in gen.works}
    by_work = {(w.procedure, w.subject, w.grade): w for w in gen.works}
    strength = {code: {"hard_tasks": rng.uniform(0.35, 0.6), "term_marks": rng.uniform(0.25, 0.45),
                       "heaping": rng.uniform(0.45, 0.75)}[kind] for code, kind in planted.items()}
    for s in schools:
        code = s["code"]
        kind = planted.get(code)
        cohorts = {}
        for year, grade in ((VPR_YEARS[0], 4), (VPR_YEARS[0], 5), (VPR_YEARS[1], 4), (YEAR, 9)):
            theta, klass = gen.pupils(s, lo, hi)
            cohorts[(year, grade)] = (theta, klass, [f"{code}-{year}-{grade}-{k:03d}" for k in range(len(theta))])
        theta, klass, codes = cohorts[(VPR_YEARS[0], 4)]
        cohorts[(VPR_YEARS[1], 5)] = (theta + rng.normal(0.05, 0.3, len(theta)), klass, codes)
        for (year, grade), (theta, klass, codes) in sorted(cohorts.items()):
            procedure = "ОГЭ" if grade == 9 else "ВПР"
            for subject in ("Русский язык", "Математика"):
                w = by_work[(procedure, subject, grade)]
                present = rng.random(len(theta)) < (0.97 if procedure == "ОГЭ" else 0.92)
                profile = rng.normal(0, gen.profile_sd, len(w.maxima))  # the school's own strengths and weaknesses
                sc, expected = gen.scores(w, theta[present], profile)
                affected = kind is not None and procedure == "ВПР" and rng.random() < 0.85
                if affected and kind == "hard_tasks":
                    sc = _apply_hard_tasks(gen, w, sc, strength[code])
                if affected and kind == "heaping":
                    sc = _apply_heaping(gen, w, sc, strength[code])
                primary = sc.sum(axis=1)
                marks = gen.mark(w, primary)
                term = gen.term_marks(w, expected, s["leniency"])
                if affected and kind == "term_marks":
                    up = (rng.random(len(term)) < strength[code]) & (term < 5)
                    term = term + up
                empty = (sc == 0) & (rng.random(sc.shape) < 0.3)
                letters = "АБВГДЕ"
                for i, idx in enumerate(np.flatnonzero(present)):
                    rows[id(w)].append({
                        "year": year, "school": code, "class": f"{grade}{letters[klass[idx] % 6]}",
                        "student": codes[idx], "variant": int(rng.integers(1, 3)) if procedure == "ВПР" else
                        int(rng.integers(300, 330)), "scores": sc[i], "empty": empty[i], "primary": int(primary[i]),
                        "mark": int(marks[i]), "term": "" if rng.random() < 0.02 else int(term[i]),
                    })
    region = Region(seed, regime, planted, organisations, schools=[s["code"] for s in schools])
    for n, w in enumerate(gen.works):
        region.files[f"{n + 1:02d}-{w.procedure}-{w.grade}-{w.subject.replace(' ', '_')}.csv"] = write(
            w, rows[id(w)], cp1251=(n == 3))
    return region


def generate_rows(seed: int, regime: str, per_kind: int = 4) -> tuple[Region, list]:
    """The region and its rows, (work, rows) per work, without the files: for the benches that feed the analysis
    in-process (k4_pupil_study.py, verdict_fdr_study.py)."""
    captured = []

    def keep(work, rows, cp1251=False):
        captured.append((work, rows))
        return "", "utf-8"

    return generate_region(seed, regime, per_kind=per_kind, write=keep), captured


def _write(work, rows, cp1251=False):
    buf = io.StringIO()
    out = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    if work.form == "vpr":
        out.writerow(["Процедура", "Год", "Предмет", "Параллель", "Код ОО", "Литера", "Код участника", "Вариант",
                      *work.labels, "Первичный балл", "Максимальный балл", "Отметка",
                      "Отметка за четверть"])
        for r in rows:
            cells = ["" if e else str(v) for v, e in zip(r["scores"], r["empty"])]
            out.writerow([work.procedure, r["year"], work.subject, work.grade, r["school"], r["class"], r["student"],
                          r["variant"], *cells, r["primary"], work.max_score, r["mark"], r["term"]])
    else:
        out.writerow(["Процедура", "Год", "Предмет", "Класс", "Код ОО", "Код участника", "Задания с кратким ответом",
                      "Задания с развёрнутым ответом", "Первичный балл", "Максимальный балл", "Отметка"])
        p1 = work.part1
        for r in rows:
            part1 = "".join(("+" if v == 1 else "-") if m == 1 else str(v)
                            for v, m in zip(r["scores"][:p1], work.maxima[:p1]))
            part2 = "".join(f"{v}({m})" for v, m in zip(r["scores"][p1:], work.maxima[p1:]))
            out.writerow([work.procedure, r["year"], work.subject, work.grade, r["school"], r["student"], part1, part2,
                          r["primary"], work.max_score, r["mark"]])
    return buf.getvalue(), ("cp1251" if cp1251 else "utf-8-sig")


# --- the command line, as a checker runs it -------------------------------------------------------------------

def _env(db_path: Path, work_dir: Path) -> dict:
    env = dict(os.environ)
    env.update({
        "FLASK_APP": "wsgi.py", "APP_CONFIG": "development", "DATABASE_URL": f"sqlite:///{db_path}",
        # Inline jobs: the post-import jobs run in the command, never on somebody's Redis.
        "JOBS_MODE": "inline", "REDIS_URL": "redis://127.0.0.1:6381/15",
        "UPLOAD_DIR": str(work_dir / "uploads"), "STORAGE_DIR": str(work_dir / "storage"),
        "ANALYSIS_THRESHOLDS_FILE": "", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    })
    return env


def _flask(args, env, check=True):
    proc = subprocess.run([FLASK, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} → {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return proc


def template_db(directory: Path) -> Path:
    """A migrated database with the region's top organisation; each region starts from a copy of it."""
    path = directory / "template.sqlite3"
    if not path.exists():
        env = _env(path, directory)
        _flask(["db", "upgrade"], env)
        _flask(["orgs", "create-region", "REG", "Министерство образования N-ской области"], env)
    return path


def run_region(args):
    seed, regime, per_kind, base, keep, leniency, profile_sd = args
    started = time.time()
    region = generate_region(seed, regime, per_kind, leniency, profile_sd)
    work = Path(tempfile.mkdtemp(prefix=f"oos-{regime}-{seed}-", dir=base))
    db_path = work / "region.sqlite3"
    shutil.copy(Path(base) / "template.sqlite3", db_path)
    env = _env(db_path, work)
    org_file = work / "organisations.csv"
    with open(org_file, "w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        out.writerow(["Код", "Наименование", "Краткое наименование", "Тип", "Код вышестоящей организации",
                      "Тип населённого пункта", "Удалённость", "Число обучающихся", "Профиль",
                      "Доля малообеспеченных", "Доля неродной русский", "Доля ОВЗ"])
        out.writerows(region.organisations)
    _flask(["import", "organisations", str(org_file)], env)
    for name, (text, encoding) in region.files.items():
        path = work / name
        path.write_bytes(text.encode(encoding))
        _flask(["import", "results", str(path)], env)
    proc = _flask(["analysis", "objectivity", "--year", str(YEAR), "--all"], env)
    verdicts = list(csv.DictReader(io.StringIO(proc.stdout)))
    if keep:
        # the planted schools beside the kept database, so a later change can be scored on the same region
        (work / "planted.txt").write_text("\n".join(region.planted) + "\n", encoding="utf-8")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return {"seed": seed, "regime": regime, "per_kind": per_kind, "planted": region.planted,
            "schools": region.schools, "verdicts": verdicts, "summary": proc.stderr.strip().splitlines()[-1:],
            "seconds": time.time() - started, "dir": str(work) if keep else ""}


def score(result):
    flagged = {v["school_code"] for v in result["verdicts"] if v["verdict"] == "признаки необъективности выявлены"}
    planted = set(result["planted"])
    honest = set(result["schools"]) - planted
    hits = flagged & planted
    return {
        "flagged": len(flagged), "hits": len(hits), "planted": len(planted), "false": len(flagged - planted),
        "honest": len(honest),
        # nothing named: precision is undefined (a region that names nobody is a recall failure, not a precision one)
        "precision": len(hits) / len(flagged) if flagged else float("nan"),
        "recall": len(hits) / len(planted) if planted else float("nan"),
        "missed": sorted(planted - flagged), "false_codes": sorted(flagged - planted),
    }


def _range(text: str) -> list:
    out = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            out.extend(range(int(a), int(b) + 1))
        elif part:
            out.append(int(part))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0-9")
    parser.add_argument("--clean-seeds", default="0-4")
    parser.add_argument("--regimes", default="small,large,mixed")
    parser.add_argument("--per-kind", type=int, default=4, help="planted schools of each kind per region")
    parser.add_argument("--leniency", type=float, default=0.025,
                        help="spread of honest schools' marking habits (sd, share of the work's maximum)")
    parser.add_argument("--profile-sd", type=float, default=0.25,
                        help="spread of honest schools' own task profiles (logits)")
    parser.add_argument("--jobs", type=int, default=2, help="processes (at most 2 on the shared machine)")
    parser.add_argument("--keep", help="keep the files and databases under this directory")
    parser.add_argument("--detail", action="store_true", help="print each missed and falsely named school's row")
    args = parser.parse_args(argv)
    regimes = args.regimes.split(",")
    base = Path(args.keep or tempfile.mkdtemp(prefix="verdict-oos-"))
    base.mkdir(parents=True, exist_ok=True)
    template_db(base)
    common = (str(base), bool(args.keep), args.leniency, args.profile_sd)
    tasks = [(s, r, args.per_kind, *common) for r in regimes for s in _range(args.seeds)]
    tasks += [(1000 + s, r, 0, *common) for r in regimes for s in _range(args.clean_seeds)]
    started = time.time()
    with ProcessPoolExecutor(max_workers=max(1, min(args.jobs, 2))) as pool:
        results = list(pool.map(run_region, tasks))
    report(results, args.detail)
    print(f"\n{len(results)} regions in {time.time() - started:.0f} s")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)


def report(results, detail=False):
    print("| regime | class sizes | regions | precision pooled (worst) | recall pooled (worst) "
          "| false alarms (planted regions) | false alarms (clean regions) |")
    print("|---|---|---|---|---|---|---|")
    failing = []
    for regime in dict.fromkeys(r["regime"] for r in results):
        planted = [(r, score(r)) for r in results if r["regime"] == regime and r["per_kind"] > 0]
        clean = [(r, score(r)) for r in results if r["regime"] == regime and r["per_kind"] == 0]
        hits = sum(s["hits"] for _, s in planted)
        flagged = sum(s["flagged"] for _, s in planted)
        total = sum(s["planted"] for _, s in planted)
        false_p = sum(s["false"] for _, s in planted)
        honest_p = sum(s["honest"] for _, s in planted)
        false_c = sum(s["false"] for _, s in clean)
        honest_c = sum(s["honest"] for _, s in clean)
        lo, hi = REGIMES[regime]
        worst = min((s["precision"] for _, s in planted if s["flagged"]), default=float("nan"))
        prec = f"{hits / flagged:.2f} ({worst:.2f})" if flagged else "—"
        rec = f"{hits / total:.2f} ({min(s['recall'] for _, s in planted):.2f})" if total else "—"
        print(f"| {regime} | {lo}–{hi} | {len(planted)} + {len(clean)} clean | {prec} | {rec} "
              f"| {false_p} of {honest_p} ({100 * false_p / max(honest_p, 1):.1f} %) "
              f"| {false_c} of {honest_c} ({100 * false_c / max(honest_c, 1):.1f} %) |")
        for r, s in planted + clean:
            if (r["per_kind"] and (s["precision"] < 0.8 or s["recall"] < 0.9)) or (not r["per_kind"] and s["false"]):
                # (nan < 0.8 is False: a region naming nobody is listed by its recall)
                failing.append((r, s))
    print()
    for regime in dict.fromkeys(r["regime"] for r in results):
        kinds = {k: [0, 0] for k in KINDS}
        for r in results:
            if r["regime"] != regime:
                continue
            missed = set(score(r)["missed"])
            for code, kind in r["planted"].items():
                kinds[kind][1] += 1
                kinds[kind][0] += code not in missed
        print(f"found by kind, {regime}: " + ", ".join(f"{KIND_WORDS[k]} {a}/{b}" for k, (a, b) in kinds.items()))
    print("\nregions below precision 0.8 or recall 0.9 (clean: any school named):" + ("" if failing else " none"))
    for r, s in failing:
        missed = ", ".join(f"{c} ({KIND_WORDS[r['planted'][c]]})" for c in s["missed"])
        print(f"  {r['regime']} seed {r['seed']}: precision {s['precision']:.2f}, recall {s['recall']:.2f}; "
              f"missed: {missed or '—'}; named honest: {', '.join(s['false_codes']) or '—'}")
        if detail:
            rows = {v["school_code"]: v for v in r["verdicts"]}
            for code in s["missed"] + s["false_codes"]:
                v = rows.get(code, {})
                print(f"    {code}: {v.get('verdict')} p={v.get('combined_p')} signs={v.get('signs')} "
                      f"{v.get('explanation', '')[:400]}")


if __name__ == "__main__":
    sys.exit(main())
