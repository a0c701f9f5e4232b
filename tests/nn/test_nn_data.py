"""DataLoader, the synthetic datasets, the shipped digits and the MNIST IDX reader."""

# ruff: noqa: N803, N806 - the notes' matrix names (X, W1, dW1) are kept

import gzip
import struct
import tracemalloc
from collections import namedtuple

import numpy as np
import pytest

import autograd as ag
from nn import data


# ---------------------------------------------------------------------- DataLoader
def test_loader_batches_in_order_with_a_smaller_last_batch():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    loader = data.DataLoader(X, y, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    assert all(isinstance(xb, ag.Tensor) and isinstance(yb, ag.Tensor) for xb, yb in batches)
    assert [yb.tolist() for _, yb in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    np.testing.assert_array_equal(batches[2][0].numpy(), X[8:])


def test_loader_drop_last_and_no_labels():
    loader = data.DataLoader(np.zeros((10, 3)), batch_size=4, drop_last=True)
    batches = list(loader)
    assert len(loader) == 2 and [xb.shape for xb, _ in batches] == [(4, 3), (4, 3)]
    assert all(yb is None for _, yb in batches)
    assert len(data.DataLoader(np.zeros((8, 1)), batch_size=4, drop_last=True)) == 2


def test_loader_shuffles_reproducibly_and_reshuffles_each_epoch():
    X, y = np.arange(12.0)[:, None], np.arange(12)

    def epochs(seed, n=2):
        loader = data.DataLoader(X, y, batch_size=5, shuffle=True, rng=seed)
        return [np.concatenate([yb.numpy() for _, yb in loader]) for _ in range(n)]

    first, second = epochs(0)
    assert sorted(first) == list(range(12)) and sorted(second) == list(range(12))
    assert not np.array_equal(first, second) and not np.array_equal(first, np.arange(12))
    np.testing.assert_array_equal(epochs(0)[0], first)
    loader = data.DataLoader(X, y, batch_size=5, shuffle=True, rng=1)
    for xb, yb in loader:  # rows stay paired with their labels
        np.testing.assert_array_equal(xb.numpy()[:, 0], yb.numpy())


def test_loader_validation():
    with pytest.raises(ValueError, match="the tensors hold 3 and 2 examples"):
        data.DataLoader(np.zeros((3, 1)), np.zeros(2))
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        data.DataLoader(np.zeros((3, 1)), batch_size=0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: data.DataLoader(np.zeros((3, 1)), batch_size=True),
        lambda: data.make_xor(n=True),
        lambda: data.make_spiral(n=30, k=True),
    ],
)
def test_bools_are_not_sizes(call):
    # issue 13: DataLoader(..., batch_size=True) gave batches of one (True == 1)
    with pytest.raises(ValueError, match="got True.*a bool is not a size"):
        call()


# ---------------------------------------------------------------------- datasets
class Pairs(data.Dataset):
    """A torch-style dataset: sample i is (features, label)."""

    def __init__(self, n=10):
        self.X = np.arange(3.0 * n).reshape(n, 3)
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.X[i], i % 2


def test_a_map_style_dataset_is_batched_by_default_collate():
    # issue 17: a torch-style dataset gave numpy's "inhomogeneous shape" error
    loader = data.DataLoader(Pairs(), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    xb, yb = batches[0]
    assert isinstance(xb, ag.Tensor) and xb.shape == (4, 3) and xb.dtype == np.float64
    assert yb.dtype == np.int64 and yb.tolist() == [0, 1, 0, 1]
    np.testing.assert_array_equal(batches[2][0].numpy(), Pairs().X[8:])
    assert [len(b[1]) for b in data.DataLoader(Pairs(), batch_size=4, drop_last=True)] == [4, 4]


def test_only_len_decides_which_samples_are_read():
    # issue 17: a dataset whose __getitem__ never raises IndexError exhausted memory
    class Endless(data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return float(i)

    assert [b.tolist() for b in data.DataLoader(Endless(), batch_size=2)] == [[0, 1], [2, 3], [4]]

    class NoLength(data.Dataset):
        def __getitem__(self, i):
            return float(i)

    with pytest.raises(TypeError, match="NoLength has no __len__.*never probes for the end"):
        data.DataLoader(NoLength())


@pytest.mark.parametrize(
    "obj, message",
    [
        ((x for x in range(3)), "got generator; iterable-style datasets are not supported"),
        (42, "got int"),
        ({"a": 1}, "got dict"),
        ({1, 2}, "got set; iterable-style"),
    ],
)
def test_objects_that_are_neither_arrays_nor_datasets_are_refused(obj, message):
    with pytest.raises(TypeError, match=f"expected arrays \\(X, y\\) or a map-style.*{message}"):
        data.DataLoader(obj)


def test_a_dataset_with_a_positional_batch_size_is_a_clear_error():
    with pytest.raises(TypeError, match="y is for arrays.*did you mean batch_size=32"):
        data.DataLoader(Pairs(), 32)
    with pytest.raises(ValueError, match="collate_fn is for datasets"):
        data.DataLoader(np.zeros((2, 1)), collate_fn=list)


def test_default_collate_keeps_the_structure_of_samples():
    Point = namedtuple("Point", "x label")
    samples = [
        {"image": np.full((2, 2), i, np.float32), "meta": (i, float(i), "name", np.int8(i))}
        for i in range(3)
    ]
    batch = data.default_collate(samples)
    assert batch["image"].shape == (3, 2, 2) and batch["image"].dtype == np.float32
    ints, floats, names, small = batch["meta"]
    assert ints.dtype == np.int64 and floats.dtype == np.float64 and small.dtype == np.int8
    assert names == ["name"] * 3 and ints.tolist() == [0, 1, 2]
    points = data.default_collate([Point(np.ones(2), True), Point(np.zeros(2), False)])
    assert isinstance(points, Point) and points.label.dtype == np.bool_
    lists = data.default_collate([[1, 2.5], [3, 4.5]])
    assert isinstance(lists, list) and lists[1].tolist() == [2.5, 4.5]
    tensors = data.default_collate([ag.ones(2), ag.zeros(2)])
    assert tensors.shape == (2, 2)


@pytest.mark.parametrize(
    "samples, error, message",
    [
        ([np.zeros(2), np.zeros(3)], ValueError, "sample 1 of the batch has shape \\(3,\\)"),
        ([(1, 2), (1,)], ValueError, "sample 1 of the batch has 1 entries"),
        ([{"a": 1}, {"b": 1}], ValueError, "sample 1 of the batch has keys \\['b'\\]"),
        ([None, None], TypeError, "found NoneType. Pass collate_fn"),
        ([np.array(["a"]), np.array(["b"])], TypeError, "dtype <U1"),
    ],
)
def test_default_collate_errors_name_the_sample(samples, error, message):
    with pytest.raises(error, match=message):
        data.default_collate(samples)


def test_collate_fn_receives_the_list_of_samples():
    seen = []
    loader = data.DataLoader(Pairs(5), batch_size=2, collate_fn=lambda b: seen.append(b) or len(b))
    assert list(loader) == [2, 2, 1]
    assert isinstance(seen[0], list) and seen[0][1][1] == 1


def test_tensor_dataset_items_and_whole_batches_agree():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    dataset = data.TensorDataset(X, ag.tensor(y))
    assert len(dataset) == 10
    x3, y3 = dataset[3]
    assert isinstance(x3, ag.Tensor) and x3.tolist() == [6.0, 7.0] and y3.item() == 3
    fast = list(data.DataLoader(dataset, batch_size=4, shuffle=True, rng=0))
    slow = list(
        data.DataLoader(dataset, batch_size=4, shuffle=True, rng=0, collate_fn=data.default_collate)
    )
    for (xa, ya), (xb, yb) in zip(fast, slow):
        np.testing.assert_array_equal(xa.numpy(), xb.numpy())
        np.testing.assert_array_equal(ya.numpy(), yb.numpy())
        assert xa.dtype == xb.dtype and ya.dtype == yb.dtype
    with pytest.raises(ValueError, match="tensor 1 is a scalar"):
        data.TensorDataset(X, 3.0)
    with pytest.raises(ValueError, match="needs at least one tensor"):
        data.TensorDataset()


def test_a_list_of_samples_is_a_dataset_and_shuffling_is_reproducible():
    samples = [(np.array([float(i)]), i) for i in range(7)]

    def epoch(seed):
        return [
            yb.tolist() for _, yb in data.DataLoader(samples, batch_size=3, shuffle=True, rng=seed)
        ]

    assert epoch(0) == epoch(0) and epoch(0) != epoch(1)
    assert sorted(sum(epoch(0), [])) == list(range(7))


def test_batches_match_torch_dataloader():
    torch = pytest.importorskip("torch")

    class TorchPairs(torch.utils.data.Dataset):
        def __init__(self):
            self.inner = Pairs(9)

        def __len__(self):
            return len(self.inner)

        def __getitem__(self, i):
            x, label = self.inner[i]
            return {"x": x, "label": label}

    class DictPairs(Pairs):
        def __getitem__(self, i):
            x, label = super().__getitem__(i)
            return {"x": x, "label": label}

    ours = list(data.DataLoader(DictPairs(9), batch_size=4))
    theirs = list(torch.utils.data.DataLoader(TorchPairs(), batch_size=4))
    assert len(ours) == len(theirs) == 3
    for a, b in zip(ours, theirs):
        assert set(a) == set(b)
        for key in a:
            np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())
            assert a[key].dtype == np.dtype(str(b[key].dtype).replace("torch.", ""))


# ---------------------------------------------------------------------- synthetic data
@pytest.mark.parametrize(
    "make, n, classes",
    [
        (lambda rng: data.make_xor(rng=rng), 200, 2),
        (lambda rng: data.make_circles(rng=rng), 200, 2),
        (lambda rng: data.make_spiral(rng=rng), 300, 3),
        (lambda rng: data.make_spiral(301, k=4, rng=rng), 301, 4),
    ],
)
def test_datasets_types_sizes_balance_and_seeds(make, n, classes):
    X, y = make(0)
    assert X.shape == (n, 2) and X.dtype == np.float64 and y.dtype == np.int64
    counts = np.bincount(y)
    assert len(counts) == classes and counts.max() - counts.min() <= 1
    X2, y2 = make(0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(make(1)[0], X)
    assert y[: n // 2].std() > 0  # shuffled, not sorted by class


def test_xor_labels_follow_the_quadrant():
    X, y = data.make_xor(400, noise=0.1, rng=0)
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(int))


def test_circles_radii_and_spiral_geometry():
    X, y = data.make_circles(100, noise=0.0, factor=0.3, rng=0)
    radii = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radii[y == 0], 1.0)
    np.testing.assert_allclose(radii[y == 1], 0.3)
    X, y = data.make_spiral(90, k=3, noise=0.0, rng=0)
    r = np.hypot(X[:, 0], X[:, 1])
    angle = np.arctan2(X[:, 0], X[:, 1])  # x = r (sin t, cos t)
    expected = np.angle(np.exp(1j * (2 * np.pi * y / 3 + 4 * r)))
    np.testing.assert_allclose(np.exp(1j * angle[r > 0]), np.exp(1j * expected[r > 0]))
    assert r.max() == pytest.approx(1.0)


def test_dataset_argument_errors():
    with pytest.raises(ValueError, match=r"factor must be in \(0, 1\)"):
        data.make_circles(factor=1.5)
    with pytest.raises(ValueError, match="k .* must be an int >= 2"):
        data.make_spiral(k=1)
    with pytest.raises(ValueError, match="n must be a positive int, got 0"):
        data.make_xor(0)


# ---------------------------------------------------------------------- digits
def test_load_digits_offline():
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16 and np.all(X == np.round(X))
    np.testing.assert_array_equal(
        np.bincount(y), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    )
    # the first image is a zero: a ring of ink with an empty centre
    first = X[0].reshape(8, 8)
    assert y[0] == 0 and first[3:5, 3:5].sum() == 0 and first[3:5, 1].min() > 0
    X[0, 0] = 99  # callers get their own copy
    assert data.load_digits()[0][0, 0] == 0


# ---------------------------------------------------------------------- MNIST / IDX
def idx_images(images):
    n, rows, cols = images.shape
    return struct.pack(">IIII", 2051, n, rows, cols) + images.astype(np.uint8).tobytes()


def idx_labels(labels):
    return struct.pack(">II", 2049, len(labels)) + np.asarray(labels, np.uint8).tobytes()


def write(folder, name, payload, gz=False):
    path = folder / (name + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def sample(n=3):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, 28, 28)), rng.integers(0, 10, n)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("kind, prefix", [("train", "train"), ("test", "t10k")])
def test_load_mnist_reads_idx_files(tmp_path, gz, kind, prefix):
    images, labels = sample()
    write(tmp_path, f"{prefix}-images-idx3-ubyte", idx_images(images), gz)
    write(tmp_path, f"{prefix}-labels-idx1-ubyte", idx_labels(labels), gz)
    X, y = data.load_mnist(tmp_path, kind=kind)
    assert X.shape == (3, 784) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(X, images.reshape(3, 784) / 255, rtol=1e-6)
    assert X.min() >= 0 and X.max() <= 1
    np.testing.assert_array_equal(y, labels)


def test_load_mnist_accepts_dotted_names(tmp_path):
    images, labels = sample(2)
    write(tmp_path, "train-images.idx3-ubyte", idx_images(images))
    write(tmp_path, "train-labels.idx1-ubyte", idx_labels(labels))
    assert data.load_mnist(str(tmp_path))[0].shape == (2, 784)


def test_missing_folder_and_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="folder '.*nowhere' does not exist"):
        data.load_mnist(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="no images file.*train-images-idx3-ubyte.gz"):
        data.load_mnist(tmp_path)
    images, _ = sample()
    write(tmp_path, "t10k-images-idx3-ubyte", idx_images(images))
    with pytest.raises(FileNotFoundError, match="no labels file.*t10k-labels-idx1-ubyte"):
        data.load_mnist(tmp_path, kind="test")
    with pytest.raises(ValueError, match="kind must be 'train' or 'test'"):
        data.load_mnist(tmp_path, kind="val")


def good_folder(tmp_path, gz=False):
    images, labels = sample()
    write(tmp_path, "train-images-idx3-ubyte", idx_images(images), gz)
    write(tmp_path, "train-labels-idx1-ubyte", idx_labels(labels), gz)
    return tmp_path


def test_truncated_file_names_file_and_byte_counts(tmp_path):
    good_folder(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    expected = 16 + 3 * 784
    match = rf"train-images-idx3-ubyte' is truncated.*needs {expected} bytes.*has {expected - 100}"
    with pytest.raises(ValueError, match=match):
        data.load_mnist(tmp_path)
    path.write_bytes(b"\x00\x00\x08")
    with pytest.raises(ValueError, match="truncated: expected a 16-byte header, got 3 bytes"):
        data.load_mnist(tmp_path)


def test_extra_bytes_are_reported(tmp_path):
    good_folder(tmp_path)
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes() + b"\x01")
    with pytest.raises(ValueError, match="longer than its header says.*needs 11 bytes.*has 12"):
        data.load_mnist(tmp_path)


def test_wrong_magic_number(tmp_path):
    good_folder(tmp_path)
    images = tmp_path / "train-images-idx3-ubyte"
    labels = tmp_path / "train-labels-idx1-ubyte"
    images.write_bytes(labels.read_bytes())  # a labels file where images belong
    with pytest.raises(ValueError, match="magic number 2049, expected 2051"):
        data.load_mnist(tmp_path)


@pytest.mark.parametrize("damage", ["cut", "garbage"])
def test_corrupt_gzip(tmp_path, damage):
    good_folder(tmp_path, gz=True)
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2] if damage == "cut" else b"not a gzip stream at all")
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz' is not a valid gzip file"):
        data.load_mnist(tmp_path)


def test_read_idx_of_a_missing_plain_file_is_file_not_found_not_a_gzip_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        data.read_idx(tmp_path / "train-images-idx3-ubyte", "images")


def test_count_mismatch(tmp_path):
    images, labels = sample(3)
    write(tmp_path, "train-images-idx3-ubyte", idx_images(images))
    write(tmp_path, "train-labels-idx1-ubyte", idx_labels(labels[:2]))
    with pytest.raises(ValueError, match="holds 3 images but .* holds 2 labels"):
        data.load_mnist(tmp_path)


# ---------------------------------------------------------------- hostile IDX files (issue 13)
def traced_peak(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_gzip_with_trailing_garbage_is_refused_after_the_declared_size(tmp_path):
    # issue 13 item 14: the whole gunzipped stream was read before the header was checked
    images, labels = sample()
    write(tmp_path, "train-labels-idx1-ubyte", idx_labels(labels), gz=True)
    with gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "wb", compresslevel=1) as f:
        f.write(idx_images(images))
        zeros = bytes(2**20)
        for _ in range(64):  # 64 MiB of garbage after the three images
            f.write(zeros)

    def load():
        with pytest.raises(ValueError, match="images-idx3-ubyte.gz' is longer than its header"):
            data.load_mnist(tmp_path)

    assert traced_peak(load) < 16e6


@pytest.mark.parametrize("gz", [False, True])
def test_a_header_claiming_a_billion_images_reads_only_what_is_there(tmp_path, gz):
    good_folder(tmp_path)
    payload = struct.pack(">IIII", 2051, 10**9, 28, 28) + bytes(100)
    write(tmp_path, "train-images-idx3-ubyte", payload, gz)
    if gz:
        (tmp_path / "train-images-idx3-ubyte").unlink()

    def load():
        with pytest.raises(ValueError, match=r"is truncated: the header \(1000000000, 28, 28\)"):
            data.load_mnist(tmp_path)

    assert traced_peak(load) < 16e6


@pytest.mark.parametrize("gz", [False, True])
def test_an_idx_file_with_no_items_loads_as_empty_arrays(tmp_path, gz):
    write(tmp_path, "t10k-images-idx3-ubyte", idx_images(np.zeros((0, 28, 28))), gz)
    write(tmp_path, "t10k-labels-idx1-ubyte", idx_labels([]), gz)
    X, y = data.load_mnist(tmp_path, kind="test")
    assert X.shape == (0, 784) and X.dtype == np.float32
    assert y.shape == (0,) and y.dtype == np.int64
