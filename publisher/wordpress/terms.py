"""Tag and category names → WordPress term ids, with as few requests as possible.

One lookup for all names: ``GET /wp/v2/<taxonomy>?slug=a,b,c`` (``slug`` takes a list), with
every slug a name may have (python-slugify's, and WordPress's own, which drops apostrophes
without a hyphen). A returned term matches a name when its slug is one of the name's slugs or
its name is equal ignoring case and accents; so "OTAN", "otan" and "Otan" are one tag.

Tags that are still missing are created, one request each; if WordPress answers ``term_exists``
(a term with that name but another slug), its ``term_id`` is used.

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

from ..errors import WordPressError
from .api import error_from, json_or_none

if TYPE_CHECKING:
    from .client import WordPressClient

log = logging.getLogger(__name__)

PER_PAGE = 100


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
                  warnings: list[str] | None = None) -> list[int]:
    """Ids of ``names`` in ``taxonomy`` ("tags" or "categories"), in the order given.

    ``create`` defaults to True for tags and False for categories. Names that cannot be
    resolved are reported in ``warnings`` (and logged), never silently lost.
    """
    if taxonomy not in ("tags", "categories"):
        raise ValueError(f"taxonomy must be 'tags' or 'categories', not {taxonomy!r}")
    create = (taxonomy == "tags") if create is None else create
    wanted = _unique(names)
    if not wanted:
        return []
    found = _lookup(client, taxonomy, wanted)
    ids: list[int] = []
    for name in wanted:
        term_id = found.get(normalize(name))
        if term_id is None and create:
            term_id = _create(client, taxonomy, name, warnings)
        elif term_id is None:
            _note(warnings, f"{_label(taxonomy)} {name!r} does not exist on the site: post filed "
                            "without it (create it in WordPress if it is wanted)")
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


def _create(client: "WordPressClient", taxonomy: str, name: str,
            warnings: list[str] | None) -> int | None:
    resp = client.api.send("POST", f"/wp/v2/{taxonomy}", json={"name": name})
    body = json_or_none(resp)
    if resp.ok and isinstance(body, dict):
        log.info("created %s %r (id %s)", taxonomy, name, body.get("id"))
        return int(body["id"])
    if isinstance(body, dict) and body.get("code") == "term_exists":
        term_id = (body.get("data") or {}).get("term_id")
        if term_id:
            return int(term_id)
    err: WordPressError = error_from(resp, f"creating {_label(taxonomy)} {name!r}")
    if resp.status_code in (401, 403):
        _note(warnings, f"{err}; post filed without it")
        return None
    raise err


def _label(taxonomy: str) -> str:
    return "tag" if taxonomy == "tags" else "category"


def _note(warnings: list[str] | None, message: str) -> None:
    log.warning("%s", message)
    if warnings is not None and message not in warnings:
        warnings.append(message)
