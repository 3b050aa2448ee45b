"""The topic taxonomy: required slugs, tagging of the seeds and re-tagging on change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from bot.core import articles, db, topics
from bot.core.topics import load_taxonomy, parse_taxonomy, topic_counts

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
TOML = Path(topics.__file__).parent / "data" / "topics.toml"

REQUIRED = {
    "taiwan": "台湾有事",
    "nuclear": "核・抑止",
    "spending": "防衛費・負担",
    "exercises": "共同訓練・部隊運用",
    "equipment": "装備・防衛産業",
    "diplomacy": "首脳・閣僚外交",
    "us-politics": "米国の政策・議会",
    "economic-security": "経済安全保障",
    "china": "中国・北朝鮮の動向",
    "southwest": "南西諸島・太平洋の防衛",
}


@pytest.fixture
async def conn(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    connection = await db.connect(tmp_path / "alliance.db")
    await articles.ingest_paths(connection, [SEEDS])
    yield connection
    await connection.close()


def test_required_slugs_and_labels() -> None:
    """Every required slug exists with its Japanese label and an English label."""
    taxonomy = load_taxonomy()
    for slug, label_ja in REQUIRED.items():
        topic = taxonomy.get(slug)
        assert topic is not None, slug
        assert topic.label("ja") == label_ja
        assert topic.label("en")
        assert topic.label("en") != label_ja


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("taiwan", "taiwan"),
        ("Taiwan", "taiwan"),
        (" ＴＡＩＷＡＮ ", "taiwan"),
        ("台湾有事", "taiwan"),
        ("taiwan contingency", "taiwan"),
        ("Economic Security", "economic-security"),
        ("us_politics", "us-politics"),
        ("Nuclear & Deterrence", "nuclear"),
        ("台湾", None),
        ("", None),
    ],
)
def test_find_reads_a_slug_or_label_in_any_case_or_width(name: str, slug: str | None) -> None:
    """A topic named by its slug or either label, in any case, width or spacing, is found; a
    part of a label is not."""
    topic = load_taxonomy().find(name)
    assert (topic.slug if topic else None) == slug


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("航空自衛隊と米軍がB-52戦略爆撃機と共同訓練を実施した。", "exercises"),
        ("北朝鮮は日本の核武装を非難し、非核三原則が問われた。", "nuclear"),
        ("ロシア産LNGと制裁が焦点のエネルギー安全保障。", "economic-security"),
        ("防衛相が与那国島を訪問しミサイル部隊配備を説明。", "southwest"),
        ("米下院で超党派議員が決議案を提出した。", "us-politics"),
        # 外務報道官 (Japan's) is no mention: nothing of 下院's is taken back for it
        ("米下院が対中法案を可決した。外務省の林外務報道官は歓迎した。", "us-politics"),
        ("防衛費のGDP比目標の引き上げを要求。", "spending"),
        ("ＰＡＣ３とAMRAAMの共同生産を検討。", "equipment"),
    ],
)
def test_tagging_rules(text: str, expected: str) -> None:
    """A text about a topic gets that topic first (full-width text too)."""
    assert load_taxonomy().tag("", text)[0] == expected


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("システムの中核は宇宙配備型のセンサーだ。", "nuclear"),
        ("インド太平洋の安定に向け日米が協議した。", "southwest"),
        ("中国外務省の毛寧報道官は会見で日本を批判した。", "us-politics"),
        ("衆院本会議で国会議員が安保理決議の履行を求めた。", "us-politics"),
    ],
)
def test_a_word_inside_another_is_not_its_topic(text: str, topic: str) -> None:
    """核 in 中核, 太平洋 in インド太平洋, China's spokesperson or the Diet are not the topic."""
    # A listing line is both an article's title and its body.
    assert topic not in load_taxonomy().tag(text, text)


async def test_every_seed_article_has_one_to_three_topics(conn: aiosqlite.Connection) -> None:
    """Each of the 21 seed articles gets between one and three topics."""
    for article in await articles.latest(conn, limit=100):
        assert 1 <= len(article.topics) <= 3, article.title


async def test_topic_counts_follow_taxonomy_order(conn: aiosqlite.Connection) -> None:
    """topic_counts lists every topic in taxonomy order with real counts."""
    counts = await topic_counts(conn)
    assert [t.slug for t, _ in counts] == [t.slug for t in load_taxonomy().topics]
    assert sum(n for _, n in counts) >= 21
    by_slug = {t.slug: n for t, n in counts}
    assert by_slug["nuclear"] == await articles.count_articles(conn, topic="nuclear")


async def test_changed_taxonomy_retags_on_ingest(
    conn: aiosqlite.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Editing the rules and re-ingesting re-tags every article, without adding any."""
    text = TOML.read_text("utf-8").replace('"核武装" = 3', '"核武装" = 3, "皇居" = 9')
    changed = parse_taxonomy(text.encode())  # 皇居 now strongly signals the nuclear topic
    assert changed.version != load_taxonomy().version
    monkeypatch.setattr(articles, "load_taxonomy", lambda: changed)
    report = await articles.ingest_paths(conn, [SEEDS])
    assert report.added == 0
    rows = await conn.execute_fetchall(
        """
        SELECT t.topic FROM article_topics AS t JOIN articles AS a ON a.id = t.article_id
         WHERE a.body LIKE '%皇居%'
        """
    )
    assert "nuclear" in {r[0] for r in rows}


def test_malformed_taxonomy_is_refused() -> None:
    """A taxonomy file with a duplicate slug is an error, not a silent merge."""
    entry = b'[[topic]]\nslug = "a"\nlabel_ja = "a"\nlabel_en = "a"\n'
    raw = entry + entry
    with pytest.raises(topics.TaxonomyError):
        parse_taxonomy(raw)
