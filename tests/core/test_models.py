"""The shared data types: how an import warning is shown."""

from __future__ import annotations

import pytest

from bot.core.models import ImportWarning, visible


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("日米同盟 PAC3　ニュース", "日米同盟 PAC3　ニュース"),
        ("\x1b[2J\x07", "\\x1b[2J\\x07"),
        ("a\tb\r\nc", "a\\tb\\r\\nc"),
        ("\x9b31m", "\\x9b31m"),  # the one-byte CSI of C1 controls
        ("\u202egpj.exe", "\\u202egpj.exe"),
        ("zero\u200bwidth\u2028", "zero\\u200bwidth\\u2028"),
        ("bad\udcff", "bad\\udcff"),
        ("tag\U000e0041", "tag\\U000e0041"),
    ],
)
def test_visible_escapes_what_a_terminal_would_obey(text: str, shown: str) -> None:
    """Controls, bidi and zero-width characters and lone surrogates are escaped; text is kept."""
    assert visible(text) == shown


def test_import_warning_shows_its_message_escaped_too() -> None:
    """Both the file name and the message of a warning are shown with controls escaped."""
    warning = ImportWarning("a\x1b.txt", 3, "bad \x1b]0;title\x07")
    assert str(warning) == "a\\x1b.txt:3: bad \\x1b]0;title\\x07"


def test_visible_leaves_the_characters_it_is_asked_to_keep() -> None:
    """`keep` leaves a body's newlines and tabs as they are and still escapes the rest."""
    assert visible("一行目\n\t二行目\r\x1b", keep="\n\t") == "一行目\n\t二行目\\r\\x1b"
