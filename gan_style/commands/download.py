"""``gan-style download``: fetch a standard CycleGAN or pix2pix dataset and print how to train on it.

Examples::

    gan-style download horse2zebra                      # -> datasets/horse2zebra/{trainA,trainB,testA,testB}
    gan-style download pix2pix/facades --root /data     # -> /data/facades_pix2pix/{train,val,test}
    gan-style download --list                           # names, kinds, sizes, checksums, URLs

Offline: put the archive (``horse2zebra.zip``) in the root folder yourself and run the same command; it is
verified and extracted without network. An interrupted download is resumed by running it again.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from gan_style.data.download import DatasetInfo, download_dataset, list_datasets, resolve_dataset
from gan_style.errors import GanStyleError

__all__ = ["main", "training_command"]

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


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``gan-style download``.

    Exits with status 1 and a one-line ``gan-style: error: ...`` on stderr (no traceback; set
    ``GAN_STYLE_TRACEBACK=1`` to see it) when the name is unknown or ambiguous, the machine is offline, a
    checksum differs, an archive is unsafe or damaged, or the disk is full; with 130 when interrupted (a
    partial download is kept and resumed next time).
    """
    parser = argparse.ArgumentParser(
        prog="gan-style download",
        description="Download a standard CycleGAN or pix2pix dataset, verify it and extract it.",
        epilog="Offline: put the archive (e.g. horse2zebra.zip) in --root and run the same command.",
    )
    parser.add_argument("name", nargs="?", help="dataset name, e.g. horse2zebra or pix2pix/facades (see --list)")
    parser.add_argument("--root", default="datasets", help="download folder (default: datasets)")
    parser.add_argument("--sha256", help="expected sha256 of the archive, replacing the registry's value")
    parser.add_argument("--force", action="store_true", help="replace an existing dataset folder")
    parser.add_argument("--keep-archive", action="store_true", help="keep the archive after extracting it")
    parser.add_argument("--list", action="store_true", help="list the known datasets and exit")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.list:
        _print_table()
        return
    if not args.name:
        parser.error("a dataset name is required (see --list)")
    try:
        info = resolve_dataset(args.name)
        folder = download_dataset(
            info.key,
            root=args.root,
            sha256=args.sha256,
            force=args.force,
            keep_archive=args.keep_archive,
            progress=not args.no_progress,
        )
    except KeyboardInterrupt:
        print("\ngan-style: interrupted; run the same command again to resume the download", file=sys.stderr)
        raise SystemExit(130) from None
    except (GanStyleError, OSError) as exc:  # OSError: a full disk, a root that is a file, permissions
        if os.environ.get("GAN_STYLE_TRACEBACK"):
            raise
        print(f"gan-style: error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"{info.key} ({info.kind}) is ready in {folder}")
    command = training_command(info, str(folder))
    if command:
        print(f"Train on it:\n  {command}")
    elif info.kind == "images":
        print(
            f"Try a trained model on these images:\n  gan-style stylize --checkpoint CKPT --content {shlex.quote(str(folder))}"
        )


if __name__ == "__main__":
    main()
