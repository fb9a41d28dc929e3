"""Loading sources from files and stdin, several at once, and one clear error per bad input."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from publisher.config import Settings
from publisher.errors import SourceError
from publisher.models import Brief
from publisher.sources.load import MAX_BYTES, load_source, load_sources

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = FIXTURES / "seeds"
SEED = {n[:3]: SEEDS / n for n in (p.name for p in SEEDS.glob("*.txt"))}


def settings(**overrides) -> Settings:
    return Settings.from_mapping({"PUBLISHER_DB": "sqlite://", **overrides})


# --- files ----------------------------------------------------------------------------------

def test_file_with_brief():
    source, brief = load_source(str(SEED["000"]))
    assert brief is not None and brief.min_words == 700 and brief.language == "fr"
    assert source.origin == str(SEED["000"])
    assert source.text.startswith("Le secrétaire général de l’OTAN, Jens Stoltenberg, demandera")
    assert "Make this article" not in source.text
    assert source.author == "Veronika Melkozerova"
    assert source.removed == ("Veronika Melkozerova a contribué à ce rapport.",)


@pytest.mark.parametrize("key", ["002", "003", "004"])
def test_file_without_brief_has_title(key):
    source, brief = load_source(str(SEED[key]))
    assert brief is None
    assert source.title and source.title not in source.text.split("\n\n")


def test_euronews_metadata_from_the_byline():
    source, _ = load_source(str(SEED["004"]))
    assert (source.site_name, source.author, source.label) == ("Euronews", "Shona Murray",
                                                              "Euronews")
    assert "PUBLICITÉ" in source.removed and "PUBLICITÉ" not in source.text


def test_utf8_bom_and_cp1252_files(tmp_path):
    text = "Le secrétaire général de l'OTAN s'est rendu à Kiev. « Chaque mètre compte », a-t-il dit."
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    legacy = tmp_path / "windows.txt"
    legacy.write_bytes(text.encode("cp1252"))
    assert load_source(str(bom))[0].text == text
    assert load_source(str(legacy))[0].text == text


def test_saved_html_page_goes_through_trafilatura(tmp_path):
    page = tmp_path / "page.html"
    shutil.copy(FIXTURES / "pages" / "gazette-stoltenberg-kiev.html", page)
    source, brief = load_source(str(page))
    assert brief is None
    assert source.site_name == "La Gazette du Matin" and source.origin == str(page)
    assert "Publicité" not in source.text and "<p>" not in source.text


# --- stdin ----------------------------------------------------------------------------------

def test_stdin_text_and_bytes():
    raw = SEED["001"].read_text("utf-8")
    from_text, brief = load_source("-", stdin=io.StringIO(raw))
    from_bytes, _ = load_source("-", stdin=io.BytesIO(raw.encode("utf-8")))
    assert from_text == from_bytes
    assert from_text.origin == "-" and brief.min_words == 700
    assert from_text.text.startswith("Le président ukrainien Volodymyr Zelenskyy a exhorté")


def test_stdin_errors():
    with pytest.raises(SourceError) as empty:
        load_source("-", stdin=io.StringIO("  \n\n "))
    assert empty.value.reason == "empty" and "stdin" in str(empty.value)
    with pytest.raises(SourceError) as binary:
        load_source("-", stdin=io.BytesIO(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
    assert binary.value.reason == "binary"
    with pytest.raises(SourceError) as big:
        load_source("-", stdin=io.BytesIO(b"a" * (MAX_BYTES + 1)))
    assert big.value.reason == "too_large"


# --- bad files: one clear error each -----------------------------------------------------------

def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("make, reason, says", [
    (lambda t: str(t / "absent.txt"), "not_found", "no such file"),
    (lambda t: str(t), "is_directory", "is a directory"),
    (lambda t: _write(t, "empty.txt", b""), "empty", "is empty"),
    (lambda t: _write(t, "blank.txt", b" \n\t\n"), "empty", "is empty"),
    (lambda t: _write(t, "image.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01"), "binary", "binary"),
    (lambda t: _write(t, "noise.bin", bytes(range(128, 256)) * 8), "binary", "not readable text"),
    (lambda t: _write(t, "huge.txt", b"Texte. " * (MAX_BYTES // 7 + 1)), "too_large", "2 MB"),
    (lambda t: _write(t, "brief.txt", b"Rewrite this article in 900 words\n"), "no_article",
     "no article text"),
    (lambda t: _write(t, "furniture.txt", "Publicité\nPartager cet article\nLoader\n".encode()),
     "no_article", "no article text"),
])
def test_bad_files(tmp_path, make, reason, says):
    spec = make(tmp_path)
    with pytest.raises(SourceError) as err:
        load_source(spec)
    assert err.value.reason == reason
    message = str(err.value)
    assert says in message and "\n" not in message
    if reason != "is_directory":
        assert Path(spec).name in message or spec == "-"


def test_other_url_schemes_are_refused():
    with pytest.raises(SourceError) as err:
        load_source("ftp://example.com/article.txt")
    assert err.value.reason == "not_http" and "only http(s)" in str(err.value)


# --- several sources ---------------------------------------------------------------------------

def test_several_sources_one_story():
    specs = [str(SEED[k]) for k in ("002", "003", "004")]
    sources, brief = load_sources(specs, settings=settings(PUBLISHER_MIN_WORDS="800"))
    assert [s.origin for s in sources] == specs
    assert brief == Brief(min_words=800)                       # no brief: the settings' length
    # how the article credits each: site name when known, else the headline
    assert [s.label for s in sources] == [
        'Stoltenberg à Kiev déclare que les forces ukrainiennes gagnent "progressivement" du '
        'terrain', "Reuters", "Euronews"]


def test_first_brief_wins_and_duplicates_go(tmp_path):
    copy = tmp_path / "copie.txt"
    copy.write_text(SEED["002"].read_text("utf-8") + "\n\n\n")   # same text once cleaned
    second = tmp_path / "consigne.txt"
    second.write_text("Réécris cet article en 1500 mots, ton formel\n"
                      + SEED["003"].read_text("utf-8"), encoding="utf-8")
    specs = [str(SEED["002"]), str(copy), str(SEED["000"]), str(second), str(SEED["000"])]
    sources, brief = load_sources(specs)
    assert [s.origin for s in sources] == [str(SEED["002"]), str(SEED["000"]), str(second)]
    assert brief.min_words == 700 and brief.instruction.startswith("Make this article")


@pytest.mark.parametrize("specs", [[], [""], ["  "]])
def test_no_sources(specs):
    with pytest.raises(SourceError) as err:
        load_sources(specs)
    assert err.value.reason == "no_source"
