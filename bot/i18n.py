"""Japanese and English for everything the bot says, and the command-name `Translator`.

Members' replies follow the Discord client's language: Japanese for "ja", English otherwise.
Slash-command names and descriptions are written in English in the code; `CommandTranslator`
gives Discord their Japanese (and explicit English) localizations when commands are synced.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import discord
from discord import app_commands

from bot.core.digest import format_date
from bot.core.feeds.reasons import ENGLISH as FEED_REASONS_EN
from bot.core.feeds.reasons import Reason
from bot.core.schedules import FailureCode

Lang = Literal["ja", "en"]

__all__ = [
    "CommandTranslator",
    "Lang",
    "enumerate_words",
    "format_date",
    "lang_of",
    "permission_names",
    "slash",
    "t",
]

ENGLISH_LOCALES = (discord.Locale.american_english, discord.Locale.british_english)


def lang_of(locale: discord.Locale | str | None) -> Lang:
    """The reply language for a Discord locale: Japanese for "ja", English for anything else."""
    value = locale.value if isinstance(locale, discord.Locale) else (locale or "")
    return "ja" if value.startswith("ja") else "en"


# Replies: key -> (Japanese, English). `str.format` fields are filled by `t()`.
MESSAGES: dict[str, tuple[str, str]] = {
    "search.title": ("「{query}」の検索結果", "Results for “{query}”"),
    "search.title_topic": (
        "「{query}」の検索結果（トピック: {topic}）",
        "Results for “{query}” in {topic}",
    ),
    "search.count": ("{total:,}件中 {first:,}–{last:,}件目", "{first:,}–{last:,} of {total:,}"),
    "search.count_over": (
        "{total:,}件以上のうち {first:,}–{last:,}件目",
        "{first:,}–{last:,} of more than {total:,}",
    ),
    # A page of one article: "3 of 12", not "3–3 of 12".
    "search.count_single": ("{total:,}件中 {first:,}件目", "{first:,} of {total:,}"),
    "search.count_over_single": (
        "{total:,}件以上のうち {first:,}件目",
        "{first:,} of more than {total:,}",
    ),
    "search.sorted_newest": ("{count}（新しい順）", "{count}, newest first"),
    "search.corrected": (
        "「{query}」に一致する記事がないため、「{corrected}」で検索しました。",
        "Nothing matched “{query}”; showing results for “{corrected}”.",
    ),
    "search.near": (
        "「{query}」がそのまま出てくる記事がないため、{words}が近くに出てくる記事を表示しています。",
        "Nothing matched “{query}” as typed; showing articles where {words} appear close together.",
    ),
    "search.corrected_also": (
        "「{query}」に一致する記事は{typed}件のため、「{corrected}」の検索結果も含めています。",
        "Only {typed} matched “{query}”, so results for “{corrected}” are included too.",
    ),
    "search.near_also": (
        "「{query}」がそのまま出てくる記事は{typed}件のため、{words}が近くに出てくる記事も含めています。",
        "Only {typed} matched “{query}” as typed, so articles where {words} appear close together"
        " are included too.",
    ),
    "search.quoted": ("「{word}」", "“{word}”"),
    "search.none": (
        "「{query}」に一致する記事は見つかりませんでした。",
        "No articles match “{query}”.",
    ),
    "search.none_topic": (
        "トピック「{topic}」の中に「{query}」に一致する記事は見つかりませんでした。",
        "No articles in “{topic}” match “{query}”.",
    ),
    "search.did_you_mean": ("もしかして: {words}", "Did you mean: {words}"),
    "search.try": (
        "別の言葉や短い言葉で試すか、`/日米同盟 トピック一覧` でトピックから探してください。",
        "Try other or shorter words, or browse by topic with `/alliance topics`.",
    ),
    "latest.title": ("最新の記事", "Latest articles"),
    "latest.title_topic": ("最新の記事: {topic}", "Latest articles: {topic}"),
    "latest.none": ("まだ記事がありません。", "There are no articles yet."),
    "latest.none_topic": (
        "トピック「{topic}」の記事はまだありません。",
        "There are no articles in “{topic}” yet.",
    ),
    "topics.title": ("トピック一覧", "Topics"),
    "topics.description": (
        "下のメニューからトピックを選ぶと、その最新記事を表示します。",
        "Pick a topic below to see its latest articles.",
    ),
    "topics.count": ("{count:,}件", "{count:,} articles"),
    "topics.count_one": ("{count}件", "{count} article"),
    "topics.placeholder": ("トピックを選ぶ", "Choose a topic"),
    "open.placeholder": ("記事を開く", "Open an article"),
    "page.previous": ("前へ", "Previous"),
    "page.next": ("次へ", "Next"),
    "article.missing": (
        "記事 #{id} は見つかりませんでした（削除された可能性があります）。",
        "Article #{id} was not found (it may have been removed).",
    ),
    "article.source": ("出典", "Source"),
    "article.link": ("記事を読む", "Read"),
    "article.topics": ("トピック", "Topics"),
    "article.continued": ("（続き {part}/{parts}）", "(continued {part}/{parts})"),
    "article.cut": (
        "（本文が長いため、ここには一部のみ表示しています）",
        "(The article is long; only part of it is shown here.)",
    ),
    "article.cut_link": (
        "（本文が長いため一部のみ表示しています。全文: {url}）",
        "(The article is long; only part of it is shown. Full text: {url})",
    ),
    "page.expired": (
        "このボタンは古くなっています。もう一度コマンドを実行してください。",
        "This button is out of date. Please run the command again.",
    ),
    "error.generic": (
        "エラーが発生しました。しばらくしてからもう一度お試しください。",
        "Something went wrong. Please try again in a moment.",
    ),
    "error.outdated": (
        "このコマンドは更新されています。Discord を再読み込み（PC では Ctrl+R、スマホでは"
        "アプリを再起動）してから、もう一度お試しください。",
        "This command has changed: reload Discord (Ctrl+R on a computer, or restart the app) "
        "and try again.",
    ),
    "error.cooldown": (
        "少し待ってから、もう一度お試しください（{seconds:.0f}秒後）。",
        "Please wait a moment and try again (in {seconds:.0f} s).",
    ),
    "error.permissions": (
        "このコマンドを使う権限がありません（必要: {perms}）。",
        "You don't have permission to use this command (needs: {perms}).",
    ),
    "error.channel_option": (
        "このチャンネルは使えません。このサーバーのテキストチャンネルを選んでください。",
        "That channel can't be used here: choose a text channel of this server.",
    ),
    "error.option": (
        "指定された値はこのコマンドでは使えません。選び直してください。",
        "A value you gave can't be used with this command; please choose again.",
    ),
    "error.guild_only": (
        "このコマンドはサーバー内でのみ使えます。",
        "This command can only be used in a server.",
    ),
    "digest.missing": (
        "{channel} に投稿できません。ボットに次の権限がありません: {perms}",
        "The bot can't post in {channel}: it is missing {perms}.",
    ),
    "digest.invalid": ("設定できませんでした: {error}", "Not saved: {error}"),
    "schedule.bad_weekday": (
        "曜日「{value}」は使えません。月曜日〜日曜日（1〜7）で指定してください。",
        "unknown weekday “{value}”: use Monday to Sunday (1–7)",
    ),
    "schedule.bad_time": (
        "時刻「{value}」は使えません。09:00 や 18:30 のように24時間制の HH:MM で指定してください。",
        "invalid time “{value}”: use 24-hour HH:MM, e.g. 09:00 or 18:30",
    ),
    "schedule.bad_timezone": (
        "タイムゾーン「{value}」が見つかりません。Asia/Tokyo のような IANA 名で指定してください。",
        "unknown timezone “{value}”: use an IANA name such as Asia/Tokyo",
    ),
    "schedule.bad_language": (
        "言語「{value}」は使えません。日本語（ja）か英語（en）を選んでください。",
        "unknown language “{value}”: choose Japanese (ja) or English (en)",
    ),
    "schedule.bad_when_empty": (
        "「{value}」は選べません。記事がない週は post（お知らせを投稿）か skip（投稿しない）です。",
        "unknown option “{value}” for an empty week: choose post or skip",
    ),
    "language.ja": ("日本語", "Japanese"),
    "language.en": ("英語", "English"),
    "empty.post": ("記事がない週は短いお知らせを投稿", "a short note in weeks without articles"),
    "empty.skip": ("記事がない週は投稿しない", "weeks without articles are skipped"),
    "schedule.when": ("毎週{day} {time}（{zone}）", "{day} {time} {zone}"),
    "digest.saved": (
        "{channel} に{when}に{language}のダイジェストを投稿します（{empty}）。次回: {next}",
        "The weekly digest will be posted in {channel} every {when}, in {language} ({empty}). "
        "Next: {next}",
    ),
    "digest.preview_next": (
        "{channel} の次回の投稿（{when}）のプレビューです。",
        "Preview of the next post in {channel} ({when}).",
    ),
    "digest.preview_posted": (
        "{channel} の次回の投稿（{when}）の週は、すでに投稿済みです。次回は何も投稿されません。",
        "The week of the next post in {channel} ({when}) was already posted: that run posts "
        "nothing.",
    ),
    "digest.preview_skip": (
        "{channel} の次回の投稿（{when}）の週には、まだ記事がありません。"
        "この設定では、それまでに記事が届かなければ何も投稿されません。",
        "The week of the next post in {channel} ({when}) has no articles yet: with this "
        "schedule, that run posts nothing unless some arrive before it.",
    ),
    "digest.preview_paused": (
        "{channel} の週刊ダイジェストは停止中のため、`/同盟ダイジェスト設定 設定` で"
        "再開するまで何も投稿されません。`/同盟ダイジェスト設定 今すぐ投稿` で投稿される内容"
        "（{week}の週）です。",
        "The weekly digest in {channel} is paused: nothing is posted until an admin runs "
        "`/alliance-digest set`. This is what `/alliance-digest post-now` would post there "
        "(the week of {week}).",
    ),
    "digest.preview_paused_posted": (
        "{channel} の週刊ダイジェストは停止中です。`/同盟ダイジェスト設定 今すぐ投稿` で"
        "投稿される{week}の週は、すでに投稿済みのため何も投稿されません。",
        "The weekly digest in {channel} is paused, and the week of {week}, which "
        "`/alliance-digest post-now` would post, was already posted: it posts nothing.",
    ),
    "digest.preview_paused_skip": (
        "{channel} の週刊ダイジェストは停止中です。{week}の週には記事がなく、この設定では"
        "記事のない週を投稿しないため、`/同盟ダイジェスト設定 今すぐ投稿` でも何も投稿されません。",
        "The weekly digest in {channel} is paused, and the week of {week} has no articles: "
        "this schedule skips such weeks, so `/alliance-digest post-now` posts nothing.",
    ),
    "digest.preview_no_schedule": (
        "{channel} には定期投稿の設定がありません。`/同盟ダイジェスト設定 今すぐ投稿` で"
        "投稿される内容（{week}の週）です。",
        "{channel} has no schedule: this is what `/alliance-digest post-now` would post there "
        "(the week of {week}).",
    ),
    "digest.preview_no_schedules": (
        "このサーバーには定期投稿の設定がありません。`/同盟ダイジェスト設定 今すぐ投稿` で"
        "投稿される内容（{week}の週）です。",
        "This server has no schedule: this is what `/alliance-digest post-now` would post "
        "(the week of {week}).",
    ),
    "digest.stopped": (
        "{channel} のダイジェストを停止しました。",
        "Stopped the weekly digest in {channel}.",
    ),
    "digest.stopped_post_now": (
        "{channel} には定期投稿の設定はありません。再試行を待っていた "
        "`/同盟ダイジェスト設定 今すぐ投稿` を取り消しました。",
        "{channel} has no schedule; cancelled the `/alliance-digest post-now` that was waiting "
        "to be tried again.",
    ),
    "digest.no_schedule": (
        "{channel} にはダイジェストの設定がありません。",
        "There is no digest schedule for {channel}.",
    ),
    "digest.status_title": ("ダイジェストの設定", "Digest schedules"),
    "digest.status_empty": (
        "まだ設定がありません。`/同盟ダイジェスト設定 設定` で設定できます。",
        "No schedules yet. Set one with `/alliance-digest set`.",
    ),
    "digest.paused": (
        "⏸ 3回続けて失敗したため停止中です。`/同盟ダイジェスト設定 設定` で再開します。",
        "⏸ Paused after 3 failures in a row. Run `/alliance-digest set` to resume.",
    ),
    "digest.paused_dm": (
        "{guild} の {channel} の週刊ダイジェストは、3回続けて投稿できなかったため停止しました。"
        "直近のエラー: {error}\n"
        "原因を直してから `/同盟ダイジェスト設定 設定` を実行すると再開します。",
        "The weekly digest in {channel} on {guild} is paused after 3 failures in a row. "
        "Last error: {error}\nFix that, then run `/alliance-digest set` to resume.",
    ),
    "digest.next": ("次回: {when}", "Next: {when}"),
    "digest.last_post": ("前回の投稿: {week}の週（{when}）", "Last post: week of {week} ({when})"),
    "digest.missed": (
        "{week}の週は、ボットまたは Discord の停止中に予定時刻を過ぎたため投稿されませんでした。",
        "The week of {week} was missed: the bot or Discord was down past its posting time.",
    ),
    "digest.skipped_week": (
        "{week}の週は記事がなかったため、投稿しませんでした。",
        "The week of {week} had no articles, so it was not posted.",
    ),
    "digest.missed_more": (
        "{week}の週ほか{count}週分は、ボットまたは Discord の停止中に予定時刻を過ぎたため"
        "投稿されませんでした。",
        "The week of {week} and {count} earlier weeks were missed: the bot or Discord was down"
        " past their posting time.",
    ),
    "digest.missed_more_one": (
        "{week}の週ほか1週分は、ボットまたは Discord の停止中に予定時刻を過ぎたため"
        "投稿されませんでした。",
        "The week of {week} and one earlier week were missed: the bot or Discord was down past"
        " their posting time.",
    ),
    "digest.last_error": ("直近のエラー: {error}", "Last error: {error}"),
    "digest.last_error_at": ("直近のエラー: {error}（{when}）", "Last error: {error} ({when})"),
    "digest.posted": (
        "{channel} に{week}の週のダイジェストを投稿しました。",
        "Posted the digest of the week of {week} in {channel}.",
    ),
    "digest.already": (
        "{week}の週のダイジェストは {channel} に投稿済みです。",
        "The digest of the week of {week} was already posted in {channel}.",
    ),
    "digest.unconfirmed": (
        "{week}の週のダイジェストが {channel} に投稿されたかは未確認です。"
        "まもなくチャンネルの履歴を確認し直します。",
        "Whether the digest of the week of {week} reached {channel} is not confirmed yet; "
        "the bot checks the channel again shortly.",
    ),
    "digest.incomplete": (
        "{week}の週のダイジェストは、エラーのため {channel} に途中までしか投稿されませんでした。"
        "残りのページをまもなく投稿します。",
        "An error stopped the digest of the week of {week} after its first pages in {channel}; "
        "the bot posts the rest shortly.",
    ),
    "digest.skipped": (
        "{week}の週には記事がなく、この設定では投稿しません。",
        "The week of {week} has no articles, and this schedule skips empty weeks.",
    ),
    "digest.failed": (
        "{channel} に投稿できませんでした: {error}。",
        "Could not post in {channel}: {error}.",
    ),
    "digest.paused_now": (
        "3回続けて投稿できなかったため、{channel} の週刊ダイジェストを停止しました。"
        "原因を直してから `/同盟ダイジェスト設定 設定` を実行すると再開します。",
        "After 3 failures in a row, the weekly digest in {channel} is paused: fix the cause, "
        "then run `/alliance-digest set` to resume it.",
    ),
    "digest.still_paused": (
        "{channel} の週刊ダイジェストは停止中のままです。"
        "`/同盟ダイジェスト設定 設定` で再開します。",
        "The weekly digest in {channel} stays paused until you run `/alliance-digest set`.",
    ),
    "digest.unavailable": (
        "{channel} に投稿できませんでした: {error}。まもなく再試行します。",
        "Could not post in {channel}: {error}. The bot tries again shortly.",
    ),
    "digest.retrying": (
        "{week}の週のダイジェストを {channel} に投稿できませんでした。まもなく再試行します。",
        "Could not post the digest of the week of {week} in {channel} yet; "
        "the bot tries again shortly.",
    ),
    "digest.bad_week": (
        "「{value}」は日付として読めません。実在する日付を YYYY-MM-DD の形で指定してください"
        "（例: 2025-12-15）。",
        "“{value}” is not a date: give a real one as YYYY-MM-DD (e.g. 2025-12-15).",
    ),
    "digest.page": ("{page} / {pages} ページ", "Page {page} of {pages}"),
    "digest.week_past_calendar": (
        "その日の週は暦の最後（9999年12月31日）を越えるため表示できません。もっと前の日付を指定してください。",
        "That date's week runs past the last date there is (Dec 31, 9999). Give an earlier date.",
    ),
    "feeds.never": ("まだ", "never"),
    "feeds.kind_general": (
        "一般ニュース（同盟関連のみ取り込み）",
        "general news (alliance items only)",
    ),
    "feeds.kind_alliance": ("同盟専門", "alliance-specific"),
    "feeds.settings": (
        "{kind} · {interval}分ごと · 設定元: {origin}",
        "{kind} · every {interval} min · from: {origin}",
    ),
    "feeds.origin.file": ("feeds.toml", "feeds.toml"),
    "feeds.origin.runtime": ("コマンドで追加", "added by command"),
    "feeds.activity": (
        "最終取得: {fetched} · 最新記事: {new} · 記事数: {count}",
        "Last fetch: {fetched} · last new article: {new} · articles: {count}",
    ),
    "feeds.flagged": ("⚠️ {since}から取得に失敗し続けています", "⚠️ Started failing {since}"),
    "feeds.error": ("直近のエラー: {error}", "Last error: {error}"),
    "feeds.invalid": ("できませんでした: {error}", "Not done: {error}"),
    "feeds.file_unread": (
        "フィードの設定ファイルを読めないため、コマンドで追加したフィードだけを取得しています。"
        "運用者がファイルを直せば、{minutes}分以内に読み直してその分も取得を始めます: {error}",
        "The feeds file can't be read, so only the feeds added by command are being fetched. "
        "Once the operator fixes it, the bot reads it again within {minutes} minutes and "
        "fetches its feeds too: {error}",
    ),
    "feeds.file_unreadable_now": (
        "フィードの設定ファイルを読めないため、最後に読めた設定のまま取得しています。"
        "運用者がファイルを直す必要があります: {error}",
        "The feeds file can't be read, so the feeds are fetched as it last said. The operator "
        "must fix it: {error}",
    ),
    "feeds.operator_only": (
        "このボットのフィードは運用者が管理しています（feeds.toml または alliance-bot feeds）。"
        "`/同盟フィード設定 一覧` で一覧を確認できます。",
        "This bot's feeds are managed by its operator (feeds.toml or alliance-bot feeds); "
        "`/alliance-feeds list` shows them.",
    ),
    "feeds.added": (
        "フィード「{name}」を追加しました（{interval}分ごとに取得）。",
        "Now following “{name}” (fetched every {interval} min).",
    ),
    "feeds.removed": ("フィード {url} の取得をやめました。", "No longer following {url}."),
    "feeds.not_followed": ("{url} は登録されていません。", "{url} is not followed."),
    "feeds.title": ("ニュースフィード", "News feeds"),
    "feeds.none": (
        "フィードはまだありません。`/同盟フィード設定 追加` で追加できます。",
        "No feeds yet. Add one with `/alliance-feeds add`.",
    ),
    "feeds.none_operator": (
        "フィードはまだありません。運用者が feeds.toml か alliance-bot feeds add で追加します。",
        "No feeds yet. The operator adds them in feeds.toml or with alliance-bot feeds add.",
    ),
    "feeds.footer": ("{count}件（要確認 {flagged}件）", "{count} feeds ({flagged} failing)"),
    "feeds.footer_one": ("{count}件（要確認 {flagged}件）", "{count} feed ({flagged} failing)"),
    "help.title": ("日米同盟ニュースボットの使い方", "How to use the alliance news bot"),
    "help.intro": (
        "日米同盟に関するニュース記事を検索・閲覧できます。毎週のダイジェストも投稿します。",
        "Search and browse news articles about the US–Japan alliance; a weekly digest is "
        "posted too.",
    ),
    "help.search": (
        "キーワードで記事を検索します（日本語・英語、表記ゆれや誤字にも対応）。"
        "語の前に - を付けるとその語を含む記事を除き、「核 OR 台湾」でどちらかを含む記事を"
        "探します。並び順で新しい順にもできます。\n"
        "例: `/日米同盟 検索 キーワード:台湾 -中国` ・ "
        "`/日米同盟 検索 キーワード:PAC3 トピック:装備・防衛産業` ・ "
        "`/日米同盟 検索 キーワード:関税 並び順:新しい順`",
        "Search articles by keyword (Japanese or English; variants and typos are handled); "
        "a word written with - before it leaves out the articles that have it, and OR between "
        "two words finds either (`nuclear OR Taiwan`); sort them newest first if you like.\n"
        "e.g. `/alliance search query:Taiwan -China` · "
        "`/alliance search query:PAC3 topic:Equipment & defense industry` · "
        "`/alliance search query:tariffs sort:Newest first`",
    ),
    "help.latest": (
        "新しい記事を表示します。例: `/日米同盟 最新 件数:5 トピック:台湾有事`",
        "Show the newest articles. e.g. `/alliance latest count:5 topic:Taiwan contingency`",
    ),
    "help.topics": (
        "トピックと記事数を一覧し、メニューからトピックを選べます。",
        "List topics with their article counts; pick one from the menu.",
    ),
    "help.article": (
        "記事を全文で表示します。例: `/日米同盟 記事 番号:12`",
        "Show one article in full. e.g. `/alliance article id:12`",
    ),
    "help.digest": (
        "今週（または指定した週）のダイジェストを自分だけに表示します。"
        "例: `/日米同盟 ダイジェスト 週:2025-12-15`",
        "Preview this week's (or a given week's) digest, visible only to you. "
        "e.g. `/alliance digest week_of:2025-12-15`",
    ),
    "help.admin": (
        "管理者向け: `/同盟ダイジェスト設定 設定` で、毎週のダイジェストを投稿する"
        "チャンネルと時刻を設定します。",
        "For admins: `/alliance-digest set` chooses the channel and time of the weekly digest.",
    ),
    "help.feeds": (
        "管理者向け: `/同盟フィード設定 一覧` で、記事を取り込むニュースフィード（RSS・Atom）と"
        "その状態を確認します。運用者が許可していれば `/同盟フィード設定 追加` と "
        "`/同盟フィード設定 削除` で変更できます。",
        "For admins: `/alliance-feeds list` shows the news feeds (RSS, Atom) articles come from "
        "and how each is doing; `/alliance-feeds add` and `/alliance-feeds remove` change them "
        "where the operator allows it.",
    ),
    "help.footer": ("記事数: {count:,}", "Articles: {count:,}"),
}

# Why a feed was refused or failed (`bot.core.feeds.reasons`), in Japanese; the English is the
# core's own, so the CLI and Discord say the same. Technical details that only exist in English
# (a parser's message, an OS error) are kept in parentheses.
FEED_REASONS_JA: dict[Reason, str] = {
    Reason.URL_EMPTY: "フィードの URL が空です",
    Reason.URL_TOO_LONG: "フィードの URL が {limit}文字を超えています",
    Reason.URL_SPACES: "フィードの URL に空白か制御文字が含まれています",
    Reason.URL_INVALID: "URL の形式が正しくありません（{detail}）",
    Reason.URL_SCHEME: "フィードの URL は http:// か https:// で始めてください",
    Reason.URL_NO_HOST: "フィードの URL にホスト名がありません",
    Reason.URL_BAD_HOST: "フィードの URL の {host} はホスト名として正しくありません",
    Reason.URL_CREDENTIALS: "ユーザー名やパスワードを含む URL は使えません",
    Reason.URL_PRIVATE: "ローカルネットワークやプライベートアドレスのフィードは追加できません",
    Reason.NAME_TOO_LONG: "フィード名が {limit}文字を超えています",
    Reason.INTERVAL_NOT_INT: "間隔は分単位の整数で指定してください",
    Reason.INTERVAL_RANGE: "間隔は {low}〜{high}分の範囲で指定してください",
    Reason.KIND_INVALID: 'kind は "alliance" か "general" で指定してください',
    Reason.ALREADY_IN_FILE: "{url} はすでに登録されています（feeds.toml）",
    Reason.ALREADY_ADDED: "{url} はすでに登録されています",
    Reason.REMOVE_FILE_FEED: "{url} は {file} に書かれています。削除はそのファイルで行ってください",
    Reason.NOT_FOLLOWED: "{url} は登録されていません",
    Reason.FILE_UNREADABLE: "{file} を読み込めません（{detail}）",
    Reason.FILE_NOT_UTF8: "{file} が UTF-8 のテキストではありません",
    Reason.FILE_NOT_TOML: "{file} の TOML の書式が正しくありません（{detail}）",
    Reason.FILE_LAYOUT: "{file}: フィードは [[feed]] の表として書いてください",
    Reason.ENTRY_NOT_TABLE: "表になっていません",
    Reason.ENTRY_UNKNOWN_KEYS: "不明なキーがあります: {keys}",
    Reason.ENTRY_NO_URL: "url がないか、文字列ではありません",
    Reason.ENTRY_NAME_TYPE: "name は文字列で指定してください",
    Reason.TIMEOUT: "{seconds}秒以内に応答がありませんでした",
    Reason.CONNECTION: "接続できませんでした（{detail}）",
    Reason.PRIVATE_ADDRESS: "{host} はローカルまたはプライベートなアドレスのため取得しません",
    Reason.PRIVATE_NAME: "{host} の接続先がローカルまたはプライベートなアドレスのため取得しません",
    Reason.HTTP_STATUS: "サーバーの応答: HTTP {status} {phrase}",
    Reason.REDIRECT_SCHEME: "対応していない URL に転送されました: {url}",
    Reason.TOO_MANY_REDIRECTS: "転送（リダイレクト）が {limit}回を超えました",
    Reason.TOO_LARGE: "大きすぎます（上限 {limit}バイト）",
    Reason.UNREADABLE_FEED: "フィードとして読めません（{detail}）",
    Reason.NOT_A_FEED: "RSS・Atom・RDF のフィードではありません",
    Reason.INTERNAL: "内部エラーが起きました（{detail}）",
}
MESSAGES.update(
    {
        f"feeds.reason.{reason.value}": (FEED_REASONS_JA[reason], FEED_REASONS_EN[reason])
        for reason in Reason
    }
)


# Why a weekly digest was not posted (`bot.core.schedules.FailureCode`), for `digest.last_error`
# and `digest.failed`. Stored as a code, so an admin reads it in their own language whichever
# language the post failed in. A code's variants are dotted keys, which no code can collide with.
DIGEST_FAILURES: dict[FailureCode, tuple[str, str]] = {
    FailureCode.CHANNEL_MISSING: (
        "チャンネルが見つかりません（削除されたか、ボットから見えません）",
        "the channel was not found (deleted, or the bot can't see it)",
    ),
    FailureCode.MISSING_PERMISSIONS: (
        "ボットに権限がありません（{perms}）",
        "the bot is missing {perms}",
    ),
    FailureCode.MISSING_ACCESS: (
        "ボットがチャンネルにアクセスできません。「{perm}」の権限を確認してください",
        "the bot has no access to the channel; check its {perm} permission",
    ),
    FailureCode.HTTP: (
        "Discord がエラーを返しました（HTTP {status}）",
        "Discord answered with an error (HTTP {status})",
    ),
    FailureCode.TIMEOUT: (
        "Discord から時間内に応答がありませんでした",
        "Discord did not answer in time",
    ),
    FailureCode.UNCONFIRMED: (
        "エラーのため投稿できたか確認できませんでした。チャンネルの履歴を確認し直します",
        "an error left it unclear whether the digest was posted; the bot checks the channel again",
    ),
    FailureCode.SCHEDULE_STOPPED: (
        "設定が停止されていたため、中断された投稿を再開しませんでした",
        "the interrupted post was not resumed: the schedule was stopped or paused",
    ),
    FailureCode.INCOMPLETE: (
        "最初のページを投稿した後にエラーが発生しました。残りのページをまもなく投稿します",
        "an error stopped the post after its first pages; the bot posts the rest shortly",
    ),
    FailureCode.UNREACHABLE: (
        "Discord に接続できませんでした",
        "the bot could not reach Discord",
    ),
}
MESSAGES.update(
    {f"digest.reason.{code.value}": DIGEST_FAILURES[code] for code in FailureCode}
    | {
        "digest.reason.missing_permissions.any": (
            "Discord が投稿を拒否しました。このチャンネルでボットの権限が足りません"
            "（必要: {perms}）",
            "Discord refused the post: the bot lacks a permission it needs in the channel "
            "(needs: {perms})",
        ),
        "digest.reason.http.code": (
            "Discord がエラーを返しました（HTTP {status}、エラーコード {code}）",
            "Discord answered with an error (HTTP {status}, error code {code})",
        ),
        "digest.reason.http.unavailable": (
            "Discord が一時的に応答できませんでした（HTTP {status}）",
            "Discord was temporarily unavailable (HTTP {status})",
        ),
        # Discord's own message exists only in English: quoted as it is, for a bug report.
        "digest.reason_detail": (
            "{reason}。Discord のメッセージ: {detail}",
            "{reason}: {detail}",
        ),
        "digest.reason_unknown": (
            "原因は記録されていません。ボットのログを確認してください",
            "no reason was recorded; see the bot's log",
        ),
    }
)


def t(key: str, lang: Lang, **fields: object) -> str:
    """The message `key` in `lang`, with `fields` filled in; `key`_one instead, where there is
    one, when `count` is 1 (English says "1 article")."""
    if fields.get("count") == 1 and f"{key}_one" in MESSAGES:
        key = f"{key}_one"
    ja, en = MESSAGES[key]
    return (ja if lang == "ja" else en).format(**fields)


# Permissions as Discord's own settings name them, in each language.
PERMISSION_NAMES: dict[str, tuple[str, str]] = {
    "manage_guild": ("サーバー管理", "Manage Server"),
    "view_channel": ("チャンネルを見る", "View Channels"),
    "send_messages": ("メッセージを送信", "Send Messages"),
    "embed_links": ("埋め込みリンク", "Embed Links"),
    "read_message_history": ("メッセージ履歴を読む", "Read Message History"),
}


def enumerate_words(words: Iterable[str], lang: Lang) -> str:
    """Words listed as each language writes a list: "A、B" / "A, B"."""
    return ("、" if lang == "ja" else ", ").join(words)


def permission_names(names: Sequence[str], lang: Lang) -> str:
    """Permissions as Discord names them for the member: "manage_guild" -> "Manage Server"."""
    shown = []
    for name in names:
        ja, en = PERMISSION_NAMES.get(name) or (name.replace("_", " ").title(),) * 2
        shown.append(ja if lang == "ja" else en)
    return enumerate_words(shown, lang)


def slash(command: str, lang: Lang) -> str:
    """A command as the member's client names it: "/alliance search", "/日米同盟 検索"."""
    words = command.split()
    if lang == "ja":
        words = [COMMAND_JA.get(word, word) for word in words]
    return "/" + " ".join(words)


# Slash-command names and descriptions, English source text -> Japanese.
COMMAND_JA: dict[str, str] = {
    "alliance": "日米同盟",
    "News about the US–Japan alliance": "日米同盟のニュース",
    "search": "検索",
    "Search articles in Japanese or English": "記事を日本語または英語で検索します",
    "query": "キーワード",
    "Words to look for, e.g. 台湾, PAC3, Koizumi": "探す言葉（例: 台湾、PAC3、小泉）",
    "topic": "トピック",
    "Only articles of this topic": "このトピックの記事だけ",
    "sort": "並び順",
    "Order of the results (default: most relevant first)": "結果の並び順（省略時は関連度順）",
    "Most relevant first": "関連度順",
    "Newest first": "新しい順",
    "latest": "最新",
    "Show the newest articles": "新しい記事を表示します",
    "count": "件数",
    "How many articles (1–10)": "表示する件数（1〜10）",
    "topics": "トピック一覧",
    "List topics with their article counts": "トピックと記事数を一覧します",
    "article": "記事",
    "Show one article in full": "記事を全文で表示します",
    "id": "番号",
    "The article (type to search)": "記事（入力して検索）",
    "digest": "ダイジェスト",
    "Preview this week's digest (only you see it)": (
        "今週のダイジェストを表示します（自分だけに表示）"
    ),
    "week_of": "週",
    "Any date in the week, YYYY-MM-DD (default: this week)": (
        "その週の任意の日付 YYYY-MM-DD（省略時は今週）"
    ),
    "alliance-digest": "同盟ダイジェスト設定",
    "Set up the weekly digest (admins)": "毎週のダイジェストを設定します（管理者）",
    "set": "設定",
    "Post the weekly digest in a channel": "チャンネルに毎週のダイジェストを投稿します",
    "channel": "チャンネル",
    "Where to post": "投稿先",
    "weekday": "曜日",
    "Day of the week": "曜日",
    "time": "時刻",
    "Time of day, HH:MM (24-hour)": "時刻 HH:MM（24時間制）",
    "timezone": "タイムゾーン",
    "IANA timezone, e.g. Asia/Tokyo (default: as set before, or Asia/Tokyo)": (
        "IANA タイムゾーン（例: Asia/Tokyo。省略すると前回の設定、初回は Asia/Tokyo）"
    ),
    "language": "言語",
    "Language of the digest (default: as set before, or Japanese)": (
        "ダイジェストの言語（省略すると前回の設定、初回は日本語）"
    ),
    "Language of the digest, where no schedule sets it (default: yours)": (
        "定期投稿の設定がないチャンネルでのダイジェストの言語（省略時はあなたの言語）"
    ),
    "when_empty": "記事がない週",
    "What to do in a week without articles (default: as set before, or post)": (
        "記事がない週の扱い（省略すると前回の設定、初回はお知らせを投稿）"
    ),
    "Japanese": "日本語",
    "English": "英語",
    "Post a short note": "短いお知らせを投稿",
    "Skip the week": "投稿しない",
    "Monday": "月曜日",
    "Tuesday": "火曜日",
    "Wednesday": "水曜日",
    "Thursday": "木曜日",
    "Friday": "金曜日",
    "Saturday": "土曜日",
    "Sunday": "日曜日",
    "stop": "停止",
    "Stop the weekly digest in a channel": "チャンネルのダイジェストを停止します",
    "The channel": "チャンネル",
    "status": "状況",
    "Every digest schedule of this server": "このサーバーのダイジェスト設定の一覧",
    "post-now": "今すぐ投稿",
    "Post the latest week's digest now": "直近の週のダイジェストを今すぐ投稿します",
    "preview": "プレビュー",
    "Preview the next digest (only you see it)": "次回のダイジェストを表示します（自分だけに表示）",
    "Whose schedule to preview (default: this server's first)": (
        "どのチャンネルの設定か（省略時は最初の設定）"
    ),
    "alliance-feeds": "同盟フィード設定",
    "Manage the news feeds the bot follows (admins)": (
        "ボットが取得するニュースフィードを管理します（管理者）"
    ),
    "add": "追加",
    "Follow a news feed (RSS or Atom)": "ニュースフィード（RSS・Atom）を追加します",
    "url": "url",
    "The feed's address (https://…)": "フィードのアドレス（https://…）",
    "name": "名前",
    "A name to show (default: the site)": "表示名（省略時はサイト名）",
    "interval": "間隔",
    "Minutes between fetches (5–1440, default 30)": "取得の間隔（分、5〜1440、省略時は30）",
    "general": "一般ニュース",
    "A general news feed: keep only articles about the alliance": (
        "一般ニュースのフィード（同盟関連の記事だけ取り込む）"
    ),
    "remove": "削除",
    "Stop following a news feed": "ニュースフィードの取得をやめます",
    "The feed's address": "フィードのアドレス",
    "list": "一覧",
    "The followed feeds and how each is doing": "登録済みフィードと取得状況の一覧",
    "help": "ヘルプ",
    "How to use this bot": "このボットの使い方",
}


class CommandTranslator(app_commands.Translator):
    """Localizes command names, descriptions and choices from the tables in this module."""

    def __init__(self, extra_ja: dict[str, str] | None = None) -> None:
        self.ja = {**COMMAND_JA, **(extra_ja or {})}

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        """Japanese from the table; English locales get the source text; others fall back."""
        if locale is discord.Locale.japanese:
            return self.ja.get(string.message)
        if locale in ENGLISH_LOCALES:
            return string.message
        return None
