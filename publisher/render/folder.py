"""A dry-run folder read back for ``publisher push``: input from outside, checked like any other.

The folder may have been edited by hand, copied from another machine or tampered with, so:

- ``payload.json`` and ``content.html`` are read only as regular files inside the folder, never
  through a symbolic link (a link to ``.env`` would send the secrets as the post body), and
  with a size cap;
- ``payload.json`` must match the schema below: known fields only, each of its type (one line
  names the first wrong field and what it should be; ``"tags": "OTAN Ukraine"`` is refused,
  not turned into one tag per character);
- ``status`` and ``date`` are never taken from the folder: like ``draft``, a push makes a draft
  unless ``--status``/``--date`` ask otherwise (a folder saying ``future`` or ``pending`` gets a
  warning, not a scheduled post);
- every text field is cleaned as ``draft`` cleans the model's: plain text without markup or
  control characters, the slug re-made, meta limited to publisher's and the SEO plugins' keys
  (the editor's review record ``publisher_review`` can only be written in WordPress);
- the featured image, when it is a local file, must be a regular file (no link); its content
  is checked when it is uploaded (``wordpress/media.py`` reads the magic bytes, not the name).
"""

from __future__ import annotations

import html
import json
import os
import re
import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

from slugify import slugify

from ..errors import PublisherError
from ..models import Draft
from ..textsafe import safe_line, safe_text
from . import sanitize

FORMAT = "publisher-draft/1"
CONTENT_HASH = "content_html_sha256"  # content.html as written: tells an edit of it apart
MAX_PAYLOAD = 8 * 1024 * 1024       # the payload holds the content and the report
MAX_CONTENT = 4 * 1024 * 1024

_TEXT = ("title", "content", "excerpt", "slug", "status", "date", "image", "image_alt",
         "image_credit", "source_url", "source_hash", "format", CONTENT_HASH)
_NAMES = ("tags", "categories", "warnings")
SCHEMA: dict[str, type | tuple[type, ...]] = {
    **{key: str for key in _TEXT}, **{key: list for key in _NAMES},
    "meta": dict, "word_count": int, "seo": dict, "report": dict,
}
_META_KEY = re.compile(r"^(?:_yoast_wpseo_|rank_math_|publisher_)[a-z0-9_]{1,60}$")
_FORBIDDEN_META = ("publisher_review",)      # written by the editor in WordPress only
_HASH = re.compile(r"^[0-9a-f]{8,128}$")
_LIMITS = {"title": 300, "excerpt": 1000, "image_alt": 300, "image_credit": 300}


def bad_folder(path: Path, message: str) -> PublisherError:
    return PublisherError(f"{path}: {message}; run `publisher draft … --dry-run` again or fix "
                          "the file", reason="bad_dry_run")


def read_file(folder: Path, name: str, limit: int) -> str | None:
    """``folder/name`` as UTF-8 text, or None when absent. Refused: a symbolic link, anything
    but a regular file, more than ``limit`` bytes."""
    path = folder / name
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        reason = "is a symbolic link" if os.path.islink(path) else f"cannot be read ({exc.strerror})"
        raise bad_folder(path, f"{reason}: a push reads only the folder's own files") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise bad_folder(path, "is not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise bad_folder(path, f"is over {limit // (1024 * 1024)} MB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_folder(path, "is not UTF-8 text") from None


def load_payload(folder: Path) -> dict[str, Any]:
    path = folder / "payload.json"
    text = read_file(folder, "payload.json", MAX_PAYLOAD)
    if text is None:
        raise bad_folder(path, "no such file: is this a dry-run folder?")
    try:
        payload = json.loads(text)
    except ValueError as err:
        raise bad_folder(path, f"is not valid JSON ({err})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise bad_folder(path, f"is not a {FORMAT} payload")
    check_schema(payload, path)
    return payload


def check_schema(payload: dict[str, Any], path: Path) -> None:
    """Known fields, right types: the first wrong one is named, with what it should be."""
    for key, value in payload.items():
        expected = SCHEMA.get(key)
        if expected is None:
            raise bad_folder(path, f"unknown field {key!r} (allowed: {', '.join(SCHEMA)})")
        if not isinstance(value, expected) or isinstance(value, bool):
            raise bad_folder(path, f"field {key!r} must be {_kind(expected)}, not "
                                   f"{type(value).__name__}")
        if key in _NAMES and not all(isinstance(item, str) for item in value):
            raise bad_folder(path, f"field {key!r} must be a list of names, e.g. "
                                   '["OTAN", "Ukraine"]')
    meta = payload.get("meta") or {}
    for key, value in meta.items():
        if not _META_KEY.match(key) or key in _FORBIDDEN_META:
            raise bad_folder(path, f"meta key {key!r} is not one publisher writes")
        if not isinstance(value, str):
            raise bad_folder(path, f"meta {key!r} must be a string")


def _kind(expected) -> str:
    return {str: "a string", list: "a list", dict: "an object", int: "an integer"}[expected]


def cleaned(draft: Draft, path: Path) -> tuple[Draft, tuple[str, ...]]:
    """Every field as ``draft`` would have made it; status and date dropped (warned)."""
    notes = tuple(f"payload.json asks for {field} {value!r}: ignored, a push takes it only "
                  f"from --{field}" for field, value in (("status", draft.status),
                                                        ("date", draft.date))
                  if value and value != "draft")
    source_url = sanitize.safe_url(draft.source_url) if draft.source_url else ""
    if not sanitize.LinkPolicy(mode="any").allows(source_url):    # http(s) only
        source_url = ""
    if draft.source_hash and not _HASH.match(draft.source_hash):
        raise bad_folder(path, "field 'source_hash' is not a hash publisher wrote")
    fields = {
        **{key: _plain(getattr(draft, key), _LIMITS[key]) for key in _LIMITS},
        "slug": slugify(draft.slug, max_length=190, word_boundary=True) if draft.slug else "",
        "status": "draft", "date": "",
        "tags": _names(draft.tags), "categories": _names(draft.categories),
        "warnings": tuple(safe_line(w, 500) for w in draft.warnings),
        "meta": {key: safe_line(value, 2000) for key, value in draft.meta.items()},
        "source_url": source_url, "image": safe_text(draft.image).strip(),
    }
    return replace(draft, **fields), notes


def _plain(value: str, limit: int) -> str:
    """Text only: markup dropped (``clean_text`` escapes what it keeps: unescape once, since
    WordPress stores titles and excerpts as text), controls removed, one line, capped."""
    return safe_line(html.unescape(sanitize.clean_text(value)), limit)


def _names(values) -> tuple[str, ...]:
    names = (_plain(v, 100) for v in values)
    return tuple(dict.fromkeys(n for n in names if n))
