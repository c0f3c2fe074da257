"""Attachments lose the names and places in their metadata before they are stored, and keep
everything else: a reviewer of double-blind work cannot read the author from the file."""

import io
import struct
import zipfile
import zlib
from datetime import timedelta

import pytest

from app.peer_review import reviewing, submitting
from app.peer_review.attachments import check_upload
from app.peer_review.metadata import strip_metadata
from app.peer_review.submitting import Upload
from tests.peer_review.world import NOW, practice

NAME = b"Jane Author"


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with_text() -> tuple[bytes, bytes]:
    """A 1×1 PNG with an author and a time, and the same PNG without them."""
    head = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    data = _chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + _chunk(b"IEND", b"")
    text = (_chunk(b"tEXt", b"Author\x00" + NAME) + _chunk(b"tIME", b"\x07\xea\x03\x02\x08\x00\x00")
            + _chunk(b"iTXt", b"Comment\x00\x00\x00\x00\x00Taken at home by " + NAME))
    return head + text + data, head + data


def jpeg_with_exif() -> tuple[bytes, bytes]:
    """A JPEG with EXIF (APP1), IPTC (APP13) and a comment, and the same without them."""
    def segment(marker: int, body: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body
    jfif = segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    icc = segment(0xE2, b"ICC_PROFILE\x00\x01\x01colours")
    exif = segment(0xE1, b"Exif\x00\x00MM\x00*Artist=" + NAME + b";GPS=52.52,13.40")
    iptc = segment(0xED, b"Photoshop 3.0\x00By-line=" + NAME)
    comment = segment(0xFE, b"shot by " + NAME)
    quant = segment(0xDB, b"\x00" + bytes(range(64)))
    scan = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00") + b"\x12\x34\xff\x00\x56" + b"\xff\xd9"
    return (b"\xff\xd8" + jfif + exif + icc + iptc + comment + quant + scan,
            b"\xff\xd8" + jfif + icc + quant + scan)


def docx_with_authors() -> bytes:
    """A DOCX whose properties, comments and tracked changes name its author."""
    parts = {
        "[Content_Types].xml": b"<?xml version='1.0'?><Types/>",
        "_rels/.rels": b"<?xml version='1.0'?><Relationships/>",
        "docProps/core.xml": b"<cp:coreProperties><dc:title>My plan</dc:title><dc:creator>"
                             + NAME + b"</dc:creator><cp:lastModifiedBy>" + NAME
                             + b"</cp:lastModifiedBy></cp:coreProperties>",
        "docProps/app.xml": b"<Properties><Company>Author &amp; Sons</Company>"
                            b"<Pages>1</Pages></Properties>",
        "word/document.xml": b'<w:document><w:ins w:id="1" w:author="' + NAME
                             + b'"><w:t>Hello</w:t></w:ins></w:document>',
        "word/comments.xml": b'<w:comments><w:comment w:author="' + NAME
                             + b'" w:initials="JA"><w:t>Check this</w:t></w:comment>'
                             b"</w:comments>",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def pdf_with_author() -> bytes:
    return (b"%PDF-1.4\n1 0 obj <</Title (My plan) /Author (" + NAME + b") /Creator <4A616E65>"
            b" /Producer (Writer \\(v2\\))>> endobj\n2 0 obj <</Type /Metadata>> stream\n"
            b"<x:xmpmeta><dc:creator><rdf:Seq><rdf:li>" + NAME + b"</rdf:li></rdf:Seq>"
            b"</dc:creator></x:xmpmeta>\nendstream endobj\nxref\n0 3\ntrailer <</Info 1 0 R>>"
            b"\n%%EOF\n")


def test_png_text_chunks_go_and_the_image_stays():
    with_text, without = png_with_text()
    assert strip_metadata("png", with_text) == without
    assert check_upload("plan.png", without).kind == "png"


def test_jpeg_exif_iptc_and_comments_go_and_the_colour_profile_and_image_stay():
    with_exif, without = jpeg_with_exif()
    assert strip_metadata("jpg", with_exif) == without


def test_office_documents_keep_their_content_but_not_their_authors():
    cleaned = strip_metadata("docx", docx_with_authors())
    archive = zipfile.ZipFile(io.BytesIO(cleaned))
    text = b"".join(archive.read(name) for name in archive.namelist())
    assert NAME not in text and b"Sons" not in text
    assert b"<dc:title>My plan</dc:title>" in archive.read("docProps/core.xml")
    assert b'w:author="Author"' in archive.read("word/document.xml")
    assert b"<w:t>Check this</w:t>" in archive.read("word/comments.xml")
    assert check_upload("plan.docx", cleaned).kind == "docx"


def test_pdf_author_fields_are_blanked_in_place_keeping_every_offset():
    original = pdf_with_author()
    cleaned = strip_metadata("pdf", original)
    assert len(cleaned) == len(original)
    assert NAME not in cleaned and b"4A616E65" not in cleaned and b"Writer" not in cleaned
    assert b"/Title (My plan)" in cleaned
    assert cleaned.index(b"xref") == original.index(b"xref")


@pytest.mark.parametrize("kind, data", [("png", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xffIHDR"),
                                        ("jpg", b"\xff\xd8\xff\xe1\xff\xff"),
                                        ("docx", b"PK\x03\x04broken"),
                                        ("txt", b"Jane Author wrote this")])
def test_a_file_that_cannot_be_parsed_that_far_or_has_no_metadata_is_left_as_it_is(kind,
                                                                                   data):
    assert strip_metadata(kind, data) == data


def test_what_a_reviewer_downloads_carries_no_author_name(app, db):
    with db() as session:
        p = practice(session)
    author, reviewer = p.people["learner_a"], p.people["peer_1"]
    with app.app_context():
        work = submitting.submit_work(author, p.assignment.id, body="Attached",
                                      upload=Upload("plan.docx", docx_with_authors()), now=NOW)
        submitting.submit_work(reviewer, p.assignment.id, body="Mine",
                               now=NOW + timedelta(minutes=1))
        assert reviewing.request_review(reviewer, p.assignment.id, now=NOW).submission_id == \
            work.id
        path, _, _ = submitting.get_attachment_for(reviewer, work.id, now=NOW)
        stored = zipfile.ZipFile(path)
        assert all(NAME not in stored.read(name) for name in stored.namelist())
        assert work.attachment_size == path.stat().st_size
