"""An answer the quality gate refuses — not French, under half the length asked — never reaches
WordPress: `draft` keeps it as a dry-run folder with its reasons and fails with the first one
(exit 1), whatever the command line says. Real local WordPress, scripted model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from publisher import api
from publisher.api import DraftRequest
from publisher.errors import QualityError
from tests.support.fakellm import FakeLLM, Reply, make_smart_handler, scripted_article

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "fixtures" / "seeds" / "000_26b4b37e47165035.txt"

ITALIAN = [
    "Il segretario generale della NATO ha visitato Kiev giovedì per incontrare il presidente "
    "ucraino e discutere delle nuove forniture di difesa aerea.",
    "Secondo i funzionari, i paesi membri dovrebbero inviare altri sistemi prima dell'inverno, "
    "quando si attendono attacchi contro le infrastrutture energetiche.",
    "Il presidente ucraino ha ringraziato gli alleati per il sostegno ricevuto finora, ma ha "
    "chiesto di accelerare le consegne promesse nelle ultime settimane.",
    "La visita arriva in un momento delicato per la controffensiva, che procede più lentamente "
    "del previsto secondo molti osservatori militari.",
    "Il ministro britannico della difesa ha incontrato a sua volta i responsabili ucraini nella "
    "capitale per parlare di addestramento e di munizioni.",
    "Gli analisti ritengono che la questione della difesa aerea resterà centrale nei prossimi "
    "mesi, anche per proteggere le città e le centrali elettriche.",
]


def italian_article() -> dict:
    paragraphs = [" ".join(ITALIAN[i:] + ITALIAN[:i]) for i in range(len(ITALIAN))]
    return {"title": "La NATO a Kiev: cosa sapere sugli ultimi annunci",
            "introduction": [paragraphs[0]],
            "sections": [{"heading": f"Difesa aerea: punto {n}", "level": 2,
                          "paragraphs": [p], "bullets": [], "quote": None}
                         for n, p in enumerate(paragraphs[1:4], 1)],
            "conclusion": {"heading": "Cosa ricordare", "paragraphs": [paragraphs[4]]},
            "keyphrase": "difesa aerea", "meta_title": "Difesa aerea: la NATO a Kiev",
            "meta_description": "La NATO a Kiev per parlare di difesa aerea con il presidente "
                                "ucraino: le richieste, gli impegni e le prossime consegne.",
            "tags": ["NATO", "Kiev"]}


def posts_by(site, role: str = "author") -> list[dict]:
    user = site.users[role]
    response = requests.get(site.api("/wp/v2/posts"), auth=(user.username, user.app_password),
                            params={"status": "draft,pending,publish,future", "per_page": 100,
                                    "author": user.id, "context": "edit"}, timeout=30)
    response.raise_for_status()
    return response.json()


def draft_with(site, server: FakeLLM, tmp_path: Path):
    # A source of its own: the seed may have been drafted on this site by another test.
    source = tmp_path / "source.txt"
    source.write_text(SEED.read_text(encoding="utf-8") + f"\n\nRéf. {tmp_path.name}\n",
                      encoding="utf-8")
    settings = site.settings("author", OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY="k",
                             PUBLISHER_MODEL="test-model",
                             PUBLISHER_DB=f"sqlite:///{tmp_path}/state.db",
                             PUBLISHER_DRAFTS_DIR=str(tmp_path / "drafts"))
    return api.draft(DraftRequest((str(source),)), settings)


@pytest.mark.wordpress
def test_an_article_that_stays_foreign_is_kept_back_not_pushed(wp_site, tmp_path):
    before = {p["id"] for p in posts_by(wp_site)}
    with FakeLLM(lambda request: Reply(json=italian_article())) as server:
        with pytest.raises(QualityError) as err:
            draft_with(wp_site, server, tmp_path)
        purposes = server.purposes()
    assert err.value.reason in ("under_half_length", "not_french")    # the first reason
    assert purposes[0] == "write" and "translate" in purposes      # repaired once, in vain
    assert "seo_parts" not in purposes and "seo_meta" not in purposes   # nothing polished
    assert {p["id"] for p in posts_by(wp_site)} == before          # nothing reached WordPress
    folder = next((tmp_path / "drafts").iterdir())
    payload = json.loads((folder / "payload.json").read_text())
    assert "not_french" in payload["report"]["blocking"]
    assert str(folder) in str(err.value)


@pytest.mark.wordpress
def test_an_answer_under_half_the_length_is_kept_back(wp_site, tmp_path):
    source = SEED.read_text(encoding="utf-8")
    short = scripted_article(source, 250)          # 250 words for 700 asked: under half
    before = {p["id"] for p in posts_by(wp_site)}
    handler = make_smart_handler()

    def answer(request):
        if request.purpose == "write":
            return Reply(json=short)
        if request.purpose == "expand":            # the model has nothing more to say
            return Reply(json={"sections": []})
        return handler(request)
    with FakeLLM(answer) as server:
        with pytest.raises(QualityError) as err:
            draft_with(wp_site, server, tmp_path)
    assert err.value.reason == "under_half_length"
    assert {p["id"] for p in posts_by(wp_site)} == before
    assert any((tmp_path / "drafts").iterdir())
