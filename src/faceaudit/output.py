"""Output that never loses anything: atomic, marked folders and files, replaced only if ours.

Rules
-----
- An output folder is written into a hidden temporary sibling (``.NAME.PID.XXXX.partial``) and
  renamed into place only when complete; a crash leaves no half-written folder (stale partial
  folders of dead runs are removed by the next run into the same place).
- Every folder faceaudit writes carries a marker, :data:`MARKER`, listing the files it wrote.
- An existing destination is never replaced without ``force``, also under concurrency: of two runs
  racing to one new folder, the second to finish is refused (the rename cannot replace a folder
  that has content).
- With ``force`` a folder is replaced only if it carries the marker and holds nothing but the
  files it lists, and only if it is not (and does not hold) an input of the run; anything else is
  refused, naming what would have been destroyed. A file (``--json FILE``) is replaced only if it
  is a results file faceaudit wrote.
- Every operating-system error on writing (permissions, a full disk, a closed pipe) becomes one
  :class:`~faceaudit.errors.InputError` sentence naming the path.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from faceaudit.errors import InputError

__all__ = [
    "MARKER",
    "OutputDir",
    "check_destination",
    "dump_json",
    "write_atomic",
    "write_stdout",
]

#: The marker file inside every folder faceaudit writes.
MARKER = ".faceaudit-output"


def _os_error(exc: OSError, path: Path | str, doing: str) -> InputError:
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        reason = "the disk is full"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason = "permission denied (or a read-only file system)"
    return InputError(f"could not {doing}: {reason}.", path=path)


def _listed(folder: Path) -> set[str] | None:
    """The files faceaudit's marker in ``folder`` lists, or None if there is no valid marker."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    if data.get("tool") != "faceaudit" or not isinstance(files, list):
        return None
    return {str(f) for f in files}


def _contents(folder: Path) -> list[str]:
    out = []
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = Path(root, name)
            rel = p.relative_to(folder).as_posix()
            if p.is_dir() and not p.is_symlink():
                continue
            out.append(rel)
    return sorted(out)


def _inside(child: Path, parent: Path) -> bool:
    try:
        child.resolve().relative_to(parent.resolve())
        return True
    except ValueError:
        return False


def check_destination(
    path: str | os.PathLike[str],
    *,
    force: bool = False,
    kind: str = "folder",
    inputs: Iterable[str | os.PathLike[str]] = (),
    owned: Callable[[Path], bool] | None = None,
) -> None:
    """Refuse, before any work, a destination that the write would refuse (see module rules).

    ``owned(path)`` tells whether an existing *file* is one faceaudit wrote (default: a results
    JSON file); only such a file is replaced with ``force``.
    """
    path = Path(path)
    for inp in inputs:
        if str(inp).startswith("<"):
            continue  # not a file: e.g. "<synthetic embeddings ...>"
        if _inside(Path(inp), path) and (force or path.exists()):
            raise InputError(
                f"holds the input {inp}; write the output somewhere else (an output folder is "
                "replaced as a whole).",
                path=path,
            )
    if not path.exists() and not path.is_symlink():
        return
    what = "folder" if kind == "folder" else "file"
    if not force:
        raise InputError(
            f"the output {what} already exists; choose another, or pass force to replace an "
            "output faceaudit wrote.",
            path=path,
        )
    if kind == "file":
        if path.is_dir() or not (owned or _is_results_file)(path):
            raise InputError(
                "exists and is not a file faceaudit wrote; refusing to replace it.",
                path=path,
            )
        return
    if not path.is_dir() or path.is_symlink():
        raise InputError("exists and is not a folder; refusing to replace it.", path=path)
    listed = _listed(path)
    if listed is None:
        raise InputError(
            "exists and was not written by faceaudit (it has no faceaudit marker); refusing to "
            "replace it. Choose another output folder.",
            path=path,
        )
    foreign = [f for f in _contents(path) if f != MARKER and f not in listed]
    if foreign:
        shown = ", ".join(foreign[:3]) + (
            f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        )
        raise InputError(
            f"holds files faceaudit did not write ({shown}); refusing to replace it. Move them "
            "or choose another output folder.",
            path=path,
        )


def _is_results_file(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return head.lstrip().startswith(b"{") and b'"faceaudit_version"' in head


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_stale(parent: Path, name: str) -> None:
    """Remove partial folders left in ``parent`` by dead runs writing ``name``."""
    for p in parent.glob(f".{name}.*.partial"):
        parts = p.name[len(name) + 2 :].split(".")
        if len(parts) >= 3 and parts[0].isdigit() and not _pid_alive(int(parts[0])):
            shutil.rmtree(p, ignore_errors=True)


class OutputDir:
    """``with OutputDir(path, force=...) as tmp:`` — write into ``tmp``; it becomes ``path``.

    On a clean exit the marker is written (listing every file in ``tmp``) and ``tmp`` is renamed
    to ``path``; on an error ``tmp`` is removed and nothing else is touched.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        force: bool = False,
        inputs: Iterable[str | os.PathLike[str]] = (),
    ) -> None:
        self.path = Path(os.path.abspath(path))
        self.force = force
        self.inputs = list(inputs)
        self.tmp: Path | None = None

    def __enter__(self) -> Path:
        check_destination(self.path, force=self.force, inputs=self.inputs)
        parent = self.path.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            _clean_stale(parent, self.path.name)
            self.tmp = Path(
                tempfile.mkdtemp(
                    prefix=f".{self.path.name}.{os.getpid()}.", suffix=".partial", dir=parent
                )
            )
        except OSError as exc:
            raise _os_error(exc, self.path, "create the output folder") from None
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.tmp is not None
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            if isinstance(exc, OSError):
                raise _os_error(exc, self.path, "write the output folder") from None
            return
        try:
            files = _contents(self.tmp)
            (self.tmp / MARKER).write_text(
                json.dumps({"tool": "faceaudit", "files": files}, indent=1) + "\n",
                encoding="utf-8",
            )
            os.chmod(self.tmp, 0o755 & ~_umask())
            self._move_into_place()
        except OSError as exc:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise _os_error(exc, self.path, "write the output folder") from None
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise

    def _move_into_place(self) -> None:
        assert self.tmp is not None
        raced = InputError(
            "was created by another run while this one was writing; nothing was replaced. "
            "Choose another output folder.",
            path=self.path,
        )
        if not self.path.exists():
            try:
                os.rename(self.tmp, self.path)  # cannot replace a folder with content
                return
            except OSError as exc:
                if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
                if not self.force:
                    raise raced from None
        elif not self.force:
            raise raced
        check_destination(self.path, force=True, inputs=self.inputs)  # still ours?
        old = self.path.with_name(f".{self.path.name}.{os.getpid()}.old.partial")
        os.rename(self.path, old)
        os.rename(self.tmp, self.path)
        shutil.rmtree(old, ignore_errors=True)


def write_atomic(
    path: str | os.PathLike[str],
    data: bytes | str,
    *,
    force: bool = False,
    owned: Callable[[Path], bool] | None = None,
) -> None:
    """Write one file atomically (temporary sibling, fsync, rename), world-readable like others.

    Without ``force`` an existing file is never replaced (the final step is a hard link, which
    fails if the name exists); with ``force`` only a file faceaudit wrote is replaced (``owned``,
    as in :func:`check_destination`).
    """
    path = Path(path)
    check_destination(path, force=force, kind="file", owned=owned)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    except OSError as exc:
        raise _os_error(exc, path, "write the file") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644 & ~_umask())
        if force and path.exists():
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise InputError(
                    "was created by another run while this one was writing; it was not replaced.",
                    path=path,
                ) from None
            os.unlink(tmp)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise _os_error(exc, path, "write the file") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_stdout(text: str) -> None:
    """Print ``text`` on standard output; a closed or full pipe is an InputError (no traceback)."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as exc:
        with contextlib.suppress(OSError):  # keep Python's exit-time flush from failing again
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        reason = "it was closed" if isinstance(exc, BrokenPipeError) else (exc.strerror or exc)
        raise InputError(f"could not write the results to standard output: {reason}.") from None


def dump_json(obj: Any) -> str:
    """JSON text for results files: UTF-8, in the contract's key order, NaN forbidden."""
    return json.dumps(obj, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
