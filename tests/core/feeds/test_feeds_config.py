"""feeds.toml, feeds added at runtime, and how the two merge."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.feeds.config import (
    FeedConfigError,
    canonical_url,
    load_feeds,
    make_feed,
    parse_feeds,
)
from bot.core.feeds.reasons import ENGLISH, Reason
from bot.core.feeds.service import FeedService, backoff


def test_feeds_toml_defaults_and_bad_entries() -> None:
    """Defaults apply (30 min, alliance); a bad entry or a misspelt table is skipped with a
    reason, not fatal."""
    loaded = parse_feeds(
        """
        [[feed]]
        url = "HTTPS://News.Example.JP/rss#top"

        [[feed]]
        url = "https://general.example.jp/rss"
        kind = "general"
        interval = 3

        [[feed]]
        url = "https://news.example.jp/rss"

        [[feeds]]
        url = "https://typo.example.jp/rss"
        """
    )
    assert [(f.url, f.interval, f.kind) for f in loaded.feeds] == [
        ("https://news.example.jp/rss", 30, "alliance")
    ]
    assert len(loaded.problems) == 3
    assert "between 5" in loaded.problems[0]
    assert "listed twice" in loaded.problems[1]
    assert "unknown key(s) feeds ignored" in loaded.problems[2]


def test_admin_urls_cannot_point_inside_the_network() -> None:
    """URLs typed by Discord admins may not name loopback or private addresses."""
    for url in (
        "http://127.0.0.1/feed",
        "http://localhost:8080/",
        "http://[::1]/",
        "http://10.0.0.5/",
        "http://localhost./",
        "http://127.0.0.1./feed",
        "http://127.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0x7f.1/",
    ):
        with pytest.raises(FeedConfigError) as refused:
            canonical_url(url, allow_private=False)
        assert refused.value.reason is Reason.URL_PRIVATE, url
    with pytest.raises(FeedConfigError) as scheme:
        make_feed("ftp://example.jp/feed")
    assert scheme.value.reason is Reason.URL_SCHEME
    assert canonical_url("http://127.0.0.1:80/feed") == "http://127.0.0.1/feed"
    assert canonical_url("https://news.example.jp./rss", allow_private=False)


def test_backoff_doubles_and_is_capped() -> None:
    """Backoff doubles per failure from the interval, stops at 6 h, honours Retry-After."""
    assert backoff(30, 1).total_seconds() == 30 * 60
    assert backoff(30, 3).total_seconds() == 120 * 60
    assert backoff(30, 30).total_seconds() == 6 * 3600
    assert backoff(5, 1, retry_after=7200).total_seconds() == 7200


async def test_file_and_runtime_feeds_merge_file_wins(tmp_path: Path, service: FeedService) -> None:
    """Runtime feeds join the file's; a URL in the file can't be re-added or removed at runtime."""
    (tmp_path / "feeds.toml").write_text(
        '[[feed]]\nurl = "https://file.example.jp/rss"\nname = "File"\ninterval = 60\n',
        encoding="utf-8",
    )
    await service.reload()
    with pytest.raises(FeedConfigError, match="already followed") as twice:
        await service.add_feed("https://FILE.example.jp/rss")
    assert (twice.value.reason, twice.value.params) == (
        Reason.ALREADY_IN_FILE,
        {"url": "https://file.example.jp/rss"},
    )
    await service.add_feed("https://runtime.example.jp/rss", kind="general", interval=15)
    followed = {f.config.url: f for f in service.followed()}
    assert followed["https://file.example.jp/rss"].origin == "file"
    assert followed["https://file.example.jp/rss"].config.interval == 60
    assert followed["https://runtime.example.jp/rss"].config.kind == "general"
    with pytest.raises(FeedConfigError, match=r"feeds\.toml") as in_file:
        await service.remove_feed("https://file.example.jp/rss")
    assert in_file.value.reason is Reason.REMOVE_FILE_FEED
    assert await service.remove_feed("https://runtime.example.jp/rss")
    assert not await service.remove_feed("https://runtime.example.jp/rss")
    assert [f.origin for f in await service.reload()] == ["file"]


async def test_runtime_feeds_survive_a_restart(tmp_path: Path, service: FeedService) -> None:
    """A feed added at runtime is read back by a new service on the same database."""
    await service.add_feed("https://runtime.example.jp/rss", name="実行時")
    again = FeedService(service.db, feeds_file=tmp_path / "feeds.toml", tz=service.tz)
    followed = await again.reload()
    assert [(f.config.url, f.config.name) for f in followed] == [
        ("https://runtime.example.jp/rss", "実行時")
    ]


def test_every_reason_has_english_text() -> None:
    """Each reason code has the English the CLI prints, and errors carry it as their text."""
    assert set(ENGLISH) == set(Reason)
    refused = FeedConfigError(Reason.INTERVAL_RANGE, low=5, high=1440)
    assert str(refused) == "interval must be between 5 and 1440 minutes"
    assert refused.params == {"low": 5, "high": 1440}


@pytest.mark.parametrize("url", ["http://%zz/", "http://a..b/", "http://-a.jp/", "http://x_-.jp/"])
def test_a_url_whose_host_names_no_host_is_refused(url: str) -> None:
    """Percent signs, empty labels and labels starting or ending with a hyphen are refused
    when a feed is added, not failed at every fetch."""
    with pytest.raises(FeedConfigError) as refused:
        make_feed(url)
    assert refused.value.reason is Reason.URL_BAD_HOST
    assert canonical_url(url)  # still found, to remove one stored before this check


def test_names_of_real_hosts_are_accepted() -> None:
    """International names, underscores, a trailing dot, IPv4 and IPv6 addresses pass."""
    for url in (
        "https://日本.jp/rss",
        "https://my_feed.example.jp/rss",
        "https://news.example.jp./rss",
        "http://192.0.2.1/rss",
        "http://[2001:db8::1]:8080/rss",
    ):
        assert make_feed(url).url == canonical_url(url)


def test_a_url_with_bytes_that_are_not_utf8_is_refused() -> None:
    """A URL carrying a terminal's undecodable byte (a lone surrogate) is refused as invalid."""
    with pytest.raises(FeedConfigError) as refused:
        canonical_url("http://ex\udcffample.com/")
    assert refused.value.reason is Reason.URL_INVALID


def test_a_feeds_file_saved_with_a_bom_is_read(tmp_path: Path) -> None:
    """A feeds.toml saved by a Windows editor, UTF-8 with a BOM, is read, not "not TOML"."""
    path = tmp_path / "feeds.toml"
    path.write_bytes('\ufeff[[feed]]\nurl = "https://news.example.jp/rss"\n'.encode())
    assert [f.url for f in load_feeds(path).feeds] == ["https://news.example.jp/rss"]
