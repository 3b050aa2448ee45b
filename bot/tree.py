"""The command tree: one place where every slash-command error is logged and answered."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import discord
from discord import app_commands

from bot.i18n import lang_of, permission_names, t

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()


async def reply_privately(interaction: discord.Interaction, content: str) -> None:
    """Tell the member something only they see, whether or not the interaction was answered."""
    if interaction.response.is_done():
        await interaction.followup.send(content, ephemeral=True, allowed_mentions=NO_MENTIONS)
    else:
        await interaction.response.send_message(
            content, ephemeral=True, allowed_mentions=NO_MENTIONS
        )


def in_a_server(interaction: discord.Interaction) -> bool:
    """A check for server-only commands (`interaction_check`): `guild_only` only asks Discord
    not to offer them in DMs, and a request made by hand can still arrive from one."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage
    return True


async def report_failure(interaction: discord.Interaction, what: str) -> None:
    """Log the exception being handled and tell the member, briefly and privately."""
    log.exception("%s failed (interaction %s)", what, interaction.id)
    try:
        await reply_privately(interaction, t("error.generic", lang_of(interaction.locale)))
    except discord.HTTPException:
        log.warning("could not report an error to the member", exc_info=True)


def _focused_option(options: Iterable[dict[str, Any]]) -> str | None:
    """The name of the option being typed in an autocomplete's (nested) options."""
    for option in options:
        if option.get("focused"):
            return str(option.get("name"))
        found = _focused_option(option.get("options") or [])
        if found is not None:
            return found
    return None


class AllianceTree(app_commands.CommandTree[discord.Client]):
    """A `CommandTree` whose `on_error` answers the member briefly and logs the traceback."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Answer with no choices an autocomplete of an option that has none here (a client
        with an outdated command): discord.py would log a traceback and leave it unanswered."""
        if interaction.type is not discord.InteractionType.autocomplete:
            return True
        command = interaction.command
        if not isinstance(command, app_commands.Command):
            return True  # an unknown command: `on_error` answers it
        data: dict[str, Any] = interaction.data or {}  # type: ignore[assignment]
        focused = _focused_option(data.get("options") or [])
        completes = any(p.display_name == focused and p.autocomplete for p in command.parameters)
        if completes:
            return True
        log.info("outdated autocomplete of %r (interaction %s)", focused, interaction.id)
        try:
            await interaction.response.autocomplete([])
        except discord.HTTPException:
            log.warning("could not answer an outdated autocomplete", exc_info=True)
        return False

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Answer privately in the member's language; log what they can't act on."""
        lang = lang_of(interaction.locale)
        if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
            # The member's client still offers a command as it was before an update.
            log.info("outdated command used (interaction %s): %s", interaction.id, error)
            message = t("error.outdated", lang)
        elif isinstance(error, app_commands.CommandOnCooldown):
            message = t("error.cooldown", lang, seconds=error.retry_after)
        elif isinstance(error, app_commands.MissingPermissions):
            perms = permission_names(error.missing_permissions, lang)
            message = t("error.permissions", lang, perms=perms)
        elif isinstance(error, app_commands.NoPrivateMessage):
            message = t("error.guild_only", lang)
        elif isinstance(error, app_commands.CheckFailure):
            message = str(error) or t("error.generic", lang)
        elif isinstance(error, app_commands.TransformerError):
            # A value Discord's own pickers would not offer (a category, another server's
            # channel, one deleted meanwhile), or out of range: the member's to change.
            log.info("command option refused: %s", error)
            channel = error.type is discord.AppCommandOptionType.channel
            message = t("error.channel_option" if channel else "error.option", lang)
        else:
            command = interaction.command.qualified_name if interaction.command else "?"
            original = getattr(error, "original", error)
            log.error(
                "command %r failed (interaction %s)",
                command,
                interaction.id,
                exc_info=(type(original), original, original.__traceback__),
            )
            message = t("error.generic", lang)
        try:
            if interaction.type is discord.InteractionType.autocomplete:
                # Options are all an autocomplete may answer; a message is refused (400).
                if not interaction.response.is_done():
                    await interaction.response.autocomplete([])
                return
            await reply_privately(interaction, message)
        except discord.HTTPException:
            # The interaction expired or Discord is down: the log above is all we can do.
            log.warning("could not report an error to the member", exc_info=True)
