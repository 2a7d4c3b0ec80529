"""Evidence photos (凭证照片): uploaded by staff, re-encoded, attached to one claim."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from credits.db import Base, utcnow
from credits.models.claim import Claim
from credits.models.user import User


class Evidence(Base):
    """A stored photo; `claim_id` stays empty until a claim is recorded with it.

    A batch award attaches the same stored file to every claim of the batch: each
    claim then has its own row pointing at the same `path`.
    """

    __tablename__ = "evidence"
    __table_args__ = (
        Index("ix_evidence_village_claim", "village_id", "claim_id"),
        Index("ix_evidence_village_sha256", "village_id", "sha256"),
        # One row per photo and submission: a retried upload answers with the first row.
        UniqueConstraint("village_id", "submission_key", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id"))
    path: Mapped[str] = mapped_column(String(200))
    thumb_path: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40), default="image/jpeg")
    bytes: Mapped[int] = mapped_column()
    width: Mapped[int] = mapped_column()
    height: Mapped[int] = mapped_column()
    thumb_width: Mapped[int] = mapped_column()
    thumb_height: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))  # of the bytes as uploaded
    submission_key: Mapped[str | None] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    claim: Mapped[Claim | None] = relationship()
    uploaded_by: Mapped[User] = relationship()
