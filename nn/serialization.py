"""``nn.save`` / ``nn.load``: a module's ``state_dict`` as an ``.npz`` file, written atomically.

``save`` writes to a temporary file in the destination folder, flushes and
``fsync``s it, then renames it over ``path`` with ``os.replace`` (atomic on POSIX
and Windows). A crash or error mid-write therefore leaves either the old file or
the complete new one at ``path``, never a truncated file, and the temporary file
is removed. A new file gets the user's umask (as ``open`` would make it), an
existing file keeps its mode, and a symbolic link at ``path`` is followed (the file
it points to is replaced; the link stays). Temporaries are named
``.<name>.<pid>-<random>.tmp``: one left behind by a writer that was killed (its
process no longer exists) is removed by the next save of the same file (POSIX).

``load`` reads the ``.npy`` header of every member first (names, shapes, dtypes,
sizes) and checks them against the module before it reads any data, so a file made
to claim gigabytes is refused without allocating them.
"""

from __future__ import annotations

import contextlib
import glob
import math
import os
import secrets
import stat
import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .module import Module

_NPY_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def save(module: Module, path: str | os.PathLike[str]) -> None:
    """Write ``module.state_dict()`` to ``path`` as ``.npz`` (one array per parameter path)."""
    if not isinstance(module, Module):
        raise TypeError(f"nn.save: expected an nn.Module, got {type(module).__name__}")
    path = Path(os.path.realpath(path))  # through a symlink: the link stays a link
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"nn.save: folder '{folder}' does not exist; create it first")
    _remove_stale_temporaries(path)
    state = module.state_dict()
    fd, tmp = _create_temporary(path)
    try:
        with os.fdopen(fd, "wb") as file:
            np.savez(file, **state)
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))  # an existing file's mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _create_temporary(path: Path) -> tuple[int, str]:
    """A new file next to ``path`` for writing, mode 0666 less the umask (as ``open``)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        name = str(path.parent / f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
        try:
            return os.open(name, flags, 0o666), name
        except FileExistsError:
            continue


def _remove_stale_temporaries(path: Path) -> None:
    """Delete temporaries of ``path`` whose writing process is gone (POSIX only: there a
    process id can be checked without side effects)."""
    if os.name != "posix":
        return
    pattern = os.path.join(glob.escape(str(path.parent)), f".{glob.escape(path.name)}.*-*.tmp")
    prefix = f".{path.name}."
    for leftover in glob.glob(pattern):
        pid = os.path.basename(leftover)[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(leftover)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _Member(NamedTuple):
    """A ``.npy`` member of the archive as its header describes it."""

    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    dtype: np.dtype
    data_bytes: int  # what the header's shape and dtype need
    held_bytes: int  # what the archive says the member holds after its header


def load(module: Module, path: str | os.PathLike[str], strict: bool = True) -> Module:
    """Load parameters saved by :func:`save` into ``module`` and return it.

    Raises ``FileNotFoundError`` if ``path`` does not exist, ``ValueError`` if it is
    not a readable ``.npz`` file (also when there is not enough memory to read it),
    and the errors of ``load_state_dict``, checked from the members' headers before
    any data is read (the module is unchanged when any of them is raised).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"nn.load: no file at '{path}' (write one with nn.save)")
    try:
        with zipfile.ZipFile(path) as archive:
            members = _members(archive)
            module._check_state_layout(members, strict)
            for name, member in members.items():
                if member.held_bytes != member.data_bytes:
                    raise ValueError(
                        f"member {name!r} declares shape {member.shape} {member.dtype} "
                        f"({member.data_bytes} data bytes) but holds {member.held_bytes}"
                    )
            state = {}
            for name, member in members.items():
                with archive.open(member.info) as file:
                    state[name] = np.lib.format.read_array(file, allow_pickle=False)
    except MemoryError as exc:
        raise ValueError(f"nn.load: not enough memory to read '{path}': {exc}") from exc
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, zlib.error) as exc:
        if isinstance(exc, zipfile.BadZipFile) and _is_npy(path):
            exc = ValueError("it holds a single array, not an .npz archive of named arrays")
        elif isinstance(exc, ValueError) and str(exc).startswith("load_state_dict:"):
            raise  # the module does not fit the file: that error says so
        raise ValueError(
            f"nn.load: '{path}' is not a valid .npz state file (corrupt, truncated or "
            f"not written by nn.save): {exc}"
        ) from exc
    module.load_state_dict(state, strict=strict)
    return module


def _members(archive: zipfile.ZipFile) -> dict[str, _Member]:
    """Every member's name, shape, dtype and sizes, from its ``.npy`` header and the
    archive's directory (no data is read)."""
    members: dict[str, _Member] = {}
    for info in archive.infolist():
        if not info.filename.endswith(".npy"):
            raise ValueError(f"member {info.filename!r} is not an .npy array")
        name = info.filename[: -len(".npy")]
        if name in members:
            raise ValueError(f"the archive holds two members named {name!r}")
        with archive.open(info) as file:
            version = np.lib.format.read_magic(file)
            if version not in _NPY_HEADER_READERS:
                raise ValueError(f"member {name!r} has unsupported .npy version {version}")
            shape, _, dtype = _NPY_HEADER_READERS[version](file)
            header_size = file.tell()
        if dtype.hasobject:
            raise ValueError(f"member {name!r} holds object arrays (pickles), which are refused")
        held = info.file_size - header_size
        members[name] = _Member(info, shape, dtype, math.prod(shape) * dtype.itemsize, held)
    return members


def _is_npy(path: Path) -> bool:
    with open(path, "rb") as file:
        return file.read(6) == b"\x93NUMPY"
