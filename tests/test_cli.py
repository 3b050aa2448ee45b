"""The `alliance-bot` CLI, run in-process against a temp database."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env is read, data/ lands in tmp
    monkeypatch.setenv("ALLIANCE_DB", str(tmp_path / "data" / "alliance.db"))
    monkeypatch.setenv("ALLIANCE_SEEDS", str(ROOT / "seeds"))
    for name in ("DISCORD_TOKEN", "ALLIANCE_TIMEZONE", "ALLIANCE_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_latest_seeds_an_empty_db(capsys: pytest.CaptureFixture[str]) -> None:
    """`latest` on an empty database loads the seeds and prints the newest articles."""
    code, out, _ = run(capsys, "latest", "--limit", "3")
    assert code == 0
    assert out.count("#") == 3
    assert "台湾有事の退避" in out


def test_latest_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    """`latest --json` prints results in the documented shape, with Japanese unescaped."""
    code, out, _ = run(capsys, "latest", "--json", "--limit", "5")
    payload = json.loads(out)
    assert code == 0
    assert payload["total"] == 21
    assert len(payload["results"]) == 5
    first = payload["results"][0]
    assert set(first) >= {"id", "title", "body", "published", "date_inferred", "topics", "source"}
    assert isinstance(first["date_inferred"], bool)
    assert "\\u" not in out


def test_latest_by_topic(capsys: pytest.CaptureFixture[str]) -> None:
    """`latest --topic` only lists articles of that topic."""
    code, out, _ = run(capsys, "latest", "--topic", "nuclear", "--json")
    payload = json.loads(out)
    assert code == 0
    assert payload["results"]
    assert all("nuclear" in r["topics"] for r in payload["results"])


@pytest.mark.parametrize(
    "argv",
    [
        ["latest", "--topic", "nope"],
        ["latest", "--limit", "0"],
        ["latest", "--limit", "many"],
        ["show", "abc"],
        ["show", "99999"],
        ["ingest", "/no/such/file.txt"],
        ["search", ""],
        ["search", "x" * 10_000],
        ["frobnicate"],
        [],
    ],
)
def test_bad_usage_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """Bad usage or input exits 2 with a short message on stderr and no traceback."""
    try:
        code: object = main(argv)
    except SystemExit as exited:  # argparse exits by itself on usage errors
        code = exited.code
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    assert 0 < len(err.strip().splitlines()) <= 3


def test_invalid_setting_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An invalid setting names the variable in one line and exits 2."""
    monkeypatch.setenv("ALLIANCE_TIMEZONE", "Mars/Olympus")
    code, _, err = run(capsys, "latest")
    assert code == 2
    assert err.strip().count("\n") == 0
    assert "ALLIANCE_TIMEZONE" in err


def test_topics_lists_every_topic(capsys: pytest.CaptureFixture[str]) -> None:
    """`topics --json` lists the ten topics with counts that add up to at least 21."""
    code, out, _ = run(capsys, "topics", "--json")
    payload = json.loads(out)
    slugs = {t["slug"] for t in payload["results"]}
    assert code == 0
    assert {"taiwan", "nuclear", "spending", "southwest", "us-politics"} <= slugs
    assert sum(t["count"] for t in payload["results"]) >= 21


def test_topics_text(capsys: pytest.CaptureFixture[str]) -> None:
    """`topics` prints one line per topic with its Japanese label."""
    code, out, _ = run(capsys, "topics")
    assert code == 0
    assert "台湾有事" in out
    assert len(out.strip().splitlines()) >= 10


def test_show_prints_whole_article(capsys: pytest.CaptureFixture[str]) -> None:
    """`show ID` prints the full body of that article."""
    _, out, _ = run(capsys, "latest", "--json", "--limit", "21")
    long_one = max(json.loads(out)["results"], key=lambda r: len(r["body"]))
    code, out, _ = run(capsys, "show", str(long_one["id"]))
    assert code == 0
    assert long_one["body"] in out
    code, out, _ = run(capsys, "show", str(long_one["id"]), "--json")
    assert json.loads(out)["results"][0]["id"] == long_one["id"]


def test_search_finds_and_reports_total(capsys: pytest.CaptureFixture[str]) -> None:
    """`search 核 --json` returns nuclear articles with snippets and a total."""
    code, out, _ = run(capsys, "search", "核", "--json")
    payload = json.loads(out)
    assert code == 0
    assert payload["total"] >= 2
    assert all("核" in r["title"] + r["body"] for r in payload["results"])
    assert all("**" in r["snippet"] for r in payload["results"])


def test_search_nothing_found_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """A search with no match is not an error."""
    code, out, _ = run(capsys, "search", "zzzqqqxxx")
    assert code == 0
    assert "no results" in out


def test_ingest_reports_counts(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`ingest` prints added/updated/unchanged/skipped and is idempotent."""
    code, out, _ = run(capsys, "ingest", str(ROOT / "seeds"))
    assert code == 0
    assert "added 21" in out
    code, out, _ = run(capsys, "ingest", str(ROOT / "seeds"))
    assert "added 0" in out
    assert "unchanged 21" in out


def test_ingest_warns_about_unreadable_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An unreadable file is named in a warning; the command still succeeds."""
    bad = tmp_path / "broken.jsonl"
    bad.write_bytes(b'{"title": "x"\n\xff\xfe\x00garbage\n')
    code, _, err = run(capsys, "ingest", str(bad))
    assert code == 0
    assert "broken.jsonl" in err


def test_python_dash_m_bot_runs(tmp_path: Path) -> None:
    """`python -m bot latest` works as a fresh process."""
    env = {
        **os.environ,
        "ALLIANCE_DB": str(tmp_path / "m.db"),
        "ALLIANCE_SEEDS": str(ROOT / "seeds"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "latest", "--limit", "1"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("#")


def test_healthcheck_without_a_running_bot(capsys: pytest.CaptureFixture[str]) -> None:
    """`healthcheck` is unhealthy (exit 1) without a heartbeat, healthy with --no-heartbeat."""
    assert run(capsys, "latest")[0] == 0
    code, _, err = run(capsys, "healthcheck")
    assert code == 1
    assert "heartbeat" in err
    assert run(capsys, "healthcheck", "--no-heartbeat")[0] == 0


def test_backup_writes_a_consistent_copy(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`backup PATH` copies the database; the copy holds every article."""
    assert run(capsys, "latest")[0] == 0
    target = tmp_path / "backup.db"
    code, _, _ = run(capsys, "backup", str(target))
    assert code == 0
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT count(*) FROM articles").fetchone() == (21,)


def test_search_refusal_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """A query made only of symbols is refused with one line and exit code 2."""
    code, out, err = run(capsys, "search", "!!! ***")
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
