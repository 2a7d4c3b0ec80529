"""Evidence photos: accept only real images, re-encode them without metadata, keep a thumbnail.

A photo's bytes are checked (never its file name): Pillow must recognise and fully decode
them. The stored copy is a fresh JPEG with the EXIF orientation applied and no metadata at
all (no GPS position, no camera model, no EXIF, no ICC profile), at most
`MAX_EDGE` pixels on its long side; a ~320 px thumbnail sits next to it.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from credits import audit
from credits.access import Permission, require
from credits.db import utcnow
from credits.errors import ValidationError
from credits.i18n import N_
from credits.models import Evidence, User

MAX_BYTES = 10 * 1024 * 1024
MAX_PER_CLAIM = 5
MAX_PIXELS = 50_000_000  # a 50-megapixel photo is the largest we decode
MAX_EDGE = 2560  # long side of the stored copy: plenty to see what happened
THUMB_EDGE = 320
JPEG_QUALITY = 85
THUMB_QUALITY = 75
# What Pillow reports for the formats a tablet or phone camera produces.
ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "HEIF", "AVIF"})
KEY_PATTERN = re.compile(r"^[0-9]+/[0-9a-f]{32}(-thumb)?\.jpg$")


class PhotoStore(Protocol):
    """Where photo files live: a local folder now, an object store later."""

    def save(self, key: str, data: bytes) -> None: ...

    def read(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


class LocalPhotoStore:
    """Photos in a folder (the app's UPLOAD_DIR), one sub-folder per village."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not KEY_PATTERN.match(key):
            raise ValueError(f"not a photo key: {key!r}")
        return self.root / key

    def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


@dataclass(frozen=True)
class CleanPhoto:
    """A photo re-encoded for storage, with its thumbnail."""

    data: bytes
    width: int
    height: int
    thumb: bytes
    thumb_width: int
    thumb_height: int


def check_photo_count(count: int) -> None:
    """Refuse more photos than one claim may carry."""
    if count > MAX_PER_CLAIM:
        raise ValidationError(
            N_("At most %(n)s photos can be attached to one claim."), n=MAX_PER_CLAIM
        )


def _not_an_image() -> ValidationError:
    return ValidationError(N_("This file is not a photo. Choose a JPEG, PNG or WebP image."))


def _open_checked(data: bytes) -> Image.Image:
    """Open the bytes as an image and decode it completely, or refuse."""
    if not data:
        raise ValidationError(N_("The photo file is empty."))
    if len(data) > MAX_BYTES:
        raise ValidationError(
            N_("The photo is too large: at most %(mb)s MB per photo."), mb=MAX_BYTES // 2**20
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in ACCEPTED_FORMATS:
                raise _not_an_image()
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationError(N_("The photo has too many pixels."))
            probe.verify()  # structure and checksums
            image = Image.open(io.BytesIO(data))
            image.load()  # every pixel really decodes
    except ValidationError:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
    ) as exc:
        raise _not_an_image() from exc
    return image


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert to plain RGB, honouring an embedded colour profile, on white for alpha."""
    icc = image.info.get("icc_profile")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    if icc and image.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            target = ImageCms.createProfile("sRGB")
            converted = ImageCms.profileToProfile(image, source, target, outputMode="RGB")
            if converted is not None:
                image = converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: keep the pixels as they are
    return image.convert("RGB")


def _jpeg(image: Image.Image, quality: int) -> bytes:
    # A fresh image carries no info dict: nothing of the original's metadata can leak.
    fresh = Image.new("RGB", image.size)
    fresh.paste(image)
    out = io.BytesIO()
    fresh.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()


def clean_photo(data: bytes) -> CleanPhoto:
    """Check and re-encode an uploaded photo: upright, sRGB, JPEG, no metadata."""
    image = _open_checked(data)
    upright = ImageOps.exif_transpose(image) or image
    rgb = _to_srgb(upright)
    if max(rgb.size) > MAX_EDGE:
        rgb.thumbnail((MAX_EDGE, MAX_EDGE), Image.Resampling.LANCZOS)
    thumb = rgb.copy()
    thumb.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.Resampling.LANCZOS)
    return CleanPhoto(
        data=_jpeg(rgb, JPEG_QUALITY),
        width=rgb.width,
        height=rgb.height,
        thumb=_jpeg(thumb, THUMB_QUALITY),
        thumb_width=thumb.width,
        thumb_height=thumb.height,
    )


def _find(session: Session, village_id: int, submission_key: str, sha: str) -> Evidence | None:
    return session.scalar(
        select(Evidence).where(
            Evidence.village_id == village_id,
            Evidence.submission_key == submission_key,
            Evidence.sha256 == sha,
        )
    )


def store_photo(
    session: Session,
    village_id: int,
    data: bytes,
    storage: PhotoStore,
    *,
    actor: User,
    submission_key: str | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> Evidence:
    """Check, clean and store one photo; it waits unattached until a claim takes it.

    With a `submission_key` (the form's idempotency key) the same photo sent again with
    the same submission answers with the first stored row, so a retried form records once.
    """
    now = now or utcnow()
    require(session, actor, Permission.RECORD, village_id)
    sha = hashlib.sha256(data).hexdigest()
    if submission_key:
        submission_key = submission_key[:64]
        existing = _find(session, village_id, submission_key, sha)
        if existing is not None:
            return existing
    photo = clean_photo(data)
    token = secrets.token_hex(16)
    evidence = Evidence(
        village_id=village_id,
        path=f"{village_id}/{token}.jpg",
        thumb_path=f"{village_id}/{token}-thumb.jpg",
        content_type="image/jpeg",
        bytes=len(photo.data),
        width=photo.width,
        height=photo.height,
        thumb_width=photo.thumb_width,
        thumb_height=photo.thumb_height,
        sha256=sha,
        submission_key=submission_key,
        uploaded_by_id=actor.id,
        created_at=now,
    )
    session.add(evidence)
    try:
        session.flush()
    except IntegrityError:
        # The same photo of the same submission arrived twice at once: answer with the first.
        session.rollback()
        first = _find(session, village_id, submission_key or "", sha)
        if first is None:
            raise
        return first
    audit.log(
        session,
        "evidence.upload",
        actor=actor,
        village_id=village_id,
        obj=evidence,
        ip=ip,
        at=now,
        after={"bytes": evidence.bytes, "width": evidence.width, "height": evidence.height},
    )
    storage.save(evidence.path, photo.data)
    storage.save(evidence.thumb_path, photo.thumb)
    try:
        session.commit()
    except Exception:
        storage.delete(evidence.path)
        storage.delete(evidence.thumb_path)
        raise
    return evidence


def evidence_of(
    session: Session, village_id: int, claim_ids: list[int]
) -> dict[int, list[Evidence]]:
    """Return the photos of each claim, in upload order."""
    result: dict[int, list[Evidence]] = {cid: [] for cid in claim_ids}
    if not claim_ids:
        return result
    for ev in session.scalars(
        select(Evidence)
        .where(Evidence.village_id == village_id, Evidence.claim_id.in_(claim_ids))
        .order_by(Evidence.id)
    ):
        if ev.claim_id is not None:
            result.setdefault(ev.claim_id, []).append(ev)
    return result
