"""`flask audit verify-extract`: a record number in other digits than 0–9 («²», which `str.isdigit` accepts) made
int() raise, so a tampered extract gave a traceback instead of naming its row (attack 8)."""

import csv
import io

import pytest


@pytest.mark.parametrize("typed", ["²", "１"])
def test_a_record_number_in_other_digits_breaks_the_extract_at_its_row(world, client, login, typed):
    from app.audit import chain
    from app.audit.exports import verify_extract
    from app.extensions import db

    for n in range(3):
        chain.record(action="update", object_type="document", object_id=n + 1, organisation_id=world["mun"].id)
    db.session.commit()
    login(world["admin"])
    text = client.get("/audit/export.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert verify_extract(io.StringIO(text)).ok
    rows[2][0] = typed
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    result = verify_extract(io.StringIO(out.getvalue()))
    assert not result.ok and result.line == 3 and "номера записей должны возрастать" in result.reason
