"""Users, roles, sign-in and passwords."""

from flask import Blueprint

bp = Blueprint("auth", __name__, template_folder="templates")

# Below the blueprint: the modules that register routes on it, and what the descriptor names.
from app.auth import sessions, views  # noqa: E402, F401
from app.auth.cli import users_cli  # noqa: E402
from app.auth.models import User  # noqa: E402
from app.auth.roles import ROLES  # noqa: E402
from app.core.features import Feature, Mount, NavEntry  # noqa: E402
from app.extensions import db, login_manager  # noqa: E402


def _load_user(token: str):
    try:
        user_id, version = (int(part) for part in token.split(":"))
    except ValueError:
        return None
    user = db.session.get(User, user_id)
    # A bumped session version (log-out elsewhere, password change, disabling) ends this session.
    if user is None or not user.active or user.session_version != version:
        return None
    # The idle timeout and the absolute lifetime of the session (app.auth.sessions).
    if not sessions.alive():
        return None
    return user


def _setup(app) -> None:
    login_manager.user_loader(_load_user)
    app.jinja_env.globals["ROLES"] = ROLES

FEATURE = Feature(
    name="auth", order=60, blueprints=(Mount(bp),), cli=(users_cli,), setup=_setup,
    navigation=(NavEntry(20, "Пользователи", "auth.users", roles=frozenset({"admin"}), group="Администрирование"),),
)
