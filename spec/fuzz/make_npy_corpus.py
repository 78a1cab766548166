#!/usr/bin/python3
"""Generates the seed corpora of the .npy and .eqx fuzz targets.

Run with Debian's NumPy (not a pyenv python):

    /usr/bin/python3 spec/fuzz/make_npy_corpus.py

Outputs (deterministic: re-running gives byte-identical files; commit all):
  spec/fuzz/corpus/npy/<name>.npy   one record each, for fuzz_npy: what
                                    numpy.save writes for every lunox dtype
                                    (and format 2.0/3.0, fortran order,
                                    big-endian), plus records lunox must
                                    refuse (object, structured, unsupported
                                    dtypes, odd shapes)
  spec/fuzz/corpus/eqx/<name>-m<M>  for fuzz_eqx: a mode byte M, then a
                                    stream of records as Equinox's
                                    tree_serialise_leaves writes them (see
                                    fuzz_eqx.c for what M selects)

bfloat16 is saved by JAX with the descr '<V2' (ml_dtypes' bfloat16); NumPy
alone lacks the type, so that header is written with NumPy's own
np.lib.format header writer and the descr given by hand.
"""

import io
import os
import shutil

import numpy as np
from numpy.lib import format as npformat

HERE = os.path.dirname(os.path.abspath(__file__))
NPY_DIR = os.path.join(HERE, "corpus", "npy")
EQX_DIR = os.path.join(HERE, "corpus", "eqx")


def save(arr, version=None):
    """The bytes numpy.save (or write_array with a version) writes."""
    f = io.BytesIO()
    if version is None:
        np.save(f, arr, allow_pickle=False)
    else:
        npformat.write_array(f, arr, version=version, allow_pickle=False)
    return f.getvalue()


def header(descr, shape, fortran_order=False):
    """numpy.save's header for a descr NumPy may not know."""
    f = io.BytesIO()
    npformat.write_array_header_1_0(
        f, {"descr": descr, "fortran_order": fortran_order, "shape": shape})
    return f.getvalue()


def raw_record(dict_text, data=b"", version=1):
    """A record with a hand-written header dict (padded like numpy.save)."""
    text = dict_text.encode("utf-8")
    prefix = 10 if version == 1 else 12
    hlen = len(text) + 1
    hlen += (64 - (prefix + hlen) % 64) % 64
    size = hlen.to_bytes(2 if version == 1 else 4, "little")
    return (b"\x93NUMPY" + bytes([version, 0]) + size + text
            + b" " * (hlen - len(text) - 1) + b"\n" + data)


def bfloat16_bits(values):
    """bfloat16 bits of float32 values that bfloat16 holds exactly."""
    return (np.asarray(values, dtype="<f4").view("<u4") >> 16).astype("<u2").tobytes()


def npy_seeds():
    seeds = {}
    ar = np.arange(12)
    seeds["f32_3"] = save(np.array([1.0, -2.5, 3.25], dtype="<f4"))
    seeds["f32_0d"] = save(np.array(0.5, dtype="<f4"))
    seeds["f64_2x3"] = save(ar[:6].reshape(2, 3).astype("<f8") / 4)
    seeds["f16_4"] = save(np.array([0, 1, -2, 65504], dtype="<f2"))
    seeds["i32_2x2x3"] = save(ar.reshape(2, 2, 3).astype("<i4") - 5)
    seeds["i64_0d"] = save(np.array(-7, dtype="<i8"))
    seeds["u8_5"] = save(np.array([0, 1, 127, 128, 255], dtype="|u1"))
    seeds["u32_3"] = save(np.array([0, 1, 4294967295], dtype="<u4"))
    seeds["bool_4"] = save(np.array([True, False, True, True]))
    seeds["bf16_3"] = header("<V2", (3,)) + bfloat16_bits([1.0, -2.0, 0.5])
    seeds["f32_empty"] = save(np.zeros((2, 0, 3), dtype="<f4"))
    seeds["f32_1x1x1x1"] = save(np.ones((1, 1, 1, 1), dtype="<f4"))
    seeds["f32_fortran"] = save(np.asfortranarray(ar[:6].reshape(2, 3).astype("<f4")))
    seeds["i64_fortran_3d"] = save(np.asfortranarray(ar[:8].reshape(2, 2, 2).astype("<i8")))
    seeds["f32_bigendian"] = save(np.array([1.0, 2.0], dtype=">f4"))
    seeds["i32_bigendian_fortran"] = save(np.asfortranarray(ar[:4].reshape(2, 2).astype(">i4")))
    seeds["f64_v2"] = save(np.array([1.5, 2.5], dtype="<f8"), version=(2, 0))
    seeds["i32_v3"] = save(np.array([3, 4], dtype="<i4"), version=(3, 0))
    # Spellings NumPy reads that numpy.save does not write.
    seeds["dquote_reordered"] = raw_record(
        '{"shape": (2,), "fortran_order": False, "descr": "<f4"}',
        np.array([1, 2], dtype="<f4").tobytes())
    seeds["native_order"] = raw_record(
        "{'descr': '=i8', 'fortran_order': False, 'shape': (1,), }",
        np.array([9], dtype="<i8").tobytes())
    seeds["bool_bytes"] = raw_record(
        "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", b"\x00\x02\xff")
    # Refused: object (pickle), structured, unsupported, bad shapes.
    f = io.BytesIO()
    np.save(f, np.array([1, "a"], dtype=object), allow_pickle=True)
    seeds["refused_object"] = f.getvalue()
    seeds["refused_structured"] = save(np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))
    seeds["refused_i16"] = save(np.array([1, 2], dtype="<i2"))
    seeds["refused_c64"] = save(np.array([1j], dtype="<c8"))
    seeds["refused_int_shape"] = raw_record(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3), }", b"\0" * 12)
    seeds["refused_negative"] = raw_record(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }")
    seeds["refused_huge"] = raw_record(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }")
    seeds["lying_length"] = raw_record(
        "{'descr': '|u1', 'fortran_order': False, 'shape': (1099511627776,), }", b"0123456789")
    return seeds


def eqx_streams():
    """Leaves of small models, as tree_serialise_leaves writes them."""
    rng = np.random.default_rng(0)
    mlp = b"".join([
        save(rng.standard_normal((4, 3)).astype("<f4")),
        save(rng.standard_normal(4).astype("<f4")),
        save(rng.standard_normal((2, 4)).astype("<f4")),
        save(rng.standard_normal(2).astype("<f4")),
    ])
    # Python scalars (int, float, bool) are saved as 0-d arrays.
    scalars = save(np.asarray(3)) + save(np.asarray(0.1)) + save(np.asarray(True))
    mixed = b"".join([
        header("<V2", (2, 2)) + bfloat16_bits([1, 2, 3, 4]),
        save(np.arange(5, dtype="<i8")),
        save(np.zeros((0,), dtype="<f4")),
        save(np.array([1, 0, 1], dtype="|b1")),
        save(np.arange(6, dtype="|u1").reshape(3, 2)),
        save(np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3))),
        save(np.array([7, 8], dtype=">u4")),
    ])
    return {
        "mlp": mlp,
        "scalars": scalars,
        "mixed": mixed,
        "mlp_truncated": mlp[:-5],
        "mlp_trailing_junk": mlp + b"PK\x03\x04",
        "empty": b"",
    }


def write(directory, name, data):
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def main():
    for d in (NPY_DIR, EQX_DIR):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    for name, data in sorted(npy_seeds().items()):
        write(NPY_DIR, name + ".npy", data)
    # Mode bytes: 0 known length; 1 unknown length; 2 skip data; 7 unknown
    # length and 38-byte reads.
    for name, data in sorted(eqx_streams().items()):
        for mode in (0, 1, 2, 7):
            write(EQX_DIR, "%s-m%d" % (name, mode), bytes([mode]) + data)


if __name__ == "__main__":
    main()
