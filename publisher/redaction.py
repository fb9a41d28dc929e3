"""Secrets out of every text a server sends back, before it is printed, logged or stored.

A server may echo what it was sent: an LLM proxy repeating the API key in its error body, a
WordPress (or the proxy in front of it) dumping the request's ``Authorization`` header, a
library logging the base URL with its ``user:password@``. ``scrub()`` is the one function that
removes them; it knows every secret the process was configured with (``remember()``, called
where settings are used: the CLI, the WordPress client, the LLM client) in each form it can
travel in: as is, without spaces (Application Passwords are shown with them), URL- and
JSON-escaped, and base64 alone or as the ``user:password`` of a Basic header.
"""

from __future__ import annotations

import base64
import json
import threading
from urllib.parse import quote, quote_plus, unquote, urlsplit

MASK = "***"
MIN_LENGTH = 6          # shorter "secrets" would blank ordinary words out of every message

_lock = threading.Lock()
_known: dict[str, tuple[str, ...]] = {}      # secret -> its forms, longest first


def remember(secret: str, username: str = "") -> None:
    """Add ``secret`` (and, with ``username``, its Basic-header form) to what ``scrub`` hides."""
    if not secret or len(secret) < MIN_LENGTH:
        return
    key = f"{username}\0{secret}"
    if key not in _known:
        with _lock:
            _known[key] = forms(secret, username)


def remember_settings(settings) -> None:
    """Every secret in one Settings: the Application Password, the API key, and passwords
    written into WP_URL or OPENAI_BASE_URL (``https://user:password@host``)."""
    remember(getattr(settings, "wp_app_password", ""), getattr(settings, "wp_username", ""))
    remember(getattr(settings, "openai_api_key", ""))
    for url in (getattr(settings, "wp_url", ""), getattr(settings, "openai_base_url", "")):
        user, password = userinfo(url or "")
        remember(password, user)


def userinfo(url: str) -> tuple[str, str]:
    """(user, password) written into ``url``, or empty strings."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "", ""
    return unquote(parts.username or ""), unquote(parts.password or "")


def forms(secret: str, username: str = "") -> tuple[str, ...]:
    """Each way ``secret`` may come back in a text, longest first (so a Basic header is
    masked whole rather than leaving half of it)."""
    plain = {secret, secret.replace(" ", "")}
    found = set(plain)
    for value in plain:
        found |= {quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1],
                  json.dumps(value)[1:-1].replace("/", "\\/"), _b64(value)}
        if username:
            found |= {_b64(f"{username}:{value}"), f"{quote(username)}:{quote(value, safe='')}"}
    return tuple(sorted((f for f in found if len(f) >= MIN_LENGTH), key=len, reverse=True))


def header_forms(authorization: str) -> tuple[str, ...]:
    """The forms of what an ``Authorization`` header carried (Basic or Bearer)."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() == "bearer":
        return forms(value.strip())
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return forms(value.strip())
        return forms(value.strip()) + forms(password, user)
    return ()


def scrub(text: str, *, sent: str = "") -> str:
    """``text`` with every remembered secret (and what the ``sent`` Authorization header
    carried) replaced by ``***``."""
    if not text:
        return text
    extra = header_forms(sent) if sent else ()
    for value in (*extra, *_all_forms()):
        if value in text:
            text = text.replace(value, MASK)
    return text


def scrub_response(resp, text: str) -> str:
    """``scrub`` for a text read from ``resp`` (requests or httpx): the Authorization header
    of the request that got it is hidden too, remembered or not."""
    try:
        request = getattr(resp, "request", None)
    except RuntimeError:                  # an httpx.Response built without its request
        request = None
    headers = getattr(request, "headers", None) or {}
    return scrub(text, sent=str(headers.get("Authorization", "") or ""))


def _all_forms() -> list[str]:
    with _lock:
        values = [f for group in _known.values() for f in group]
    return sorted(set(values), key=len, reverse=True)


def _b64(value: str) -> str:
    return base64.b64encode(value.encode("utf-8")).decode("ascii")
