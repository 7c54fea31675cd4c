"""Write a directory as a zip or tar.gz with sorted entries and no caches: equal trees, equal bytes."""

from __future__ import annotations

import gzip
import os
import sys
import tarfile
import zipfile
from collections.abc import Iterator

# Tests shipped inside wheels and bytecode caches are never imported by the API.
SKIPPED_DIRS = {"__pycache__", "tests"}


def files(root: str) -> Iterator[tuple[str, str]]:
    """Yield (path, archive name) of every file under root, in a stable order."""
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(names):
            if not name.endswith((".pyc", ".pyo")):
                path = os.path.join(folder, name)
                yield path, os.path.relpath(path, root).replace(os.sep, "/")


def write_zip(root: str, out: str) -> None:
    """Zip root with one fixed timestamp and 0644/0755 modes."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, name in files(root):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as handle:
                archive.writestr(info, handle.read(), compresslevel=9)


def write_tar(root: str, out: str) -> None:
    """Tar root with zeroed owners and mtimes inside a gzip stream without a timestamp."""

    def reset(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
        return info

    with (
        open(out, "wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as stream,
        tarfile.open(fileobj=stream, mode="w") as archive,
    ):
        for path, name in files(root):
            archive.add(path, arcname=name, filter=reset)


if __name__ == "__main__":
    kind, source, target = sys.argv[1:4]
    (write_zip if kind == "zip" else write_tar)(source, target)
