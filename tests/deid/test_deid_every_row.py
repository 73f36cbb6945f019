"""Every attribute Table E.1-1 (current edition) lists loses its value under the Basic Profile."""

from __future__ import annotations

from pathlib import Path

import pydicom
from identified import SECRET, make_xa, write
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset

from flannot.deid import deidentify
from flannot.deid.table_e11 import EDITION, ROWS

# the rows as the generated table states them (tag, name), independent of the engine
TABLE = {
    int(line[:4] + line[5:9], 16): line.split(None, 3)[3] for line in ROWS.strip().splitlines()
}

_SKIP_GROUPS = {0x0000, 0x0002, 0xFFFA, 0xFFFC}  # command, meta, signatures, padding


def _value(vr: str, n: int) -> object:
    text = {
        "PN": f"SECRET^N{n}",
        "DA": "20010203",
        "TM": "010203",
        "DT": "20010203010203",
        "UI": f"1.2.826.0.1.3680043.9.7777.{n}",
        "AS": "033Y",
        "CS": f"SECRET{n % 1000}",
        "IS": str(900000 + n),
        "DS": f"{9000 + n}.5",
        "AE": f"SECRET{n % 1000}",
        "UR": f"http://secret.invalid/{n}",
    }
    if vr in text:
        return text[vr]
    if vr in ("LO", "SH", "ST", "LT", "UT", "UC"):
        return f"SECRET{n}"
    if vr in ("US", "UL", "SS", "SL", "UV", "SV"):
        return 4321
    if vr in ("FL", "FD"):
        return 4321.5
    if vr in ("OB", "OW", "UN", "OD", "OF", "OL", "OV"):
        return b"SECRET%06d" % n
    return None


def test_no_listed_attribute_keeps_its_value(tmp_path: Path) -> None:
    ds = make_xa(0)
    planted: dict[int, object] = {}
    for n, tag in enumerate(sorted(TABLE)):
        if tag >> 16 in _SKIP_GROUPS or tag in (0x7FE00010,):
            continue
        try:
            vr = dictionary_VR(tag)
        except KeyError:
            continue
        if vr == "SQ":
            item = Dataset()
            item.ReferencedSOPInstanceUID = f"1.2.826.0.1.3680043.9.8888.{n}"
            ds.add_new(tag, vr, [item])
            planted[tag] = item.ReferencedSOPInstanceUID
            continue
        value = _value(vr, n)
        if value is None or " or " in vr:
            continue
        ds.add_new(tag, vr, value)
        planted[tag] = value
    assert EDITION == "2026c" and len(planted) > 550  # most of the 652 rows are planted
    src = write(ds, tmp_path / "in" / "all.dcm")
    out = tmp_path / "all.dcm"
    deidentify(src, out, secret=SECRET)
    back = pydicom.dcmread(out)
    raw = out.read_bytes()
    kept = []
    for tag, value in planted.items():
        if isinstance(value, str) and value.encode() in raw:
            kept.append(f"{tag:08X} {TABLE[tag]}")
        elif tag in back and back[tag].VR != "SQ" and back[tag].value == value:
            kept.append(f"{tag:08X} {TABLE[tag]}")
    assert kept == []
