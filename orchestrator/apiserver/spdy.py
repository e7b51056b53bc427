"""SPDY/3.1 framing: frames to and from bytes, and the zlib-compressed header blocks.

kubectl (client-go's spdystream) speaks SPDY/3.1 for `port-forward`; since Kubernetes 1.30 it
sends those SPDY bytes inside the binary messages of a WebSocket (`SPDY/3.1+portforward.k8s.io`).
This module is the pure part of that: `FrameDecoder.feed(bytes)` turns a byte stream (frames may
be split across, or packed into, messages) into frame objects, and `FrameEncoder.encode(frame)`
does the reverse. Each direction of a session keeps one zlib stream for every header block, primed
with the SPDY/3 dictionary and flushed (Z_SYNC_FLUSH) after each block, so an encoder and a
decoder belong to one session and one direction and must see the frames in wire order.

No flow control: spdystream neither sends nor honours WINDOW_UPDATE, so the frames exist here
only to be parsed and ignored. Used by orchestrator/apiserver/portforward.py.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from enum import IntEnum

VERSION = 3
FLAG_FIN = 0x01
FLAG_UNIDIRECTIONAL = 0x02
MAX_DATA_LENGTH = (1 << 24) - 1
# A frame larger than this is refused rather than buffered: kubectl's carry at most 32 KiB (io.Copy).
MAX_FRAME_LENGTH = 4 << 20

_CONTROL_BIT = 0x80000000
_STREAM_ID_MASK = 0x7FFFFFFF
_HEADER = struct.Struct(">II")


class FrameType(IntEnum):
    SYN_STREAM = 1
    SYN_REPLY = 2
    RST_STREAM = 3
    SETTINGS = 4
    PING = 6
    GOAWAY = 7
    HEADERS = 8
    WINDOW_UPDATE = 9


class RstStatus(IntEnum):
    PROTOCOL_ERROR = 1
    INVALID_STREAM = 2
    REFUSED_STREAM = 3
    UNSUPPORTED_VERSION = 4
    CANCEL = 5
    INTERNAL_ERROR = 6
    FLOW_CONTROL_ERROR = 7
    STREAM_IN_USE = 8
    STREAM_ALREADY_CLOSED = 9


class SpdyError(Exception):
    """The peer sent bytes that are not SPDY/3.1 (the session cannot continue)."""


# The SPDY/3 header-compression dictionary (draft-mbelshe-httpbis-spdy-00, 2.6.10.1): each of
# these words with a 4-byte big-endian length before it, then the tail as is. 1423 bytes in all;
# zlib checks its Adler-32 against the one the peer's stream names, so it must be byte-exact.
_DICTIONARY_WORDS = (
    "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding",
    "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control", "connection",
    "content-base", "content-encoding", "content-language", "content-length", "content-location",
    "content-md5", "content-range", "content-type", "date", "etag", "expect", "expires", "from", "host",
    "if-match", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified",
    "location", "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer",
    "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via",
    "warning", "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url",
    "public", "set-cookie", "keep-alive", "origin",
)
_DICTIONARY_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
    "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
    "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
    "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
    "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)
HEADER_DICTIONARY = b"".join(struct.pack(">I", len(word)) + word.encode() for word in _DICTIONARY_WORDS) \
    + _DICTIONARY_TAIL.encode()

# Header names are lower case on the wire; a name with several values carries them NUL-separated.
Headers = dict[str, list[str]]


@dataclass(frozen=True)
class DataFrame:
    stream_id: int
    data: bytes = b""
    flags: int = 0

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


@dataclass(frozen=True)
class SynStream:
    stream_id: int
    headers: Headers = field(default_factory=dict)
    flags: int = 0
    associated_to: int = 0
    priority: int = 0
    slot: int = 0

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


@dataclass(frozen=True)
class SynReply:
    stream_id: int
    headers: Headers = field(default_factory=dict)
    flags: int = 0


@dataclass(frozen=True)
class RstStream:
    stream_id: int
    status: int = RstStatus.CANCEL


@dataclass(frozen=True)
class Settings:
    # (flags, id, value) per entry
    entries: tuple[tuple[int, int, int], ...] = ()
    flags: int = 0


@dataclass(frozen=True)
class Ping:
    ping_id: int


@dataclass(frozen=True)
class GoAway:
    last_good_stream_id: int
    status: int = 0


@dataclass(frozen=True)
class HeadersFrame:
    stream_id: int
    headers: Headers = field(default_factory=dict)
    flags: int = 0


@dataclass(frozen=True)
class WindowUpdate:
    stream_id: int
    delta: int


@dataclass(frozen=True)
class UnknownControl:
    """A control frame of a type SPDY/3.1 does not define (CREDENTIAL, …): skipped, as the spec asks."""

    frame_type: int
    flags: int
    payload: bytes


Frame = (DataFrame | SynStream | SynReply | RstStream | Settings | Ping | GoAway | HeadersFrame | WindowUpdate
         | UnknownControl)


def pack_header_block(headers: Headers) -> bytes:
    """The uncompressed name/value block: a count, then length-prefixed names and NUL-joined values."""
    parts = [struct.pack(">I", len(headers))]
    for name, values in headers.items():
        encoded_name = name.lower().encode()
        encoded_value = "\0".join(values).encode()
        parts += [struct.pack(">I", len(encoded_name)), encoded_name, struct.pack(">I", len(encoded_value)),
                  encoded_value]
    return b"".join(parts)


def unpack_header_block(block: bytes) -> Headers:
    def take(offset: int, size: int) -> tuple[bytes, int]:
        if offset + size > len(block):
            raise SpdyError("truncated header block")
        return block[offset:offset + size], offset + size

    raw_count, offset = take(0, 4)
    headers: Headers = {}
    for _ in range(struct.unpack(">I", raw_count)[0]):
        raw_length, offset = take(offset, 4)
        name, offset = take(offset, struct.unpack(">I", raw_length)[0])
        raw_length, offset = take(offset, 4)
        value, offset = take(offset, struct.unpack(">I", raw_length)[0])
        if not name:
            raise SpdyError("empty header name")
        headers.setdefault(name.decode(errors="replace").lower(), []).extend(
            value.decode(errors="replace").split("\0"))
    return headers


class HeaderCompressor:
    """One direction's header compression: a zlib stream kept across frames, flushed per block."""

    def __init__(self) -> None:
        self._zlib = zlib.compressobj(zlib.Z_BEST_COMPRESSION, zlib.DEFLATED, zlib.MAX_WBITS, zdict=HEADER_DICTIONARY)

    def compress(self, headers: Headers) -> bytes:
        return self._zlib.compress(pack_header_block(headers)) + self._zlib.flush(zlib.Z_SYNC_FLUSH)


class HeaderDecompressor:
    def __init__(self) -> None:
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS, zdict=HEADER_DICTIONARY)

    def decompress(self, compressed: bytes) -> Headers:
        try:
            block = self._zlib.decompress(compressed)
        except zlib.error as error:
            raise SpdyError(f"cannot decompress a header block: {error}") from error
        return unpack_header_block(block)


class FrameEncoder:
    """Frames to bytes for one direction of one session (its header blocks share a zlib stream)."""

    def __init__(self) -> None:
        self._headers = HeaderCompressor()

    def encode(self, frame: Frame) -> bytes:
        if isinstance(frame, DataFrame):
            if len(frame.data) > MAX_DATA_LENGTH:
                raise ValueError(f"a data frame carries at most {MAX_DATA_LENGTH} bytes")
            return _HEADER.pack(frame.stream_id & _STREAM_ID_MASK, (frame.flags << 24) | len(frame.data)) + frame.data
        if isinstance(frame, SynStream):
            payload = struct.pack(">IIBB", frame.stream_id & _STREAM_ID_MASK, frame.associated_to & _STREAM_ID_MASK,
                                  (frame.priority & 0x7) << 5, frame.slot) + self._headers.compress(frame.headers)
            return _control(FrameType.SYN_STREAM, frame.flags, payload)
        if isinstance(frame, SynReply):
            payload = struct.pack(">I", frame.stream_id & _STREAM_ID_MASK) + self._headers.compress(frame.headers)
            return _control(FrameType.SYN_REPLY, frame.flags, payload)
        if isinstance(frame, HeadersFrame):
            payload = struct.pack(">I", frame.stream_id & _STREAM_ID_MASK) + self._headers.compress(frame.headers)
            return _control(FrameType.HEADERS, frame.flags, payload)
        if isinstance(frame, RstStream):
            return _control(FrameType.RST_STREAM, 0, struct.pack(">II", frame.stream_id & _STREAM_ID_MASK,
                                                                  frame.status))
        if isinstance(frame, Settings):
            payload = struct.pack(">I", len(frame.entries)) + b"".join(
                struct.pack(">II", (entry_flags << 24) | entry_id, value) for entry_flags, entry_id, value in frame.entries)
            return _control(FrameType.SETTINGS, frame.flags, payload)
        if isinstance(frame, Ping):
            return _control(FrameType.PING, 0, struct.pack(">I", frame.ping_id))
        if isinstance(frame, GoAway):
            return _control(FrameType.GOAWAY, 0, struct.pack(">II", frame.last_good_stream_id & _STREAM_ID_MASK,
                                                             frame.status))
        if isinstance(frame, WindowUpdate):
            return _control(FrameType.WINDOW_UPDATE, 0, struct.pack(">II", frame.stream_id & _STREAM_ID_MASK,
                                                                     frame.delta & _STREAM_ID_MASK))
        if isinstance(frame, UnknownControl):
            return _control(frame.frame_type, frame.flags, frame.payload)
        raise TypeError(f"not a SPDY frame: {frame!r}")


def _control(frame_type: int, flags: int, payload: bytes) -> bytes:
    if len(payload) > MAX_DATA_LENGTH:
        raise ValueError("control frame payload too long")
    return _HEADER.pack(_CONTROL_BIT | (VERSION << 16) | frame_type, (flags << 24) | len(payload)) + payload


class FrameDecoder:
    """Bytes to frames for one direction of one session: `feed` whatever arrived, get whole frames."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._headers = HeaderDecompressor()

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames = []
        while len(self._buffer) >= _HEADER.size:
            first, second = _HEADER.unpack_from(self._buffer)
            length = second & 0xFFFFFF
            if length > MAX_FRAME_LENGTH:
                raise SpdyError(f"frame of {length} bytes is larger than this server accepts")
            if len(self._buffer) < _HEADER.size + length:
                break
            payload = bytes(self._buffer[_HEADER.size:_HEADER.size + length])
            del self._buffer[:_HEADER.size + length]
            flags = second >> 24
            if first & _CONTROL_BIT:
                version = (first >> 16) & 0x7FFF
                if version != VERSION:
                    raise SpdyError(f"unsupported SPDY version {version}")
                frames.append(self._control(first & 0xFFFF, flags, payload))
            else:
                frames.append(DataFrame(stream_id=first & _STREAM_ID_MASK, data=payload, flags=flags))
        return frames

    def _control(self, frame_type: int, flags: int, payload: bytes) -> Frame:
        def fixed(size: int) -> tuple[int, ...]:
            if len(payload) < size:
                raise SpdyError(f"{FrameType(frame_type).name} frame too short")
            return struct.unpack_from(">" + "I" * (size // 4), payload)

        if frame_type == FrameType.SYN_STREAM:
            if len(payload) < 10:
                raise SpdyError("SYN_STREAM frame too short")
            stream_id, associated_to, priority, slot = struct.unpack_from(">IIBB", payload)
            return SynStream(stream_id=stream_id & _STREAM_ID_MASK, headers=self._headers.decompress(payload[10:]),
                             flags=flags, associated_to=associated_to & _STREAM_ID_MASK, priority=priority >> 5,
                             slot=slot)
        if frame_type in (FrameType.SYN_REPLY, FrameType.HEADERS):
            (stream_id,) = fixed(4)
            frame_class = SynReply if frame_type == FrameType.SYN_REPLY else HeadersFrame
            return frame_class(stream_id=stream_id & _STREAM_ID_MASK, headers=self._headers.decompress(payload[4:]),
                               flags=flags)
        if frame_type == FrameType.RST_STREAM:
            stream_id, status = fixed(8)
            return RstStream(stream_id=stream_id & _STREAM_ID_MASK, status=status)
        if frame_type == FrameType.SETTINGS:
            (count,) = fixed(4)
            if len(payload) < 4 + 8 * count:
                raise SpdyError("SETTINGS frame too short")
            entries = []
            for index in range(count):
                flags_and_id, value = struct.unpack_from(">II", payload, 4 + 8 * index)
                entries.append((flags_and_id >> 24, flags_and_id & 0xFFFFFF, value))
            return Settings(entries=tuple(entries), flags=flags)
        if frame_type == FrameType.PING:
            (ping_id,) = fixed(4)
            return Ping(ping_id=ping_id)
        if frame_type == FrameType.GOAWAY:
            # SPDY/3 added the status word; tolerate a 4-byte (SPDY/2-sized) body.
            (last_good,) = fixed(4)
            status = struct.unpack_from(">I", payload, 4)[0] if len(payload) >= 8 else 0
            return GoAway(last_good_stream_id=last_good & _STREAM_ID_MASK, status=status)
        if frame_type == FrameType.WINDOW_UPDATE:
            stream_id, delta = fixed(8)
            return WindowUpdate(stream_id=stream_id & _STREAM_ID_MASK, delta=delta & _STREAM_ID_MASK)
        return UnknownControl(frame_type=frame_type, flags=flags, payload=payload)
