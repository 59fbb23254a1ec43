"""Reading a CSV file strictly: encoding, byte-order marks, quoting and ragged rows."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from analysis.data._records import (
    _BAD_BYTE_RE,
    _OTHER_BOMS,
    _UTF8_BOM,
    Problem,
    _display,
)

@dataclass
class _Raw:
    """A CSV file read as text: header, columns of cell strings, spreadsheet lines."""

    file: str
    header: list[str]
    columns: dict[str, list[str]]  # one entry per *distinct* header name
    lines: list[int]  # spreadsheet line of each kept row
    problems: list[Problem]
    dropped: int = 0  # rows left out because their number of fields differs from the header's

    def __len__(self) -> int:
        return len(self.lines)


def _read_csv(path: Path) -> _Raw | list[Problem]:
    """Read a CSV file strictly; return the table or the problems that stop reading it."""
    file = _display(path)
    data = path.read_bytes()  # read once, never written: validation does not touch the file
    problems: list[Problem] = []
    for bom, name in _OTHER_BOMS:
        if data.startswith(bom):
            return [Problem(file, 1, None, None,
                            f"file is {name} encoded (byte-order mark "
                            f"{' '.join(f'0x{b:02X}' for b in bom)}); save it as UTF-8")]
    if data.startswith(_UTF8_BOM):
        # Excel writes one; pandas and R then see a column named '\ufeffrow_id'
        problems.append(Problem(file, 1, None, None,
                                "file starts with a UTF-8 byte-order mark (BOM); "
                                "save it as UTF-8 without BOM"))
        data = data[len(_UTF8_BOM):]
    if not data.strip():
        return [*problems, Problem(file, 1, None, None,
                                   "file is empty; it needs a header row and data rows")]
    # surrogateescape keeps every undecodable byte, so the problem can name the byte and
    # the cell it sits in instead of failing on the whole file.
    text = data.decode("utf-8", errors="surrogateescape")
    delimiter = _other_delimiter(text)
    if delimiter is not None:
        # a spreadsheet's export in a locale whose list separator is not a comma: every
        # later message (quotes, columns, unknown ids) would be a knock-on of this one
        return [*problems, Problem(file, 1, None, None,
                                   f"the header is separated by {delimiter}, not commas: save the "
                                   "file as comma-separated CSV (in a spreadsheet: CSV UTF-8, "
                                   "comma-delimited)")]
    conflicts = _merge_conflicts(text)
    if conflicts:
        # two versions of some rows: every later message would be a knock-on of that
        return [*problems, *(Problem(file, start, None, None,
                                     f"a merge conflict left by git (lines {start} to {end}, from "
                                     f"{first!r} to {last!r}): keep one version of the rows between "
                                     "the markers and delete the marker lines")
                             for start, end, first, last in conflicts)]
    records: list[list[str]] = []
    try:
        for record in csv.reader(io.StringIO(text, newline=""), strict=True):
            records.append(record)
    except csv.Error as error:
        problems.append(Problem(file, len(records) + 1, None, None,
                                f"malformed CSV ({error}); check the quotes in this row"))
        return problems
    header, body = records[0], records[1:]
    for position, name in enumerate(header, start=1):
        if _BAD_BYTE_RE.search(name):
            problems.append(Problem(file, 1, name, None, _bad_bytes_rule(name)))
        elif name == "":
            problems.append(Problem(file, 1, None, None,
                                    f"header field {position} is empty (a trailing comma?)"))
        elif name != name.strip():
            problems.append(Problem(file, 1, name, None,
                                    "leading or trailing whitespace in the column name"))
    counts = Counter(header)
    for name, count in counts.items():
        if count > 1 and name != "":
            problems.append(Problem(file, 1, name, None,
                                    f"column name appears {count} times in the header"))
    kept_rows: list[list[str]] = []
    kept_lines: list[int] = []
    if not any(cell.strip() for row in body for cell in row):
        problems.append(Problem(file, 1, None, None, "file has a header but no data rows"))
        body = []
    ragged: dict[int, list[int]] = {}  # fields -> lines of rows with that many
    for line, row in enumerate(body, start=2):
        if not any(cell.strip() for cell in row):
            # a blank spreadsheet row: editing residue, with no key to refer to it by
            problems.append(Problem(file, line, None, None, "empty row; delete it"))
            continue
        if len(row) != len(header):
            ragged.setdefault(len(row), []).append(line)
            continue
        kept_rows.append(row)
        kept_lines.append(line)
    problems += _ragged_problems(file, ragged, len(header), len(body))
    positions = {name: header.index(name) for name in counts if name != ""}
    columns = {name: [row[i] for row in kept_rows] for name, i in positions.items()}
    return _Raw(file, header, columns, kept_lines, problems,
                dropped=sum(len(lines) for lines in ragged.values()))


#: Up to this many rows with a wrong number of fields are listed one by one; more are one message.
_RAGGED_LISTED = 3

_DELIMITERS = {";": "semicolons (';')", "\t": "tabs"}


def _other_delimiter(text: str) -> str | None:
    """How the header is separated when it is not by commas (None: commas, or one column)."""
    first = text.split("\n", 1)[0]
    if "," in first:
        return None
    for delimiter, name in _DELIMITERS.items():
        if delimiter in first:
            return name
    return None


def _merge_conflicts(text: str) -> list[tuple[int, int, str, str]]:
    """Each block git leaves in a file it could not merge: (first line, last line, the opening
    marker, the closing marker), lines counted from 1.

    >>> _merge_conflicts("a,b\\n<<<<<<< HEAD\\n1,2\\n=======\\n1,3\\n>>>>>>> other\\n4,5\\n")
    [(2, 6, '<<<<<<< HEAD', '>>>>>>> other')]
    """
    blocks, start = [], None
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if line.startswith("<<<<<<<") and start is None:
            start = number
        elif line.startswith(">>>>>>>") and start is not None:
            blocks.append((start, number, lines[start - 1].strip(), line.strip()))
            start = None
    if start is not None:  # an opening marker without its end
        blocks.append((start, len(lines), lines[start - 1].strip(), lines[-1].strip()))
    return blocks


def _ragged_problems(file: str, ragged: dict[int, list[int]], width: int,
                     rows: int) -> list[Problem]:
    """Rows whose number of fields differs from the header's: each listed when few, else one
    message per field count (a header with a column too many or too few is one cause)."""
    problems = []
    for fields, lines in ragged.items():
        if len(lines) <= _RAGGED_LISTED:
            problems += [Problem(file, line, None, None,
                                 f"row has {fields} fields but the header has {width}")
                         for line in lines]
            continue
        cause = ("the header names a column the rows do not have" if fields < width
                 else "the rows have a field the header does not name")
        share = "every data row" if len(lines) == rows else f"{len(lines)} rows"
        problems.append(Problem(file, lines[0], None, None,
                                f"{share} (lines {lines[0]} to {lines[-1]}) {'has' if share == 'every data row' else 'have'} "
                                f"{fields} fields but the header has {width}: {cause}"))
    return problems


def _bad_bytes_rule(text: str) -> str:
    found = list(dict.fromkeys(f"0x{ord(c) - 0xDC00:02X}" for c in _BAD_BYTE_RE.findall(text)))
    if len(found) == 1:
        return f"byte {found[0]} is not valid UTF-8; save the file as UTF-8"
    return f"bytes {', '.join(found)} are not valid UTF-8; save the file as UTF-8"


