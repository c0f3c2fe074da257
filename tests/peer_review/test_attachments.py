"""Attachments (app.peer_review.attachments): types by content, limits, names, storage."""

import io
import stat
import struct
import zipfile
import zlib
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.errors import Invalid, NotFound
from app.peer_review import attachments
from app.peer_review.attachments import (
    KINDS,
    MAX_BYTES,
    MAX_NAME,
    MAX_ZIP_ENTRIES,
    STORED_NAME,
    CheckedFile,
    check_upload,
    clean_name,
    content_disposition,
    detect_type,
    path_for,
    store,
)


def png_1x1() -> bytes:
    """A real 1×1 white PNG."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + chunk(b"IEND", b""))


def office(*names: str, **options) -> bytes:
    """A ZIP holding ``names`` (each a tiny XML part)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, **options) as archive:
        for name in names:
            archive.writestr(name, "<?xml version='1.0'?><x/>")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = png_1x1()
JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
DOCX = office("[Content_Types].xml", "_rels/.rels", "word/document.xml")
PPTX = office("[Content_Types].xml", "_rels/.rels", "ppt/presentation.xml")
TXT = "Notes on the reading — café, naïve, 日本語.\n".encode()
SAMPLES = {"pdf": PDF, "png": PNG, "jpg": JPG, "docx": DOCX, "pptx": PPTX, "txt": TXT}


def refusal(filename: str, data, **options) -> str:
    """The message ``check_upload`` refuses the file with (also the attachment field's)."""
    with pytest.raises(Invalid) as caught:
        check_upload(filename, data, **options)
    assert caught.value.status == 422
    assert caught.value.fields == {"attachment": caught.value.message}
    return caught.value.message


class CountingStream(io.RawIOBase):
    """``size`` bytes starting like ``prefix`` (None: endless), made on demand; counts reads."""

    def __init__(self, prefix: bytes, size: int | None):
        self.prefix, self.size, self.position = prefix, size, 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        assert n is not None and n >= 0, "an upload must never be read whole"
        if self.size is not None:
            n = min(n, self.size - self.position)
        start = self.position
        self.position += n
        head = self.prefix[start:start + n]
        return head + b"\x00" * (n - len(head))


# Allowed types ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(SAMPLES))
def test_each_allowed_type_is_accepted_from_its_bytes(kind):
    data = SAMPLES[kind]
    checked = check_upload(f"My work.{kind}", data)
    assert checked == CheckedFile(kind, KINDS[kind][1], kind, len(data), f"My work.{kind}")
    assert detect_type(data) == kind


def test_a_stream_is_accepted_like_bytes():
    assert check_upload("slides.pptx", io.BytesIO(PPTX)).kind == "pptx"


def test_jpeg_counts_as_jpg_and_a_name_without_extension_gets_the_right_one():
    assert check_upload("Photo.JPEG", JPG).display_name == "Photo.jpg"
    assert check_upload("scan", PNG).display_name == "scan.png"
    assert check_upload("Chapter 1. Intro", PDF).display_name == "Chapter 1. Intro.pdf"


def test_detect_type_reads_a_zip_from_the_bytes_or_a_callable():
    head = DOCX[:64]
    assert detect_type(head, open_zip=DOCX) == "docx"
    assert detect_type(head, open_zip=lambda: io.BytesIO(DOCX)) == "docx"
    assert detect_type(head) is None  # a truncated archive is not an Office file


def test_text_may_mention_markup_after_its_start():
    accepted = [b"Use a <script> tag only in the head.\n", b"<3 thanks!", b"  a < b and c > d",
                b"\xef\xbb\xbfWith a byte order mark."]
    for data in accepted:
        assert check_upload("notes.txt", data).kind == "txt"


# Refused content -------------------------------------------------------------------------

@pytest.mark.parametrize(("filename", "data", "really"), [
    ("report.pdf", PNG, "This file is a PNG image, but its name ends in .pdf."),
    ("essay.txt", PDF, "This file is a PDF document, but its name ends in .txt."),
    ("essay.pdf", TXT, "This file is plain text, but its name ends in .pdf."),
    ("slides.docx", PPTX, "This file is a PowerPoint (PPTX) presentation, but its name ends "
                          "in .docx."),
    ("photo.png", JPG, "This file is a JPG image, but its name ends in .png."),
])
def test_content_and_name_must_agree(filename, data, really):
    message = refusal(filename, data)
    assert message.startswith(really)
    assert message.endswith(f"rename this one to end in .{detect_type(data)}.")


ALLOWED = "Attach a PDF, PNG, JPG, DOCX, PPTX or plain-text file of at most 10 MB; this file is"


@pytest.mark.parametrize(("filename", "data", "what"), [
    ("setup.docx", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200), "a Windows program"),
    ("tool.pdf", b"\x7fELF\x02\x01\x01" + bytes(100), "a program"),
    ("essay.docx", office("notes.txt", "word/document.xml"), "a ZIP archive"),
    ("essay.docx", b"PK\x05\x06" + bytes(18), "a ZIP archive"),
    ("essay.docx", b"PK\x03\x04 not really a zip", "a damaged ZIP archive"),
    ("sheet.docx", office("[Content_Types].xml", "xl/workbook.xml"), "an Excel workbook"),
    ("essay.docx", office("mimetype", "content.xml"),
     "an OpenDocument file; save it as DOCX or PDF"),
    ("essay.docx", office("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"),
     "an Office file with macros"),
    ("both.docx", office("[Content_Types].xml", "word/document.xml", "ppt/presentation.xml"),
     "a ZIP archive"),
    ("essay.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100),
     "an old-style or password-protected Office file (DOC, PPT, XLS)"),
    ("cat.png", b"GIF89a\x01\x00\x01\x00", "a GIF image"),
    ("page.txt", b"<!DOCTYPE html><html><script>alert(1)</script></html>",
     "an HTML or XML page"),
    ("page.txt", b"\n  <script>alert(1)</script>", "an HTML or XML page"),
    ("page.txt", b"\xef\xbb\xbf <html><body>hi</body></html>", "an HTML or XML page"),
    ("logo.txt", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "an SVG image"),
    ("logo.txt", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
     "an SVG image"),
    ("notes.txt", b"almost text\x00with a NUL", "a binary file"),
    ("notes.txt", b"caf\xe9 in Latin-1", "neither one of these types nor UTF-8 text"),
    ("notes.txt", "UTF-16 text".encode("utf-16"), "text in UTF-16; save it as UTF-8"),
    ("empty.pdf", b"", "empty"),
])
def test_refused_content_is_named(filename, data, what):
    assert refusal(filename, data) == f"{ALLOWED} {what}."
    assert detect_type(data) is None


def test_an_encrypted_zip_is_refused():
    # zipfile writes no encrypted entries: set the "encrypted" flag bit in both headers.
    data = bytearray(office("[Content_Types].xml", "word/document.xml"))
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = data.find(signature)
        while start != -1:
            data[start + flags_at] |= 0x1
            start = data.find(signature, start + 4)
    assert zipfile.ZipFile(io.BytesIO(data)).infolist()[0].flag_bits & 0x1
    assert refusal("secret.docx", bytes(data)).endswith("this file is an encrypted archive.")


def test_a_zip_of_too_many_entries_is_refused():
    names = ["[Content_Types].xml", "word/document.xml"]
    names += [f"word/media/{n}.xml" for n in range(MAX_ZIP_ENTRIES - 1)]
    assert refusal("many.docx", office(*names)).endswith(
        "this file is a ZIP archive of more than 2,000 files.")
    assert check_upload("enough.docx", office(*names[:MAX_ZIP_ENTRIES])).kind == "docx"


def test_a_zip_bomb_is_refused_without_unpacking_it(monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as part:
            megabyte = bytes(1024 * 1024)
            for _ in range(101):
                part.write(megabyte)
    bomb = buffer.getvalue()
    assert len(bomb) < 1024 * 1024  # small to send, 101 MB once unpacked

    def unpack(*args, **kwargs):
        raise AssertionError("the archive was unpacked")
    monkeypatch.setattr(zipfile.ZipFile, "open", unpack)
    assert refusal("essay.docx", bomb).endswith(
        "this file is a ZIP archive that unpacks to more than 100 MB.")


# Size ------------------------------------------------------------------------------------

def test_one_byte_over_the_limit_is_refused_reading_one_byte_past_it():
    stream = CountingStream(PDF, MAX_BYTES + 1)
    assert refusal("big.pdf", stream) == f"{ALLOWED} larger."
    assert stream.position == MAX_BYTES + 1
    assert refusal("big.pdf", PDF + bytes(MAX_BYTES + 1 - len(PDF))) == f"{ALLOWED} larger."


def test_exactly_the_limit_is_accepted():
    assert check_upload("big.pdf", CountingStream(PDF, MAX_BYTES)).size == MAX_BYTES


def test_an_endless_stream_is_read_no_further_than_the_limit():
    stream = CountingStream(PDF, None)
    assert refusal("endless.pdf", stream, max_bytes=1000).endswith(
        "of at most 1,000 bytes; this file is larger.")
    assert stream.position == 1001


def test_the_limit_is_named_in_megabytes():
    assert refusal("big.pdf", PDF, max_bytes=20).endswith(
        "of at most 20 bytes; this file is larger.")
    assert "at most 2 MB; this file is larger." in refusal(
        "big.pdf", CountingStream(PDF, 2 * 1024 * 1024 + 1), max_bytes=2 * 1024 * 1024)


# Names -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("filename", "display"), [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\Windows\\report.pdf", "report.pdf"),
    ("C:\\fakepath\\My essay.pdf", "My essay.pdf"),
    ("rep\x00ort.pdf", "report.pdf"),
    ("line\r\nX-Injected: yes.pdf", "line X-Injected_ yes.pdf"),
    ("...hidden.pdf", "hidden.pdf"),
    (".pdf", "attachment.pdf"),
    ("   ", "attachment.pdf"),
    ("essay.pdf. . ", "essay.pdf"),
    ('a "quoted" <name>?.pdf', "a _quoted_ _name__.pdf"),
    ("tabs\tand   spaces.pdf", "tabs and spaces.pdf"),
    ("Re\u0301sume\u0301 — e\u0301te\u0301.pdf", "Résumé — été.pdf"),
    ("日本語のレポート.pdf", "日本語のレポート.pdf"),
    ("CON.pdf", "_CON.pdf"),
    ("nul.draft.pdf", "_nul.draft.pdf"),
    ("essay.PDF", "essay.pdf"),
])
def test_display_names_are_cleaned(filename, display):
    assert check_upload(filename, PDF).display_name == display


def test_a_very_long_name_is_cut_and_keeps_its_extension():
    display = check_upload("x" * 1000 + ".docx", DOCX).display_name
    assert len(display) == MAX_NAME
    assert display == "x" * (MAX_NAME - 5) + ".docx"


def test_a_hidden_extension_cannot_sneak_past_the_check():
    # U+202E turns "invoice‮fdp.exe" into what looks like "invoiceexe.pdf" on screen.
    assert "its name ends in .exe" in refusal("invoice\u202efdp.exe", PDF)
    assert "its name ends in .exe" in refusal("essay.pdf\x00.exe", PDF)


@given(st.text(), st.sampled_from(list(KINDS)))
def test_any_text_becomes_a_safe_display_name(filename, kind):
    display = clean_name(filename, kind)
    stem, _, extension = display.rpartition(".")
    assert extension == KINDS[kind][0] and stem
    assert 0 < len(display) <= MAX_NAME
    assert not display.startswith((".", " "))
    assert not set(display) & set('/\\<>:"|?*')
    assert all(c.isprintable() or c == " " for c in display)
    assert display == " ".join(display.split())
    assert clean_name(display, kind) == display


# Downloads -------------------------------------------------------------------------------

def test_content_disposition_names_the_file():
    assert content_disposition("My essay.pdf") == (
        "attachment; filename=\"My essay.pdf\"; filename*=UTF-8''My%20essay.pdf")
    assert content_disposition("Résumé 日本.pdf") == (
        "attachment; filename=\"Resume __.pdf\"; "
        "filename*=UTF-8''R%C3%A9sum%C3%A9%20%E6%97%A5%E6%9C%AC.pdf")


@given(st.text())
def test_content_disposition_is_a_safe_header_for_any_text(name):
    value = content_disposition(name)
    assert value.isascii() and value.isprintable()
    fallback = value.split('filename="', 1)[1].split('"; filename*=', 1)[0]
    assert fallback and not set(fallback) & set('"\\%/;') and not fallback.startswith(".")
    encoded = value.rsplit("''", 1)[1]
    assert unquote(encoded, errors="replace") == name.encode(errors="replace").decode()


# Storage ---------------------------------------------------------------------------------

def test_store_writes_the_bytes_under_a_new_random_name(tmp_path):
    directory = tmp_path / "instance" / "attachments"
    checked = check_upload("../Alice Smith essay.pdf", PDF)
    names = {store(checked, PDF, directory) for _ in range(20)}
    assert len(names) == 20
    for name in names:
        assert STORED_NAME.fullmatch(name)
        assert "Alice" not in name and "essay" not in name
        assert path_for(directory, name).read_bytes() == PDF
        assert stat.S_IMODE(path_for(directory, name).stat().st_mode) == 0o600
    assert sorted(p.name for p in directory.iterdir()) == sorted(names)


def test_store_rewinds_a_checked_stream(tmp_path):
    stream = io.BytesIO(PNG)
    checked = check_upload("dot.png", stream)
    assert path_for(tmp_path, store(checked, stream, tmp_path)).read_bytes() == PNG


def test_store_refuses_data_other_than_what_was_checked(tmp_path):
    checked = check_upload("essay.pdf", PDF)
    for other in (PDF + b"more", PDF[:-1], io.BytesIO(PDF + b"x")):
        with pytest.raises(ValueError, match="not the attachment that was checked"):
            store(checked, other, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_store_never_overwrites_a_file(tmp_path, monkeypatch):
    taken, fresh = "A" * 32, "B" * 32
    (tmp_path / taken).write_bytes(b"someone else's work")
    drawn = iter([taken, fresh])
    monkeypatch.setattr(attachments.secrets, "token_urlsafe", lambda size: next(drawn))
    assert store(check_upload("essay.pdf", PDF), PDF, tmp_path) == fresh
    assert (tmp_path / taken).read_bytes() == b"someone else's work"


@pytest.mark.parametrize("name", [
    "../" + "a" * 29, "..", "", "a" * 31, "a" * 33, "a" * 31 + ".", "a" * 31 + "/",
    "/etc/passwd", "a" * 32 + "\n", "essay.pdf", "%2e%2e%2f" + "a" * 23, None,
])
def test_path_for_refuses_anything_but_a_stored_name(tmp_path, name):
    with pytest.raises(NotFound):
        path_for(tmp_path, name)
