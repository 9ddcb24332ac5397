"""Private helpers shared by the score readers: file checks, checksums, line numbers, finiteness.

Everything here keeps the error path off the fast path: checks are vectorised, and the slow work
of turning a record index into the line an editor shows is done only once something is wrong.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import hashlib
import io
import lzma
import os
import tarfile
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np

from faceaudit._mmap import release_pages
from faceaudit.errors import InputError

ORIENTATIONS = ("similarity", "distance")

#: Bytes read at a time when scanning a file for line numbers.
_SCAN_BYTES = 1 << 22
_BOM = b"\xef\xbb\xbf"


def check_orientation(orientation: str) -> str:
    """Return ``orientation`` if it is ``"similarity"`` or ``"distance"``, else raise InputError."""
    if orientation not in ORIENTATIONS:
        raise InputError(
            f"score orientation {orientation!r} is not known; use 'similarity' (higher = more "
            "similar) or 'distance' (lower = more similar)."
        )
    return orientation


def check_file(path: str | os.PathLike[str]) -> Path:
    """Check that ``path`` is an existing, readable, non-empty regular file; return it as a Path.

    Raises
    ------
    InputError
        Naming the file and what is wrong with it.
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError("file not found; check the path and the spelling.", path=path) from None
    except OSError as exc:
        raise InputError(
            f"cannot be accessed ({exc.strerror}); check the path.", path=path
        ) from None
    if p.is_dir():
        raise InputError("is a directory, not a file; give the path of the score file.", path=path)
    try:
        with open(p, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise InputError(
            f"cannot be read ({exc.strerror}); check the file's permissions.", path=path
        ) from None
    if st.st_size == 0:
        raise InputError("is empty (0 bytes); give a file that holds scores.", path=path)
    return p


def compression_of(path: Path) -> str | None:
    """``"gzip"``, ``"bz2"`` or None, from the file name's last suffix."""
    suffix = path.suffix.lower()
    return {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2"}.get(suffix)


def table_suffix(path: Path) -> str:
    """The suffix naming a file's format, under a compression suffix (``a.csv.gz`` -> .csv)."""
    base = path.with_suffix("") if compression_of(path) else path
    return base.suffix.lower()


@functools.lru_cache(maxsize=64)
def _member_of(path: str, size: int, mtime_ns: int) -> str | None:
    try:
        if not tarfile.is_tarfile(path):
            return None
        with tarfile.open(path, "r:*") as tar:
            for info in tar:
                if info.isfile():
                    return info.name
    except (OSError, EOFError, tarfile.TarError, zlib.error, lzma.LZMAError):
        return None
    return ""


def archive_member(path: Path) -> str | None:
    """The first regular file inside ``path`` if it is a tar archive (any compression), else None.

    This is how bob reads score files (``bob.bio.base.score.load.open_file``: a raw text file, or
    a possibly compressed tar archive whose first regular file is the score file). ``""`` for an
    archive that holds no regular file.
    """
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _member_of(os.fspath(path), st.st_size, st.st_mtime_ns)


def described(path: str | os.PathLike[str], p: Path) -> str:
    """``path`` as messages name it: ``scores.tar.gz (file scores-dev in the archive)``."""
    member = archive_member(p)
    return f"{path} (file {member} in the archive)" if member else os.fspath(path)


class _ArchiveMember(io.RawIOBase):
    """The first regular file of a tar archive, as a stream that closes the archive with it."""

    def __init__(self, path: Path, member: str) -> None:
        self._tar = tarfile.open(path, "r:*")
        try:  # by its TarInfo: extractfile(name) would first read every header of the archive
            info = self._tar.next()
            while info is not None and not (info.isfile() and info.name == member):
                info = self._tar.next()
            fh = self._tar.extractfile(info)
        except BaseException:
            self._tar.close()
            raise
        assert fh is not None
        self._fh = fh

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self._fh.read(len(b))
        b[: len(data)] = data
        return len(data)

    def next_file(self) -> str | None:
        """After the member was read to its end: the name of the archive's next regular file."""
        try:
            info = self._tar.next()
            while info is not None and not info.isfile():
                info = self._tar.next()
        except (OSError, EOFError, tarfile.TarError, zlib.error, lzma.LZMAError):
            return None
        return None if info is None else info.name

    def close(self) -> None:
        if not self.closed:
            self._fh.close()
            self._tar.close()
        super().close()


def is_plain(path: Path) -> bool:
    """True for a file read as it is stored (neither compressed nor an archive): seekable."""
    return compression_of(path) is None and archive_member(path) is None


def open_binary(path: Path) -> IO[bytes]:
    """Open ``path`` for reading bytes: a tar archive's first file, ``.gz`` / ``.bz2``
    decompressed, or the file itself."""
    member = archive_member(path)
    if member is not None:
        if not member:
            raise InputError(
                "is a tar archive that holds no file; give the score file itself, or an archive "
                "holding it.",
                path=path,
            )
        return io.BufferedReader(_ArchiveMember(path, member), buffer_size=1 << 20)
    kind = compression_of(path)
    if kind == "gzip":
        return gzip.open(path, "rb")
    if kind == "bz2":
        return bz2.open(path, "rb")
    return open(path, "rb")


class CountingReader(io.RawIOBase):
    """A stream over :func:`open_binary` that counts line ends and keeps the last bytes read.

    Handed to pyarrow, it reads the file once and leaves the number of physical lines and the
    last line behind: the proof that no quoted field swallowed lines costs no second pass.
    """

    def __init__(self, path: Path) -> None:
        self._fh = open_binary(path)
        self.newlines = 0
        self._tail = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self._fh.read(len(b))
        n = len(data)
        if n:
            b[:n] = data
            self.newlines += data.count(b"\n")
            self._tail = (
                (self._tail + data)[-_TAIL_BYTES:] if n < _TAIL_BYTES else data[-_TAIL_BYTES:]
            )
        return n

    def lines(self) -> tuple[int, bytes]:
        """``(lines, last)`` as :func:`count_lines` gives them, for the bytes read so far."""
        return _lines_and_last(self.newlines, self._tail)

    def close(self) -> None:
        if not self.closed:
            self._fh.close()
        super().close()


@functools.lru_cache(maxsize=1)
def _malloc_trim():
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to do
        return None


def release_heap(every: int = 16, _count=[0]) -> None:  # noqa: B006 - a call counter
    """Every ``every``-th call, hand the C heap's free pages back to the system (glibc only).

    Streaming readers allocate and free per-chunk temporaries; glibc keeps the freed pages of
    holes in its heap, which made a 10^7-row CSV cost about 10 bytes a row above the arrays
    kept. ``malloc_trim`` returns them (it costs well under a millisecond).
    """
    _count[0] += 1
    if _count[0] % every == 0:
        trim = _malloc_trim()
        if trim is not None:
            trim(0)


# --------------------------------------------------------------------------------------------
# Checksums, computed in a background thread and resolved when first needed.


class PendingDigest:
    """SHA-256 of a file's bytes, computed in a daemon thread (hashlib releases the GIL).

    ``result()`` blocks until the digest is ready and returns it as a hex string.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        self._value: str | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        thread = threading.Thread(target=self._run, name="faceaudit-sha256", daemon=True)
        thread.start()

    def _run(self) -> None:
        try:
            self._value = sha256_of(self._path)
        except BaseException as exc:  # pragma: no cover - the file vanished after reading
            self._error = exc
        finally:
            self._done.set()

    def result(self) -> str:
        self._done.wait()
        if self._error is not None:
            raise InputError(
                f"could not be read again to compute its checksum ({self._error}).",
                path=self._path,
            )
        assert self._value is not None
        return self._value


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 digest of the file's bytes (as stored, i.e. compressed if it is compressed)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


# --------------------------------------------------------------------------------------------
# Line numbers. Readers count records (arrow skips empty lines); an error message needs the
# physical line. These helpers are only called once something is wrong.


def _blocks(path: Path) -> Iterator[bytes]:
    with open_binary(path) as fh:
        while True:
            block = fh.read(_SCAN_BYTES)
            if not block:
                return
            yield block


def _content_blocks(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(offset, block)`` of the file's bytes after a leading UTF-8 byte-order mark, if any."""
    blocks = _blocks(path)
    head = b""
    for block in blocks:
        head += block
        if len(head) >= len(_BOM):
            break
    start = len(_BOM) if head.startswith(_BOM) else 0
    if len(head) > start:
        yield start, head[start:]
    offset = len(head)
    for block in blocks:
        yield offset, block
        offset += len(block)


#: Bytes that make a line blank (with the line end): space, tab, CR, vertical tab, form feed.
BLANK_BYTES = b" \t\r\x0b\x0c"
_NONBLANK = np.ones(256, dtype=np.uint8)
_NONBLANK[list(BLANK_BYTES + b"\n")] = 0


def is_blank(text: str) -> bool:
    """True for a line that holds nothing but :data:`BLANK_BYTES` (the readers skip it)."""
    return not text.strip(BLANK_BYTES.decode())


def _line_table(path: Path, skip_blank: bool) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Per block: ``(first_line_number, line_starts, skipped)`` for the lines that end in it.

    ``line_starts`` are byte offsets in the (decompressed) stream; ``skipped`` flags lines that
    hold nothing but their terminator (``\n`` or ``\r\n``), or, with ``skip_blank``, nothing but
    blanks (:data:`BLANK_BYTES`). A last line without a terminator comes in an entry of its own.
    """
    lines_done = 0
    cur_len = 0  # bytes of the current, unfinished line (carried across blocks)
    cur_start = 0  # offset of the current line's first byte
    cur_first = -1  # first byte of the current line (to recognise a lone "\r")
    cur_solid = 0  # non-blank bytes of the current line so far
    started = False
    for offset, block in _content_blocks(path):
        if not started:
            cur_start, started = offset, True
        buf = np.frombuffer(block, dtype=np.uint8)
        nl = np.flatnonzero(buf == 10)
        solid = np.zeros(buf.size + 1, dtype=np.int32)
        if skip_blank:
            np.cumsum(_NONBLANK[buf], dtype=np.int32, out=solid[1:])
        if nl.size == 0:
            if cur_len == 0:
                cur_first = int(buf[0])
                cur_start = offset
            cur_len += buf.size
            cur_solid += int(solid[-1])
            continue
        starts = np.empty_like(nl)
        starts[0] = 0
        starts[1:] = nl[:-1] + 1
        lengths = nl - starts
        first = np.where(lengths > 0, buf[np.minimum(starts, buf.size - 1)], -1).astype(np.int64)
        nonblank = solid[nl] - solid[starts]
        if cur_len > 0:
            lengths[0] += cur_len
            first[0] = cur_first
            nonblank[0] += cur_solid
        line_starts = starts + offset
        line_starts[0] = cur_start
        if skip_blank:
            skipped = nonblank == 0
        else:
            skipped = (lengths == 0) | ((lengths == 1) & (first == 13))
        yield lines_done + 1, line_starts, skipped
        lines_done += nl.size
        tail = buf.size - (int(nl[-1]) + 1)
        cur_len = tail
        cur_start = offset + int(nl[-1]) + 1
        cur_first = int(buf[nl[-1] + 1]) if tail else -1
        cur_solid = int(solid[-1] - solid[nl[-1] + 1])
    if cur_len > 0:
        last_skipped = cur_solid == 0 if skip_blank else (cur_len == 1 and cur_first == 13)
        yield (
            lines_done + 1,
            np.array([cur_start], dtype=np.int64),
            np.array([last_skipped]),
        )


def locate_nonempty_line(path: Path, k: int, *, skip_blank: bool = False) -> tuple[int, int] | None:
    """Find the ``k``-th (0-based) non-empty line of a text file.

    A line is empty when it holds nothing but its terminator (``\n`` or ``\r\n``); this is
    how pyarrow's CSV reader counts rows (``ignore_empty_lines``). With ``skip_blank``, a line
    holding only blanks is empty too (as the table readers skip them). A leading UTF-8
    byte-order mark is not content. Returns ``(line, offset)``: the 1-based line number as an
    editor shows it and the byte offset of the line's start in the (decompressed) stream; None
    if the file has fewer non-empty lines.
    """
    seen = 0
    for first_line, starts, skipped in _line_table(path, skip_blank):
        full = ~skipped
        n = int(np.count_nonzero(full))
        if seen + n > k:
            j = int(np.flatnonzero(full)[k - seen])
            return first_line + j, int(starts[j])
        seen += n
    return None


def count_lines(path: Path) -> tuple[int, bytes]:
    """Physical lines of a text file and its last non-empty line (fast: ``bytes.count``).

    Returns ``(lines, last)``: the number of lines as an editor shows them, and the last line
    that holds more than its terminator, without the terminator (at most its last 1 MiB;
    empty if the file ends in more than 1 MiB of blank lines).
    """
    newlines = 0
    tail = b""  # the file's last bytes, enough to hold its last line (up to 1 MiB)
    for _, block in _content_blocks(path):
        newlines += block.count(b"\n")
        tail = (tail + block)[-_TAIL_BYTES:] if len(block) < _TAIL_BYTES else block[-_TAIL_BYTES:]
    return _lines_and_last(newlines, tail)


def _lines_and_last(newlines: int, tail: bytes) -> tuple[int, bytes]:
    lines = newlines + (1 if tail and not tail.endswith(b"\n") else 0)
    body = tail.rstrip(b"\r\n")
    return lines, body[body.rfind(b"\n") + 1 :] if body else b""


def nonempty_line_numbers(path: Path, *, skip_blank: bool = False) -> np.ndarray:
    """The 1-based line numbers of every non-empty line (one pass; for small tables)."""
    parts = [first + np.flatnonzero(~s) for first, _, s in _line_table(path, skip_blank)]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def count_nonempty_lines(path: Path, *, skip_blank: bool = False) -> int:
    """Non-empty lines of a text file (as pyarrow's CSV reader counts rows, header included);
    with ``skip_blank``, lines holding only blanks are not counted either."""
    return sum(int(np.count_nonzero(~s)) for _, _, s in _line_table(path, skip_blank))


_TAIL_BYTES = 1 << 20


def iter_lines_from(path: Path, line: int, offset: int) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line_number, raw_line)`` from physical line ``line`` (which starts at ``offset``).

    Raw lines keep their terminator. Uncompressed files are entered by seeking; compressed ones
    are decompressed from the start.
    """
    with open_binary(path) as fh:
        if is_plain(path):
            fh.seek(offset)
            number = line
            for raw in fh:
                yield number, raw
                number += 1
        else:
            for number, raw in enumerate(fh, start=1):
                if number >= line:
                    yield number, raw


# --------------------------------------------------------------------------------------------
# Finiteness, checked in slices so a memory-mapped array is never copied.

_FINITE_SLICE = 1 << 22


def first_nonfinite(values: np.ndarray, *, step: int = _FINITE_SLICE) -> int | None:
    """Index of the first NaN or infinite element of a 1-D float array, or None if all are finite.

    Works slice by slice (min and max are finite iff every element is: NaN propagates through
    both), allocating a boolean mask only for a slice that holds a bad value.
    """
    n = values.shape[0]
    for start in range(0, n, step):
        part = values[start : start + step]
        if part.size == 0:
            continue
        finite = np.isfinite(part.min()) and np.isfinite(part.max())
        release_pages(values, start, start + step)  # a memory-mapped file stays out of RSS
        if finite:
            continue
        return start + int(np.flatnonzero(~np.isfinite(part))[0])
    return None
