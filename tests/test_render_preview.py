"""The editor's preview page (SERP maths, escaping, self-containment) and the dry-run folder."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from publisher.errors import PublisherError
from publisher.models import Article, Block, Check, Draft, Report, SeoMeta, Section, Source, Usage
from publisher.render.blocks import render_article
from publisher.render.preview import (DESC_CHARS, DESC_PX, DESC_SIZE, FORMAT, TITLE_PX,
                                      TITLE_SIZE, cut, read_dry_run, render_preview, serp,
                                      text_width, write_dry_run)
from tests.test_render_sanitize import tags_of

SOURCE = Source(text="…", url="https://www.lemonde.fr/international/article/2023/09/28/otan.html",
                site_name="Le Monde")


def sample_inputs(title: str = "L’OTAN promet plus de défense aérienne à l’Ukraine"):
    """A realistic draft, its SEO and its report, as the pipeline would hand them over."""
    article = Article(
        title=title,
        intro=(Block(text="Jens Stoltenberg s’est rendu à <strong>Kiev</strong> jeudi, où il a "
                          "promis de mobiliser les alliés."),),
        sections=(
            Section("Une demande pressante de Kiev", (
                Block(text="« Le secrétaire général a accepté de faire ses efforts pour nous "
                           "aider », a déclaré Volodymyr Zelensky."),
                Block(kind="list", items=("Systèmes de défense aérienne", "Munitions")),)),
            Section("2,4 milliards d’euros de contrats", (
                Block(kind="quote", text="Aujourd’hui, vos forces avancent.",
                      cite="Jens Stoltenberg"),)),
        ),
        conclusion=Section("Un hiver décisif", (Block(text="Les frappes sont attendues."),)),
    )
    content = render_article(article, [SOURCE])
    draft = Draft(title=title, content=content, excerpt="L’OTAN va aider l’Ukraine.",
                  slug="otan-defense-aerienne-ukraine", tags=("OTAN", "Ukraine"),
                  categories=("International",), source_url=SOURCE.url, word_count=712,
                  warnings=("Image sans crédit",), image="https://img.example/otan.jpg",
                  image_credit="AFP")
    seo = SeoMeta(
        keyphrase="défense aérienne Ukraine",
        meta_title="Défense aérienne : l’OTAN promet d’aider l’Ukraine avant l’hiver et les "
                   "frappes russes attendues sur les infrastructures",
        meta_description="Jens Stoltenberg, en visite à Kiev, va demander aux membres de l’OTAN "
                         "d’envoyer davantage de systèmes de défense aérienne à l’Ukraine avant "
                         "les frappes russes attendues cet hiver sur le réseau électrique.",
        slug="otan-defense-aerienne-ukraine", tags=("OTAN", "Ukraine", "Défense"),
        category="International")
    report = Report(
        word_count=712, target_words=700, warnings=("Le titre dépasse 60 caractères",),
        untraceable=("3 milliards d’euros",), repairs=("Paragraphe ajouté : section 2",),
        checks=(Check("keyphrase_in_title", "Requête cible dans le titre SEO", "good"),
                Check("meta_length", "Longueur de la méta-description", "ok", "171 caractères"),
                Check("min_words", "Longueur de l’article", "good", "712 mots"),
                Check("passive", "Phrases à la voix passive", "bad", "18 % (max 10 %)")),
        usage=(Usage("gpt-4o-mini", "write", 1800, 1300, 12.5, 0.0011),
               Usage("gpt-4o-mini", "expand", 2500, 400, 4.0, 0.0006)),
        sources=("Le Monde — " + SOURCE.url,))
    return draft, seo, report


# ---------------------------------------------------------------------------- SERP maths

def test_text_width_uses_arial_metrics():
    assert text_width("Hello", 20) == pytest.approx((722 + 556 + 222 + 222 + 556) * 0.02)
    assert text_width("é", 14) == text_width("e", 14)
    assert text_width("iiii", 20) < text_width("MMMM", 20)


def test_short_title_is_shown_whole():
    assert cut("Un titre court", TITLE_PX, TITLE_SIZE) == ("Un titre court", False)


def test_long_title_is_cut_at_a_word_with_an_ellipsis_within_600px():
    long_title = "Défense aérienne : l’OTAN promet d’aider l’Ukraine avant l’hiver et les frappes"
    shown, was_cut = cut(long_title, TITLE_PX, TITLE_SIZE)
    assert was_cut and shown.endswith(" …")
    assert text_width(shown, TITLE_SIZE) <= TITLE_PX
    assert long_title.startswith(shown[:-2])
    assert long_title[len(shown) - 2] == " ", "cut between words"


def test_description_is_cut_near_160_characters():
    desc = " ".join(["il y a"] * 40)             # narrow letters: the 160 characters bind first
    shown, was_cut = cut(desc, DESC_PX, DESC_SIZE, DESC_CHARS)
    assert was_cut and 150 < len(shown) <= DESC_CHARS and shown.endswith(" …")
    wide = "M" * 20 + " " + " ".join(["WWWW"] * 30)   # wide letters: pixels bind first
    shown, _ = cut(wide, DESC_PX, DESC_SIZE, DESC_CHARS)
    assert text_width(shown, DESC_SIZE) <= DESC_PX and len(shown) < 100


def test_one_enormous_word_is_cut_inside():
    shown, was_cut = cut("x" * 500, TITLE_PX, TITLE_SIZE)
    assert was_cut and text_width(shown, TITLE_SIZE) <= TITLE_PX and shown.endswith(" …")


def test_serp_breadcrumb_and_fallbacks():
    seo = SeoMeta("k", "", "", "mon-article", ())
    s = serp(seo, site_url="https://www.exemple.fr/", fallback_title="Titre",
             fallback_description="D")
    assert (s.site, s.crumbs, s.title, s.description) == (
        "exemple.fr", "https://www.exemple.fr › mon-article", "Titre", "D")
    assert serp(seo).crumbs == "https://votre-site.fr › mon-article"


# ---------------------------------------------------------------------------- the page

def test_preview_shows_everything_an_editor_needs():
    draft, seo, report = sample_inputs()
    page = render_preview(draft, seo, report, site_url="https://www.exemple.fr")
    assert '<html lang="fr">' in page
    for needle in ["L’OTAN promet plus de défense aérienne à l’Ukraine",   # title
                   "https://www.exemple.fr › otan-defense-aerienne-ukraine",  # breadcrumb
                   " …</span>",                                             # cut title
                   "Une demande pressante de Kiev", "2,4 milliards d’euros de contrats",
                   '<span class="tag">Défense</span>', "International",
                   "défense aérienne Ukraine", "712 mots</strong> pour un objectif de 700",
                   "Le titre dépasse 60 caractères", "Image sans crédit", "3 milliards d’euros",
                   "Paragraphe ajouté", "2 appel(s), 4300 jetons en entrée, 1700 en sortie, "
                   "coût estimé 0,0017 $", "18 % (max 10 %)", "Source : ",
                   "Aujourd’hui, vos forces avancent."]:
        assert needle in page, needle
    order = [page.index(f'data-check="{c}"') for c in ("passive", "meta_length",
                                                        "keyphrase_in_title")]
    assert order == sorted(order), "problems first, then improvements, then good results"
    assert re.search(r'class="check bad"[^>]*data-check="passive"', page)
    assert "<!--" not in page.split("<body>")[1], "block comments stripped"


def test_preview_is_self_contained_and_has_no_script():
    draft, seo, report = sample_inputs()
    page = render_preview(draft, seo, report)
    assert "<script" not in page.lower()
    assert "default-src 'none'" in page
    for tag, attrs in tags_of(page):
        assert tag not in {"link", "img", "iframe", "object", "embed", "script"}
        assert "src" not in attrs
    assert "url(" not in page and "@import" not in page


def test_every_dynamic_string_is_escaped():
    evil = "<script>alert(1)</script><img src=x onerror=alert(1)>"
    draft, seo, report = sample_inputs(title=evil)
    seo = SeoMeta(evil, evil, evil, evil, (evil,), evil, evil, (evil,))
    report = Report(warnings=(evil,), untraceable=(evil,), passages=(evil,), repairs=(evil,),
                    sources=(evil,), checks=(Check(evil, evil, "bad", evil), Check("x", "y", evil)),  # type: ignore
                    usage=(Usage(evil, evil),))
    draft = Draft(**{**draft.to_dict(), "tags": (evil,), "excerpt": evil, "image": evil,
                     "image_alt": evil, "image_credit": evil, "status": evil,
                     "content": draft.content + evil})
    page = render_preview(draft, seo, report, site_url=evil)
    assert "<script" not in page.lower()
    for tag, attrs in tags_of(page):
        assert tag not in {"script", "img"}
        assert not [a for a in attrs if a.startswith("on")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_each_untraceable_fact_shows_its_nearest_source_passage():
    draft, seo, report = sample_inputs()
    report = replace(report, untraceable=("3 milliards d’euros", "« une décision historique »"),
                     passages=("L’OTAN a promis 2,4 milliards d’euros à Kiev en 2024.", ""))
    page = render_preview(draft, seo, report)
    panel = page.split('class="panel untraceable"', 1)[1].split("</section>", 1)[0]
    assert "3 milliards d’euros<blockquote class=\"passage\">Passage le plus proche : " \
           "L’OTAN a promis 2,4 milliards d’euros à Kiev en 2024.</blockquote>" in panel
    assert panel.count("<blockquote") == 1          # no passage found: none shown


def test_outline_falls_back_to_the_content_headings():
    draft, seo, report = sample_inputs()
    page = render_preview(draft, seo, report)
    outline = page.split('<ol class="outline">')[1].split("</ol>")[0]
    assert re.findall(r"<li>(.*?)</li>", outline) == [
        "Une demande pressante de Kiev", "2,4 milliards d’euros de contrats", "Un hiver décisif"]


# ---------------------------------------------------------------------------- dry-run folder

def test_dry_run_folder_holds_payload_content_and_preview(tmp_path):
    draft, seo, report = sample_inputs()
    folder = write_dry_run(tmp_path / "story", draft, seo, report, site_url="https://exemple.fr")
    assert folder == tmp_path / "story"
    payload = json.loads((folder / "payload.json").read_text(encoding="utf-8"))
    assert payload["format"] == FORMAT == "publisher-draft/1"
    assert payload["seo"]["keyphrase"] == "défense aérienne Ukraine"
    assert payload["report"]["llm_calls"] == 2 and payload["report"]["checks"][3]["status"] == "bad"
    assert Draft.from_dict(payload) == draft
    assert (folder / "content.html").read_text(encoding="utf-8").strip() == draft.content
    assert "Aperçu dans Google" in (folder / "preview.html").read_text(encoding="utf-8")
    read, raw = read_dry_run(folder)
    assert read == draft and raw["seo"] == payload["seo"]


def test_an_edited_content_html_wins_but_is_sanitized_again(tmp_path):
    draft, seo, report = sample_inputs()
    folder = write_dry_run(tmp_path, draft, seo, report)
    edited = ('<!-- wp:paragraph -->\n<p>Relu par la rédaction, <a href="https://www.elysee.fr/">'
              "voir</a>.<script>alert(1)</script></p>\n<!-- /wp:paragraph -->\n"
              "<!-- wp:html --><iframe src=https://evil.example></iframe><!-- /wp:html -->")
    (folder / "content.html").write_text(edited, encoding="utf-8")
    read, _ = read_dry_run(folder)
    assert read.content == ('<!-- wp:paragraph -->\n<p>Relu par la rédaction, '
                            '<a href="https://www.elysee.fr/">voir</a>.</p>\n'
                            "<!-- /wp:paragraph -->")
    assert read.title == draft.title


def test_an_edit_of_the_payload_content_alone_is_not_overridden_by_the_untouched_file(tmp_path):
    # README: "Edit content.html or payload.json". The untouched content.html used to win and
    # the editor's payload.json edit was silently dropped.
    draft, seo, report = sample_inputs()
    folder = write_dry_run(tmp_path, draft, seo, report)
    payload = json.loads((folder / "payload.json").read_text(encoding="utf-8"))
    payload["content"] = draft.content.replace("</p>", " Relu par la rédaction.</p>", 1)
    (folder / "payload.json").write_text(json.dumps(payload, ensure_ascii=False), "utf-8")
    read, _ = read_dry_run(folder)
    assert "Relu par la rédaction." in read.content
    (folder / "content.html").write_text("<!-- wp:paragraph -->\n<p>Les deux.</p>\n"
                                         "<!-- /wp:paragraph -->", encoding="utf-8")
    assert "Les deux." in read_dry_run(folder)[0].content, "an edited content.html still wins"


def test_a_folder_without_a_valid_payload_says_what_to_do(tmp_path):
    with pytest.raises(PublisherError, match="dry-run"):
        read_dry_run(tmp_path)
    (tmp_path / "payload.json").write_text('{"title": "x"}', encoding="utf-8")
    with pytest.raises(PublisherError, match="not a publisher-draft/1 payload") as err:
        read_dry_run(tmp_path)
    assert err.value.reason == "bad_dry_run"
