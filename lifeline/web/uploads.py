"""Multipart forms that carry a file, read as they stream in and never held in memory: the
part bookkeeping every such form shares (FormParts, which session files in files.py build on
too), and a form with one file to restore (a backup): streamed into a private file under the
data directory, never put in the system's temporary folder, refused beyond a size limit, and
its CSRF token checked before the file's first byte is written (the token field comes first in
the form)."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

MAX_FIELDS = 20
MAX_FIELD_BYTES = 8 * 1024
MB = 1024 * 1024


class UploadRefused(Exception):
    """Why the form was not read; said to the person (on the page, or in the JSON answer), with
    this HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class FormExpired(UploadRefused):
    def __init__(self) -> None:
        super().__init__("The form expired or was too large. Go back, reload the page and try again.", 400)


@dataclass
class Upload:
    """The uploaded file, in a private file the caller removes once done with it."""

    path: Path
    filename: str  # as the browser named it: for showing and logging only
    size: int

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def is_multipart(request: Request) -> bool:
    content_type, _ = parse_options_header(request.headers.get("content-type", ""))
    return content_type == b"multipart/form-data"


@dataclass
class FormParts(ABC):
    """python-multipart's callbacks for a form read part by part: each part's headers are
    collected here and its Content-Disposition read (the part's name, and its filename if it is
    a file); what becomes of the part is the subclass's to say."""

    # not __init__ arguments: the subclasses' own fields come first, without defaults
    _headers: dict[str, str] = field(default_factory=dict, init=False)
    _header: tuple[bytearray, bytearray] = field(default_factory=lambda: (bytearray(), bytearray()), init=False)
    _name: str = field(default="", init=False)
    _value: bytearray = field(default_factory=bytearray, init=False)  # a text field's bytes so far

    def parser(self, boundary: bytes) -> MultipartParser:
        callbacks = {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._header[0].extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._header[1].extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }
        return MultipartParser(boundary, callbacks)  # type: ignore[arg-type]

    def _part_begin(self) -> None:
        self._headers, self._name, self._value = {}, "", bytearray()

    def _header_end(self) -> None:
        name, value = self._header
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")
        name.clear()
        value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get("content-disposition", ""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        self._part_starts(None if filename is None else filename.decode("utf-8", "replace"))

    @abstractmethod
    def _part_starts(self, filename: str | None) -> None:
        """The part's headers are in: a text field (no filename) or a file. A part the form does
        not take is refused here, before any of its bytes."""

    @abstractmethod
    def _part_data(self, data: bytes, start: int, end: int) -> None: ...

    @abstractmethod
    def _part_end(self) -> None: ...


@dataclass
class _Reader(FormParts):
    file_field: str
    folder: Path
    limit: int
    csrf: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    upload: Upload | None = None
    _handle: IO[bytes] | None = None  # open while the file part streams in

    def _part_starts(self, filename: str | None) -> None:
        if filename is None:
            if len(self.fields) >= MAX_FIELDS:
                raise FormExpired()
            return
        if self._name != self.file_field or self.upload is not None:
            raise FormExpired()
        token = dict(self.fields).get("csrf", "")
        if not hmac.compare_digest(token, self.csrf):
            raise FormExpired()  # before a byte of the file is written
        shown = Path(filename.replace("\\", "/")).name[:255]
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, path = tempfile.mkstemp(dir=self.folder, prefix="upload-", suffix=".nsb")
        self._handle = os.fdopen(fd, "wb")
        self.upload = Upload(Path(path), shown, 0)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._handle is not None:
            assert self.upload is not None
            self.upload.size += end - start
            if self.upload.size > self.limit:
                raise UploadRefused(_too_large(self.limit), 413)
            self._handle.write(data[start:end])
        else:
            self._value.extend(data[start:end])
            if len(self._value) > MAX_FIELD_BYTES:
                raise FormExpired()

    def _part_end(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        else:
            self.fields.append((self._name, self._value.decode("utf-8", "replace")))

    def discard(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.close()
        if self.upload is not None:
            self.upload.remove()


def _too_large(limit: int) -> str:
    return (
        f"The file is larger than {limit // MB} MB, the most this appliance accepts "
        "(restore_upload_max_mb). Restore it with `lifeline restore --replace`, or raise the limit."
    )


async def read_upload(
    request: Request, *, file_field: str, folder: Path, limit: int, csrf: str
) -> tuple[FormData, Upload | None]:
    """The form's fields, and its file (None if none was chosen). The fields before the file
    must include the right `csrf` token."""
    _, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + MAX_FIELDS * MAX_FIELD_BYTES:
        raise UploadRefused(_too_large(limit), 413)
    if not boundary:
        raise FormExpired()
    reader = _Reader(file_field, folder, limit, csrf)
    try:
        parser = reader.parser(boundary)
        async for chunk in request.stream():
            if chunk:
                await asyncio.to_thread(parser.write, chunk)
        parser.finalize()
        if reader._handle is not None:  # the body ended inside the file
            raise FormExpired()
    except MultipartParseError:
        reader.discard()
        raise FormExpired() from None
    except BaseException:
        reader.discard()
        raise
    upload = reader.upload
    if upload is not None and upload.size == 0 and not upload.filename:
        upload.remove()  # the file input was left empty
        upload = None
    fields: list[tuple[str, str | UploadFile]] = list(reader.fields)
    return FormData(fields), upload
