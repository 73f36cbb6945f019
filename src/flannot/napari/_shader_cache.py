"""Parse each GLSL source once: vispy re-parses identical shader code for every new visual.

vispy's ``Program.set_shaders`` (gloo, 0.14–0.17) ends in ``_parse_variables_from_code``,
which scans the program's whole source with regular expressions for its uniforms,
attributes and varyings — a pure function of that source. Every new napari layer builds
its visuals' programs from the same few sources (a Quiz Check adding the reference
overlay built two text programs, ~25 ms of regular expressions each on this machine:
issue 14, Check ≤ 0.5 s). This patch remembers the variables found per source, so a
program whose source was seen before gets a copy of them instead of a new scan; what
follows (pending variables applied) is vispy's own code path.

The patch is on vispy's ``Program`` class, applied once (:func:`cache_shader_parsing`),
and degrades to vispy's own method when that internal is not there. The cache is
bounded: it is emptied when it holds :data:`MAX_SOURCES` sources.
"""

from __future__ import annotations

from typing import Any

_MARK = "_flannot_cached_parse"
#: distinct program sources kept (napari's visuals use a few dozen)
MAX_SOURCES = 256


def cache_shader_parsing() -> bool:
    """Make vispy parse the variables of each distinct shader source once per process.

    Returns ``True`` when the patch was applied now (``False``: already applied, or this
    vispy has no ``Program._parse_variables_from_code``).
    """
    from vispy.gloo.program import Program

    parse = getattr(Program, "_parse_variables_from_code", None)
    if parse is None or getattr(parse, _MARK, False):
        return False
    found: dict[str, dict[str, Any]] = {}

    def parse_cached(self: Any, update_variables: bool = True) -> None:
        try:
            code = "\n\n".join(sh.code for sh in self._shaders)
        except (AttributeError, TypeError):  # not the program vispy's method expects
            return parse(self, update_variables)
        known = found.get(code)
        if known is None:
            parse(self, update_variables=False)
            if len(found) >= MAX_SOURCES:
                found.clear()
            found[code] = dict(self._code_variables)
        else:
            self._code_variables = dict(known)  # values are tuples: nothing shared mutable
        if update_variables:
            self._process_pending_variables()
        return None

    parse_cached.__doc__ = parse.__doc__
    parse_cached.__wrapped__ = parse  # type: ignore[attr-defined]
    setattr(parse_cached, _MARK, True)
    Program._parse_variables_from_code = parse_cached
    return True
