"""Signed checkpoints of the audit hash chain: what makes the chain *anchored*.

The chain alone (app/audit/chain.py) catches a row changed or deleted by hand, but not someone with database
access who changes a row and recomputes every following hash and the head: the rewritten chain is consistent.
A checkpoint records the head (row count, last event id, head hash) at a moment, signed with a key that is
never in the database, in a file written to a directory the operator keeps apart from the database
(AUDIT_CHECKPOINT_DIR: another host's mount, write-once storage, a copy shipped off with the backups).
`flask audit verify --checkpoints DIR` then requires the chain to pass through every checkpoint's head hash at
its row count: any rewrite before the last checkpoint changes that hash and is reported with the stretch of
the log it lies in (between the last checkpoint that still matches and the first that does not).

Why HMAC-SHA256 (key in AUDIT_CHECKPOINT_KEY) and not Ed25519:
* the standard library has it — no new runtime dependency (`cryptography` is not among the pinned packages);
* the checkpoints are signed unattended by the periodic job on the application server, so an Ed25519 private
  key would sit in the same place as the HMAC key: an asymmetric signature would not keep a server intruder
  from signing, and the threat this answers is an intruder in the database, who sees neither key;
* the price: whoever verifies holds a key that can also sign, so verification is done by the operator (key
  custody: README, «Безопасность»), not handed to third parties.
"""

import hashlib
import hmac
import json
import logging
import os
from pathlib import Path

from flask import current_app

from app.audit.chain import Anchor, VerifyResult, verify
from app.core.timeutil import utcnow

log = logging.getLogger(__name__)

ALGORITHM = "HMAC-SHA256"
FORMAT = 1
PREFIX = "audit-checkpoint-"
MIN_KEY_LENGTH = 32
_SIGNED_FIELDS = ("format", "algorithm", "key_id", "created_at", "count", "last_event_id", "head_hash")


class CheckpointError(Exception):
    """A checkpoint cannot be written or read; the message is Russian, for the operator."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def configured_key() -> bytes:
    key = current_app.config.get("AUDIT_CHECKPOINT_KEY")
    if not key:
        raise CheckpointError("Не задан ключ контрольных точек: установите переменную окружения "
                              "AUDIT_CHECKPOINT_KEY (случайная строка не короче 32 символов, хранится вне базы).")
    if len(key) < MIN_KEY_LENGTH:
        raise CheckpointError(f"Ключ AUDIT_CHECKPOINT_KEY короче {MIN_KEY_LENGTH} символов.")
    return key.encode("utf-8")


def configured_dir() -> Path:
    directory = current_app.config.get("AUDIT_CHECKPOINT_DIR")
    if not directory:
        raise CheckpointError("Не задан каталог контрольных точек: установите переменную окружения "
                              "AUDIT_CHECKPOINT_DIR (каталог вне сервера базы данных).")
    return Path(directory)


def key_id(key: bytes) -> str:
    """Names the key a checkpoint was signed with (so a rotated key is told apart), revealing nothing of it."""
    return hmac.new(key, b"uko-audit-checkpoint-key-id", hashlib.sha256).hexdigest()[:16]


def _message(fields: dict) -> bytes:
    return json.dumps({name: fields.get(name) for name in _SIGNED_FIELDS}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def sign(fields: dict, key: bytes) -> str:
    return hmac.new(key, _message(fields), hashlib.sha256).hexdigest()


def load(directory: Path, key: bytes) -> tuple[list[Anchor], list[str]]:
    """The valid checkpoints in `directory` (oldest first) and the problems of the others: a file whose
    signature does not hold was altered or forged, and that is itself evidence of tampering."""
    if not directory.is_dir():
        raise CheckpointError(f"Каталог контрольных точек не найден: {directory}")
    anchors, problems = [], []
    expected_key_id = key_id(key)
    for path in sorted(directory.glob(f"{PREFIX}*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except (OSError, ValueError) as exc:
            problems.append(f"«{path.name}»: файл не читается ({exc.__class__.__name__})")
            continue
        if data.get("key_id") != expected_key_id:
            problems.append(f"«{path.name}»: подписан другим ключом (key_id {data.get('key_id')!r})")
            continue
        if not hmac.compare_digest(str(data.get("signature", "")), sign(data, key)):
            problems.append(f"«{path.name}»: подпись не сходится — файл изменён или подделан")
            continue
        try:
            anchors.append(Anchor(count=int(data["count"]), last_event_id=data["last_event_id"],
                                  head_hash=str(data["head_hash"]), created_at=str(data["created_at"]),
                                  label=path.name))
        except (KeyError, TypeError, ValueError):
            problems.append(f"«{path.name}»: не хватает полей")
    anchors.sort(key=lambda a: a.count)
    return anchors, problems


def verify_with(directory: Path, key: bytes | None = None) -> tuple[VerifyResult, list[Anchor], list[str]]:
    """The whole chain checked against every valid checkpoint in `directory`."""
    key = key or configured_key()
    anchors, problems = load(directory, key)
    return verify(anchors), anchors, problems


def write(directory: Path | None = None, key: bytes | None = None) -> tuple[Path, Anchor]:
    """Verify the log since the latest checkpoint, then sign its head into a new file. Refuses (CheckpointError)
    when the log or an earlier checkpoint does not hold: a broken chain is never anchored."""
    key = key or configured_key()
    directory = directory or configured_dir()
    directory.mkdir(parents=True, exist_ok=True)
    anchors, problems = load(directory, key)
    if problems:
        raise CheckpointError("Контрольная точка не записана: в каталоге есть неверные контрольные точки: "
                              + "; ".join(problems))
    # Only the rows after the latest checkpoint are walked (its own row must still carry its hash): the cheap
    # path of an hourly job. A row edited in place before it is still caught by the full `verify`.
    result = verify(since=anchors[-1] if anchors else None)  # pragma: no mutate (any anchor is as correct)
    if not result.ok:
        raise CheckpointError(f"Контрольная точка не записана: журнал аудита нарушен: запись id={result.broken_id}: "
                              f"{result.reason}")
    now = utcnow()
    fields = {"format": FORMAT, "algorithm": ALGORITHM, "key_id": key_id(key),
              "created_at": now.isoformat(timespec="seconds"), "count": result.checked,
              "last_event_id": result.last_event_id, "head_hash": result.head_hash}
    fields["signature"] = sign(fields, key)
    path = directory / f"{PREFIX}{now:%Y%m%dT%H%M%S%fZ}-{result.checked}.json"
    # Exclusive creation: a checkpoint file is never overwritten; read-only once written.
    with open(path, "x", encoding="utf-8") as fh:
        json.dump(fields, fh, ensure_ascii=False, indent=1)  # pragma: no mutate (layout only)
        fh.write("\n")
    os.chmod(path, 0o444)
    anchor = Anchor(count=result.checked, last_event_id=result.last_event_id, head_hash=result.head_hash,
                    created_at=fields["created_at"], label=path.name)
    return path, anchor


def checkpoint_job() -> str | None:
    """The periodic job (app.jobs.queue.PERIODIC_JOBS): write a checkpoint when the key and the directory are
    configured; otherwise do nothing (development). A broken chain raises, so the failure shows in RQ."""
    if not current_app.config.get("AUDIT_CHECKPOINT_KEY") or not current_app.config.get("AUDIT_CHECKPOINT_DIR"):
        log.info("audit checkpoints are not configured (AUDIT_CHECKPOINT_KEY, AUDIT_CHECKPOINT_DIR): skipped")
        return None
    try:
        path, _anchor = write()
    except CheckpointError as exc:
        log.error("audit checkpoint refused: %s", exc.message)
        raise
    return str(path)
