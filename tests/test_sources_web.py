"""Articles from URLs: a real local HTTP server serves saved pages; trafilatura extracts them.

No mocks: ``Http`` speaks HTTP to 127.0.0.1 (``allow_private=True`` lets the SSRF guard accept
loopback, as ``PUBLISHER_ALLOW_PRIVATE_URLS=1`` would).
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from publisher.errors import FetchError, NetworkError, SourceError, UnsafeURLError
from publisher.net import Http
from publisher.sources.load import load_source, load_sources
from publisher.sources.web import extract

PAGES = Path(__file__).parent / "fixtures" / "pages"
SEEDS = Path(__file__).parent / "fixtures" / "seeds"
GAZETTE = (PAGES / "gazette-stoltenberg-kiev.html").read_bytes()


def _latin_page() -> bytes:
    """The Gazette page as an old site serves it: Windows-1252, charset only in a <meta>."""
    html = GAZETTE.decode("utf-8").replace('<meta charset="utf-8">',
                                           '<meta charset="windows-1252">')
    return html.replace("’", "'").encode("cp1252")


ROUTES = {   # path -> (status, content type, body, extra headers)
    "/article": (200, "text/html; charset=utf-8", GAZETTE, {}),
    "/depeche": (200, "text/html; charset=utf-8",
                 (PAGES / "depeche-junk-dans-le-corps.html").read_bytes(), {}),
    "/accueil": (200, "text/html; charset=utf-8",
                 (PAGES / "accueil-sans-article.html").read_bytes(), {}),
    "/ancien-site": (200, "text/html", _latin_page(), {}),
    "/vide": (200, "text/html; charset=utf-8", b"<html><head></head><body></body></html>", {}),
    "/depeche.txt": (200, "text/plain; charset=utf-8",
                     (SEEDS / "003_b7a23fd024b318f7.txt").read_bytes(), {}),
    "/rapport.pdf": (200, "application/pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", {}),
    "/ancienne-adresse": (301, "text/html", b"", {"Location": "/article"}),
    "/supprime": (404, "text/html; charset=utf-8", b"<html><body>Page introuvable</body></html>",
                  {}),
    "/reserve": (403, "text/html; charset=utf-8", b"<html><body>Acc\xc3\xa8s refus\xc3\xa9</body>"
                 b"</html>", {}),
}


class PageHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        status, ctype, body, headers = ROUTES.get(self.path, ROUTES["/supprime"])
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):       # keep pytest output quiet
        pass


@pytest.fixture(scope="module")
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def http():
    return Http(allow_private=True, retries=0, timeout=5)


GAZETTE_BODY = [
    "En visite surprise à Kiev, le secrétaire général de l'OTAN a salué les avancées de la "
    "contre-offensive ukrainienne et annoncé 2,4 milliards d'euros de contrats de munitions.",
    "Le secrétaire général de l'OTAN, Jens Stoltenberg, s'est rendu jeudi à Kiev sans que sa "
    "visite ait été annoncée",
    "« Les forces ukrainiennes gagnent progressivement du terrain », a-t-il déclaré",
    "Des munitions pour les alliés et pour Kiev",
    "contrats-cadres d'une valeur de 2,4 milliards d'euros pour des munitions essentielles",
    "plus de 40 drones Shahed de fabrication iranienne",
    "« Nous devons passer cet hiver ensemble, afin de protéger nos infrastructures énergétiques "
    "et la vie de nos concitoyens. »",
    "rien n'indiquait à ce stade une attaque délibérée contre un pays de l'OTAN.",
]
GAZETTE_JUNK = [
    "Publicité", "Partager sur Facebook", "Copier le lien", "S'abonner", "Accueil", "cookies",
    "Sergei Supinsky / AFP", "Newsletter", "Inscrivez-vous", "À découvrir également",
    "Ramstein : les alliés promettent", "Mentions légales", "Tous droits réservés",
    "Devant l'ONU, Zelensky appelle", "Par Claire Martin", "Publié le", "Guerre en Ukraine",
]


def test_url_article_with_metadata(site, http):
    source, brief = load_source(f"{site}/article", http=http)
    assert brief is None
    assert source.title == ("Stoltenberg à Kiev : « Les forces ukrainiennes gagnent "
                            "progressivement du terrain »")
    assert source.site_name == "La Gazette du Matin"
    assert source.author == "Claire Martin"
    assert source.date == "2023-09-28"
    assert source.image.endswith("/stoltenberg-zelensky-kiev.jpg")
    assert source.url == source.origin == f"{site}/article"
    for line in GAZETTE_BODY:
        assert line in source.text
    for junk in GAZETTE_JUNK:
        assert junk not in source.text, junk
    assert not source.text.startswith(source.title)        # the <h1> is the title, not body


def test_junk_inside_the_article_body_is_cleaned(site, http):
    source, _ = load_source(f"{site}/depeche", http=http)
    assert set(source.removed) == {"Partager cet article", "Crédit photo © Reuters", "PUBLICITÉ",
                                   "Suivez-nous sur Facebook et Instagram", "(Avec Reuters)"}
    assert source.text.startswith("BRUXELLES (Reuters) - Les ministres de la Défense")
    assert source.text.endswith("en prélude au sommet des chefs d'État et de gouvernement de "
                                "juillet.")
    assert source.site_name == "Le Courrier de l'Alliance"


def test_redirect_is_followed_and_final_url_kept(site, http):
    source, _ = load_source(f"{site}/ancienne-adresse", http=http)
    assert source.url == f"{site}/article"
    assert source.origin == f"{site}/ancienne-adresse"


def test_page_in_windows_1252_without_charset_header(site, http):
    source, _ = load_source(f"{site}/ancien-site", http=http)
    assert "Le secrétaire général de l'OTAN, Jens Stoltenberg, s'est rendu jeudi" in source.text
    assert "Ã" not in source.text


def test_plain_text_url_is_cleaned_like_a_file(site, http):
    source, _ = load_source(f"{site}/depeche.txt", http=http)
    assert source.site_name == "Reuters" and source.author == "Andrew Gray"
    assert "Crédit photo © Reuters" in source.removed


def test_url_and_files_together(site, http):
    seed = str(SEEDS / "000_26b4b37e47165035.txt")
    sources, brief = load_sources([f"{site}/article", seed, f"{site}/ancienne-adresse"],
                                  http=http)
    assert [s.origin for s in sources] == [f"{site}/article", seed]   # redirect = same page
    assert brief.instruction.startswith("Make this article")


# --- errors: one clear line each -----------------------------------------------------------------

def test_404(site, http):
    with pytest.raises(FetchError) as err:
        load_source(f"{site}/supprime", http=http)
    assert (err.value.status, err.value.reason) == (404, "http_404")
    assert f"{site}/supprime" in str(err.value) and "HTTP 404" in str(err.value)


def test_403(site, http):
    with pytest.raises(FetchError) as err:
        load_source(f"{site}/reserve", http=http)
    assert err.value.reason == "http_403" and "copy the article" in str(err.value)


def test_not_a_web_page(site, http):
    with pytest.raises(SourceError) as err:
        load_source(f"{site}/rapport.pdf", http=http)
    assert err.value.reason == "not_html" and "application/pdf" in str(err.value)


@pytest.mark.parametrize("path", ["/accueil", "/vide"])
def test_pages_without_an_article(site, http, path):
    with pytest.raises(SourceError) as err:
        load_source(f"{site}{path}", http=http)
    assert err.value.reason == "no_article"
    assert f"{site}{path}" in str(err.value)


def test_unreachable_url(http):
    with socket.socket() as sock:            # a port nobody listens on any more
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/article"
    with pytest.raises(NetworkError) as err:
        load_source(url, http=http)
    assert err.value.reason == "connection_failed" and url in str(err.value)


def test_private_addresses_are_refused_by_default():
    with pytest.raises(UnsafeURLError) as err:
        load_source("http://127.0.0.1:9/article", http=Http(retries=0))
    assert "PUBLISHER_ALLOW_PRIVATE_URLS" in str(err.value)


def test_extract_without_a_network():
    source = extract(GAZETTE.decode("utf-8"), "https://www.gazette-du-matin.example/a")
    assert source.label == "La Gazette du Matin"
    with pytest.raises(SourceError) as err:
        extract("<html><body><nav>Accueil</nav></body></html>", "https://x.example/")
    assert err.value.reason == "no_article"
