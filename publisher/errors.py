"""Every error publisher raises, and what to do about it.

Each message is one line that names the thing that failed (a file, a URL, a status) and says
what to do next. ``reason`` is a short stable code stored with outcomes (``http_404``,
``too_short``, ``auth_failed`` …) so skips and failures are never anonymous.

    PublisherError
    ├── ConfigError              a setting is missing or invalid            (CLI exit 2)
    ├── SourceError              an input cannot become a Source
    │   └── FetchError           a URL could not be fetched (carries url, status)
    ├── NetworkError             timeout, refused connection, DNS (carries url)
    │   └── UnsafeURLError       a URL refused by the SSRF guard
    ├── LLMError                 the model could not give a usable answer
    │   └── LLMNotConfigured     no OpenAI key and no local server configured
    ├── QualityError             the gate failed under --strict
    └── WordPressError           WordPress answered with an error (carries url, status, code)
        ├── NotWordPressError    no REST API at that URL (discovery failed)
        ├── AuthError            401: wrong password, unknown user, stripped header
        ├── ForbiddenError       403: the user lacks the capability
        ├── MetaNotSavedError    SEO meta was dropped (companion plugin missing)
        └── Unsupported          the transport cannot do this (wordpress/port.py: the
                                 declared client; the message names the one that can)

Every failure also has a *class* (``failure_class(reason)``, ``err.failure_class``), which
says what an unattended run does about it:

    config      a human must act (unknown model, 401/403, missing plugin, bad setting,
                an action the chosen transport cannot do):
                the run stops before its next story and exits 2
    transient   it may heal by itself (timeouts, 429, 5xx, connection): retried later,
                with a growing wait, up to PUBLISHER_MAX_ATTEMPTS
    content     it never will (404 page, thin source, not an article): final, abandoned
"""

from __future__ import annotations


CONFIG, TRANSIENT, CONTENT = "config", "transient", "content"

# Reasons by class; a reason not named here is transient (retried, then abandoned after
# PUBLISHER_MAX_ATTEMPTS), so an unknown failure is never retried forever nor dropped at once.
CONFIG_REASONS = frozenset({
    "config", "llm_not_configured", "llm_auth", "llm_forbidden", "llm_model_not_found",
    "llm_quota", "auth_failed", "auth_header_stripped", "forbidden", "not_wordpress",
    "meta_not_saved", "http_401", "http_403", "unsupported"})
CONTENT_REASONS = frozenset({
    "http_404", "http_410", "no_article", "no_link", "no_source", "not_html", "binary",
    "too_large", "not_french", "too_short", "under_half_length", "prompt_echo",
    "not_an_article", "llm_rejected", "llm_empty_article", "unsafe_url", "not_http",
    "already_drafted"})

# The rest, named so that every reason is declared here once (tests/test_errors.py finds each
# one the code spells): classed transient, as failure_class answers for any reason not above.
TRANSIENT_REASONS = frozenset({
    "error", "network", "timeout", "connection_failed", "dns_failed", "too_many_redirects",
    "fetch_failed", "wordpress", "llm_failed", "llm_timeout", "llm_unavailable",
    "llm_unreachable", "llm_bad_response", "llm_invalid_json", "llm_truncated", "item_timeout",
    "internal_error", "stopped", "quality"})
# What a person gave `draft` or `push` by hand (a file, a folder, an image) cannot be read:
# said at once to whoever typed it; an unattended run never meets these.
INPUT_REASONS = frozenset({
    "bad_source", "bad_dry_run", "bad_image", "no_image", "empty", "is_directory", "not_found",
    "not_regular", "unreadable"})
# Plus ``http_<status>`` (FetchError, from the status a page answered with).
REASONS = CONFIG_REASONS | CONTENT_REASONS | TRANSIENT_REASONS | INPUT_REASONS


def failure_class(reason: str) -> str:
    """``config``, ``transient`` or ``content`` for a stored failure reason."""
    if reason in CONFIG_REASONS:
        return CONFIG
    return CONTENT if reason in CONTENT_REASONS else TRANSIENT


class PublisherError(Exception):
    """Base class: ``str(err)`` is the one-line message shown to the user."""

    reason = "error"

    def __init__(self, message: str, *, reason: str | None = None):
        super().__init__(message)
        if reason:
            self.reason = reason

    @property
    def failure_class(self) -> str:
        return CONFIG if isinstance(self, ConfigError) else failure_class(self.reason)


class ConfigError(PublisherError):
    reason = "config"


class SourceError(PublisherError):
    reason = "bad_source"


class NetworkError(PublisherError):
    reason = "network"

    def __init__(self, message: str, *, url: str = "", reason: str | None = None):
        super().__init__(message, reason=reason)
        self.url = url


class FetchError(SourceError):
    reason = "fetch_failed"

    def __init__(self, message: str, *, url: str = "", status: int | None = None,
                 reason: str | None = None):
        super().__init__(message, reason=reason or (f"http_{status}" if status else None))
        self.url = url
        self.status = status


class UnsafeURLError(NetworkError):
    reason = "unsafe_url"


class LLMError(PublisherError):
    reason = "llm_failed"


class LLMNotConfigured(LLMError, ConfigError):
    reason = "llm_not_configured"


class QualityError(PublisherError):
    reason = "quality"


class WordPressError(PublisherError):
    reason = "wordpress"

    def __init__(self, message: str, *, url: str = "", status: int | None = None,
                 code: str = "", reason: str | None = None):
        super().__init__(message, reason=reason)
        self.url = url
        self.status = status
        self.code = code


class NotWordPressError(WordPressError):
    reason = "not_wordpress"


class AuthError(WordPressError):
    reason = "auth_failed"


class ForbiddenError(WordPressError):
    reason = "forbidden"


class MetaNotSavedError(WordPressError):
    reason = "meta_not_saved"
