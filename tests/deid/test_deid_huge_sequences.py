"""A sequence of 500,000 empty items (4.5 MB) took 20–28 s and 450 MB to de-identify
(issue 16): flannot now refuses more than 50,000 sequence items in a file with one
line naming it, before pydicom parses them — whether the sequence has a defined length
(parsed lazily: counted in the raw bytes) or an undefined one (parsed inside dcmread:
an item budget)."""

from __future__ import annotations

import struct
from pathlib import Path

import pydicom
import pytest

from flannot.cli import main
from flannot.io.items import MAX_SEQUENCE_ITEMS

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dicoms" / "cases" / "ap" / "image.dcm"
_TAG = struct.pack("<HH", 0x0008, 0x1140)  # Referenced Image Sequence
_ITEM = b"\xfe\xff\x00\xe0" + b"\x00\x00\x00\x00"  # an empty item of length 0


def huge_sequence_file(tmp_path: Path, items: int, undefined: bool) -> Path:
    """The sample AP image with a Referenced Image Sequence of ``items`` empty items."""
    ds = pydicom.dcmread(SAMPLE)
    ds.ReferencedImageSequence = []
    base = tmp_path / "base.dcm"
    ds.save_as(base)
    raw = base.read_bytes()
    empty = _TAG + b"SQ\x00\x00" + struct.pack("<I", 0)
    at = raw.index(empty)
    if undefined:
        seq = _TAG + b"SQ\x00\x00\xff\xff\xff\xff" + _ITEM * items + b"\xfe\xff\xdd\xe0" + bytes(4)
    else:
        seq = _TAG + b"SQ\x00\x00" + struct.pack("<I", len(_ITEM) * items) + _ITEM * items
    out = tmp_path / f"seq-{items}-{'u' if undefined else 'd'}.dcm"
    out.write_bytes(raw[:at] + seq + raw[at + len(empty) :])
    return out


@pytest.mark.parametrize("undefined", [False, True], ids=["defined-length", "undefined-length"])
@pytest.mark.parametrize("command", ["deidentify", "info"])
def test_500k_item_sequence_is_refused_in_one_line(
    tmp_path: Path, capsys, undefined: bool, command: str
) -> None:
    path = huge_sequence_file(tmp_path, 500_000, undefined)
    args = [command, str(path)] + ([str(tmp_path / "out.dcm")] if command == "deidentify" else [])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"flannot: error: {path}: ")
    assert f"at most {MAX_SEQUENCE_ITEMS:,} sequence items" in err
    if not undefined:  # counted before parsing: the exact sequence and count
        assert "ReferencedImageSequence (0008,1140) holds 500,000 items" in err
    assert not (tmp_path / "out.dcm").exists()


def test_pydicom_parses_no_more_than_the_budget(tmp_path: Path, monkeypatch) -> None:
    # the undefined-length sequence is parsed inside dcmread: it must stop at the budget
    import pydicom.filereader as fr

    from flannot.deid.engine import read_dicom_file
    from flannot.errors import FlannotError
    from flannot.io import items

    items._install()
    calls = [0]
    inner = fr.read_sequence_item

    def counting(*a, **k):
        calls[0] += 1
        return inner(*a, **k)

    monkeypatch.setattr(fr, "read_sequence_item", counting)
    path = huge_sequence_file(tmp_path, 120_000, undefined=True)
    with pytest.raises(FlannotError, match="more than 50,000 sequence items"):
        read_dicom_file(path)
    assert calls[0] <= MAX_SEQUENCE_ITEMS + 2  # not 120,000


@pytest.mark.parametrize("undefined", [False, True], ids=["defined-length", "undefined-length"])
def test_a_sequence_under_the_limit_is_de_identified_whole(tmp_path: Path, undefined: bool) -> None:
    path = huge_sequence_file(tmp_path, 2_000, undefined)
    out = tmp_path / "out.dcm"
    assert main(["deidentify", str(path), str(out)]) == 0
    assert len(pydicom.dcmread(out).ReferencedImageSequence) == 2_000
