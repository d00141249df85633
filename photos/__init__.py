"""Photos (of answers, corrective actions, red tags): validate by content, re-encode (drops EXIF and anything
smuggled), store by hash.

The decoding runs in helper processes (forkserver, two per process, memory- and time-bounded): a crafted file that
gets past every check costs a helper, never the web worker.

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
# Photos are decoded in helper processes, DECODES_AT_ONCE per web process, each limited to DECODER_MEMORY of
# address space and DECODE_SECONDS: a crafted file that gets past every check costs a helper, never the web
# worker and the requests it is serving (eight 40 Mpx uploads at once took one past a gigabyte).
DECODES_AT_ONCE = 2
DECODER_MEMORY = 1024 * 1024 * 1024
DECODE_SECONDS = 20
_decoders = None
_decoders_lock = threading.Lock()
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
    """Returns (jpeg, thumbnail jpeg, width, height) or raises PhotoError. Pure: no files touched. The work is
    done in a helper process (see DECODES_AT_ONCE)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise PhotoError("too_large", f"photo larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    return _decode(data)


def _decode(data: bytes) -> tuple[bytes, bytes, int, int]:
    from concurrent.futures import TimeoutError as Late
    from concurrent.futures.process import BrokenProcessPool

    pool = _decoder_pool()
    try:
        outcome = pool.submit(_normalise_in_helper, data).result(DECODE_SECONDS)
    except (Late, BrokenProcessPool) as exc:  # too slow, or a helper died (out of memory): new helpers
        _replace_decoder_pool(pool)
        raise PhotoError("unreadable", "the file is not a readable image") from exc
    if outcome[0] == "error":
        raise PhotoError(outcome[1], outcome[2])
    return outcome[1]


def _normalise_in_helper(data: bytes) -> tuple:
    """In a helper: the outcome as plain values."""
    try:
        return ("ok", normalise_here(data))
    except PhotoError as exc:
        return ("error", exc.code, str(exc))


def _decoder_pool():
    global _decoders
    with _decoders_lock:
        if _decoders is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # forkserver: helpers start from a clean process, not a copy of a threaded web worker; a helper that
            # dies breaks only this pool (BrokenProcessPool), which is replaced
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["photos"])
            _decoders = ProcessPoolExecutor(DECODES_AT_ONCE, mp_context=context, initializer=_limit_helper,
                                            initargs=(DECODER_MEMORY,), max_tasks_per_child=200)
            import atexit

            atexit.register(_decoders.shutdown, wait=True, cancel_futures=True)  # before the interpreter tears down
        return _decoders


def _replace_decoder_pool(pool) -> None:
    global _decoders
    with _decoders_lock:
        if _decoders is pool:
            _decoders = None
    pool.shutdown(wait=False, cancel_futures=True)


def _limit_helper(memory: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))


def normalise_here(data: bytes) -> tuple[bytes, bytes, int, int]:
    """normalise_image's work, in this process (the helpers run it)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _normalise(data)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoError("too_many_pixels", f"photo has more than {MAX_SOURCE_PIXELS} pixels") from exc
    except MemoryError as exc:
        raise PhotoError("unreadable", "the file is not a readable image") from exc


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
