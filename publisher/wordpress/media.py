"""Featured image: a local file or a public URL → a WordPress media id with alt text and credit.

The file goes up as the raw request body (``Content-Disposition: attachment; filename=…``);
alt text and caption travel as query parameters of the same request, which WordPress applies
to the new attachment, so one request does it all. The answer is checked, and a second request
sets them only if WordPress did not.
"""

from __future__ import annotations

import logging
import mimetypes
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from ..errors import SourceError

if TYPE_CHECKING:
    from .client import WordPressClient

log = logging.getLogger(__name__)

IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


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
    if re.match(r"^https?://", source, re.I):
        resp = client.http.get_public(source)
        if not resp.ok:
            raise SourceError(f"image {source}: HTTP {resp.status_code}; give another image "
                              "or none", reason=f"http_{resp.status_code}")
        ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
        name = Path(unquote(urlsplit(source).path)).name
        return resp.content, _filename(name, ctype), _image_type(ctype, name, source)
    path = Path(source).expanduser()
    if not path.is_file():
        raise SourceError(f"image {source}: no such file; check the path", reason="no_image")
    ctype = mimetypes.guess_type(path.name)[0] or ""
    return path.read_bytes(), _filename(path.name, ctype), _image_type(ctype, path.name, source)


def _image_type(ctype: str, name: str, source: str) -> str:
    ctype = ctype if ctype in IMAGE_TYPES else (mimetypes.guess_type(name)[0] or "")
    if ctype not in IMAGE_TYPES:
        raise SourceError(f"image {source}: not a JPEG, PNG, GIF or WebP image ({ctype or '?'}); "
                          "give another image", reason="bad_image")
    return ctype


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
