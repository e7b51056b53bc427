"""Unit tests of orchestrator/kubelet/attach.py: taking Docker's multiplexed exec stream apart."""

from __future__ import annotations

import struct

import pytest

from orchestrator.kubelet.attach import STDERR_STREAM, STDOUT_STREAM, DockerStreamDemultiplexer


def docker_frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


STREAM = docker_frame(STDOUT_STREAM, b"hi\n") + docker_frame(STDERR_STREAM, b"err\n") + docker_frame(STDOUT_STREAM, b"")
PIECES = [(STDOUT_STREAM, b"hi\n"), (STDERR_STREAM, b"err\n")]


@pytest.mark.parametrize("chunk_size", [
    pytest.param(len(STREAM), id="all-at-once"),
    pytest.param(1, id="byte-by-byte"),
    pytest.param(5, id="headers-split"),
    pytest.param(9, id="payload-split"),
])
def test_pieces_survive_any_chunking(chunk_size: int) -> None:
    demultiplexer = DockerStreamDemultiplexer()
    pieces = []
    for start in range(0, len(STREAM), chunk_size):
        pieces += demultiplexer.feed(STREAM[start:start + chunk_size])
    assert pieces == PIECES
    assert demultiplexer.pending == 0


def test_an_incomplete_piece_waits() -> None:
    demultiplexer = DockerStreamDemultiplexer()
    frame = docker_frame(STDOUT_STREAM, b"hello")
    assert demultiplexer.feed(frame[:-1]) == []
    assert demultiplexer.pending == len(frame) - 1
    assert demultiplexer.feed(frame[-1:]) == [(STDOUT_STREAM, b"hello")]
