"""`publisher push` treats the dry-run folder as outside input (issue 14, class 5): a schema,
no status or date from the folder, no symbolic links or special files, images checked by their
bytes, every field cleaned as `draft` cleans it. The folder is made by a real `draft --dry-run`
(scripted LLM through the real openai client); pushes go to the real local WordPress."""

from __future__ import annotations

import json
import os
import shutil
import struct
import uuid
import zlib
from pathlib import Path

import pytest
import requests

from publisher.errors import PublisherError
from publisher.render.preview import read_dry_run
from tests.support.fakellm import FakeLLM, make_smart_handler
from tests.test_cli import SEED_000, run


@pytest.fixture(scope="module")
def made_folder(tmp_path_factory):
    """One real dry-run folder (sources of its own: the site outlives test runs)."""
    base = tmp_path_factory.mktemp("made")
    seed = base / "own.txt"
    seed.write_text(SEED_000.read_text() + f"\n\nLe dossier porte la référence {uuid.uuid4().hex}"
                    " dans les archives de la rédaction, qui le conserve.")
    with FakeLLM(make_smart_handler()) as llm:
        env = {"OPENAI_BASE_URL": llm.base_url, "OPENAI_API_KEY": "test-key",
               "PUBLISHER_MODEL": "test-model", "PUBLISHER_DB": f"sqlite:///{base}/state.db"}
        result = run(["draft", str(seed), "--dry-run", "--out", str(base / "out")], env, cwd=base)
    assert result.returncode == 0, result.stderr
    return base / "out"


@pytest.fixture
def folder(made_folder, tmp_path):
    copy = tmp_path / "folder"
    shutil.copytree(made_folder, copy)
    edit_payload(copy, source_hash=uuid.uuid4().hex)    # each push a story of its own
    return copy


def edit_payload(folder: Path, **changes) -> dict:
    payload = json.loads((folder / "payload.json").read_text())
    payload.update(changes)
    (folder / "payload.json").write_text(json.dumps(payload, ensure_ascii=False))
    return payload


def refused(folder: Path) -> str:
    with pytest.raises(PublisherError) as err:
        read_dry_run(folder)
    assert err.value.reason == "bad_dry_run"
    message = str(err.value)
    assert "\n" not in message
    return message


# --- the folder's files -----------------------------------------------------------------------

def test_content_html_as_a_link_to_a_secret_file_is_refused(folder, tmp_path):
    secret = tmp_path / ".env"
    secret.write_text("WP_APP_PASSWORD=abcd efgh ijkl mnop\n")
    (folder / "content.html").unlink()
    (folder / "content.html").symlink_to(secret)
    message = refused(folder)
    assert "content.html" in message and "symbolic link" in message
    assert "abcd" not in message


def test_payload_json_as_a_link_is_refused(folder, tmp_path):
    elsewhere = tmp_path / "elsewhere.json"
    shutil.move(folder / "payload.json", elsewhere)
    (folder / "payload.json").symlink_to(elsewhere)
    assert "symbolic link" in refused(folder)


def test_a_fifo_in_place_of_content_html_is_refused_without_hanging(folder):
    (folder / "content.html").unlink()
    os.mkfifo(folder / "content.html")
    assert "not a regular file" in refused(folder)


# --- the schema ----------------------------------------------------------------------------

@pytest.mark.parametrize("field, value, needle", [
    ("tags", "OTAN Ukraine", "'tags' must be a list"),
    ("tags", ["OTAN", 3], "list of names"),
    ("word_count", "800", "'word_count' must be an integer"),
    ("meta", ["x"], "'meta' must be an object"),
    ("title", {"raw": "x"}, "'title' must be a string"),
    ("post_author", 1, "unknown field 'post_author'"),
    ("meta", {"publisher_review": '{"user": 1}'}, "'publisher_review' is not one publisher"),
    ("meta", {"_wp_page_template": "x.php"}, "'_wp_page_template' is not one publisher"),
    ("source_hash", "../../etc", "'source_hash' is not a hash"),
])
def test_wrong_fields_are_named_in_one_line(folder, field, value, needle):
    edit_payload(folder, **{field: value})
    assert needle in refused(folder)


def test_status_and_date_never_come_from_the_folder(folder):
    edit_payload(folder, status="future", date="2031-01-01T08:00:00")
    draft, _ = read_dry_run(folder)
    assert draft.status == "draft" and draft.date == ""
    assert any("status 'future': ignored" in w for w in draft.warnings)
    assert any("date '2031-01-01T08:00:00': ignored" in w for w in draft.warnings)


def test_every_text_field_is_cleaned_as_draft_cleans_it(folder):
    edit_payload(folder, title="<script>alert(1)</script>Titre \x1b]0;pwned\x07revu\u202e",
                 excerpt="<b>Résumé</b>\x1b[31m rouge", slug="Un Slug/../Étrange",
                 tags=["<i>OTAN</i>", "OTAN", "Kiev\u200b"], image_alt="Alt\x08",
                 source_url="javascript:alert(1)")
    draft, _ = read_dry_run(folder)
    assert draft.title == "Titre revu"
    assert draft.excerpt == "Résumé rouge"
    assert draft.slug == "un-slug-etrange"
    assert draft.tags == ("OTAN", "Kiev")
    assert draft.image_alt == "Alt"
    assert draft.source_url == ""


# --- against the real WordPress -------------------------------------------------------------

def _env(site, folder: Path) -> dict:
    return {**site.env("author"), "PUBLISHER_DB": f"sqlite:///{folder.parent}/push.db"}


def _post(site, post_id):
    resp = requests.get(site.api(f"/wp/v2/posts/{post_id}"), params={"context": "edit"},
                        auth=site.auth("author"), timeout=20)
    resp.raise_for_status()
    return resp.json()


@pytest.mark.wordpress
def test_a_folder_asking_for_publication_is_pushed_as_a_draft(folder, wp_site):
    edit_payload(folder, status="publish", date="")
    result = run(["push", str(folder), "--json"], _env(wp_site, folder), cwd=folder.parent)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert _post(wp_site, out["id"])["status"] == "draft"
    assert any("ignored" in w for w in out["warnings"])


@pytest.mark.wordpress
@pytest.mark.parametrize("kind", ["link", "text named .jpg"])
def test_an_image_that_is_a_link_or_not_an_image_is_not_uploaded(folder, wp_site, tmp_path,
                                                                 kind):
    secret = tmp_path / "elsewhere" / ".env"
    secret.parent.mkdir()
    secret.write_text("WP_APP_PASSWORD=abcd efgh ijkl mnop\n")
    if kind == "link":
        (folder / "photo.jpg").symlink_to(secret)
    else:
        shutil.copyfile(secret, folder / "photo.jpg")
    edit_payload(folder, image=str(folder / "photo.jpg"))
    result = run(["push", str(folder), "--json"], _env(wp_site, folder), cwd=folder.parent)
    # The article still goes up (the text matters more), without the image, and says why.
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert _post(wp_site, out["id"])["featured_media"] == 0
    why = "symbolic link" if kind == "link" else "not a JPEG, PNG, GIF or WebP image"
    assert any("featured image not uploaded" in w and why in w for w in out["warnings"])
    assert "abcd" not in result.stdout + result.stderr


@pytest.mark.wordpress
def test_a_real_png_named_jpg_goes_up_as_a_png(folder, wp_site):
    (folder / "photo.jpg").write_bytes(_png())
    edit_payload(folder, image=str(folder / "photo.jpg"), image_alt="Une image")
    result = run(["push", str(folder), "--json"], _env(wp_site, folder), cwd=folder.parent)
    assert result.returncode == 0, result.stderr
    media_id = _post(wp_site, json.loads(result.stdout)["id"])["featured_media"]
    media = requests.get(wp_site.api(f"/wp/v2/media/{media_id}"), auth=wp_site.auth("author"),
                         params={"context": "edit"}, timeout=20).json()
    assert media["mime_type"] == "image/png"


def _png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                             0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
