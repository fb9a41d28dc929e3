"""Load sources: a file, stdin (``-``), an http(s) URL, or several at once.

Each becomes a cleaned ``Source`` plus the editor's ``Brief`` if one was written at its top.
Several sources about one story give one article that uses them all, so ``load_sources``
merges their briefs (the first one wins) and drops exact duplicates.

A brief is read only from the editor's own text (a file or stdin). A fetched page never
carries one: whoever wrote the page is not the editor, so a "rewrite this…" line on a web page
stays article text for the cleaner to judge.

Bad input fails early with one clear error each (``SourceError.reason`` in brackets):
missing file [not_found], directory [is_directory], device, FIFO or socket [not_regular],
empty [empty], binary [binary] (UTF-8, UTF-16/32 and Windows-1252 are text), over 2 MB
[too_large], nothing left once cleaned [no_article], a URL that answers 404 [http_404], that
can't be reached (``NetworkError``), or that is not a web page [not_html].
"""

from __future__ import annotations

import codecs
import logging
import os
import re
import stat
import sys
from dataclasses import replace
from pathlib import Path
from typing import IO

from ..errors import SourceError
from ..models import Brief, Source
from ..net import Http
from . import web
from .brief import split_brief
from .cap import DEFAULT_MAX_CHARS, cap_source
from .clean import clean

log = logging.getLogger(__name__)

MAX_BYTES = 2 * 1024 * 1024
DEFAULT_WORDS = 700
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_HTML_START = re.compile(r"^\s*(?:<!doctype html|<html\b)", re.IGNORECASE)


def load_source(spec: str, *, http: Http | None = None, settings=None,
                stdin: IO | None = None) -> tuple[Source, Brief | None]:
    """One source from a file path, "-" (stdin) or an http(s) URL, and its brief if any;
    its text cut to PUBLISHER_MAX_SOURCE_CHARS (sources/cap.py)."""
    source, brief = _load_one(spec, http=http, settings=settings, stdin=stdin)
    limit = getattr(settings, "max_source_chars", 0) or DEFAULT_MAX_CHARS
    return cap_source(source, limit), brief


def _load_one(spec: str, *, http: Http | None, settings,
              stdin: IO | None) -> tuple[Source, Brief | None]:
    words = _default_words(settings)
    if not spec.strip():
        raise SourceError("empty source name: pass a file, - for stdin, or an http(s) URL",
                          reason="no_source")
    if spec == "-":
        return source_from_text(_read_stdin(stdin), origin="-", default_words=words)
    if _URL.match(spec):
        if not spec.lower().startswith(("http://", "https://")):
            raise SourceError(f"{spec}: only http(s) addresses can be fetched; download the "
                              "article and give the file instead", reason="not_http")
        return _load_url(spec, http or _http(settings)), None
    return _load_file(Path(spec), origin=spec, default_words=words)


def load_sources(specs: list[str], *, http: Http | None = None, settings=None,
                 stdin: IO | None = None) -> tuple[list[Source], Brief]:
    """Several sources for one story: identical ones once, the first brief found."""
    if not specs:
        raise SourceError("no source given: pass a file, - for stdin, or an http(s) URL",
                          reason="no_source")
    http = http or _http(settings)
    sources: list[Source] = []
    brief: Brief | None = None
    for spec in dict.fromkeys(specs):               # the same spec twice is read once
        source, found = load_source(spec, http=http, settings=settings, stdin=stdin)
        if any(s.content_hash == source.content_hash for s in sources):
            log.info("%s: same text as an earlier source, skipped", spec)
            continue
        sources.append(source)
        brief = brief or found
    return sources, brief or Brief(min_words=_default_words(settings))


def source_from_text(raw: str, *, origin: str = "", url: str = "",
                     default_words: int = DEFAULT_WORDS) -> tuple[Source, Brief | None]:
    """Pasted text (or a page saved as HTML) → (cleaned Source, brief at its top or None)."""
    where = origin or "the text"
    if not raw.strip():
        raise SourceError(f"{where} is empty; give it an article's text", reason="empty")
    if _HTML_START.match(raw):                  # a page saved from the browser
        return _with_origin(web.extract(raw, url), origin or url), None
    brief, rest = split_brief(raw, default_words=default_words)
    cleaned = clean(rest)
    if not cleaned.text:
        raise SourceError(f"{where} has no article text (only a brief or page furniture); "
                          "paste the article itself below the instruction", reason="no_article")
    return Source(text=cleaned.text, title=cleaned.title, url=url, site_name=cleaned.site_name,
                  author=cleaned.author, date=cleaned.date, origin=origin,
                  removed=cleaned.removed), brief


# --- the three kinds of spec --------------------------------------------------------------

def _load_file(path: Path, *, origin: str, default_words: int) -> tuple[Source, Brief | None]:
    return source_from_text(decode(read_regular_file(path), str(path)), origin=origin,
                            default_words=default_words)


def read_regular_file(path: Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file, at most ``limit``: a device (/dev/zero), a FIFO or a socket
    is refused before it is read, since reading one never ends or never starts."""
    if not path.exists():
        raise SourceError(f"{path}: no such file; check the path (or give a URL, or - for stdin)",
                          reason="not_found")
    if path.is_dir():
        raise SourceError(f"{path} is a directory; give the article's file inside it",
                          reason="is_directory")
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then decides.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise SourceError(f"{path}: cannot read it ({exc.strerror}); check its permissions",
                          reason="unreadable") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise SourceError(f"{path} is not a regular file (a device, pipe or socket); save "
                              "the article into a file, or pipe it with - for stdin",
                              reason="not_regular")
        if info.st_size > limit:
            raise SourceError(f"{path} is {info.st_size // 1024} KB, over the "
                              f"{limit // (1024 * 1024)} MB limit for one article; is it really "
                              "an article?", reason="too_large")
        data = handle.read(limit + 1)            # a file that grows while read stays bounded
    if len(data) > limit:
        raise SourceError(f"{path} grew over the {limit // (1024 * 1024)} MB limit while it was "
                          "read; give a finished file", reason="too_large")
    return data


def _read_stdin(stdin: IO | None) -> str:
    stream = stdin if stdin is not None else sys.stdin
    raw = getattr(stream, "buffer", stream).read(MAX_BYTES + 1)
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    if len(raw) > MAX_BYTES:
        raise SourceError("stdin: over the 2 MB limit for one article; is it really an article?",
                          reason="too_large")
    return decode(raw, "stdin")


def _load_url(url: str, http: Http) -> Source:
    final, media, body = web.download(url, http=http)
    if media in web.TEXT_TYPES:
        source, _ = source_from_text(body, origin=url, url=final)
        return source
    return _with_origin(web.extract(body, final), url)


# --- helpers ------------------------------------------------------------------------------

def decode(data: bytes, where: str) -> str:
    """Text in UTF-8 or UTF-16/32 (with BOM), UTF-16 without BOM, or Windows-1252/Latin-1 when
    it is clearly text; anything else is binary."""
    if not data.strip():
        raise SourceError(f"{where} is empty; give it an article's text", reason="empty")
    for encoding in _encodings(data):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text.lstrip("\ufeff")):
            if encoding not in ("utf-8-sig",):
                log.info("%s is not UTF-8; read it as %s", where, encoding)
            return text.lstrip("\ufeff")
    raise SourceError(f"{where} is not readable text (binary or unknown encoding); save the "
                      "article as plain text in UTF-8", reason="binary")


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _encodings(data: bytes) -> tuple[str, ...]:
    """The encodings worth trying, most likely first. A byte-order mark decides; UTF-16 without
    one shows as NUL bytes on every other position (Latin letters are 00 xx or xx 00)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return (encoding,)
    if b"\x00" not in data:
        return ("utf-8-sig", "cp1252", "latin-1")
    sample = data[:4096]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2 or 1
    if odd > 0.3 * half and even < 0.05 * half:
        return ("utf-16-le",)
    if even > 0.3 * half and odd < 0.05 * half:
        return ("utf-16-be",)
    return ()                                   # NUL bytes anywhere else: binary


def _looks_like_text(text: str) -> bool:
    """No control characters besides newlines and tabs, and mostly letters and spaces."""
    if any(ord(c) < 32 and c not in "\n\r\t\f" for c in text):
        return False
    if any(0x80 <= ord(c) < 0xA0 for c in text):     # C1 controls: a wrong guess
        return False
    letters = sum(c.isalpha() or c.isspace() for c in text)
    return letters >= 0.6 * len(text)


def _with_origin(source: Source, origin: str) -> Source:
    return replace(source, origin=origin)


def _default_words(settings) -> int:
    return getattr(settings, "min_words", DEFAULT_WORDS) or DEFAULT_WORDS


def _http(settings) -> Http:
    if settings is None:
        return Http()
    return Http(timeout=settings.http_timeout, allow_private=settings.allow_private_urls)
