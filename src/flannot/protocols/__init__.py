"""Procedure protocols: what to annotate for a procedure (SPEC §11).

A protocol is found through the ``flannot.protocols`` entry-point group; MILD is
built in. :func:`get_protocol` returns one by name. A plugin that fails to load is
reported with a warning naming its entry point, never silently skipped.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from importlib.metadata import entry_points

from flannot.errors import FlannotError
from flannot.protocols.base import (
    AnnotationType,
    Code,
    DecisionReason,
    Measurement,
    Protocol,
    Role,
    RubricItem,
    Scoring,
    View,
)

__all__ = [
    "AnnotationType",
    "Code",
    "DecisionReason",
    "Measurement",
    "PluginWarning",
    "Protocol",
    "Role",
    "RubricItem",
    "Scoring",
    "View",
    "available_protocols",
    "get_protocol",
    "protocol_of",
]


class PluginWarning(UserWarning):
    """A flannot plugin (protocol or exporter) could not be loaded."""


def load_entry_points(group: str, kind: type) -> dict[str, object]:
    """Load every entry point of ``group`` whose object is a ``kind``.

    A plugin that raises on import, or exports something else, is reported with a
    :class:`PluginWarning` naming the entry point and the error, and left out.
    """
    found: dict[str, object] = {}
    for ep in entry_points(group=group):
        try:
            obj = ep.load()
        except Exception as exc:  # a broken third-party plugin must not break flannot
            warnings.warn(
                f"flannot plugin {ep.name!r} ({ep.value}) in {group} failed to load: "
                f"{type(exc).__name__}: {exc}",
                PluginWarning,
                stacklevel=2,
            )
            continue
        if not isinstance(obj, kind):
            warnings.warn(
                f"flannot plugin {ep.name!r} ({ep.value}) in {group} is a "
                f"{type(obj).__name__}, not a {kind.__name__}; ignored",
                PluginWarning,
                stacklevel=2,
            )
            continue
        found.setdefault(ep.name, obj)
    return found


@lru_cache(maxsize=1)
def _installed() -> tuple[Protocol, ...]:
    from flannot.protocols.mild import MILD

    found: dict[str, Protocol] = {MILD.name.lower(): MILD}
    for proto in load_entry_points("flannot.protocols", Protocol).values():
        assert isinstance(proto, Protocol)
        # first come keeps its name: a plugin can never silently replace MILD or another plugin
        found.setdefault(proto.name.lower(), proto)
    return tuple(found.values())


def available_protocols() -> dict[str, Protocol]:
    """All installed protocols by name (the built-in MILD protocol always among them)."""
    return {p.name.lower(): p for p in _installed()}


def get_protocol(name: str = "mild") -> Protocol:
    """The protocol called ``name`` (case-insensitive)."""
    protocols = available_protocols()
    proto = protocols.get(str(name).lower())
    if proto is None:
        raise FlannotError(f"unknown protocol {name!r} (installed: {', '.join(sorted(protocols))})")
    return proto


def protocol_of(case: object) -> Protocol:
    """The protocol of a case (its ``protocol`` field), MILD when it names none.

    An unknown protocol raises :class:`FlannotError`: measuring or scoring a case
    against another protocol's declarations would teach the wrong thing.
    """
    return get_protocol(str(getattr(case, "protocol", None) or "mild"))
