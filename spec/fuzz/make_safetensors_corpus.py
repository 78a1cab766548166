#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_safetensors into spec/fuzz/corpus/safetensors/.

Standard library only (the `safetensors` package is not needed): files are
built the way the reference writer builds them -- an 8-byte little-endian
header length, the JSON header padded with spaces to a multiple of 8, then
the data section -- plus files that break one rule each, so the fuzzer
starts next to every check. Run from anywhere:

    python3 spec/fuzz/make_safetensors_corpus.py

The output is deterministic and committed.
"""
import json
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "safetensors")

SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2,
         "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}


def nbytes(dtype, shape):
    n = SIZES[dtype]
    for d in shape:
        n *= d
    return n


def header_bytes(header, pad=True):
    text = header if isinstance(header, (bytes, bytearray)) else \
        json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    if pad:
        text += b" " * (-(8 + len(text)) % 8)
    return text


def raw(header, data=b"", pad=True, length=None):
    """A file from a header (dict or raw bytes) and data bytes; `length`
    overrides the length field."""
    text = header_bytes(header, pad)
    n = len(text) if length is None else length
    return struct.pack("<Q", n) + text + data


def model(tensors, metadata=None):
    """A valid file: tensors is a list of (name, dtype, shape), laid out
    contiguously in the given order."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    data = bytearray()
    for name, dtype, shape in tensors:
        size = nbytes(dtype, shape)
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + size]}
        data += bytes((offset + i) % 251 for i in range(size))
        offset += size
    return raw(header, bytes(data))


def tensor(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def main():
    files = {}
    # Valid files.
    files["empty"] = raw({})
    files["one_f32"] = model([("weight", "F32", (2, 3))])
    files["mlp"] = model([("layers.0.weight", "F32", (4, 3)), ("layers.0.bias", "F32", (4,)),
                          ("layers.1.weight", "BF16", (2, 4)), ("layers.1.bias", "BF16", (2,))],
                         metadata={"format": "pt", "epochs": "3"})
    files["all_dtypes"] = model([("t_" + d.lower(), d, (3,)) for d in SIZES])
    files["scalar_and_zero"] = model([("step", "I64", ()), ("empty", "F32", (0, 5)),
                                      ("x", "U8", (1,)), ("tail", "F64", (0,))])
    files["unsorted_text_order"] = raw({"b": tensor("U8", [2], 2, 4), "a": tensor("U8", [2], 0, 2)},
                                       bytes(4))
    files["metadata_only"] = raw({"__metadata__": {"k": "v", "nul": "a\u0000b"}})
    files["unpadded"] = raw({"w": tensor("I32", [1], 0, 4)}, bytes(4), pad=False)
    files["leading_space"] = raw(b'  {"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"\x01")
    files["unicode_name"] = model([("caf\u00e9.\U0001f600", "F16", (2,))])
    files["max_dims"] = model([("t", "U8", (1,) * 32)])
    # Length field.
    files["short_file"] = b"\x10\x00\x00"
    files["length_too_big"] = struct.pack("<Q", 100_000_001) + b"{}"
    files["length_huge"] = b"\xff" * 8 + b"{}"
    files["length_past_end"] = raw({}, length=64)
    files["length_zero"] = struct.pack("<Q", 0)
    # Header shape.
    files["header_list"] = raw(b"[]")
    files["header_garbage"] = raw(b"\x89PNG\r\n\x1a\n")
    files["header_blank"] = raw(b"        ", pad=False)
    files["header_bad_json"] = raw(b'{"a":1,}')
    files["header_nul_padding"] = raw(b"{}\x00\x00\x00\x00\x00\x00", pad=False)
    files["header_bad_utf8"] = raw(b'{"\xff":{}}')
    files["header_truncated_json"] = raw(b'{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}', b"\x01")
    # Tensor entries.
    files["unknown_dtype"] = raw({"w": tensor("F128", [1], 0, 16)}, bytes(16))
    files["dtype_not_string"] = raw({"w": tensor(4, [1], 0, 4)}, bytes(4))
    files["shape_negative"] = raw({"w": tensor("F32", [2, -3], 0, 24)}, bytes(24))
    files["shape_float"] = raw(b'{"w":{"dtype":"F32","shape":[2.0,3],"data_offsets":[0,24]}}', bytes(24))
    files["shape_too_big"] = raw(b'{"w":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}}', bytes(4))
    files["shape_33_dims"] = raw({"t": tensor("U8", [1] * 33, 0, 1)}, b"\x01")
    files["offsets_three"] = raw({"w": tensor("U8", [2], 0, 1) | {"data_offsets": [0, 1, 2]}}, bytes(2))
    files["offsets_reversed"] = raw({"w": tensor("U8", [0], 4, 2)}, bytes(4))
    files["offsets_negative"] = raw({"w": tensor("U8", [2], -1, 1)}, bytes(2))
    files["size_mismatch"] = raw({"layers.1.weight": tensor("F32", [2, 3], 0, 20)}, bytes(20))
    files["size_overflow"] = raw({"w": tensor("F32", [4611686018427387904], 0, 0)})
    files["size_overflow_2d"] = raw({"w": tensor("U8", [4294967296, 4294967296], 0, 0)})
    files["extra_key"] = raw({"w": tensor("U8", [1], 0, 1) | {"extra": 1}}, b"\x01")
    files["missing_shape"] = raw({"w": {"dtype": "U8", "data_offsets": [0, 1]}}, b"\x01")
    files["tensor_not_object"] = raw({"w": [1]})
    files["nul_in_name"] = raw({"a\u0000b": tensor("U8", [1], 0, 1)}, b"\x01")
    files["duplicate_name"] = raw(b'{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
                                  b'"w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', bytes(2))
    # Metadata.
    files["metadata_list"] = raw({"__metadata__": ["a"]})
    files["metadata_number"] = raw({"__metadata__": {"a": "x", "epochs": 3}})
    files["metadata_as_tensor"] = raw({"__metadata__": tensor("U8", [1], 0, 1)}, b"\x01")
    # Layout.
    files["first_not_at_zero"] = raw({"a": tensor("U8", [4], 2, 6)}, bytes(6))
    files["gap"] = raw({"a": tensor("U8", [4], 0, 4), "b": tensor("U8", [2], 6, 8)}, bytes(8))
    files["overlap"] = raw({"b": tensor("U8", [4], 2, 6), "a": tensor("U8", [4], 0, 4)}, bytes(6))
    files["zero_inside"] = raw({"a": tensor("U8", [4], 0, 4), "z": tensor("U8", [0], 2, 2)}, bytes(4))
    files["same_range"] = raw({"a": tensor("U8", [4], 0, 4), "b": tensor("U8", [4], 0, 4)}, bytes(4))
    files["trailing_bytes"] = raw({"a": tensor("U8", [4], 0, 4)}, bytes(7))
    files["no_tensors_trailing"] = raw({}, bytes(5))
    files["data_too_short"] = raw({"a": tensor("U8", [4], 0, 4)}, bytes(3))

    os.makedirs(OUT, exist_ok=True)
    for name, data in sorted(files.items()):
        with open(os.path.join(OUT, name + ".safetensors"), "wb") as f:
            f.write(data)
    print(f"wrote {len(files)} files to {OUT}")


if __name__ == "__main__":
    main()
