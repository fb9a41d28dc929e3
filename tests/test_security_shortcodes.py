"""Issue 14, class 1: what WordPress itself expands when it renders a post.

WordPress runs shortcodes (``[embed]``, ``[video]``, ``[audio]``, ``[gallery]``,
``[playlist]``…) and auto-embeds a URL that stands alone in its paragraph, so a draft could
load content from hosts that are not the sources. An article whose text carries all of them
(as a model copying a hostile page writes it) is rendered, pushed through the real client to
the real local WordPress, published there (as its author, only for the time of the test) and
its real page is read back: no shortcode ran, nothing is embedded, no foreign host is linked
or loaded, and the shortcodes' text is still there for the reader. A URL alone in its
paragraph becomes a link when it is a source's.
"""

from __future__ import annotations

import html as html_lib
import re
import uuid
from urllib.parse import urlsplit

import pytest
import requests

from publisher.models import Article, Block, Draft, Section, Source
from publisher.render.blocks import render_article
from publisher.wordpress import open_client

EVIL = "http://evil.example"
SOURCE = Source(text="…", url="https://www.gazette.example/2023/09/otan-kiev.html",
                site_name="La Gazette [embed]http://evil.example/x[/embed]")
# Rendered output of an embed, a media shortcode, a gallery or a playlist.
EXPANDED = re.compile(r"<iframe|<video|<audio|<object|<embed\b|wp-embedded-content|"
                      r"wp-embed(?!-responsive)|wp-video|wp-audio|wp-playlist|"
                      r"class=['\"]gallery|blockquote class=['\"]wp-embedded", re.I)
SRC_OR_HREF = re.compile(r"""(?:href|src|srcset|data-src)\s*=\s*["']([^"']+)""", re.I)


def hostile_article(target: str) -> Article:
    """Every kind of shortcode, and URLs alone in their blocks (``target``: a post of the
    site itself, which WordPress embeds without asking any other host)."""
    said = [f"Le reportage complet est ici : [embed]{target}[/embed] selon la rédaction.",
            f'La vidéo [video src="{EVIL}/clip.mp4"][/video] et le son [audio src="{EVIL}'
            '/son.mp3"] ont été diffusés jeudi soir.',
            'Les photos [gallery ids="1,2,3"], la liste [playlist ids="1,2"] et la légende '
            "[caption]Légende[/caption] accompagnent la visite.",
            f'Voir aussi [embed width="600"]{EVIL}/watch?v=1[/embed] pour la conférence.',
            target, f"{EVIL}/watch?v=1", SOURCE.url]
    media = (Block("list", items=(target, f'[video src="{EVIL}/b.mp4"]')),
             Block("quote", text=f"{EVIL}/q", cite=f"[embed]{target}[/embed]"))
    return Article(title=f"Visite à Kiev {uuid.uuid4().hex[:8]}",
                   intro=(Block(text="Le secrétaire général de l'OTAN était à Kiev."),),
                   sections=(Section("Les annonces", tuple(Block(text=t) for t in said)),
                             Section("Les médias", media)),
                   conclusion=Section("Ce qu'il faut retenir", (Block(text=target),)))


def hosts(html: str) -> set[str]:
    """The hosts every href/src of ``html`` points at ("" for a relative one)."""
    return {urlsplit(html_lib.unescape(u)).netloc for u in SRC_OR_HREF.findall(html)}


@pytest.fixture
def published(wp_site):
    """Publish posts as the author for the test only; they are deleted afterwards."""
    made: list[int] = []

    def publish(post_id: int | None = None, **fields) -> dict:
        route = f"/wp/v2/posts/{post_id}" if post_id else "/wp/v2/posts"
        resp = requests.post(wp_site.api(route), auth=wp_site.auth("author"), timeout=60,
                             json={"status": "publish", **fields})
        resp.raise_for_status()
        made.append(resp.json()["id"])
        return resp.json()
    yield publish
    for post_id in made:
        requests.delete(wp_site.api(f"/wp/v2/posts/{post_id}"), auth=wp_site.auth("author"),
                        params={"force": "true"}, timeout=60)


def test_wordpress_renders_no_shortcode_and_embeds_nothing(wp_site, published):
    target = published(title="Cible", content="<p>Un article du site.</p>")["link"]
    chrome = hosts(requests.get(target, timeout=60).text)    # the theme's own links
    article = hostile_article(target)
    content = render_article(article, [SOURCE])
    draft = Draft(title=article.title, content=content)
    result = open_client(wp_site.settings("author")).create_post(draft)
    post = published(result.id)
    page = requests.get(post["link"], timeout=60)
    page.raise_for_status()
    body = page.text[page.text.index("entry-content"):]      # the post, then the footer

    assert not EXPANDED.search(body), EXPANDED.search(body).group(0)
    source_host = urlsplit(SOURCE.url).netloc
    assert hosts(body) <= chrome | {source_host}, hosts(body) - chrome
    assert "evil.example" not in " ".join(SRC_OR_HREF.findall(page.text))
    assert hosts(post["content"]["rendered"]) == {source_host}, post["content"]["rendered"]
    assert f'href="{SOURCE.url}"' in post["content"]["rendered"]   # a source's URL: linked
    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", body))
    for shown in ("[embed]", "[video src=", "[audio src=", "[gallery", "[playlist",
                  "[caption]", "evil.example/watch?v=1"):
        assert shown in text, shown                           # left as text for the reader


def test_defused_text_is_stable_and_brackets_never_reach_an_href():
    """Sanitizing again (push re-cleans a folder's content) changes nothing, and a bracket in
    a link is percent-encoded: WordPress reads shortcodes inside attributes too."""
    from publisher.render.sanitize import clean_document, clean_inline
    html = render_article(hostile_article("http://127.0.0.1:9/cible/"), [SOURCE])
    assert clean_document(html, [SOURCE.url]) == html
    assert "[" not in html and "]" not in html and "&#091;embed&#093;" in html
    assert "<p>evil.example/watch?v=1</p>" in html            # foreign: text, no scheme
    link = clean_inline(f'<a href="{SOURCE.url}?v=[embed]x[/embed]">la source</a>', [SOURCE.url])
    assert "%5Bembed%5D" in link and "[" not in link
