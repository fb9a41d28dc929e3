"""The nh3 allow-list against hostile LLM output: nothing executable, no foreign link survives."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from publisher.render.sanitize import (LinkPolicy, clean_document, clean_inline, clean_text,
                                       strip_delimiters)

SOURCES = {"https://www.lemonde.fr/international/article/2023/09/28/otan.html"}


class _Tags(HTMLParser):
    """Every start tag with its attributes, as a browser's tokenizer would see them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.comments: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_comment(self, data):
        self.comments.append(data)


def tags_of(html: str) -> list[tuple[str, dict]]:
    return _Tags(html).tags


HOSTILE = [
    ("<script>alert(1)</script>Bonjour", "Bonjour"),
    ("<SCRIPT SRC=https://evil.example/x.js></SCRIPT>Salut", "Salut"),
    ('<img src=x onerror=alert(1)>Texte', "Texte"),
    ('<a href="javascript:alert(1)">clic</a>', "clic"),
    ('<a href="JaVaScRiPt:alert(1)">clic</a>', "clic"),
    ('<a href="jav&#x09;ascript:alert(1)">clic</a>', "clic"),
    ('<a href="&#106;avascript:alert(1)">clic</a>', "clic"),
    ('<a href=" javascript:alert(1)">clic</a>', "clic"),
    ('<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">clic</a>', "clic"),
    ('<a href="vbscript:msgbox(1)">clic</a>', "clic"),
    ('<iframe src="https://evil.example/"></iframe>Fin', "Fin"),
    ("<iframe srcdoc='<script>alert(1)</script>'>caché</iframe>Fin", "Fin"),
    ("<style>body{display:none}</style>Visible", "Visible"),
    ('<p style="background:url(javascript:alert(1))">Style</p>', "Style"),
    ("<svg onload=alert(1)><circle/></svg>Après", "Après"),
    ("<svg><script>alert(1)</script></svg>Après", "Après"),
    ('<math><mtext><a href="javascript:alert(1)">m</a></mtext></math>Après', "Après"),
    ('<object data="data:text/html,<script>alert(1)</script>"></object>Objet', "Objet"),
    ('<embed src="https://evil.example/x.swf">Embed', "Embed"),
    ('<form action="https://evil.example/"><button formaction="javascript:alert(1)">b</button>'
     "</form>", "b"),
    ('<meta http-equiv="refresh" content="0;url=https://evil.example/">Meta', "Meta"),
    ('<base href="https://evil.example/">Base', "Base"),
    ('<link rel="stylesheet" href="https://evil.example/x.css">Lien', "Lien"),
    ('<div onmouseover="alert(1)">Survol</div>', "Survol"),
    ('<strong onclick="alert(1)">gras</strong>', "<strong>gras</strong>"),
    ('<a href="https://www.lemonde.fr/x" onclick="alert(1)" target="_blank" style="x">ok</a>',
     '<a href="https://www.lemonde.fr/x">ok</a>'),
    ("<noscript><img src=x onerror=alert(1)></noscript>Rien", "Rien"),
    ("<template><script>alert(1)</script></template>Rien", "Rien"),
    ("<textarea><script>alert(1)</script></textarea>Rien", "Rien"),
    # HTML reads <![CDATA[…> as a bogus comment: what follows is harmless text.
    ("<![CDATA[<script>alert(1)</script>]]>Rien", "alert(1)&#093;&#093;&gt;Rien"),
    ("<!-- <script>alert(1)</script> -->Rien", "Rien"),
    ("Texte &lt;script&gt;alert(1)&lt;/script&gt;", "Texte &lt;script&gt;alert(1)&lt;/script&gt;"),
    ("Un <unknown-tag foo=bar>inconnu</unknown-tag>", "Un inconnu"),
]


@pytest.mark.parametrize("hostile,expected", HOSTILE)
def test_clean_inline_removes_everything_hostile(hostile, expected):
    out = clean_inline(hostile, SOURCES)
    assert out == expected
    for tag, attrs in tags_of(out):
        assert tag in {"strong", "em", "a", "br"}
        assert set(attrs) <= ({"href"} if tag == "a" else set())


FOREIGN_LINKS = [
    "https://evil.example/phishing",
    "https://lemonde.fr.evil.example/",            # a source host as a subdomain prefix
    "https://evil.example/?u=https://www.lemonde.fr/",
    "https://www.lemonde.fr@evil.example/",        # user info: the real host is evil.example
    "https://evil.example\\@www.lemonde.fr/",      # browsers read the backslash as a slash
    "//evil.example/protocol-relative",
    "/relative/path",
    "https://www.lemonde.fr:8443/other-port",
    "ftp://www.lemonde.fr/file",
    "https://www.lemonde.fr\t.evil.example/",      # browsers drop the tab: host is evil
    "https://www.lemonde.fr\n.evil.example/",
    "https://xn--lemnde-dxa.fr/",                   # look-alike IDN
    "http://127.0.0.1/",
]


@pytest.mark.parametrize("url", FOREIGN_LINKS)
def test_links_outside_the_sources_are_unwrapped_to_text(url):
    out = clean_inline(f'Lire <a href="{url}">ceci</a>.', SOURCES)
    assert out == "Lire ceci."


@pytest.mark.parametrize("url", [
    "https://www.lemonde.fr/international/article/2023/09/28/otan.html",
    "https://lemonde.fr/autre-article",            # www. or not: the same site
    "HTTPS://WWW.LEMONDE.FR/Majuscules",
    "http://www.lemonde.fr/http-aussi?x=1&y=2#frag",
])
def test_links_to_a_source_host_stay(url):
    out = clean_inline(f'<a href="{url}">Le Monde</a>', SOURCES)
    [(tag, attrs)] = tags_of(out)
    assert tag == "a" and attrs["href"] == url


def test_odd_characters_in_an_allowed_link_are_percent_encoded():
    out = clean_inline('<a href="https://www.lemonde.fr/Défense nationale/&quot;x">a</a>', SOURCES)
    assert out == '<a href="https://www.lemonde.fr/D%C3%A9fense%20nationale/%22x">a</a>'


def test_exact_and_none_link_modes():
    same_page = '<a href="https://www.lemonde.fr/international/article/2023/09/28/otan.html">a</a>'
    other_page = '<a href="https://www.lemonde.fr/autre">b</a>'
    assert clean_inline(same_page + other_page, SOURCES, mode="exact") == same_page + "b"
    assert clean_inline(same_page, SOURCES, mode="none") == "a"
    assert clean_inline('<a href="https://anything.example/">c</a>', (), mode="any") == \
        '<a href="https://anything.example/">c</a>'
    with pytest.raises(ValueError):
        LinkPolicy(SOURCES, mode="all")  # type: ignore[arg-type]


def test_no_sources_means_no_links():
    assert clean_inline('<a href="https://www.lemonde.fr/">Le Monde</a>', set()) == "Le Monde"


def test_bold_and_italic_become_strong_and_em_and_spaces_collapse():
    out = clean_inline("<b>gras</b>\n  et   <i>italique</i><br>ligne <img src=x>  suivante", ())
    assert out == "<strong>gras</strong> et <em>italique</em><br>ligne suivante"


def test_plain_text_angle_brackets_come_out_escaped():
    assert clean_inline("2 < 3 et 5 > 4 & co", ()) == "2 &lt; 3 et 5 &gt; 4 &amp; co"
    assert clean_text("<h1>Titre</h1> <script>x</script>& <em>fin</em>") == "Titre &amp; fin"


COMMENT_INJECTIONS = [
    "Texte --><!-- wp:html --><script>alert(1)</script><!-- /wp:html -->",
    "Texte <!-- /wp:paragraph --><!-- wp:html --><script>alert(1)</script>",
    "Texte <!-- wp:paragraph --><p onclick=alert(1)>x</p><!-- /wp:paragraph -->",
    "Texte <!--",
    "Texte --!><script>alert(1)</script>",
]


@pytest.mark.parametrize("text", COMMENT_INJECTIONS)
def test_comment_injection_in_inline_text_cannot_open_a_block(text):
    out = clean_inline(text, SOURCES)
    assert "<!--" not in out and "<script" not in out.lower()
    assert out.startswith("Texte")
    assert not _Tags(out).comments


def test_private_use_placeholders_in_input_cannot_forge_a_delimiter():
    forged = "\ue0000\ue001<script>alert(1)</script>\ue0001\ue001"
    doc = f"<!-- wp:paragraph -->\n<p>{forged}</p>\n<!-- /wp:paragraph -->"
    out = clean_document(doc, ())
    assert out == "<!-- wp:paragraph -->\n<p>01</p>\n<!-- /wp:paragraph -->"


def test_clean_document_keeps_our_blocks_and_drops_everything_else():
    doc = """<!-- wp:paragraph {"className":"evil","style":{"x":1}} -->
<p onclick="alert(1)">Un <a href="https://evil.example/">lien</a></p>
<!-- /wp:paragraph -->

<!-- wp:html -->
<script>alert(1)</script>
<!-- /wp:html -->

<!-- wp:core/embed {"url":"https://evil.example/"} /-->

<!-- wp:heading {"level":9} -->
<h2 class="wp-block-heading has-evil">Titre</h2>
<!-- /wp:heading -->

<!-- wp:list {"ordered":"yes"} -->
<ul><!-- wp:list-item -->
<li>un</li>
<!-- /wp:list-item --></ul>
<!-- /wp:list -->"""
    out = clean_document(doc, SOURCES)
    assert out == """<!-- wp:paragraph -->
<p>Un lien</p>
<!-- /wp:paragraph -->

<!-- wp:heading -->
<h2 class="wp-block-heading">Titre</h2>
<!-- /wp:heading -->

<!-- wp:list -->
<ul><!-- wp:list-item -->
<li>un</li>
<!-- /wp:list-item --></ul>
<!-- /wp:list -->"""


def test_clean_document_drops_unbalanced_delimiters():
    doc = ("<!-- wp:quote --><blockquote class=\"wp-block-quote\"><!-- wp:paragraph -->"
           "<p>a</p></blockquote><!-- /wp:quote --><!-- /wp:list --><!-- wp:paragraph -->")
    out = clean_document(doc, ())
    assert out == ('<!-- wp:quote --><blockquote class="wp-block-quote"><p>a</p></blockquote>'
                   "<!-- /wp:quote -->")


def test_delimiter_inside_an_attribute_never_comes_back_as_a_comment():
    doc = ('<p title="<!-- wp:paragraph -->"><a href="https://www.lemonde.fr/<!-- wp:html -->">'
           "x</a></p>")
    out = clean_document(doc, SOURCES)
    assert "<!--" not in out
    assert not _Tags(out).comments
    for _tag, attrs in tags_of(out):
        assert set(attrs) <= {"href"}


def test_strip_delimiters_leaves_the_html_a_reader_sees():
    html = "<!-- wp:paragraph -->\n<p>a</p>\n<!-- /wp:paragraph -->"
    assert strip_delimiters(html).strip() == "<p>a</p>"


def test_hostile_class_values_are_dropped_but_ours_stay():
    doc = ('<h3 class="wp-block-heading x"><em class="y">t</em></h3>'
           '<blockquote class="wp-block-quote is-style-large">q</blockquote>'
           '<p class="publisher-sources">s</p><p class="other">o</p>')
    out = clean_document(doc, ())
    assert out == ('<h3 class="wp-block-heading"><em>t</em></h3>'
                   '<blockquote class="wp-block-quote">q</blockquote>'
                   '<p class="publisher-sources">s</p><p>o</p>')
    assert not re.search(r"\bon\w+=", out)
