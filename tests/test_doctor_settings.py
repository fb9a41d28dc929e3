"""`publisher doctor` names the PUBLISHER_* keys no setting reads, with the nearest known key
(issue 13, part 5): a misspelt key is otherwise ignored and its default silently used."""

from __future__ import annotations

import os
import subprocess
import sys

from publisher.doctor import check_setting_names

PUBLISHER = [sys.executable, "-c", "from publisher.cli import main; main()"]


def _env_file(tmp_path, text: str) -> str:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return str(path)


def test_typos_in_the_file_and_the_environment_are_named_with_their_fix(tmp_path):
    env_file = _env_file(tmp_path, "PUBLISHER_FEED_MAX_ITEM=10\nPUBLISHER_MODEL=gpt-4o\n"
                                   "OPENAI_API_KEY=sk-test\n")
    results = check_setting_names(env_file, environ={"PUBLISHER_MIN_WORD": "900",
                                                     "PUBLISHER_DB": "x.db", "PATH": "/bin"})
    by_detail = {r.detail.split(" ")[0]: r for r in results}
    assert set(by_detail) == {"PUBLISHER_FEED_MAX_ITEM", "PUBLISHER_MIN_WORD"}
    file_typo, env_typo = by_detail["PUBLISHER_FEED_MAX_ITEM"], by_detail["PUBLISHER_MIN_WORD"]
    assert file_typo.status == env_typo.status == "warn"
    assert f"(in {env_file})" in file_typo.detail and "(in the environment)" in env_typo.detail
    assert file_typo.fix == "rename it to PUBLISHER_FEED_MAX_ITEMS"
    assert env_typo.fix == "rename it to PUBLISHER_MIN_WORDS"


def test_known_names_and_other_variables_are_fine(tmp_path):
    env_file = _env_file(tmp_path, "PUBLISHER_DB=state.db\nWP_URL=http://wp.test\n")
    [result] = check_setting_names(env_file, environ={"PUBLISHER_TEST_PG": "postgresql://x/y",
                                                      "HOME": "/root"})
    assert result.status == "ok"


def test_a_name_close_to_nothing_points_to_the_example_file(tmp_path):
    [result] = check_setting_names(str(tmp_path / "absent.env"),
                                   environ={"PUBLISHER_WIBBLE_WOBBLE": "1"})
    assert result.status == "warn" and result.fix == "see .env.example for the setting names"


def test_the_doctor_command_prints_the_typo_and_its_fix(tmp_path):
    _env_file(tmp_path, "PUBLISHER_MODLE=gpt-4o-mini\nPUBLISHER_LOCAL_LLM_PORTS=off\n"
                        f"PUBLISHER_DB={tmp_path}/state.db\n")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WP_", "OPENAI_", "PUBLISHER_"))}
    proc = subprocess.run([*PUBLISHER, "doctor"], cwd=tmp_path, env=env, text=True,
                          capture_output=True, timeout=120)
    assert ("[warn] setting names: PUBLISHER_MODLE (in .env) is not a setting publisher reads"
            in proc.stdout), proc.stdout + proc.stderr
    assert "fix: rename it to PUBLISHER_MODEL" in proc.stdout
    assert "[ok  ] database:" in proc.stdout           # the plain path was accepted
