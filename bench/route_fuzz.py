"""Systematic fuzz of every route of `app.url_map` as every demo role (manual runs, not part of the suite).

Unlike bench/attack.py (which crawls links), this starts from the rule list: every rule, every method, path
parameters filled with the ids each role's pages link to (so every role also gets the ids of other
organisations' objects), the ids of the demo database, and hostile values; GET query strings and POST forms
get the parameter names the crawl saw (forms, links) plus hostile values, a forged CSRF token, JSON and
multipart bodies, and HEAD/OPTIONS/PUT/DELETE. Lists every 5xx, English/raw error text, and audit events
written by refused requests. Run on a demo-seeded instance with the database file readable here:

    .venv/bin/python bench/route_fuzz.py --base http://127.0.0.1:5120 --db /tmp/x/uko.sqlite3 [--roles …]
"""

import argparse
import itertools
import json
import random
import re
import sqlite3
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.attack import Page as CrawledPage  # noqa: E402

PASSWORD = "uko-demo-2026"
ROLES = ["official", "head", "region_official", "region_head", "expert", "auditor", "official2", "director",
         "director2", "admin"]
SKIP = re.compile(r"/logout|/password|/static/|/reauth|/users/\d+/(?:disable|enable|roles)|/api/tokens")
HOSTILE_PATH = ["0", "-1", str(2**63), "abc", "%00", "x" * 3000, "%E2%80%AE", "..%2F..%2Fetc"]
HOSTILE = ["", "abc", "-1", str(2**63), "NaN", "\u202eRTL\u202ce\u0301😀", "a\x00b", "31.02.2026", "0000-00-00",
           "9999-12-31", "x" * 5000, "<x-red>\"'"]
ENGLISH = re.compile(r"Traceback|Internal Server Error|Bad Request|Method Not Allowed|Not Found</h1>|"
                     r"Field must|This field is required|Not a valid|Invalid (?:input|choice|date)|sqlalchemy|"
                     r"psycopg|IntegrityError|ValueError|KeyError|TypeError|werkzeug|jinja2|"
                     r"is not a valid|must be|Unauthorized|Forbidden</h1>|CSRF token", re.I)


class Page(CrawledPage):
    FIELD_TAGS = ("input", "select", "textarea", "button")


def rules_of_app():
    from app import create_app

    app = create_app()
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        conv = {k: type(v).__name__ for k, v in rule._converters.items()}
        choices = {k: list(getattr(v, "items", []) or []) for k, v in rule._converters.items()}
        out.append({"rule": rule.rule, "endpoint": rule.endpoint,
                    "methods": sorted(rule.methods - {"HEAD", "OPTIONS"}), "conv": conv, "choices": choices})
    return app, out


class Fuzz:
    def __init__(self, base, db, roles, max_pages, threads):  # base: URL, or several separated by commas
        # several instances of the same database share the load: each role keeps to one
        bases = [b.rstrip("/") for b in base.split(",")]
        self.bases = {role: bases[i % len(bases)] for i, role in enumerate(roles)}
        self.db, self.roles, self.max_pages = db, roles, max_pages
        self.pool = ThreadPoolExecutor(threads)
        self.deadline = float("inf")
        self.lock = threading.Lock()
        self.findings, self.counts, self.covered = [], Counter(), set()
        self.values = defaultdict(set)          # arg name → values seen in any role's links
        self.seen_by = defaultdict(set)         # (arg, value) → roles whose pages link it
        self.forms = defaultdict(set)           # endpoint → field names
        self.query = defaultdict(set)           # endpoint → query names
        self.app, self.rules = rules_of_app()
        self.adapter = self.app.url_map.bind("localhost")

    def record(self, role, kind, method, url, detail=""):
        entry = (role, kind, method, url[:160], detail[:240])
        with self.lock:
            if entry not in self.findings:
                self.findings.append(entry)
                print("FINDING", *entry, sep=" | ", flush=True)

    def login(self, role):
        s = requests.Session()
        if role == "anon":
            return s
        page = s.get(self.bases[role] + "/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        r = s.post(self.bases[role] + "/login", data={"csrf_token": token.group(1) if token else "", "login": role,
                                              "password": PASSWORD}, allow_redirects=False)
        if r.status_code not in (302, 303):
            print("login failed", role, r.status_code, file=sys.stderr)
        return s

    def match(self, path):
        try:
            return self.adapter.match(path, method="GET")
        except Exception:
            try:
                return self.adapter.match(path, method="POST")
            except Exception:
                return None

    def check(self, role, method, url, r):
        with self.lock:
            self.counts[role] += 1
        if r.status_code >= 500:
            self.record(role, f"{r.status_code}", method, url, r.text[:200].replace("\n", " "))
        ctype = r.headers.get("Content-Type", "")
        if ("html" in ctype or "json" in ctype or "text/plain" in ctype) and "openapi" not in url:
            m = ENGLISH.search(r.text)
            if m:
                text = r.text[max(0, m.start() - 80):m.end() + 80]
                self.record(role, "english", method, url, f"{r.status_code} …{text}…")

    def send(self, s, role, method, url, **kw):
        try:
            r = s.request(method, url, allow_redirects=False, timeout=60, **kw)
        except requests.RequestException as exc:
            self.record(role, "conn", method, url, repr(exc))
            return None
        self.check(role, method, url, r)
        return r

    # --- crawl: which ids, forms and query names each role's pages offer --------------------------------
    def crawl(self, role, s):
        todo, seen = ["/"], set()
        while todo and len(seen) < self.max_pages:
            path = todo.pop(0)
            if path in seen or SKIP.search(path):
                continue
            seen.add(path)
            r = self.send(s, role, "GET", self.bases[role] + path)
            if r is None or "html" not in r.headers.get("Content-Type", ""):
                continue
            p = Page()
            p.feed(r.text)
            for href in p.links:
                u = urlsplit(urljoin(self.bases[role] + path, href))
                if u.netloc and u.netloc != urlsplit(self.bases[role]).netloc:
                    continue
                m = self.match(u.path)
                if m:
                    ep, args = m
                    for k, v in args.items():
                        self.values[k].add(str(v))
                        self.seen_by[(k, str(v))].add(role)
                    for k, _ in parse_qsl(u.query, keep_blank_values=True):
                        self.query[ep].add(k)
                    if not re.search(r"\.(?:docx|pdf|xlsx|csv|png|svg|zip|ics)$|/download|/xlsx|/pdf", u.path):
                        todo.append(u.path + ("?" + u.query if u.query and len(seen) < 60 else ""))
            for f in p.forms:
                u = urlsplit(urljoin(self.bases[role] + path, f["action"] or path))
                m = self.match(u.path)
                if m:
                    target = self.forms if f["method"] == "post" else self.query
                    target[m[0]].update(n for n, *_ in f["fields"] if n != "csrf_token")

    def db_ids(self):
        con = sqlite3.connect(self.db)
        tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
        for arg in {a for r in self.rules for a in r["conv"] if r["conv"][a] == "BoundedIntConverter"}:
            stem = arg[:-3] if arg.endswith("_id") else arg
            for t in (stem + "s", stem + "es", stem[:-1] + "ies", stem.replace("docversion", "document_version") + "s",
                      "assessment_" + stem + "s", stem.replace("rec_item", "recommendation_item") + "s",
                      "document_template_versions" if stem == "template_version" else "",
                      "organisations" if stem in ("org", "municipality", "supported") else "",
                      "assessment_campaigns" if stem == "campaign" else "",
                      "mechanism_sets" if stem == "set" else "", "analysis_runs" if stem == "analysis_run" else "",
                      "document_journals" if stem == "journal" else "", "stand_ins" if stem == "standin" else "",
                      "effectiveness_proposals" if stem == "proposal" else "",
                      "api_tokens" if stem == "token" else "", "import_runs" if stem == "import" else "",
                      "assessment_experts" if stem == "expert" else "",
                      "assessment_evidence" if stem == "evidence" else "",
                      "assessment_criteria_sets" if stem == "criteria_set" else "",
                      "assessment_self_assessments" if stem == "self_assessment" else "",
                      "data_requests" if stem == "request" else "", "document_template_versions"
                      if stem == "version" else "", "indicators" if stem == "item" else ""):
                if t in tables:
                    ids = [r[0] for r in con.execute(f"select id from {t} order by id")]  # noqa: S608
                    pick = ids[:2] + ids[-2:] + ids[len(ids) // 2:len(ids) // 2 + 1]
                    self.values[arg].update(str(i) for i in pick)
                    break

    def token(self, s, role):
        r = s.get(self.bases[role] + "/")
        m = re.search(r'name="csrf-token" content="([^"]+)"|name="csrf_token"[^>]*value="([^"]+)"', r.text)
        return (m.group(1) or m.group(2)) if m else ""

    # --- the sweep ------------------------------------------------------------------------------------
    def urls(self, rule, hostile):
        args = list(rule["conv"])
        if not args:
            return [rule["rule"]]
        combos = []
        per_arg = []
        for a in args:
            vals = sorted(self.values.get(a, set()) | set(map(str, rule["choices"].get(a, []))), key=str)[:6]
            per_arg.append(vals or ["1"])
        for combo in itertools.islice(itertools.product(*per_arg), 4):
            combos.append(dict(zip(args, combo, strict=True)))
        if hostile:
            for a in args:
                for h in HOSTILE_PATH:
                    combos.append({**combos[0], a: h})
        out = []
        for c in combos:
            url = rule["rule"]
            for k, v in c.items():
                url = re.sub(r"<(?:[^:>]+:)?" + k + r">", v, url)
            out.append(url)
        return out

    def sweep_role(self, role, hostile):
        s = self.login(role)
        csrf = self.token(s, role) if role != "anon" else ""
        # each role its own order, so a run stopped by --seconds has covered different rules for each
        for rule in random.Random(role).sample(self.rules, len(self.rules)):
            if time.monotonic() > self.deadline:
                return
            for url in self.urls(rule, hostile):
                if SKIP.search(url):
                    continue
                full = self.bases[role] + url
                self.covered.add((rule["rule"], role))
                if "GET" in rule["methods"]:
                    self.send(s, role, "GET", full)
                    names = self.query.get(rule["endpoint"], set()) | {"page", "q", "year", "date"}
                    if hostile and url == self.urls(rule, False)[0]:
                        for h in HOSTILE:
                            self.send(s, role, "GET", full, params=[(n, h) for n in names] + [(n, "1") for n in names])
                if "POST" in rule["methods"]:
                    fields = self.forms.get(rule["endpoint"], set()) or {"name", "comment", "value"}
                    # A forged token must be refused before the view runs (the audit log is checked after the run:
                    # roles outside --hostile-roles send nothing else that may change anything).
                    for r in (self.send(s, role, "POST", full, data={**{f: "1" for f in fields},
                                                                     "csrf_token": "forged"}),
                              self.send(s, role, "POST", full, json={f: 1 for f in fields},
                                        headers={"X-CSRFToken": "forged"})):
                        if r is not None and r.status_code < 400 and "/login" not in r.headers.get("Location", ""):
                            self.record(role, "forged-csrf-accepted", "POST", full, str(r.status_code))
                    if hostile and url == self.urls(rule, False)[0] and role != "anon":
                        for h in HOSTILE:
                            data = [(f, h) for f in fields] + [(f, "2") for f in list(fields)[:2]]
                            self.send(s, role, "POST", full, data=[*data, ("csrf_token", csrf)])
                        self.send(s, role, "POST", full, data={"csrf_token": csrf},
                                  files={f: ("x.txt", b"\x00\xff" * 10, "application/pdf") for f in fields})
                        self.send(s, role, "POST", full, data=json.dumps({f: [1, {"a": None}] for f in fields}),
                                  headers={"Content-Type": "application/json", "X-CSRFToken": csrf})
                for m in ("HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"):
                    if url == self.urls(rule, False)[0]:
                        self.send(s, role, m, full, headers={"X-CSRFToken": csrf})
                if not s.cookies and role != "anon":
                    s = self.login(role)
                    csrf = self.token(s, role)


def scope_role(fz, role):
    """GET every id-taking page with the ids other roles' pages link to and this role's do not; list the 200s
    (to compare with the database: whose object it is)."""
    s, out = fz.login(role), []
    for rule in fz.rules:
        if "GET" not in rule["methods"] or len(rule["conv"]) != 1:
            continue
        (arg,) = rule["conv"]
        for value in sorted(fz.values.get(arg, ())):
            if role in fz.seen_by.get((arg, value), ()) or not fz.seen_by.get((arg, value)):
                continue
            url = re.sub(r"<(?:[^:>]+:)?" + arg + r">", value, rule["rule"])
            if SKIP.search(url):
                continue
            r = fz.send(s, role, "GET", fz.bases[role] + url)
            if r is not None and r.status_code == 200:
                out.append((role, rule["rule"], arg, value, sorted(fz.seen_by[(arg, value)])))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--roles", default=",".join(["anon", *ROLES]))
    ap.add_argument("--hostile-roles", default="anon,official,director,admin")
    ap.add_argument("--max-pages", type=int, default=150)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=float("inf"), help="stop the sweep after so many seconds")
    ap.add_argument("--scope", help="instead of the fuzz: write the pages each role opens from others' links (JSON)")
    a = ap.parse_args()
    roles = a.roles.split(",")
    fz = Fuzz(a.base, a.db, roles, a.max_pages, a.threads)
    print(f"rules: {len(fz.rules)}", flush=True)
    list(fz.pool.map(lambda role: fz.crawl(role, fz.login(role)), roles))
    fz.db_ids()
    print("crawl done:", sum(fz.counts.values()), "requests", flush=True)
    if a.scope:
        found = [x for part in fz.pool.map(lambda role: scope_role(fz, role), roles) for x in part]
        Path(a.scope).write_text(json.dumps(found, ensure_ascii=False, indent=0))
        print(f"scope: {sum(fz.counts.values())} requests, {len(found)} pages another role's links led to")
        return
    fz.deadline = time.monotonic() + a.seconds
    hostile = set(a.hostile_roles.split(","))
    list(fz.pool.map(lambda role: fz.sweep_role(role, role in hostile), roles))
    print(f"\nrequests: {sum(fz.counts.values())} ({dict(fz.counts)})")
    print(f"rules × roles covered: {len(fz.covered)} of {len(fz.rules) * len(roles)}")
    print(f"findings: {len(fz.findings)}")
    for f in fz.findings:
        print(*f, sep=" | ")


if __name__ == "__main__":
    main()
