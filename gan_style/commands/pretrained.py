"""``gan-style pretrained``: the published models gan-style runs, and their files.

Examples::

    gan-style pretrained                          # name, method, task, size, licence, cached or not
    gan-style pretrained horse2zebra              # one model: URLs, paper, licence, settings, cache paths
    gan-style pretrained horse2zebra --download   # fetch its files now (e.g. before going offline)
    gan-style stylize --pretrained horse2zebra --content photos/
"""

from __future__ import annotations

from gan_style.pretrained import (
    MIRROR_VARIABLE,
    PretrainedModel,
    cache_dir,
    download_pretrained,
    is_cached,
    list_pretrained,
    mirror_url,
    resolve_pretrained,
)

__all__ = ["main", "pretrained_command"]


def _table(entries: list[PretrainedModel]) -> str:
    rows = [("NAME", "METHOD", "TASK", "SIZE", "LICENCE", "CACHED")]
    for e in entries:
        rows.append((e.name, e.method, e.task, f"{e.size_mb:.0f} MB", e.licence, "yes" if is_cached(e) else "no"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.append(
        "\nA model name alone is enough where one family publishes it (horse2zebra, candy), and 'adain' names its "
        "one model. Run one: gan-style stylize --pretrained NAME --content photos/"
    )
    return "\n".join(lines)


def _details(entry: PretrainedModel) -> str:
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
