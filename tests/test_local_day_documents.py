"""The day a document is dated by is the organisation's, by the one rule of app/core/timeutil.local_day that the
follow-up counts its days by too. A document signed, agreed or registered at 01:30 in Moscow (22:30 UTC the day
before) printed the UTC day on its approval stamp («УТВЕРЖДАЮ … 6 декабря» for a signature of the 7th); a naive
moment (SQLite hands stored moments back naive from aggregates) was taken as already local; and a municipality
without a zone of its own under a region in Yekaterinburg was registered and dated in Moscow, not in its region's
zone (orgs.services.org_time_zone) that its deadlines are counted in."""

import re
from datetime import date, datetime, timezone
from types import SimpleNamespace

from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)

UTC = timezone.utc
SEVENTH = "7 декабря 2026 г."


def _words(text: str | None) -> str:
    return re.sub(r"\s", " ", text or "")  # the no-break spaces of a date as it is printed


def test_a_naive_moment_is_dated_by_the_organisations_day_as_the_follow_up_dates_it(make_org, db_session):
    from app.documents.contexts import local_day
    from app.followup.models import local_day as followup_day

    org = make_org("region", timezone="Europe/Moscow")
    naive = datetime(2026, 12, 6, 22, 30)  # 01:30 in Moscow on the 7th, as SQLite gives it back
    assert local_day(naive, org) == date(2026, 12, 7)
    assert local_day(naive.replace(tzinfo=UTC), org) == date(2026, 12, 7)
    assert followup_day(naive, "Europe/Moscow") == followup_day(naive.isoformat(sep=" "), "Europe/Moscow") \
        == date(2026, 12, 7)
    assert local_day(date(2026, 12, 6), org) == date(2026, 12, 6)
    assert local_day(None, org) is None


def test_the_approval_stamp_of_a_document_signed_at_half_past_one_in_moscow_shows_that_day(world, db_session):
    from app.documents.catalogue import get_type
    from app.documents.contexts import requisites

    dtype = get_type("protocol")
    org = world["region"]
    org.timezone = "Europe/Moscow"
    moment = datetime(2026, 12, 6, 22, 30, tzinfo=UTC)
    version = {"registration_number": "1-п", "registration_date": date(2026, 12, 7),
               "signatures": [{"meaning": dtype.sign_meaning, "signed_at": moment, "signer_position": "Начальник",
                               "signer_name": "Иванов Иван Иванович"}],
               "approvals": [{"decision": "approved", "round": 1, "approver_position": "Юрист",
                              "approver_name": "Петрова Анна Сергеевна", "decided_at": moment.replace(tzinfo=None)}]}
    ctx = requisites(dtype, org, version, {}, signer=world["head"], executor=None)
    assert _words(ctx["approval"]["date"]) == SEVENTH  # was «6 декабря 2026 г.», the UTC day
    assert [_words(a["date"]) for a in ctx["agreements"]] == [SEVENTH]
    assert ctx["doc"]["date"] == "07.12.2026"


def test_a_municipality_without_a_zone_dates_and_registers_its_documents_in_its_regions_zone(make_org, db_session,
                                                                                             monkeypatch):
    from app.documents import registered, registration
    from app.orgs import services as orgs

    region = make_org("region", timezone="Asia/Yekaterinburg")
    mun = make_org("municipality", parent=region)
    assert mun.timezone is None
    # 20:00 UTC: 01:00 on the 7th in Yekaterinburg, still 23:00 on the 6th in Moscow (APP_TIMEZONE)
    moment = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
    signature = SimpleNamespace(signed_at=moment, signer_position="Начальник управления", signer_id=1,
                                signer_name="Иванов Иван Иванович", meaning="утверждаю")
    approval = SimpleNamespace(round=1, position=1, id=1, decision="approved", approver_position="Юрист",
                               approver_name="Петрова Анна Сергеевна", decided_at=moment, comment="")
    version = SimpleNamespace(document=SimpleNamespace(organisation=mun), registration_number="1-п",
                              registration_date=date(2026, 12, 7), signatures=[signature], approvals=[approval])
    ctx = registered.requisites({"doc": {}, "approval": {}, "agreements": []}, version, signature)
    assert _words(ctx["approval"]["date"]) == SEVENTH
    assert [_words(a["date"]) for a in ctx["agreements"]] == [SEVENTH]
    assert registered.approval_rows(version)[0][3] == "07.12.2026"
    assert _words(registered.signed_at_text(version, signature)) == "07.12.2026 01:00"

    # «today» where the municipality works is its region's day: the registration date is taken there
    days = {"Asia/Yekaterinburg": date(2027, 1, 1)}
    monkeypatch.setattr(orgs, "today_in", lambda tz: days.get(tz, date(2026, 12, 31)))
    doc = SimpleNamespace(organisation=mun, type_key="protocol")
    made = SimpleNamespace(document=doc)
    registration.register_version(made, actor=SimpleNamespace(id=None))
    assert made.registration_date == date(2027, 1, 1) and made.registration_year == 2027
