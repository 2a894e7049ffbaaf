"""Attack 23: a running instance (gunicorn, an RQ worker) attacked where earlier rounds had not looked — formula
starts in every CSV/XLSX export (organisation and person names beginning with = + - @ tab CR), mutated results
files of every accepted shape, a worker killed mid-import, open redirects, Host poisoning of links, file names in
Content-Disposition, calendar and API tokens, hostile query parameters on every page.

- A person's full name with a stray hyphen («Иванов- Сергей Петрович», «Римская--Корсакова Анна Ивановна»,
  «-Иванов Сергей»: the user form takes any text) made petrovich raise «Lastname cannot be empty» whenever the
  surname was declined: the audit extract (CSV and XLSX) and the audit page answered 500 as soon as a stand-in of
  that person was in the log. An empty part of a hyphenated surname now stays as typed.
"""

import csv
import io

import pytest

from app.core.russian import deputy_for, full_name_in, initials_surname

STRAY_HYPHENS = {
    "Иванов- Сергей Петрович": ("С.П. Иванова-", "Иванову- Сергею Петровичу"),
    "Римская--Корсакова Анна Ивановна": ("А.И. Римскую--Корсакову", "Римской--Корсаковой Анне Ивановне"),
    "-Иванов Сергей": ("С. -Иванова", "-Иванову Сергею"),
}


class _Person:
    def __init__(self, full_name):
        self.full_name = full_name


@pytest.mark.parametrize("full_name", sorted(STRAY_HYPHENS))
def test_a_surname_with_a_stray_hyphen_is_declined_as_typed(full_name):
    accusative, dative = STRAY_HYPHENS[full_name]
    person = _Person(full_name)
    assert initials_surname(person, "accs") == accusative
    assert deputy_for(person) == f"за {accusative}"
    assert full_name_in(person, "datv") == dative


def test_the_audit_extract_names_a_stand_in_for_a_person_with_a_stray_hyphen(world, head_on_leave, db_session,
                                                                             client_for):
    world["head"].full_name = "Иванов- Сергей Петрович"
    db_session.commit()
    auditor = client_for(world["auditor"])
    response = auditor.get("/audit/export.csv?object=stand_in")
    assert response.status_code == 200
    text = response.get_data(as_text=True).lstrip("\ufeff")
    assert any("за С.П. Иванова-" in cell for row in csv.reader(io.StringIO(text), delimiter=";") for cell in row)
    assert auditor.get("/audit/export.xlsx?object=stand_in").status_code == 200
    assert auditor.get("/audit/?object=stand_in").status_code == 200
