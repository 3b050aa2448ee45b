"""`alliance-bot feeds add|list|fetch --once|remove` against a loopback server."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Literal

import pytest
from feedkit import DATA

from bot import feeds_cli
from bot.cli import main
from bot.core import db
from bot.core.feeds import store
from bot.core.feeds.service import FeedService

ROOT = Path(__file__).resolve().parents[3]


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path in ("/broken.xml", "/odd-phrase.xml"):
            # A reason phrase with bytes that are not UTF-8, sent as is.
            self.send_response(500, "Erreur \xe9\xff" if self.path == "/odd-phrase.xml" else None)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = (DATA / "rss2.xml").read_bytes()
        if self.path == "/repeated.xml":
            # The first entry twice: the second is counted as a duplicate.
            item = body[body.index(b"<item>") : body.index(b"</item>") + len(b"</item>")]
            body = body.replace(b"</channel>", item + b"\n</channel>")
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        if self.path == "/odd-etag.xml":
            self.send_header("ETag", '"ab\xffcd"')  # a byte that is not UTF-8, sent as is
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def feed_url() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/rss.xml"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ALLIANCE_DB", str(tmp_path / "data" / "alliance.db"))
    monkeypatch.setenv("ALLIANCE_SEEDS", str(ROOT / "seeds"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_add_fetch_list_remove(capsys: pytest.CaptureFixture[str], feed_url: str) -> None:
    """A feed added from the CLI is fetched by `fetch --once`, listed, then removed."""
    code, out, _ = run(capsys, "feeds", "add", feed_url, "--name", "同盟", "--interval", "15")
    assert code == 0
    assert "every 15 min" in out
    code, out, _ = run(capsys, "feeds", "fetch", "--once")
    assert code == 0
    assert "同盟: 3 new" in out
    code, out, _ = run(capsys, "feeds", "list", "--json")
    assert out.startswith('{\n  "results": [')  # indented as every --json is
    (status,) = json.loads(out)["results"]
    assert (status["name"], status["articles"], status["origin"]) == ("同盟", 3, "runtime")
    assert status["local_network"] is True  # the operator's feed may be on the LAN
    code, out, _ = run(capsys, "feeds", "list")
    assert "[alliance, every 15 min, runtime]" in out
    assert status["last_new_article"] is not None
    code, out, _ = run(capsys, "search", "普天間", "--json")
    assert json.loads(out)["results"][0]["url"] == "https://news.example.jp/articles/1003"
    code, out, _ = run(capsys, "feeds", "remove", feed_url)
    assert code == 0
    code, out, _ = run(capsys, "feeds", "list")
    assert out.startswith("no feeds")


def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A bad interval or URL is refused with a one-line error and exit code 2."""
    with pytest.raises(SystemExit) as exited:
        main(["feeds", "add", "https://example.jp/rss", "--interval", "2"])
    assert exited.value.code == 2
    assert "between 5 and" in capsys.readouterr().err
    code, _, err = run(capsys, "feeds", "add", "ftp://example.jp/rss")
    assert code == 2
    assert err.count("\n") == 1
    code, _, err = run(capsys, "feeds", "remove", "https://example.jp/not-followed")
    assert code == 2
    assert "not followed" in err


@pytest.mark.parametrize("path", ["/broken.xml", "/odd-phrase.xml"])
def test_fetch_once_shows_a_failure_once_and_exits_1(
    capsys: pytest.CaptureFixture[str], feed_url: str, path: str
) -> None:
    """A failing feed (its reason phrase in bytes that are not UTF-8 too) is one `warning:`
    line on stderr, counted in the summary; exit code 1."""
    broken = feed_url.replace("/rss.xml", path)
    assert run(capsys, "feeds", "add", broken, "--name", "壊れた")[0] == 0
    code, out, err = run(capsys, "feeds", "fetch", "--once")
    assert code == 1
    assert (out + err).count("HTTP 500") == 1
    assert f"warning: feed {broken}: HTTP 500" in err
    assert out == "1 feed fetched: 0 new articles, 1 failed\n"


def test_a_validator_with_a_stray_byte_does_not_fail_the_feed(
    capsys: pytest.CaptureFixture[str], feed_url: str
) -> None:
    """An ETag with a byte that is not UTF-8 is dropped: the fetch that stored the entries
    succeeds, and so does the next one."""
    odd = feed_url.replace("/rss.xml", "/odd-etag.xml")
    assert run(capsys, "feeds", "add", odd, "--name", "妙")[0] == 0
    assert run(capsys, "feeds", "fetch", "--once")[:2] == (
        0,
        "妙: 3 new, 0 edited, 0 duplicates, "
        "0 unchanged, 0 filtered\n1 feed fetched: 3 new articles, 0 failed\n",
    )
    code, out, _ = run(capsys, "feeds", "fetch", "--once")
    assert (code, out.splitlines()[-1]) == (0, "1 feed fetched: 0 new articles, 0 failed")


@pytest.mark.parametrize(
    "broken",
    ["[[feed]\nurl = 'https://example.jp/rss'\n", "feed = 1\n", ""],
    ids=["not TOML", "not [[feed]]", "a folder"],
)
def test_a_broken_feeds_file_refuses_only_add(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, feed_url: str, broken: str
) -> None:
    """With feeds.toml invalid or unreadable (a folder), list, fetch --once and remove go on
    with the feeds added by command under one `warning:` line (fetch exits 1); add is refused
    in one line, exit 2."""
    assert run(capsys, "feeds", "add", feed_url, "--name", "同盟")[0] == 0
    feeds_file = tmp_path / "data" / "feeds.toml"
    if broken:
        feeds_file.write_text(broken, encoding="utf-8")
    else:
        feeds_file.mkdir()
    code, out, err = run(capsys, "feeds", "list")
    assert (code, out.splitlines()[1]) == (0, f"  {feed_url}")
    (warning,) = err.splitlines()
    assert warning.startswith("warning: ")
    assert str(feeds_file) in warning
    assert warning.endswith("; its feeds are left out until it is fixed")
    code, out, _ = run(capsys, "feeds", "list", "--json")
    listed = json.loads(out)
    assert [status["url"] for status in listed["results"]] == [feed_url]
    assert warning.startswith("warning: " + listed["feeds_file_error"])
    code, out, err = run(capsys, "feeds", "add", feed_url.replace("rss", "other"))
    assert (code, out) == (2, "")
    assert err.startswith("alliance-bot: not added: ")
    assert str(feeds_file) in err
    assert err.count("\n") == 1
    code, out, err = run(capsys, "feeds", "fetch", "--once")
    assert (code, out.splitlines()[-1]) == (1, "1 feed fetched: 3 new articles, 0 failed")
    assert err.splitlines() == [warning]
    code, out, err = run(capsys, "feeds", "remove", feed_url)
    assert (code, out, err.splitlines()) == (0, f"no longer following {feed_url}\n", [warning])


@pytest.mark.parametrize("ahead", [timedelta(minutes=5), timedelta(days=3)])
def test_a_fetch_ahead_of_the_clock_is_not_listed_as_negative(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, feed_url: str, ahead: timedelta
) -> None:
    """A fetch stamped ahead of the clock (set back since) is listed "just now", or on its date
    when days ahead as when days ago, never "-5 min ago"; --json gives the stamp as stored."""
    assert run(capsys, "feeds", "add", feed_url)[0] == 0
    stamped = datetime.now(UTC).replace(microsecond=0) + ahead

    async def record() -> None:
        conn = await db.connect(tmp_path / "data" / "alliance.db")
        try:
            feed_id = await store.ensure_feed(conn, feed_url)
            await store.record_success(
                conn, feed_id, at=stamped, etag=None, last_modified=None, new_articles=1
            )
        finally:
            await conn.close()

    asyncio.run(record())
    code, out, _ = run(capsys, "feeds", "list")
    assert code == 0
    said = "just now" if ahead < timedelta(days=2) else stamped.date().isoformat()
    assert out.splitlines()[2] == f"  last fetch {said}, last new article {said}, 0 articles"
    (status,) = json.loads(run(capsys, "feeds", "list", "--json")[1])["results"]
    assert status["last_fetch"] == stamped.isoformat()


def test_one_duplicate_and_one_feed_are_singular(
    capsys: pytest.CaptureFixture[str], feed_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fetch --once` counts "1 duplicate", and `fetch` says it fetches "1 feed" on schedule,
    as the summary counts "1 feed fetched"."""
    repeated = feed_url.replace("/rss.xml", "/repeated.xml")
    assert run(capsys, "feeds", "add", repeated, "--name", "重複")[0] == 0
    code, out, _ = run(capsys, "feeds", "fetch", "--once")
    assert (code, out.splitlines()[0]) == (
        0,
        "重複: 3 new, 0 edited, 1 duplicate, 0 unchanged, 0 filtered",
    )

    class Stopped(asyncio.Event):
        async def wait(self) -> Literal[True]:
            return True  # as if Ctrl-C came at once

    monkeypatch.setattr(FeedService, "start", _nothing)
    # Only the CLI's own wait returns: the module's `asyncio`, not asyncio itself, is replaced.
    monkeypatch.setattr(feeds_cli, "asyncio", SimpleNamespace(Event=Stopped))
    code, out, _ = run(capsys, "feeds", "fetch")
    assert (code, out) == (0, "fetching 1 feed on schedule; Ctrl-C to stop\n")


async def _nothing(self: FeedService) -> None:
    pass
