"""XML-RPC fallback (``WP_TRANSPORT=xmlrpc``) for sites whose REST API is disabled.

Needs the optional ``python-wordpress-xmlrpc`` package (``pip install 'publisher[xmlrpc]'``).
The library has no timeout of its own, so its requests go through ``publisher.net.Http`` via a
small xmlrpc transport: same timeouts, logging and (no) retries for writes as the REST client.

What differs from REST: tags travel by name (``terms_names``) and WordPress creates the missing
ones, but only for users allowed to (an Author is not: the post is then retried with the
existing tags only, and a warning); meta travel as custom fields; there is no lookup by source
hash, so a second run makes a second draft.
"""

from __future__ import annotations

import collections
import collections.abc
import logging
import xmlrpc.client
from datetime import datetime, timezone
from xml.parsers.expat import ExpatError

from ..config import Settings
from ..errors import (AuthError, ConfigError, ForbiddenError, NetworkError, NotWordPressError,
                      WordPressError)
from ..models import Draft, PostResult
from ..net import Http, redact
from ..redaction import scrub
from .api import RestApi
from .client import PLUGIN_MISSING, SEO_KEYS, ai_record, choose_status
from .port import Check, Unsupported
from .terms import normalize

log = logging.getLogger(__name__)

INSTALL = "pip install 'publisher[xmlrpc]'"


def _library():
    """Import python-wordpress-xmlrpc, patched for Python 3.10+ (collections.Iterable)."""
    if not hasattr(collections, "Iterable"):
        collections.Iterable = collections.abc.Iterable      # type: ignore[attr-defined]
    try:
        import wordpress_xmlrpc
        from wordpress_xmlrpc.methods import posts, taxonomies, users
    except ImportError:
        raise ConfigError("WP_TRANSPORT=xmlrpc needs the python-wordpress-xmlrpc package: "
                          f"{INSTALL} (or use WP_TRANSPORT=rest)") from None
    return wordpress_xmlrpc, posts, taxonomies, users


class _HttpTransport(xmlrpc.client.Transport):
    """xmlrpc.client transport that sends through publisher's Http (timeouts, logs)."""

    def __init__(self, http: Http, url: str):
        super().__init__()
        self._http, self._url = http, url

    def request(self, host, handler, request_body, verbose=False):
        # The password travels in the body: a redirect (a 307 resends it) is never followed.
        resp = self._http.request("POST", self._url, data=request_body, retry=False,
                                  headers={"Content-Type": "text/xml"}, allow_redirects=False)
        if resp.is_redirect:
            raise ConfigError(f"{redact(self._url)} redirects XML-RPC to "
                              f"{redact(resp.headers.get('Location', '?'))}: set WP_URL to the "
                              "address the site really uses")
        if resp.status_code != 200:
            raise xmlrpc.client.ProtocolError(redact(self._url), resp.status_code,
                                              resp.reason or "", {})
        parser, unmarshaller = self.getparser()
        parser.feed(resp.content)
        parser.close()
        return unmarshaller.close()


class XmlRpcClient:
    """The WordPress client (wordpress.port.WordPressPort) over XML-RPC."""

    transport = "xmlrpc"

    def __init__(self, settings: Settings, http: Http | None = None):
        self.settings = settings
        self.http = http or Http(timeout=settings.http_timeout,
                                 allow_private=settings.allow_private_urls)
        self.url = RestApi(settings, self.http).site_url + "xmlrpc.php"
        self.warnings: list[str] = []
        self._lib = _library()
        self._client = None
        self._authors: dict[str, int | None] = {}     # login → user id, from author_id()

    # --- plumbing ---------------------------------------------------------------------------

    @property
    def client(self):
        if self._client is None:
            user, password = RestApi(self.settings, self.http).credentials(self.url)
            wordpress_xmlrpc = self._lib[0]
            try:
                self._client = wordpress_xmlrpc.Client(
                    self.url, user, password, transport=_HttpTransport(self.http, self.url))
            except Exception as exc:
                raise self._translate(exc, "connecting to XML-RPC") from None
        return self._client

    def call(self, method, what: str):
        try:
            return self.client.call(method)
        except Exception as exc:
            raise self._translate(exc, what) from None

    def _translate(self, exc: Exception, what: str) -> Exception:
        from wordpress_xmlrpc.exceptions import (InvalidCredentialsError, ServerConnectionError,
                                                 XmlrpcDisabledError)
        where = redact(self.url)
        if isinstance(exc, (NetworkError, WordPressError, ConfigError)):
            return exc
        if isinstance(exc, InvalidCredentialsError):
            return AuthError(f"{what}: XML-RPC refused user {self.settings.wp_username!r} (fault "
                             "403): check WP_USERNAME and WP_APP_PASSWORD", url=where, status=403,
                             code="incorrect_password")
        if isinstance(exc, XmlrpcDisabledError):
            return NotWordPressError(f"{what}: XML-RPC is disabled on {where}: use "
                                     "WP_TRANSPORT=rest", url=where, code="xmlrpc_disabled")
        if isinstance(exc, xmlrpc.client.Fault):
            cls = ForbiddenError if exc.faultCode == 401 else WordPressError
            said = " ".join(scrub(str(exc.faultString)).split())   # it may echo the password
            return cls(f"{what}: XML-RPC fault {exc.faultCode} ({said}); "
                       "use an account with the Editor role if this is about permissions",
                       url=where, status=exc.faultCode, code=f"fault_{exc.faultCode}")
        if isinstance(exc, (ServerConnectionError, xmlrpc.client.ProtocolError, ExpatError)):
            return NotWordPressError(f"{what}: no WordPress XML-RPC endpoint at {where} "
                                     f"({scrub(str(exc))}); "
                                     "check WP_URL", url=where)
        return WordPressError(f"{what}: {type(exc).__name__}: {scrub(str(exc))}", url=where)

    # --- the client surface -----------------------------------------------------------------

    def check_auth(self) -> dict:
        """The current user; wp.getPosts refuses (fault 401) users without edit_posts."""
        users, posts = self._lib[3], self._lib[1]
        profile = self.call(users.GetProfile(), "WordPress login check")
        try:
            self.call(posts.GetPosts({"number": 1, "fields": "post_id"}), "checking edit_posts")
        except ForbiddenError as err:
            raise ForbiddenError(f"WordPress user {self.settings.wp_username!r} cannot create "
                                 "posts: give it the Author or Editor role", status=err.status,
                                 code="rest_cannot_create") from None
        user = {"id": int(profile.id), "username": profile.username,
                "roles": list(profile.roles or [])}
        if "administrator" in user["roles"]:
            message = (f"WordPress user {profile.username!r} is an administrator: use a "
                       "least-privilege account (Author, or Editor to create categories)")
            self.warnings.append(message)
            log.warning("%s", message)
        return user

    def get_post(self, post_id: int) -> dict:
        post = self.call(self._lib[1].GetPost(int(post_id)), f"reading post {post_id}")
        return {"id": int(post.id), "status": post.post_status, "slug": post.slug or "",
                "link": getattr(post, "link", ""), "title": post.title,
                "meta": {f["key"]: f["value"] for f in (post.custom_fields or [])}}

    def supports_hash_lookup(self) -> bool:
        return False                   # XML-RPC cannot query posts by meta

    def find_by_source_hash(self, source_hash: str) -> dict | None:
        return None                    # see supports_hash_lookup: callers use their records

    @property
    def site_url(self) -> str:
        return self.url[: -len("xmlrpc.php")]

    def category_names(self) -> list[str]:
        return sorted(self._terms("category").values())

    def search_published(self, search: str, fields: str, per_page: int = 20) -> list[dict]:
        raise Unsupported("the XML-RPC transport cannot search the site's published posts "
                          "(related posts, keyphrases in use): use WP_TRANSPORT=rest",
                          url=redact(self.url))

    def edit_link(self, post_id: int) -> str:
        return f"{self.site_url}wp-admin/post.php?post={int(post_id)}&action=edit"

    def upload_media(self, path_or_url: str, alt: str = "", credit: str = "") -> int:
        raise Unsupported("the XML-RPC transport does not upload media: add the image in "
                          "WordPress or use WP_TRANSPORT=rest", url=redact(self.url))

    def author_id(self, login: str) -> int | None:
        """wp.getAuthors lists the users who can write (any account that may edit posts)."""
        if login not in self._authors:
            authors = self.call(self._lib[3].GetAuthors(), "finding the author")
            found = [int(a.id) for a in authors if a.user_login == login]
            self._authors[login] = found[0] if found else None
        return self._authors[login]

    def set_author(self, post_id: int, author_id: int) -> None:
        post = self._lib[0].WordPressPost()
        post.user = int(author_id)      # only post_author is sent: nothing else changes
        self.call(self._lib[1].EditPost(int(post_id), post),
                  f"filing post {post_id} under user {author_id}")

    def diagnose(self) -> list[Check]:
        """``publisher doctor`` over XML-RPC: the endpoint answers, the login works, and what
        this transport cannot do (find a post by source hash, check the companion plugin)."""
        user = self.check_auth()
        roles = ", ".join(user["roles"]) or "no role"
        return [
            Check("wordpress", "ok", f"XML-RPC at {redact(self.url)}"),
            Check("wordpress login", "warn" if self.warnings else "ok",
                  f"{user['username']} ({roles}) can create posts", "; ".join(self.warnings)),
            Check("source-hash lookup", "warn", "XML-RPC cannot find a post by its source hash: "
                  "a second draft is avoided only through publisher's own records (PUBLISHER_DB)",
                  "use WP_TRANSPORT=rest with the companion plugin if the REST API is available"),
            Check("companion plugin", "skip", "cannot be checked over XML-RPC: each post's SEO "
                  "meta are read back and a missing one is reported"),
        ]

    def create_post(self, draft: Draft, *, status: str | None = None,
                    existing: dict | None = None, looked_up: bool = False) -> PostResult:
        # ``existing``/``looked_up``: the REST client's signature; XML-RPC has no lookup.
        warnings: list[str] = []
        post = self._post_object(draft, choose_status(draft, status), warnings)
        posts = self._lib[1]
        try:
            post_id = self.call(posts.NewPost(post), f"creating the post {draft.title[:60]!r}")
        except ForbiddenError as err:
            if not draft.tags:
                raise
            post.terms_names = self._existing_only(post.terms_names, "post_tag", warnings, err)
            post_id = self.call(posts.NewPost(post), f"creating the post {draft.title[:60]!r}")
        return self._result(int(post_id), draft, post, warnings)

    def update_post(self, post_id: int, draft: Draft, *, status: str | None = None) -> PostResult:
        warnings: list[str] = []
        post = self._post_object(draft, choose_status(draft, status) if status else None,
                                 warnings)
        post.custom_fields = self._with_ids(post_id, post.custom_fields)
        self.call(self._lib[1].EditPost(int(post_id), post), f"updating post {post_id}")
        return self._result(int(post_id), draft, post, warnings)

    # --- helpers ----------------------------------------------------------------------------

    def _post_object(self, draft: Draft, status: str | None, warnings: list[str]):
        post = self._lib[0].WordPressPost()
        post.title, post.content = draft.title, draft.content
        if draft.excerpt:
            post.excerpt = draft.excerpt
        if draft.slug:
            post.slug = draft.slug
        if status:
            post.post_status = status
        if status == "future":
            post.date = _utc(draft.date)
        names = {"post_tag": list(dict.fromkeys(draft.tags))}
        if draft.categories:
            names["category"] = self._existing_categories(draft.categories, warnings)
        post.terms_names = {k: v for k, v in names.items() if v}
        meta = {**draft.meta, **({"publisher_source_url": draft.source_url} if draft.source_url
                                  else {}),
                **({"publisher_source_hash": draft.source_hash} if draft.source_hash else {})}
        meta["publisher_ai"] = ai_record(meta.get("publisher_ai", ""), self.settings)  # as REST
        post.custom_fields = [{"key": k, "value": v} for k, v in meta.items()]
        if draft.image:
            warnings.append("featured image not sent: the XML-RPC transport does not upload "
                            "media; add it in WordPress or use WP_TRANSPORT=rest")
        return post

    def _with_ids(self, post_id: int, fields: list[dict]) -> list[dict]:
        """A custom field sent without its id is *added*: the post would carry each key twice,
        and WordPress then fails (HTTP 500 rest_meta_database_error) every later REST update
        that leaves the value unchanged. Sent with its id, it is updated in place."""
        current = self.call(self._lib[1].GetPost(int(post_id)), f"reading post {post_id}")
        ids = {f["key"]: f["id"] for f in (current.custom_fields or [])}
        return [{**f, "id": ids[f["key"]]} if f["key"] in ids else f for f in fields]

    def _terms(self, taxonomy: str) -> dict[str, str]:
        terms = self.call(self._lib[2].GetTerms(taxonomy, {"hide_empty": False, "number": 1000}),
                          f"listing {taxonomy}")
        return {normalize(t.name): t.name for t in terms}

    def _existing_categories(self, names, warnings: list[str]) -> list[str]:
        known, found = self._terms("category"), []
        for name in names:
            if normalize(name) in known:
                found.append(known[normalize(name)])
            else:
                warnings.append(f"category {name!r} does not exist on the site: post filed "
                                "without it (create it in WordPress if it is wanted)")
        return found

    def _existing_only(self, names: dict, taxonomy: str, warnings: list[str], err) -> dict:
        known = self._terms(taxonomy)
        kept = [known[normalize(n)] for n in names.get(taxonomy, []) if normalize(n) in known]
        missing = [n for n in names.get(taxonomy, []) if normalize(n) not in known]
        warnings.append(f"this user may not create tags over XML-RPC ({err.code}): "
                        f"not attached: {', '.join(missing)}")
        return {**names, taxonomy: kept} if kept else {k: v for k, v in names.items()
                                                       if k != taxonomy}

    def _result(self, post_id: int, draft: Draft, sent, warnings: list[str]) -> PostResult:
        stored = self.get_post(post_id)
        missing = [f["key"] for f in sent.custom_fields
                   if " ".join(str(stored["meta"].get(f["key"], "")).split())
                   != " ".join(str(f["value"]).split())]
        if any(k in SEO_KEYS for k in missing):
            warnings.append(PLUGIN_MISSING)
        warnings += [f"meta {k} was not stored by WordPress" for k in missing]
        if draft.slug and stored["slug"] and stored["slug"] != draft.slug:
            warnings.append(f"slug {draft.slug!r} is taken: WordPress renamed it "
                            f"{stored['slug']!r}")
        site = self.site_url
        return PostResult(id=post_id, status=stored["status"], slug=stored["slug"],
                          link=stored["link"] or f"{site}?p={post_id}",
                          edit_link=self.edit_link(post_id),
                          requested_slug=draft.slug, warnings=tuple(dict.fromkeys(warnings)))


def _utc(date: str) -> datetime:
    try:
        when = datetime.fromisoformat((date or "").replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"publication date {date!r} is not ISO 8601 "
                          "(e.g. 2025-06-01T08:00:00+02:00)") from None
    when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    if when <= datetime.now(timezone.utc):
        raise ConfigError(f"publication date {date} is not in the future: WordPress would "
                          "publish at once; give a later date or use status draft")
    return when.astimezone(timezone.utc).replace(tzinfo=None)
