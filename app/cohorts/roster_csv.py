"""Reading a roster CSV file (``email,name,role``): pure code, no database.

Every row is checked and every problem reported by line, so a file can be fixed in one go."""

import csv
import io
from dataclasses import dataclass, field

from app.accounts.services import normalize_email
from app.cohorts.models import (
    ROLES,
)
from app.errors import Invalid
from app.text import as_one_line

#: The CSV header, in this order.
IMPORT_COLUMNS = ("email", "name", "role")
IMPORT_MAX_BYTES = 1_000_000
IMPORT_MAX_ROWS = 5_000
#: As long as an account's name may be.
NAME_MAX = 120
UTF8_HINT = ("Save it as UTF-8 CSV (in Excel: File › Save As › “CSV UTF-8”; in Google Sheets: "
             "File › Download › CSV) and upload it again.")


@dataclass(frozen=True)
class RowError:
    """Why one line of an import was refused; ``line`` is None for the file as a whole."""

    line: int | None
    reason: str


@dataclass
class ImportReport:
    """What an import did (or, when refused, would have done), e-mails listed per outcome.

    ``added`` had accounts and are members now; ``invited`` are members too and were sent
    an invitation to set up their account; ``already_members`` were left as they were.
    """

    added: list[str] = field(default_factory=list)
    invited: list[str] = field(default_factory=list)
    already_members: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    #: Whether anything was written (False when the import was refused).
    imported: bool = False


class ImportRejected(Invalid):
    """A CSV import was refused: nothing was written. ``report`` lists every problem."""

    code = "csv_invalid"

    def __init__(self, report: ImportReport, message: str):
        fields = {("file" if e.line is None else f"line {e.line}"): e.reason
                  for e in report.errors}
        super().__init__(message, fields=fields)
        self.report = report


@dataclass(frozen=True)
class ImportRow:
    """A checked row of an import."""

    line: int
    email: str
    name: str
    role: str


def check_row(line: int, email: str, name: str,
               role: str) -> tuple[ImportRow | None, dict[str, str]]:
    """Check one row's values: the clean row, or ``{field: reason}`` when refused."""
    # A spreadsheet cell may hold a line break (Alt+Enter); a name is one line.
    email, name, role = email.strip(), as_one_line(name), role.strip().lower() or "learner"
    if not email:
        return None, {"email": "The e-mail is missing."}
    try:
        clean_email = normalize_email(email)
    except Invalid:
        return None, {"email": f"“{email[:100]}” is not a valid e-mail address."}
    if role not in ROLES:
        return None, {"role": f"Unknown role “{role[:40]}”; use learner or facilitator "
                              "(an empty role means learner)."}
    if len(name) > NAME_MAX:
        return None, {"name": f"The name is {len(name)} characters long; keep it to "
                              f"{NAME_MAX}."}
    return ImportRow(line, clean_email, name, role), {}


def _refuse_file(reason: str) -> ImportRejected:
    """An import refused as a whole, for a reason about the file rather than a row."""
    return ImportRejected(ImportReport(errors=[RowError(None, reason)]), reason)


def _decode_csv(data: bytes) -> str:
    """The file as text, or ImportRejected with a file-level reason."""
    if len(data) > IMPORT_MAX_BYTES:
        raise _refuse_file(f"The file is larger than {IMPORT_MAX_BYTES // 1_000_000} MB; "
                           "split it into smaller files.")
    if not data.strip():
        raise _refuse_file("The file is empty. The first line must be the header email,name,role.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _refuse_file("This file is UTF-16 text. " + UTF8_HINT)
    if b"\x00" in data:
        raise _refuse_file("This is not a CSV text file (it contains binary data, or it is UTF-16 "
                           "text). " + UTF8_HINT)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise _refuse_file(f"The file is not UTF-8 text (line {line} has a character in another "
                           "encoding, such as Latin-1). " + UTF8_HINT) from None


def parse_import(data: bytes) -> tuple[list[ImportRow], list[RowError]]:
    """Check every row of a CSV import; file-level problems raise ImportRejected."""
    text = _decode_csv(data)
    # strict: a stray or unclosed quote is an error, not a row that swallows the rest.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[ImportRow] = []
    errors: list[RowError] = []
    first_line_of: dict[str, int] = {}
    header_seen = False
    next_line = 1
    try:
        for cells in reader:
            # A quoted value may span lines: a row starts where the previous one ended.
            line, next_line = next_line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue  # blank lines (a trailing newline, a spacer row) mean nothing
            if not header_seen:
                header = [cell.strip().lower() for cell in cells]
                if tuple(header) != IMPORT_COLUMNS:
                    found = ",".join(cell.strip() for cell in cells)[:100]
                    hint = (" It looks like a data row: add the header line above it."
                            if "@" in found else "")
                    raise _refuse_file(f"Line {line} must be the header email,name,role "
                                       f"(found “{found}”).{hint}")
                header_seen = True
                continue
            if len(rows) + len(errors) >= IMPORT_MAX_ROWS:
                raise _refuse_file(f"The file has more than {IMPORT_MAX_ROWS:,} rows; split it "
                                   "into smaller files.")
            while len(cells) > len(IMPORT_COLUMNS) and not cells[-1].strip():
                cells.pop()  # spreadsheets sometimes add empty trailing cells
            if len(cells) != len(IMPORT_COLUMNS):
                much = "many" if len(cells) > len(IMPORT_COLUMNS) else "few"
                errors.append(RowError(line, f"Too {much} columns: {len(cells)} instead of 3 "
                                             "(email,name,role). Quote a name that has a "
                                             "comma, e.g. \"Lovelace, Ada\"."))
                continue
            row, problem = check_row(line, *cells)
            if problem:
                errors.extend(RowError(line, reason) for reason in problem.values())
                continue
            if row.email in first_line_of:
                errors.append(RowError(line, f"Duplicate of line {first_line_of[row.email]} "
                                             f"({row.email})."))
                continue
            first_line_of[row.email] = line
            rows.append(row)
    except csv.Error as error:
        raise _refuse_file(f"Line {reader.line_num} cannot be read as CSV ({error}). Check its "
                           "quotes.") from None
    if not header_seen:
        raise _refuse_file("The file is empty. The first line must be the header email,name,role.")
    if not rows and not errors:
        raise _refuse_file("The file has a header but no rows under it.")
    return rows, errors
