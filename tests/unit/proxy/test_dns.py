"""Tests for orchestrator.proxy.dns: the wire format, the cluster zone's answers and the query handling."""

import asyncio
import socket
import struct

import pytest

from orchestrator.proxy.dns import (
    AAAA,
    ANY,
    CNAME,
    NOERROR,
    NXDOMAIN,
    OPT,
    PTR,
    SOA,
    SRV,
    A,
    ClusterRecords,
    DnsFormatError,
    DnsServer,
    Forwarder,
    Message,
    Question,
    Record,
    SoaData,
    SrvData,
    encode_message,
    fit_to_size,
    parse_message,
)


def new_service(name: str, namespace: str = "default", *, cluster_ip: str | None = "10.96.1.1",
                ports: list[dict] | None = None, **spec_fields) -> dict:
    spec = {"type": "ClusterIP", "ports": ports or [{"name": "http", "port": 80, "protocol": "TCP"}], **spec_fields}
    if cluster_ip is not None:
        spec["clusterIP"] = cluster_ip
    return {"metadata": {"name": name, "namespace": namespace}, "spec": spec}


def new_endpoints(name: str, namespace: str = "default", *, ready: list[dict] = (), not_ready: list[dict] = ()) -> dict:
    return {"metadata": {"name": name, "namespace": namespace},
            "subsets": [{"addresses": list(ready), "notReadyAddresses": list(not_ready),
                         "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}]}


SERVICES = [
    new_service("web"),
    new_service("db", "data", cluster_ip="None"),
    new_service("peers", "data", cluster_ip="None", publishNotReadyAddresses=True),
    {"metadata": {"name": "search", "namespace": "default"},
     "spec": {"type": "ExternalName", "externalName": "search.example.com"}},
    {"metadata": {"name": "alias", "namespace": "default"},
     "spec": {"type": "ExternalName", "externalName": "web.default.svc.cluster.local"}},
]
ENDPOINTS = [
    new_endpoints("web", ready=[{"ip": "172.18.0.2"}]),
    new_endpoints("db", "data", ready=[{"ip": "172.18.0.4", "hostname": "db-0"}, {"ip": "172.18.0.3"}],
                  not_ready=[{"ip": "172.18.0.9"}]),
    new_endpoints("peers", "data", ready=[{"ip": "172.18.0.5"}], not_ready=[{"ip": "172.18.0.6"}]),
]
ZONE = ClusterRecords(SERVICES, ENDPOINTS)


def query(name: str, rtype: int = A, *, message_id: int = 77) -> Message:
    return Message(id=message_id, recursion_desired=True, questions=[Question(name, rtype)])


# ------------------------------------------------------------------ wire format


def test_a_message_round_trips_through_the_wire_format():
    message = Message(id=4242, is_response=True, authoritative=True, recursion_desired=True, rcode=NXDOMAIN,
                      questions=[Question("web.default.svc.cluster.local", SRV)],
                      answers=[Record("web.default.svc.cluster.local", A, "10.96.1.1"),
                               Record("web.default.svc.cluster.local", AAAA, "fd00::1"),
                               Record("alias.default.svc.cluster.local", CNAME, "web.default.svc.cluster.local"),
                               Record("_http._tcp.web.default.svc.cluster.local", SRV,
                                      SrvData(0, 100, 80, "web.default.svc.cluster.local")),
                               Record("1.1.96.10.in-addr.arpa", PTR, "web.default.svc.cluster.local")],
                      authority=[Record("cluster.local", SOA, SoaData("ns.dns.cluster.local",
                                                                      "hostmaster.cluster.local", 1, 2, 3, 4, 5))],
                      additional=[Record("", OPT, b"", ttl=0, rclass=1232)])
    assert parse_message(encode_message(message)) == message


def test_names_are_compressed():
    message = Message(questions=[Question("web.default.svc.cluster.local", A)],
                      answers=[Record("web.default.svc.cluster.local", A, "10.96.1.1")] * 3)
    encoded = encode_message(message)
    assert encoded.count(b"\x03web\x07default") == 1
    assert len(encoded) < 12 + 35 + 3 * 16 + 1


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x00\x01", id="shorter-than-a-header"),
        pytest.param(struct.pack("!HHHHHH", 1, 0, 1, 0, 0, 0) + b"\x03www", id="name-runs-past-the-end"),
        pytest.param(struct.pack("!HHHHHH", 1, 0, 1, 0, 0, 0) + b"\xc0\x0c\x00\x01\x00\x01", id="pointer-loop"),
        pytest.param(struct.pack("!HHHHHH", 1, 0, 1, 0, 0, 0) + b"\x00\x00", id="truncated-question"),
    ],
)
def test_malformed_messages_are_refused(data):
    with pytest.raises(DnsFormatError):
        parse_message(data)


def test_an_answer_too_big_for_udp_is_truncated():
    message = Message(is_response=True, questions=[Question("big.default.svc.cluster.local", A)],
                      answers=[Record(f"host-{index}.big.default.svc.cluster.local", A, f"172.18.0.{index}")
                               for index in range(60)])
    fitted = parse_message(fit_to_size(message, 512))
    assert fitted.truncated and fitted.answers == []


# ------------------------------------------------------------------ the cluster zone


@pytest.mark.parametrize(
    ("name", "rtype", "rcode", "answers"),
    [
        pytest.param("web.default.svc.cluster.local", A, NOERROR, [("web.default.svc.cluster.local", A, "10.96.1.1")],
                     id="service"),
        pytest.param("WEB.Default.svc.cluster.local", A, NOERROR, [("web.default.svc.cluster.local", A, "10.96.1.1")],
                     id="case-insensitive"),
        pytest.param("web.default.svc.cluster.local", AAAA, NOERROR, [], id="no-ipv6-is-nodata"),
        pytest.param("nope.default.svc.cluster.local", A, NXDOMAIN, [], id="unknown-service"),
        pytest.param("web.other.svc.cluster.local", A, NXDOMAIN, [], id="wrong-namespace"),
        pytest.param("default.svc.cluster.local", A, NOERROR, [], id="namespace-is-nodata"),
        pytest.param("nowhere.svc.cluster.local", A, NXDOMAIN, [], id="unknown-namespace"),
        pytest.param("db.data.svc.cluster.local", A, NOERROR,
                     [("db.data.svc.cluster.local", A, "172.18.0.3"), ("db.data.svc.cluster.local", A, "172.18.0.4")],
                     id="headless-ready-pods-only"),
        pytest.param("peers.data.svc.cluster.local", A, NOERROR,
                     [("peers.data.svc.cluster.local", A, "172.18.0.5"),
                      ("peers.data.svc.cluster.local", A, "172.18.0.6")], id="headless-publishing-not-ready"),
        pytest.param("db-0.db.data.svc.cluster.local", A, NOERROR, [("db-0.db.data.svc.cluster.local", A, "172.18.0.4")],
                     id="headless-pod-by-hostname"),
        pytest.param("172-18-0-3.db.data.svc.cluster.local", A, NOERROR,
                     [("172-18-0-3.db.data.svc.cluster.local", A, "172.18.0.3")], id="headless-pod-by-dashed-ip"),
        pytest.param("_http._tcp.web.default.svc.cluster.local", SRV, NOERROR,
                     [("_http._tcp.web.default.svc.cluster.local", SRV,
                       SrvData(0, 100, 80, "web.default.svc.cluster.local"))], id="srv"),
        pytest.param("_http._udp.web.default.svc.cluster.local", SRV, NXDOMAIN, [], id="srv-wrong-protocol"),
        pytest.param("_http._tcp.db.data.svc.cluster.local", SRV, NOERROR,
                     [("_http._tcp.db.data.svc.cluster.local", SRV, SrvData(0, 50, 80, "db-0.db.data.svc.cluster.local")),
                      ("_http._tcp.db.data.svc.cluster.local", SRV,
                       SrvData(0, 50, 80, "172-18-0-3.db.data.svc.cluster.local"))], id="srv-headless"),
        pytest.param("search.default.svc.cluster.local", A, NOERROR,
                     [("search.default.svc.cluster.local", CNAME, "search.example.com")], id="external-name"),
        pytest.param("10-1-2-3.default.pod.cluster.local", A, NOERROR,
                     [("10-1-2-3.default.pod.cluster.local", A, "10.1.2.3")], id="pod-by-dashed-ip"),
        pytest.param("1.1.96.10.in-addr.arpa", PTR, NOERROR,
                     [("1.1.96.10.in-addr.arpa", PTR, "web.default.svc.cluster.local")], id="reverse-of-a-cluster-ip"),
        pytest.param("4.0.18.172.in-addr.arpa", PTR, NOERROR,
                     [("4.0.18.172.in-addr.arpa", PTR, "db-0.db.data.svc.cluster.local")], id="reverse-of-a-pod"),
        pytest.param("web.default.svc.cluster.local", ANY, NOERROR, [("web.default.svc.cluster.local", A, "10.96.1.1")],
                     id="any"),
    ],
)
def test_lookups(name, rtype, rcode, answers):
    answer = ZONE.lookup(Question(name.lower(), rtype))
    assert answer.rcode == rcode
    assert [(record.name, record.rtype, record.data) for record in answer.records] == answers


@pytest.mark.parametrize(
    ("name", "authoritative"),
    [
        pytest.param("web.default.svc.cluster.local", True, id="service"),
        pytest.param("cluster.local", True, id="apex"),
        pytest.param("example.com", False, id="outside"),
        pytest.param("notcluster.local", False, id="suffix-but-not-subdomain"),
        pytest.param("1.1.96.10.in-addr.arpa", True, id="known-reverse"),
        pytest.param("8.8.8.8.in-addr.arpa", False, id="unknown-reverse"),
    ],
)
def test_what_the_zone_answers_for(name, authoritative):
    assert ZONE.is_authoritative_for(name) is authoritative


def test_a_cname_into_the_zone_is_followed():
    response = ZONE.resolve(query("alias.default.svc.cluster.local"))
    assert [(record.rtype, record.data) for record in response.answers] == [
        (CNAME, "web.default.svc.cluster.local"), (A, "10.96.1.1")]
    assert response.authoritative and response.id == 77


def test_a_negative_answer_carries_the_zone_soa():
    response = ZONE.resolve(query("nope.default.svc.cluster.local"))
    assert response.rcode == NXDOMAIN
    assert [record.rtype for record in response.authority] == [SOA]


# ------------------------------------------------------------------ query handling


class FakeForwarder(Forwarder):
    """Answers from a table instead of the network; None means the upstream did not answer."""

    def __init__(self, answers: dict[str, Message] | None = None):
        super().__init__([])
        self.answers = answers or {}
        self.asked: list[str] = []

    async def forward(self, query_bytes: bytes) -> bytes | None:
        asked = parse_message(query_bytes)
        self.asked.append(asked.questions[0].name)
        answer = self.answers.get(asked.questions[0].name)
        if answer is None:
            return None
        answer.id = asked.id
        return encode_message(answer)


async def ask(server: DnsServer, message: Message, *, max_size: int = 512) -> Message:
    return parse_message(await server.answer(encode_message(message), max_size=max_size))


async def test_cluster_names_are_answered_without_forwarding():
    forwarder = FakeForwarder()
    server = DnsServer(records=ZONE, forwarder=forwarder)
    response = await ask(server, query("web.default.svc.cluster.local"))
    assert [record.data for record in response.answers] == ["10.96.1.1"]
    assert forwarder.asked == []


async def test_other_names_are_forwarded():
    upstream = Message(is_response=True, questions=[Question("example.com", A)],
                       answers=[Record("example.com", A, "192.0.2.10")])
    server = DnsServer(records=ZONE, forwarder=FakeForwarder({"example.com": upstream}))
    response = await ask(server, query("example.com", message_id=9))
    assert response.id == 9 and [record.data for record in response.answers] == ["192.0.2.10"]


async def test_without_an_upstream_other_names_are_nxdomain():
    response = await ask(DnsServer(records=ZONE, forwarder=FakeForwarder()), query("example.com"))
    assert response.rcode == NXDOMAIN and response.is_response


async def test_an_external_name_target_is_resolved_upstream():
    upstream = Message(is_response=True, questions=[Question("search.example.com", A)],
                       answers=[Record("search.example.com", A, "192.0.2.20")])
    server = DnsServer(records=ZONE, forwarder=FakeForwarder({"search.example.com": upstream}))
    response = await ask(server, query("search.default.svc.cluster.local"))
    assert [(record.rtype, record.data) for record in response.answers] == [
        (CNAME, "search.example.com"), (A, "192.0.2.20")]


async def test_edns_lets_a_big_answer_through_udp():
    endpoints = [new_endpoints("big", ready=[{"ip": f"172.18.1.{index}"} for index in range(1, 61)])]
    server = DnsServer(records=ClusterRecords([new_service("big", cluster_ip="None")], endpoints),
                       forwarder=FakeForwarder())
    plain = await ask(server, query("big.default.svc.cluster.local"))
    assert plain.truncated
    with_edns = query("big.default.svc.cluster.local")
    with_edns.additional = [Record("", OPT, b"", ttl=0, rclass=4096)]
    assert len((await ask(server, with_edns)).answers) == 60


@pytest.mark.parametrize(
    ("data", "rcode"),
    [
        pytest.param(struct.pack("!HHHHHH", 5, 0, 1, 0, 0, 0) + b"\x03www", 1, id="malformed-is-formerr"),
        pytest.param(encode_message(Message(id=5, opcode=2, questions=[Question("x", A)])), 4, id="status-is-notimp"),
    ],
)
async def test_bad_queries_get_an_error_code(data, rcode):
    response = parse_message(await DnsServer(records=ZONE).answer(data, max_size=512))
    assert response.id == 5 and response.rcode == rcode


async def test_responses_are_not_answered():
    assert await DnsServer(records=ZONE).answer(encode_message(Message(is_response=True)), max_size=512) is None


# ------------------------------------------------------------------ on the wire (loopback)


async def test_the_server_answers_over_udp_and_tcp():
    server = DnsServer(records=ZONE, forwarder=FakeForwarder())
    port = await server.start("127.0.0.1", 0)
    loop = asyncio.get_running_loop()
    try:
        answer: asyncio.Future[bytes] = loop.create_future()

        class Receiver(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple) -> None:
                answer.set_result(data)

        transport, _ = await loop.create_datagram_endpoint(Receiver, remote_addr=("127.0.0.1", port))
        transport.sendto(encode_message(query("web.default.svc.cluster.local", message_id=1)))
        over_udp = parse_message(await asyncio.wait_for(answer, 5))
        transport.close()

        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for message_id in (2, 3):  # one connection, several queries
            request = encode_message(query("db.data.svc.cluster.local", message_id=message_id))
            writer.write(struct.pack("!H", len(request)) + request)
            length = struct.unpack("!H", await asyncio.wait_for(reader.readexactly(2), 5))[0]
            over_tcp = parse_message(await reader.readexactly(length))
            assert over_tcp.id == message_id
        writer.close()
    finally:
        await server.close()
    assert [record.data for record in over_udp.answers] == ["10.96.1.1"]
    assert [record.data for record in over_tcp.answers] == ["172.18.0.3", "172.18.0.4"]


async def test_names_outside_the_cluster_go_to_the_upstream_resolver():
    # The "upstream" is another server of ours, authoritative for example.com, on loopback.
    upstream = DnsServer(records=ClusterRecords([new_service("www", cluster_ip="192.0.2.80")], [],
                                                domain="example.com"))
    upstream_port = await upstream.start("127.0.0.1", 0)
    server = DnsServer(records=ZONE, forwarder=Forwarder([("127.0.0.1", upstream_port)]))
    try:
        response = await ask(server, query("www.default.svc.example.com"))
    finally:
        await upstream.close()
    assert [record.data for record in response.answers] == ["192.0.2.80"]


async def test_an_upstream_that_does_not_answer_is_skipped_for_a_while():
    clock = [0.0]
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # bound, never answers
    silent.bind(("127.0.0.1", 0))
    forwarder = Forwarder([silent.getsockname()], clock=lambda: clock[0], timeout=0.2)
    try:
        server = DnsServer(records=ZONE, forwarder=forwarder)
        assert (await ask(server, query("example.org"))).rcode == NXDOMAIN
        silent.settimeout(0)
        silent.recv(512)  # it was asked once
        assert (await ask(server, query("example.org"))).rcode == NXDOMAIN
        with pytest.raises(BlockingIOError):
            silent.recv(512)  # and not again while it is remembered as down
        clock[0] += 31
        await ask(server, query("example.org"))
        assert silent.recv(512)
    finally:
        silent.close()
