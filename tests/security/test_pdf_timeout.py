"""A PDF conversion that runs past PDF_TIMEOUT ends whole. `soffice` is a launcher whose child (soffice.bin) does the
work; the timeout killed only the launcher, and the child went on for minutes with a gigabyte of memory, once per
retried job (attack 7: a document with an emblem of 30,000 × 30,000 pixels). A stand-in launcher here starts a
worker child the same way; after the refusal no process of the conversion is left."""

import os
import signal
import time

import pytest

from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie is gone for our purpose: it holds no memory
        return fh.read().split(") ", 1)[1][0] != "Z"


def test_a_conversion_past_its_time_leaves_no_process_behind(app, tmp_path):
    from app.documents import pdf

    pidfile = tmp_path / "worker.pid"
    launcher = tmp_path / "soffice"
    launcher.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > {pidfile}\nwait\n")
    launcher.chmod(0o755)
    started = time.monotonic()
    with app.app_context(), pytest.raises(pdf.ConversionFailed, match="не уложился в 1 с"):
        pdf.convert_docx(b"PK", soffice=str(launcher), timeout=1)
    assert time.monotonic() - started < 30
    worker = int(pidfile.read_text())
    try:
        deadline = time.monotonic() + 5
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(worker), "the conversion's worker process outlived its timeout"
    finally:
        if _alive(worker):
            os.kill(worker, signal.SIGKILL)
