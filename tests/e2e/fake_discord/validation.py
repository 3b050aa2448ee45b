"""The checks Discord makes on request bodies, reported in Discord's "Invalid Form Body" shape.

Each `check_*` function returns a nested error dict such as
`{"embeds": {"0": {"title": {"_errors": [{"code": ..., "message": ...}]}}}}`, empty when valid.
Limits are those of Discord's API documentation (messages, embeds, components,
application commands, interaction responses).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

JSON = dict[str, Any]
Path = tuple[str | int, ...]

# Locales Discord accepts in name/description localizations.
LOCALES = frozenset(
    {
        "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu",
        "nl", "no", "pl", "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru",
        "uk", "hi", "th", "zh-CN", "ja", "zh-TW", "ko",
    }
)  # fmt: skip

CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, NUMBER = 3, 4, 10
ACTION_ROW, BUTTON, STRING_SELECT, TEXT_INPUT = 1, 2, 3, 4
AUTO_SELECTS = frozenset({5, 6, 7, 8})  # user, role, mentionable, channel selects
LINK_STYLE, PREMIUM_STYLE = 5, 6
IS_COMPONENTS_V2 = 1 << 15
# What Discord takes as an embed's link: http(s) (or an upload's attachment://), a host, and
# no whitespace anywhere; anything else is "Not a well formed URL".
WELL_FORMED_URL = re.compile(r"(?:https?|attachment)://[^\s/?#]+[^\s]*")


class FormErrors:
    """Collects errors at JSON paths and renders Discord's nested `errors` object."""

    def __init__(self) -> None:
        self.tree: JSON = {}

    def add(self, path: Path, code: str, message: str) -> None:
        """Record an error at `path` (keys and list indexes)."""
        node = self.tree
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_length(self, path: Path, value: Any, limit: int, *, minimum: int = 0) -> None:
        """Check a string's length is within `minimum..limit`."""
        if value is None:
            return
        if not isinstance(value, str):
            self.add(path, "BASE_TYPE_STRING", "Must be a string.")
        elif len(value) > limit or len(value) < minimum:
            if minimum:
                text = f"Must be between {minimum} and {limit} in length."
                self.add(path, "BASE_TYPE_BAD_LENGTH", text)
            else:
                self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def array_length(self, path: Path, value: Any, limit: int, *, minimum: int = 0) -> None:
        """Check a list's length is within `minimum..limit`."""
        if value is None:
            return
        if not isinstance(value, list):
            self.add(path, "BASE_TYPE_ARRAY", "Must be an array.")
        elif not minimum <= len(value) <= limit:
            text = f"Must be between {minimum} and {limit} in length."
            self.add(path, "BASE_TYPE_BAD_LENGTH", text)

    def required(self, path: Path, value: Any) -> bool:
        """Check a value is present and non-empty; return whether it is."""
        if value is None or value == "":
            self.add(path, "BASE_TYPE_REQUIRED", "This field is required")
            return False
        return True


# --- messages --------------------------------------------------------------------------------


def check_message(body: JSON, *, require_content: bool = True) -> JSON:
    """Validate a message create/edit body (channel message, interaction reply, followup)."""
    errors = FormErrors()
    flags = int(body.get("flags") or 0)
    errors.max_length(("content",), body.get("content"), 2000)
    embeds = body.get("embeds")
    errors.array_length(("embeds",), embeds, 10)
    if isinstance(embeds, list):
        total = 0
        for i, embed in enumerate(embeds):
            total += _check_embed(errors, ("embeds", i), embed)
        if total > 6000:
            errors.add(
                ("embeds",), "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
            )
    components = body.get("components")
    if components is not None:
        if flags & IS_COMPONENTS_V2:
            _check_components_v2(errors, body)
        else:
            _check_action_rows(errors, ("components",), components)
    # Discord trims content: a message of only spaces is empty.
    if require_content and not (
        (body.get("content") or "").strip()
        or body.get("embeds")
        or body.get("components")
        or body.get("attachments")
        or body.get("poll")
        or body.get("sticker_ids")
    ):
        errors.add(("content",), "BASE_TYPE_REQUIRED", "Cannot send an empty message")
    return errors.tree


def _check_embed(errors: FormErrors, path: Path, embed: JSON) -> int:
    """Validate one embed and return its character count towards the 6000 total."""
    counted = 0
    for key, limit in (("title", 256), ("description", 4096)):
        value = embed.get(key)
        errors.max_length((*path, key), value, limit)
        counted += len(value) if isinstance(value, str) else 0
    fields = embed.get("fields") or []
    errors.array_length((*path, "fields"), fields, 25)
    for i, fld in enumerate(fields):
        fpath = (*path, "fields", i)
        for key, limit in (("name", 256), ("value", 1024)):
            value = fld.get(key)
            # Discord trims a field's name and value, so one of only spaces is missing (bots put
            # U+200B where they want a field to look blank).
            if errors.required((*fpath, key), value.strip() if isinstance(value, str) else value):
                errors.max_length((*fpath, key), value, limit)
                counted += len(value) if isinstance(value, str) else 0
    footer = embed.get("footer") or {}
    errors.max_length((*path, "footer", "text"), footer.get("text"), 2048)
    counted += len(footer.get("text") or "")
    author = embed.get("author") or {}
    errors.max_length((*path, "author", "name"), author.get("name"), 256)
    counted += len(author.get("name") or "")
    _check_url(errors, (*path, "url"), embed.get("url"))
    _check_url(errors, (*path, "author", "url"), author.get("url"))
    return counted


def _check_url(errors: FormErrors, path: Path, url: Any) -> None:
    if url is None:
        return
    if not isinstance(url, str) or len(url) > 2048 or not WELL_FORMED_URL.fullmatch(url):
        errors.add(path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")


def _check_action_rows(errors: FormErrors, path: Path, rows: Any) -> None:
    errors.array_length(path, rows, 5)
    if not isinstance(rows, list):
        return
    seen: set[str] = set()
    for r, row in enumerate(rows):
        rpath = (*path, r)
        if row.get("type") != ACTION_ROW:
            errors.add((*rpath, "type"), "UNION_TYPE_CHOICES", "Value must be an action row.")
            continue
        children = row.get("components") or []
        errors.array_length((*rpath, "components"), children, 5, minimum=1)
        kinds = {c.get("type") for c in children}
        if len(children) > 1 and kinds - {BUTTON}:
            errors.add(
                (*rpath, "components"),
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        for c, component in enumerate(children):
            _check_component(errors, (*rpath, "components", c), component, seen)


def _check_component(
    errors: FormErrors, path: Path, component: JSON, seen: set[str], *, in_modal: bool = False
) -> None:
    kind = component.get("type")
    custom_id = component.get("custom_id")
    if custom_id is not None:
        errors.max_length((*path, "custom_id"), custom_id, 100, minimum=1)
        if custom_id in seen:
            errors.add(
                (*path, "custom_id"),
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        seen.add(custom_id)
    if kind == BUTTON:
        errors.max_length((*path, "label"), component.get("label"), 80)
        style = component.get("style")
        if style == LINK_STYLE:
            errors.required((*path, "url"), component.get("url"))
        elif style != PREMIUM_STYLE:
            errors.required((*path, "custom_id"), custom_id)
        if not component.get("label") and not component.get("emoji") and style != PREMIUM_STYLE:
            errors.add((*path, "label"), "BASE_TYPE_REQUIRED", "This field is required")
    elif kind == STRING_SELECT or kind in AUTO_SELECTS:
        errors.required((*path, "custom_id"), custom_id)
        errors.max_length((*path, "placeholder"), component.get("placeholder"), 150)
        min_values = component.get("min_values", 1)
        max_values = component.get("max_values", 1)
        if not 0 <= min_values <= 25:
            errors.add((*path, "min_values"), "NUMBER_TYPE_MAX", "Must be between 0 and 25.")
        if not 1 <= max_values <= 25:
            errors.add((*path, "max_values"), "NUMBER_TYPE_MAX", "Must be between 1 and 25.")
        if kind == STRING_SELECT:
            options = component.get("options") or []
            errors.array_length((*path, "options"), options, 25, minimum=1)
            values: set[object] = set()
            for o, option in enumerate(options):
                opath = (*path, "options", o)
                if option.get("value") in values:
                    errors.add(
                        (*opath, "value"),
                        "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED",
                        "Select component option values must be unique",
                    )
                values.add(option.get("value"))
                errors.max_length((*opath, "label"), option.get("label"), 100, minimum=1)
                errors.max_length((*opath, "value"), option.get("value"), 100, minimum=1)
                errors.max_length((*opath, "description"), option.get("description"), 100)
            if isinstance(options, list) and options and max_values > len(options):
                errors.add(
                    (*path, "max_values"),
                    "SELECT_COMPONENT_MAX_VALUES_EXCEEDED",
                    "max_values must be less than or equal to the number of options",
                )
    elif kind == TEXT_INPUT:
        errors.max_length((*path, "label"), component.get("label"), 45)
        errors.max_length((*path, "placeholder"), component.get("placeholder"), 100)
        errors.max_length((*path, "value"), component.get("value"), 4000)
    elif not in_modal:
        errors.add((*path, "type"), "UNION_TYPE_CHOICES", f"Unsupported component type {kind}.")


def walk_components(components: Iterable[JSON]) -> Iterable[JSON]:
    """Every component, nested ones and accessories included."""
    for component in components:
        yield component
        yield from walk_components(component.get("components") or [])
        accessory = component.get("accessory")
        if accessory:
            yield accessory


def _check_components_v2(errors: FormErrors, body: JSON) -> None:
    """Components V2 layouts: no content/embeds, at most 40 components in total."""
    if body.get("content") or body.get("embeds"):
        errors.add(
            ("content",),
            "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "The 'content' and 'embeds' fields cannot be used with components v2",
        )
    every = list(walk_components(body.get("components") or []))
    if len(every) > 40:
        errors.add(("components",), "BASE_TYPE_BAD_LENGTH", "Must be 40 or fewer in length.")
    seen: set[str] = set()
    for component in every:
        custom_id = component.get("custom_id")
        if custom_id is not None:
            if custom_id in seen or not 1 <= len(custom_id) <= 100:
                errors.add(
                    ("components",), "COMPONENT_CUSTOM_ID_INVALID", "Invalid custom id " + custom_id
                )
            seen.add(custom_id)


# --- interaction responses -------------------------------------------------------------------


def check_autocomplete_result(data: JSON) -> JSON:
    """Validate the `data` of an APPLICATION_COMMAND_AUTOCOMPLETE_RESULT (type 8)."""
    errors = FormErrors()
    choices = data.get("choices")
    errors.array_length(("data", "choices"), choices, 25)
    for i, choice in enumerate(choices or []):
        _check_choice(errors, ("data", "choices", i), choice)
    return errors.tree


def check_modal(data: JSON) -> JSON:
    """Validate the `data` of a MODAL response (type 9)."""
    errors = FormErrors()
    errors.max_length(("data", "title"), data.get("title"), 45, minimum=1)
    errors.max_length(("data", "custom_id"), data.get("custom_id"), 100, minimum=1)
    rows = data.get("components")
    errors.array_length(("data", "components"), rows, 5, minimum=1)
    seen: set[str] = set()
    for r, row in enumerate(rows or []):
        for c, component in enumerate(row.get("components") or [row.get("component") or {}]):
            cpath = ("data", "components", r, "components", c)
            _check_component(errors, cpath, component, seen, in_modal=True)
    return errors.tree


def _check_choice(errors: FormErrors, path: Path, choice: JSON) -> None:
    errors.max_length((*path, "name"), choice.get("name"), 100, minimum=1)
    _check_localizations(errors, (*path, "name_localizations"), choice, "name", 1, 100)
    value = choice.get("value")
    if isinstance(value, str):
        errors.max_length((*path, "value"), value, 100, minimum=1)


# --- application commands --------------------------------------------------------------------


def is_valid_command_name(name: Any) -> bool:
    """Chat-input names: ^[-_\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$, lower case."""
    if not isinstance(name, str) or not 1 <= len(name) <= 32:
        return False
    for char in name:
        if char in "-_" or _is_deva_or_thai(char):
            continue
        if unicodedata.category(char)[0] not in "LN":
            return False
        if char.lower() != char:
            return False
    return True


def _is_deva_or_thai(char: str) -> bool:
    point = ord(char)
    return 0x0900 <= point <= 0x097F or 0xA8E0 <= point <= 0xA8FF or 0x0E00 <= point <= 0x0E7F


def check_commands(commands: Any) -> JSON:
    """Validate a bulk overwrite (PUT) body: a list of application commands."""
    errors = FormErrors()
    if not isinstance(commands, list):
        errors.add((), "BASE_TYPE_ARRAY", "Must be an array.")
        return errors.tree
    seen: set[tuple[Any, Any]] = set()
    for i, command in enumerate(commands):
        kind = command.get("type", CHAT_INPUT)
        key = (kind, command.get("name"))
        if key in seen:
            errors.add(
                (i, "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                f"Application command names must be unique: {command.get('name')}",
            )
        seen.add(key)
        check_command(errors, (i,), command)
    if sum(1 for c in commands if c.get("type", CHAT_INPUT) == CHAT_INPUT) > 100:
        errors.add((), "BASE_TYPE_BAD_LENGTH", "Must be between 0 and 100 in length.")
    return errors.tree


def check_command(errors: FormErrors, path: Path, command: JSON) -> None:
    """Validate one application command (name, description, localizations, options)."""
    kind = command.get("type", CHAT_INPUT)
    name = command.get("name")
    if kind == CHAT_INPUT:
        _check_name(errors, (*path, "name"), name)
        _check_localizations(errors, (*path, "name_localizations"), command, "name", 1, 32, True)
        errors.max_length((*path, "description"), command.get("description"), 100, minimum=1)
        _check_localizations(
            errors, (*path, "description_localizations"), command, "description", 1, 100
        )
        _check_options(errors, (*path, "options"), command.get("options"), depth=0)
    elif kind in (USER_COMMAND, MESSAGE_COMMAND):
        errors.max_length((*path, "name"), name, 32, minimum=1)
        _check_localizations(errors, (*path, "name_localizations"), command, "name", 1, 32)
        if command.get("description"):
            errors.add(
                (*path, "description"),
                "APPLICATION_COMMAND_DESCRIPTION_INVALID",
                "Context menu commands cannot have a description",
            )
        if command.get("options"):
            errors.add((*path, "options"), "BASE_TYPE_MAX_LENGTH", "Must be 0 or fewer in length.")
    else:
        errors.add((*path, "type"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4}.")


def _check_name(errors: FormErrors, path: Path, name: Any) -> None:
    if not is_valid_command_name(name):
        errors.add(
            path,
            "APPLICATION_COMMAND_INVALID_NAME",
            f"Command name is invalid: {name!r}",
        )


def _check_localizations(
    errors: FormErrors,
    path: Path,
    obj: JSON,
    key: str,
    minimum: int,
    limit: int,
    is_name: bool = False,
) -> None:
    localizations = obj.get(f"{key}_localizations")
    if localizations is None:
        return
    if not isinstance(localizations, dict):
        errors.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return
    for locale, value in localizations.items():
        if locale not in LOCALES:
            errors.add(
                (*path, locale), "LOCALE_INVALID", f"Invalid locale: {locale!r} is not a locale."
            )
        elif is_name:
            _check_name(errors, (*path, locale), value)
        else:
            errors.max_length((*path, locale), value, limit, minimum=minimum)


def _check_options(errors: FormErrors, path: Path, options: Any, *, depth: int) -> None:
    """Options of a command (depth 0), subcommand group (1) or subcommand (2)."""
    if options is None:
        return
    errors.array_length(path, options, 25)
    if not isinstance(options, list):
        return
    kinds = [o.get("type") for o in options]
    nested = [k in (SUB_COMMAND, SUB_COMMAND_GROUP) for k in kinds]
    if any(nested) and not all(nested):
        errors.add(
            path,
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Sub-command and sub-command group option types are mutually exclusive to all others",
        )
    names: set[str] = set()
    optional_seen = False
    for i, option in enumerate(options):
        opath = (*path, i)
        kind = option.get("type")
        name = option.get("name")
        _check_name(errors, (*opath, "name"), name)
        if name in names:
            errors.add(
                (*opath, "name"),
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            )
        names.add(name)
        _check_localizations(errors, (*opath, "name_localizations"), option, "name", 1, 32, True)
        errors.max_length((*opath, "description"), option.get("description"), 100, minimum=1)
        _check_localizations(
            errors, (*opath, "description_localizations"), option, "description", 1, 100
        )
        if kind == SUB_COMMAND_GROUP:
            if depth != 0:
                errors.add(
                    (*opath, "type"),
                    "APPLICATION_COMMAND_SUBCOMMAND_GROUP_NESTED",
                    "Sub-command groups can only be nested in a command",
                )
            sub = option.get("options") or []
            if any(o.get("type") != SUB_COMMAND for o in sub):
                errors.add(
                    (*opath, "options"),
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "Sub-command groups may only contain sub-commands",
                )
            _check_options(errors, (*opath, "options"), sub, depth=1)
        elif kind == SUB_COMMAND:
            if depth >= 2:
                errors.add(
                    (*opath, "type"),
                    "APPLICATION_COMMAND_SUBCOMMAND_NESTED",
                    "Sub-commands cannot contain sub-commands",
                )
            _check_options(errors, (*opath, "options"), option.get("options"), depth=2)
        else:
            _check_value_option(errors, opath, option)
            if option.get("required"):
                if optional_seen:
                    errors.add(
                        (*opath, "required"),
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                optional_seen = True


def _check_value_option(errors: FormErrors, path: Path, option: JSON) -> None:
    kind = option.get("type")
    if kind not in range(3, 12):
        errors.add((*path, "type"), "BASE_TYPE_CHOICES", "Value must be one of {1..11}.")
    choices = option.get("choices")
    if choices is not None:
        if kind not in (STRING, INTEGER, NUMBER):
            errors.add(
                (*path, "choices"),
                "APPLICATION_COMMAND_OPTION_CHOICES_INVALID",
                "Only string, integer and number options may have choices",
            )
        errors.array_length((*path, "choices"), choices, 25)
        for c, choice in enumerate(choices or []):
            _check_choice(errors, (*path, "choices", c), choice)
        if option.get("autocomplete") and choices:
            errors.add(
                (*path, "autocomplete"),
                "APPLICATION_COMMAND_OPTION_CANNOT_AUTOCOMPLETE",
                "Autocomplete cannot be enabled on options that have choices",
            )
    for key in ("min_length", "max_length"):
        value = option.get(key)
        if value is not None and not (0 if key == "min_length" else 1) <= value <= 6000:
            errors.add((*path, key), "NUMBER_TYPE_MAX", "Must be between 0 and 6000.")
