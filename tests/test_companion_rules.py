"""One set of SEO thresholds (publisher/seo/rules.py): the checks, the builders, the dry-run
preview and the editor panel's rules.json all say the same numbers."""

from __future__ import annotations

import json
from dataclasses import replace

from publisher.render.preview import render_preview, serp, text_width
from publisher.seo import build, rules
from publisher.seo.checks import seo_checks
from publisher.seo.width import title_width_px
from tests.test_render_preview import sample_inputs


def test_rules_json_for_the_editor_panel_equals_the_module():
    stored = json.loads(rules.RULES_JSON.read_text(encoding="utf-8"))
    assert stored == json.loads(json.dumps(rules.as_dict())), \
        "rules.json is stale: run .venv/bin/python -m publisher.seo.rules"


def test_export_writes_what_as_dict_holds(tmp_path):
    path = rules.export(tmp_path / "rules.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["description"]["min"] == rules.DESC_MIN
    assert data["description"]["max"] == rules.DESC_MAX
    assert data["title"]["max_px"] == rules.TITLE_MAX_PX
    assert data["arial_units"]["chars"]["M"] > data["arial_units"]["chars"]["i"]


def test_preview_and_checks_give_the_same_description_range():
    draft, seo, report = sample_inputs()
    article_checks = seo_checks(_article(), seo)
    detail = next(c.detail for c in article_checks if c.id == "meta_description_length")
    page = render_preview(draft, seo, report)
    wanted = f"recommandé : {rules.DESC_MIN} à {rules.DESC_MAX}"
    assert wanted in detail and wanted in page
    assert "idéal" not in page


def test_preview_title_note_uses_the_check_pixel_width():
    _, seo, _ = sample_inputs()
    short = replace(seo, meta_title="Défense aérienne : l’OTAN promet d’aider l’Ukraine")
    s = serp(short)
    assert s.title_px == round(title_width_px(short.meta_title))
    assert round(text_width("Hello", rules.TITLE_FONT_PX), 1) == title_width_px("Hello")
    assert rules.title_note(s.title_chars, s.title_px) == (
        f"Titre SEO : {len(short.meta_title)} caractères (max. {rules.TITLE_MAX_CHARS}), "
        f"{s.title_px} px (max. {round(rules.TITLE_MAX_PX)} px)")


def test_builders_keep_within_the_shared_rules():
    assert build.DESC_MIN == rules.DESC_MIN and build.DESC_MAX == rules.DESC_MAX
    desc = build.meta_description(_article(), "défense aérienne", "")
    assert len(desc) <= rules.DESC_MAX


def _article():
    from publisher.models import Article, Block, Section
    para = ("Jens Stoltenberg a promis jeudi à Kiev que les alliés enverraient davantage de "
            "systèmes de défense aérienne à l’Ukraine avant l’hiver. ")
    return Article(title="L’OTAN promet plus de défense aérienne à l’Ukraine",
                   intro=(Block(text=para * 2),),
                   sections=(Section("La défense aérienne avant l’hiver", (Block(text=para),)),),
                   conclusion=Section("Un hiver décisif", (Block(text=para),)))
