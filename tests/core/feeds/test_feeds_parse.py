"""Feed documents to entries and drafts: formats, Japanese encodings, HTML, broken feeds."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from feedkit import DATA, TOKYO, Item, rss

from bot import render
from bot.core.feeds.parse import (
    FeedEntry,
    FeedParseError,
    decode_document,
    entry_draft,
    html_to_text,
    parse_feed,
)

FEED_URL = "https://feeds.example.jp/feed.xml"


def read(name: str, content_type: str | None = None) -> list[tuple[str, str | None, str]]:
    parsed = parse_feed((DATA / name).read_bytes(), url=FEED_URL, content_type=content_type)
    return [(e.title, e.url, e.body) for e in parsed.entries]


def test_rss2_entries_keep_guid_link_and_date() -> None:
    """RSS 2.0 items give title, body, the link without tracking parameters, GUID and date."""
    parsed = parse_feed((DATA / "rss2.xml").read_bytes(), url=FEED_URL)
    first = parsed.entries[0]
    assert parsed.version == "rss20"
    assert first.key == first.guid == "alliance-1001"
    assert first.url == "https://news.example.jp/articles/1001"
    assert first.published == datetime(2026, 11, 16, 0, 0, tzinfo=UTC)
    # No GUID: the link identifies the entry.
    assert parsed.entries[2].key == "https://news.example.jp/articles/1003"


def test_a_link_with_spaces_is_encoded_but_keeps_its_key() -> None:
    """A link Discord would refuse is stored percent-encoded; the entry's key is as before."""
    link = "https://news.example.jp/a b/(1)[2].html"
    (entry,) = parse_feed(rss([Item("見出し", "本文", link=link)]), url=FEED_URL).entries
    assert entry.url == "https://news.example.jp/a%20b/%281%29%5B2%5D.html"
    assert entry.key == link
    assert render.linkable_url(entry.url) == entry.url


@pytest.mark.parametrize(
    ("link", "kept"),
    [
        ("https://n.example.jp/a?utm_source=rss;id=5", "https://n.example.jp/a?id=5"),
        (
            "https://n.example.jp/a?utm_source=rss;utm_medium=x;id=5&p=2",
            "https://n.example.jp/a?id=5&p=2",
        ),
        ("https://n.example.jp/a?id=5&utm_campaign=w;fbclid=z", "https://n.example.jp/a?id=5"),
        # decoded once: C%2B%2B stays C++ escaped, not a space; an escaped ; separates nothing
        ("https://n.example.jp/a?utm_source=rss;tag=C%2B%2B", "https://n.example.jp/a?tag=C%2B%2B"),
        ("https://n.example.jp/a?utm_content=top%3Bside&id=1", "https://n.example.jp/a?id=1"),
    ],
)
def test_parameters_after_a_tracking_one_and_a_semicolon_are_kept(link: str, kept: str) -> None:
    """`utm_source=rss;id=5`: the tracking parameter goes, `id=5` after its `;` stays, so
    two articles told apart by it keep links of their own."""
    (entry,) = parse_feed(rss([Item("見出し", "本文", link=link)]), url=FEED_URL).entries
    assert (entry.url, entry.key) == (kept, kept)


def test_entries_sharing_a_link_are_keyed_by_link_and_title() -> None:
    """Entries without a GUID sharing one link are told apart by title, then by text; a GUID
    or a link of its own keeps its key, and the same text twice has one key."""
    index = "https://t.example.jp/news/"
    items = [
        Item("見出しA", "本文1", link=index),
        Item("見出しB", "本文2", link=index),
        Item("見出しB", "本文3", link=index),
        Item("見出しA", "本文1", link=index),
        Item("見出しC", "本文4", link=index, guid="c-1"),
        Item("見出しD", "本文5", link="https://t.example.jp/news/5"),
    ]
    entries = parse_feed(rss(items), url=FEED_URL).entries
    keys = [e.key for e in entries]
    assert [e.link_shared for e in entries] == [True, True, True, True, False, False]
    assert all(k.startswith(index + "#") for k in keys[:4])
    assert len(set(keys[:3])) == 3
    assert keys[3] == keys[0]
    assert keys[4:] == ["c-1", "https://t.example.jp/news/5"]
    assert {e.url for e in entries[:5]} == {index}


def test_atom_entries_resolve_relative_links_and_strip_html_titles() -> None:
    """Atom entries: HTML titles become text and relative links resolve against the feed."""
    entries = read("atom.xml")
    assert entries[0][0] == "拡大抑止協議、核の傘の信頼性を確認"
    assert entries[1][1] == "https://feeds.example.jp/e/2"
    assert "嘉手納基地に配備" in entries[1][2]


def test_rdf_entries_use_dc_date() -> None:
    """RSS 1.0 (RDF) items are read, dated by dc:date."""
    parsed = parse_feed((DATA / "rdf.xml").read_bytes(), url=FEED_URL)
    assert parsed.version == "rss10"
    assert parsed.entries[0].title == "日米地位協定の運用見直しを要請"
    assert parsed.entries[1].published == datetime(2026, 11, 12, 23, 0, tzinfo=UTC)


def test_shift_jis_declared_in_xml_decodes_windows_31j_characters() -> None:
    """A Shift_JIS feed decodes, including Windows-31J characters (①, 髙, ㈱)."""
    parsed = parse_feed((DATA / "sjis.xml").read_bytes(), url=FEED_URL)
    entry = parsed.entries[0]
    assert parsed.encoding == "cp932"
    assert entry.title == "①髙田防衛相、在日米軍基地を視察"
    assert "㈱防衛関連企業" in entry.body


def test_euc_jp_from_http_header_or_undeclared() -> None:
    """EUC-JP decodes from the HTTP charset, and without any declaration at all."""
    raw = (DATA / "eucjp.xml").read_bytes()
    with_header = parse_feed(raw, url=FEED_URL, content_type="text/xml; charset=EUC-JP")
    undeclared = parse_feed(raw, url=FEED_URL, content_type="text/xml")
    for parsed in (with_header, undeclared):
        assert parsed.encoding == "euc_jp"
        assert parsed.entries[0].title == "岩国基地の米海兵隊、艦載機の訓練を縮小"


def test_xml_declaration_beats_a_default_latin1_header() -> None:
    """A server's default ISO-8859-1 charset does not override the document's own Shift_JIS."""
    raw = rss([Item("日米同盟の強化", "本文です。", guid="g")], encoding="Shift_JIS")
    text, encoding = decode_document(raw, "text/xml; charset=ISO-8859-1")
    assert encoding == "cp932"
    assert "日米同盟の強化" in text


@pytest.mark.parametrize("declared", ["UTF-8", None])
def test_a_stray_byte_leaves_a_utf8_feed_utf8(declared: str | None) -> None:
    """A UTF-8 feed with one bad byte, which cp932 would decode whole into nonsense, is read as
    UTF-8 with a replacement character."""
    raw = rss([Item("日米防衛相会談", "共同訓練の拡大で一致した")], title="日米ニュース")
    if declared is None:
        raw = raw.split(b"\n", 1)[1]
    at = raw.index("談".encode()) + 1
    raw = raw[:at] + b"\xe0" + raw[at + 1 :]
    assert raw.decode("cp932")  # the trap: the one candidate that decodes it strictly
    text, encoding = decode_document(raw)
    assert encoding == "utf-8"
    assert "日米防衛相会\ufffd" in text  # 談 lost, the rest kept
    assert "共同訓練の拡大で一致した" in text


@pytest.mark.parametrize(
    ("encoding", "declared"), [("EUC-JP", "Shift_JIS"), ("Shift_JIS", "UTF-8")]
)
def test_a_feed_in_another_encoding_than_declared_is_read_in_its_own(
    encoding: str, declared: str
) -> None:
    """A Japanese feed declared in the wrong encoding is read in the one that decodes it."""
    raw = rss([Item("在日米軍再編、普天間の移設で協議", "本文。")], encoding=encoding)
    raw = raw.replace(encoding.encode(), declared.encode(), 1)
    text, _ = decode_document(raw)
    assert "在日米軍再編、普天間の移設で協議" in text


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_declared_without_a_bom_is_read(encoding: str) -> None:
    """A feed in UTF-16 that says so only in its XML declaration, with no BOM, is read in the
    byte order its "<?xml" is written in."""
    raw = rss([Item("日米同盟の強化", "共同声明を発表した。", guid="g")], encoding="UTF-16")
    raw = raw.decode("utf-16").encode(encoding)  # the same document, without the BOM
    parsed = parse_feed(raw, url=FEED_URL, content_type="application/rss+xml")
    assert parsed.encoding == encoding
    assert [(e.title, e.body) for e in parsed.entries] == [
        ("日米同盟の強化", "共同声明を発表した。")
    ]


def test_html_and_script_tags_are_stripped() -> None:
    """Entry HTML becomes text: tags dropped, script and style contents removed entirely."""
    body = parse_feed((DATA / "rss2.xml").read_bytes(), url=FEED_URL).entries[0].body
    assert "約50分会談" in body
    assert "<" not in body
    assert "追跡スクリプト" not in body
    assert "color" not in body
    assert html_to_text("<p>a</p><script>x()</script><p>b &amp; c</p>") == "a\nb & c"


def test_a_tag_left_open_to_the_end_is_dropped_in_linear_time() -> None:
    """A tag, comment or declaration the HTML never closes is dropped, as HTML drops it: on a
    Python before 3.11.13 closing the parser read the rest again from each "<" in it, so 72 KB
    of "<a x='" in an entry took ~12 s of a worker thread (and the GIL), 5 MB hours."""
    texts = [html_to_text("前文。" + unclosed * 12_000) for unclosed in ("<a x='", "<a/", "<!--")]
    assert texts == ["前文。"] * 3
    assert html_to_text("<p>本文です。</p><a href='https://ex.jp/") == "本文です。"
    assert html_to_text("<p>本文です。</p><!-- note") == "本文です。"


def test_a_malformed_declaration_is_read_as_text_with_its_tags_cut() -> None:
    """`<![` not followed by a name made an older Python's parser raise AssertionError, which
    failed the whole feed on every fetch; the entry is read with its tags cut out instead (one
    left open to the end is dropped, as HTML drops it)."""
    assert html_to_text("日米 <![ 同盟> 会談") == "日米 会談"
    assert html_to_text("<p>a &amp; b</p>" + "<![" * 50) == "a & b"
    (entry,) = parse_feed(rss([Item("見出し", "本文 <![ x> です")]), url=FEED_URL).entries
    assert (entry.title, entry.body) == ("見出し", "本文 です")


def test_malformed_feed_keeps_what_it_can_and_says_so() -> None:
    """A truncated feed yields its readable entries plus a problem note."""
    parsed = parse_feed((DATA / "malformed.xml").read_bytes(), url=FEED_URL)
    assert [e.title for e in parsed.entries] == ["日米首脳が電話会談"]
    assert any("malformed" in p for p in parsed.problems)


def test_not_a_feed_raises() -> None:
    """An HTML page or garbage is refused with FeedParseError."""
    with pytest.raises(FeedParseError):
        parse_feed(b"<html><body>503 Service Unavailable</body></html>", url=FEED_URL)
    with pytest.raises(FeedParseError):
        parse_feed(b"\x00\x01 not xml at all", url=FEED_URL)


def test_a_reference_to_a_forbidden_character_loses_only_that_character() -> None:
    """A lone surrogate (&#xD800;) or control character reference is dropped; the feed and its
    other entries are read."""
    document = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>A &#xD800;&#55296;&#1;&#x0000000000D800;&#0000000000055296;&#99999999999;"
        b" B</title><description>x&#xDC00;y</description>"
        b"<link>https://e.example.jp/a</link></item>"
        b"<item><title>\xe6\x97\xa5\xe7\xb1\xb3<![CDATA[\x01]]></title><description>z</description>"
        b"<link>https://e.example.jp/b</link></item></channel></rss>"
    )
    parsed = parse_feed(document, url=FEED_URL)
    assert [(e.title, e.body) for e in parsed.entries] == [("A B", "xy"), ("日米", "z")]


def _dated(pub_date: str) -> FeedEntry:
    """The one entry of a feed whose item has this pubDate."""
    document = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>A</title><description>x</description><link>https://e.example.jp/a</link>"
        f"<pubDate>{pub_date}</pubDate></item></channel></rss>"
    ).encode()
    (entry,) = parse_feed(document, url=FEED_URL).entries
    return entry


@pytest.mark.parametrize(
    "placeholder",
    [
        "Mon, 01 Jan 0001 00:00:00 GMT",
        "Thu, 01 Jan 1970 00:00:00 +0000",  # the Unix epoch: a date of 0 in the CMS
        "1970-01-01T09:00:00+09:00",
        "1970-01-01T00:00:00",
    ],
)
def test_an_entry_dated_with_a_placeholder_is_undated(placeholder: str) -> None:
    """A placeholder date (0001-01-01, the Unix epoch) is no date: the entry gets the fetch
    time, marked inferred, in a timezone west of UTC too."""
    entry = _dated(placeholder)
    assert entry.published is None
    fetched = datetime(2026, 11, 17, 16, 0, tzinfo=UTC)
    west = ZoneInfo("America/New_York")
    draft = entry_draft(entry, feed_url=FEED_URL, source="s", tz=west, fetched_at=fetched)
    assert (draft.published, draft.date_inferred) == (date(2026, 11, 17), True)


@pytest.mark.parametrize(
    ("written", "day"),
    [
        ("Sun, 04 May 2025 20:00:00 JST", date(2025, 5, 4)),  # feedparser: 20:00 UTC, the 5th
        ("Sun, 04 May 2025 20:00:00 +0900", date(2025, 5, 4)),
        ("Sun, 04 May 2025 20:00:00 +0900 (JST)", date(2025, 5, 4)),
        ("Sun, 04 May 2025 20:00:00 GMT", date(2025, 5, 5)),  # 05:00 the next day in Tokyo
        ("Sun, 04 May 2025 20:00:00 EST", date(2025, 5, 5)),
        ("2025-05-04T20:00:00", date(2025, 5, 4)),  # no zone: the feed's clock
        ("2025-05-04T20:00:00+09:00", date(2025, 5, 4)),
        ("2025-05-04T20:00:00.123Z", date(2025, 5, 5)),
        ("2025-05-04", date(2025, 5, 4)),
        ("2025/05/04 20:00:00", date(2025, 5, 4)),  # feedparser: a day in November
        ("2025年5月4日(日) 20:00", date(2025, 5, 4)),
        ("2025年5月4日 20時30分", date(2025, 5, 4)),
        ("Sun, 04 May 2025 20:00:00 CET", date(2025, 5, 5)),  # unknown here: feedparser's UTC
    ],
)
def test_an_entrys_date_is_read_in_the_zone_the_feed_wrote_or_its_own(
    written: str, day: date
) -> None:
    """A date with a zone (JST too) is read in it; one without is the feed's clock time, read
    in the bot's timezone (Tokyo); Japanese forms are read, not misread."""
    entry = _dated(written)
    fetched = datetime(2026, 11, 17, 16, 0, tzinfo=UTC)
    draft = entry_draft(entry, feed_url=FEED_URL, source="s", tz=TOKYO, fetched_at=fetched)
    assert (draft.published, draft.date_inferred) == (day, False)


def test_undated_entry_gets_fetch_time_and_is_marked_inferred() -> None:
    """An entry without a date is dated by the fetch (in the bot's timezone), marked inferred."""
    entry = parse_feed((DATA / "rss2.xml").read_bytes(), url=FEED_URL).entries[2]
    fetched = datetime(2026, 11, 17, 16, 0, tzinfo=UTC)  # 01:00 on the 18th in Tokyo
    draft = entry_draft(entry, feed_url=FEED_URL, source="同盟", tz=TOKYO, fetched_at=fetched)
    assert draft.published == date(2026, 11, 18)
    assert draft.date_inferred
    assert draft.url == "https://news.example.jp/articles/1003"
