"""Ingest and read queries on the real seed corpus, in real SQLite files."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import shutil
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path

import aiosqlite
import pytest
from rapidfuzz import fuzz, process

from bot.core import articles, corpus, db
from bot.core.models import ArticleDraft
from bot.core.search import analyzer, search

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
LISTING = "000_ec138bacc4a23740.txt"


@pytest.fixture
async def conn(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    connection = await db.connect(tmp_path / "alliance.db")
    yield connection
    await connection.close()


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


async def test_seeds_import_21_articles_once(conn: aiosqlite.Connection, seeds: Path) -> None:
    """The shipped seeds hold 21 distinct articles; a second import adds nothing."""
    first = await articles.ingest_paths(conn, [seeds])
    assert (first.added, first.updated) == (21, 0)
    assert await articles.count_articles(conn) == 21
    second = await articles.ingest_paths(conn, [seeds])
    assert (second.added, second.updated, second.unchanged) == (0, 0, 21)
    assert await articles.count_articles(conn) == 21


async def test_a_file_name_that_is_not_utf8_imports_like_any_other(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    """A file named with a byte that is not UTF-8 imports beside its neighbours, once, named
    with the byte written out (\\xff), instead of failing the whole folder."""
    folder = tmp_path / "feeds"
    folder.mkdir()
    line = {"title": "日米会談", "body": "日米同盟について協議した。", "published": "2025-11-01"}
    other = {**line, "title": "防衛費", "body": "防衛費の増額を決めた。"}
    for name, article in ((b"good.jsonl", line), (b"bad\xff.jsonl", other)):
        with open(bytes(folder) + b"/" + name, "w", encoding="utf-8") as file:  # noqa: ASYNC230
            file.write(json.dumps(article, ensure_ascii=False) + "\n")
    first = await articles.ingest_paths(conn, [folder])
    again = await articles.ingest_paths(conn, [folder])
    assert (first.added, again.added, again.unchanged) == (2, 0, 2)
    rows = await conn.execute_fetchall("SELECT origin FROM articles ORDER BY origin")
    assert [str(origin).rsplit("/", 1)[1] for (origin,) in rows] == ["bad\\xff.jsonl", "good.jsonl"]


async def test_text_an_earlier_version_kept_unclean_is_cleaned_in_place_once(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    """An article stored with a soft hyphen and CRLFs (as earlier versions kept them) is
    updated in place, keeping its id, by the next import of its file; then it is unchanged."""
    line = {
        "title": "日米\u00ad会談",
        "body": "第一段落。\r\n\r\n第二段落。",
        "published": "2025-11-01",
    }
    path = tmp_path / "news.jsonl"
    path.write_text(json.dumps(line) + "\n", "utf-8")
    stored = ArticleDraft(
        title=line["title"],
        body=line["body"],
        published=date(2025, 11, 1),
        date_inferred=False,
        origin=corpus.file_origin(path),
        source="news.jsonl:1",
    )
    await articles.ingest(conn, [stored])
    (before,) = await articles.latest(conn)
    first = await articles.ingest_paths(conn, [path])
    again = await articles.ingest_paths(conn, [path])
    assert (first.added, first.updated, again.added, again.updated, again.unchanged) == (
        0, 1, 0, 0, 1
    )  # fmt: skip
    (after,) = await articles.latest(conn)
    assert (after.id, after.title, after.body) == (
        before.id,
        "日米会談",
        "第一段落。\n\n第二段落。",
    )


async def test_ensure_seeded_only_loads_an_empty_db(
    conn: aiosqlite.Connection, seeds: Path
) -> None:
    """`ensure_seeded` loads the seeds into an empty database and leaves a filled one alone."""
    report = await articles.ensure_seeded(conn, seeds)
    assert report is not None
    assert report.added == 21
    assert await articles.ensure_seeded(conn, seeds) is None


async def test_edited_seed_updates_in_place(conn: aiosqlite.Connection, seeds: Path) -> None:
    """Fixing a typo in a seed line updates that article, keeping its id."""
    await articles.ingest_paths(conn, [seeds])
    rows = await conn.execute_fetchall(
        "SELECT id FROM articles WHERE body LIKE '%ヘグセス国防長官と約50分会談%'"
    )
    (article_id,) = (r[0] for r in rows)

    listing = seeds / LISTING
    text = listing.read_text("utf-8")
    listing.write_text(text.replace("約50分会談", "約55分会談"), "utf-8")
    report = await articles.ingest_paths(conn, [seeds])

    assert (report.added, report.updated) == (0, 1)
    article = await articles.get_article(conn, article_id)
    assert article is not None
    assert "約55分会談" in article.body
    assert await articles.count_articles(conn) == 21


def _clock(year: int, month: int, day: int) -> type[datetime]:
    """`datetime` with its clock at noon on that day in Japan."""

    class At(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> At:
            return cls(year, month, day, 3, 0, tzinfo=UTC).astimezone(tz)

    return At


async def test_inferred_dates_stay_as_first_read_on_a_later_day(
    conn: aiosqlite.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page without a full date read again two months later, one line edited, keeps the
    dates its first read inferred (8日 in November, an undated line): nothing moves."""
    page = tmp_path / "page.txt"
    page.write_text(
        "日米同盟ニュース\n\n"
        "防衛相は8日、記者会見で日米の共同訓練の拡充について説明した。\n"
        "米国務省の報道官は、同盟国との協議を続ける考えを示した。\n",
        "utf-8",
    )
    monkeypatch.setattr(corpus, "datetime", _clock(2026, 11, 25))
    await articles.ingest_paths(conn, [page])
    first = [(a.id, a.published, a.date_inferred) for a in await articles.latest(conn)]
    assert [day for _, day, _ in first] == [date(2026, 11, 8)] * 2

    monkeypatch.setattr(corpus, "datetime", _clock(2027, 1, 20))
    page.write_text(page.read_text("utf-8").replace("説明した", "詳しく説明した"), "utf-8")
    report = await articles.ingest_paths(conn, [page])
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    assert [(a.id, a.published, a.date_inferred) for a in await articles.latest(conn)] == first


async def test_a_date_guessed_from_the_day_gives_way_to_one_the_page_now_gives(
    conn: aiosqlite.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An undated line first read alone is dated the day of the read; read again between two
    dated lines, it takes the date between them, as a first read would."""
    undated = "米国務省の報道官は、同盟国との協議を続ける考えを示した。\n"
    page = tmp_path / "page.txt"
    page.write_text(f"日米同盟ニュース\n\n{undated}", "utf-8")
    monkeypatch.setattr(corpus, "datetime", _clock(2026, 11, 25))
    await articles.ingest_paths(conn, [page])
    page.write_text(
        "日米同盟ニュース\n\n"
        "防衛相は2025年12月19日、記者会見で日米の共同訓練の拡充について説明した。\n"
        f"{undated}"
        "外相は2025年12月11日、米国務長官と電話で会談し同盟の強化を確認した。\n",
        "utf-8",
    )
    await articles.ingest_paths(conn, [page])
    dates = {a.title[:4]: (a.published, a.date_inferred) for a in await articles.latest(conn)}
    assert dates["米国務省"] == (date(2025, 12, 15), True)


async def test_crash_mid_ingest_leaves_db_unchanged(
    conn: aiosqlite.Connection, seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If indexing fails half-way, no article of the batch is stored; a re-run then succeeds."""

    async def explode(*_: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(articles, "index_articles", explode)
    with pytest.raises(RuntimeError, match="power cut"):
        await articles.ingest_paths(conn, [seeds])
    assert await articles.count_articles(conn) == 0

    monkeypatch.undo()
    report = await articles.ingest_paths(conn, [seeds])
    assert report.added == 21


async def test_latest_is_newest_first(conn: aiosqlite.Connection, seeds: Path) -> None:
    """`latest` returns articles by date, newest first, with the listing's top article first."""
    await articles.ingest_paths(conn, [seeds])
    items = await articles.latest(conn, limit=30)
    assert len(items) == 21
    dates = [a.published for a in items]
    assert dates == sorted(dates, reverse=True)
    assert items[0].published == date(2026, 1, 15)
    assert items[0].title.startswith("台湾有事の退避")


async def test_latest_by_topic_only_has_that_topic(conn: aiosqlite.Connection, seeds: Path) -> None:
    """A topic filter returns only articles tagged with that topic, and counts agree."""
    await articles.ingest_paths(conn, [seeds])
    items = await articles.latest(conn, limit=50, topic="taiwan")
    assert items
    assert all("taiwan" in a.topics for a in items)
    assert await articles.count_articles(conn, topic="taiwan") == len(items)


async def test_articles_between_week_of_dec_15(conn: aiosqlite.Connection, seeds: Path) -> None:
    """The week of 2025-12-15 holds exactly the articles of 16, 17 and 19 December."""
    await articles.ingest_paths(conn, [seeds])
    week = await articles.articles_between(conn, date(2025, 12, 15), date(2025, 12, 21))
    assert [a.published.day for a in week] == [19, 17, 16]


async def test_get_articles_keeps_order_and_skips_missing(
    conn: aiosqlite.Connection, seeds: Path
) -> None:
    """`get_articles` returns the ids asked for, in that order, without unknown ones."""
    await articles.ingest_paths(conn, [seeds])
    found = await articles.get_articles(conn, [5, 999_999, 2])
    assert [a.id for a in found] == [5, 2]


async def test_unknown_source_topic_warns_at_its_line_and_is_dropped(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    """An unknown topic is reported at its file and line, even with `source`; the rest is kept."""
    line = {
        "title": "日米が共同訓練",
        "body": "自衛隊と米軍が共同訓練を実施した。",
        "published": "2026-02-01",
        "source": "Example News",
        "topics": ["exercises", "no-such-topic"],
    }
    path = tmp_path / "extra.jsonl"
    path.write_text("\n" + json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    report = await articles.ingest_paths(conn, [path])
    assert report.added == 1
    assert [str(w) for w in report.warnings] == [
        "extra.jsonl:2: unknown topic 'no-such-topic' ignored"
    ]
    (article,) = await articles.latest(conn, limit=1)
    assert "exercises" in article.topics
    assert "no-such-topic" not in article.topics


async def test_a_source_topic_named_by_its_label_is_stored_as_its_slug(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    """A JSON Lines topic given as a label (台湾有事, Taiwan contingency) is stored as the source's
    topic `taiwan`, though the rules find no Taiwan in the text."""
    line = {
        "title": "日米が共同訓練",
        "body": "自衛隊と米軍が共同訓練を実施した。",
        "published": "2026-02-01",
        "topics": ["台湾有事", "Taiwan contingency"],
    }
    path = tmp_path / "extra.jsonl"
    path.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    report = await articles.ingest_paths(conn, [path])
    assert (report.added, report.warnings) == (1, [])
    rows = await conn.execute_fetchall(
        "SELECT topic, assigned_by FROM article_topics WHERE topic = ?", ("taiwan",)
    )
    assert [tuple(r) for r in rows] == [("taiwan", "source")]


async def test_same_text_from_two_origins_is_stored_once(conn: aiosqlite.Connection) -> None:
    """An article already stored from one file is skipped when another file repeats it."""
    base = {
        "title": "見出し",
        "body": "本文です。",
        "published": date(2026, 2, 1),
        "date_inferred": False,
    }
    one = ArticleDraft(**base, origin="a.jsonl", source="a.jsonl:1")  # type: ignore[arg-type]
    two = ArticleDraft(**base, origin="b.jsonl", source="b.jsonl:1")  # type: ignore[arg-type]
    assert (await articles.ingest(conn, [one])).added == 1
    report = await articles.ingest(conn, [two])
    assert (report.added, report.skipped) == (0, 1)
    assert await articles.count_articles(conn) == 1


def _news(folder: Path, *bodies: str) -> Path:
    folder.mkdir(exist_ok=True)
    lines = [
        f'{{"title": "見出し{n}", "body": "{body}", "published": "2026-02-0{n + 1}"}}'
        for n, body in enumerate(bodies)
    ]
    path = folder / "news.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


BODY = "日米両政府は2プラス2を開き、南西諸島の防衛協力を強化することで一致した。"


def _stored_by_name(*bodies: str) -> list[ArticleDraft]:
    """Drafts of news.jsonl as versions before full-path origins read them: origin = file name."""
    return [
        ArticleDraft(
            title=f"見出し{n}",
            body=body,
            published=date(2026, 2, n + 1),
            date_inferred=False,
            origin="news.jsonl",
            source=f"news.jsonl:{n + 1}",
        )
        for n, body in enumerate(bodies)
    ]


@pytest.mark.parametrize("stored_by", ["path", "bare name"])
async def test_an_edit_never_takes_another_same_named_files_article(
    conn: aiosqlite.Connection, tmp_path: Path, stored_by: str
) -> None:
    """An edit in fb/news.jsonl never overwrites fa's similar article, stored by path or name."""
    if stored_by == "path":
        await articles.ingest_paths(conn, [_news(tmp_path / "fa", BODY)])
    else:
        await articles.ingest(conn, _stored_by_name(BODY))
    report = await articles.ingest_paths(conn, [_news(tmp_path / "fb", BODY + "詳細は後日。")])
    assert (report.added, report.updated) == (1, 0)
    bodies = [a.body for a in await articles.latest(conn, limit=10)]
    assert sorted(bodies) == sorted([BODY, BODY + "詳細は後日。"])


async def test_unchanged_texts_stored_under_a_bare_file_name_are_adopted(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    """An unchanged text stored before full-path origins is relabelled, not added again."""
    await articles.ingest(conn, _stored_by_name(BODY))
    path = _news(tmp_path / "fa", BODY)
    report = await articles.ingest_paths(conn, [path])
    assert (report.added, report.updated, report.unchanged) == (0, 0, 1)
    rows = await conn.execute_fetchall("SELECT origin FROM articles")
    assert [r[0] for r in rows] == [path.resolve().as_posix()]


async def test_an_edited_seed_stored_under_its_bare_name_is_updated_in_place(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    """In the seeds folder, an edit still finds the article stored under the file's bare name."""
    await articles.ingest(conn, _stored_by_name(BODY, "米海軍は横須賀で式典を開いた。"))
    ids = sorted(a.id for a in await articles.latest(conn, limit=10))
    seeds = tmp_path / "seeds"
    _news(seeds, BODY, "米海軍は横須賀で式典を開き、艦長が交代した。")
    report = await articles.ingest_paths(conn, [seeds], seeds=seeds)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    assert sorted(a.id for a in await articles.latest(conn, limit=10)) == ids
    rows = await conn.execute_fetchall("SELECT DISTINCT origin FROM articles")
    assert [r[0] for r in rows] == ["seeds/news.jsonl"]


async def test_a_linked_file_is_known_by_its_own_name(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    """A symlink in the seeds folder is that seeds file, wherever it points."""
    target = _news(tmp_path / "elsewhere", BODY)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "linked.jsonl").symlink_to(target)
    await articles.ingest_paths(conn, [seeds], seeds=seeds)
    rows = await conn.execute_fetchall("SELECT origin FROM articles")
    assert [r[0] for r in rows] == ["seeds/linked.jsonl"]


_CRASHING_INGEST = """
import asyncio, os, sys
from pathlib import Path
from bot.core import articles, db

async def power_cut(*_: object) -> None:
    os._exit(3)  # the process dies inside the ingest transaction: no rollback, no close

articles.index_articles = power_cut

async def main() -> None:
    conn = await db.connect(sys.argv[1])
    await articles.ingest_paths(conn, [Path(sys.argv[2])])

asyncio.run(main())
"""


async def _snapshot(conn: aiosqlite.Connection) -> list[object]:
    queries = [
        "SELECT * FROM articles ORDER BY id",
        "SELECT * FROM article_topics ORDER BY article_id, topic",
        "SELECT rowid, title, body FROM article_index ORDER BY rowid",
        "SELECT * FROM vocab ORDER BY key",
        "SELECT * FROM meta ORDER BY key",
    ]
    return [list(await conn.execute_fetchall(query)) for query in queries]


async def test_killed_process_mid_ingest_leaves_db_as_it_was(tmp_path: Path, seeds: Path) -> None:
    """A process that dies half-way through ingesting an edit and a new file changes nothing."""
    path = tmp_path / "alliance.db"
    conn = await db.connect(path)
    await articles.ingest_paths(conn, [seeds])
    before = await _snapshot(conn)
    await conn.close()

    listing = seeds / LISTING
    listing.write_text(listing.read_text("utf-8").replace("約50分会談", "約55分会談"), "utf-8")
    (seeds / "extra.jsonl").write_text(
        '{"title": "新しい記事", "body": "日米が協議した。", "published": "2026-02-01"}\n', "utf-8"
    )
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", _CRASHING_INGEST, str(path), str(seeds)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 3, done.stderr

    conn = await db.connect(path)
    try:
        assert await _snapshot(conn) == before
        report = await articles.ingest_paths(conn, [seeds])
        assert (report.added, report.updated, report.unchanged) == (1, 1, 20)
    finally:
        await conn.close()


def _sentences() -> list[str]:
    text = (SEEDS / LISTING).read_text("utf-8")
    return [s + "。" for s in text.replace("\n", "。").split("。") if len(s.strip()) > 8]


def _draft(title: str, body: str) -> ArticleDraft:
    return ArticleDraft(title, body, date(2026, 1, 1), False, "news.jsonl", "news.jsonl:1")


def _edited(rng: random.Random, body: str, sentences: list[str]) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return body + rng.choice(sentences)
    if kind == 1:
        cut = rng.randrange(len(body))
        return body[:cut] + body[cut + rng.randint(1, 30) :]
    if kind == 2:
        return body.replace("。", "、", rng.randint(1, 3))
    return "".join(rng.sample(sentences, rng.randint(1, 4)))  # a new article, or a rewrite


def test_edit_matching_finds_what_comparing_every_article_finds() -> None:
    """Each edit claims the article comparing all unclaimed bodies would (the oldest of equals)."""
    rng = random.Random(7)
    sentences = _sentences()
    for _ in range(150):
        stored = [
            (n, f"見出し{rng.randrange(4)}", "".join(rng.sample(sentences, rng.randint(1, 4))))
            for n in range(1, rng.randint(2, 12))
        ]
        drafts = []
        for _, title, body in rng.sample(stored, rng.randint(1, len(stored))):
            edited_title = title if rng.random() < 0.7 else f"見出し{rng.randrange(4)}"
            edited_body = body if rng.random() < 0.2 else _edited(rng, body, sentences)
            drafts.append(_draft(edited_title, edited_body))
        unclaimed = articles._Unclaimed((n, title, body, None) for n, title, body in stored)
        pool = {n: body for n, _, body in stored}
        for draft in drafts:
            best = process.extractOne(
                draft.body, pool, scorer=fuzz.ratio, score_cutoff=articles.EDIT_SIMILARITY
            )
            expected = None if best is None else best[2]
            if expected is not None:
                del pool[expected]
            assert unclaimed.edit_of(draft) == expected


async def test_a_title_edit_takes_its_own_article_beside_one_with_the_same_body(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    """Two articles share a body; retitling the second updates the second, not the first."""
    path = tmp_path / "news.jsonl"
    lines = [{"title": t, "body": BODY, "published": "2025-12-01"} for t in ("速報", "続報")]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), "utf-8")
    await articles.ingest_paths(conn, [path])
    ids = {a.title: a.id for a in await articles.latest(conn, limit=10)}
    lines[1]["title"] = "続報（更新）"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), "utf-8")
    report = await articles.ingest_paths(conn, [path])
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    assert {a.title: a.id for a in await articles.latest(conn, limit=10)} == {
        "速報": ids["速報"],
        "続報（更新）": ids["続報"],
    }


async def test_an_article_at_another_link_is_another_article_however_alike(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    """A file whose line now links another story written to the same formula (a missile launch
    a week later) adds it beside the first, instead of overwriting the first as an edit."""
    path = tmp_path / "news.jsonl"

    def line(day: int) -> str:
        body = (
            f"北朝鮮は12月{day}日午前、弾道ミサイル1発を日本海に向けて発射した。防衛省が発表した。"
        )
        url = f"https://news.example.jp/{day}"
        return (
            json.dumps(
                {
                    "title": f"北朝鮮がミサイル発射（{day}日）",
                    "body": body,
                    "published": f"2025-12-{day}",
                    "url": url,
                }
            )
            + "\n"
        )

    path.write_text(line(10), "utf-8")
    await articles.ingest_paths(conn, [path])
    path.write_text(line(17), "utf-8")
    report = await articles.ingest_paths(conn, [path])
    assert (report.added, report.updated) == (1, 0)
    assert {a.url for a in await articles.latest(conn)} == {
        "https://news.example.jp/10",
        "https://news.example.jp/17",
    }


async def test_a_teaser_grown_at_its_link_is_edited_not_duplicated(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    """A line whose short body grew into the full story at the same link updates its article,
    though the two bodies are too unlike for an edit by text alone."""
    path = tmp_path / "news.jsonl"
    teaser = "防衛省は12月10日、日米共同訓練を沖縄周辺で実施すると発表した。"
    full = teaser + "訓練には航空自衛隊のF-35と米空軍のB-52が参加し、防空手順を確認する。" * 3
    for body in (teaser, full):
        entry = {
            "title": "日米共同訓練",
            "body": body,
            "published": "2025-12-10",
            "url": "https://news.example.jp/drill",
        }
        path.write_text(json.dumps(entry) + "\n", "utf-8")
        report = await articles.ingest_paths(conn, [path])
    assert (report.added, report.updated) == (0, 1)
    assert [a.body for a in await articles.latest(conn)] == [full]


async def test_an_article_stored_after_the_plan_is_edited_not_duplicated(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    """A draft planned as new, whose first version another process stores before the write,
    updates that article in place: the plan is decided again under the lock."""
    (first,) = _stored_by_name(BODY)
    edited = dataclasses.replace(first, body=BODY + "詳細は後日。")
    async with articles.exclusive(conn):
        plan = await articles.plan_ingest(conn, [edited])
        assert [d.body for d in plan.drafts] == [edited.body]
        other = await db.connect(tmp_path / "alliance.db")
        try:
            assert (await articles.ingest(other, [first])).added == 1
        finally:
            await other.close()
        async with db.transaction(conn):
            report = await articles.apply_ingest(conn, plan)
    assert (report.replanned, report.added, report.updated) == (True, 0, 1)
    assert [a.body for a in await articles.latest(conn)] == [edited.body]
    assert [h.article.body for h in (await search(conn, "後日")).hits] == [edited.body]


@pytest.mark.parametrize(
    ("named", "grown", "added", "updated"),
    [
        ("own", True, 0, 1),
        ("own", False, 1, 0),  # the name reused for another story
        ("other origin's", True, 1, 0),
        ("gone", True, 1, 0),
    ],
)
async def test_a_draft_naming_the_article_it_edits_takes_it_when_grown_from_it(
    conn: aiosqlite.Connection, named: str, grown: bool, added: int, updated: int
) -> None:
    """A draft that names the article it replaces updates it when its text grew out of the
    article's, however unlike the two are, and only an article of the draft's origin."""
    (own,) = _stored_by_name(BODY)
    other = dataclasses.replace(own, title="別の記事", origin="other.jsonl", source="other.jsonl:1")
    await articles.ingest(conn, [own, other])
    ids = {a.title: a.id for a in await articles.latest(conn)}
    target = {"own": ids[own.title], "other origin's": ids[other.title], "gone": 999}[named]
    body = (
        BODY if grown else "別の話題の記事。"
    ) + "両政府は共同訓練の拡大と装備の共同生産も確認した。" * 5
    rewritten = dataclasses.replace(own, title="全文", body=body)
    edits = {articles.content_hash(rewritten.title, rewritten.body): target}
    async with articles.exclusive(conn):
        plan = await articles.plan_ingest(conn, [rewritten], edits=edits)
        async with db.transaction(conn):
            report = await articles.apply_ingest(conn, plan)
    assert (report.added, report.updated) == (added, updated)
    assert {a.title for a in await articles.latest(conn)} >= {"全文", other.title}


async def test_a_plan_nobody_overtook_is_written_as_planned(conn: aiosqlite.Connection) -> None:
    """With no other write between plan and apply, the plan is written without deciding again."""
    await articles.ingest(conn, _stored_by_name(BODY))
    (edited,) = _stored_by_name(BODY + "詳細は後日。")
    report = await articles.ingest(conn, [edited])
    assert (report.replanned, report.added, report.updated) == (False, 0, 1)


async def test_text_is_analyzed_and_edits_matched_outside_the_write_transaction(
    conn: aiosqlite.Connection, seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ingesting new and edited seeds analyzes text and matches edits only before BEGIN."""
    in_transaction: list[bool] = []
    analyze, edit_of = analyzer.analyze_document, articles._Unclaimed.edit_of

    def watched_analyze(text: str) -> tuple[str, set[tuple[str, str]]]:
        in_transaction.append(conn.in_transaction)
        return analyze(text)

    def watched_edit_of(
        self: articles._Unclaimed, draft: ArticleDraft, named: int | None = None
    ) -> int | None:
        in_transaction.append(conn.in_transaction)
        return edit_of(self, draft, named)

    monkeypatch.setattr(analyzer, "analyze_document", watched_analyze)
    monkeypatch.setattr(articles._Unclaimed, "edit_of", watched_edit_of)
    await articles.ingest_paths(conn, [seeds])
    listing = seeds / LISTING
    listing.write_text(listing.read_text("utf-8").replace("約50分会談", "約55分会談"), "utf-8")
    report = await articles.ingest_paths(conn, [seeds])
    assert (report.updated, report.replanned) == (1, False)
    assert len(in_transaction) > 21 * 2  # every seed's title and body, then the edit
    assert not any(in_transaction)
    hits = (await search(conn, "55分")).hits
    assert any("約55分会談" in h.article.body for h in hits)


async def test_a_few_long_texts_are_analyzed_off_the_event_loop(
    conn: aiosqlite.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three articles of 20,000 characters (a feed entry's most) are analyzed in a worker
    thread, as many short ones are: on the event loop, a feed of 50 held it for 2 to 4 s."""
    on_the_loop: list[bool] = []
    analyze = analyzer.analyze_document

    def watched_analyze(text: str) -> tuple[str, set[tuple[str, str]]]:
        on_the_loop.append(threading.current_thread() is threading.main_thread())
        return analyze(text)

    monkeypatch.setattr(analyzer, "analyze_document", watched_analyze)
    text = "".join(_sentences()) * 20
    drafts = [_draft(f"長い記事{n}", f"{n}件目。{text}"[:20_000]) for n in range(3)]
    report = await articles.ingest(conn, drafts)
    assert report.added == 3
    assert len(on_the_loop) == 6  # each title and body, once
    assert not any(on_the_loop)
