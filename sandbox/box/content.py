"""File content generated from a seed and a size: never stored, streamed in chunks."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from functools import lru_cache

CHUNK_SIZE = 64 * 1024


@lru_cache(maxsize=64)
def _block(seed: str) -> bytes:
    return random.Random(seed).randbytes(CHUNK_SIZE)


def generated_chunks(seed: str, size: int) -> Iterator[bytes]:
    """Yield the `size` bytes of the file generated from `seed`, chunk by chunk."""
    block = _block(seed)
    for index, start in enumerate(range(0, size, CHUNK_SIZE)):
        # Numbering each chunk makes a dropped, repeated or reordered chunk change the checksum.
        chunk = index.to_bytes(8, "big") + block[8:]
        yield chunk[: min(CHUNK_SIZE, size - start)]


@lru_cache(maxsize=4096)
def generated_sha1(seed: str, size: int) -> str:
    """The SHA-1 hex digest of the generated content."""
    digest = hashlib.sha1()
    for chunk in generated_chunks(seed, size):
        digest.update(chunk)
    return digest.hexdigest()
