"""A local news site for the feed tests: RSS feeds and article pages over real HTTP.

    site = FeedSite().start()
    page = site.article("courrier", "/n1/kyiv.html", SEED_000, site_name="Le Courrier")
    site.feed("/courrier.xml", [page])           # RSS 2.0, ETag + Last-Modified, 304s
    site.raw("/broken.xml", b"<rss><channel><item>", "application/rss+xml")
    site.url("/courrier.xml"); site.hits["/courrier.xml"]

Pages are built from the seed articles (tests/fixtures/seeds/): a title, the paragraphs in an
<article>, navigation and footer around them, og:site_name for the outlet's name, so the real
extractor (trafilatura + cleaner) has a real page to read. Unknown paths answer 404.
"""

from __future__ import annotations

import hashlib
import socket
import threading
from collections import Counter
from dataclasses import dataclass
from email.utils import format_datetime
from datetime import datetime, timezone
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "seeds"
ARTICLES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds" / "articles"


def seed_text(name: str) -> str:
    """A seed article's body: the editor's instruction line (its first line) left out."""
    path = next(SEEDS.glob(f"{name}_*.txt"), None) or ARTICLES / f"{name}.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    if lines and ("article" in lines[0].lower() and "word" in lines[0].lower()):
        lines = lines[1:]
    return "\n".join(lines).strip()


@dataclass(frozen=True)
class Page:
    path: str
    title: str
    site_name: str
    published: datetime
    guid: str


def closed_port() -> int:
    """A loopback port nobody listens on: a feed host that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FeedSite:
    def __init__(self):
        self.routes: dict[str, tuple[bytes, str]] = {}
        self.hits: Counter = Counter()
        self.not_modified: Counter = Counter()
        self._httpd: ThreadingHTTPServer | None = None

    # --- content ---------------------------------------------------------------------------

    def article(self, path: str, text: str, *, title: str, site_name: str,
                published: datetime | None = None, extra: str = "") -> Page:
        paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
        if extra:
            paragraphs.append(extra)
        body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        html = f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>{escape(title)} | {escape(site_name)}</title>
<meta property="og:site_name" content="{escape(site_name)}">
<meta property="og:title" content="{escape(title)}">
</head><body><header><nav><a href="/">Accueil</a> <a href="/monde">Monde</a></nav></header>
<main><article><h1>{escape(title)}</h1>
{body}
</article></main><footer>© {escape(site_name)} — tous droits réservés</footer></body></html>"""
        self.routes[path] = (html.encode("utf-8"), "text/html; charset=utf-8")
        when = published or datetime(2023, 9, 28, 12, 0, tzinfo=timezone.utc)
        guid = hashlib.sha1(path.encode()).hexdigest()[:12]
        return Page(path, title, site_name, when, guid)

    def feed(self, path: str, pages: list[Page], *, title: str = "Actualités",
             links: dict[str, str] | None = None) -> str:
        """An RSS 2.0 feed of ``pages``; ``links`` overrides an item's link (a 404 page)."""
        items = []
        for page in pages:
            link = (links or {}).get(page.path, page.path)
            items.append(f"""<item><title>{escape(page.title)}</title>
<link>{escape(self.url(link))}?utm_source=rss</link><guid isPermaLink="false">{page.guid}</guid>
<pubDate>{format_datetime(page.published)}</pubDate>
<description>{escape(page.title)}</description></item>""")
        xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>{escape(title)}</title><link>{self.url('/')}</link>
<description>Flux de test</description><language>fr</language>
{''.join(items)}
</channel></rss>"""
        self.routes[path] = (xml.encode("utf-8"), "application/rss+xml; charset=utf-8")
        return self.url(path)

    def raw(self, path: str, body: bytes, content_type: str) -> str:
        self.routes[path] = (body, content_type)
        return self.url(path)

    # --- server ----------------------------------------------------------------------------

    def start(self) -> "FeedSite":
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def close(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "FeedSite":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def url(self, path: str) -> str:
        assert self._httpd, "FeedSite is not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{path}"


def _handler(site: FeedSite):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            site.hits[path] += 1
            if path not in site.routes:
                return self._send(404, b"<h1>Page introuvable</h1>", "text/html")
            body, kind = site.routes[path]
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                site.not_modified[path] += 1
                return self._send(304, b"", kind, etag)
            self._send(200, body, kind, etag)

        def _send(self, status: int, body: bytes, kind: str, etag: str = "") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            if etag:
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", "Thu, 28 Sep 2023 12:00:00 GMT")
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

    return Handler
