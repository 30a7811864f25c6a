"""Reading delimited text files as published: any common encoding, any common delimiter.

Official tables arrive in UTF-8 (with or without a byte-order mark), in
Windows-1252 / Latin-1 (older ONS and NOMIS downloads, Excel's "CSV"), or in
UTF-16 (Excel's "Unicode text"); with commas, semicolons (European Excel) or
tabs; with Windows line endings. :func:`decode` finds the encoding and says
which it used; :func:`read_table` also finds the delimiter and refuses empty
and header-only files, so a reader never sees zero rows without knowing.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from dataclasses import dataclass

import pandas as pd

from ._warn import warn_user
from .errors import ReadError

DELIMITERS = (",", ";", "\t", "|")
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass(frozen=True)
class TextInfo:
    """How a text file was read: its encoding and delimiter."""

    encoding: str
    delimiter: str | None = None

    def describe(self) -> str:
        found = f"read as {self.encoding}"
        if self.delimiter is not None:
            found += f", {delimiter_name(self.delimiter)}-delimited"
        return found


def delimiter_name(delimiter: str) -> str:
    return _NAMES.get(delimiter, repr(delimiter))


def source_name(source) -> str:
    return "<DataFrame>" if isinstance(source, pd.DataFrame) else str(source)


def read_bytes(path, what: str) -> bytes:
    """The bytes of ``path``; ReadError when it is missing, a folder or empty."""
    if not os.path.exists(path):
        raise ReadError(f"{what} file not found: {path}", fix="check the path")
    if os.path.isdir(path):
        raise ReadError(f"{what} path is a folder, not a file: {path}", fix="name the file")
    with open(path, "rb") as handle:
        data = handle.read()
    if not data.strip():
        raise ReadError(
            f"the {what} file {path} is empty ({len(data)} bytes)",
            fix="check that the download or export finished, and read the complete file",
        )
    return data


def decode(data: bytes, where: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode ``data``, returning the text and the encoding used.

    A byte-order mark decides (UTF-8 or UTF-16); otherwise UTF-8 is tried,
    then Windows-1252, then Latin-1 (which decodes any byte). A fallback from
    UTF-8 is reported in a warning, because it is a guess.
    """
    if encoding is not None:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as error:
            raise ReadError(
                f"{where} cannot be decoded as {encoding}: {error}",
                fix="pass the file's real encoding (utf-8, cp1252, latin-1, utf-16), or leave "
                "encoding unset to have it detected",
            ) from error
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16").lstrip("\ufeff"), "utf-16"
        except UnicodeDecodeError as error:
            raise ReadError(
                f"{where} starts with a UTF-16 byte-order mark but is not UTF-16 text ({error})",
                fix="save it again as CSV UTF-8",
            ) from error
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReadError(
            f"{where} is a zip or an Excel workbook, not a text table",
            fix="save the sheet as CSV (CSV UTF-8 in Excel) and read that",
        )
    if b"\x00" in data[:4096]:
        raise ReadError(
            f"{where} holds NUL bytes: it is a binary file, or UTF-16 text without a "
            "byte-order mark",
            fix="check that it is the CSV you meant (a GeoPackage is read with read_areas); "
            "for UTF-16 text pass encoding='utf-16'",
        )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    for fallback in ("cp1252", "latin-1"):
        try:
            text = data.decode(fallback)
        except UnicodeDecodeError:
            continue
        warn_user(
            f"{where} is not UTF-8; read it as {fallback} (check accented names such as "
            "'Ynys Môn'; pass encoding= if this is wrong)",
            UserWarning,
        )
        return text, fallback
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header into the most fields, consistently.

    Only the first twenty lines are looked at; quoted fields are respected.
    A one-column file counts as comma-delimited.
    """
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    best, best_score = ",", (1, 0)
    for delimiter in DELIMITERS:
        widths = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        if not widths or widths[0] < 2:
            continue
        consistent = sum(w == widths[0] for w in widths)
        score = (widths[0], consistent) if consistent * 2 >= len(widths) else (1, 0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_table(
    source,
    what: str,
    *,
    sep: str | None = None,
    encoding: str | None = None,
    allow_empty: bool = False,
    **read_csv_kwargs,
) -> tuple[pd.DataFrame, TextInfo]:
    """Read a delimited text file with every cell as a string.

    Parameters
    ----------
    source : path
        The file.
    what : str
        What it holds (``"counts"``, ``"lookup"``), for messages.
    sep, encoding : str, optional
        Force a delimiter or an encoding instead of detecting it.
    allow_empty : bool, default False
        Accept a header without rows.
    **read_csv_kwargs
        Options for :func:`pandas.read_csv` that override the defaults.

    Returns
    -------
    table : pandas.DataFrame
        Strings everywhere (codes keep their leading zeros); column names
        stripped of surrounding spaces.
    info : TextInfo
        The encoding used and the delimiter found.

    Raises
    ------
    ReadError
        For a missing, empty, binary or header-only file, ragged rows, or an
        encoding that does not decode.
    """
    data = read_bytes(source, what)
    text, used = decode(data, f"the {what} file {source}", encoding)
    # Windows and old Mac line endings become plain newlines before parsing,
    # so no cell keeps a stray carriage return.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    forced = sep if sep is not None else read_csv_kwargs.pop("delimiter", None)
    delimiter = forced if forced is not None else sniff_delimiter(text)
    info = TextInfo(used, delimiter)
    try:
        options = {"sep": delimiter, "dtype": str, "keep_default_na": False, "engine": "c"}
        table = pd.read_csv(io.StringIO(text), **(options | read_csv_kwargs))
    except pd.errors.EmptyDataError as error:
        raise ReadError(
            f"the {what} file {source} has no header row", fix="read the complete file"
        ) from error
    except (pd.errors.ParserError, csv.Error, ValueError, TypeError) as error:
        raise ReadError(
            f"the {what} file {source} is not a consistent table ({info.describe()}): "
            f"{str(error).strip()}",
            fix="check the line named for a missing quote or an extra delimiter"
            + (", or pass the delimiter with sep=" if forced is None else ""),
        ) from error
    table.columns = [str(c).strip() for c in table.columns]
    check_unique_columns(table.columns, f"the {what} file {source}")
    if table.empty and not allow_empty:
        raise ReadError(
            f"the {what} file {source} has a header but no rows "
            f"(columns: {', '.join(table.columns[:10])})",
            fix="check that the export finished; a table with no rows cannot be analysed",
        )
    return table, info


def check_unique_columns(columns, where: str) -> None:
    """ReadError when two columns share a name (after stripping spaces)."""
    names = pd.Index([str(c) for c in columns])
    twice = names[names.duplicated()].unique()
    if len(twice):
        raise ReadError(
            f"{where} has more than one column named {', '.join(map(repr, twice))}",
            rows=list(twice),
            fix="rename the columns so that each name is used once",
        )


def looks_delimited_by(columns, delimiter: str) -> str | None:
    """When a one-column header contains another delimiter, the one it looks delimited by."""
    if len(columns) != 1:
        return None
    header = str(columns[0])
    for candidate in DELIMITERS:
        if candidate != delimiter and candidate in header:
            return candidate
    return None
