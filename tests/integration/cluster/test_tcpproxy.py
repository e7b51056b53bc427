"""Tests for orchestrator.cluster.tcpproxy with real sockets on 127.0.0.1: balancing and failing over."""

from __future__ import annotations

import asyncio

from orchestrator.cluster.ports import free_port
from orchestrator.cluster.tcpproxy import Backend, TcpLoadBalancer


async def start_named_server(name: str) -> asyncio.Server:
    """A backend that answers each line with its name, until the client closes."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readline():
            writer.write(f"{name}\n".encode())
            await writer.drain()
        writer.close()

    return await asyncio.start_server(answer, "127.0.0.1", 0)


def backend_of(server: asyncio.Server) -> Backend:
    return Backend("127.0.0.1", server.sockets[0].getsockname()[1])


async def ask(port: int) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"who?\n")
        await writer.drain()
        return (await asyncio.wait_for(reader.readline(), 5)).decode().strip()
    finally:
        writer.close()


async def test_connections_alternate_between_backends():
    first, second = await start_named_server("first"), await start_named_server("second")
    balancer = TcpLoadBalancer(listen=Backend("127.0.0.1", 0), backends=[backend_of(first), backend_of(second)])
    await balancer.start()
    try:
        answers = [await ask(balancer.port) for _ in range(4)]
    finally:
        await balancer.stop()
        first.close()
        second.close()

    assert answers == ["first", "second", "first", "second"]


async def test_a_stopped_backend_is_skipped():
    alive = await start_named_server("alive")
    stopped = Backend("127.0.0.1", free_port())  # nothing listens there
    balancer = TcpLoadBalancer(listen=Backend("127.0.0.1", 0), backends=[stopped, backend_of(alive)])
    await balancer.start()
    try:
        answers = [await ask(balancer.port) for _ in range(3)]
    finally:
        await balancer.stop()
        alive.close()

    assert answers == ["alive", "alive", "alive"]
