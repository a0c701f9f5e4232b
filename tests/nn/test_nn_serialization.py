"""nn.save / nn.load: round trips, atomic writes, clear errors, untouched modules on failure."""

import io
import os
import stat
import subprocess
import sys
import tracemalloc
import zipfile

import numpy as np
import pytest

import nn
from nn import serialization


def model(seed):
    return nn.MLP([3, 5, 2], rng=seed)


def params_of(module):
    return {k: v.copy() for k, v in module.state_dict().items()}


def assert_params(module, expected):
    got = module.state_dict()
    assert list(got) == list(expected)
    for k, v in expected.items():
        np.testing.assert_array_equal(got[k], v)


def test_round_trip(tmp_path):
    path = tmp_path / "model.npz"
    src = model(0)
    nn.save(src, path)
    with np.load(path) as archive:
        assert sorted(archive.files) == sorted(src.state_dict())
    dst = model(1)
    assert nn.load(dst, path) is dst
    assert_params(dst, params_of(src))
    assert os.listdir(tmp_path) == ["model.npz"]


def fail_mid_write(exc):
    def savez(file, **arrays):
        file.write(b"PK\x03\x04 partial archive")
        raise exc

    return savez


@pytest.mark.parametrize("exc", [OSError("disk full"), KeyboardInterrupt()])
def test_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch, exc):
    path = tmp_path / "model.npz"
    nn.save(model(0), path)
    old_bytes = path.read_bytes()
    monkeypatch.setattr(serialization.np, "savez", fail_mid_write(exc))
    with pytest.raises(type(exc)):
        nn.save(model(1), path)
    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ["model.npz"]


def test_failed_first_save_creates_no_file(tmp_path, monkeypatch):
    def broken_fsync(fd):
        raise OSError("I/O error")

    monkeypatch.setattr(serialization.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="I/O error"):
        nn.save(model(0), tmp_path / "model.npz")
    assert os.listdir(tmp_path) == []


def test_save_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="folder '.*missing' does not exist"):
        nn.save(model(0), tmp_path / "missing" / "m.npz")
    with pytest.raises(TypeError, match="expected an nn.Module"):
        nn.save({"w": np.zeros(2)}, tmp_path / "m.npz")


@pytest.mark.parametrize(
    "content, error, message",
    [
        (None, FileNotFoundError, "no file at"),
        (b"definitely not a zip archive", ValueError, "not a valid .npz state file"),
        ("truncated", ValueError, "not a valid .npz state file"),
        ("npy", ValueError, "single array, not an .npz archive"),
    ],
)
def test_load_errors_leave_the_module_unchanged(tmp_path, content, error, message):
    path = tmp_path / "model.npz"
    if content == "truncated":
        nn.save(model(0), path)
        path.write_bytes(path.read_bytes()[:-40])
    elif content == "npy":
        with open(path, "wb") as f:
            np.save(f, np.zeros(3))
    elif content is not None:
        path.write_bytes(content)
    target = model(1)
    before = params_of(target)
    with pytest.raises(error, match=message):
        nn.load(target, path)
    assert_params(target, before)


def test_loading_into_a_different_architecture_fails_cleanly(tmp_path):
    path = tmp_path / "model.npz"
    nn.save(nn.MLP([3, 6, 2], rng=0), path)
    target = model(1)
    before = params_of(target)
    with pytest.raises(ValueError, match=r"size mismatch for 'layers.0.weight'"):
        nn.load(target, path)
    assert_params(target, before)


# ---------------------------------------------------------------------- hostile files (issue 13)
def npz_with_header(path, members):
    """An .npz whose members have the given .npy headers and (short) data."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (descr, shape, payload) in members.items():
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                header, {"descr": descr, "fortran_order": False, "shape": shape}
            )
            archive.writestr(name + ".npy", header.getvalue() + payload)


def test_a_member_claiming_2_gib_is_refused_from_its_header(tmp_path):
    # issue 13 item 14: nn.load inflated every member before checking shapes
    path = tmp_path / "hostile.npz"
    target = model(1)
    members = {
        k: ("<f4", v.shape, v.astype("<f4").tobytes()) for k, v in target.state_dict().items()
    }
    members["layers.0.weight"] = ("<f8", (2**28,), b"\0" * 64)  # 2 GiB claimed, 64 bytes held
    npz_with_header(path, members)
    before = params_of(target)
    tracemalloc.start()
    try:
        with pytest.raises(
            ValueError, match=r"size mismatch for 'layers.0.weight'.*\(268435456,\)"
        ):
            nn.load(target, path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10e6
    assert_params(target, before)


def test_a_small_archive_that_inflates_to_64_mib_is_refused_without_inflating(tmp_path):
    path = tmp_path / "bomb.npz"
    header = io.BytesIO()
    shape = (2**23,)  # float64: 64 MiB, deflated to about 64 KB
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("layers.0.weight.npy", "w") as member:
            member.write(header.getvalue())
            zeros = bytes(2**20)
            for _ in range(64):
                member.write(zeros)
    assert path.stat().st_size < 2e6
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"size mismatch for 'layers.0.weight'"):
            nn.load(model(1), path, strict=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10e6


@pytest.mark.parametrize(
    "change, error, message",
    [
        (lambda m: m.pop("layers.2.bias"), KeyError, r"missing keys \['layers.2.bias'\]"),
        (lambda m: m.update(extra=("<f4", (1,), b"\0" * 4)), KeyError,
         r"unexpected keys \['extra'\]"),
        (lambda m: m.update({"layers.2.bias": ("<i8", (2,), b"\0" * 16)}), ValueError,
         "dtype mismatch"),
        (lambda m: m.update({"layers.2.bias": ("<f4", (2,), b"\0" * 3)}), ValueError,
         r"member 'layers.2.bias' declares shape \(2,\) float32 \(8 data bytes\) but holds 3"),
        (lambda m: m.update({"layers.2.bias": ("|O", (2,), b"")}), ValueError, "object arrays"),
    ],
)  # fmt: skip
def test_names_shapes_and_dtypes_are_checked_before_any_data_is_read(
    tmp_path, monkeypatch, change, error, message
):
    path = tmp_path / "m.npz"
    target = model(1)
    members = {
        k: ("<f4", v.shape, v.astype("<f4").tobytes()) for k, v in model(0).state_dict().items()
    }
    change(members)
    npz_with_header(path, members)
    read = []
    monkeypatch.setattr(serialization.np.lib.format, "read_array", lambda *a, **k: read.append(a))
    before = params_of(target)
    with pytest.raises(error, match=message):
        nn.load(target, path)
    assert read == [] and assert_params(target, before) is None


def test_out_of_memory_while_reading_is_the_documented_value_error(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    nn.save(model(0), path)

    def no_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 2.00 GiB")

    monkeypatch.setattr(serialization.np.lib.format, "read_array", no_memory)
    with pytest.raises(ValueError, match="not enough memory to read .*2.00 GiB"):
        nn.load(model(1), path)


# ---------------------------------------------------------------------- how files are written
@pytest.fixture
def umask():
    def set_umask(mask):
        set_umask.masks.append(os.umask(mask))

    set_umask.masks = []
    yield set_umask
    for mask in reversed(set_umask.masks):
        os.umask(mask)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_new_files_get_the_umask_and_existing_files_keep_their_mode(tmp_path, umask):
    # issue 13 item 15: files were written with the temporary file's mode 0600
    umask(0o002)
    path = tmp_path / "model.npz"
    nn.save(model(0), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o664
    os.chmod(path, 0o640)
    nn.save(model(1), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert_params(nn.load(model(2), path), params_of(model(1)))


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_a_symlink_at_the_target_is_followed_and_stays_a_link(tmp_path):
    real_dir = tmp_path / "store"
    real_dir.mkdir()
    link = tmp_path / "latest.npz"
    link.symlink_to(real_dir / "model.npz")  # dangling until the first save
    nn.save(model(0), link)
    assert link.is_symlink() and (real_dir / "model.npz").is_file()
    nn.save(model(1), link)
    assert link.is_symlink() and os.readlink(link) == str(real_dir / "model.npz")
    assert_params(nn.load(model(2), real_dir / "model.npz"), params_of(model(1)))
    assert sorted(os.listdir(real_dir)) == ["model.npz"]


@pytest.mark.skipif(os.name != "posix", reason="process ids")
def test_temporaries_left_by_a_killed_writer_are_removed_by_the_next_save(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead_pid = int(dead.stdout)
    path = tmp_path / "model.npz"
    stale = tmp_path / f".model.npz.{dead_pid}-0a1b2c3d.tmp"
    live = tmp_path / f".model.npz.{os.getppid()}-0a1b2c3d.tmp"  # a writer still running
    other = tmp_path / f".other.npz.{dead_pid}-0a1b2c3d.tmp"  # another target's
    for leftover in (stale, live, other):
        leftover.write_bytes(b"PK\x03\x04 half an archive")
    nn.save(model(0), path)
    assert sorted(os.listdir(tmp_path)) == sorted(["model.npz", live.name, other.name])
