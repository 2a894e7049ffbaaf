"""Demo data of this feature, called from app.demo for each stage it fills.

The head of ГО Северный is on leave for two weeks around the demo's «today», with the methodologist standing
in: log in as `methodologist` to see the head's review tasks marked «за …» and approve on the head's behalf
(the audit log says so). `flask reminders run` then sends the reminders and escalations the demo's dated
tasks are owed; escalations to the head reach the methodologist too.
"""

from datetime import timedelta

from sqlalchemy import select
from app.auth.models import User
from app.deadlines.models import StandIn
from app.deadlines.standins import create_stand_in
from app.extensions import db
from app.orgs.models import Organisation

# The demo region's code (app.demo.REGION_CODE, checked by tests/test_features.py): the demo orchestrator sits
# above the features and is not imported by them.
REGION_CODE = "DEMO"


def _head_on_leave(stage, *, official, head, rng, today) -> None:
    # Only in the demo region (tests fill stages through the same fillers), and only once.
    region = db.session.scalar(select(Organisation).where(Organisation.code == REGION_CODE))
    if region is None or not stage.organisation.is_within(region):
        return
    if db.session.scalar(select(StandIn.id).where(StandIn.absent_id == head.id)) is not None:
        return
    deputy = db.session.scalar(select(User).where(User.login == "methodologist"))
    if deputy is None or head.login != "head":
        return
    create_stand_in(absent=head, deputy=deputy, start=today - timedelta(days=2), end=today + timedelta(days=12),
                    reason="ежегодный оплачиваемый отпуск (приказ № 112-к)", actor=head, today=today)


STAGE_FILLERS: dict = {"GOAL": _head_on_leave}
