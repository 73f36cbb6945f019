"""``flannot.measure`` is both a package and a function (SPEC §4: ``flannot.measure(case)``).

Which one a name is bound to depends on import order, so each order runs in a
fresh interpreter: the lazy ``flannot.measure`` attribute, ``from flannot import
measure``, ``import flannot.measure as m`` and submodule imports must all agree.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

_CASE = textwrap.dedent(
    """
    from flannot.model.case import Case
    case = Case.from_dict({
        "flannot_version": 1, "case_id": "t",
        "image": {"path": "i.dcm", "spacing_mm": [0.2, 0.2], "calibration": "fiducial"},
        "annotations": [{"id": "k", "type": "cannula",
                         "geometry": {"kind": "line", "points": [[0, 0], [0, 50]]}}],
    })

    def length(df):
        return float(df[df.name == "length"].value.iloc[0])
    """
)

ORDERS = {
    "attribute_first_then_import_as": """
        import flannot
        assert length(flannot.measure(case)) == 10.0
        import flannot.measure as m
        assert length(m(case)) == 10.0 and length(m.measure(case)) == 10.0
        assert m.COLUMNS[0] == "case_id"
    """,
    "attribute_first_then_submodule": """
        import flannot
        first = flannot.measure
        import flannot.measure.rows
        assert flannot.measure is first
        assert length(flannot.measure.measure(case)) == 10.0
        assert length(flannot.measure(case)) == 10.0
    """,
    "from_import_first_then_submodule": """
        from flannot import measure
        import flannot.measure.geometry
        import flannot
        assert length(measure(case)) == 10.0
        assert length(flannot.measure(case)) == 10.0
        assert flannot.measure.COLUMNS == measure.COLUMNS
    """,
    "submodule_first_then_from_import": """
        import flannot.measure.rows
        from flannot import measure
        assert length(measure(case)) == 10.0
        assert length(measure.measure(case)) == 10.0
    """,
    "function_import_then_attribute": """
        from flannot.measure import measure as fn
        import flannot
        assert length(fn(case)) == 10.0 and length(flannot.measure(case)) == 10.0
        import inspect
        assert list(inspect.signature(flannot.measure).parameters) == ["case", "image"]
    """,
}


@pytest.mark.parametrize("order", sorted(ORDERS))
def test_measure_is_callable_whatever_the_import_order(order):
    code = _CASE + textwrap.dedent(ORDERS[order]) + "\nprint('ok')\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "ok"
