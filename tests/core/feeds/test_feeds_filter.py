"""Which entries a general news feed keeps: alliance terms, or US terms with a topic."""

from __future__ import annotations

import pytest

from bot.core.feeds.filter import is_about_alliance, keep_entry


@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("在日米軍と自衛隊、共同訓練を公開", "九州で訓練を公開した。"),
        ("Ｕ．Ｓ．－Ｊａｐａｎ alliance talks", "Full-width spelling folds to ASCII."),
        ("トランプ大統領、半導体に追加関税", "サプライチェーンへの影響が懸念される。"),
        ("知事が要請", "普天間飛行場の返還を求めた。"),
    ],
)
def test_alliance_stories_are_kept(title: str, body: str) -> None:
    """Alliance terms alone, or a US term with a taxonomy topic, keep an entry."""
    assert is_about_alliance(title, body)


@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("大谷、日米通算250号", "本塁打を放った。"),  # a sports record, not the alliance
        ("米国で人気のラーメン店", "新宿に出店する。"),  # US term, no topic
        ("週末の東京は雨", "冷たい雨になる見込み。"),
        ("Kadenamaru sets sail", "A ship name containing a base name as a substring."),
    ],
)
def test_unrelated_stories_are_dropped(title: str, body: str) -> None:
    """Sports phrases, US mentions without a topic and unrelated news are dropped."""
    assert not is_about_alliance(title, body)


def test_alliance_feeds_keep_everything() -> None:
    """An alliance-specific feed keeps an entry a general feed would drop."""
    assert keep_entry("alliance", "週末の東京は雨", "冷たい雨。")
    assert not keep_entry("general", "週末の東京は雨", "冷たい雨。")
