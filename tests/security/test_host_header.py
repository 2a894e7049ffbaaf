"""Absolute links that leave the page come from the configured address (APP_BASE_URL), never the request's Host.
A request with «Host: evil.example» wrote that host into the public sitemap and Atom feed — answers a proxy and the
browser may keep for PUBLIC_MAX_AGE and hand to every visitor (cache poisoning) — and into the calendar feed and
its subscription link."""

import re

import pytest

from tests.test_public import published_doc  # noqa: F401  (fixture)

EVIL = "evil.example"


@pytest.fixture
def base(app):
    return app.config["APP_BASE_URL"].rstrip("/")


def test_the_sitemap_and_the_feed_name_the_configured_address(world, published_doc, client, base):  # noqa: F811
    _doc, version = published_doc
    for path in ("/public/sitemap.xml", f"/public/orgs/{world['mun'].code}/feed.atom"):
        for headers in ({"Host": EVIL}, {"X-Forwarded-Host": EVIL}, {}):
            response = client.get(path, headers=headers)
            assert response.status_code == 200
            text = response.get_data(as_text=True)
            assert EVIL not in text
            links = re.findall(r"(?:<loc>|href=\")(https?://[^<\"]+)", text)
            assert links and all(link.startswith(base + "/public/") for link in links)
    feed = client.get(f"/public/orgs/{world['mun'].code}/feed.atom", headers={"Host": EVIL}).get_data(as_text=True)
    assert f'href="{base}/public/documents/{version.id}"' in feed


def test_the_calendar_link_and_feed_name_the_configured_address(world, make_cycle, client, login, db_session, base):
    make_cycle(world["mun"], world["official"])  # its «Цели» are due: one event with a link
    db_session.commit()
    login(world["official"])
    # The test client's own host is «localhost» (its session cookie is kept for that host only): the link shown must
    # not be built from it either.
    page = client.post("/deadlines/ical/new").get_data(as_text=True)
    assert "localhost" not in page
    (url,) = re.findall(r'<code[^>]*id="feed-url">([^<]+)<', page)
    assert url.startswith(base + "/deadlines/ical/")
    feed = client.get(url[len(base):], headers={"Host": EVIL}).get_data(as_text=True)
    assert EVIL not in feed and f"URL:{base}/" in feed


@pytest.mark.parametrize("path", ["/login", "/public/", "/no-such-page"])
def test_a_host_werkzeug_cannot_encode_gets_a_russian_400(client, path):
    """A Host with a name part over 63 characters cannot be IDNA-encoded: Werkzeug refuses to bind the request
    (BadHost), and the error page, built with url_for, failed in turn — a 500 for a bad request (attack 11)."""
    response = client.get(path, headers={"Host": "x" * 64})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Некорректный запрос" in text and "Bad Request" not in text


def test_a_host_werkzeug_cannot_encode_gets_the_api_json(client):
    response = client.get("/api/v1/cycles", headers={"Host": "x" * 64})
    assert response.status_code == 400
    assert response.get_json()["error"] == "Некорректный запрос."
