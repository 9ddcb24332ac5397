"""Private column converters for the score readers: arrow chunks -> validated numpy arrays.

Each converter works on one chunk (a pyarrow Array), vectorised. When a value is bad it raises
:class:`BadRecord` with the index *within the chunk* and a message; the reader turns the index
into a file line (or Parquet row) and raises :class:`~faceaudit.errors.InputError`.
"""

from __future__ import annotations

import numpy as np

from faceaudit._lazy import lazy_module

pa = lazy_module("pyarrow")
pc = lazy_module("pyarrow.compute")

#: Spellings accepted for a ``mated`` value (compared after stripping blanks and lower-casing).
#: ``1.0``/``0.0`` are what pandas writes for a float column of flags.
TRUE_WORDS = frozenset({"true", "1", "yes", "1.0"})
FALSE_WORDS = frozenset({"false", "0", "no", "0.0"})


class BadColumn(Exception):
    """A whole column cannot be used (for instance it has the wrong type)."""


class BadRecord(Exception):
    """A bad value at ``index`` (0-based, within the current chunk)."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.message = message


def arrow_indices(index: np.ndarray) -> pa.Array:
    """An int64 arrow array viewing a numpy index array (``pa.array`` would import pandas)."""
    index = np.ascontiguousarray(index, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), index.shape[0], [None, pa.py_buffer(index)])


def arrow_mask(mask: np.ndarray) -> pa.Array:
    """A boolean arrow array from a numpy mask (without importing pandas)."""
    bits = np.packbits(np.asarray(mask, dtype=bool), bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), mask.shape[0], [None, pa.py_buffer(bits)])


def scalar(value, type: pa.DataType | None = None) -> pa.Scalar:
    """An arrow scalar for a compute call, built from buffers: ``pa.scalar`` (which pyarrow's
    compute functions call on a Python value) imports pandas, a second or more per process."""
    if value is None:
        return pa.nulls(1, type or pa.string())[0]
    if isinstance(value, bool | np.bool_):
        return arrow_mask(np.array([value]))[0]
    if isinstance(value, int | np.integer):
        return arrow_indices(np.array([value]))[0]
    if isinstance(value, float | np.floating):
        buf = pa.py_buffer(np.array([value], dtype=np.float64))
        return pa.Array.from_buffers(pa.float64(), 1, [None, buf])[0]
    raw = str(value).encode("utf-8")
    offsets = pa.py_buffer(np.array([0, len(raw)], dtype=np.int32))
    return pa.Array.from_buffers(pa.string(), 1, [None, offsets, pa.py_buffer(raw)])[0]


_NUMPY_OF = {
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
    "uint8": np.uint8,
    "uint16": np.uint16,
    "uint32": np.uint32,
    "uint64": np.uint64,
    "halffloat": np.float16,
    "float": np.float32,
    "double": np.float64,
}


def to_numpy(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A numpy view (booleans: a copy) of a numeric or boolean arrow array, or an object array
    of a text one; nulls read as False / 0 / None.

    pyarrow's own ``to_numpy`` imports pandas on first use (seconds without bytecode caches);
    the readers never need pandas, so they convert through this.
    """
    arr = as_array(column)
    t = arr.type
    n, off = len(arr), arr.offset
    if pa.types.is_boolean(t):
        if arr.null_count:
            arr = pc.fill_null(arr, scalar(False))
            off = arr.offset
        bits = np.frombuffer(arr.buffers()[1], dtype=np.uint8)
        return np.unpackbits(bits, bitorder="little", count=off + n)[off:].view(bool)
    dtype = _NUMPY_OF.get(str(t))
    if dtype is not None:
        if arr.null_count:
            arr = pc.fill_null(arr, scalar(0).cast(t))
            off = arr.offset
        return np.frombuffer(arr.buffers()[1], dtype=dtype, count=off + n)[off:]
    return np.array(arr.to_pylist(), dtype=object)


def as_array(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous arrow Array from an Array or ChunkedArray."""
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return column


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _first_uncastable(arr: pa.Array) -> int:
    """Index of the first string that pyarrow cannot cast to float64 (binary search on prefixes)."""
    lo, hi = 0, len(arr)  # invariant: arr[:lo] casts; arr[:hi] fails
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            pc.cast(arr.slice(0, mid), pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            hi = mid
        else:
            lo = mid
    return lo


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_scores(
    column: pa.Array | pa.ChunkedArray,
    *,
    name: str = "score",
    nan_is_missing: bool = False,
    advice: str = "fix the value, or leave the field empty to record a failure to acquire.",
) -> tuple[np.ndarray, np.ndarray | None]:
    """Convert one chunk of a score column to float64.

    Parameters
    ----------
    column
        Text (parsed as decimal numbers, surrounding blanks allowed) or a numeric type.
    name
        The column's name, for messages.
    nan_is_missing
        If True (bob's convention), a NaN score is a missing score; otherwise it is an error.
    advice
        What to do about a bad value: the end of the error message.

    Returns
    -------
    values, missing
        ``values`` is float64 (missing entries hold NaN); ``missing`` is a boolean mask of the
        entries with no score (an empty field, or NaN when ``nan_is_missing``), or None if none.

    Raises
    ------
    BadRecord
        For a value that is not a number, or that is NaN (unless ``nan_is_missing``) or infinite.
    BadColumn
        For a column that holds neither text nor numbers.
    """
    arr = as_array(column)
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.dictionary_decode()
        t = arr.type
    if _is_text(t):
        try:
            num = pc.cast(arr, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            # Slow path: blanks around numbers, or a bad value to locate.
            arr = pc.utf8_trim_whitespace(arr)
            arr = pc.if_else(pc.equal(arr, scalar("")), scalar(None, arr.type), arr)
            try:
                num = pc.cast(arr, pa.float64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                i = _first_uncastable(arr)
                raise BadRecord(
                    i, f"{name} {_describe(arr[i].as_py())} is not a number; {advice}"
                ) from None
    elif pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_decimal(t):
        num = pc.cast(arr, pa.float64()) if not pa.types.is_float64(t) else arr
    elif pa.types.is_null(t):
        num = pa.nulls(len(arr), pa.float64())
    else:
        raise BadColumn(f"column {name!r} has type {t}, not numbers; store the scores as numbers.")
    missing = None
    if num.null_count:
        missing = to_numpy(num.is_null())
        num = pc.fill_null(num, scalar(float("nan")))
    values = to_numpy(num)
    if values.size and not (np.isfinite(values.min()) and np.isfinite(values.max())):
        bad = ~np.isfinite(values)
        if missing is not None:
            bad &= ~missing
        if nan_is_missing:
            nan = np.isnan(values) & bad
            if nan.any():
                missing = nan if missing is None else (missing | nan)
                bad &= ~nan
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            shown = arr[i].as_py() if _is_text(arr.type) else float(values[i])
            what = "NaN" if np.isnan(values[i]) else "infinite"
            raise BadRecord(i, f"{name} {_describe(shown)} is {what}; {advice}")
    return values, missing


def parse_mated(column: pa.Array | pa.ChunkedArray, *, name: str = "mated") -> np.ndarray:
    """Convert one chunk of a mated column to a boolean numpy array.

    Accepts booleans, integers or floats 0/1, and text true/false, 1/0 (or 1.0/0.0), yes/no,
    case-insensitive, blanks around allowed.

    Raises
    ------
    BadRecord
        For an empty value or one that is not boolean.
    """
    arr = as_array(column)
    t = arr.type
    if (pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_floating(t)) and (
        arr.null_count
    ):
        i = int(np.flatnonzero(to_numpy(arr.is_null()))[0])
        raise BadRecord(i, f"{name} value is empty; write true or false.")
    if pa.types.is_boolean(t):
        return to_numpy(arr)
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        values = to_numpy(arr).astype(np.float64, copy=False)
        bad = ~((values == 0) | (values == 1))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            if arr[i].is_valid:
                raise BadRecord(
                    i, f"{name} value {arr[i].as_py()!r} is not boolean; write 1/0 or true/false."
                )
            raise BadRecord(i, f"{name} value is empty; write true or false.")
        return values == 1
    if pa.types.is_dictionary(t) or _is_text(t):
        enc = arr if pa.types.is_dictionary(t) else pc.dictionary_encode(arr)
        words = enc.dictionary.to_pylist()
        lut = np.full(len(words) + 1, -1, dtype=np.int8)  # last slot: null index
        for j, w in enumerate(words):
            key = str(w).strip().lower()
            lut[j] = 1 if key in TRUE_WORDS else 0 if key in FALSE_WORDS else -1
        idx = enc.indices
        if idx.null_count:
            idx = pc.fill_null(idx, scalar(len(words)).cast(idx.type))
        flags = lut[to_numpy(idx)]
        if (flags < 0).any():
            i = int(np.flatnonzero(flags < 0)[0])
            value = enc[i].as_py()
            if value is None or str(value).strip() == "":
                raise BadRecord(i, f"{name} value is empty; write true or false.")
            raise BadRecord(
                i,
                f"{name} value {_describe(value)} is not boolean; write true/false, 1/0 or yes/no.",
            )
        return flags.astype(bool)
    raise BadColumn(f"column {name!r} has type {t}; store mated as boolean or 0/1.")


class SubjectCodes:
    """One mapping from subject id to int32 code, shared by all chunks and columns of a file.

    Each chunk is dictionary-encoded by pyarrow, and its distinct ids are looked up among the
    ids seen so far with ``pyarrow.compute.index_in`` (vectorised); only new ids are appended.
    Codes are assigned in order of first appearance.
    """

    def __init__(self) -> None:
        self.names: list[str] = []
        self._known = pa.nulls(0, pa.string())

    def encode(
        self, column: pa.Array | pa.ChunkedArray, *, name: str, noun: str = "a subject id"
    ) -> np.ndarray:
        """int32 codes of one chunk of ids (text or integers, plain or dictionary-encoded).

        Raises
        ------
        BadRecord
            For an empty (missing or blank) id.
        """
        arr = as_array(column)
        if pa.types.is_dictionary(arr.type):
            enc, own = arr, False
        elif _is_text(arr.type) or pa.types.is_integer(arr.type):
            enc, own = pc.dictionary_encode(arr), True
        else:
            raise BadColumn(f"column {name!r} has type {arr.type}; store subject ids as text.")
        ids, idx = enc.dictionary, enc.indices
        if idx.null_count:
            i = int(np.flatnonzero(to_numpy(idx.is_null()))[0])
            raise BadRecord(i, f"{name} is empty; every row needs {noun}.")
        idx = to_numpy(idx)
        if not pa.types.is_string(ids.type):
            if not (_is_text(ids.type) or pa.types.is_integer(ids.type)):
                raise BadColumn(f"column {name!r} holds {ids.type}; store subject ids as text.")
            ids = pc.cast(ids, pa.string())
        # Distinct ids actually used by this chunk (a stored dictionary may hold more).
        used = None if own else np.bincount(idx, minlength=len(ids)) > 0
        blank = pc.or_kleene(pc.utf8_is_space(ids), pc.equal(ids, scalar("")))
        blank = to_numpy(pc.fill_null(blank, scalar(True)))
        if used is not None:
            blank &= used
        if blank.any():
            i = int(np.flatnonzero(blank[idx])[0])
            raise BadRecord(i, f"{name} is empty; every row needs {noun}.")
        where = pc.index_in(ids, value_set=self._known)
        new = to_numpy(where.is_null())
        if used is not None:
            new &= used
        lut = pc.fill_null(where, scalar(-1).cast(where.type))
        lut = to_numpy(lut).astype(np.int32)
        if new.any():
            fresh = ids.filter(arrow_mask(new))
            # A stored dictionary may repeat a value: give repeats one code.
            fresh_enc = pc.dictionary_encode(fresh)
            distinct = fresh_enc.dictionary
            first = len(self.names)
            self._known = pa.concat_arrays([self._known, distinct])
            self.names.extend(distinct.to_pylist())
            lut[new] = first + to_numpy(fresh_enc.indices).astype(np.int32)
        return lut[idx]

    def canonical(self) -> tuple[list[str], np.ndarray]:
        """Subject ids in sorted order and the map from assigned codes to sorted codes.

        Codes are assigned as ids first appear, which depends on how the file was chunked;
        renumbering them in sorted order makes the result independent of chunking and format.
        """
        order = to_numpy(pc.sort_indices(self._known))
        remap = np.empty(len(order), dtype=np.int32)
        remap[order] = np.arange(len(order), dtype=np.int32)
        names = self._known.take(arrow_indices(order)).to_pylist()
        return names, remap


def check_ids(column: pa.Array | pa.ChunkedArray, *, name: str) -> None:
    """Check an id column (probe, reference): every value present. Raises BadRecord."""
    arr = as_array(column)
    if arr.null_count:
        i = int(np.flatnonzero(to_numpy(arr.is_null()))[0])
        raise BadRecord(i, f"{name} is empty; every row needs a {name} id.")


class GrowableArray:
    """A 1-D array built chunk by chunk in fixed-size segments, joined once at the end.

    Segments are ``numpy.empty`` blocks of :attr:`SEGMENT_BYTES` (their own mappings, so a page
    costs memory only once written) and are never resized: ``ndarray.resize`` zero-fills every
    byte it adds, which touched the whole doubled capacity (up to twice the final array).
    :meth:`finish` copies the segments into the final array, freeing each as it goes: peak
    memory is the data plus one segment.
    """

    #: Bytes per segment (above glibc's mmap threshold: each segment is its own mapping).
    SEGMENT_BYTES = 32 << 20

    def __init__(self, dtype: type | np.dtype) -> None:
        self._dtype = np.dtype(dtype)
        self._size = max(1, self.SEGMENT_BYTES // self._dtype.itemsize)
        self._parts: list[np.ndarray] = []
        self._fill = self._size  # elements used in the last segment (full: none yet)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def _append(self, values: np.ndarray) -> None:
        done, k = 0, values.shape[0]
        while done < k:
            if self._fill == self._size:
                self._parts.append(np.empty(self._size, dtype=self._dtype))
                self._fill = 0
            take = min(self._size - self._fill, k - done)
            self._parts[-1][self._fill : self._fill + take] = values[done : done + take]
            self._fill += take
            done += take
        self._n += k

    def extend_where(self, values: np.ndarray, mask: np.ndarray | None) -> None:
        """Append ``values[mask]`` (all of ``values`` when ``mask`` is None)."""
        if mask is None:
            self._append(values)
            return
        k = int(np.count_nonzero(mask))
        if k == values.shape[0]:
            self._append(values)
        elif k:
            room = self._size - self._fill
            if 0 < k <= room:  # straight into the segment, no temporary
                np.compress(mask, values, out=self._parts[-1][self._fill : self._fill + k])
                self._fill += k
                self._n += k
            else:
                self._append(np.compress(mask, values))

    def finish(self) -> np.ndarray:
        """The array (one block, owning its data); the object must not be used after."""
        out = np.empty(self._n, dtype=self._dtype)
        parts, self._parts = self._parts, []
        parts.reverse()
        done = 0
        while parts:
            part = parts.pop()
            take = min(part.shape[0], self._n - done)
            out[done : done + take] = part[:take]
            done += take
            del part
        return out
