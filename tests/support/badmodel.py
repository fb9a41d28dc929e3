"""Scripted answers of a weak model: what small local models really send back.

Each function takes what a request asked (the prompt publisher sent) or what a good model
would have answered (``smart_handler``'s article JSON) and spoils it the way weak models do:

    echo_article(prompt)       the instructions copied back as the article (title « POUR
                               CHAQUE ÉLÉMENT SIGNALÉ », paragraphs « MISSION : … »)
    with_echo(data, prompt)    a real article with prompt lines slipped in (a CONTRAINTES
                               heading, « Réponds avec l'objet JSON … » closing a section)
    with_escapes(data)         ``\\n\\n``, ``\\"`` and ``\\u00e9`` written out as text, in the
                               body and in the meta fields
    with_repeats(data)         a paragraph said twice, and once more with a word changed
    with_invented_meta(data)   an organisation and a web address no source has, in the
                               title, keyphrase, tags and meta description

``bad_handler(spoil, purposes)`` answers like ``smart_handler`` and spoils the answers for
``purposes``; ``spoil`` gets ``(data, request)``.
"""

from __future__ import annotations

import copy
import re
from typing import Callable

from tests.support.fakellm import Reply, Request, make_smart_handler

INVENTED_ORG = "Global Defense Initiative"
INVENTED_URL = "https://www.global-defense-initiative.org/kyiv"


def prompt_lines(prompt: str) -> list[str]:
    """The instruction lines of a prompt (not the data between <<< >>> markers)."""
    outside = re.sub(r"<<<([^>]+)>>>.*?<<<FIN \1>>>", " ", prompt, flags=re.S)
    return [line.strip() for line in outside.splitlines()
            if len(line.split()) >= 4 and "<<<" not in line]


def echo_article(prompt: str) -> dict:
    """An 'article' that is the request's own instructions."""
    lines = prompt_lines(prompt)
    return {"title": "POUR CHAQUE ÉLÉMENT SIGNALÉ",
            "introduction": lines[:2],
            "sections": [{"heading": "CONTRAINTES", "level": 2, "paragraphs": lines[2:5],
                          "bullets": [], "quote": None},
                         {"heading": "MISSION", "level": 2, "paragraphs": lines[5:8],
                          "bullets": [], "quote": None},
                         {"heading": "Consignes de rédaction", "level": 2,
                          "paragraphs": lines[8:11], "bullets": [], "quote": None}],
            "conclusion": {"heading": "RÈGLES", "paragraphs": lines[11:13]},
            "keyphrase": "objet JSON demandé", "meta_title": lines[0][:60],
            "meta_description": lines[1][:156], "tags": ["CONTRAINTES", "MISSION"]}


def with_echo(data: dict, prompt: str) -> dict:
    """The article, with three of the prompt's lines and one of its labels in it."""
    data = copy.deepcopy(data)
    lines = prompt_lines(prompt)
    data["sections"][0]["paragraphs"].append(lines[0])
    data["sections"][1]["paragraphs"].insert(0, lines[min(3, len(lines) - 1)])
    data["sections"].insert(2, {"heading": "CONTRAINTES", "level": 2,
                                "paragraphs": [lines[min(5, len(lines) - 1)]], "bullets": [],
                                "quote": None})
    data["conclusion"]["paragraphs"].append(
        "Réponds avec l'objet JSON demandé, sans aucun texte avant ou après.")
    return data


def _escaped(text: str) -> str:
    return text.replace("é", "\\u00e9").replace('"', '\\"')


def with_escapes(data: dict) -> dict:
    """Every section's paragraphs glued with a written-out \\n\\n, accents and quotation
    marks written as escapes, the meta fields with \\n inside."""
    data = copy.deepcopy(data)
    for section in data["sections"]:
        section["paragraphs"] = ["\\n\\n".join(_escaped(p) for p in section["paragraphs"])]
    data["introduction"] = ["\\n".join(data["introduction"])]
    data["title"] = _escaped(data["title"]) + "\\n"
    data["meta_title"] = _escaped(data["meta_title"])
    data["meta_description"] = "\\n" + _escaped(data["meta_description"]) + "\\n\\n"
    data["tags"] = [_escaped(t) + "\\t" for t in data["tags"]]
    return data


def with_repeats(data: dict) -> dict:
    """The first section's first paragraph again at the end of the second section, and a copy
    with one word changed in the third."""
    data = copy.deepcopy(data)
    first = data["sections"][0]["paragraphs"][0]
    data["sections"][1]["paragraphs"].append(first)
    words = first.split()
    words[len(words) // 2] = "notamment"
    data["sections"][2]["paragraphs"].append(" ".join(words))
    return data


def with_invented_meta(data: dict) -> dict:
    """An organisation and an address that no source names, in every SEO suggestion."""
    data = copy.deepcopy(data)
    data["title"] = f"{data['title']} selon la {INVENTED_ORG}"
    data["keyphrase"] = INVENTED_ORG
    data["meta_title"] = f"{INVENTED_ORG} : le point"
    data["meta_description"] = (f"{data['meta_description'][:100]} Lire l'analyse complète "
                                f"sur {INVENTED_URL}")
    data["tags"] = [*data["tags"][:3], INVENTED_ORG, INVENTED_URL]
    return data


Spoil = Callable[[dict, Request], dict]


def bad_handler(spoil: Spoil, purposes: tuple[str, ...] = ("write",), **smart):
    """A handler answering like ``make_smart_handler(**smart)``, with the answers for
    ``purposes`` spoiled."""
    good = make_smart_handler(**smart)

    def handler(request: Request) -> Reply:
        reply = good(request)
        if request.purpose in purposes and isinstance(reply.json, dict):
            return Reply(json=spoil(reply.json, request))
        return reply
    return handler
