"""Photos (of answers, corrective actions, red tags): validate by content, re-encode (drops EXIF and anything
smuggled), store by hash.

Stored as photos/<first two hex>/<sha256>.jpg with a print/screen thumbnail beside it (<sha256>.thumb.jpg), in the
app's storage (a folder or a bucket, see storage.py). Names are generated, never taken from the upload.
"""

from __future__ import annotations

import hashlib
import io
import threading
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from storage import NO_RECORDED_HASH, Storage, StoredFileError

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_UPLOAD_BYTES = 12 * 1024 * 1024
MAX_SOURCE_PIXELS = 40_000_000  # a 50 000 × 50 000 "image" is refused before it is decoded
# PNG and WebP decode in full (JPEG decodes straight at about the size kept, see _normalise): 24 Mpx of RGBA is
# 96 MB, and a phone's screenshot is a tenth of that
MAX_LOSSLESS_PIXELS = 24_000_000
# Photos decoded at once in one process: eight tablets sending 40 Mpx PNGs together would otherwise take a
# worker past a gigabyte. The others wait their turn (a decode takes a fraction of a second).
DECODES_AT_ONCE = 2
_decoding = threading.BoundedSemaphore(DECODES_AT_ONCE)
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
        with _decoding, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _normalise(data)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoError("too_many_pixels", f"photo has more than {MAX_SOURCE_PIXELS} pixels") from exc


def _normalise(data: bytes) -> tuple[bytes, bytes, int, int]:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ALLOWED_FORMATS:
                raise PhotoError("bad_type", f"only JPEG, PNG or WebP photos are accepted, not {probe.format}")
            limit = MAX_SOURCE_PIXELS if probe.format == "JPEG" else MAX_LOSSLESS_PIXELS
            if probe.width * probe.height > limit:
                raise PhotoError("too_many_pixels", f"photo has more than {limit} pixels")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            if image.format == "JPEG":
                # decode at 1/2, 1/4 or 1/8 scale straight from the DCT, never smaller than what is kept: a
                # 6 300 × 6 300 photo costs 30 MB instead of 120 MB (and another 120 MB for each copy below)
                image.draft("RGB", (LONG_SIDE, LONG_SIDE))
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


def photo_key(sha256: str, thumbnail: bool = False) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256")
    return f"photos/{sha256[:2]}/{sha256}{'.thumb' if thumbnail else ''}.jpg"


def store_image(data: bytes, store: Storage) -> StoredPhoto:
    full, thumb, width, height = normalise_image(data)
    digest = hashlib.sha256(full).hexdigest()
    store.put(photo_key(digest), full, "image/jpeg")
    store.put(photo_key(digest, thumbnail=True), thumb, "image/jpeg")
    return StoredPhoto(sha256=digest, width=width, height=height, byte_size=len(full))


def read_photo(store: Storage, sha256: str, thumbnail: bool = False) -> bytes:
    """The stored JPEG, checked against its hash (StoredFileError names it otherwise).

    A thumbnail stored before thumbnails had their hash recorded (installations older than storage.py) is made
    again from the photo, which is checked against its own name, and stored with its hash: it is never trusted
    as found, and never shown as damaged either."""
    key = photo_key(sha256, thumbnail)
    try:
        return store.get(key)
    except StoredFileError as exc:
        if not thumbnail or exc.problem != NO_RECORDED_HASH:
            raise
    thumb = normalise_image(store.get(photo_key(sha256)))[1]
    store.put(key, thumb, "image/jpeg")
    return thumb
