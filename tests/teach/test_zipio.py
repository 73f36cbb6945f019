"""Zip export/import of teaching sets, and refusal of malicious zips."""

from __future__ import annotations

import stat
import struct
import zipfile
from pathlib import Path

import pytest

from flannot import FlannotError
from flannot.cli import main
from flannot.teach.teaching_set import SECRET_FILE, TeachingSet
from flannot.teach.zipio import export_set, import_set

SET_JSON = b'{"flannot_set_version": 1, "name": "evil", "protocol": "mild", "cases": []}'


def snapshot(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


def test_round_trip_validates_clean(tmp_path, dicoms):
    ts = TeachingSet.new(tmp_path / "s", "Round trip")
    ts.add_dicom(dicoms)
    ts.save()
    export_set(tmp_path / "s", tmp_path / "s.zip")
    names = zipfile.ZipFile(tmp_path / "s.zip").namelist()
    assert SECRET_FILE not in names and "flannot-set.json" in names
    assert "cases/case-002/image.dcm" in names
    imported = import_set(tmp_path / "s.zip", tmp_path / "copy")
    assert imported.case_ids == ["case-001", "case-002"]
    assert imported.validate() == []
    a = (tmp_path / "s" / "cases" / "case-001" / "image.dcm").read_bytes()
    assert (tmp_path / "copy" / "cases" / "case-001" / "image.dcm").read_bytes() == a


def test_cli_export_import(tmp_path, dicoms, capsys):
    assert main(["set", "new", str(tmp_path / "s")]) == 0
    assert main(["set", "add", str(tmp_path / "s"), str(dicoms[0])]) == 0
    assert main(["set", "export", str(tmp_path / "s"), str(tmp_path / "s.zip")]) == 0
    assert main(["set", "import", str(tmp_path / "s.zip"), str(tmp_path / "t")]) == 0
    assert TeachingSet.open(tmp_path / "t").validate() == []
    # refuses a non-empty target
    assert main(["set", "import", str(tmp_path / "s.zip"), str(tmp_path / "t")]) == 2
    assert "not an empty folder" in capsys.readouterr().err


def _zip_with(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("flannot-set.json", SET_JSON)
        for info, data in entries:
            zf.writestr(info, data)
    return path


def _symlink_entry(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (("../x", b"escaped"), "leaves the target folder"),
        (("cases/../../x", b"escaped"), "leaves the target folder"),
        (("/tmp/flannot-abs-x", b"escaped"), "absolute path"),
        (("C:/x", b"escaped"), "absolute path"),
        (("cases\\..\\..\\x", b"escaped"), "backslashes"),
        (_symlink_entry("cases/link", "/etc/passwd"), "symbolic link"),
        # campaign (issue 16): 2,000 folders deep was "internal error: RecursionError"
        (("a/" * 2000 + "f", b"deep"), "nested 2000 folders deep"),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "drive", "backslash", "symlink", "deep"],
)
def test_malicious_names_refused_nothing_written(tmp_path, entry, message):
    work = tmp_path / "work"
    work.mkdir()
    zpath = _zip_with(tmp_path / "evil.zip", [entry])
    before = snapshot(tmp_path)
    with pytest.raises(FlannotError, match=message) as exc:
        import_set(zpath, work / "dest")
    assert "evil.zip" in str(exc.value) and "\n" not in str(exc.value)
    assert snapshot(tmp_path) == before  # no target, no temporary folder, no escapee
    assert not Path("/tmp/flannot-abs-x").exists()


def test_zip_bomb_refused_by_declared_ratio(tmp_path):
    zpath = tmp_path / "bomb.zip"
    with zipfile.ZipFile(zpath, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("flannot-set.json", SET_JSON)
        with zf.open("cases/zeros.bin", "w") as w:
            chunk = bytes(1 << 20)
            for _ in range(200):  # 200 MB of zeros → ~200 kB compressed
                w.write(chunk)
    assert zpath.stat().st_size < 2 << 20
    before = snapshot(tmp_path)
    with pytest.raises(FlannotError, match="zip bomb"):
        import_set(zpath, tmp_path / "dest")
    assert snapshot(tmp_path) == before


def test_bomb_of_many_small_entries_refused(tmp_path):
    zpath = tmp_path / "many-bomb.zip"
    with zipfile.ZipFile(zpath, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("flannot-set.json", SET_JSON)
        for i in range(80):  # 80 × 1 MiB of zeros, each entry under the per-entry floor
            zf.writestr(f"cases/z{i}.bin", bytes(1 << 20))
    with pytest.raises(FlannotError, match="overall"):
        import_set(zpath, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_total_size_and_entry_limits(tmp_path):
    zpath = _zip_with(tmp_path / "many.zip", [(f"cases/f{i}.txt", b"x" * 100) for i in range(20)])
    with pytest.raises(FlannotError, match="too many entries"):
        import_set(zpath, tmp_path / "d1", max_entries=10)
    with pytest.raises(FlannotError, match="exceeds the limit"):
        import_set(zpath, tmp_path / "d2", max_total_bytes=1000)
    assert not (tmp_path / "d1").exists() and not (tmp_path / "d2").exists()


def _lie_about_size(path: Path, name: bytes, declared: int) -> None:
    """Patch the uncompressed size of entry ``name`` in local and central headers."""
    raw = bytearray(path.read_bytes())
    pos = 0
    while (pos := raw.find(b"PK\x03\x04", pos)) != -1:
        n = struct.unpack_from("<H", raw, pos + 26)[0]
        if raw[pos + 30 : pos + 30 + n] == name:
            struct.pack_into("<I", raw, pos + 22, declared)
        pos += 4
    pos = 0
    while (pos := raw.find(b"PK\x01\x02", pos)) != -1:
        n = struct.unpack_from("<H", raw, pos + 28)[0]
        if raw[pos + 46 : pos + 46 + n] == name:
            struct.pack_into("<I", raw, pos + 24, declared)
        pos += 4
    path.write_bytes(bytes(raw))


def test_lying_header_aborts_while_extracting(tmp_path):
    zpath = _zip_with(tmp_path / "liar.zip", [("cases/big.bin", bytes(5 << 20))])
    _lie_about_size(zpath, b"cases/big.bin", 1000)
    info = zipfile.ZipFile(zpath).getinfo("cases/big.bin")
    assert info.file_size == 1000  # the declared size passes the up-front checks
    before = snapshot(tmp_path)
    with pytest.raises(FlannotError) as exc:
        import_set(zpath, tmp_path / "dest")
    assert "liar.zip" in str(exc.value) and "does not match" in str(exc.value)
    assert snapshot(tmp_path) == before


def test_not_a_set_zip_or_not_a_zip(tmp_path):
    with zipfile.ZipFile(tmp_path / "plain.zip", "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(FlannotError, match="not a teaching set zip"):
        import_set(tmp_path / "plain.zip", tmp_path / "d")
    (tmp_path / "fake.zip").write_bytes(b"not a zip at all")
    with pytest.raises(FlannotError, match="not a zip file"):
        import_set(tmp_path / "fake.zip", tmp_path / "d")
    assert not (tmp_path / "d").exists()


def test_export_blanks_redaction_annotations(tmp_path, dicoms):
    import json

    import numpy as np
    import pydicom
    from identified import pixels

    ts = TeachingSet.new(tmp_path / "s", "T")
    ts.add_dicom([dicoms[0]], case_id="c")
    ts.save()
    case_file = tmp_path / "s" / "cases" / "c" / "annotations.json"
    data = json.loads(case_file.read_text())
    # a rectangle drawn over the burned-in text on frame 0 (pixel-centre corners)
    data["annotations"].append(
        {
            "id": "r1",
            "type": "redaction",
            "frame": 0,
            "geometry": {
                "kind": "rectangle",
                "points": [[2.0, 3.0], [2.0, 29.0], [9.0, 29.0], [9.0, 3.0]],
            },
        }
    )
    case_file.write_text(json.dumps(data))
    image = tmp_path / "s" / "cases" / "c" / "image.dcm"
    original = image.read_bytes()
    export_set(tmp_path / "s", tmp_path / "s.zip")
    assert image.read_bytes() == original  # the set's own copy is untouched
    import_set(tmp_path / "s.zip", tmp_path / "t")
    out = pydicom.dcmread(tmp_path / "t" / "cases" / "c" / "image.dcm")
    after, before = out.pixel_array, pixels(4)
    assert (after[:, 2:10, 3:30] == 0).all()  # every frame: text sits still in a run
    mask = np.ones(before.shape, bool)
    mask[:, 2:10, 3:30] = False
    np.testing.assert_array_equal(after[mask], before[mask])
    assert out.BurnedInAnnotation == "NO"
    assert {"113100", "113101"} <= {c.CodeValue for c in out.DeidentificationMethodCodeSequence}
    assert "Clean Pixel Data Option" in list(out.DeidentificationMethod)


def test_a_secret_inside_a_zip_is_not_imported(tmp_path, dicoms):
    # whoever wrote the zip would know the secret keying this copy's later additions
    planted = "ab" * 32
    zpath = _zip_with(tmp_path / "planted.zip", [(SECRET_FILE, planted.encode())])
    ts = import_set(zpath, tmp_path / "t")
    assert not (tmp_path / "t" / SECRET_FILE).exists()
    ts.add_dicom([dicoms[0]])
    secret = (tmp_path / "t" / SECRET_FILE).read_text().strip()
    assert secret != planted and len(bytes.fromhex(secret)) == 32


def test_imported_folders_follow_the_umask(tmp_path, dicoms):
    import os

    ts = TeachingSet.new(tmp_path / "s", "T")
    ts.add_dicom([dicoms[0]], case_id="c")
    ts.save()
    export_set(tmp_path / "s", tmp_path / "s.zip")
    old = os.umask(0o022)
    try:
        import_set(tmp_path / "s.zip", tmp_path / "t")
    finally:
        os.umask(old)
    assert (tmp_path / "t").stat().st_mode & 0o777 == 0o755


def test_export_refuses_an_image_that_was_not_deidentified(tmp_path, dicoms, capsys):
    ts = TeachingSet.new(tmp_path / "s", "T")
    ts.add_dicom([dicoms[0]], case_id="ok")
    ts.add_dicom([dicoms[1]], case_id="raw", deidentify=False)
    ts.save()
    args = ["set", "export", str(tmp_path / "s"), str(tmp_path / "s.zip")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "raw" in err and "Patient Identity Removed" in err and err.count("\n") == 1
    assert not (tmp_path / "s.zip").exists()
    assert main([*args, "--allow-identified"]) == 0
    assert "cases/raw/image.dcm" in zipfile.ZipFile(tmp_path / "s.zip").namelist()


def test_a_set_zipped_with_its_folder_imports(tmp_path, dicoms):
    ts = TeachingSet.new(tmp_path / "s", "Wrapped")
    ts.add_dicom([dicoms[0]], case_id="c")
    ts.save()
    with zipfile.ZipFile(tmp_path / "wrapped.zip", "w") as zf:  # like `zip -r`
        for p in sorted((tmp_path / "s").rglob("*")):
            zf.write(p, (Path("my-set") / p.relative_to(tmp_path / "s")).as_posix())
    assert f"my-set/{SECRET_FILE}" in zipfile.ZipFile(tmp_path / "wrapped.zip").namelist()
    imported = import_set(tmp_path / "wrapped.zip", tmp_path / "t")
    assert imported.name == "Wrapped" and imported.case_ids == ["c"]
    assert (tmp_path / "t" / "cases" / "c" / "image.dcm").is_file()
    assert not (tmp_path / "t" / SECRET_FILE).exists()
    assert imported.validate() == []


def test_corrupt_deflate_stream_is_one_line_and_leaves_nothing(tmp_path, capsys):
    import random

    block = random.Random(0).randbytes(1000) * 50  # long back-references in the stream
    zpath = _zip_with(tmp_path / "broken.zip", [("cases/x.bin", block)])
    raw = bytearray(zpath.read_bytes())
    start = raw.find(b"cases/x.bin") + len("cases/x.bin") + 200
    for i in range(start, start + 300):  # scramble the middle of the compressed stream
        raw[i] ^= 0x5A
    zpath.write_bytes(bytes(raw))
    before = snapshot(tmp_path)
    assert main(["set", "import", str(zpath), str(tmp_path / "dest")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("flannot: error: ") and "broken.zip" in err and "corrupt" in err
    assert err.count("\n") == 1 and "internal error" not in err
    assert snapshot(tmp_path) == before


def test_import_into_an_uncreatable_folder_names_the_target(tmp_path, dicoms, capsys):
    ts = TeachingSet.new(tmp_path / "s", "Target")
    ts.add_dicom(dicoms)
    ts.save()
    export_set(tmp_path / "s", tmp_path / "s.zip")
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(FlannotError) as info:
        import_set(tmp_path / "s.zip", tmp_path / "file" / "copy")
    assert info.value.path == str(tmp_path / "file" / "copy")
    assert ".import" not in str(info.value)
    assert main(["set", "import", str(tmp_path / "s.zip"), str(tmp_path / "file" / "x")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "file/x: cannot create" in err and "internal" not in err


def test_files_saved_with_a_bom_still_export_redacted(tmp_path, dicoms):
    """Windows Notepad writes a UTF-8 BOM: Case.load accepts it, so must the set."""
    import json

    import pydicom

    ts = TeachingSet.new(tmp_path / "s", "BOM")
    ts.add_dicom([dicoms[0]], case_id="c")
    ts.save()
    case_file = tmp_path / "s" / "cases" / "c" / "annotations.json"
    data = json.loads(case_file.read_text())
    rect = [[2.0, 3.0], [2.0, 29.0], [9.0, 29.0], [9.0, 3.0]]
    data["annotations"].append(
        {
            "id": "r1",
            "type": "redaction",
            "frame": 0,
            "geometry": {"kind": "rectangle", "points": rect},
        }
    )
    case_file.write_bytes(b"\xef\xbb\xbf" + json.dumps(data).encode())
    set_file = tmp_path / "s" / "flannot-set.json"
    set_file.write_bytes(b"\xef\xbb\xbf" + set_file.read_bytes())
    assert TeachingSet.open(tmp_path / "s").case_ids == ["c"]
    export_set(tmp_path / "s", tmp_path / "s.zip")
    import_set(tmp_path / "s.zip", tmp_path / "t")
    out = pydicom.dcmread(tmp_path / "t" / "cases" / "c" / "image.dcm")
    assert (out.pixel_array[:, 2:10, 3:30] == 0).all()
