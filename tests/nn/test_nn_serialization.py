"""nn.save / nn.load: round trips, atomic writes, clear errors, untouched modules on failure."""

import os

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
