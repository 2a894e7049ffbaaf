from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.timeutil import utcnow
from app.extensions import db


class ApiToken(db.Model):
    """A personal API token: acts as its owner, within the owner's scope. Only its SHA-256 is stored;
    the secret is shown once, when it is issued."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # The first characters of the secret, shown in the list so the owner can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # A token ends by itself (API_TOKEN_DAYS after issuing): a secret copied into a forgotten script or config file
    # stopped being a key for ever only when someone remembered to revoke it.
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship()

    @property
    def active(self) -> bool:
        """Neither revoked nor past its expiry."""
        return self.revoked_at is None and not self.expired

    @property
    def expired(self) -> bool:
        return self.expires_at <= utcnow()
