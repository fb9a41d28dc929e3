"""WordPress REST client: auth check, posts (create, update, find by source hash), meta read-back.

Safety rules this module keeps:
- A post is created as ``draft`` unless the caller asks otherwise; ``publish`` is sent only when
  the caller passes ``status="publish"`` (``Draft.status == "publish"`` alone is not enough).
- A create is never blindly repeated: when its answer is lost (timeout, 5xx) or refused after
  WordPress already inserted the post (bad meta), the post is looked up first.
- A post found by source hash is updated only while it is unpublished; a published post is left
  as it is, with a warning.
- Meta keys the site did not register are not sent (WordPress would drop them silently); what was
  sent is compared with what WordPress stored, key by key.
"""

from __future__ import annotations

import html
import json
import logging
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from ..config import Settings
from ..errors import ConfigError, ForbiddenError, NetworkError, SourceError, WordPressError
from ..models import Draft, PostResult
from ..net import Http, redact
from ..redaction import scrub
from . import media as _media, terms as _terms
from .api import RestApi, error_from, json_or_none
from .auth import diagnose_401
from .port import Check

log = logging.getLogger(__name__)

UNVERIFIED_NOT_PUBLISHED = ("not published: it holds figures or quotations to verify; saved as "
                            "pending review, for an editor to confirm them in the publisher "
                            "panel and publish")
SEO_KEYS = ("_yoast_wpseo_title", "_yoast_wpseo_metadesc", "_yoast_wpseo_focuskw",
            "rank_math_title", "rank_math_description", "rank_math_focus_keyword")
SOURCE_KEYS = ("publisher_source_url", "publisher_source_hash", "publisher_report")
HASH_PARAM = "publisher_source_hash"
PLUGIN_MISSING = ("companion plugin missing: SEO meta would be dropped by WordPress; install "
                  "wordpress-plugin/publisher-companion.php into wp-content/mu-plugins")
STATUSES = ("draft", "pending", "future", "publish")
EDITABLE = ("draft", "pending", "auto-draft")
META_ERROR_CODES = ("rest_invalid_type", "rest_invalid_param", "rest_cannot_update",
                    "rest_meta_database_error", "rest_invalid_stored_value")
_META_KEY = re.compile(r"meta\.([A-Za-z0-9_\-]+)")


class WordPressClient:
    """One WordPress site over REST. Discovery, schema and the current user are cached."""

    transport = "rest"

    def __init__(self, settings: Settings, http: Http | None = None):
        self.settings = settings
        self.api = RestApi(settings, http)
        self.http = self.api.http
        self.warnings: list[str] = []          # from check_auth(): e.g. administrator account
        self._schema: dict | None = None
        self._me: dict | None = None
        self._index: dict | None = None
        self._category_ids: dict[str, int] = {}   # normalize(name) → id, from category_names()
        self.batch_ok = True                       # False once the site refused /batch/v1
        self._authors: dict[str, int | None] = {}  # login → user id, from author_id()

    # --- site facts (each fetched once) -------------------------------------------------

    @property
    def root(self) -> str:
        return self.api.root

    @property
    def site_url(self) -> str:
        return self.api.site_url

    def post_schema(self) -> dict:
        """``OPTIONS /wp/v2/posts``: registered meta keys and collection params."""
        if self._schema is None:
            self._schema = self.api.call("OPTIONS", "/wp/v2/posts", what="reading the posts schema")
        return self._schema

    def meta_keys(self) -> set[str]:
        meta = self.post_schema().get("schema", {}).get("properties", {}).get("meta", {})
        return set((meta.get("properties") or {}) if isinstance(meta, dict) else ())

    def plugin_present(self) -> bool:
        """The companion plugin registers the SEO keys and the source-hash query parameter."""
        return set(SEO_KEYS) <= self.meta_keys()

    def supports_hash_lookup(self) -> bool:
        for endpoint in self.post_schema().get("endpoints", []):
            if "GET" in endpoint.get("methods", []) and HASH_PARAM in (endpoint.get("args") or {}):
                return True
        return False

    def site_index(self) -> dict:
        if self._index is None:
            self._index = self.api.call("GET", "/", auth=False, what="reading the site index")
        return self._index

    def edit_link(self, post_id: int) -> str:
        return f"{self.api.site_url}wp-admin/post.php?post={post_id}&action=edit"

    # --- auth -----------------------------------------------------------------------------

    def check_auth(self) -> dict:
        """The current user (``users/me``, edit context); raises AuthError/ForbiddenError."""
        resp = self.api.send("GET", "/wp/v2/users/me", params={"context": "edit"})
        if resp.status_code == 401:
            raise diagnose_401(self.api, resp)
        if not resp.ok:
            raise error_from(resp, "WordPress login check")
        user = json_or_none(resp) or {}
        caps, roles = user.get("capabilities") or {}, user.get("roles") or []
        name = user.get("username") or self.settings.wp_username
        if not caps.get("edit_posts"):
            raise ForbiddenError(
                f"WordPress user {name!r} ({', '.join(roles) or 'no role'}) cannot create posts: "
                "give it the Author or Editor role, or use another account",
                status=403, code="rest_cannot_create")
        if "administrator" in roles:
            self._warn(f"WordPress user {name!r} is an administrator: use a least-privilege "
                       "account (Author, or Editor to create categories) for publisher")
        self._me = user
        return user

    def me(self) -> dict:
        if self._me is None:
            self.check_auth()
        return self._me or {}

    def category_names(self) -> list[str]:
        """The site's categories (first 100), for the writer to choose among."""
        terms = self.api.call("GET", "/wp/v2/categories", what="listing categories",
                              params={"per_page": 100, "_fields": "id,name", "hide_empty": "false"})
        names = [html.unescape(t.get("name", "")) for t in terms if t.get("name")]
        # The ids come with the names: the draft's category needs no second request.
        self._category_ids = {_terms.normalize(html.unescape(t["name"])): int(t["id"])
                              for t in terms if t.get("name") and t.get("id")}
        return names

    def diagnose(self) -> list[Check]:
        """``publisher doctor``: API found, login works, least privilege, plugin installed."""
        results = [Check("wordpress", "ok", f"REST API at {redact(self.root)}")]
        user = self.check_auth()
        roles = ", ".join(user.get("roles") or []) or "no role"
        results.append(Check("wordpress login", "warn" if self.warnings else "ok",
                             f"{user.get('username')} ({roles}) can create posts",
                             "; ".join(self.warnings)))
        if self.plugin_present():
            results.append(Check("companion plugin", "ok", "SEO meta and source-hash lookup "
                                                           "registered"))
        else:
            results.append(Check("companion plugin", "warn", PLUGIN_MISSING,
                                 "copy wordpress-plugin/publisher-companion.php into "
                                 "wp-content/mu-plugins/"))
        return results

    def author_id(self, login: str) -> int | None:
        """The id of ``login`` among the users who can write (asked once per login)."""
        if login not in self._authors:
            users = self.api.call("GET", "/wp/v2/users", what="finding the author", params={
                "slug": login, "who": "authors", "_fields": "id,slug"})
            found = [int(u["id"]) for u in users if u.get("slug") == login]
            self._authors[login] = found[0] if found else None
        return self._authors[login]

    def set_author(self, post_id: int, author_id: int) -> None:
        self.api.call("POST", f"/wp/v2/posts/{int(post_id)}", json={"author": int(author_id)},
                      what=f"filing post {post_id} under user {author_id}")

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)
        log.warning("%s", message)

    # --- reading posts ----------------------------------------------------------------------

    def search_published(self, search: str, fields: str, per_page: int = 20) -> list[dict]:
        """Published posts matching ``search``, most relevant first (related.py ranks them).
        View context: in edit context WordPress lists only the posts this user may edit."""
        return self.api.call("GET", "/wp/v2/posts", what="searching related posts", params={
            "search": search, "status": "publish", "orderby": "relevance",
            "per_page": per_page, "_fields": fields})

    def get_post(self, post_id: int) -> dict:
        return self.api.call("GET", f"/wp/v2/posts/{int(post_id)}", params={"context": "edit"},
                             what=f"reading post {post_id}")

    def reviews(self, post_ids) -> dict[int, dict]:
        """``publisher_review`` of each post (who confirmed its facts were verified, when), in
        one request; a post without a review is left out."""
        ids = sorted({int(i) for i in post_ids if i})[:100]
        if not ids or "publisher_review" not in self.meta_keys():
            return {}
        posts = self.api.call("GET", "/wp/v2/posts", what="reading the reviews", params={
            "include": ",".join(map(str, ids)), "status": "any", "context": "edit",
            "per_page": len(ids), "_fields": "id,meta.publisher_review"})
        found = {}
        for post in posts:
            review = parse_review((post.get("meta") or {}).get("publisher_review", ""))
            if review:
                found[int(post["id"])] = review
        return found

    def find_by_source_hash(self, source_hash: str) -> dict | None:
        """The newest post carrying ``publisher_source_hash == source_hash``, or None.

        Only asked when the site declares the query parameter: WordPress ignores unknown
        parameters and would answer with the unfiltered list.
        """
        if not source_hash or not self.supports_hash_lookup():
            return None
        posts = self.api.call("GET", "/wp/v2/posts", what="looking up the source hash", params={
            HASH_PARAM: source_hash, "context": "edit", "status": "any", "per_page": 10,
            "orderby": "date", "order": "desc"})
        for post in posts:
            if (post.get("meta") or {}).get(HASH_PARAM) == source_hash:
                return post
        return None

    # --- writing posts ----------------------------------------------------------------------

    def create_post(self, draft: Draft, *, status: str | None = None,
                    existing: dict | None = None, looked_up: bool = False) -> PostResult:
        """Create ``draft`` (or update the unpublished post made earlier from the same source).

        The post made earlier is looked up by source hash, unless the caller has just done
        that lookup itself and passes ``looked_up=True`` with its answer in ``existing`` (the
        post dict ``find_by_source_hash`` returned, or None)."""
        chosen = choose_status(draft, status)
        warnings: list[str] = []
        if draft.status == "publish" and status is None:
            warnings.append("the payload says status publish but publishing must be asked "
                            "explicitly (status='publish'): saved as a draft")
        if not looked_up:
            existing = self.find_by_source_hash(draft.source_hash) if draft.source_hash else None
        if existing:
            return self._reuse(existing, draft, status, warnings)
        payload = self._payload(draft, chosen, warnings, existing=None)
        data = self._create(payload, draft, warnings)
        return self._result(data, draft, payload, warnings)

    def update_post(self, post_id: int, draft: Draft, *, status: str | None = None) -> PostResult:
        """Replace title, content, terms and meta of ``post_id``; status changes only if asked."""
        chosen = choose_status(draft, status) if status else None
        warnings: list[str] = []
        payload = self._payload(draft, chosen, warnings, existing=None)
        data = self._post(f"/wp/v2/posts/{int(post_id)}", payload, f"updating post {post_id}")
        return self._result(data, draft, payload, warnings)

    def upload_media(self, path_or_url: str, alt: str = "", credit: str = "") -> int:
        return _media.upload_media(self, path_or_url, alt=alt, credit=credit)

    def _reuse(self, existing: dict, draft: Draft, status: str | None,
               warnings: list[str]) -> PostResult:
        post_id = existing["id"]
        if existing.get("status") not in EDITABLE:
            warnings.append(f"post {post_id} from the same source is already "
                            f"{existing.get('status')}: left unchanged")
            return self._result(existing, draft, {}, warnings, reused=True)
        chosen = choose_status(draft, status) if status else None
        payload = self._payload(draft, chosen, warnings, existing=existing)
        data = self._post(f"/wp/v2/posts/{post_id}", payload, f"updating post {post_id}")
        return self._result(data, draft, payload, warnings, reused=True)

    def _payload(self, draft: Draft, status: str | None, warnings: list[str],
                 existing: dict | None) -> dict:
        payload: dict = {"title": draft.title, "content": draft.content}
        if status:
            payload["status"] = status
            if status == "future":
                payload["date_gmt"] = self._future_date_gmt(draft.date)
        if draft.excerpt:
            payload["excerpt"] = draft.excerpt
        if draft.slug:
            payload["slug"] = draft.slug
        payload["tags"] = _terms.resolve_terms(self, "tags", draft.tags, warnings=warnings)
        if draft.categories:
            payload["categories"] = _terms.resolve_terms(self, "categories", draft.categories,
                                                         warnings=warnings,
                                                         known=self._category_ids)
        meta = self._meta(draft, warnings)
        if meta:
            payload["meta"] = meta
        unverified = meta.get("publisher_to_verify") == "1"
        if unverified and payload.get("status") in ("publish", "future"):
            # The companion refuses to publish unverified facts (a 403 that would fail the
            # story, and stop a feed run as if the site were misconfigured): ask for review.
            payload["status"] = "pending"
            payload.pop("date_gmt", None)
            warnings.append(UNVERIFIED_NOT_PUBLISHED)
        media = self._featured(draft, warnings, existing)
        if media:
            payload["featured_media"] = media
        return payload

    def _meta(self, draft: Draft, warnings: list[str]) -> dict:
        wanted = dict(draft.meta)
        if draft.source_url:
            wanted.setdefault("publisher_source_url", draft.source_url)
        if draft.source_hash:
            wanted.setdefault("publisher_source_hash", draft.source_hash)
        wanted["publisher_ai"] = ai_record(wanted.get("publisher_ai", ""), self.settings)
        if "publisher_to_verify" in wanted:   # a new text: a review of an earlier one is void
            wanted["publisher_review"] = ""
        accepted = self.meta_keys()
        dropped = sorted(k for k in wanted if k not in accepted)
        if any(k in SEO_KEYS for k in dropped) or (wanted and not self.plugin_present()):
            warnings.append(PLUGIN_MISSING)
        others = [k for k in dropped if k not in SEO_KEYS]
        if others:
            warnings.append(f"meta not registered on the site, not sent: {', '.join(others)}")
        return {k: v for k, v in wanted.items() if k in accepted}

    def _featured(self, draft: Draft, warnings: list[str], existing: dict | None) -> int:
        if not draft.image:
            return 0
        if existing and existing.get("featured_media"):
            return int(existing["featured_media"])    # don't upload the same image on each run
        try:
            return self.upload_media(draft.image, alt=draft.image_alt, credit=draft.image_credit)
        except (WordPressError, NetworkError, SourceError) as exc:
            warnings.append(f"featured image not uploaded: {exc}")   # the text matters more
            return 0

    def _future_date_gmt(self, date: str) -> str:
        """``date`` in UTC; a naive date is in the site's timezone. Must be in the future:
        WordPress publishes at once a ``future`` post whose date has passed."""
        if not date:
            raise ConfigError("status 'future' needs a publication date (Draft.date, ISO 8601)")
        try:
            when = datetime.fromisoformat(date.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"publication date {date!r} is not ISO 8601 "
                              "(e.g. 2025-06-01T08:00:00+02:00)") from None
        if when.tzinfo is None:
            offset = float(self.site_index().get("gmt_offset") or 0)
            when = when.replace(tzinfo=timezone(timedelta(hours=offset)))
        utc = when.astimezone(timezone.utc)
        if utc <= datetime.now(timezone.utc) + timedelta(minutes=1):
            raise ConfigError(f"publication date {date} is not in the future: WordPress would "
                              "publish at once; give a later date or use status draft")
        return utc.strftime("%Y-%m-%dT%H:%M:%S")

    # --- the create itself, and its failure paths ------------------------------------------

    def _post(self, route: str, payload: dict, what: str) -> dict:
        return self.api.call("POST", route, json=payload, what=what)

    def _create(self, payload: dict, draft: Draft, warnings: list[str]) -> dict:
        try:
            # No retry at all, not even on 503: a duplicate post is worse than a lookup.
            resp = self.api.send("POST", "/wp/v2/posts", json=payload, retry=False)
        except NetworkError as exc:
            return self._after_lost_create(payload, draft, warnings, exc)
        if resp.ok and isinstance(json_or_none(resp), dict):
            return resp.json()
        err = error_from(resp, f"creating the post {draft.title[:60]!r}")
        if resp.status_code >= 500 or resp.ok:      # ok here: a 2xx whose body is unreadable
            return self._after_lost_create(payload, draft, warnings, err)
        if err.code in META_ERROR_CODES and "meta" in payload and _mentions_meta(resp):
            return self._after_meta_error(payload, draft, warnings, resp, err)
        raise err

    def _after_lost_create(self, payload: dict, draft: Draft, warnings: list[str],
                           exc: Exception) -> dict:
        """The answer was lost: WordPress may have created the post. Look before retrying."""
        found = self._find_orphan(draft)
        if found:
            warnings.append(f"the create answer was lost ({exc}); found post {found['id']} "
                            "it made and updated it")
            return self._post(f"/wp/v2/posts/{found['id']}", payload, "updating the post")
        if not (draft.source_hash and self.supports_hash_lookup()):
            raise exc                 # cannot prove no post exists: do not risk a duplicate
        warnings.append(f"the create answer was lost ({exc}); no post was made, created again")
        return self.api.call("POST", "/wp/v2/posts", json=payload, retry=False,  # a 503 may
                             what=f"creating the post {draft.title[:60]!r}")   # hide a post

    def _after_meta_error(self, payload: dict, draft: Draft, warnings: list[str], resp,
                          err: WordPressError) -> dict:
        """WordPress inserts the post before it validates meta: fix that post, don't orphan it."""
        bad = _bad_meta_keys(resp) or set(payload["meta"])
        payload = {**payload, "meta": {k: v for k, v in payload["meta"].items() if k not in bad}}
        warnings.append(f"WordPress refused meta {', '.join(sorted(bad))} ({err.code}); "
                        "post saved without it")
        found = self._find_orphan(draft)
        if found:
            return self._post(f"/wp/v2/posts/{found['id']}", payload, "updating the post")
        return self.api.call("POST", "/wp/v2/posts", json=payload, retry=False,  # a 503 may
                             what=f"creating the post {draft.title[:60]!r}")   # hide a post

    def _find_orphan(self, draft: Draft) -> dict | None:
        """The post a failed create left behind: by source hash, else by title (and slug)
        among this user's unpublished posts of the last hour that carry no other story's
        hash (same-titled stories are common: never take one over)."""
        found = self.find_by_source_hash(draft.source_hash) if draft.source_hash else None
        if found:
            return found
        since = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
        posts = self.api.call("GET", "/wp/v2/posts", what="looking for the post just created",
                              params={"context": "edit", "status": "draft,pending,future",
                                      "author": self.me().get("id", 0), "search": draft.title[:80],
                                      "after": since, "per_page": 20, "orderby": "date",
                                      "order": "desc"})
        for post in posts:
            slug = post.get("slug") or post.get("generated_slug") or ""
            same_slug = not draft.slug or slug == draft.slug or slug.startswith(draft.slug + "-")
            theirs = (post.get("meta") or {}).get(HASH_PARAM)
            if (post.get("title") or {}).get("raw") == draft.title and same_slug and (
                    not theirs or theirs == draft.source_hash):
                return post
        return None

    # --- what WordPress stored ----------------------------------------------------------------

    def _result(self, data: dict, draft: Draft, payload: dict, warnings: list[str],
                reused: bool = False) -> PostResult:
        """The create/update answer is read from the database after the meta were written,
        so it serves as the read-back: no extra request."""
        stored = data.get("meta") if isinstance(data.get("meta"), dict) else {}
        for key, value in (payload.get("meta") or {}).items():
            if _squash(stored.get(key, "")) != _squash(value):
                warnings.append(f"meta {key} was not stored by WordPress")
        slug = data.get("slug") or data.get("generated_slug") or ""
        if draft.slug and payload.get("slug") and slug != draft.slug:
            warnings.append(f"slug {draft.slug!r} is taken: WordPress renamed it {slug!r}")
        if payload.get("tags") is not None and sorted(data.get("tags") or []) != sorted(payload["tags"]):
            warnings.append("some tags were not attached by WordPress")
        # Warnings quote what the server said (slugs, meta keys, error codes): shown and stored.
        warnings = [scrub(message) for message in warnings]
        for message in warnings:
            log.warning("post %s: %s", data.get("id"), message)
        return PostResult(id=int(data["id"]), status=data.get("status", ""), slug=scrub(slug),
                          link=scrub(str(data.get("link", ""))),
                          edit_link=self.edit_link(int(data["id"])),
                          requested_slug=draft.slug, warnings=tuple(dict.fromkeys(warnings)),
                          reused=reused)


def ai_record(raw: str, settings: Settings, now: datetime | None = None) -> str:
    """``publisher_ai`` as pushed: the model that wrote the draft (the settings' when the
    draft does not say), the push time in UTC and the site's disclosure line."""
    try:
        record = json.loads(raw) if raw else {}
    except ValueError:
        record = {}
    record = record if isinstance(record, dict) else {}
    when = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps({"model": record.get("model") or settings.model, "date": when,
                       "disclosure": settings.ai_disclosure}, ensure_ascii=False)


def parse_review(raw) -> dict:
    """``{"user", "name", "time"}`` from the stored JSON; {} when there is none or it is not
    readable (an editor's hand-made value)."""
    try:
        review = json.loads(raw) if isinstance(raw, str) and raw.strip() else {}
    except ValueError:
        return {}
    return review if isinstance(review, dict) and review.get("time") else {}


def history_reviews(settings: Settings, rows: list[dict]) -> dict[int, dict]:
    """Reviews of the drafted posts among ``publisher history`` rows that live on the
    configured site, by post id. History is read offline too: a site that cannot be reached
    gives no reviews, not an error."""
    root = settings.wp_url.rstrip("/")
    ids = [r["post_id"] for r in rows if r.get("post_id") and r.get("kind") == "drafted"
           and (r.get("site") or "").rstrip("/") == root]
    if not ids or not settings.wordpress_configured:
        return {}
    try:        # a short timeout: history must not hang on a site that does not answer
        quick = replace(settings, http_timeout=min(settings.http_timeout, 5.0))
        return WordPressClient(quick).reviews(ids)
    except (WordPressError, NetworkError, ConfigError) as exc:
        log.warning("reviews not read from %s: %s", redact(root), exc)
        return {}


def review_note(review: dict | None) -> str:
    """The end of a ``publisher history`` line: who confirmed the facts, when (UTC)."""
    if not review:
        return ""
    who = review.get("name") or f"user {review.get('user', '?')}"
    return f"  vérifié par {who} le {str(review['time'])[:16].replace('T', ' ')} UTC"


def choose_status(draft: Draft, status: str | None) -> str:
    """The explicit ``status`` wins; otherwise the draft's own, except ``publish`` (never
    derived from a payload: it must be asked for by the caller)."""
    if status is None:
        status = draft.status if draft.status in ("draft", "pending", "future") else "draft"
    if status not in STATUSES:
        raise ConfigError(f"post status {status!r} is not one of {', '.join(STATUSES)}")
    return status


def _squash(value) -> str:
    """Meta as compared after WordPress's sanitize_text_field: whitespace runs collapsed."""
    return " ".join(str(value).split())


def _mentions_meta(resp) -> bool:
    body = json_or_none(resp)
    return isinstance(body, dict) and "meta" in str(body)


def _bad_meta_keys(resp) -> set[str]:
    body = json_or_none(resp) or {}
    keys = set(_META_KEY.findall(str(body)))
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, dict) and isinstance(data.get("key"), str):
        keys.add(data["key"])
    return keys
