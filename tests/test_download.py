"""gan-style download: registry, resumable verified download, safe extraction, the command line.

Everything runs against a local HTTP server on 127.0.0.1; no test touches the internet.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import write_image
from gan_style.commands.download import main
from gan_style.data import download as dl
from gan_style.data.download import DATASETS, download_dataset, resolve_dataset
from gan_style.errors import (
    ArchiveError,
    ChecksumError,
    DownloadError,
    DownloadSettingError,
    OfflineError,
    UnsafeArchiveError,
)
from gan_style.io import archive as archive_module
from gan_style.io.archive import extract_archive
from gan_style.io.download import check_sha256, download_file, file_sha256, offline_message


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _png(tmp: Path, seed: int) -> bytes:
    return write_image(tmp / f"img{seed}.png", size=(16, 16), seed=seed).read_bytes()


def _cyclegan_zip(tmp: Path, top: str = "horse2zebra") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        seed = 0
        for split, n in {"trainA": 2, "trainB": 2, "testA": 1, "testB": 1}.items():
            zf.writestr(f"{top}/{split}/", "")
            for i in range(n):
                seed += 1
                zf.writestr(f"{top}/{split}/{i}.png", _png(tmp, seed))
        zf.writestr(f"__MACOSX/{top}/._junk", b"resource fork")
    return buf.getvalue()


def _aligned_targz(tmp: Path, top: str = "facades") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for split, n in {"train": 2, "val": 1, "test": 1}.items():
            for i in range(n):
                data = write_image(tmp / f"{split}{i}.jpg", size=(32, 16), seed=i).read_bytes()
                member = tarfile.TarInfo(f"{top}/{split}/{i}.jpg")
                member.size = len(data)
                tf.addfile(member, io.BytesIO(data))
    return buf.getvalue()


def _point(monkeypatch, key: str, url: str, data: bytes | None) -> None:
    """Point a registry entry at ``url``, with the checksum and size of ``data`` (None: unknown)."""
    info = DATASETS[key]
    new = dataclasses.replace(
        info,
        url=url,
        sha256=_sha(data) if data is not None else None,
        size=len(data) if data is not None else None,
        restricted=None,
    )
    monkeypatch.setitem(DATASETS, key, new)


def _all_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


# ---------------------------------------------------------------------------------------- registry


def test_registry_names_urls_and_checksums():
    cyclegan = {k.split("/")[1] for k in DATASETS if k.startswith("cyclegan/")}
    pix2pix = {k.split("/")[1] for k in DATASETS if k.startswith("pix2pix/")}
    assert {"horse2zebra", "monet2photo", "maps", "facades", "cityscapes", "mini", "grumpifycat"} <= cyclegan
    assert pix2pix == {"cityscapes", "night2day", "edges2handbags", "edges2shoes", "facades", "maps"}
    folders = [info.folder for info in DATASETS.values()]
    assert len(set(folders)) == len(folders)  # shared names get distinct folders
    for key, info in DATASETS.items():
        assert info.key == key
        family, name = key.split("/")
        expected = (dl.CYCLEGAN_URL if family == "cyclegan" else dl.PIX2PIX_URL).format(name=name)
        assert info.url == expected
        assert info.sha256 is None or (len(info.sha256) == 64 and int(info.sha256, 16) >= 0)
        assert (info.sha256 is None) == (info.size is None)
    assert DATASETS["cyclegan/horse2zebra"].size == 116867962
    assert resolve_dataset("Horse2Zebra ").key == "cyclegan/horse2zebra"
    assert resolve_dataset("edges2shoes").key == "pix2pix/edges2shoes"
    assert resolve_dataset("pix2pix/facades").folder == "facades_pix2pix"


def test_ambiguous_and_unknown_names():
    with pytest.raises(ValueError, match="cyclegan/facades or pix2pix/facades"):
        resolve_dataset("facades")
    with pytest.raises(ValueError, match="Did you mean horse2zebra"):
        resolve_dataset("horse2zebr")


# ---------------------------------------------------------------------------------------- download


def test_download_verify_extract_cyclegan_zip(server, monkeypatch, tmp_path):
    data = _cyclegan_zip(tmp_path)
    server.files["/horse2zebra.zip"] = data
    _point(monkeypatch, "cyclegan/horse2zebra", server.url("/horse2zebra.zip"), data)
    root = tmp_path / "datasets"
    folder = download_dataset("horse2zebra", root=root, progress=False, log=None)
    assert folder == root / "horse2zebra"
    assert _all_files(root) == {
        "horse2zebra",
        *(f"horse2zebra/{d}" for d in ("trainA", "trainB", "testA", "testB")),
        "horse2zebra/trainA/0.png",
        "horse2zebra/trainA/1.png",
        "horse2zebra/trainB/0.png",
        "horse2zebra/trainB/1.png",
        "horse2zebra/testA/0.png",
        "horse2zebra/testB/0.png",
    }  # archive removed, no .part, no temporary folder, no __MACOSX
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert (folder / "trainB/1.png").read_bytes() == zf.read("horse2zebra/trainB/1.png")

    from gan_style.data import UnpairedImageDataModule

    dm = UnpairedImageDataModule(root=str(folder), load_size=16, crop_size=16, num_workers=0)
    dm.setup("fit")
    assert len(dm.train_set) == 2

    # a second run finds the folder complete and does not touch the network
    n = len(server.requests)
    messages = []
    assert download_dataset("horse2zebra", root=root, progress=False, log=messages.append) == folder
    assert len(server.requests) == n and "already" in messages[0]


def test_resume_after_a_broken_connection(server, tmp_path):
    data = os.urandom(300_000)
    server.files["/big.bin"] = data
    server.cut_next = True
    dest = tmp_path / "big.bin"
    part = tmp_path / "big.bin.part"
    with pytest.raises(DownloadError, match="run the same command again to resume"):
        download_file(server.url("/big.bin"), dest, sha256=_sha(data), progress=False, retries=0)
    half = len(data) // 2
    assert not dest.exists() and part.stat().st_size == half
    assert part.read_bytes() == data[:half]

    assert download_file(server.url("/big.bin"), dest, sha256=_sha(data), progress=False) == _sha(data)
    assert dest.read_bytes() == data and not part.exists()
    assert server.requests[-1]["range"] == f"bytes={half}-"


def test_broken_connection_is_resumed_automatically(server, tmp_path):
    data = os.urandom(200_000)
    server.files["/f.bin"] = data
    server.cut_next = True
    dest = tmp_path / "f.bin"
    download_file(server.url("/f.bin"), dest, sha256=_sha(data), progress=False, retries=1)
    assert dest.read_bytes() == data
    assert [r["range"] for r in server.requests] == [None, f"bytes={len(data) // 2}-"]


def test_complete_part_file_gets_416_and_is_used(server, tmp_path):
    data = os.urandom(50_000)
    server.files["/f.bin"] = data
    (tmp_path / "f.bin.part").write_bytes(data)
    download_file(server.url("/f.bin"), tmp_path / "f.bin", sha256=_sha(data), progress=False)
    assert (tmp_path / "f.bin").read_bytes() == data
    assert server.requests[-1]["range"] == f"bytes={len(data)}-"


def test_server_without_range_support_restarts_from_zero(server, tmp_path):
    data = os.urandom(50_000)
    server.files["/f.bin"] = data
    server.ignore_range = True
    (tmp_path / "f.bin.part").write_bytes(b"stale bytes from an earlier try")
    download_file(server.url("/f.bin"), tmp_path / "f.bin", sha256=_sha(data), progress=False)
    assert (tmp_path / "f.bin").read_bytes() == data


def test_checksum_mismatch_leaves_no_final_file(server, tmp_path):
    data = os.urandom(10_000)
    server.files["/f.zip"] = data
    dest = tmp_path / "f.zip"
    wrong = "0" * 64
    with pytest.raises(ChecksumError) as err:
        download_file(server.url("/f.zip"), dest, sha256=wrong, progress=False)
    message = str(err.value)
    assert wrong in message and _sha(data) in message and str(dest) in message
    assert not dest.exists() and not (tmp_path / "f.zip.part").exists()
    kept = tmp_path / "f.zip.sha256-mismatch"  # kept aside, not used, not resumed into
    assert kept.read_bytes() == data
    assert f"--sha256 {_sha(data)}" in message


def test_size_mismatch_is_a_checksum_error(server, tmp_path):
    server.files["/f.bin"] = b"x" * 100
    with pytest.raises(ChecksumError, match="expected 99 bytes"):
        download_file(server.url("/f.bin"), tmp_path / "f.bin", expected_size=99, progress=False)
    assert not (tmp_path / "f.bin").exists()


def test_check_sha256_normalises_or_refuses():
    assert check_sha256(None) is None
    assert check_sha256(f"  {'AB' * 32} ") == "ab" * 32
    for bad in ("abc", "g" * 64, "a" * 65):
        with pytest.raises(DownloadSettingError, match="64 hexadecimal"):
            check_sha256(bad)


def test_file_sha256(tmp_path, capsys):
    data = os.urandom(70_000)  # more than one of pooch's 64 KiB reads
    (tmp_path / "f.bin").write_bytes(data)
    assert file_sha256(tmp_path / "f.bin") == _sha(data)
    assert capsys.readouterr().err == ""
    assert file_sha256(str(tmp_path / "f.bin"), progress=True) == _sha(data)
    assert "verifying f.bin" in capsys.readouterr().err
    (tmp_path / "empty").write_bytes(b"")
    assert file_sha256(tmp_path / "empty") == _sha(b"")
    with pytest.raises(FileNotFoundError):
        file_sha256(tmp_path / "missing")


def test_offline_message_mentions_a_kept_part_file(tmp_path):
    dest = tmp_path / "f.zip"
    message = offline_message("http://host/f.zip", dest, "timed out")
    assert "(timed out)" in message and f"put the file at {dest}" in message and "and uses it without" in message
    assert "against sha256" not in message and "partial" not in message
    (tmp_path / "f.zip.part").write_bytes(b"12345")
    message = offline_message("http://host/f.zip", dest, "timed out", "a" * 64, then="extracts it")
    assert f"against sha256 {'a' * 64} and extracts it" in message
    assert f"The partial download {tmp_path / 'f.zip.part'} (5 bytes) is kept" in message


def test_existing_file_is_verified_without_network(dead_url, tmp_path):
    dest = tmp_path / "f.bin"
    dest.write_bytes(b"placed by hand")
    assert download_file(dead_url, dest, sha256=_sha(b"placed by hand"), progress=False) == _sha(b"placed by hand")
    with pytest.raises(ChecksumError, match="left as it is"):
        download_file(dead_url, dest, expected_size=1, progress=False)
    assert dest.read_bytes() == b"placed by hand"


def test_http_error_names_the_url(server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        download_file(server.url("/missing.zip"), tmp_path / "m.zip", progress=False)
    assert not (tmp_path / "m.zip").exists() and not (tmp_path / "m.zip.part").exists()


def test_offline_error_says_where_to_put_the_file(dead_url, tmp_path):
    dest = tmp_path / "datasets" / "horse2zebra.zip"
    with pytest.raises(OfflineError) as err:
        download_file(dead_url, dest, progress=False, timeout=5)
    message = str(err.value)
    assert dead_url in message and "offline" in message and f"put the file at {dest}" in message
    assert not (tmp_path / "datasets").exists()  # nothing created


def test_offline_dataset_then_user_placed_archive(monkeypatch, dead_url, tmp_path):
    data = _cyclegan_zip(tmp_path)
    _point(monkeypatch, "cyclegan/horse2zebra", dead_url, data)
    root = tmp_path / "datasets"
    with pytest.raises(OfflineError) as err:
        download_dataset("horse2zebra", root=root, progress=False, log=None)
    message = str(err.value)
    assert f"put the file at {root / 'horse2zebra.zip'}" in message
    assert f"extracts it to {root / 'horse2zebra'}" in message and _sha(data) in message

    root.mkdir()
    (root / "horse2zebra.zip").write_bytes(data)  # downloaded elsewhere, copied here
    folder = download_dataset("horse2zebra", root=root, progress=False, log=None, keep_archive=True)
    assert sorted(p.name for p in folder.iterdir()) == ["testA", "testB", "trainA", "trainB"]
    assert (root / "horse2zebra.zip").exists()


def test_user_placed_archive_with_wrong_checksum_is_kept(monkeypatch, dead_url, tmp_path):
    _point(monkeypatch, "cyclegan/horse2zebra", dead_url, b"the genuine archive")
    root = tmp_path / "datasets"
    root.mkdir()
    (root / "horse2zebra.zip").write_bytes(b"something else")
    with pytest.raises(ChecksumError, match="left as it is"):
        download_dataset("horse2zebra", root=root, progress=False, log=None)
    assert _all_files(root) == {"horse2zebra.zip"}


def test_restricted_dataset_is_not_fetched(server, monkeypatch, tmp_path):
    info = DATASETS["pix2pix/cityscapes"]
    monkeypatch.setitem(DATASETS, info.key, dataclasses.replace(info, url=server.url("/cityscapes.tar.gz")))
    with pytest.raises(DownloadError, match="cityscapes-dataset.com"):
        download_dataset("pix2pix/cityscapes", root=tmp_path, progress=False, log=None)
    assert server.requests == []


def test_incomplete_folder_needs_force(server, monkeypatch, tmp_path):
    data = _cyclegan_zip(tmp_path)
    server.files["/h.zip"] = data
    _point(monkeypatch, "cyclegan/horse2zebra", server.url("/h.zip"), data)
    root = tmp_path / "datasets"
    (root / "horse2zebra" / "trainA").mkdir(parents=True)
    (root / "horse2zebra" / "trainA" / "mine.png").write_bytes(b"x")
    with pytest.raises(DownloadError, match="--force"):
        download_dataset("horse2zebra", root=root, progress=False, log=None)
    folder = download_dataset("horse2zebra", root=root, progress=False, log=None, force=True)
    assert not (folder / "trainA" / "mine.png").exists() and (folder / "trainB" / "1.png").exists()
    assert {p.split("/")[0] for p in _all_files(root)} == {"horse2zebra"}  # no old copy, no temp folder


# ---------------------------------------------------------------------------------------- extraction


def _zip(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return buf.getvalue()


def _zip_symlink() -> bytes:
    link = zipfile.ZipInfo("d/link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    return _zip([("d/ok.txt", b"ok"), (link, b"../../outside")])


def _tar(members: list[tarfile.TarInfo]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for member in members:
            if member.isfile():
                tf.addfile(member, io.BytesIO(b"x" * member.size))
            else:
                tf.addfile(member)
    return buf.getvalue()


def _tar_file(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = 1
    return info


def _tar_link(name: str, target: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


UNSAFE = {
    "zip-dotdot": ("a.zip", lambda: _zip([("d/ok.txt", b"ok"), ("../evil", b"evil")]), "'..'"),
    "zip-absolute": ("a.zip", lambda: _zip([("d/ok.txt", b"ok"), ("/tmp/gan_style_evil", b"evil")]), "absolute"),
    "zip-symlink": ("a.zip", _zip_symlink, "symbolic link"),
    "tar-dotdot": ("a.tar.gz", lambda: _tar([_tar_file("d/ok.txt"), _tar_file("../evil")]), "'..'"),
    "tar-absolute": ("a.tgz", lambda: _tar([_tar_file("/tmp/gan_style_evil")]), "absolute"),
    "tar-symlink-outside": (
        "a.tar.gz",
        lambda: _tar([_tar_file("d/ok.txt"), _tar_link("d/link", "../../outside", tarfile.SYMTYPE)]),
        "symbolic link",
    ),
    "tar-hardlink": (
        "a.tar",
        lambda: _tar([_tar_file("d/ok.txt"), _tar_link("d/hard", "/etc/passwd", tarfile.LNKTYPE)]),
        "hard link",
    ),
    "tar-fifo": ("a.tar.gz", lambda: _tar([_tar_link("d/fifo", "", tarfile.FIFOTYPE)]), "special file"),
}


# tar cases run with tarfile's data filter (where Python has it) and without (Python < 3.10.12 / 3.11.4)
_UNSAFE_CASES = [(case, True) for case in UNSAFE] + [(case, False) for case in UNSAFE if case.startswith("tar")]


@pytest.mark.parametrize(
    ("case", "has_filter"), _UNSAFE_CASES, ids=[f"{c}-{'filter' if f else 'nofilter'}" for c, f in _UNSAFE_CASES]
)
def test_unsafe_archives_are_refused(case, has_filter, monkeypatch, tmp_path):
    monkeypatch.setattr(archive_module, "_TAR_HAS_FILTER", has_filter and hasattr(tarfile, "data_filter"))
    filename, build, why = UNSAFE[case]
    work = tmp_path / "work"
    work.mkdir()
    archive = work / filename
    archive.write_bytes(build())
    with pytest.raises(UnsafeArchiveError) as err:
        extract_archive(archive, work / "out")
    assert str(archive) in str(err.value) and why in str(err.value)
    assert _all_files(tmp_path) == {"work", f"work/{filename}"}  # no target, no temp folder, no evil
    assert not Path("/tmp/gan_style_evil").exists()


def test_damaged_zip_leaves_nothing(tmp_path):
    data = bytearray(_zip([("d/a.txt", b"a" * 1000), ("d/b.txt", b"b" * 1000)]))
    at = data.index(b"b" * 1000)
    data[at + 500] ^= 0xFF  # stored (uncompressed) member: flips one byte of b.txt, CRC no longer matches
    archive = tmp_path / "x.zip"
    archive.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="damaged"):
        extract_archive(archive, tmp_path / "out")
    assert _all_files(tmp_path) == {"x.zip"}


def test_truncated_targz_leaves_nothing(tmp_path):
    data = _aligned_targz(tmp_path / "img")
    archive = tmp_path / "t.tar.gz"
    archive.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(ArchiveError):
        extract_archive(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.extracting-*"))


def test_extract_targz_strips_the_top_folder(tmp_path):
    archive = tmp_path / "facades.tar.gz"
    archive.write_bytes(_aligned_targz(tmp_path / "img"))
    out = extract_archive(archive, tmp_path / "facades_pix2pix")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.jpg")) == [
        "test/0.jpg",
        "train/0.jpg",
        "train/1.jpg",
        "val/0.jpg",
    ]
    with pytest.raises(FileExistsError):
        extract_archive(archive, out)


# ---------------------------------------------------------------------------------------- command


def test_command_downloads_and_prints_the_training_command(server, monkeypatch, tmp_path, capsys):
    data = _cyclegan_zip(tmp_path)
    server.files["/horse2zebra.zip"] = data
    _point(monkeypatch, "cyclegan/horse2zebra", server.url("/horse2zebra.zip"), data)
    root = tmp_path / "datasets"
    main(["horse2zebra", "--root", str(root), "--no_progress"])
    out = capsys.readouterr().out
    folder = root / "horse2zebra"
    assert f"gan-style fit --config recipes/cyclegan.yaml --data.init_args.root {folder}" in out
    assert (folder / "trainA" / "0.png").is_file()


def test_command_pix2pix_prints_direction_and_checksum(server, monkeypatch, tmp_path, capsys):
    data = _aligned_targz(tmp_path / "img")
    server.files["/facades.tar.gz"] = data
    _point(monkeypatch, "pix2pix/facades", server.url("/facades.tar.gz"), None)
    root = tmp_path / "datasets"
    main(["--name", "pix2pix/facades", "--root", str(root), "--no_progress", "true"])  # the flag form
    captured = capsys.readouterr()
    folder = root / "facades_pix2pix"
    assert (
        f"gan-style fit --config recipes/pix2pix.yaml --data.init_args.root {folder} "
        "--data.init_args.direction BtoA" in captured.out
    )
    assert _sha(data) in captured.err  # no published checksum: the computed one is shown

    from gan_style.data import PairedImageDataModule

    dm = PairedImageDataModule(root=str(folder), load_size=16, crop_size=16, num_workers=0)
    dm.setup("fit")
    assert dm.layout == "aligned" and len(dm.train_set) == 2


def test_command_sha256_option_overrides_the_registry(server, monkeypatch, tmp_path, capsys):
    data = _cyclegan_zip(tmp_path)
    server.files["/horse2zebra.zip"] = data
    _point(monkeypatch, "cyclegan/horse2zebra", server.url("/horse2zebra.zip"), b"another file")
    with pytest.raises(SystemExit) as exc:  # a file that is not the one asked for: a bad request, status 2
        main(["horse2zebra", "--root", str(tmp_path / "d"), "--no_progress", "--sha256", "f" * 64])
    assert exc.value.code == 2 and "sha256" in capsys.readouterr().err
    # the spellings before the one command layer still work: --no-progress, --keep-archive
    main(["horse2zebra", "--root", str(tmp_path / "d"), "--no-progress", "--keep-archive", "--sha256", _sha(data)])
    assert (tmp_path / "d" / "horse2zebra.zip").is_file()
    assert (tmp_path / "d" / "horse2zebra" / "testB" / "0.png").is_file()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["facades"], "cyclegan/facades or pix2pix/facades"),
        (["horse2zebr"], "Did you mean horse2zebra"),
        (["horse2zebra", "--sha256", "abc"], "64 hexadecimal"),
        (["--force"], "a dataset name is required"),
    ],
)
def test_command_errors_are_one_line_without_traceback(args, expected, tmp_path, capsys):
    """A bad request: one line ``gan-style download: error: ...``, status 2 (gan_style.commands.runner)."""
    with pytest.raises(SystemExit) as exc:
        main([*args, "--root", str(tmp_path)])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert err.startswith("gan-style download: error: ") and expected in err and err.count("\n") == 1


def test_command_malformed_arguments_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["horse2zebra", "--root"])
    assert exc.value.code == 2 and "--root" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["horse2zebra", "cyclegan/maps", "--root", str(tmp_path)])  # one name only
    assert exc.value.code == 2 and "cyclegan/maps" in capsys.readouterr().err


def test_command_offline(monkeypatch, dead_url, tmp_path, capsys):
    _point(monkeypatch, "cyclegan/horse2zebra", dead_url, b"data")
    with pytest.raises(SystemExit) as exc:
        main(["horse2zebra", "--root", str(tmp_path), "--no_progress"])
    err = capsys.readouterr().err
    assert exc.value.code == 1 and "offline" in err and str(tmp_path / "horse2zebra.zip") in err
    assert err.startswith("gan-style download: error: ")


def test_command_interrupted_exits_130_and_resumes(server, monkeypatch, tmp_path, capsys):
    import gan_style.io.download as io_download

    data = _cyclegan_zip(tmp_path)
    server.files["/horse2zebra.zip"] = data
    _point(monkeypatch, "cyclegan/horse2zebra", server.url("/horse2zebra.zip"), data)

    class CtrlC(io_download.tqdm):  # Ctrl-C after the first chunk has been written
        def update(self, n=1):
            raise KeyboardInterrupt

    monkeypatch.setattr(io_download, "_CHUNK", 256)
    monkeypatch.setattr(io_download, "tqdm", CtrlC)
    root = tmp_path / "datasets"
    with pytest.raises(SystemExit) as exc:
        main(["horse2zebra", "--root", str(root), "--no_progress"])
    err = capsys.readouterr().err
    assert exc.value.code == 130 and "run the same command again" in err and "Traceback" not in err
    assert (root / "horse2zebra.zip.part").stat().st_size == 256  # the partial file is kept
    monkeypatch.undo()
    _point(monkeypatch, "cyclegan/horse2zebra", server.url("/horse2zebra.zip"), data)
    main(["horse2zebra", "--root", str(root), "--no_progress"])  # resumed
    assert server.requests[-1]["range"] == "bytes=256-" and (root / "horse2zebra" / "trainA" / "0.png").is_file()


def test_command_list(capsys):
    main(["--list"])
    out = capsys.readouterr().out
    for info in DATASETS.values():
        assert info.key in out and info.url in out
    main(["--list", "true", "--root", "elsewhere"])
    assert capsys.readouterr().out == out


def test_errors_are_gan_style_errors():
    from gan_style.errors import GanStyleError, UnreadableFileError, UnsafeFileError

    assert issubclass(OfflineError, DownloadError) and issubclass(DownloadError, GanStyleError)
    assert issubclass(DownloadError, RuntimeError) and issubclass(DownloadSettingError, ValueError)
    assert issubclass(ChecksumError, UnsafeFileError) and issubclass(UnsafeArchiveError, UnsafeFileError)
    assert issubclass(ArchiveError, UnreadableFileError)
    with pytest.raises(ValueError):  # DownloadSettingError is also a ValueError
        resolve_dataset("no-such-dataset")
    error = OfflineError("message", "http://host/f.zip", "timed out")
    assert (str(error), error.url, error.reason) == ("message", "http://host/f.zip", "timed out")
    # the error classes stay importable from gan_style.data.download
    for cls in (ArchiveError, ChecksumError, DownloadError, DownloadSettingError, OfflineError, UnsafeArchiveError):
        assert getattr(dl, cls.__name__) is cls and cls.__name__ in dl.__all__


def test_gan_style_cli_dispatches_download(capsys):
    from gan_style.cli import main as cli_main

    cli_main(["download", "--list"])
    assert "cyclegan/horse2zebra" in capsys.readouterr().out
