"""One base for every configuration: a frozen dataclass whose fields declare their limits.

A config file is untrusted input: a string where a number belongs, an infinite factor, zero
heads, a 5,000-digit integer, JSON nested a million levels deep, or widths whose network would
not fit in any memory must each become one clear :class:`~costcore.errors.ConfigError` naming
the file and the field - not a ZeroDivisionError, a RecursionError, or a MemoryError after
minutes of allocating. So a config class declares, per field, what a usable value is::

    @dataclass(frozen=True)
    class HeadConfig(FrozenConfig):
        what = "head config"
        width: int = setting(256, minimum=1, maximum=8192)
        dropout: float = setting(0.1, minimum=0.0, below=1.0)
        kind: str = setting("mlp", choices=("mlp", "conv"))

        def validate(self) -> None:             # rules between fields
            if self.width % 8:
                raise self.invalid("width", "must be a multiple of 8")

        def parameter_count(self) -> int:       # checked against MAX_PARAMETERS
            return self.width * self.width

and the base checks every field on construction (types from the annotations: a bool is not
an int, floats must be finite, lists become tuples, strings are bounded), then
:meth:`FrozenConfig.validate`, then the parameter count, all before anything is allocated.
:meth:`FrozenConfig.from_json_file` reads a file through :func:`read_json_object`, which bounds
its size, nesting and number lengths before parsing.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from costcore.errors import ConfigError, NotRegularFileError
from costcore.fileio import open_regular_file

#: config files are small; anything bigger is not a config
MAX_CONFIG_BYTES = 1 << 20
#: objects and arrays nested deeper than this are refused before parsing (json recurses)
MAX_JSON_DEPTH = 32
#: integers longer than this are refused while parsing (no field needs more)
MAX_INT_DIGITS = 30
#: strings longer than this are refused (paths are at most 4096 bytes on Linux)
MAX_STRING = 4096
#: the largest file or folder name most file systems allow (bytes)
MAX_NAME_BYTES = 255
#: the largest network a config may describe: 1e9 parameters (4 GB in float32), seven times
#: the paper's COST; more is a typo or an attack, and would take minutes to fail otherwise
MAX_PARAMETERS = 1_000_000_000
#: ints without a declared maximum stay below this
DEFAULT_INT_LIMIT = 10**9

_CONSTRAINT = "costcore.constraint"
C = TypeVar("C", bound="FrozenConfig")


@dataclass(frozen=True)
class Constraint:
    """What a field accepts besides its type; for tuples, the bounds apply to each item."""

    minimum: float | None = None
    maximum: float | None = None
    below: float | None = None  # exclusive upper bound
    above: float | None = None  # exclusive lower bound
    choices: tuple[Any, ...] | None = None
    length: int | None = None
    min_length: int = 0
    max_length: int = 64
    #: a file or folder name (or relative path): no NUL, each part at most 255 bytes
    path: bool = False


def setting(
    default: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    below: float | None = None,
    above: float | None = None,
    choices: tuple[Any, ...] | None = None,
    length: int | None = None,
    min_length: int = 0,
    max_length: int = 64,
    path: bool = False,
) -> Any:
    """A dataclass field with a default and the limits the base class checks."""
    constraint = Constraint(
        minimum, maximum, below, above, choices, length, min_length, max_length, path
    )
    return dataclasses.field(default=default, metadata={_CONSTRAINT: constraint})


@dataclass(frozen=True)
class FrozenConfig:
    """Base of every config: checked on construction, immutable, JSON in and out.

    Subclasses are ``@dataclass(frozen=True)``; they set :attr:`what` (for messages) and may
    override :meth:`validate` (rules between fields) and :meth:`parameter_count`.
    """

    #: what the config is called in messages, e.g. "COST model config"
    what: ClassVar[str] = "config"
    #: top-level keys a file may carry that are not fields (file names and such); dropped
    ignored_keys: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        hints = _type_hints(type(self))
        for field in dataclasses.fields(self):
            value = _check_value(
                self, field.name, hints[field.name], getattr(self, field.name), _constraint(field)
            )
            object.__setattr__(self, field.name, value)
        self.validate()
        count = self.parameter_count()
        if count is not None and count > MAX_PARAMETERS:
            raise self.invalid(
                None,
                f"describes a network of {count:,} parameters; at most {MAX_PARAMETERS:,} "
                "can be built (check the widths and depths)",
            )

    # --- for subclasses ----------------------------------------------------------------------
    def validate(self) -> None:
        """Rules between fields; raise :meth:`invalid` errors."""

    def parameter_count(self) -> int | None:
        """Parameters of the network this config describes (None: not a network config)."""
        return None

    @classmethod
    def invalid(cls, field: str | None, message: str) -> ConfigError:
        """The error for a bad ``field`` (the file is added by :meth:`from_dict`)."""
        return ConfigError(None, message, field, what=cls.what)

    # --- dicts and JSON ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON-ready values (tuples become lists)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def replace(self: C, **changes: Any) -> C:
        """A checked copy with ``changes``."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls: type[C], values: Any, source: str | Path | None = None) -> C:
        """A config from JSON-like ``values``; every problem is a ConfigError naming ``source``
        (the file the values came from) and the field."""
        where = None if source is None else Path(source)

        def fail(message: str, field: str | None = None) -> ConfigError:
            return ConfigError(where, message, field, what=cls.what)

        if not isinstance(values, dict):
            raise fail(f"must be a JSON object, not {_kind(values)}")
        values = {key: value for key, value in values.items() if key not in cls.ignored_keys}
        known = {field.name for field in dataclasses.fields(cls)}
        for key in values:
            if not isinstance(key, str):
                raise fail(f"field names are strings, got {_kind(key)}")
        unknown = sorted(set(values) - known)
        if unknown:
            more = f" (and {len(unknown) - 1} more unknown)" if len(unknown) > 1 else ""
            raise fail(f"is not a field of the {cls.what}{more}", unknown[0][:60])
        try:
            return cls(**values)
        except ConfigError as error:
            raise error.in_file(where) if where is not None else error from None

    @classmethod
    def from_json_file(cls: type[C], path: str | Path) -> C:
        """Read a JSON file (see :func:`read_json_object`) into a checked config."""
        return cls.from_dict(read_json_object(path, cls.what), path)

    def write_json(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")


# --- reading JSON safely ----------------------------------------------------------------------


def read_json_object(path: str | Path, what: str = "config") -> dict[str, Any]:
    """A JSON object from a regular file of at most :data:`MAX_CONFIG_BYTES`, nested at most
    :data:`MAX_JSON_DEPTH` levels, with integers of at most :data:`MAX_INT_DIGITS` digits;
    anything else is a :class:`ConfigError` naming the file (and the line, for syntax)."""
    path = Path(path)

    def fail(message: str, line: int | None = None) -> ConfigError:
        return ConfigError(path, message, line=line, what=what)

    try:
        with open_regular_file(path) as handle:  # a FIFO in its place must not hang us
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_CONFIG_BYTES:
                raise fail(f"{size:,} bytes is too big for a {what} (at most {MAX_CONFIG_BYTES:,})")
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise fail(f"{what} not found") from None
    except NotRegularFileError as error:
        raise fail(f"the {what} is {error.kind}, not a regular file") from None
    except OSError as error:
        raise fail(f"cannot read the {what} ({error.strerror or error})") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise fail(f"too big for a {what} (at most {MAX_CONFIG_BYTES:,} bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise fail(f"the {what} is not UTF-8 text (byte {error.start})") from None
    depth, line = _nesting_depth(text, MAX_JSON_DEPTH)
    if depth > MAX_JSON_DEPTH:
        raise fail(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", line)
    try:
        values = json.loads(text, parse_int=_bounded_int)
    except _LongNumber as error:
        raise fail(f"an integer with {error.digits:,} digits is not a usable value") from None
    except json.JSONDecodeError as error:
        raise fail(f"not valid JSON ({error.msg}, column {error.colno})", error.lineno) from None
    except (ValueError, RecursionError) as error:
        raise fail(f"not valid JSON ({error})") from None
    if not isinstance(values, dict):
        raise fail(f"the {what} must be a JSON object, not {_kind(values)}")
    return values


class _LongNumber(ValueError):
    def __init__(self, digits: int) -> None:
        super().__init__(digits)
        self.digits = digits


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _LongNumber(digits)
    return int(text)


def _nesting_depth(text: str, limit: int) -> tuple[int, int | None]:
    """The deepest ``[``/``{`` nesting outside strings (stops counting past ``limit``), and
    the line where ``limit`` was passed."""
    depth = deepest = 0
    in_string = escaped = False
    line = 1
    for char in text:
        if char == "\n":
            line += 1
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest, line
        elif char in "]}":
            depth -= 1
    return deepest, None


# --- checking one value ------------------------------------------------------------------------


def _constraint(field: dataclasses.Field) -> Constraint:
    return field.metadata.get(_CONSTRAINT, Constraint())


_HINTS: dict[type, dict[str, Any]] = {}


def _type_hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    names.update({list: "a list", tuple: "a list", dict: "an object", type(None): "null"})
    return names.get(type(value), type(value).__name__)


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _shown(value: Any) -> str:
    if isinstance(value, int) and value.bit_length() > 128:
        return f"(an integer of {int(value.bit_length() * math.log10(2)) + 1:,} digits)"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_value(config: Any, name: str, hint: Any, value: Any, limits: Constraint) -> Any:
    """``value`` converted to the field's type (lists to tuples, ints to floats), or raise."""

    def fail(message: str) -> ConfigError:
        return ConfigError(None, message, name, what=type(config).what)

    options = typing.get_args(hint) if _is_union(hint) else (hint,)
    if value is None:
        if type(None) in options:
            return None
        raise fail(f"must be {_type_name(hint)}, not null")
    concrete = [option for option in options if option is not type(None)]
    if len(concrete) != 1:
        raise TypeError(f"{name}: unsupported field type {hint}")
    return _check_typed(concrete[0], value, limits, fail)


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _type_name(hint: Any) -> str:
    if _is_union(hint):
        return " or ".join(_type_name(option) for option in typing.get_args(hint))
    origin = typing.get_origin(hint)
    if origin is tuple:
        item = _type_name(typing.get_args(hint)[0])
        return f"a list of {item.removeprefix('a ').removeprefix('an ')}s"
    if origin is dict:
        return "an object"
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    return names.get(hint, "null" if hint is type(None) else str(hint))


def _check_typed(hint: Any, value: Any, limits: Constraint, fail: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin is tuple:
        item_hint = typing.get_args(hint)[0]
        if not isinstance(value, (list, tuple)):
            raise fail(f"must be {_type_name(hint)}, not {_kind(value)}")
        if limits.length is not None and len(value) != limits.length:
            raise fail(f"must have {limits.length} entries, not {len(value)}")
        if not limits.min_length <= len(value) <= limits.max_length:
            raise fail(
                f"must have {limits.min_length} to {limits.max_length} entries, not {len(value)}"
            )
        item_limits = dataclasses.replace(limits, length=None, min_length=0, max_length=64)
        return tuple(
            _check_typed(item_hint, item, item_limits, _item_fail(fail, index))
            for index, item in enumerate(value)
        )
    if origin is dict or hint is dict:
        if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
            raise fail(f"must be an object with string keys, not {_kind(value)}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise fail(f"must be true or false, not {_kind(value)} {_shown(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail(f"must be an integer, not {_kind(value)} {_shown(value)}")
        _check_range(value, limits, fail, DEFAULT_INT_LIMIT)
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail(f"must be a number, not {_kind(value)} {_shown(value)}")
        if isinstance(value, int) and abs(value) > 10**300:
            raise fail("is too large a number")
        value = float(value)
        if not math.isfinite(value):
            raise fail(f"must be a finite number, not {value}")
        _check_range(value, limits, fail, None)
        return value
    if hint is str:
        if not isinstance(value, str):
            raise fail(f"must be a string, not {_kind(value)} {_shown(value)}")
        if len(value) > MAX_STRING:
            raise fail(f"is {len(value):,} characters long (at most {MAX_STRING})")
        if limits.choices is not None and value not in limits.choices:
            raise fail(f"must be one of {', '.join(map(str, limits.choices))}, not {_shown(value)}")
        if limits.path:
            problem = path_name_problem(value)
            if problem:
                raise fail(problem)
        return value
    raise TypeError(f"unsupported field type {hint}")


def _item_fail(fail: Any, index: int) -> Any:
    def item_fail(message: str) -> ConfigError:
        return fail(f"entry {index + 1} {message}")

    return item_fail


def _check_range(value: float, limits: Constraint, fail: Any, default_max: int | None) -> None:
    if limits.choices is not None:
        if value not in limits.choices:
            choices = ", ".join(map(str, limits.choices))
            raise fail(f"must be {'one of ' if len(limits.choices) > 1 else ''}{choices}, "
                       f"not {_shown(value)}")  # fmt: skip
        return
    maximum = limits.maximum if limits.maximum is not None else default_max
    if limits.minimum is not None and value < limits.minimum:
        raise fail(f"must be at least {limits.minimum:g}, not {_shown(value)}")
    if limits.above is not None and value <= limits.above:
        raise fail(f"must be greater than {limits.above:g}, not {_shown(value)}")
    if maximum is not None and value > maximum:
        raise fail(f"must be at most {maximum:g}, not {_shown(value)}")
    if limits.below is not None and value >= limits.below:
        raise fail(f"must be less than {limits.below:g}, not {_shown(value)}")
    if default_max is not None and limits.minimum is None and value < -default_max:
        raise fail(f"must be at least {-default_max:g}, not {_shown(value)}")


def path_name_problem(value: str) -> str | None:
    """Why ``value`` cannot name a file or folder (None when it can): empty, a NUL byte, or a
    part longer than the :data:`MAX_NAME_BYTES` file systems allow."""
    if not value:
        return "must not be empty"
    if "\0" in value:
        return "must not contain a NUL character"
    for part in value.replace("\\", "/").split("/"):
        size = len(part.encode("utf-8", "surrogateescape"))
        if size > MAX_NAME_BYTES:
            return (
                f"names a file or folder of {size} bytes ({part[:20]}...); "
                f"file systems allow {MAX_NAME_BYTES}"
            )
    return None
