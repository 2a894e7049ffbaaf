"""K4's leniency of the school (term_shape._school_habits' z, folded into the shape's sign by verdicts._folded),
measured in the bench's process (README «Verdicts on objectivity», «Term marks: the school's leniency»). Not a speed
bench.

    K4LENIENT=0|1 .venv/bin/python bench/verdict_k4lenient.py [verdict_fdr_study.py's arguments]
    K4LENIENT=0|1 .venv/bin/python bench/verdict_k4lenient.py quality [verdict_quality.py's arguments]
    K4LENIENT=0|1 .venv/bin/python bench/verdict_k4lenient.py k4term [verdict_k4term.py's arguments]

`K4LENIENT=0`: no leniency test (the shape alone, until 7 December 2026); `1` (default): what app/ ships; a
number W other than 0 and 1: the leniency's weight W in the weighted Stouffer sum with the shape's (1).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app.analysis.methods import sign_tests  # noqa: E402

from app.analysis.methods import verdicts  # noqa: E402

sign_tests.LENIENT = os.environ.get("K4LENIENT", "1") != "0"
if sign_tests.LENIENT and os.environ.get("K4LENIENT", "1") != "1":
    verdicts.LENIENT_WEIGHT = float(os.environ["K4LENIENT"])

if __name__ == "__main__":
    import bench.verdict_fdr_study as study  # noqa: PLC0415 — after the patch, so the workers fork with it

    study.patched_main()
