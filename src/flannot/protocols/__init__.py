"""Procedure protocols: what to annotate for a procedure (SPEC §11).

A protocol is found through the ``flannot.protocols`` entry-point group; MILD is
built in. :func:`get_protocol` returns one by name.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from flannot.errors import FlannotError
from flannot.protocols.base import AnnotationType, Protocol, View

__all__ = ["AnnotationType", "Protocol", "View", "available_protocols", "get_protocol"]


def available_protocols() -> dict[str, Protocol]:
    """All installed protocols by name (the built-in MILD protocol always among them)."""
    from flannot.protocols.mild import MILD

    found: dict[str, Protocol] = {MILD.name.lower(): MILD}
    for ep in entry_points(group="flannot.protocols"):
        try:
            proto = ep.load()
        except Exception:  # a broken third-party plugin must not break flannot
            continue
        # first come keeps its name: a plugin can never silently replace MILD or another plugin
        if isinstance(proto, Protocol) and proto.name.lower() not in found:
            found[proto.name.lower()] = proto
    return found


def get_protocol(name: str = "mild") -> Protocol:
    """The protocol called ``name`` (case-insensitive)."""
    protocols = available_protocols()
    proto = protocols.get(name.lower())
    if proto is None:
        raise FlannotError(f"unknown protocol {name!r} (installed: {', '.join(sorted(protocols))})")
    return proto
