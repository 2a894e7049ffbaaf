"""Black-box robustness attack on a running instance (manual runs; the defects found get pytest tests in
tests/security/). Logs in as every demo role and anonymously, crawls every reachable link and form, then
submits mutated forms and query strings and records every 5xx, every English/technical error text and every
page that reflects an injected marker unescaped.

    .venv/bin/python bench/attack.py --base http://127.0.0.1:5102 [--roles official,director] [--max-pages 400]
    .venv/bin/python bench/attack.py --base … --downloads 40        # which role gets which file, ids 1..40
    .venv/bin/python bench/attack.py --base … --roles official \
        --upload /followup/measures/3,/followup/measures/3/attach,kind=report     # hostile files to one form
    .venv/bin/python bench/attack.py --base … --roles head,head \
        --race /stages/21,/stages/21/transition/approve                # one action sent at once by two sessions
"""

import argparse
import re
import sys
import threading
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests

PASSWORD = "uko-demo-2026"
ROLES = ["official", "head", "methodologist", "director", "teacher", "director2", "director3", "deputy3",
         "official2", "head2", "imc", "rcoko", "region_official", "region_head", "expert2", "expert", "auditor",
         "admin"]
# Never follow what ends the session or changes the password (the crawl would lock itself out).
SKIP = re.compile(r"/logout|/password|/static/|/api/tokens|\.(?:docx|pdf|xlsx|csv|png|svg|zip)(?:$|\?)")
MARK = "<x-red>\"'"
MUTATIONS = ["", "   ", "x" * 10_000, "a\x00b", "\x01\x1b\x7f", "\u202eRTL\u202c😀e\u0301", "' OR 1=1 --",
             MARK, "-1", "0", str(2**63), "1.5", "NaN", "Infinity", "-Infinity", "1e309", "2026-02-30",
             "99999-01-01", "0001-01-01", "../../etc/passwd"]
QUERY_MUTATIONS = {"page": ["-1", str(10**12), "x"], "sort": ["unknown", MARK], "dir": ["sideways"],
                   "per_page": [str(10**9)], "limit": [str(10**12), "-5"], "offset": ["-5", str(10**15)],
                   "next": ["//evil.example/", "https://evil.example/", "/\\evil.example"],
                   "date": ["2026-02-30", "99999-01-01"], "date_from": ["0001-01-01"], "year": ["-1", "NaN"]}
# File routes, each with one id (bench only: the sweep of --downloads).
DOWNLOADS = ["/documents/attachments/{}", "/documents/versions/{}/download", "/documents/versions/{}/pdf",
             "/documents/versions/{}/registered", "/public/documents/{}", "/assessment/evidence/{}",
             "/assessment/packages/{}/download", "/imports/{}/original", "/monitoring/submissions/{}/xlsx",
             "/documents/templates/versions/{}/download", "/public/cycles/{}"]
ENGLISH = re.compile(r"Traceback|Internal Server Error|Bad Request|Method Not Allowed|Not Found</h1>|"
                     r"Field must|This field is required|Not a valid|Invalid (?:input|choice)|sqlalchemy|"
                     r"psycopg|IntegrityError|ValueError|KeyError", re.I)


class Page(HTMLParser):
    """The links of a page and its forms with their named fields (bench/route_fuzz.py also takes buttons)."""

    FIELD_TAGS = ("input", "select", "textarea")

    def __init__(self):
        super().__init__()
        self.links, self.forms, self._form = [], [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                          "enctype": a.get("enctype") or "", "fields": []}
            self.forms.append(self._form)
        elif tag in self.FIELD_TAGS and self._form is not None and a.get("name"):
            self._form["fields"].append((a["name"], a.get("type") or tag, a.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


class Attack:
    def __init__(self, base, max_pages):
        self.base, self.max_pages = base.rstrip("/"), max_pages
        self.findings, self.counts = [], Counter()
        self.fresh_tokens = False

    def record(self, role, kind, method, url, detail=""):
        entry = (role, kind, method, url[:200], detail[:200])
        if entry not in self.findings:
            self.findings.append(entry)
            print("FINDING", *entry, sep=" | ", flush=True)

    def check(self, role, method, url, response):
        self.counts[role] += 1
        if response.status_code >= 500:
            self.record(role, "5xx", method, url, str(response.status_code))
        ctype = response.headers.get("Content-Type", "")
        if "html" in ctype or "json" in ctype:
            text = response.text
            if match := ENGLISH.search(text):
                self.record(role, "english", method, url, match.group(0))
            if "<x-red>" in text:
                self.record(role, "xss", method, url, "marker unescaped")
        location = response.headers.get("Location", "")
        if location and urlsplit(urljoin(url, location)).netloc not in ("", urlsplit(self.base).netloc):
            self.record(role, "open-redirect", method, url, location)

    def session(self, role):
        s = requests.Session()
        if role == "anonymous":
            return s
        page = s.get(self.base + "/login")
        hidden = dict(re.findall(r'name="(\w+)" type="hidden" value="([^"]*)"', page.text))
        r = s.post(self.base + "/login", data={**hidden, "login": role, "password": PASSWORD},
                   allow_redirects=False)
        if r.status_code != 302:
            print("login failed", role, r.status_code, file=sys.stderr)
        return s

    def crawl(self, role, s):
        seen, queue, forms = set(), ["/"], []
        while queue and len(seen) < self.max_pages:
            path = queue.pop(0)
            if path in seen or SKIP.search(path):
                continue
            seen.add(path)
            url = self.base + path
            r = s.get(url, allow_redirects=False, timeout=60)
            self.check(role, "GET", url, r)
            if "html" not in r.headers.get("Content-Type", ""):
                continue
            parser = Page()
            parser.feed(r.text)
            for href in parser.links:
                full = urljoin(url, href)
                parts = urlsplit(full)
                if parts.netloc == urlsplit(self.base).netloc:
                    queue.append(parts.path + (("?" + parts.query) if parts.query else ""))
            for form in parser.forms:
                form["page"] = url
                forms.append(form)
        return seen, forms

    def fuzz_queries(self, role, s, pages):
        for path in sorted({p.split("?")[0] for p in pages})[: self.max_pages]:
            for name, values in QUERY_MUTATIONS.items():
                for value in values:
                    url = f"{self.base}{path}"
                    r = s.get(url, params={name: value}, allow_redirects=False, timeout=60)
                    self.check(role, "GET", r.url, r)
            r = s.get(f"{self.base}{path}?page=1&page=x&sort=a&sort=b", allow_redirects=False, timeout=60)
            self.check(role, "GET", r.url, r)

    def fuzz_forms(self, role, s, forms):
        done = set()
        for form in forms:
            action = urljoin(form["page"], form["action"])
            key = (urlsplit(action).path, form["method"], tuple(f[0] for f in form["fields"]))
            if key in done or SKIP.search(action):
                continue
            done.add(key)
            base = {name: value for name, kind, value in form["fields"] if kind not in ("submit", "file")}
            names = [name for name, kind, _ in form["fields"]
                     if kind not in ("submit", "file") and name not in ("csrf_token", "form_token")]
            files = [name for name, kind, _ in form["fields"] if kind == "file"]
            method = "POST" if form["method"] == "post" else "GET"
            attempts = [dict(base)]
            for name in names:
                attempts.append({k: v for k, v in base.items() if k != name})
                for value in MUTATIONS:
                    attempts.append({**base, name: value})
            attempts.append({**base, "csrf_token": "forged"})
            for data in attempts:
                if self.fresh_tokens and method == "POST":
                    data = {**data, **self.tokens(s, form["page"], form["action"], data)}
                upload = {name: ("../../x\u00e9.csv", b"\xef\xbb\xbfa;b\n\x00\xff", "text/csv") for name in files}
                if method == "POST":
                    r = s.post(action, data=data, files=upload or None, allow_redirects=False, timeout=120)
                else:
                    r = s.get(action, params=data, allow_redirects=False, timeout=60)
                self.check(role, method, action, r)
                if r.status_code in (302, 303) and "/login" in r.headers.get("Location", ""):
                    s = self.session(role)  # a mutation ended the session: log in again

    def tokens(self, s, page, action, data):
        """Fresh one-time tokens from the form's page: a create form answers a second POST of the same token
        with the first one's redirect, so without them every mutation after a success tests nothing."""
        if data.get("csrf_token") == "forged":
            return {}
        parser = Page()
        parser.feed(s.get(page, timeout=60).text)
        for form in parser.forms:
            if form["action"] == action or (not form["action"] and urlsplit(page).path == action):
                return {n: v for n, k, v in form["fields"] if n in ("csrf_token", "form_token")}
        return {}

    def sweep_downloads(self, roles, top):
        """Every file route with ids 1..top for every role: prints which roles get each file (compare with the
        owners in the database: a 200 outside the owner's subtree is a leak) and records any 5xx."""
        access = {}
        sessions = {role: self.session(role) for role in roles}
        for route in DOWNLOADS:
            for ident in list(range(1, top + 1)) + [0, -1, 2**31, 2**63]:
                url = self.base + route.format(ident)
                for role, s in sessions.items():
                    r = s.get(url, allow_redirects=False, timeout=60)
                    self.check(role, "GET", url, r)
                    if r.status_code == 200:
                        access.setdefault(route.format(ident), []).append(role)
        for url, who in sorted(access.items()):
            print("DOWNLOAD", url, ",".join(who), sep=" | ")
        return access

    def attack_upload(self, role, page, action, fields):
        """Hostile files to one upload form (`action`, its file field "file"; fresh tokens from `page`): empty, a
        program named .pdf, HTML named .pdf, names with ../, a backslash, NUL, CR LF, an RTL override, 400
        characters, only dots, twice the same name, one byte over ATTACHMENT_MAX_MB (25). Prints each answer and
        its first alert; a 5xx is recorded."""
        s = self.session(role)
        pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
        cases = [("empty", b"", "a.pdf"), ("exe", b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00", "a.pdf"),
                 ("html", b"<html><script>alert(1)</script>", "x.pdf"), ("dotdot", pdf, "../../../etc/passwd"),
                 ("backslash", pdf, "..\\..\\win.ini"), ("nul", pdf, "a\x00b.pdf"), ("crlf", pdf, "a\r\nX: y.pdf"),
                 ("rtl", pdf, "invoice\u202efdp.exe"), ("long", pdf, "я" * 400 + ".pdf"), ("dots", pdf, "..."),
                 ("same", pdf, "same.pdf"), ("same", pdf, "same.pdf"),
                 ("over", pdf + b"0" * (25 * 1024 * 1024 + 1 - len(pdf)), "big.pdf")]
        for label, data, name in cases:
            form = {**fields, **self.tokens(s, self.base + page, action, {})}
            r = s.post(self.base + action, data=form, files={"file": (name, data, "application/pdf")},
                       allow_redirects=False, timeout=120)
            self.check(role, "POST", self.base + action, r)
            alert = re.findall(r'alert-(?:danger|warning)[^>]*>\s*([^<]{0,120})', r.text)
            print("UPLOAD", label, r.status_code, alert[0] if alert else r.headers.get("Location", ""), sep=" | ")

    def race(self, roles, page, action, fields, copies=2):
        """The same action sent at the same instant: each role in `roles` (a role may repeat: two sessions of
        one person) reads the form on `page` and posts it to `action`; with one role, one session posts the same
        form `copies` times at once (a double click that beats the one-time token). A field given as `name=@path`
        is sent as that file (two imports of one file at once). Prints each answer and its first alert; a 5xx is
        recorded. Check the database afterwards: one state change, one audit event, no row twice."""
        files = {k: v[1:] for k, v in fields.items() if v.startswith("@")}
        fields = {k: v for k, v in fields.items() if k not in files}
        sessions = [self.session(role) for role in roles]
        if len(sessions) == 1:
            sessions = sessions * copies
            roles = roles * copies
        forms = [{**self.tokens(s, self.base + page, action, {}), **fields} for s in sessions]
        start = threading.Barrier(len(sessions))
        answers = [None] * len(sessions)

        def post(i):
            start.wait()
            upload = {k: (path.rsplit("/", 1)[-1], open(path, "rb")) for k, path in files.items()}
            answers[i] = sessions[i].post(self.base + action, data=forms[i], files=upload or None,
                                          allow_redirects=False, timeout=600)

        threads = [threading.Thread(target=post, args=(i,)) for i in range(len(sessions))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for role, r in zip(roles, answers):
            self.check(role, "POST", self.base + action, r)
            alert = re.findall(r'alert-(?:danger|warning|success)[^>]*>\s*([^<]{0,120})', r.text)
            print("RACE", role, r.status_code, alert[0].strip() if alert else r.headers.get("Location", ""), sep=" | ")
        return answers

    def keep_input(self, role):
        """Nothing typed is lost: every form with a text field is sent with a long text in each and one other field
        spoiled (a stale version, else a blank field), with fresh tokens. An answer that refuses it must show the
        text again: a refusal page without it, or a redirect with an error flashed, is recorded as lost input."""
        s = self.session(role)
        pages, forms = self.crawl(role, s)
        done = set()
        for form in forms:
            action = urljoin(form["page"], form["action"])
            fields = {name: (kind, value) for name, kind, value in form["fields"]}
            areas = [name for name, (kind, _v) in fields.items() if kind in ("textarea", "text")
                     and name not in ("csrf_token", "form_token")]
            key = (urlsplit(action).path, tuple(sorted(fields)))
            if form["method"] != "post" or not areas or key in done or SKIP.search(action):
                continue
            done.add(key)
            text = "Введённый текст " + "сохранится " * 300 + str(len(done))
            data = {name: value for name, (kind, value) in fields.items() if kind not in ("submit", "file")}
            data.update({name: text for name in areas})
            others = [n for n, (k, _v) in fields.items()
                      if k not in ("submit", "file", "hidden", "checkbox", "radio") and n not in areas]
            if "version" in data:
                data["version"] = "999999"
            elif others:
                data[others[0]] = ""
            else:
                continue
            data.update(self.tokens(s, form["page"], form["action"], data))
            r = s.post(action, data=data, allow_redirects=False, timeout=120)
            self.check(role, "POST", action, r)
            shown = text[:200] in r.text
            if r.status_code in (302, 303):
                page = s.get(urljoin(action, r.headers["Location"]), timeout=60)
                if "alert-danger" in page.text and text[:200] not in page.text:
                    self.record(role, "lost-input", "POST", action, "redirect with an error; the text is gone")
                print("KEEP", r.status_code, action, "redirect", sep=" | ")
            else:
                if r.status_code >= 400 and not shown:
                    self.record(role, "lost-input", "POST", action, f"{r.status_code}; the text is not on the page")
                print("KEEP", r.status_code, action, "shown" if shown else "NOT SHOWN", sep=" | ")

    def run(self, roles):
        for role in roles:
            s = self.session(role)
            pages, forms = self.crawl(role, s)
            print(f"{role}: {len(pages)} pages, {len(forms)} forms", flush=True)
            self.fuzz_queries(role, s, pages)
            self.fuzz_forms(role, s, forms)
            print(f"{role}: {self.counts[role]} requests", flush=True)
        print("TOTAL", sum(self.counts.values()), dict(self.counts))
        for entry in self.findings:
            print(*entry, sep=" | ")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:5102")
    parser.add_argument("--roles", default="anonymous," + ",".join(ROLES))
    parser.add_argument("--max-pages", type=int, default=400)
    parser.add_argument("--fresh-tokens", action="store_true", help="re-read the form's tokens before each POST")
    parser.add_argument("--downloads", type=int, default=0, metavar="N",
                        help="only sweep the file routes with ids 1..N for every role (IDOR of files)")
    parser.add_argument("--upload", metavar="PAGE,ACTION[,name=value...]",
                        help="only send hostile files to one upload form as the first role, e.g. "
                             "/followup/measures/3,/followup/measures/3/attach,kind=report")
    parser.add_argument("--race", metavar="PAGE,ACTION[,name=value...]",
                        help="only send one form's action at the same instant from every role given (repeat a "
                             "role for two sessions of one person; one role: the same form twice from one session)")
    parser.add_argument("--keep-input", action="store_true",
                        help="only check that a refused form shows the typed text again, for every role given")
    args = parser.parse_args()
    attack = Attack(args.base, args.max_pages)
    attack.fresh_tokens = args.fresh_tokens
    if args.upload:
        page, action, *pairs = args.upload.split(",")
        attack.attack_upload(args.roles.split(",")[0], page, action, dict(p.split("=", 1) for p in pairs))
        return
    if args.keep_input:
        for role in args.roles.split(","):
            attack.keep_input(role)
        for entry in attack.findings:
            print(*entry, sep=" | ")
        return
    if args.race:
        page, action, *pairs = args.race.split(",")
        attack.race(args.roles.split(","), page, action, dict(p.split("=", 1) for p in pairs))
        return
    if args.downloads:
        attack.sweep_downloads(args.roles.split(","), args.downloads)
        print("TOTAL", sum(attack.counts.values()), dict(attack.counts))
        return
    attack.run(args.roles.split(","))


if __name__ == "__main__":
    main()
