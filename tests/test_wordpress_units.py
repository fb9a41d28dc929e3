"""Pure helpers of the WordPress client: route URLs, slugs, statuses, password shape."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from publisher.errors import ConfigError
from publisher.models import Draft
from publisher.wordpress.api import _site_url, route_url
from publisher.wordpress.auth import looks_like_app_password
from publisher.wordpress.client import choose_status
from publisher.wordpress.terms import candidate_slugs, normalize


@pytest.mark.parametrize("root, expected", [
    ("https://ex.com/wp-json/", "https://ex.com/wp-json/wp/v2/posts"),
    ("https://ex.com/blog/wp-json", "https://ex.com/blog/wp-json/wp/v2/posts"),
    ("https://ex.com/?rest_route=/", "https://ex.com/?rest_route=/wp/v2/posts"),
    ("https://ex.com/index.php?rest_route=/", "https://ex.com/index.php?rest_route=/wp/v2/posts"),
    ("https://ex.com/?lang=fr&rest_route=/", "https://ex.com/?rest_route=/wp/v2/posts&lang=fr"),
])
def test_route_url_for_pretty_and_plain_permalinks(root, expected):
    assert route_url(root, "/wp/v2/posts") == expected
    assert route_url(root, "wp/v2/posts") == expected


def test_plain_route_takes_more_parameters_with_an_ampersand():
    import requests
    url = route_url("https://ex.com/?rest_route=/", "/wp/v2/tags")
    prepared = requests.Request("GET", url, params={"slug": "a,b", "per_page": 100}).prepare()
    assert prepared.url == "https://ex.com/?rest_route=/wp/v2/tags&slug=a%2Cb&per_page=100"


@pytest.mark.parametrize("given_url, site", [
    ("example.com", "https://example.com/"),
    ("https://example.com/wp-admin/", "https://example.com/"),
    ("https://example.com/blog/wp-json/wp/v2", "https://example.com/blog/"),
    ("http://127.0.0.1:8081", "http://127.0.0.1:8081/"),
])
def test_site_url_tolerates_pasted_addresses(given_url, site):
    assert _site_url(given_url) == site


def test_names_that_are_one_tag():
    assert normalize("OTAN") == normalize("otan") == normalize(" Otan ")
    assert normalize("Élysée") == normalize("elysee")
    assert "lete" in candidate_slugs("l'été") and "l-ete" in candidate_slugs("l'été")


@given(st.text(min_size=1, max_size=30))
def test_normalize_is_idempotent(text):
    assert normalize(normalize(text)) == normalize(text)


def test_status_is_draft_unless_asked():
    plain = Draft(title="t", content="c")
    assert choose_status(plain, None) == "draft"
    assert choose_status(Draft(title="t", content="c", status="pending"), None) == "pending"
    assert choose_status(Draft(title="t", content="c", status="publish"), None) == "draft"
    assert choose_status(plain, "publish") == "publish"
    with pytest.raises(ConfigError):
        choose_status(plain, "private")


def test_application_password_shape():
    assert looks_like_app_password("abcd EFGH 1234 ijkl MNOP 5678")
    assert not looks_like_app_password("my-login-password!")
