"""Reaching the real services the suite needs. Under CI=true a missing service fails the test;
locally it skips with the reason, so a developer without PostgreSQL can still run the SQLite pass."""

import os
import socket

import pytest

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require(service: str, host: str, port: int) -> None:
    if port_open(host, port):
        return
    message = f"{service} is not reachable at {host}:{port}"
    if in_ci():
        pytest.fail(message + " (CI=true: a missing service is a failure, not a skip)")
    pytest.skip(message)


def require_postgres() -> None:
    require("PostgreSQL", "127.0.0.1", 5432)


def require_redis() -> None:
    require("Redis", "127.0.0.1", 6379)
