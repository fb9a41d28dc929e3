"""Featured image: a local file or a public URL → a WordPress media id with alt text and credit.

The file goes up as the raw request body (``Content-Disposition: attachment; filename=…``);
alt text and caption travel as query parameters of the same request, which WordPress applies
to the new attachment, so one request does it all. The answer is checked, and a second request
sets them only if WordPress did not.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from ..errors import SourceError

if TYPE_CHECKING:
    from .client import WordPressClient

log = logging.getLogger(__name__)

IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"),
          (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"))
MAX_IMAGE = 20 * 1024 * 1024


def upload_media(client: "WordPressClient", path_or_url: str, *, alt: str = "",
                 credit: str = "") -> int:
    """Upload the image and return its media id."""
    content, filename, ctype = _read(client, path_or_url)
    fields = {k: v for k, v in (("alt_text", alt), ("caption", credit), ("title", alt)) if v}
    media = client.api.call(
        "POST", "/wp/v2/media", what=f"uploading the image {filename}", data=content,
        params=fields, headers={"Content-Type": ctype,
                                "Content-Disposition": f'attachment; filename="{filename}"'})
    if _missing(media, alt, credit):
        media = client.api.call("POST", f"/wp/v2/media/{media['id']}", what="setting image alt",
                                json={"alt_text": alt, "caption": credit})
    log.info("uploaded %s as media %s", filename, media.get("id"))
    return int(media["id"])


def _read(client: "WordPressClient", source: str) -> tuple[bytes, str, str]:
    """(bytes, file name, content type): the type is read from the bytes themselves, so a file
    named photo.jpg that holds text (a ``.env`` behind a renamed link) is never uploaded."""
    if re.match(r"^https?://", source, re.I):
        resp = client.http.get_public(source)
        if not resp.ok:
            raise SourceError(f"image {source}: HTTP {resp.status_code}; give another image "
                              "or none", reason=f"http_{resp.status_code}")
        name = Path(unquote(urlsplit(source).path)).name
        content = resp.content
    else:
        name, content = Path(source).name, _read_file(Path(source).expanduser(), source)
    ctype = image_type(content, source)
    return content, _filename(name, ctype), ctype


def _read_file(path: Path, source: str) -> bytes:
    """A regular file, read without following a symbolic link (a link could name any file
    of the machine), at most MAX_IMAGE bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        why = ("is a symbolic link; give the image file itself" if path.is_symlink()
               else "no such file; check the path" if not path.exists()
               else f"cannot be read ({exc.strerror})")
        raise SourceError(f"image {source}: {why}", reason="no_image") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise SourceError(f"image {source}: not a regular file; give an image file",
                              reason="no_image")
        content = handle.read(MAX_IMAGE + 1)
    if len(content) > MAX_IMAGE:
        raise SourceError(f"image {source}: over {MAX_IMAGE // (1024 * 1024)} MB; give a "
                          "smaller image", reason="bad_image")
    return content


def image_type(content: bytes, source: str) -> str:
    """The image's type from its first bytes (its "magic number"), whatever its name says."""
    for magic, ctype in _MAGIC:
        if content.startswith(magic):
            return ctype
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    raise SourceError(f"image {source}: not a JPEG, PNG, GIF or WebP image (its content says "
                      "otherwise); give another image", reason="bad_image")


def _filename(name: str, ctype: str) -> str:
    """An ASCII file name for the header, with an extension WordPress accepts."""
    stem, dot, ext = name.rpartition(".")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem if dot else name).strip("-.") or "image"
    ext = ext.lower() if dot and ext.lower() in ("jpg", "jpeg", "png", "gif", "webp") else (
        (mimetypes.guess_extension(ctype) or ".jpg").lstrip("."))
    return f"{stem[:80]}.{ext}"


def _missing(media: dict, alt: str, credit: str) -> bool:
    caption = media.get("caption") or {}
    caption = caption.get("raw", caption.get("rendered", "")) if isinstance(caption, dict) else caption
    return bool((alt and media.get("alt_text") != alt) or (credit and credit not in str(caption)))
