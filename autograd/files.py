"""Files written whole or not at all: a temporary file in the target's folder, then
``os.replace`` over the target, so a crash never leaves half a file. Imports nothing
from the package (graph pictures and exported ONNX models use it).
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path


def _new_file_mode() -> int:
    """Permissions an ordinary new file gets (``0o666`` minus the umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


#: mkstemp creates private (0o600) files; pictures get the usual permissions instead.
NEW_FILE_MODE = _new_file_mode()


def check_folder(path: Path) -> None:
    """Raise ``FileNotFoundError`` naming ``path`` if its folder does not exist."""
    if not path.parent.is_dir():
        raise FileNotFoundError(
            errno.ENOENT,
            f"cannot write {str(path)!r}: its folder {str(path.parent)!r} does not exist "
            f"(create it first)",
            str(path),
        )


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    check_folder(path)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temp, NEW_FILE_MODE)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise
