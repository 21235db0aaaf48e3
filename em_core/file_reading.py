"""Reading a data file safely: regular files only, with a byte limit checked before reading.

A named pipe, a device (``/dev/zero``, ``/dev/urandom``), a folder, a socket or a symbolic-link loop
each gets one :class:`~em_core.errors.DataError` naming the path and the fix; nothing is read from
an unbounded stream.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from em_core.errors import DataError

#: The largest file :func:`load_dataset` reads, in bytes: the command line's limit (uploads to the
#: dashboard keep its own, 20 MB). The course's Netflix matrix is 2.9 MB.
MAX_FILE_BYTES = 200 * 10**6

_NOT_REGULAR = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def read_file(path: str | os.PathLike, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; anything else is a :class:`DataError`.

    A named pipe, a device (``/dev/zero``, ``/dev/urandom``), a folder or a symbolic link loop
    is refused with one line naming the path, without reading from it (the file is opened
    non-blocking, so a pipe without a writer cannot hold the caller); a file over the limit is
    refused before it is read, and the reading stops one byte past the limit should it grow.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise _open_error(path, err) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise DataError(f"{path} is a folder, not a file; give the path of a matrix file")
        if not stat.S_ISREG(info.st_mode):
            what = _NOT_REGULAR.get(stat.S_IFMT(info.st_mode), "not a regular file")
            raise DataError(f"{path} is {what}, not a regular file; save the data to a file and give its path")
        if info.st_size > max_bytes:
            _too_big(path, max_bytes)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as stream:
            content = stream.read(max_bytes + 1)
        if len(content) > max_bytes:
            _too_big(path, max_bytes)
        return content
    except OSError as err:
        raise DataError(f"{path}: cannot read the file ({err.strerror or err}); check the file") from None
    finally:
        os.close(fd)


def _too_big(path: Path, max_bytes: int):
    raise DataError(
        f"{path} is larger than {max_bytes / 1e6:g} MB, the most EM Lab reads from one file; "
        "use a smaller file (fewer rows, or a sample of them)"
    )


def _open_error(path: Path, err: OSError) -> DataError:
    if err.errno == errno.ELOOP:
        return DataError(
            f"{path} is a symbolic link loop (following its links leads back to them); "
            "point the link at a real file or give the file's own path"
        )
    if err.errno == errno.ENOENT and path.is_symlink():
        return DataError(f"{path} is a symbolic link to {os.readlink(path)}, which does not exist; check the link")
    if err.errno == errno.ENOENT:
        return DataError(f"{path}: no such file; check the path")
    if err.errno == errno.EACCES:
        return DataError(f"{path}: permission denied; check the file's permissions")
    return DataError(f"{path}: cannot open the file ({err.strerror or err}); check the path")


def path_exists(path: Path) -> bool:
    """Whether something is at ``path``, a broken or looping link included (``Path.exists`` says no to those)."""
    return os.path.lexists(path)
