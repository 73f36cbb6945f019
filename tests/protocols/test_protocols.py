"""Protocol declarations (SPEC §3, §11): what MILD declares, and plugins that break."""

from __future__ import annotations

import warnings
from importlib.metadata import EntryPoint

import pytest
from pydicom.sr.codedict import codes

import flannot.protocols as protocols
from flannot.export import registry as export_registry
from flannot.measure import registry as measure_registry
from flannot.model import Case, validate_case
from flannot.protocols import PluginWarning, Role, Scoring, get_protocol

MILD = get_protocol("mild")


def test_every_declared_measurement_kind_is_registered():
    for t in MILD.types:
        for m in t.measurements:
            assert measure_registry.kind(m.kind) is not None, (t.name, m.kind)


def test_standard_codes_are_the_ones_in_pydicoms_dictionary():
    by_value = {}
    for scheme in ("SCT", "DCM"):
        for name in dir(getattr(codes, scheme)):
            try:
                c = getattr(getattr(codes, scheme), name)
                by_value[(c.value, c.scheme_designator)] = c.meaning
            except AttributeError:  # a method of the collection, not a code
                continue
    for t in MILD.types:
        for code in [t.code, *(c for _, _, c in t.value_codes)]:
            if code is None or code.scheme == "99FLANNOT":
                continue
            assert (code.value, code.scheme) in by_value, (t.name, code)
    assert MILD.type("spinal_canal").code.value == "61853006"  # Vertebral canal
    private = {t.name for t in MILD.types if t.code and t.code.scheme == "99FLANNOT"}
    # private codes only where pydicom's dictionary has no concept
    assert private <= {
        "interlaminar_space",
        "ligamentum_flavum",
        "ventral_interlaminar_line",
        "cannula",
    }


def test_mild_declares_the_spec_types_roles_and_views():
    assert {
        "lamina",
        "spinous_process",
        "articular_process",
        "ventral_interlaminar_line",
    } <= set(MILD.type_names)
    assert set(MILD.names_with_role(Role.SAFETY_BOUNDARY)) == {
        "epidural_contrast",
        "ventral_interlaminar_line",
    }
    assert MILD.type("ligamentum_flavum").scoring == Scoring.BAND
    assert MILD.type("articular_process").allowed("part") == ("superior", "inferior")
    planning_only = {m.name for t in MILD.types for m in t.measurements if m.planning_only}
    assert planning_only == {"hypertrophic", "stenosis_grade"}
    assert [v.name for v in MILD.views] == ["ap", "lateral", "clo-left", "clo-right"]
    assert MILD.view("clo-left").detector_toward == "right"  # contralateral


def _broken_entry_points(group):
    good = [ep for ep in _real_entry_points(group=group)]
    bad = EntryPoint("broken", "flannot_no_such_module:THING", group)
    wrong = EntryPoint("wrong", "flannot.errors:FlannotError", group)
    return [*good, bad, wrong]


_real_entry_points = protocols.entry_points


@pytest.mark.parametrize(
    ("group", "cache", "listing"),
    [
        ("flannot.protocols", protocols._installed, protocols.available_protocols),
        ("flannot.exporters", export_registry._installed, export_registry.available_exporters),
    ],
)
def test_a_broken_plugin_is_reported_not_silently_skipped(monkeypatch, group, cache, listing):
    monkeypatch.setattr(protocols, "entry_points", lambda group: _broken_entry_points(group))
    cache.cache_clear()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            found = listing()
        messages = [str(w.message) for w in caught if issubclass(w.category, PluginWarning)]
        assert any("'broken'" in m and "flannot_no_such_module" in m for m in messages)
        assert any("'wrong'" in m and "not a" in m for m in messages)
        assert "broken" not in found and "wrong" not in found
        assert found  # the built-ins are still there
    finally:
        cache.cache_clear()


def _case(annotations, **extra):
    data = {
        "flannot_version": 1,
        "case_id": "p",
        "image": {"path": "image.dcm", "spacing_mm": [0.2, 0.2], "rows": 100, "columns": 100},
        "annotations": annotations,
        **extra,
    }
    return Case.from_dict(data)


def _lam(**kw):
    return {
        "id": "a1",
        "type": "articular_process",
        "level": "L4",
        "side": "left",
        "geometry": {"kind": "polygon", "points": [[1, 1], [1, 9], [9, 9]]},
        **kw,
    }


def test_validate_checks_declared_values_and_the_planning_slice():
    paths = {(p.path, p.severity) for p in validate_case(_case([_lam(part="middle")]))}
    assert ("$.annotations[0].part", "error") in paths
    assert not [p for p in validate_case(_case([_lam(part="inferior")])) if p.path.endswith("part")]
    orphan = validate_case(_case([_lam(part="superior", image="planning")]))
    assert any(p.path == "$.annotations[0].image" and p.severity == "error" for p in orphan)
    planning = {"path": "ct.dcm", "modality": "CT", "plane": "axial", "rows": 512, "columns": 512}
    ok = validate_case(_case([_lam(part="superior", image="planning")], planning=planning))
    assert not [p for p in ok if p.path.endswith(".image")]


def test_new_ids_use_the_protocols_short_names():
    case = _case([])
    assert case.new_id("ligamentum_flavum") == "lf1"
    assert case.new_id("ventral_interlaminar_line") == "vill1"
    assert case.new_id("something_else") == "something_else1"
