"""Photos for answers: validate by content, re-encode (drops EXIF and anything smuggled), store by hash.

Files live under DATA_DIR/photos/<first two hex>/<sha256>.jpg with a print/screen thumbnail beside them
(<sha256>.thumb.jpg). Names are generated, never taken from the upload.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_UPLOAD_BYTES = 12 * 1024 * 1024
MAX_SOURCE_PIXELS = 40_000_000  # a 50 000 × 50 000 "image" is refused before it is decoded
LONG_SIDE = 1600
THUMB_LONG_SIDE = 480
JPEG_QUALITY = 82


class PhotoError(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class StoredPhoto:
    sha256: str
    width: int
    height: int
    byte_size: int


def normalise_image(data: bytes) -> tuple[bytes, bytes, int, int]:
    """Returns (jpeg, thumbnail jpeg, width, height) or raises PhotoError. Pure: no files touched."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise PhotoError("too_large", f"photo larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _normalise(data)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoError("too_many_pixels", f"photo has more than {MAX_SOURCE_PIXELS} pixels") from exc


def _normalise(data: bytes) -> tuple[bytes, bytes, int, int]:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ALLOWED_FORMATS:
                raise PhotoError("bad_type", f"only JPEG, PNG or WebP photos are accepted, not {probe.format}")
            if probe.width * probe.height > MAX_SOURCE_PIXELS:
                raise PhotoError("too_many_pixels", f"photo has more than {MAX_SOURCE_PIXELS} pixels")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image = ImageOps.exif_transpose(image)  # keep what the camera meant, then drop the EXIF
            image = image.convert("RGB")
    except PhotoError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise PhotoError("unreadable", "the file is not a readable image") from exc
    image.thumbnail((LONG_SIDE, LONG_SIDE), Image.Resampling.LANCZOS)
    full = io.BytesIO()
    image.save(full, "JPEG", quality=JPEG_QUALITY, optimize=True)
    thumb_image = image.copy()
    thumb_image.thumbnail((THUMB_LONG_SIDE, THUMB_LONG_SIDE), Image.Resampling.LANCZOS)
    thumb = io.BytesIO()
    thumb_image.save(thumb, "JPEG", quality=78, optimize=True)
    return full.getvalue(), thumb.getvalue(), image.width, image.height


def photo_path(data_dir: str | Path, sha256: str, thumbnail: bool = False) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256")
    return Path(data_dir) / "photos" / sha256[:2] / f"{sha256}{'.thumb' if thumbnail else ''}.jpg"


def store_image(data: bytes, data_dir: str | Path) -> StoredPhoto:
    full, thumb, width, height = normalise_image(data)
    digest = hashlib.sha256(full).hexdigest()
    path = photo_path(data_dir, digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, content in ((path, full), (photo_path(data_dir, digest, thumbnail=True), thumb)):
        if not target.exists():  # same content, same name: storing twice is harmless
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(content)
            tmp.replace(target)
    return StoredPhoto(sha256=digest, width=width, height=height, byte_size=len(full))
