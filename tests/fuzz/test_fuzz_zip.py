"""Hostile zips: imported inside the target, or refused in one line; nothing written outside."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flannot import FlannotError
from flannot.teach.zipio import import_set

names = st.one_of(
    st.sampled_from(
        [
            "flannot-set.json",
            "cases/c1/annotations.json",
            "../escape.txt",
            "/abs.txt",
            "cases/../../escape2.txt",
            "C:/win.txt",
            "cases/c1/",
            ".flannot-secret",
            "a" * 300,
            "cases/\x00nul",
        ]
    ),
    st.text(min_size=1, max_size=30),
)
payloads = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([b'{"name": "s", "cases": []}', b"[" * 5000, b"{}", b'{"cases": 5}']),
)


@pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")
@given(entries=st.lists(st.tuples(names, payloads), min_size=1, max_size=6))
def test_import_never_writes_outside(tmp_path_factory, entries) -> None:
    root: Path = tmp_path_factory.mktemp("zip")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries:
            zf.writestr(name, data)
    src = root / "in.zip"
    src.write_bytes(buf.getvalue())
    before = {p for p in root.rglob("*")}
    target = root / "out" / "set"
    try:
        import_set(src, target)
    except FlannotError as exc:
        assert "\n" not in str(exc)
        assert not target.exists()
    after = {p for p in root.rglob("*")}
    outside = {p for p in after - before if target not in (p, *p.parents) and p != target.parent}
    assert outside == set(), outside
