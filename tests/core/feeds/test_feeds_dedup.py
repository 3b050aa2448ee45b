"""The near-duplicate rule on its own: same story reworded a little, versus a sibling story."""

from __future__ import annotations

from bot.core.feeds.dedup import NearIndex

BODY = "防衛相は米国防長官と会談し、日米の共同訓練を南西諸島で拡大することで一致した。"


def test_near_identical_story_is_found() -> None:
    """A headline prefix and a wire credit do not make a new story."""
    index = NearIndex()
    index.add(11, "日米防衛相会談、共同訓練の拡大で一致", BODY)
    assert index.find("【速報】日米防衛相会談、共同訓練の拡大で一致", BODY + "（共同）") == 11


def test_sibling_stories_stay_apart() -> None:
    """Stories differing in their numbers, or in most of their text, are not duplicates."""
    index = NearIndex()
    index.add(1, "北朝鮮が弾道ミサイル2発を発射", "防衛省によると、2発は日本海に落下した。")
    three = index.find("北朝鮮が弾道ミサイル3発を発射", "防衛省によると、3発は日本海に落下した。")
    assert three is None
    assert index.find("北朝鮮が弾道ミサイル2発を発射", "米韓は共同声明で強く非難した。" * 3) is None
