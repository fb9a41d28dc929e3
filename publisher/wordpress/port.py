"""What every WordPress transport offers the rest of publisher: the declared client.

The REST client (client.py) and the XML-RPC client (xmlrpc.py) both implement
:class:`WordPressPort`. Callers use these methods and nothing else: no probing with
``getattr``/``hasattr``. What a transport cannot do is said explicitly: a query method answers
with its honest "no" (``supports_hash_lookup() is False``, ``find_by_source_hash() is None``),
an action raises :class:`Unsupported` (reason ``unsupported``) whose message says which
transport can.

    client = open_client(settings)             # WordPressPort
    client.check_auth()                        # the user, or AuthError / ForbiddenError
    client.category_names()                    # the site's categories, for the writer
    post = client.create_post(draft)           # PostResult
    client.set_author(post.id, client.author_id("redaction"))
    client.diagnose()                          # [Check]: what `publisher doctor` shows
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ..errors import WordPressError
from ..models import Draft, PostResult


class Unsupported(WordPressError):
    """The transport cannot do this at all (not a failure of the site): the message says which
    transport can."""

    reason = "unsupported"


@dataclass(frozen=True)
class Check:
    """One line of ``publisher doctor`` about the site (doctor.py shows it with its fix)."""

    name: str
    status: str            # ok | warn | fail | skip
    detail: str
    fix: str = ""


@runtime_checkable
class WordPressPort(Protocol):
    """One WordPress site, over whichever transport ``WP_TRANSPORT`` names."""

    transport: str                 # "rest" | "xmlrpc"
    warnings: list[str]            # from check_auth(): e.g. an administrator account
    site_url: str                  # the site's front URL, with a trailing slash

    def check_auth(self) -> dict:
        """The current user (id, username, roles); AuthError/ForbiddenError with the fix."""
        ...

    def category_names(self) -> list[str]:
        """The site's categories, for the writer to choose among."""
        ...

    def supports_hash_lookup(self) -> bool:
        """Whether WordPress itself can find the post made from a source hash."""
        ...

    def find_by_source_hash(self, source_hash: str) -> dict | None:
        """The post carrying ``source_hash``; None when there is none or it cannot be asked."""
        ...

    def get_post(self, post_id: int) -> dict:
        ...

    def search_published(self, search: str, fields: str, per_page: int = 20) -> list[dict]:
        """Published posts matching ``search``, most relevant first (Unsupported over
        XML-RPC)."""
        ...

    def edit_link(self, post_id: int) -> str:
        ...

    def create_post(self, draft: Draft, *, status: str | None = None,
                    existing: dict | None = None, looked_up: bool = False) -> PostResult:
        ...

    def update_post(self, post_id: int, draft: Draft, *,
                    status: str | None = None) -> PostResult:
        ...

    def upload_media(self, path_or_url: str, alt: str = "", credit: str = "") -> int:
        """The media id of an uploaded image (Unsupported over XML-RPC)."""
        ...

    def author_id(self, login: str) -> int | None:
        """The id of the user ``login`` among those who can write; None if there is none."""
        ...

    def set_author(self, post_id: int, author_id: int) -> None:
        """File the post under another user (needs an Editor account)."""
        ...

    def diagnose(self) -> list[Check]:
        """``publisher doctor``: endpoint found, login works, least privilege, plugin."""
        ...
