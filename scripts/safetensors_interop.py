#!/usr/bin/env python3
"""Interop between DRLNN's SafeTensors and Python's reference `safetensors` package.

Needs `pip install safetensors numpy` (no torch). Not run by CI: the Swift tests use the fixture
this script writes.

  scripts/safetensors_interop.py make-fixture
      Writes Tests/DRLNNTests/Fixtures/interop.safetensors with safetensors.numpy.save_file.
      CheckpointTests reads it and checks every value bit for bit, and checks that
      SafeTensors.write of the same tensors produces the same bytes.

  scripts/safetensors_interop.py check FILE [FILE.expected.bin]
      Loads FILE (written by SafeTensors.write) with safetensors.numpy.load_file and
      safe_open, prints names, shapes and metadata. If FILE is the Swift writer's copy of the
      fixture tensors, checks them against FIXTURE bit for bit; with an .expected.bin (all
      tensors' float32 values concatenated in file order), checks against that.
"""
import sys
from pathlib import Path

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

FIXTURE = Path(__file__).resolve().parent.parent / "Tests/DRLNNTests/Fixtures/interop.safetensors"
METADATA = {"step": "1200"}


def bits(values):
    return np.array(values, dtype=np.uint32).view(np.float32)


def fixture_tensors():
    # Keep in sync with `interopTensors` in Tests/DRLNNTests/CheckpointTests.swift.
    return {
        "a.b.c": np.arange(6, dtype=np.float32).reshape(2, 1, 3) * np.float32(0.5) - np.float32(1),
        "embedding.weight": bits([
            0x00000000, 0x80000000, 0x7F800000, 0xFF800000,  # 0, -0, inf, -inf
            0x00000001, 0x807FFFFF, 0x7F7FFFFF, 0x00800000,  # denormals, max, min normal
            0x7FC00000, 0x7FC00001, 0xFFC12345, 0x3F800000,  # NaN, NaN payloads, 1
        ]).reshape(3, 4),
        "empty": np.zeros((0,), dtype=np.float32),
        "scalar": np.array(3.25, dtype=np.float32),
        "層.偏り": np.array([1e-3, -7.5e8], dtype=np.float32),
    }


def make_fixture():
    save_file(fixture_tensors(), str(FIXTURE), metadata=METADATA)
    print(f"wrote {FIXTURE} ({FIXTURE.stat().st_size} bytes)")


def same_bits(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a.view(np.uint32), b.view(np.uint32))


def check(path, expected_bin=None):
    loaded = load_file(path)
    with safe_open(path, framework="numpy") as f:
        metadata = f.metadata()
        names = list(f.keys())
    for name in names:
        print(f"  {name!r}: shape {list(loaded[name].shape)} dtype {loaded[name].dtype}")
    print(f"  metadata: {metadata}")
    ok = True
    if expected_bin is not None:
        flat = np.fromfile(expected_bin, dtype=np.float32)
        # safe_open lists names sorted; data order is by offset, which for SafeTensors.write is the order written.
        header_order = sorted(names, key=lambda n: _offsets(path)[n])
        got = np.concatenate([loaded[n].reshape(-1) for n in header_order]) if names else flat[:0]
        ok = same_bits(got, flat)
        print(f"  {flat.size} values vs {expected_bin}: {'bit-identical' if ok else 'DIFFERENT'}")
    elif set(names) == set(fixture_tensors()):
        for name, want in fixture_tensors().items():
            if not same_bits(loaded[name], want):
                print(f"  {name!r} differs: {loaded[name]!r} vs {want!r}")
                ok = False
        ok = ok and metadata == METADATA
        print(f"  fixture tensors and metadata: {'bit-identical' if ok else 'DIFFERENT'}")
    return ok


def _offsets(path):
    import json
    import struct
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    return {k: tuple(v["data_offsets"]) for k, v in header.items() if k != "__metadata__"}


if __name__ == "__main__":
    if sys.argv[1:] == ["make-fixture"]:
        make_fixture()
    elif len(sys.argv) in (3, 4) and sys.argv[1] == "check":
        sys.exit(0 if check(sys.argv[2], sys.argv[3] if len(sys.argv) == 4 else None) else 1)
    else:
        print(__doc__)
        sys.exit(2)
