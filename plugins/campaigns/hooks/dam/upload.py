"""An import's multipart body, streamed from the Box download, never held whole in memory."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterable, Iterator
from functools import partial
from typing import IO, Any

from urllib3.fields import RequestField

from campaigns.errors import TransientError

CHUNK_SIZE = 1 << 20


class MultipartUpload:
    """An import's multipart body streamed from `content`; replayable only if the content is."""

    def __init__(
        self,
        fields: dict[str, str],
        file_name: str,
        file_type: str,
        content: Iterable[bytes] | IO[bytes],
        size: int | None,
    ):
        boundary = secrets.token_hex(16)
        self.content_type = f"multipart/form-data; boundary={boundary}"
        self._head = b"".join(
            _part_head(boundary, name) + value.encode() + b"\r\n" for name, value in fields.items()
        ) + _part_head(boundary, "files", file_name, file_type)
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self._file_name = file_name
        self._content = content
        self._size = size
        self._start = content.tell() if _rewindable(content) else None
        self._sent = False

    def body(self) -> Iterable[bytes]:
        """A fresh body for one attempt: the content is rewound, or a retry is refused."""
        if self._sent:
            if self._start is not None:
                self._content.seek(self._start)
            elif isinstance(self._content, Iterator) or hasattr(self._content, "read"):
                raise TransientError(
                    f"the upload of {self._file_name!r} failed and its content stream cannot be "
                    "replayed; a retry of the task starts it again"
                )
        self._sent = True
        if hasattr(self._content, "read"):
            chunks = iter(partial(self._content.read, CHUNK_SIZE), b"")
        else:
            chunks = iter(self._content)
        parts = itertools.chain((self._head,), chunks, (self._tail,))
        if self._size is None:
            return parts
        return _Sized(parts, len(self._head) + self._size + len(self._tail))


class _Sized:
    """An iterable body whose length is known, so it goes out with a Content-Length."""

    def __init__(self, parts: Iterator[bytes], length: int):
        self._parts = parts
        self._length = length

    def __iter__(self) -> Iterator[bytes]:
        return self._parts

    def __len__(self) -> int:
        return self._length


def _part_head(
    boundary: str, name: str, file_name: str | None = None, file_type: str | None = None
) -> bytes:
    part = RequestField(name=name, data=b"", filename=file_name)
    part.make_multipart(content_type=file_type)
    return f"--{boundary}\r\n{part.render_headers()}".encode()


def _rewindable(content: Any) -> bool:
    return hasattr(content, "seek") and getattr(content, "seekable", lambda: False)()
