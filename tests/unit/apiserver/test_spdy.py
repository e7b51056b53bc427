"""Tests for orchestrator.apiserver.spdy: SPDY/3.1 frames and header blocks, without I/O."""

from __future__ import annotations

import zlib

import pytest

from orchestrator.apiserver import spdy

# What kubectl v1.32.4 sent for its first forwarded connection, one WebSocket message per list item
# (its framer writes field by field): SYN_STREAM 1 (error stream), FIN on 1, SYN_STREAM 3 (data
# stream), an HTTP request on 3, FIN on 3, then its 10-second PING. Captured from a test server.
KUBECTL_MESSAGES = [
    "8003", "0001", "0000003e", "00000001", "00000000", "00", "00",
    "78f9e3c6a7c202253a703a2b294a4dcc851625aca9a0808614cb45e01c60616061c0c0c0c0590489c64c50f2663400000000ffff",
    "00000001", "01000000", "",
    "8003", "0001", "00000018", "00000003", "00000000", "00", "00", "c2aa19540e2512d60b000000ffff",
    "00000003", "0000004f",
    "474554202f20485454502f312e310d0a486f73743a203132372e302e302e313a31383736360d0a557365722d4167656e743a20"
    "6375726c2f372e38382e310d0a4163636570743a202a2f2a0d0a0d0a",
    "00000003", "01000000", "",
    "8003", "0006", "00000004", "00000001",
]
KUBECTL_FRAMES = [
    spdy.SynStream(stream_id=1, headers={"streamtype": ["error"], "port": ["8080"], "requestid": ["0"]}),
    spdy.DataFrame(stream_id=1, flags=spdy.FLAG_FIN),
    spdy.SynStream(stream_id=3, headers={"streamtype": ["data"], "port": ["8080"], "requestid": ["0"]}),
    spdy.DataFrame(stream_id=3, data=b"GET / HTTP/1.1\r\nHost: 127.0.0.1:18766\r\nUser-Agent: curl/7.88.1\r\n"
                                     b"Accept: */*\r\n\r\n"),
    spdy.DataFrame(stream_id=3, flags=spdy.FLAG_FIN),
    spdy.Ping(ping_id=1),
]


def test_the_dictionary_is_the_one_kubectl_names():
    # A zlib stream primed with a dictionary names it by Adler-32 after its 2-byte header.
    captured_zlib_header = bytes.fromhex(KUBECTL_MESSAGES[7])[:6]
    assert len(spdy.HEADER_DICTIONARY) == 1423
    assert captured_zlib_header[2:] == zlib.adler32(spdy.HEADER_DICTIONARY).to_bytes(4, "big")


def test_decodes_what_kubectl_sent_message_by_message():
    decoder = spdy.FrameDecoder()
    frames = [frame for message in KUBECTL_MESSAGES for frame in decoder.feed(bytes.fromhex(message))]
    assert frames == KUBECTL_FRAMES


def test_decodes_what_kubectl_sent_in_one_piece():
    assert spdy.FrameDecoder().feed(bytes.fromhex("".join(KUBECTL_MESSAGES))) == KUBECTL_FRAMES


@pytest.mark.parametrize("frame", [
    pytest.param(spdy.DataFrame(stream_id=3, data=b"payload"), id="data"),
    pytest.param(spdy.DataFrame(stream_id=5, flags=spdy.FLAG_FIN), id="data-fin-empty"),
    pytest.param(spdy.SynStream(stream_id=7, headers={"streamtype": ["data"], "port": ["80"]}, priority=3, slot=1,
                                associated_to=1, flags=spdy.FLAG_UNIDIRECTIONAL), id="syn-stream"),
    pytest.param(spdy.SynReply(stream_id=7), id="syn-reply-no-headers"),
    pytest.param(spdy.SynReply(stream_id=7, headers={"status": ["200"]}, flags=spdy.FLAG_FIN), id="syn-reply-fin"),
    pytest.param(spdy.HeadersFrame(stream_id=9, headers={"x-many": ["a", "b", ""]}), id="headers-multi-value"),
    pytest.param(spdy.RstStream(stream_id=9, status=spdy.RstStatus.REFUSED_STREAM), id="rst-stream"),
    pytest.param(spdy.Settings(entries=((1, 7, 65536), (0, 4, 100))), id="settings"),
    pytest.param(spdy.Ping(ping_id=0xFFFFFFFF), id="ping"),
    pytest.param(spdy.GoAway(last_good_stream_id=11, status=2), id="goaway"),
    pytest.param(spdy.WindowUpdate(stream_id=1, delta=4096), id="window-update"),
    pytest.param(spdy.UnknownControl(frame_type=10, flags=0, payload=b"credential"), id="unknown-control"),
])
def test_round_trip(frame):
    assert spdy.FrameDecoder().feed(spdy.FrameEncoder().encode(frame)) == [frame]


def test_header_blocks_share_one_zlib_stream_per_direction():
    encoder, decoder = spdy.FrameEncoder(), spdy.FrameDecoder()
    headers = {"streamtype": ["data"], "port": ["8080"], "requestid": ["41"]}
    first = encoder.encode(spdy.SynStream(stream_id=1, headers=headers))
    second = encoder.encode(spdy.SynStream(stream_id=3, headers=headers))
    # The second block refers back to the first: smaller, and only a decoder that saw the first reads it.
    assert len(second) < len(first)
    with pytest.raises(spdy.SpdyError):
        spdy.FrameDecoder().feed(second)
    assert decoder.feed(first + second) == [spdy.SynStream(stream_id=1, headers=headers),
                                            spdy.SynStream(stream_id=3, headers=headers)]


def test_frames_split_at_every_byte_come_out_whole():
    encoder = spdy.FrameEncoder()
    frames = [spdy.SynStream(stream_id=1, headers={"port": ["1"]}), spdy.DataFrame(stream_id=1, data=b"x" * 300),
              spdy.Ping(ping_id=2)]
    wire = b"".join(encoder.encode(frame) for frame in frames)
    decoder = spdy.FrameDecoder()
    assert [frame for index in range(len(wire)) for frame in decoder.feed(wire[index:index + 1])] == frames


def test_header_names_go_out_lower_case():
    encoder, decoder = spdy.FrameEncoder(), spdy.FrameDecoder()
    [frame] = decoder.feed(encoder.encode(spdy.SynReply(stream_id=1, headers={"StreamType": ["error"]})))
    assert frame.headers == {"streamtype": ["error"]}


@pytest.mark.parametrize("wire, reason", [
    pytest.param(bytes.fromhex("80020001 00000000"), "version", id="spdy-2"),
    pytest.param(bytes.fromhex("00000001 7fffffff"), "larger", id="oversized-frame"),
    pytest.param(bytes.fromhex("80030003 00000004 00000001"), "too short", id="short-rst-stream"),
    pytest.param(bytes.fromhex("80030001 0000000c 00000001 00000000 0000 ffff"), "decompress", id="bad-header-block"),
])
def test_bad_input_is_a_spdy_error(wire, reason):
    with pytest.raises(spdy.SpdyError, match=reason):
        spdy.FrameDecoder().feed(wire)


def test_a_truncated_header_block_is_a_spdy_error():
    compressor = zlib.compressobj(zdict=spdy.HEADER_DICTIONARY)
    # One header announced, its name cut short.
    compressed = compressor.compress(b"\x00\x00\x00\x01\x00\x00\x00\x04po") + compressor.flush(zlib.Z_SYNC_FLUSH)
    with pytest.raises(spdy.SpdyError, match="truncated"):
        spdy.HeaderDecompressor().decompress(compressed)


def test_a_data_frame_larger_than_24_bits_is_refused():
    with pytest.raises(ValueError):
        spdy.FrameEncoder().encode(spdy.DataFrame(stream_id=1, data=b"\0" * (spdy.MAX_DATA_LENGTH + 1)))
