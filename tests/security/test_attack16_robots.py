"""Attack 16: /robots.txt was a 404 (the site's HTML error page), so a search engine walked every address it found a
link to — the log-in page and the personal pages' addresses, each answering with the log-in page — indexed each
public page twice (its embedded copy, ?embed=1, is the same page), and never learnt of the public sitemap. Now the
file lets crawlers into the public section only, keeps the embedded copies out and names the sitemap at the configured
address (APP_BASE_URL, never the request's Host: the answer is cached publicly).
"""


def test_robots_admit_the_public_section_only_and_name_the_sitemap(app, client):
    app.config["APP_BASE_URL"] = "https://uko.example.ru"
    response = client.get("/robots.txt", headers={"Host": "evil.example"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"].startswith("public")
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "User-agent: *"
    assert {"Allow: /public/", "Disallow: /*embed=", "Disallow: /"} <= set(lines)
    assert "Sitemap: https://uko.example.ru/public/sitemap.xml" in lines
    assert "evil.example" not in response.get_data(as_text=True)
    assert client.get("/public/sitemap.xml").status_code == 200  # the address it names answers
