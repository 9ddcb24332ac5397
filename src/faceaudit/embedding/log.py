"""The plain-text log that ``faceaudit embed`` writes beside its output (``OUT.log``): the
model, counts, cache use, every failure to acquire and skipped file, one per line.

Every value is written on one line (:func:`one_line`): a newline or escape sequence in a file
name cannot forge a log line or colour a terminal.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["embed_log_text", "is_embed_log", "log_path", "one_line", "write_embed_log"]

MARK = b"faceaudit embed:"


def is_embed_log(path: Path) -> bool:
    """True when ``path`` is a log faceaudit embed wrote (so it may be replaced)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(MARK)) == MARK
    except OSError:
        return False


def log_path(out: Path) -> Path:
    """``OUT.log`` beside the output file ``OUT``."""
    return out.with_name(out.name + ".log")


def one_line(value: object) -> str:
    """A value written into the log on one line: a backslash and every control character
    (a newline in a file name would forge a log line) are escaped, ``\\n``, ``\\x1b``, ..."""
    text = str(value)
    if text.isprintable() and "\\" not in text:
        return text
    out = []
    for c in text:
        if c == "\\":
            out.append("\\\\")
        elif c in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[c])
        elif not c.isprintable() and c != " ":
            out.append(f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return "".join(out)


def embed_log_text(result, image_set) -> str:
    """The log of embedding ``image_set`` into ``result``."""
    q = one_line
    lines = [
        f"faceaudit embed: {q(result.source)}",
        f"model: {q(result.model.id)} ({q(result.model.version)}), dim {result.model.dim}, "
        f"weights sha256 {result.model.weights_sha256}",
        f"images: {result.n_images}; embedded: {result.embeddings.shape[0]}; "
        f"failures to acquire: {result.n_failed}",
    ]
    if result.stats is not None:
        s = result.stats
        lines.append(
            f"cache: {s.n_cached} reused, {s.n_computed} computed; {s.seconds:.2f} s with "
            f"{s.workers} worker(s)"
        )
    for f in result.failures:
        lines.append(f"FTA {q(f.reason)}: {q(f.image)} ({q(f.detail)})")
    for path, why in image_set.skipped:
        lines.append(f"skipped: {q(path)} ({q(why)})")
    for warning in getattr(image_set, "warnings", ()):
        lines.append(f"warning: {q(warning)}")
    return "\n".join(lines) + "\n"


def write_embed_log(result, image_set, out: Path) -> Path:
    """Write (atomically) the log of an embedding run beside ``out``; returns its path."""
    from faceaudit.output import write_atomic

    path = log_path(out)
    write_atomic(path, embed_log_text(result, image_set), force=True, owned=is_embed_log)
    return path
