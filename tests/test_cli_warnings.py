"""What `alliance-bot feeds fetch --once` and `ingest` tell the operator when something fails."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[1]


class _Broken(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # the test's output is the CLI's, not the server's


@pytest.fixture
def broken_feed() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Broken)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/rss.xml"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env is read, data/ lands in tmp
    monkeypatch.setenv("ALLIANCE_DB", str(tmp_path / "data" / "alliance.db"))
    monkeypatch.setenv("ALLIANCE_SEEDS", str(ROOT / "seeds"))


def test_fetch_once_shows_a_failure_once_and_exits_1(
    capsys: pytest.CaptureFixture[str], broken_feed: str
) -> None:
    """A failing feed is one `warning:` line on stderr, counted in the summary; exit code 1."""
    assert main(["feeds", "add", broken_feed, "--name", "壊れた"]) == 0
    capsys.readouterr()
    code = main(["feeds", "fetch", "--once"])
    out, err = capsys.readouterr()
    assert code == 1
    assert (out + err).count("HTTP 500") == 1
    assert f"warning: feed {broken_feed}: HTTP 500" in err
    assert out == "1 feeds fetched: 0 new articles, 1 failed\n"


def test_ingest_shows_a_hostile_file_name_escaped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A file name with terminal escapes reaches stderr escaped, never as raw control bytes."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "evil\x1b]0;pwned\x07.txt").write_bytes(b"")
    assert main(["ingest", str(folder)]) == 0
    err = capsys.readouterr().err
    assert "warning: evil\\x1b]0;pwned\\x07.txt: empty file" in err
    assert "\x1b" not in err
    assert "\x07" not in err
