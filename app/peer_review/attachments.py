"""One attachment of a practice submission: checked by content, stored under a random name.

Plain functions on bytes, streams and a directory (no database, no request). The rules:

- **Content decides.** The type comes from the first bytes: PDF ``%PDF-``, the PNG
  signature, JPEG ``FF D8 FF``, a ZIP holding ``[Content_Types].xml`` and
  ``word/document.xml`` (DOCX) or ``ppt/presentation.xml`` (PPTX), or UTF-8 text. Nothing
  in a ZIP is unpacked: only its directory is read, and an encrypted, macro-enabled or
  absurd one (over ``MAX_ZIP_ENTRIES`` entries or ``MAX_ZIP_UNPACKED`` declared bytes) is
  refused, so a zip bomb never reaches a reviewer's Office.
- **Plain text** is UTF-8 (a BOM allowed) without NUL bytes that does not *start*, after a
  BOM and white space, with a tag (``<`` then a letter, ``!``, ``?`` or ``/``), a wider net
  than the start browsers sniff HTML by: ``<html>``, ``<svg>`` or ``<?xml`` renamed ``.txt``
  is refused. ``<script>`` further down is left alone (an essay may quote it); the download
  route sends ``attachment`` and ``X-Content-Type-Options: nosniff``, so it never runs.
- **The name must agree.** A name whose extension names another type (a PNG called
  ``.pdf``) is refused with what the file really is: the learner may have attached the
  wrong file, and a reviewer would be misled. A name without an extension gets the right
  one. ``.jpeg`` counts as ``.jpg``.
- **Size** is counted while reading in chunks; reading stops one byte past ``max_bytes``.
- **Storage** is ``directory / secrets.token_urlsafe(24)``, created exclusively, mode 0600;
  the learner's file name is only display metadata, cleaned by ``clean_name``.

Metadata inside the file (EXIF, Office authors) is not stripped here.
"""

import io
import os
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NoReturn
from urllib.parse import quote

from app.errors import Invalid, NotFound

MAX_BYTES = 10 * 1024 * 1024
MAX_ZIP_ENTRIES = 2_000
MAX_ZIP_UNPACKED = 100 * 1024 * 1024
#: Longest display name, extension included (characters).
MAX_NAME = 120
CHUNK = 64 * 1024

#: kind → (canonical extension, media type, what the file is, in a sentence).
KINDS = {
    "pdf": ("pdf", "application/pdf", "a PDF document"),
    "png": ("png", "image/png", "a PNG image"),
    "jpg": ("jpg", "image/jpeg", "a JPG image"),
    "docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "a Word (DOCX) document"),
    "pptx": ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
             "a PowerPoint (PPTX) presentation"),
    "txt": ("txt", "text/plain; charset=utf-8", "plain text"),
}
#: Extensions a learner's file name may end in, and the kind each stands for.
EXTENSIONS = {"pdf": "pdf", "png": "png", "jpg": "jpg", "jpeg": "jpg", "docx": "docx",
              "pptx": "pptx", "txt": "txt"}
#: Refused content worth naming, by its first bytes.
OTHER_MAGIC = (
    (b"MZ", "a Windows program"), (b"\x7fELF", "a program"),
    (b"\xd0\xcf\x11\xe0", "an old-style or password-protected Office file (DOC, PPT, XLS)"),
    (b"GIF8", "a GIF image"), (b"\xff\xfe", "text in UTF-16; save it as UTF-8"),
    (b"\xfe\xff", "text in UTF-16; save it as UTF-8"), (b"PK", "a ZIP archive"),
)
STORED_NAME = re.compile(r"[A-Za-z0-9_-]{32}")
_LEADING_TAG = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<[A-Za-z!?/]")
_NAME_UNSAFE = re.compile(r'[<>:"|?*]')
_RESERVED = re.compile(r"(con|prn|aux|nul|com\d|lpt\d)", re.IGNORECASE)
_FALLBACK_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()+,=@-]")


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """An attachment that passed ``check_upload``: what it is and how to present it."""

    kind: str
    media_type: str
    extension: str
    size: int
    display_name: str


def detect_type(head: bytes, *, open_zip: bytes | Callable[[], BinaryIO] | None = None
                ) -> str | None:
    """The allowed kind of a file from its bytes, or None.

    ``head`` is the whole file, or its start when ``open_zip`` supplies the archive (the
    bytes, or a callable opening a binary file) for reading a ZIP's directory.
    """
    return _sniff(head, open_zip)[0]


def _sniff(head: bytes, open_zip=None) -> tuple[str | None, str]:
    """The allowed kind (or None) and what the file is, in words for a message."""
    if not head:
        return None, "empty"
    if head.startswith(b"%PDF-"):
        return "pdf", KINDS["pdf"][2]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png", KINDS["png"][2]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg", KINDS["jpg"][2]
    if head.startswith(b"PK\x03\x04"):
        source = open_zip() if callable(open_zip) else io.BytesIO(open_zip or head)
        return _sniff_zip(source)
    for magic, what in OTHER_MAGIC:
        if head.startswith(magic):
            return None, what
    if b"\x00" in head:
        return None, "a binary file"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return None, "neither one of these types nor UTF-8 text"
    if _LEADING_TAG.match(head):
        svg = b"<svg" in head[:4096].lower()
        return None, "an SVG image" if svg else "an HTML or XML page"
    return "txt", KINDS["txt"][2]


def _sniff_zip(source: BinaryIO) -> tuple[str | None, str]:
    """DOCX or PPTX from a ZIP's directory alone; nothing is unpacked."""
    try:
        with zipfile.ZipFile(source) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return None, "a damaged ZIP archive"
    finally:
        source.close()
    if len(entries) > MAX_ZIP_ENTRIES:
        return None, f"a ZIP archive of more than {MAX_ZIP_ENTRIES:,} files"
    if sum(entry.file_size for entry in entries) > MAX_ZIP_UNPACKED:
        return None, f"a ZIP archive that unpacks to more than {_megabytes(MAX_ZIP_UNPACKED)}"
    if any(entry.flag_bits & 0x1 for entry in entries):
        return None, "an encrypted archive"
    names = {entry.filename for entry in entries}
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        return None, "an Office file with macros"
    if "[Content_Types].xml" in names:
        word, slides = "word/document.xml" in names, "ppt/presentation.xml" in names
        if word != slides:
            kind = "docx" if word else "pptx"
            return kind, KINDS[kind][2]
        if "xl/workbook.xml" in names:
            return None, "an Excel workbook"
    if "mimetype" in names:
        return None, "an OpenDocument file; save it as DOCX or PDF"
    return None, "a ZIP archive"


def check_upload(filename: str, data: bytes | BinaryIO, *, max_bytes: int = MAX_BYTES
                 ) -> CheckedFile:
    """Check one attachment's content, size and name; raise ``Invalid`` saying what to do."""
    allowed = f"Attach a PDF, PNG, JPG, DOCX, PPTX or plain-text file of at most " \
              f"{_megabytes(max_bytes)}"
    content = _read_bounded(data, max_bytes)
    if content is None:
        _refuse(f"{allowed}; this file is larger.")
    kind, what = _sniff(content)
    if kind is None:
        _refuse(f"{allowed}; this file is {what}.")
    extension = _split_extension(_base_name(filename))[1]
    if extension and EXTENSIONS.get(extension.lower()) != kind:
        _refuse(f"This file is {what}, but its name ends in .{extension}. Attach the file you "
                f"meant to, or rename this one to end in .{KINDS[kind][0]}.")
    ext, media_type, _ = KINDS[kind]
    return CheckedFile(kind, media_type, ext, len(content), clean_name(filename, kind))


def _refuse(message: str) -> NoReturn:
    """Raise the domain error the entrypoints present next to the attachment field."""
    raise Invalid(message, fields={"attachment": message})


def _megabytes(size: int) -> str:
    """``10 MB`` for a size in bytes, or the bytes when not a whole number of megabytes."""
    whole, rest = divmod(size, 1024 * 1024)
    return f"{whole} MB" if whole and not rest else f"{size:,} bytes"


def _read_bounded(data: bytes | BinaryIO, max_bytes: int) -> bytes | None:
    """The content, or None once it exceeds ``max_bytes`` (a stream is read no further)."""
    if isinstance(data, bytes | bytearray):
        return bytes(data) if len(data) <= max_bytes else None
    chunks, total = [], 0
    while total <= max_bytes:
        chunk = data.read(min(CHUNK, max_bytes + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
    return None


def _base_name(filename: str) -> str:
    """The last path component: NFC, white space as spaces, other control characters dropped."""
    visible = "".join(" " if c.isspace() else c for c in filename
                      if c.isspace() or not unicodedata.category(c).startswith("C"))
    # Trailing dots and spaces are dropped, as Windows does, so "x.pdf." ends in .pdf.
    return re.split(r"[/\\]", unicodedata.normalize("NFC", visible))[-1].strip().rstrip(". ")


def _split_extension(name: str) -> tuple[str, str]:
    """``(stem, extension)`` when the name ends in a dot and 1–5 letters or digits."""
    stem, dot, extension = name.rpartition(".")
    if dot and re.fullmatch(r"[A-Za-z0-9]{1,5}", extension):
        return stem, extension
    return name, ""


def clean_name(filename: str, kind: str) -> str:
    """A safe display name for any text: no path, controls or leading dots, right extension."""
    stem, extension = _split_extension(_base_name(filename))
    if EXTENSIONS.get(extension.lower()) != kind:
        stem = f"{stem}.{extension}" if extension else stem
    stem = " ".join(_NAME_UNSAFE.sub("_", stem).split()).strip(" .")
    ext = KINDS[kind][0]
    stem = stem[:MAX_NAME - len(ext) - 1].rstrip(" .") or "attachment"
    if _RESERVED.fullmatch(stem.split(".")[0].rstrip()):
        stem = f"_{stem}"[:MAX_NAME - len(ext) - 1]  # CON, NUL… are devices on Windows
    return f"{stem}.{ext}"


def content_disposition(display_name: str) -> str:
    """A ``Content-Disposition`` value downloading the file under its display name."""
    ascii_name = "".join(c for c in unicodedata.normalize("NFKD", display_name)
                         if not unicodedata.combining(c))
    fallback = _FALLBACK_UNSAFE.sub("_", ascii_name).lstrip(" .") or "attachment"
    encoded = quote(display_name, safe="", errors="replace")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def store(checked: CheckedFile, data: bytes | BinaryIO, directory: Path) -> str:
    """Write a checked attachment under a new random name in ``directory``; return the name.

    ``data`` is what was checked (a stream is rewound); a different size is refused, so
    unchecked bytes are never stored.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not isinstance(data, bytes | bytearray):
        data.seek(0)
    content = _read_bounded(data, checked.size)
    if content is None or len(content) != checked.size:
        raise ValueError("the data to store is not the attachment that was checked")
    while True:
        name = secrets.token_urlsafe(24)
        try:
            with open(directory / name, "xb",
                      opener=lambda path, flags: os.open(path, flags, 0o600)) as file:
                file.write(content)
        except FileExistsError:  # a collision of 192 random bits: draw again
            continue
        except BaseException:
            (directory / name).unlink(missing_ok=True)
            raise
        return name


def path_for(directory: Path, stored_name: str) -> Path:
    """The path of a stored attachment; ``NotFound`` for anything but a name ``store`` makes."""
    if not isinstance(stored_name, str) or not STORED_NAME.fullmatch(stored_name):
        raise NotFound()
    return directory / stored_name
