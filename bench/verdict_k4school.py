"""K4's shape with the marking habit one per school over its works, measured in the bench's process (README
«Verdicts on objectivity», «Term marks: the habit per school, measured»). Not a speed bench.

    K4HABIT=VARIANT .venv/bin/python bench/verdict_k4school.py [verdict_fdr_study.py's arguments]
    K4HABIT=VARIANT .venv/bin/python bench/verdict_k4school.py quality [verdict_quality.py's arguments]
    K4HABIT=VARIANT .venv/bin/python bench/verdict_k4school.py k4term [verdict_k4term.py's arguments]

Sets term_shape's habit before the study forks its workers:
- `unit`: each unit (school × work) its own δ and its own projection (the shape until 7 December 2026);
- `school`: term_shape's `_school_habits` — δ one per school, shrunk to the region's spread of school habits, each
  work's deviation shrunk to the spread of the deviations, both spreads estimated from the data (what app/ ships);
- `school0`: the same with the works' deviations assumed nil (τ_e = 0: exactly one habit per school, the
  generator's); `schoolT` (T a number, e.g. school0.3): τ_e fixed at T logits — a region whose subjects' and
  grades' teachers differ by that much; `…@L` (e.g. school@0.5): only a share L of the school's projection taken
  out (term_shape.PROJECT; less found fewer: step 4's robust spread takes in the habit left over).

`K4TEACHER=SD` (a share of the work's maximum, e.g. 0.025) patches the generator of `bench/verdict_oos.py`: each of
a school's works (subject × grade × year) marks with a habit of its own, the school's plus N(0, SD) — a teacher of
each work, the case `school` must not mistake for inflation.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app.analysis.methods import term_shape  # noqa: E402

VARIANT = os.environ.get("K4HABIT", "school")
term_shape.HABIT_OF = "unit" if VARIANT == "unit" else "school"
if "@" in VARIANT:  # schoolT@L: only a share L of the school habit's projection taken out
    VARIANT, share = VARIANT.split("@")
    term_shape.PROJECT = float(share)
if VARIANT.startswith("school") and VARIANT != "school":
    term_shape.TAU_E2 = float(VARIANT[len("school"):]) ** 2

TEACHER = float(os.environ.get("K4TEACHER", "0"))
if TEACHER:
    import bench.verdict_oos as oos  # noqa: E402 — patched before the workers fork

    SCHOOL_HABIT = oos._Generator.term_marks

    def _teacher_marks(self, work, expected, leniency):
        """The school's habit plus the work's own teacher's (one draw per school × work × year)."""
        return SCHOOL_HABIT(self, work, expected, leniency + self.rng.normal(0.0, TEACHER))

    oos._Generator.term_marks = _teacher_marks

if __name__ == "__main__":
    import bench.verdict_fdr_study as study  # noqa: PLC0415 — after the patch, so the workers fork with it

    study.patched_main()
