"""``nn.save`` / ``nn.load``: a module's ``state_dict`` as an ``.npz`` file, written atomically.

``save`` writes to a temporary file in the destination folder, flushes and
``fsync``s it, then renames it over ``path`` with ``os.replace`` (atomic on POSIX
and Windows). A crash or error mid-write therefore leaves either the old file or
the complete new one at ``path``, never a truncated file, and the temporary file
is removed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .module import Module


def save(module: Module, path: str | os.PathLike[str]) -> None:
    """Write ``module.state_dict()`` to ``path`` as ``.npz`` (one array per parameter path)."""
    if not isinstance(module, Module):
        raise TypeError(f"nn.save: expected an nn.Module, got {type(module).__name__}")
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"nn.save: folder '{folder}' does not exist; create it first")
    state = module.state_dict()
    tmp = tempfile.NamedTemporaryFile(
        dir=folder, prefix=f".{path.name}.", suffix=".tmp", delete=False
    )
    try:
        with tmp:
            np.savez(tmp, **state)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp.name)
        raise
    _fsync_folder(folder)


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


def load(module: Module, path: str | os.PathLike[str], strict: bool = True) -> Module:
    """Load parameters saved by :func:`save` into ``module`` and return it.

    Raises ``FileNotFoundError`` if ``path`` does not exist, ``ValueError`` if it is
    not a readable ``.npz`` file, and the errors of ``load_state_dict`` (the module
    is unchanged when any of them is raised).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"nn.load: no file at '{path}' (write one with nn.save)")
    state: dict[str, Any] = {}
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array, not an .npz archive of named arrays")
        with archive:
            for key in archive.files:
                state[key] = archive[key]
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ValueError(
            f"nn.load: '{path}' is not a valid .npz state file (corrupt, truncated or "
            f"not written by nn.save): {exc}"
        ) from exc
    module.load_state_dict(state, strict=strict)
    return module
