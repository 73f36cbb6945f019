"""A dark halo behind flannot's canvas labels, drawn by the text shader itself.

napari 0.9's text has no outline or background, so a pale label over bright bone (a
reference label over a lamina, "L3" over a vertebral body) reads weakly (issue 14).
vispy draws text from a signed distance field (SDF): each glyph texel holds its
distance to the glyph's edge, 0.5 on the edge, falling to 0 one "spread" (1/8 em for
napari's Qt fonts) outside it. The label's own colour fills distances above 0.5; this
shader also fills the band from ``0.5 - HALO_WIDTH`` to 0.5 with a dark, mostly opaque
colour — the halo of map labels, about 1 px around a 12 pt glyph, that follows the
label wherever napari places it (offsets, zoom, frames) at no extra draw call.

The replacement is per visual (the text of flannot's own layers), never on vispy's
class, and keeps vispy's sampling (Catmull-Rom at large sizes, 4-point supersampling at
small ones). Text visuals that do not look like vispy's ``TextVisual`` are left alone.
"""

from __future__ import annotations

from typing import Any

from flannot.napari.viewer_api import layer_visual

_MARK = "_flannot_text_halo"
HALO_WIDTH = 0.3  # of the SDF's 0.5 span outside the glyph edge: ~1.2 px at 12 pt
HALO_RGBA = (0.0, 0.0, 0.0, 0.8)

HALO_FRAGMENT_SHADER = """
    #extension GL_OES_standard_derivatives : enable
    #extension GL_OES_element_index_uint : enable
    #include "misc/spatial-filters.frag"
    const float M_SQRT1_2 = 0.707106781186547524400844362104849039;
    const vec4 HALO = vec4(@HALO_RGBA@);
    const float HALO_EDGE = @HALO_EDGE@;

    uniform sampler2D u_font_atlas;
    uniform vec2 u_font_atlas_shape;
    varying vec4 v_color;
    uniform float u_npix;

    varying vec2 v_texcoord;
    const float center = 0.5;

    vec2 contours(in float d, in float w)
    {
        // x: the glyph, y: the glyph and its halo
        return vec2(smoothstep(center - w, center + w, d),
                    smoothstep(HALO_EDGE - w, HALO_EDGE + w, d));
    }

    vec2 sample(sampler2D texture, vec2 uv, float w)
    {
        return contours(texture2D(texture, uv).r, w);
    }

    void main(void) {
        vec2 uv = v_texcoord.xy;
        vec4 rgb;
        if(u_npix >= 50.0)
            rgb = CatRom2D(u_font_atlas, u_font_atlas_shape, uv);
        else
            rgb = texture2D(u_font_atlas, uv);
        float distance = rgb.r;
        float width = 0.5 * fwidth(distance);
        vec2 alpha = contours(distance, width);
        if (u_npix < 30.) {
            float dscale = 0.5 * M_SQRT1_2;
            vec2 duv = dscale * (dFdx(v_texcoord) + dFdy(v_texcoord));
            vec4 box = vec4(v_texcoord-duv, v_texcoord+duv);
            vec2 asum = sample(u_font_atlas, box.xy, width)
                      + sample(u_font_atlas, box.zw, width)
                      + sample(u_font_atlas, box.xw, width)
                      + sample(u_font_atlas, box.zy, width);
            alpha = (alpha + 0.5 * asum) / 3.0;
        }
        // the glyph in its colour over the halo ("over" compositing)
        float a_text = alpha.x * v_color.a;
        float a_halo = alpha.y * HALO.a * v_color.a;
        float a = a_text + a_halo * (1.0 - a_text);
        if (a <= 0.0) discard;
        vec3 color = (v_color.rgb * a_text + HALO.rgb * a_halo * (1.0 - a_text)) / a;
        gl_FragColor = vec4(color, a);
    }
"""
HALO_FRAGMENT_SHADER = HALO_FRAGMENT_SHADER.replace(
    "@HALO_RGBA@", ", ".join(f"{v:.3f}" for v in HALO_RGBA)
).replace("@HALO_EDGE@", f"{0.5 - HALO_WIDTH:.3f}")


def add_halo(text: Any) -> bool:
    """Give ``text`` (a vispy ``TextVisual``) the halo shader.

    Returns ``True`` when the visual was changed now (``False``: already, or not text).
    """
    from vispy.visuals import TextVisual

    if not isinstance(text, TextVisual) or getattr(text, _MARK, False):
        return False
    text.shared_program.frag = HALO_FRAGMENT_SHADER
    object.__setattr__(text, _MARK, True)  # vispy visuals are frozen to setattr
    text.update()
    return True


def _subvisuals(node: Any) -> list[Any]:
    out, todo = [], [node]
    while todo:
        visual = todo.pop()
        out.append(visual)
        todo.extend(getattr(visual, "_subvisuals", ()))
    return out


def is_flannot_layer(layer: Any) -> bool:
    """Whether ``layer`` is one of flannot's annotation or reference overlay layers."""
    meta = getattr(layer, "metadata", None) or {}
    return bool(meta.get("flannot_key") or meta.get("flannot_reference"))


def add_layer_halo(viewer: Any, layer: Any) -> int:
    """Halo the labels of ``layer`` (a flannot layer) in ``viewer``; the number changed now."""
    if not is_flannot_layer(layer):
        return 0
    vispy_layer = layer_visual(viewer, layer)
    node = getattr(vispy_layer, "node", None)
    if node is None:
        return 0
    return sum(add_halo(v) for v in _subvisuals(node))
