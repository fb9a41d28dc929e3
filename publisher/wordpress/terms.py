"""Tag and category names → WordPress term ids, with as few requests as possible.

One lookup for all names: ``GET /wp/v2/<taxonomy>?slug=a,b,c`` (``slug`` takes a list), with
every slug a name may have (python-slugify's, and WordPress's own, which drops apostrophes
without a hyphen). A returned term matches a name when its slug is one of the name's slugs or
its name is equal ignoring case and accents; so "OTAN", "otan" and "Otan" are one tag.

Tags that are still missing are created together in one ``POST /batch/v1`` (WordPress ≥ 5.6:
it answers 207 with one result per request, 25 requests at most per batch); a site without the
batch route, or one that refuses it, gets one request per tag instead. Either way, if WordPress
answers ``term_exists`` (a term with that name but another slug), its ``term_id`` is used.

A caller that already knows some ids (the client keeps those of the category listing) passes
them as ``known``; only the other names are looked up.

Categories are never created implicitly: a category shapes the site's navigation, so it is an
editor's decision. An unknown category gives a warning and the post is filed without it
(pass ``create=True`` to create it anyway).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import TYPE_CHECKING

from slugify import slugify

from ..errors import NetworkError, WordPressError
from .api import error_from_answer, json_or_none

if TYPE_CHECKING:
    from .client import WordPressClient

log = logging.getLogger(__name__)

PER_PAGE = 100
BATCH_MAX = 25                  # WordPress's default rest_get_max_batch_size


def normalize(name: str) -> str:
    """Case-, accent- and spacing-insensitive key of a term name."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text).strip().casefold()


def candidate_slugs(name: str) -> list[str]:
    """The slugs WordPress may have given ``name``."""
    plain = slugify(name)
    wp_like = slugify(re.sub(r"['’`]", "", name))
    return list(dict.fromkeys(s for s in (plain, wp_like) if s))


def resolve_terms(client: "WordPressClient", taxonomy: str, names, *, create: bool | None = None,
                  warnings: list[str] | None = None,
                  known: dict[str, int] | None = None) -> list[int]:
    """Ids of ``names`` in ``taxonomy`` ("tags" or "categories"), in the order given.

    ``create`` defaults to True for tags and False for categories. ``known`` maps
    ``normalize(name)`` to ids already known (no request for those). Names that cannot be
    resolved are reported in ``warnings`` (and logged), never silently lost.
    """
    if taxonomy not in ("tags", "categories"):
        raise ValueError(f"taxonomy must be 'tags' or 'categories', not {taxonomy!r}")
    create = (taxonomy == "tags") if create is None else create
    wanted = _unique(names)
    if not wanted:
        return []
    found = {normalize(n): known[normalize(n)] for n in wanted if normalize(n) in (known or {})}
    unknown = [n for n in wanted if normalize(n) not in found]
    if unknown:
        found.update(_lookup(client, taxonomy, unknown))
    missing = [n for n in wanted if normalize(n) not in found]
    if missing and create:
        found.update(_create_all(client, taxonomy, missing, warnings))
    elif missing:
        for name in missing:
            _note(warnings, f"{_label(taxonomy)} {name!r} does not exist on the site: post "
                            "filed without it (create it in WordPress if it is wanted)")
    ids: list[int] = []
    for name in wanted:
        term_id = found.get(normalize(name))
        if term_id is not None and term_id not in ids:
            ids.append(term_id)
    return ids


def _unique(names) -> list[str]:
    seen: dict[str, str] = {}
    for name in names or ():
        name = re.sub(r"\s+", " ", str(name)).strip()
        if name and normalize(name) not in seen:
            seen[normalize(name)] = name
    return list(seen.values())


def _lookup(client: "WordPressClient", taxonomy: str, names: list[str]) -> dict[str, int]:
    """normalized name → term id, for the names that already exist (one request per 100)."""
    slug_owner: dict[str, str] = {}
    for name in names:
        for slug in candidate_slugs(name):
            slug_owner.setdefault(slug, normalize(name))
    keys = {normalize(n) for n in names}
    found: dict[str, int] = {}
    slugs = list(slug_owner)            # an empty slug filter would list every term
    for start in range(0, len(slugs), PER_PAGE):
        terms = client.api.call("GET", f"/wp/v2/{taxonomy}", what=f"looking up {taxonomy}",
                                params={"slug": ",".join(slugs[start:start + PER_PAGE]),
                                        "per_page": PER_PAGE, "context": "view",
                                        "_fields": "id,name,slug"})
        for term in terms:
            key = normalize(term.get("name", ""))
            owner = key if key in keys else slug_owner.get(term.get("slug", ""))
            if owner and owner not in found:
                found[owner] = int(term["id"])
    return found


def _create_all(client: "WordPressClient", taxonomy: str, names: list[str],
                warnings: list[str] | None) -> dict[str, int]:
    """normalized name → id of the terms created (or found by ``term_exists``): one batch
    request per 25 names where the site takes batches, else one request per name."""
    created: dict[str, int] = {}
    for start in range(0, len(names), BATCH_MAX):
        chunk = names[start:start + BATCH_MAX]
        answers = _batch(client, taxonomy, chunk) if client.batch_ok else None
        for index, name in enumerate(chunk):
            answer = answers[index] if answers else None
            if answer is None:          # no batch, or this route may not be batched
                term_id = _create(client, taxonomy, name, warnings)
            else:
                term_id = _term_id(answer[0], answer[1], taxonomy, name, warnings,
                                   client.api.url("/batch/v1"))
            if term_id is not None:
                created[normalize(name)] = term_id
    return created


def _batch(client: "WordPressClient", taxonomy: str,
           names: list[str]) -> list[tuple[int, object] | None] | None:
    """(status, body) per name from one ``POST /batch/v1``; None for an item the site would
    not batch; None for the whole when the site has no batch route or refuses the batch
    (the caller then creates the terms one by one: ``term_exists`` covers any the lost or
    refused batch did create)."""
    body = {"requests": [{"method": "POST", "path": f"/wp/v2/{taxonomy}", "body": {"name": n}}
                         for n in names]}
    try:
        resp = client.api.send("POST", "/batch/v1", json=body)
    except NetworkError as exc:
        log.info("batch creation of %s failed (%s): one request per term", taxonomy, exc)
        return None
    answer = json_or_none(resp)
    responses = answer.get("responses") if isinstance(answer, dict) else None
    if not resp.ok or not isinstance(responses, list) or len(responses) != len(names):
        if resp.status_code in (400, 403, 404, 405) or (isinstance(answer, dict) and answer.get(
                "code") == "rest_no_route"):
            client.batch_ok = False     # this site has no usable batch route: don't ask again
        log.info("batch creation of %s unavailable (HTTP %s): one request per term",
                 taxonomy, resp.status_code)
        return None
    out: list[tuple[int, object] | None] = []
    for item in responses:
        item_body = item.get("body") if isinstance(item, dict) else None
        if isinstance(item_body, dict) and item_body.get("code") == "rest_batch_not_allowed":
            out.append(None)
        else:
            out.append((int(item.get("status") or 0) if isinstance(item, dict) else 0,
                        item_body))
    return out


def _create(client: "WordPressClient", taxonomy: str, name: str,
            warnings: list[str] | None) -> int | None:
    resp = client.api.send("POST", f"/wp/v2/{taxonomy}", json={"name": name})
    return _term_id(resp.status_code, json_or_none(resp), taxonomy, name, warnings,
                    resp.url or "")


def _term_id(status: int, body, taxonomy: str, name: str, warnings: list[str] | None,
             url: str) -> int | None:
    """The id a term creation answered with: the new term's, or the existing one's
    (``term_exists``); None (and a warning) when the user may not create terms."""
    if 200 <= status < 300 and isinstance(body, dict) and body.get("id"):
        log.info("created %s %r (id %s)", taxonomy, name, body.get("id"))
        return int(body["id"])
    if isinstance(body, dict) and body.get("code") == "term_exists":
        term_id = (body.get("data") or {}).get("term_id")
        if term_id:
            return int(term_id)
    err: WordPressError = error_from_answer(status, body, f"creating {_label(taxonomy)} "
                                                          f"{name!r}", url)
    if status in (401, 403):
        _note(warnings, f"{err}; post filed without it")
        return None
    raise err


def _label(taxonomy: str) -> str:
    return "tag" if taxonomy == "tags" else "category"


def _note(warnings: list[str] | None, message: str) -> None:
    log.warning("%s", message)
    if warnings is not None and message not in warnings:
        warnings.append(message)
