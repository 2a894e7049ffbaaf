"""Redirect targets: a path of this site only, whether it came from ?next= or a same-host Referer."""

import pytest

from app.core.redirects import local_path, same_site_path


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "/\t/evil.example", "https://evil.example/",
                                    "javascript:alert(1)", "evil", "", None, "/x\n"])
def test_foreign_or_ambiguous_targets_are_refused(target):
    assert local_path(target) is None


def test_a_local_path_with_its_query_is_kept():
    assert local_path("/cycles/5?tab=docs") == "/cycles/5?tab=docs"
    assert same_site_path("http://localhost/cycles/5?tab=docs", "localhost") == "/cycles/5?tab=docs"


def test_a_same_host_referer_whose_path_reads_as_another_host_is_refused():
    # «http://host//evil.example/x» is this host, but its path sent back as a Location is protocol-relative: the
    # browser would go to evil.example.
    assert same_site_path("http://localhost//evil.example/x", "localhost") is None
    assert same_site_path("http://localhost/\\evil.example", "localhost") is None
    assert same_site_path("http://other.example/cycles", "localhost") is None


def test_an_api_token_form_sent_twice_from_such_a_referer_stays_on_the_site(app, world, db_session):
    from tests.conftest import PASSWORD
    from tests.security.test_double_submit import form_token, path_of

    client = app.test_client()
    assert client.post("/login", data={"login": "official", "password": PASSWORD}).status_code == 302
    page = client.get(path_of(app, "tokens.token_list"))
    action = path_of(app, "tokens.issue_token")
    token = form_token(page.get_data(as_text=True), action=action)
    headers = {"Referer": "http://localhost//evil.example/x"}
    assert client.post(action, data={"name": "Выгрузка", "form_token": token}, headers=headers).status_code == 201
    second = client.post(action, data={"name": "Выгрузка", "form_token": token}, headers=headers)
    assert second.status_code == 302
    assert not second.headers["Location"].startswith("//")
    assert "evil.example" not in second.headers["Location"]
