"""A form field sent tens of thousands of times (a forged multiple select) is refused with 422 before any view runs:
70,000 indicator ids on the measure form went into one `IN (…)`, the PostgreSQL driver refused a statement with
more than 65,535 parameters, and the user read «нет связи с базой данных» on a 503 (attack 4)."""

import io

from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.core.hardening import MAX_VALUES_PER_FIELD


def test_a_field_with_too_many_values_is_422_before_the_view(client, login, world):
    # (A multipart body of as many parts is refused before this, by Flask's MAX_FORM_PARTS: 413, tested below.)
    login(world["official"])
    data = {"indicator_ids": [str(n) for n in range(1, MAX_VALUES_PER_FIELD + 2)]}
    response = client.post("/deadlines/notifications/read-all", data=data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "в поле «indicator_ids» выбрано 10\u00a0001 значений, допустимо не более 10\u00a0000" in body


def test_a_long_but_possible_list_still_reaches_the_view(client, login, world):
    login(world["official"])
    data = {"indicator_ids": [str(n) for n in range(1, MAX_VALUES_PER_FIELD + 1)]}
    response = client.post("/deadlines/notifications/read-all", data=data)
    assert response.status_code == 302


def test_the_measure_form_with_seventy_thousand_ids_is_422_not_503(client, login, world, rec_cycle):
    login(world["official"])
    data = {"title": "Массовый выбор", "kind": "event", "indicator_ids": [str(n) for n in range(1, 70_000)]}
    response = client.post(f"/followup/cycles/{rec_cycle.id}/measures/new", data=data)
    assert response.status_code == 422


def _multipart(client, fields: dict):
    """A multipart POST encoded in memory (the test client spools a body it encodes to a temporary file that nobody
    closes when the application refuses to read it, as it does with a 413)."""
    boundary, body = encode_multipart(fields)
    return client.post("/login", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_a_multipart_form_of_too_many_parts_says_so_not_that_the_file_is_large(app, client):
    # Werkzeug refuses it with the same RequestEntityTooLarge as an oversized body: the page read «Файл слишком
    # большой.» under a form of a few kilobytes.
    response = _multipart(client, {f"field{n}": "x" for n in range(app.config["MAX_FORM_PARTS"] + 1)})
    assert response.status_code == 413
    body = response.get_data(as_text=True)
    assert "В форме слишком много полей: допустимо не более 1000." in body
    assert "Файл слишком большой" not in body and "не добавляя в неё полей" in body


def test_a_body_over_the_size_limit_is_still_a_large_file(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    response = _multipart(client, {"attachment": FileStorage(io.BytesIO(b"x" * 4096), filename="a.txt")})
    assert response.status_code == 413
    assert "Файл слишком большой." in response.get_data(as_text=True)


def test_a_file_received_before_the_parts_limit_is_closed_on_the_refusal(app, client):
    # Werkzeug spools a file part to a temporary file; refusing the body at the part after MAX_FORM_PARTS dropped
    # it unclosed (a ResourceWarning, an error under this suite's filterwarnings, on every such request).
    import gc

    fields = {"attachment": FileStorage(io.BytesIO(b"x" * 600_000), filename="a.txt")}
    fields.update({f"field{n}": "x" for n in range(app.config["MAX_FORM_PARTS"] + 1)})
    response = _multipart(client, fields)
    assert response.status_code == 413
    gc.collect()  # a file left open warns when collected
