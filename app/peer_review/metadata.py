"""Names and places out of attachments before they are stored: reviewers of double-blind
work must not learn the author from a file's metadata.

What is removed, by kind (the file is otherwise kept byte for byte):

- **JPG**: EXIF and XMP (APP1: camera owner, GPS position, software), IPTC (APP13) and
  comments; the colour profile stays.
- **PNG**: text chunks (``tEXt``, ``zTXt``, ``iTXt``: author, software, comments), ``eXIf``
  and ``tIME``.
- **DOCX / PPTX**: the document's creator and last editor, company and manager are blanked,
  and the names on comments and tracked changes become "Author" (the parts stay, so the
  file opens without repair).
- **PDF**: the Info dictionary's ``/Author``, ``/Creator`` and ``/Producer`` and
  uncompressed XMP ``dc:creator`` / ``pdf:Author`` values are overwritten with spaces of
  the same length, so the cross-reference offsets stay valid. Metadata inside compressed
  object streams is not rewritten.
- **TXT**: nothing to remove.
"""

import io
import re
import zipfile

#: PNG chunks that carry people's text or times.
_PNG_DROP = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"}
#: JPEG markers dropped before the image data: APP1 (EXIF, XMP), APP13 (IPTC), COM.
_JPEG_DROP = {0xE1, 0xED, 0xFE}

#: Office parts whose values name people, and what to blank in each.
_OFFICE_ELEMENTS = re.compile(
    rb"(<(dc:creator|cp:lastModifiedBy|Company|Manager)(?:\s[^>]*)?>)(.*?)(</\2>)", re.DOTALL)
#: Attributes naming the authors of comments and tracked changes, by the parts holding them.
_WORD_AUTHORS = re.compile(rb'\b(w:author|w:initials)="[^"]*"')
_SLIDE_AUTHORS = re.compile(rb'\b(name|initials)="[^"]*"')
_AUTHOR_PARTS = (
    (re.compile(r"^word/(document|comments\w*|people|footnotes|endnotes)\d*\.xml$"),
     _WORD_AUTHORS),
    (re.compile(r"^ppt/(commentAuthors|authors)\.xml$"), _SLIDE_AUTHORS),
)

_PDF_INFO = re.compile(rb"/(Author|Creator|Producer)\s*(\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>)",
                       re.DOTALL)
_PDF_XMP = re.compile(rb"(<(dc:creator|pdf:Author|xmp:CreatorTool|pdf:Producer)[^>]*>)(.*?)"
                      rb"(</\2>)", re.DOTALL)


def strip_metadata(kind: str, data: bytes) -> bytes:
    """The file without identifying metadata (see the module docstring); unchanged when the
    kind has none or the file cannot be parsed that far (the type checks came first)."""
    strip = {"jpg": _strip_jpeg, "png": _strip_png, "docx": _strip_office,
             "pptx": _strip_office, "pdf": _strip_pdf}.get(kind)
    if strip is None:
        return data
    try:
        return strip(data)
    except (ValueError, IndexError, zipfile.BadZipFile):
        return data


def _strip_png(data: bytes) -> bytes:
    out = [data[:8]]
    at = 8
    while at + 8 <= len(data):
        length = int.from_bytes(data[at:at + 4], "big")
        kind = data[at + 4:at + 8]
        end = at + 12 + length
        if end > len(data):
            raise ValueError("truncated PNG chunk")
        if kind not in _PNG_DROP:
            out.append(data[at:end])
        at = end
        if kind == b"IEND":
            break
    return b"".join(out)


def _strip_jpeg(data: bytes) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    out = [data[:2]]
    at = 2
    while at < len(data):
        if data[at] != 0xFF:
            raise ValueError("expected a marker")
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            out.append(data[at:at + 2])
            at += 2
            continue
        if marker == 0xDA:  # start of scan: the image data and the rest, as they are
            out.append(data[at:])
            break
        length = int.from_bytes(data[at + 2:at + 4], "big")
        end = at + 2 + length
        if length < 2 or end > len(data):
            raise ValueError("truncated JPEG segment")
        if marker not in _JPEG_DROP:
            out.append(data[at:end])
        at = end
    return b"".join(out)


def _blank_authors(pattern: re.Pattern, xml: bytes) -> bytes:
    return pattern.sub(
        lambda m: m.group(1) + (b'="A"' if b"initials" in m.group(1) else b'="Author"'), xml)


def _strip_office(data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            content = source.read(info)
            if info.filename in ("docProps/core.xml", "docProps/app.xml"):
                content = _OFFICE_ELEMENTS.sub(lambda m: m.group(1) + m.group(4), content)
            for part, pattern in _AUTHOR_PARTS:
                if part.match(info.filename):
                    content = _blank_authors(pattern, content)
            out.writestr(info, content, compress_type=info.compress_type)
    return target.getvalue()


def _spaces(match: re.Match, group: int) -> bytes:
    """The match with one group's bytes replaced by as many spaces."""
    start, end = match.span(group)
    whole_start = match.start()
    text = match.group(0)
    return (text[:start - whole_start] + b" " * (end - start) + text[end - whole_start:])


def _blank_pdf_value(match: re.Match) -> bytes:
    value = match.group(2)
    if value.startswith(b"("):
        blank = b"(" + b" " * (len(value) - 2) + b")"
    else:  # a hex string: spaces are 20
        digits = len(value) - 2
        blank = b"<" + (b"20" * digits)[:digits] + b">"
    return match.group(0)[:match.start(2) - match.start()] + blank


def _strip_pdf(data: bytes) -> bytes:
    data = _PDF_INFO.sub(_blank_pdf_value, data)
    return _PDF_XMP.sub(lambda m: _spaces(m, 3), data)
