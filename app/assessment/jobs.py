"""The evidence package's job: build the ZIP of a queued package row (app/assessment/package.py) with progress.

Runs in an RQ worker (queue `documents`, where the other file-producing jobs run) or inline after the request's
commit when Redis is absent, through app.jobs.tracked.run_tracked: one claim, the work, one commit; a refusal or an
error fails the row with its Russian reason, and the reconciler fails a row whose worker died, so no page says
«собирается» for ever. The partial ZIP is removed on any failure (package.produce). Once the package is built, the
files of the older packages of its scope are deleted (package.prune, ASSESSMENT_PACKAGES_KEEP).
"""

from app.assessment.package import EvidencePackage, produce, prune
from app.extensions import db
from app.jobs.progress import Progress
from app.jobs.queue import job
from app.jobs.tracked import run_tracked

JOB_TIMEOUT = 3600  # a whole campaign's package: 50 municipalities × 8 mechanisms of documents


@job(queue="documents", timeout=JOB_TIMEOUT)
def build_package(package_id: int) -> None:
    def work(claimed):
        package = db.session.get(EvidencePackage, claimed[0])
        # The job only reads until its final write: on SQLite the progress is committed by the job's own session.
        progress = Progress("assessment_package", package.id, commit_on_sqlite=True)
        produce(package, progress=lambda fraction: progress.set(99 * fraction))
        progress.close()

    if run_tracked("assessment_package", [package_id], work):
        _prune(package_id)


def _prune(package_id: int) -> None:
    """The files of the packages the new one superseded: their rows first (committed), then the files, so no row
    ever points to a deleted file as its own."""
    package = db.session.get(EvidencePackage, package_id)
    if package is None or package.status != "done":
        return
    doomed = prune(package)
    db.session.commit()
    for path in doomed:
        path.unlink(missing_ok=True)
