"""vispy parses each shader source once (issue 14: a Quiz Check's new text programs)."""

from __future__ import annotations

import pytest

pytest.importorskip("vispy")

VERT = """
uniform float u_scale;
uniform vec2 u_shift[2];
attribute vec2 a_position;  // a comment: uniform float u_not_a_variable;
in float a_size;
varying vec4 v_color;
void main() {
    v_color = vec4(1.0);
    gl_Position = vec4(a_position * u_scale + u_shift[0] + a_size, 0.0, 1.0);
}
"""
FRAG = """
uniform vec4 u_tint;
varying vec4 v_color;
void main() { gl_FragColor = v_color * u_tint; }
"""


def _program(vert: str = VERT, frag: str = FRAG):
    from vispy.gloo import Program

    return Program(vert, frag)


def test_a_seen_source_gets_the_variables_vispy_would_find() -> None:
    from vispy.gloo.program import Program

    from flannot.napari._shader_cache import cache_shader_parsing

    cache_shader_parsing()
    assert cache_shader_parsing() is False  # once
    original = Program._parse_variables_from_code.__wrapped__
    reference = _program()
    original(reference)  # vispy's own scan
    expected = dict(reference._code_variables)
    assert set(expected) >= {"u_scale", "u_shift", "u_shift[1]", "a_position", "a_size", "u_tint"}
    assert "u_not_a_variable" not in expected

    first, second = _program(), _program()  # the second from the cache
    assert first._code_variables == expected == second._code_variables
    assert first._code_variables is not second._code_variables
    # the variables work as vispy's: set, and pending ones applied on new code
    second["u_scale"] = 2.0
    second["u_tint"] = (1.0, 0.5, 0.5, 1.0)
    assert second._user_variables["u_scale"] is not None
    second.set_shaders(VERT, FRAG)
    assert "u_scale" in second._user_variables and not second._pending_variables
    # another source is scanned, not taken from the cache
    other = _program(VERT.replace("u_scale", "u_zoom"), FRAG)
    assert "u_zoom" in other._code_variables and "u_scale" not in other._code_variables


def test_a_seen_source_is_not_scanned_again(monkeypatch) -> None:
    import re
    import uuid

    from flannot.napari._shader_cache import cache_shader_parsing

    cache_shader_parsing()
    scans: list[str] = []
    finditer = re.finditer

    def counting(pattern, string, *args, **kwargs):
        scans.append(pattern)
        return finditer(pattern, string, *args, **kwargs)

    monkeypatch.setattr(re, "finditer", counting)
    fresh = VERT.replace("u_scale", f"u_scale_{uuid.uuid4().hex}")  # never seen before
    _program(fresh, FRAG)
    assert scans  # scanned once
    scans.clear()
    _program(fresh, FRAG)
    assert scans == []  # from the cache
