"""``gan-style download``: fetch a standard CycleGAN or pix2pix dataset and print how to train on it.

Examples::

    gan-style download horse2zebra                      # -> datasets/horse2zebra/{trainA,trainB,testA,testB}
    gan-style download pix2pix/facades --root /data     # -> /data/facades_pix2pix/{train,val,test}
    gan-style download --list                           # names, kinds, sizes, checksums, URLs
    gan-style download sample                           # the bundled sample sets -> datasets/sample/

Offline: put the archive (``horse2zebra.zip``) in the root folder yourself and run the same command; it is
verified and extracted without network. An interrupted download is resumed by running it again.
"""

from __future__ import annotations

import shlex
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gan_style.data.download import DatasetInfo

__all__ = ["download_command", "main", "training_command"]

_RECIPES = {"unpaired": "recipes/cyclegan.yaml", "paired-aligned": "recipes/pix2pix.yaml"}


def _size(size: int | None) -> str:
    if size is None:
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return "?"  # unreachable


def _print_table() -> None:
    from gan_style.data.download import list_datasets

    rows = [("NAME", "KIND", "FOLDER", "SIZE", "SHA256", "URL")]
    for info in list_datasets():
        note = "  (license: not downloaded automatically)" if info.restricted else ""
        rows.append(
            (info.key, info.kind, info.folder, _size(info.size), "yes" if info.sha256 else "-", info.url + note)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1])
    print("\nA bare name is enough when it is unique (horse2zebra); facades, maps and cityscapes need the family.")


def training_command(info: DatasetInfo, folder: str) -> str | None:
    """The ``gan-style`` command line that trains on a downloaded dataset, or None when no recipe fits.

    Args:
        info: the dataset (its ``kind`` picks the recipe; pix2pix datasets add their ``direction``).
        folder: the dataset folder as it should appear on the command line.
    """
    recipe = _RECIPES.get(info.kind)
    if recipe is None:
        return None
    command = f"gan-style fit --config {recipe} --data.init_args.root {shlex.quote(folder)}"
    if info.direction:
        command += f" --data.init_args.direction {info.direction}"
    return command


def download_command(
    name: str | None = None,
    root: str = "datasets",
    sha256: str | None = None,
    force: bool = False,
    keep_archive: bool = False,
    list: bool = False,
    no_progress: bool = False,
) -> str | None:
    """Download, verify and extract a standard CycleGAN or pix2pix dataset (``gan-style download NAME``).

    Prints where the dataset is and the ``gan-style fit`` command that trains on it.

    Offline: put the archive (e.g. horse2zebra.zip) in ``--root`` and run the same command. An interrupted
    download (Ctrl-C, a broken connection) keeps its partial file and is resumed by running it again.

    Args:
        name: dataset name, e.g. horse2zebra or pix2pix/facades (see ``--list``); also accepted as the first
            word, ``gan-style download horse2zebra``. ``sample``: the small sample sets installed with gan-style
            (photo2painting, facades, style; the recipes' defaults) copied into ``<root>/sample``, no network.
        root: download folder (default datasets).
        sha256: expected sha256 of the archive, replacing the registry's value (default: the registry's).
        force: replace an existing dataset folder (default false; ``--force`` alone means true).
        keep_archive: keep the archive after extracting it (default false).
        list: print the known datasets (name, kind, folder, size, checksum, URL) and exit (default false).
        no_progress: no progress bars (default false).

    Returns:
        The dataset folder, or None with ``--list``.

    Raises:
        ValueError: no name given; DownloadSettingError (a ValueError): an unknown or ambiguous name or a
            malformed sha256.
        ChecksumError, OfflineError, DownloadError, ArchiveError, OSError: see
            :func:`gan_style.data.download.download_dataset`.
    """
    from gan_style.data.download import download_dataset, resolve_dataset

    if list:
        _print_table()
        return None
    if not name:
        raise ValueError("a dataset name is required, e.g. gan-style download horse2zebra (see --list)")
    if name == "sample":
        return _copy_sample(root, force)
    info = resolve_dataset(name)
    try:
        folder = download_dataset(
            info.key, root=root, sha256=sha256, force=force, keep_archive=keep_archive, progress=not no_progress
        )
    except KeyboardInterrupt:
        print(
            "\ngan-style download: the partial download is kept; run the same command again to resume it",
            file=sys.stderr,
        )
        raise
    print(f"{info.key} ({info.kind}) is ready in {folder}")
    command = training_command(info, str(folder))
    if command:
        print(f"Train on it:\n  {command}")
    elif info.kind == "images":
        print(
            f"Try a trained model on these images:\n  gan-style stylize --checkpoint CKPT --content {shlex.quote(str(folder))}"
        )
    return str(folder)


def _copy_sample(root: str, force: bool) -> str:
    import shutil
    from pathlib import Path

    from gan_style.data.samples import copy_samples

    target = Path(root) / "sample"
    if force and target.exists():
        shutil.rmtree(target)
    try:
        folder = copy_samples(target)
    except FileExistsError as exc:
        raise ValueError(f"{exc}; add --force to replace it, or choose another --root") from None
    print(f"the sample sets are in {folder}: photo2painting (CycleGAN, AdaIN), facades (Pix2Pix), style")
    print(
        "Train on them (the recipes also find them without this copy):\n"
        f"  gan-style fit --config cyclegan --config demo/cpu --data.init_args.root {shlex.quote(str(folder / 'photo2painting'))}"
    )
    return str(folder)


#: the flags' spellings before the one command layer, still accepted
_OLD_SPELLINGS = {"--keep-archive": "--keep_archive", "--no-progress": "--no_progress"}


def main(args: list[str] | None = None) -> None:
    """Entry point of ``gan-style download [NAME] [--root DIR] ...``: arguments parsed from
    :func:`download_command`'s signature (a first bare word is the ``--name``, ``--list`` and the other
    switches work without a value: :func:`gan_style.commands.runner.flag_form`; ``--keep-archive`` and
    ``--no-progress`` are still accepted); errors as one line with the exit status of
    :mod:`gan_style.commands.runner`: 2 for an unknown or ambiguous name, a malformed sha256, a file whose
    checksum differs, a damaged or unsafe archive; 1 when offline, for a download that kept breaking or a full
    disk; 130 when interrupted (the partial download is kept and resumed next time).
    """
    from gan_style.commands.runner import flag_form, run_command

    args = [_OLD_SPELLINGS.get(a, a) for a in (sys.argv[2:] if args is None else args)]
    args = flag_form(args, positional="name", switches=["force", "keep_archive", "list", "no_progress"])
    run_command(download_command, args, "gan-style download")


if __name__ == "__main__":
    main(sys.argv[1:])
