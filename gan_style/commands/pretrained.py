"""``gan-style pretrained``: the published models gan-style runs, and their files.

Examples::

    gan-style pretrained                          # name, method, task, size, cached or not (100 columns)
    gan-style pretrained horse2zebra              # one model: URLs, paper, licence, settings, cache paths
    gan-style pretrained horse2zebra --download   # fetch its files now (e.g. before going offline)
    gan-style stylize --pretrained horse2zebra --content photos/
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # gan_style.pretrained (torch) is imported when the command runs, not for --help
    from gan_style.pretrained import PretrainedModel

__all__ = ["TABLE_WIDTH", "main", "pretrained_command"]

#: The width of ``gan-style pretrained``'s table, in columns (a terminal of 100 columns shows it unwrapped).
TABLE_WIDTH = 100


def _table(entries: list[PretrainedModel]) -> str:
    from gan_style.pretrained import is_cached

    # the licence, paper, files and settings are in gan-style pretrained NAME; the method without its parenthesis
    # ("fast neural style"), and the task shortened where the table would be wider than TABLE_WIDTH columns
    rows = [("NAME", "METHOD", "TASK", "SIZE", "CACHED")]
    for e in entries:
        method = e.method.split(" (")[0]
        rows.append((e.name, method, e.task, f"{e.size_mb:.0f} MB", "yes" if is_cached(e) else "no"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    room = TABLE_WIDTH - (sum(widths) - widths[2]) - 2 * (len(widths) - 1)  # what is left for TASK
    if widths[2] > room:
        rows = [row[:2] + (_shorten(row[2], max(room, 12)),) + row[3:] for row in rows]
        widths[2] = max(len(row[2]) for row in rows)
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.append("")
    lines += _wrap(
        "A model name alone is enough where one family publishes it (horse2zebra, candy), and 'adain' names its "
        "one model. Run one: gan-style stylize --pretrained NAME --content photos/. Its licence, paper, files and "
        "settings: gan-style pretrained NAME",
        TABLE_WIDTH,
        break_on_hyphens=False,
    )
    return "\n".join(lines)


def _wrap(text: str, width: int, break_on_hyphens: bool = False) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width, break_on_hyphens=break_on_hyphens)


def _shorten(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters: without its parenthesis when that is enough, else cut, with "..."."""
    if len(text) <= width:
        return text
    plain = text.split(" (")[0]
    if len(plain) <= width:
        return plain
    return text[: width - 3].rstrip() + "..."


def _details(entry: PretrainedModel) -> str:
    from gan_style.pretrained import MIRROR_VARIABLE, cache_dir, is_cached, mirror_url

    lines = [
        f"{entry.name}: {entry.method}, {entry.task}",
        f"  paper:    {entry.paper}",
        f"  licence:  {entry.licence} (the training images have their own terms)",
        f"  source:   {entry.source}",
        f"  trained:  on {entry.input_size}x{entry.input_size} crops; the original code's input range is "
        f"{entry.input_range} (gan-style takes [-1, 1] and converts)",
        f"  settings: {entry.settings}",
        f"  style:    {'a style image is needed (--style)' if entry.takes_style else 'in the weights (no --style)'}",
    ]
    folder = cache_dir() / entry.family
    for role, published in entry.files.items():
        member = f" (member {published.member})" if published.member else ""
        sha = published.sha256 or "not published"
        lines.append(f"  {role}: {published.url}{member}, about {published.size_mb:.0f} MB, sha256 {sha}")
        if mirror_url(published.url) != published.url:
            lines.append(f"    fetched from {mirror_url(published.url)} ({MIRROR_VARIABLE})")
        lines.append(f"    cached as {folder / published.filename}")
    lines.append(f"  cached:   {'yes' if is_cached(entry) else 'no'}")
    return "\n".join(lines)


def pretrained_command(name: str | None = None, download: bool = False) -> list[PretrainedModel]:
    """List the published models, or show one and optionally download its files.

    Args:
        name: a model (``horse2zebra``, ``cyclegan/style_monet``, ``adain``); None (default): list them all.
        download: fetch the model's files into the cache now (False); needs ``name``.

    Returns:
        The entries shown.

    Raises:
        DownloadSettingError: an unknown or ambiguous name, or ``download`` without a name.
        OfflineError, DownloadError, ChecksumError: from the download.
    """
    from gan_style.errors import DownloadSettingError
    from gan_style.pretrained import download_pretrained, list_pretrained, resolve_pretrained

    if name is None:
        if download:
            raise DownloadSettingError("--download needs a model name: gan-style pretrained NAME --download")
        entries = list_pretrained()
        print(_table(entries))
        return entries
    entry = resolve_pretrained(name)
    if download:
        files = download_pretrained(entry)
        print("\n".join(f"{role}: {path}" for role, path in files.items()))
    print(_details(entry))
    return [entry]


def main(args: list[str] | None = None) -> None:
    """Entry point of ``gan-style pretrained [NAME] [--download]``; errors as one line with the exit status of
    :mod:`gan_style.commands.runner`."""
    from gan_style.commands.runner import flag_form, run_command

    run_command(pretrained_command, flag_form(args, positional="name", switches=["download"]), "gan-style pretrained")
