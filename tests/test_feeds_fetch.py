"""Feed polling against a real HTTP server on 127.0.0.1 serving RSS 2.0 and Atom fixtures."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import given, strategies as st
from urllib.parse import urlencode, urlsplit

from publisher.feeds.fetch import (FeedItem, canonical_url, fetch_feed, remember_feed,
                                   story_identity, unseen)
from publisher.net import Http
from publisher.state import Store

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
RSS_TYPE = "application/rss+xml; charset=utf-8"


class FeedServer:
    """Serves fixture files by path; counts hits and keeps each request's headers.

    Route options: ``etag`` and ``last_modified`` (answered with 304 when the client sends
    them back), ``status`` to force an error code."""

    def __init__(self):
        self.routes: dict[str, dict] = {}
        self.hits: dict[str, int] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def route(self, path: str, fixture: str = "", **options) -> str:
        self.routes[path] = {"body": (FEEDS / fixture).read_bytes() if fixture else b"",
                             "type": RSS_TYPE, **options}
        return self.url(path)

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                server.requests.append((self.path, dict(self.headers)))
                route = server.routes.get(self.path)
                if route is None:
                    return self._send(404, b"not found", "text/plain")
                if route.get("status"):
                    return self._send(route["status"], b"error", "text/plain")
                if route.get("truncate"):
                    return self._send(200, route["body"][:200], route["type"], route,
                                      length=len(route["body"]))
                if self._fresh(route):
                    return self._send(304, b"", "", route)
                self._send(200, route["body"], route["type"], route)

            def _fresh(self, route) -> bool:
                etag, since = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
                if route.get("etag") and etag:
                    return etag == route["etag"]
                return bool(route.get("last_modified") and since == route["last_modified"])

            def _send(self, status, body, ctype, route=None, length=None):
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                for header, key in (("ETag", "etag"), ("Last-Modified", "last_modified")):
                    if route and route.get(key):
                        self.send_header(header, route[key])
                self.send_header("Content-Length", str(length or len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def feeds():
    server = FeedServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def http():
    return Http(allow_private=True, retries=0, timeout=5)


@pytest.fixture
def store(tmp_path):
    with Store(f"sqlite:///{tmp_path}/publisher.db") as s:
        yield s


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- parsing ---------------------------------------------------------------------------------

def test_rss2_items_have_absolute_links_plain_summaries_and_utc_dates(feeds, http):
    url = feeds.route("/rss.xml", "rss.xml")
    result = fetch_feed(url, http)
    assert (result.status, result.reason, result.title) == ("ok", "", "Actualités Europe — test")
    first, second, third = result.items
    assert first.guid == "news-test-1001"
    assert first.title.startswith("Stoltenberg à Kyiv")
    assert first.summary == "Le secrétaire général de l'OTAN a annoncé 2,4 milliards d'euros de contrats de munitions."
    assert first.published == "2023-09-28T12:05:00Z"            # +0200 turned into UTC
    assert first.feed_url == url
    assert second.link == feeds.url("/culture/greve-louvre#commentaires")  # resolved against the feed
    assert (third.guid, third.published) == ("http://news.test/terroir/vendanges", "")


def test_atom_entries_with_html_summary_and_content(feeds, http):
    result = fetch_feed(feeds.route("/atom.xml", "atom.xml", type="application/atom+xml"), http)
    assert result.status == "ok"
    tgv, suede = result.items
    assert (tgv.guid, tgv.summary) == ("tag:atom.test,2023:tgv-m", "Jusqu'à 740 voyageurs par rame.")
    assert tgv.published == "2023-10-02T16:45:00Z"              # <published> wins over <updated>
    assert suede.summary == "Fin de deux siècles de neutralité militaire."   # from <content>
    assert suede.published == "2024-03-07T17:00:00Z"            # only <updated>: used instead


def test_feed_served_with_a_wrong_content_type_is_still_read(feeds, http):
    result = fetch_feed(feeds.route("/rss-as-html", "rss.xml", type="text/html"), http)
    assert result.status == "ok" and len(result.items) == 3


def test_bozo_feed_that_still_has_entries_is_accepted(feeds, http):
    result = fetch_feed(feeds.route("/bozo.xml", "bozo_with_entries.xml"), http)
    assert result.status == "ok"
    assert [i.link for i in result.items] == ["http://bozo.test/article-1", "http://bozo.test/article-2"]


@pytest.mark.parametrize("fixture", ["malformed.xml", "not_a_feed.html"])
def test_malformed_feed_without_entries_fails_with_a_reason(feeds, http, fixture):
    result = fetch_feed(feeds.route("/bad", fixture), http)
    assert (result.status, result.reason, result.items) == ("failed", "malformed", [])
    assert "not a readable RSS or Atom feed" in result.error


def test_empty_feed_is_ok_with_no_items(feeds, http):
    result = fetch_feed(feeds.route("/empty.xml", "empty.xml"), http)
    assert (result.status, result.reason, result.items) == ("ok", "empty", [])


# --- HTTP failures ---------------------------------------------------------------------------

def test_http_errors_become_named_failures(feeds, http, store):
    missing = feeds.url("/gone.xml")
    result = fetch_feed(missing, http, store)
    assert (result.status, result.reason) == ("failed", "http_404")
    assert "HTTP 404" in result.error
    assert store.feed_status(missing)["last_status"] == "failed:http_404"
    broken = fetch_feed(feeds.route("/boom.xml", status=500), http)
    assert (broken.status, broken.reason) == ("failed", "http_500")


def test_a_feed_host_that_is_down_is_unreachable_not_an_exception(http, store):
    url = f"http://127.0.0.1:{closed_port()}/rss.xml"
    result = fetch_feed(url, http, store)
    assert (result.status, result.reason, result.items) == ("failed", "unreachable", [])
    assert "cannot connect" in result.error
    assert store.feed_status(url)["last_status"] == "failed:unreachable"


def test_a_body_cut_short_is_unreachable_not_an_exception(feeds, http):
    result = fetch_feed(feeds.route("/cut.xml", "rss.xml", truncate=True), http)
    assert (result.status, result.reason) == ("failed", "unreachable")
    assert "connection broke" in result.error


def test_private_addresses_are_refused_unless_allowed(feeds):
    result = fetch_feed(feeds.route("/rss.xml", "rss.xml"), Http(retries=0))
    assert (result.status, result.reason) == ("failed", "unsafe_url")
    assert feeds.hits == {}


# --- conditional GET -------------------------------------------------------------------------

def test_etag_is_sent_back_and_a_304_means_not_modified(feeds, http, store):
    url = feeds.route("/rss.xml", "rss.xml", etag='"rss-v1"')
    assert fetch_feed(url, http, store).status == "ok"
    assert store.feed_cache(url) == ('"rss-v1"', "")
    again = fetch_feed(url, http, store)
    assert (again.status, again.items) == ("not_modified", [])
    assert feeds.hits["/rss.xml"] == 2
    assert "If-None-Match" not in feeds.requests[0][1]
    assert feeds.requests[1][1]["If-None-Match"] == '"rss-v1"'
    feeds.route("/rss.xml", "atom.xml", etag='"rss-v2"')            # the feed changed
    changed = fetch_feed(url, http, store)
    assert changed.status == "ok" and len(changed.items) == 2
    assert store.feed_cache(url) == ('"rss-v2"', "")
    assert feeds.hits["/rss.xml"] == 3


def test_last_modified_is_sent_back_as_if_modified_since(feeds, http, store):
    stamp = "Tue, 03 Oct 2023 10:00:00 GMT"
    url = feeds.route("/atom.xml", "atom.xml", last_modified=stamp)
    fetch_feed(url, http, store)
    assert fetch_feed(url, http, store).status == "not_modified"
    assert feeds.requests[1][1]["If-Modified-Since"] == stamp
    assert store.feed_status(url)["last_status"] == "not_modified"


def test_without_a_store_every_poll_is_a_full_get(feeds, http):
    url = feeds.route("/rss.xml", "rss.xml", etag='"rss-v1"')
    assert fetch_feed(url, http).status == fetch_feed(url, http).status == "ok"
    assert all("If-None-Match" not in headers for _, headers in feeds.requests)


def test_validators_wait_until_remembered_when_asked(feeds, http, store):
    url = feeds.route("/rss.xml", "rss.xml", etag='"rss-v1"')
    result = fetch_feed(url, http, store, remember=False)
    assert store.feed_cache(url) == ("", "")           # a crash now would not lose the items
    assert fetch_feed(url, http, store, remember=False).status == "ok"
    remember_feed(store, result)
    assert fetch_feed(url, http, store).status == "not_modified"


def test_unseen_leaves_out_items_already_marked(feeds, http, store):
    result = fetch_feed(feeds.route("/rss.xml", "rss.xml"), http)
    first = result.items[0]
    store.mark_item(first.feed_url, first.guid, "story-1", first.link, first.title, first.published)
    assert unseen(result.items, store) == result.items[1:]


# --- identity --------------------------------------------------------------------------------

@pytest.mark.parametrize("url, expected", [
    ("HTTPS://News.Example.COM/a/b?utm_source=x&id=3&fbclid=zz#top", "https://news.example.com/a/b?id=3"),
    ("https://news.example.com:443/a?b=2&a=1", "https://news.example.com/a?a=1&b=2"),
    ("http://news.example.com:8080/a?xtor=RSS-1&at_medium=rss&mc_cid=1&mc_eid=2&gclid=g",
     "http://news.example.com:8080/a"),
    ("https://news.example.com", "https://news.example.com/"),
    ("https://user:pw@news.example.com/a?q=", "https://news.example.com/a?q="),
    ("https://news.example.com/a?UTM_Campaign=x&page=2", "https://news.example.com/a?page=2"),
])
def test_canonical_url(url, expected):
    assert canonical_url(url) == expected


@given(st.sampled_from(["http", "HTTPS"]), st.from_regex(r"[A-Za-z0-9-]{1,12}\.(test|Fr)", fullmatch=True),
       st.from_regex(r"(/[a-z0-9%-]{0,8}){0,3}", fullmatch=True),
       st.lists(st.tuples(st.sampled_from(["id", "page", "utm_source", "fbclid", "q", "at_medium"]),
                          st.text("abc=&é 1", max_size=5)), max_size=4),
       st.text("abc", max_size=4))
def test_canonical_url_is_idempotent_and_drops_tracking(scheme, host, path, params, fragment):
    url = f"{scheme}://{host}{path}?{urlencode(params)}#{fragment}"
    once = canonical_url(url)
    assert canonical_url(once) == once
    assert "utm_" not in once and "fbclid" not in once and "#" not in once
    assert urlsplit(once).hostname == host.lower()


def test_story_identity_prefers_the_canonical_link_then_the_guid():
    tracked = FeedItem("g1", "https://n.test/a?utm_medium=rss", "Titre")
    clean = FeedItem("other-guid", "https://N.test/a#x", "Titre")
    assert story_identity(tracked) == story_identity(clean) == "https://n.test/a"
    assert story_identity(FeedItem("urn:x:1", "", "Titre")) == "guid:urn:x:1"


# --- hostile and huge feeds (issue 13 part 3, issue 14 class 10) ------------------------------

def _rss(items: list[tuple[str, str, str]]) -> bytes:
    """An RSS 2.0 document from (title, link, pubDate) triples."""
    from xml.sax.saxutils import escape
    entries = "".join(f"<item><title>{escape(t)}</title><link>{escape(link)}</link>"
                      f"<description>Résumé de {escape(t)}.</description>"
                      + (f"<pubDate>{d}</pubDate>" if d else "") + "</item>"
                      for t, link, d in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Hostile</title>{entries}</channel></rss>").encode()


HOSTILE_LINKS = ["javascript:alert(document.cookie)", "  JavaScript:alert(1)",
                 "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
                 "file:///etc/passwd", "vbscript:msgbox", "mailto:redaction@news.test",
                 "ftp://files.news.test/a.txt", "java\tscript:alert(1)"]


def test_only_http_links_are_kept_and_the_others_are_skipped_with_a_reason(feeds, http, caplog):
    rows = [(f"Piège {n}", link, "") for n, link in enumerate(HOSTILE_LINKS)]
    rows += [("Relatif", "/culture/louvre", ""), ("Absolu", "https://news.test/a", "")]
    url = feeds.route("/hostile.xml", body=_rss(rows))
    with caplog.at_level("WARNING", logger="publisher.feeds.fetch"):
        result = fetch_feed(url, http)
    assert [i.link for i in result.items] == [feeds.url("/culture/louvre"), "https://news.test/a"]
    assert [reason for _, reason in result.skipped] == ["unsafe_link"] * len(HOSTILE_LINKS)
    assert all(i.link.startswith(("http://", "https://")) for i in result.items)
    logged = [r.getMessage() for r in caplog.records if "unsafe_link" in r.getMessage()]
    assert len(logged) == len(HOSTILE_LINKS) and "Piège 0" in logged[0]


def test_a_feed_of_only_hostile_links_is_empty_not_loaded(feeds, http):
    url = feeds.route("/only.xml", body=_rss([("x", link, "") for link in HOSTILE_LINKS[:3]]))
    result = fetch_feed(url, http)
    assert (result.status, result.reason, result.items) == ("ok", "empty", [])
    assert len(result.skipped) == 3


def test_a_long_feed_keeps_its_newest_items_and_says_how_many_it_left_out(feeds, http, caplog):
    import random
    from email.utils import format_datetime
    from datetime import datetime, timedelta, timezone
    start = datetime(2024, 3, 1, tzinfo=timezone.utc)
    rows = [(f"Article {n}", f"https://news.test/{n}", format_datetime(start + timedelta(hours=n)))
            for n in range(300)]
    random.Random(3).shuffle(rows)                  # an archive in no particular order
    url = feeds.route("/archive.xml", body=_rss(rows))
    with caplog.at_level("WARNING", logger="publisher.feeds.fetch"):
        result = fetch_feed(url, http, max_items=50)
    kept = {int(i.link.rsplit("/", 1)[1]) for i in result.items}
    assert kept == set(range(250, 300))             # the 50 newest
    assert [i.link for i in result.items] == [link for _, link, _ in rows
                                              if int(link.rsplit("/", 1)[1]) >= 250]  # feed order
    assert result.left_out == 250
    assert any("kept the 50 newest; 250 older ones left out" in r.getMessage()
               for r in caplog.records)
    assert len(fetch_feed(url, http).items) == 300   # no cap asked: everything


def test_undated_items_count_after_dated_ones_and_in_feed_order(feeds, http):
    rows = [("Sans date A", "https://news.test/a", ""),
            ("Daté", "https://news.test/d", "Tue, 03 Oct 2023 10:00:00 GMT"),
            ("Sans date B", "https://news.test/b", ""), ("Sans date C", "https://news.test/c", "")]
    result = fetch_feed(feeds.route("/mixed.xml", body=_rss(rows)), http, max_items=2)
    assert [i.link for i in result.items] == ["https://news.test/a", "https://news.test/d"]
    assert result.left_out == 2


def test_a_feed_runs_summary_counts_unsafe_links_and_what_the_cap_left_out(feeds, http):
    from publisher.feeds.runner import Summary
    rows = [(f"Piège {n}", link, "") for n, link in enumerate(HOSTILE_LINKS)]
    rows += [(f"Article {n}", f"https://news.test/{n}", "") for n in range(5)]
    result = fetch_feed(feeds.route("/mixed-hostile.xml", body=_rss(rows)), http, max_items=3)
    summary = Summary()
    summary.add_feed(result, len(result.items))
    assert summary.skipped == {"unsafe_link": len(HOSTILE_LINKS)}
    assert "skipped (unsafe_link)" in summary.line() and summary.exit_code == 0
    [feed] = summary.to_dict()["feeds"]
    assert (feed["items"], feed["left_out"], feed["unsafe"]) == (3, 2, len(HOSTILE_LINKS))
