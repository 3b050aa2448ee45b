"""`alliance-bot digest`, run in-process against a temp database seeded from the repo's seeds."""

from __future__ import annotations

import json
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


def test_digest_json_for_the_week_of_2025_12_15(capsys: pytest.CaptureFixture[str]) -> None:
    """`digest --json` gives the week's range, its three articles, counts and total."""
    code, out, _ = run(capsys, "digest", "--week-of", "2025-12-17", "--json")
    payload = json.loads(out)
    assert code == 0
    assert (payload["week_start"], payload["week_end"]) == ("2025-12-15", "2025-12-21")
    assert sorted(a["published"] for a in payload["articles"]) == [
        "2025-12-16",
        "2025-12-17",
        "2025-12-19",
    ]
    assert payload["total"] == 3
    assert sum(payload["counts"].values()) == 3
    first = payload["articles"][0]
    assert set(first) == {"id", "title", "body", "published", "date_inferred", "topics"} | {
        "source",
        "url",
    }
    assert "\\u" not in out


def test_digest_text_in_both_languages(capsys: pytest.CaptureFixture[str]) -> None:
    """The text digest has a title, the range and one line per article, in ja and en."""
    code, out, _ = run(capsys, "digest", "--week-of", "2025-12-15")
    assert code == 0
    assert out.startswith("今週の日米同盟（2025年12月15日〜21日）")
    assert out.count("・2025年12月") == 3
    code, out, _ = run(capsys, "digest", "--week-of", "2025-12-21", "--lang", "en")
    assert code == 0
    assert "Dec 15 – 21, 2025 · 3 articles" in out
    assert out.count("• Dec ") == 3


def test_digest_of_an_empty_week_names_the_latest(capsys: pytest.CaptureFixture[str]) -> None:
    """An empty week says so and points to the newest earlier article."""
    code, out, _ = run(capsys, "digest", "--week-of", "2026-03-04", "--lang", "en")
    assert code == 0
    assert "No news this week" in out
    assert "approx. Jan 15, 2026" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["digest", "--week-of", "2025-13-01"],
        ["digest", "--week-of", "last week"],
        ["digest", "--lang", "fr"],
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """Bad input exits 2 with a single line on stderr and nothing on stdout."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    captured = capsys.readouterr()
    assert exc.value.code == 2
    assert captured.out == ""
    assert captured.err.count("\n") == 1


def test_bad_timezone_setting_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown ALLIANCE_TIMEZONE is reported in one line with exit code 2."""
    monkeypatch.setenv("ALLIANCE_TIMEZONE", "Mars/Olympus")
    code, out, err = run(capsys, "digest")
    assert code == 2
    assert out == ""
    assert "ALLIANCE_TIMEZONE" in err
    assert err.count("\n") == 1


def test_digest_does_not_import_discord(tmp_path: Path) -> None:
    """The digest command stays on the fast path: discord.py is never imported."""
    code = (
        "import sys; from bot.cli import main; rc = main(['digest', '--json']);"
        "assert rc == 0; assert 'discord' not in sys.modules, 'discord imported'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["week_start"]
