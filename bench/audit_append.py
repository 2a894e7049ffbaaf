"""Audit-chain append cost relative to a plain INSERT of the same rows, measured in one run.

Each append takes the chain-head row lock, reads the previous hash, hashes the canonical content and
inserts; the baseline inserts rows of the same shape into a scratch table with no chain. Both commit
once per row, as a request does.
"""

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from app import create_app  # noqa: E402
from config import DevelopmentConfig  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "2000"))


def main() -> None:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    from config import normalise_database_url

    config = type("BenchConfig", (DevelopmentConfig,), {"SQLALCHEMY_DATABASE_URI": normalise_database_url(url),
                                                         "JOBS_MODE": "inline"})
    app = create_app(config)
    with app.app_context():
        from flask_migrate import upgrade

        from app.audit import chain
        from app.extensions import db

        upgrade()
        db.session.execute(text("DROP TABLE IF EXISTS bench_plain_events"))
        db.session.execute(text(
            "CREATE TABLE bench_plain_events (id INTEGER PRIMARY KEY, occurred_at VARCHAR(40), action VARCHAR(60),"
            " object_type VARCHAR(40), object_id INTEGER, after TEXT, prev_hash VARCHAR(64), hash VARCHAR(64))"))
        db.session.commit()
        payload = {"state": "approved", "responsible_id": 17, "deadline": "2026-12-01", "version": 3}

        started = time.perf_counter()
        for i in range(ROWS):
            db.session.execute(text(
                "INSERT INTO bench_plain_events (id, occurred_at, action, object_type, object_id, after, prev_hash,"
                " hash) VALUES (:id, :t, 'approve', 'stage', :oid, :after, :h, :h)"),
                {"id": i + 1, "t": "2026-11-22T10:00:00+00:00", "oid": i, "after": chain.to_json(payload),
                 "h": "0" * 64})
            db.session.commit()
        plain = time.perf_counter() - started

        started = time.perf_counter()
        for i in range(ROWS):
            chain.record(action="approve", object_type="stage", object_id=i, after=payload)
            db.session.commit()
        chained = time.perf_counter() - started

        verify_started = time.perf_counter()
        result = chain.verify()
        verify_time = time.perf_counter() - verify_started
        db.session.execute(text("DROP TABLE bench_plain_events"))
        db.session.commit()
        backend = db.engine.dialect.name

    print(f"backend: {backend}; rows: {ROWS}")
    print(f"plain INSERT + commit: {ROWS / plain:,.0f} rows/s")
    print(f"hash-chained append + commit: {ROWS / chained:,.0f} rows/s")
    print(f"ratio chained / plain: {plain / chained:.2f}x")
    print(f"verify: {result.checked:,} rows in {verify_time:.2f} s ({'intact' if result.ok else 'BROKEN'})")


if __name__ == "__main__":
    main()
