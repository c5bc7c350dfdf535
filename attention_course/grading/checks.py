"""The verdict, decided outside the student's process: recorded values against the solution's.

A hidden test never decides whether it passed. It calls `check(name, value, message, atol=...,
rtol=...)` (defined by `runner.py`), which records the student's value as plain data: a tensor
becomes its dtype, shape and bytes. The instructor's solution notebook runs through the same
sandbox first and records its own values on the same inputs; those are the reference. Here, in
the grader's process, every reference record of a test is looked up among the student's
records of that test and compared:

- tensors and arrays: same dtype, same shape, values within `atol + rtol * |reference|`
  (NaN equals NaN); integer and boolean tensors exactly;
- Python floats within the same tolerance; ints, bools, strings and None exactly (a bool is
  not an int); lists, tuples and dicts item by item.

Tolerances and messages are the *reference's*: nothing the student's code sends can loosen a
check or change what the feedback says. A test passes when its cell raised nothing and every
reference record is matched by every student record of the same name (a missing record fails).
"""
from __future__ import annotations

import base64
import math
from typing import Optional

import numpy as np

_DTYPES = {
    "torch.float16": np.float16, "torch.float32": np.float32, "torch.float64": np.float64,
    "torch.bfloat16": np.float32,
    "torch.int8": np.int8, "torch.int16": np.int16, "torch.int32": np.int32, "torch.int64": np.int64,
    "torch.uint8": np.uint8, "torch.bool": np.bool_,
}
_DTYPES.update({f"numpy.{np.dtype(t).name}": t for t in
                (np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_)})


class BadRecord(ValueError):
    """A record that does not decode (forged, truncated or of an unsupported type)."""


def decode_array(value: dict) -> np.ndarray:
    dtype = _DTYPES.get(value.get("dtype"))
    if dtype is None:
        raise BadRecord(f"unsupported dtype {value.get('dtype')!r}")
    shape = value.get("shape")
    if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape) or len(shape) > 16:
        raise BadRecord("bad shape")
    raw = base64.b64decode(str(value.get("data", "")), validate=True)
    count = math.prod(shape)
    if count * np.dtype(dtype).itemsize != len(raw):
        raise BadRecord("data does not match the shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape)


def describe(value: dict) -> str:
    kind = value.get("kind") if isinstance(value, dict) else None
    if kind == "array":
        return f"{value.get('dtype')} of shape {tuple(value.get('shape') or ())}"
    if kind == "unsupported":
        return f"a value of type {str(value.get('type'))[:60]}"
    return {"none": "None", "bool": "a bool", "int": "an int", "float": "a float", "str": "a string",
            "list": "a list", "tuple": "a tuple", "dict": "a dict"}.get(kind, "an unreadable value")


def compare(reference: dict, got: dict, atol: float, rtol: float, depth: int = 0) -> Optional[str]:
    """None when `got` matches `reference`; else a short, safe description of the difference."""
    if depth > 8:
        return "nested too deeply"
    if not isinstance(got, dict):
        return "an unreadable value"
    kind = reference["kind"]
    if got.get("kind") != kind:
        return f"expected {describe(reference)}, got {describe(got)}"
    try:
        if kind == "array":
            want, have = decode_array(reference), decode_array(got)
            if reference["dtype"] != got.get("dtype"):
                return f"expected dtype {reference['dtype']}, got {got.get('dtype')}"
            if want.shape != have.shape:
                return f"expected shape {tuple(want.shape)}, got {tuple(have.shape)}"
            if want.dtype.kind in "biu":
                return None if np.array_equal(want, have) else "wrong values"
            want64, have64 = want.astype(np.float64), have.astype(np.float64)
            if np.allclose(have64, want64, atol=atol, rtol=rtol, equal_nan=True):
                return None
            nan = np.isnan(want64) != np.isnan(have64)
            if nan.any():
                return "NaN where a number is expected, or a number where NaN is expected"
            return "wrong values"
        if kind == "float":
            want, have = float(reference["value"]), float(got.get("value"))
            if math.isnan(want) and math.isnan(have):
                return None
            return None if abs(want - have) <= atol + rtol * abs(want) else "wrong value"
        if kind in ("none", "bool", "str"):
            return None if got.get("value") == reference["value"] and type(got.get("value")) is type(reference["value"]) \
                else "wrong value"
        if kind == "int":
            return None if str(got.get("value")) == reference["value"] else "wrong value"
        if kind in ("list", "tuple"):
            want, have = reference["items"], got.get("items")
            if not isinstance(have, list) or len(have) != len(want):
                return f"expected a {kind} of {len(want)} items"
            for index, (w, h) in enumerate(zip(want, have)):
                problem = compare(w, h, atol, rtol, depth + 1)
                if problem:
                    return f"item {index}: {problem}"
            return None
        if kind == "dict":
            want = {k: v for k, v in reference["items"]}
            have = {k: v for k, v in got.get("items", []) if isinstance(k, str)}
            if sorted(want) != sorted(have):
                return f"expected the keys {sorted(want)}"
            for key in want:
                problem = compare(want[key], have[key], atol, rtol, depth + 1)
                if problem:
                    return f"[{key!r}]: {problem}"
            return None
        return "a value the grader cannot compare"
    except (BadRecord, ValueError, TypeError, KeyError, OverflowError, AttributeError):
        return "an unreadable value"


def judge(reference_records: list, student_records: list) -> Optional[tuple[str, str]]:
    """None when the student's records match every reference record; else (message, detail)
    for the first reference record (in the reference's order) that is missing or differs."""
    by_name: dict = {}
    for record in student_records:
        if isinstance(record, dict) and isinstance(record.get("name"), str):
            by_name.setdefault(record["name"], []).append(record.get("value"))
    for reference in reference_records:
        values = by_name.get(reference["name"])
        if not values:
            return reference["message"], "this check was not reached"
        for value in values:
            problem = compare(reference["value"], value, reference["atol"], reference["rtol"])
            if problem:
                return reference["message"], problem
    return None
