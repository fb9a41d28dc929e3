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
        └── MetaNotSavedError    SEO meta was dropped (companion plugin missing)
"""

from __future__ import annotations


class PublisherError(Exception):
    """Base class: ``str(err)`` is the one-line message shown to the user."""

    reason = "error"

    def __init__(self, message: str, *, reason: str | None = None):
        super().__init__(message)
        if reason:
            self.reason = reason


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
