"""The WordPress REST API as a transport: discovery, route URLs, credentials, error translation.

Everything here is about *talking* to WordPress; what to say (posts, terms, media) lives in
client.py, terms.py and media.py. All HTTP goes through ``publisher.net.Http``.
"""

from __future__ import annotations

import html
import logging
import re
from urllib.parse import quote, urlencode, urljoin, urlsplit, parse_qsl

import requests

from ..config import Settings
from ..errors import (AuthError, ConfigError, ForbiddenError, NetworkError, NotWordPressError,
                      WordPressError)
from ..net import Http, is_loopback_host, redact
from ..redaction import remember_settings, scrub

log = logging.getLogger(__name__)

API_REL = "https://api.w.org/"
_LINK_TAG = re.compile(r"""<link[^>]+rel=["']https://api\.w\.org/["'][^>]*>""", re.I)
_HREF = re.compile(r"""href=["']([^"']+)["']""", re.I)
_TAGS = re.compile(r"<[^>]+>")

# What to do next, by WordPress error code (the message WordPress gives says what went wrong).
HINTS = {
    "rest_cannot_create": "the WordPress user cannot create posts: give it the Author or Editor role",
    "rest_cannot_publish": "this user may not publish: ask for status draft or pending, "
                           "or use an Author/Editor account",
    "rest_cannot_edit": "this user may not edit that post: use the account that created it "
                        "or an Editor account",
    "rest_cannot_create_term": "this user may not create terms: create them in WordPress or "
                               "use an Editor account",
    "rest_cannot_update": "this user may not write that field: install the companion plugin "
                          "(wordpress-plugin/publisher-companion.php) or use an Editor account",
    "rest_upload_user_quota_exceeded": "the site's upload quota is full: free space in Media",
    "rest_upload_sideload_error": "WordPress could not store the file: check the uploads folder "
                                  "permissions and the allowed file types",
    "rest_post_invalid_id": "no post with that id: it may have been deleted",
    "rest_no_route": "the REST route is missing: the REST API may be disabled by a plugin or "
                     "the site is not WordPress",
    "rest_disabled": "the REST API is disabled on this site: re-enable it or use WP_TRANSPORT=xmlrpc",
    "rest_cannot_access": "the REST API refuses this request: a security plugin may block it",
    "rest_not_logged_in": "check WP_USERNAME and WP_APP_PASSWORD (an Application Password from "
                          "Users → Profile, not the login password)",
    "incorrect_password": "WP_APP_PASSWORD is wrong: create a new Application Password in "
                          "Users → Profile and put it in WP_APP_PASSWORD",
    "invalid_username": "WP_USERNAME is not a user of this site: check its spelling",
    "invalid_email": "WP_USERNAME is not a user of this site: check its spelling",
    "application_passwords_disabled": "Application Passwords are off: serve the site over HTTPS "
                                      "or set WP_ENVIRONMENT_TYPE to 'local' in wp-config.php",
}
STATUS_HINTS = {
    401: "check WP_USERNAME and WP_APP_PASSWORD",
    403: "the WordPress user lacks the capability: use an Author or Editor account",
    404: "check WP_URL",
    413: "the request is too large for the server: use a smaller image",
    429: "the site is rate limiting: wait and retry later",
}


def error_from(resp: requests.Response, what: str) -> WordPressError:
    """One WordPressError subclass with a one-line message: status, WordPress code, next step."""
    sent = (getattr(resp.request, "headers", None) or {}).get("Authorization", "")
    return error_from_answer(resp.status_code, json_or_none(resp), what, resp.url or "",
                             sent=str(sent or ""))


def error_from_answer(status: int, body, what: str, url: str = "", *,
                      sent: str = "") -> WordPressError:
    """``error_from`` for an answer that is not a response of its own (one item of a
    ``/batch/v1`` answer: its status and decoded body). What the server wrote is scrubbed of
    secrets (a proxy may echo the ``sent`` Authorization header or the password)."""
    code, message = _code_and_message(body)
    code, message = scrub(code, sent=sent), scrub(message, sent=sent)
    cls = _error_class(status, code)
    hint = HINTS.get(code) or STATUS_HINTS.get(status) or (
        "WordPress failed: check the site's PHP error log and retry" if status >= 500 else "")
    text = f"{what}: WordPress answered HTTP {status}"
    text += f" {code}" if code else ""
    text += f" ({message})" if message else ""
    text += f"; {hint}" if hint else ""
    # Subclasses keep their stable reason (auth_failed, forbidden…); the code is in ``.code``.
    reason = f"http_{status}" if cls is WordPressError else None
    return cls(text, url=redact(url), status=status, code=code, reason=reason)


def _code_and_message(body) -> tuple[str, str]:
    if isinstance(body, dict):
        message = html.unescape(_TAGS.sub("", str(body.get("message", "")))).strip()
        return str(body.get("code", "")), message[:300]
    return "", ""


def _error_class(status: int, code: str) -> type[WordPressError]:
    if code in ("rest_no_route", "rest_disabled") or (status == 404 and not code):
        return NotWordPressError
    if status == 401 or code in ("incorrect_password", "invalid_username",
                                 "application_passwords_disabled"):
        return AuthError
    if status == 403:
        return ForbiddenError
    return WordPressError


def json_or_none(resp: requests.Response):
    try:
        return resp.json()
    except ValueError:
        return None


class RestApi:
    """One site's REST API: the root is discovered once and cached for the client's life."""

    def __init__(self, settings: Settings, http: Http | None = None):
        self.settings = settings
        self.http = http or Http(timeout=settings.http_timeout,
                                 allow_private=settings.allow_private_urls)
        self.site_url = _site_url(settings.wp_url)
        self._root: str | None = None
        remember_settings(settings)        # what a server echoes back is scrubbed of them

    # --- discovery ----------------------------------------------------------------------

    @property
    def root(self) -> str:
        if self._root is None:
            self._root = self._discover()
            log.info("WordPress REST API root: %s", redact(self._root))
        return self._root

    def _discover(self) -> str:
        if not self.site_url:
            raise ConfigError("WP_URL is not set: give the address of the WordPress site, "
                              "e.g. WP_URL=https://example.com")
        resp = self._get_same_origin(self.site_url, "the home page")
        root = api_link(resp)
        if root:
            if not same_origin(root, self.site_url):
                raise ConfigError(
                    f"{redact(self.site_url)} announces its REST API on another address "
                    f"({redact(root)}): credentials go only to WP_URL's own scheme, host and "
                    f"port; if that is the real site, set WP_URL={origin(root)}/")
            return root
        for candidate in (self.site_url + "wp-json/", self.site_url + "?rest_route=/"):
            if self._is_api_index(candidate):
                return candidate
        raise NotWordPressError(
            f"{redact(self.site_url)} is not a WordPress site with the REST API (HTTP "
            f"{resp.status_code}, no api.w.org link, no /wp-json/): check WP_URL, or the REST "
            "API is disabled (use WP_TRANSPORT=xmlrpc)", url=redact(self.site_url),
            status=resp.status_code)

    def _get_same_origin(self, url: str, what: str, **kwargs) -> requests.Response:
        """GET following redirects only within WP_URL's origin; one elsewhere is refused:
        the site lives at another address and the credentials must not follow it there."""
        for _ in range(5):
            resp = self.http.request("GET", url, allow_redirects=False, **kwargs)
            target = urljoin(url, resp.headers.get("Location", "")) if resp.is_redirect else ""
            if not target:
                return resp
            if not same_origin(target, self.site_url):
                raise ConfigError(
                    f"{redact(url)} ({what}) redirects to another address ({redact(target)}): "
                    "credentials go only to WP_URL's own scheme, host and port; if that is "
                    f"the real site, set WP_URL={origin(target)}/")
            url = target
            kwargs.pop("params", None)        # the Location carries the query already
        raise NotWordPressError(f"{redact(url)} ({what}): too many redirects; check WP_URL",
                                url=redact(url))

    def _is_api_index(self, url: str) -> bool:
        try:
            resp = self.http.request("GET", url)
        except NetworkError:
            return False
        body = json_or_none(resp) if resp.ok else None
        return isinstance(body, dict) and "wp/v2" in (body.get("namespaces") or [])

    def url(self, route: str) -> str:
        """The URL of ``route`` (``/wp/v2/posts``) under the discovered root, pretty or plain."""
        return route_url(self.root, route)

    # --- requests -----------------------------------------------------------------------

    def send(self, method: str, route: str, *, auth: bool = True, **kwargs) -> requests.Response:
        """One request to the API; the response is returned whatever its status."""
        if auth:
            self.credentials(self.site_url)     # refuse plain http before any request goes out
        url = self.url(route)
        if not auth:
            return self.http.request(method, url, **kwargs)
        kwargs["auth"] = self.credentials(url)
        if method.upper() == "GET":           # a redirect within the site (a trailing slash)
            return self._get_same_origin(url, f"GET {route}", **kwargs)
        return self._no_redirect(method, url, route, kwargs)

    def _no_redirect(self, method: str, url: str, route: str, kwargs: dict):
        """A request carrying credentials never follows a redirect (a 307 would resend the
        body, media and passwords included): one is refused with what to set."""
        resp = self.http.request(method, url, allow_redirects=False, **kwargs)
        if resp.is_redirect:
            target = urljoin(url, resp.headers.get("Location", ""))
            raise ConfigError(
                f"WordPress redirected {method.upper()} {route} to {redact(target)}: set WP_URL "
                f"to the address the site really uses ({origin(target)}/) so that nothing "
                "is sent twice or elsewhere")
        return resp

    def call(self, method: str, route: str, *, what: str = "", **kwargs):
        """``send`` and return the JSON body, or raise the translated WordPressError."""
        resp = self.send(method, route, **kwargs)
        if not resp.ok:
            raise error_from(resp, what or f"{method.upper()} {route}")
        body = json_or_none(resp)
        if body is None:
            raise NotWordPressError(
                f"{what or method.upper() + ' ' + route}: the answer is not JSON (HTTP "
                f"{resp.status_code}, {resp.headers.get('Content-Type', '?')}); check WP_URL and "
                "that PHP notices are not printed (WP_DEBUG_DISPLAY false)",
                url=redact(resp.url or ""), status=resp.status_code)
        return body

    def credentials(self, url: str) -> tuple[str, str]:
        """The user and Application Password, for a request to ``url``: only ever to WP_URL's
        own origin, and not in clear text over the network."""
        self.settings.require_wordpress()
        if self.site_url and not same_origin(url, self.site_url):
            raise ConfigError(
                f"refusing to send the WordPress credentials to {redact(url)}: they go only to "
                f"WP_URL's own scheme, host and port ({origin(self.site_url)}); fix WP_URL")
        parts = urlsplit(url)
        if (parts.scheme != "https" and not is_loopback_host(parts.hostname or "")
                and not self.settings.wp_allow_insecure_http):
            raise ConfigError(
                f"{redact(url)} is plain http: the Application Password would travel in clear "
                "text; use an https:// WP_URL (or set WP_ALLOW_INSECURE_HTTP=1 on a trusted "
                "network)")
        return (self.settings.wp_username, self.settings.wp_app_password)


def _site_url(url: str) -> str:
    """The site's front URL with a trailing slash; tolerate a pasted wp-admin or wp-json URL."""
    url = (url or "").strip()
    if not url:
        return ""
    if "://" not in url:
        url = "https://" + url
    url = re.sub(r"/(wp-admin|wp-json|wp-login\.php|xmlrpc\.php).*$", "/", url.split("?")[0])
    return url.rstrip("/") + "/"


def origin(url: str) -> str:
    """scheme://host[:port] of ``url``, the port only when it is not the scheme's default."""
    scheme, host, port = _origin_parts(url)
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + ("" if port == _DEFAULT_PORTS.get(scheme) else f":{port}")


def same_origin(url: str, other: str) -> bool:
    return _origin_parts(url) == _origin_parts(other)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_parts(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").rstrip("."), port or _DEFAULT_PORTS.get(scheme)


def api_link(resp: requests.Response) -> str:
    """The REST root announced by a WordPress page: Link header first, then the HTML tag."""
    link = resp.links.get(API_REL, {}).get("url")
    if link:
        return urljoin(resp.url, link)
    if "html" in resp.headers.get("Content-Type", ""):
        tag = _LINK_TAG.search(resp.text[:200_000])
        href = _HREF.search(tag.group(0)) if tag else None
        if href:
            return urljoin(resp.url, html.unescape(href.group(1)))
    return ""


def route_url(root: str, route: str) -> str:
    """``root`` is ``…/wp-json/`` (pretty permalinks) or ``…/?rest_route=/`` (plain ones).

    With plain permalinks the route travels in the query string, so further parameters must be
    appended with ``&`` (requests' ``params=`` does that) and never with a second ``?``.
    """
    route = "/" + route.lstrip("/")
    parts = urlsplit(root)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key == "rest_route" for key, _ in query):
        others = [(k, v) for k, v in query if k != "rest_route"]
        qs = "rest_route=" + quote(route, safe="/-_.~")
        qs += ("&" + urlencode(others)) if others else ""
        return root.split("?", 1)[0] + "?" + qs
    return root.split("?", 1)[0].rstrip("/") + route
