"""Inputs that are not plain UTF-8 files (issue 14, class 4): devices and FIFOs are refused
before they are read, and UTF-16/32 or Latin-1 text is read as text, not called binary."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from publisher.errors import SourceError
from publisher.sources.load import load_source

SEED = next((Path(__file__).parent / "fixtures" / "seeds").glob("000*.txt"))
TEXT = SEED.read_text(encoding="utf-8")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_is_refused_before_it_is_read(device):
    with pytest.raises(SourceError) as err:
        load_source(device)
    assert err.value.reason == "not_regular"
    assert device in str(err.value) and "- for stdin" in str(err.value)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "article.txt"
    os.mkfifo(fifo)
    with pytest.raises(SourceError) as err:
        load_source(str(fifo))
    assert err.value.reason == "not_regular"


def test_the_cli_says_one_line_for_dev_zero_and_exits_1(tmp_path):
    # A subprocess with a timeout: before the fix this read without end and died of MemoryError.
    result = subprocess.run([sys.executable, "-c", "from publisher.cli import main; main()",
                             "draft", "/dev/zero",
                             "--dry-run", "--out", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path,
                            env={**os.environ, "OPENAI_API_KEY": "sk-test", "PUBLISHER_DB": "sqlite://",
                                 "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if "/dev/zero" in line]
    assert len(lines) == 1 and "not a regular file" in lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32",
                                      "utf-8-sig", "cp1252", "latin-1"])
def test_text_in_other_encodings_is_read_as_the_same_text(tmp_path, encoding):
    text = TEXT.replace("’", "'").replace("«\u00a0", '"').replace("\u00a0»", '"')
    if encoding in ("cp1252", "latin-1"):      # no curly quotes or œ in Latin-1
        text = text.encode(encoding, "replace").decode(encoding)
    path = tmp_path / f"article-{encoding}.txt"
    path.write_bytes(text.encode(encoding))
    source, brief = load_source(str(path))
    expected, _ = load_source(_utf8(tmp_path, text))
    assert source.text == expected.text
    assert "secrétaire général" in source.text
    assert brief is not None and brief.min_words == 700


def test_real_binary_is_still_binary(tmp_path):
    path = tmp_path / "photo.txt"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(SourceError) as err:
        load_source(str(path))
    assert err.value.reason == "binary"


def _utf8(tmp_path: Path, text: str) -> str:
    path = tmp_path / "reference-utf8.txt"
    path.write_text(text, encoding="utf-8")
    return str(path)
