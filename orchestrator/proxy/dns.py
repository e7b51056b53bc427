"""Cluster DNS: answers `<svc>.<ns>.svc.cluster.local` from the Services and Endpoints the proxy watches.

Three parts, each usable alone:

- the wire format (RFC 1035): `parse_message` / `encode_message` for queries and
  answers with A, AAAA, CNAME, PTR, SRV, SOA and EDNS OPT records, name compression
  included;
- `ClusterRecords`: an immutable index built from Services and Endpoints, answering
  what CoreDNS's kubernetes plugin answers (the DNS spec for Services and Pods):
  `<svc>.<ns>.svc.<domain>` A -> the ClusterIP, or the ready pod IPs of a headless
  Service; `<hostname>.<svc>.<ns>.svc.<domain>` -> that pod; `_<port>._<proto>.<svc>...`
  SRV; ExternalName -> CNAME; `a-b-c-d.<ns>.pod.<domain>` A; PTR for service and
  endpoint addresses. Unknown names under the cluster domain are NXDOMAIN, known
  names without records of the asked type NOERROR with no answer (so resolvers
  asking A and AAAA together behave);
- `DnsServer`: asyncio UDP + TCP on one address and port; names outside the cluster
  domain are forwarded to the host's resolvers (/etc/resolv.conf), and answered
  NXDOMAIN when none answers (machines without an outside network), remembering for a
  while that they do not, so a pod's search-path walk never waits on them twice.

The proxy (main.py) runs the server on a local port and redirects the cluster DNS
address (10.96.0.10:53) to it (rules.py); the kubelet writes that address into
each pod's resolv.conf (podconfig.pod_dns_config).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import socket
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

log = logging.getLogger(__name__)

# Record types and classes (RFC 1035, 2782, 3596, 6891).
A, NS, CNAME, SOA, PTR, TXT, AAAA, SRV, OPT, ANY = 1, 2, 5, 6, 12, 16, 28, 33, 41, 255
CLASS_IN = 1
# Response codes.
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 2, 3, 4, 5
OPCODE_QUERY = 0

TTL = 5  # CoreDNS's kubernetes plugin default: endpoints change, answers must not linger
NEGATIVE_TTL = 5
MAX_UDP_SIZE = 512
MAX_EDNS_UDP_SIZE = 4096
UPSTREAM_TIMEOUT = 2.0
UPSTREAM_DOWN_SECONDS = 30.0  # how long an upstream that did not answer is not asked again
DNS_PORT = 53


class DnsFormatError(ValueError):
    """The bytes are not a DNS message this server can read."""


# ====================================================================== wire format


@dataclass(frozen=True)
class Question:
    name: str  # lower case, no trailing dot
    rtype: int
    rclass: int = CLASS_IN


@dataclass(frozen=True)
class SrvData:
    priority: int
    weight: int
    port: int
    target: str


@dataclass(frozen=True)
class SoaData:
    mname: str
    rname: str
    serial: int
    refresh: int
    retry: int
    expire: int
    minimum: int


@dataclass(frozen=True)
class Record:
    """A resource record; `data` is an IP string (A/AAAA), a name (CNAME/PTR/NS), SrvData, SoaData or raw bytes."""

    name: str
    rtype: int
    data: object
    ttl: int = TTL
    rclass: int = CLASS_IN


@dataclass
class Message:
    id: int = 0
    is_response: bool = False
    opcode: int = OPCODE_QUERY
    authoritative: bool = False
    truncated: bool = False
    recursion_desired: bool = False
    recursion_available: bool = False
    rcode: int = NOERROR
    questions: list[Question] = field(default_factory=list)
    answers: list[Record] = field(default_factory=list)
    authority: list[Record] = field(default_factory=list)
    additional: list[Record] = field(default_factory=list)

    @property
    def edns_udp_size(self) -> int | None:
        """The UDP payload size the asker accepts, from its EDNS OPT record (None without EDNS)."""
        for record in self.additional:
            if record.rtype == OPT:
                return record.rclass
        return None


_HEADER = struct.Struct("!HHHHHH")


def parse_message(data: bytes) -> Message:
    """Decode a DNS message; raises DnsFormatError on anything malformed."""
    if len(data) < _HEADER.size:
        raise DnsFormatError("shorter than a DNS header")
    message_id, flags, question_count, answer_count, authority_count, additional_count = _HEADER.unpack_from(data)
    message = Message(
        id=message_id,
        is_response=bool(flags & 0x8000),
        opcode=(flags >> 11) & 0xF,
        authoritative=bool(flags & 0x0400),
        truncated=bool(flags & 0x0200),
        recursion_desired=bool(flags & 0x0100),
        recursion_available=bool(flags & 0x0080),
        rcode=flags & 0xF,
    )
    offset = _HEADER.size
    for _ in range(question_count):
        name, offset = _read_name(data, offset)
        if offset + 4 > len(data):
            raise DnsFormatError("truncated question")
        rtype, rclass = struct.unpack_from("!HH", data, offset)
        offset += 4
        message.questions.append(Question(name.lower(), rtype, rclass))
    for section, count in ((message.answers, answer_count), (message.authority, authority_count),
                           (message.additional, additional_count)):
        for _ in range(count):
            record, offset = _read_record(data, offset)
            section.append(record)
    return message


def _read_name(data: bytes, offset: int) -> tuple[str, int]:
    labels: list[str] = []
    end_offset = None
    jumps = 0
    while True:
        if offset >= len(data):
            raise DnsFormatError("name runs past the end")
        length = data[offset]
        if length & 0xC0 == 0xC0:
            if offset + 1 >= len(data):
                raise DnsFormatError("truncated compression pointer")
            if end_offset is None:
                end_offset = offset + 2
            offset = ((length & 0x3F) << 8) | data[offset + 1]
            jumps += 1
            if jumps > 64:
                raise DnsFormatError("compression loop")
            continue
        if length & 0xC0:
            raise DnsFormatError("unsupported label type")
        offset += 1
        if length == 0:
            break
        if offset + length > len(data):
            raise DnsFormatError("label runs past the end")
        labels.append(data[offset:offset + length].decode("ascii", errors="replace"))
        offset += length
    name = ".".join(labels)
    if len(name) > 253:
        raise DnsFormatError("name longer than 253 characters")
    return name, end_offset if end_offset is not None else offset


def _read_record(data: bytes, offset: int) -> tuple[Record, int]:
    name, offset = _read_name(data, offset)
    if offset + 10 > len(data):
        raise DnsFormatError("truncated record header")
    rtype, rclass, ttl, length = struct.unpack_from("!HHIH", data, offset)
    offset += 10
    if offset + length > len(data):
        raise DnsFormatError("record data runs past the end")
    raw = data[offset:offset + length]
    payload: object = raw
    if rtype == A and length == 4:
        payload = str(ipaddress.IPv4Address(raw))
    elif rtype == AAAA and length == 16:
        payload = str(ipaddress.IPv6Address(raw))
    elif rtype in (CNAME, PTR, NS):
        payload = _read_name(data, offset)[0]
    elif rtype == SRV and length >= 7:
        priority, weight, port = struct.unpack_from("!HHH", data, offset)
        payload = SrvData(priority, weight, port, _read_name(data, offset + 6)[0])
    elif rtype == SOA:
        mname, after = _read_name(data, offset)
        rname, after = _read_name(data, after)
        payload = SoaData(mname, rname, *struct.unpack_from("!IIIII", data, after))
    return Record(name.lower(), rtype, payload, ttl, rclass), offset + length


class _Writer:
    """Builds a message, compressing names against those already written (RFC 1035 4.1.4)."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.offsets: dict[str, int] = {}

    def name(self, name: str) -> None:
        labels = [label for label in name.rstrip(".").split(".") if label]
        for index in range(len(labels)):
            suffix = ".".join(labels[index:]).lower()
            if suffix in self.offsets:
                self.buffer += struct.pack("!H", 0xC000 | self.offsets[suffix])
                return
            if len(self.buffer) < 0x3FFF:
                self.offsets[suffix] = len(self.buffer)
            encoded = labels[index].encode("ascii")
            if len(encoded) > 63:
                raise ValueError(f"DNS label longer than 63 bytes in {name!r}")
            self.buffer += bytes([len(encoded)]) + encoded
        self.buffer += b"\0"

    def record(self, record: Record) -> None:
        self.name(record.name)
        self.buffer += struct.pack("!HHI", record.rtype, record.rclass, record.ttl)
        length_at = len(self.buffer)
        self.buffer += b"\0\0"
        data = record.data
        if record.rtype == A:
            self.buffer += ipaddress.IPv4Address(data).packed  # type: ignore[arg-type]
        elif record.rtype == AAAA:
            self.buffer += ipaddress.IPv6Address(data).packed  # type: ignore[arg-type]
        elif record.rtype in (CNAME, PTR, NS):
            self.name(str(data))
        elif record.rtype == SRV and isinstance(data, SrvData):
            self.buffer += struct.pack("!HHH", data.priority, data.weight, data.port)
            self.name(data.target)
        elif record.rtype == SOA and isinstance(data, SoaData):
            self.name(data.mname)
            self.name(data.rname)
            self.buffer += struct.pack("!IIIII", data.serial, data.refresh, data.retry, data.expire, data.minimum)
        else:
            self.buffer += bytes(data)  # type: ignore[arg-type]
        struct.pack_into("!H", self.buffer, length_at, len(self.buffer) - length_at - 2)


def encode_message(message: Message) -> bytes:
    flags = ((0x8000 if message.is_response else 0) | (message.opcode & 0xF) << 11
             | (0x0400 if message.authoritative else 0) | (0x0200 if message.truncated else 0)
             | (0x0100 if message.recursion_desired else 0) | (0x0080 if message.recursion_available else 0)
             | (message.rcode & 0xF))
    writer = _Writer()
    writer.buffer += _HEADER.pack(message.id, flags, len(message.questions), len(message.answers),
                                  len(message.authority), len(message.additional))
    for question in message.questions:
        writer.name(question.name)
        writer.buffer += struct.pack("!HH", question.rtype, question.rclass)
    for record in (*message.answers, *message.authority, *message.additional):
        writer.record(record)
    return bytes(writer.buffer)


def fit_to_size(message: Message, max_size: int) -> bytes:
    """Encode, and if too big for the transport, drop the records and set TC so the client retries over TCP."""
    encoded = encode_message(message)
    if len(encoded) <= max_size:
        return encoded
    return encode_message(replace(message, answers=[], authority=[], additional=[], truncated=True))


# ====================================================================== cluster records


@dataclass(frozen=True)
class Answer:
    """The result of a lookup in the cluster zone."""

    rcode: int
    records: tuple[Record, ...] = ()


@dataclass(frozen=True)
class _ServiceEntry:
    namespace: str
    name: str
    cluster_ip: str | None  # None: headless
    external_name: str | None
    ports: tuple[tuple[str, str, int], ...]  # (name, protocol, port)
    endpoints: tuple[tuple[str, str], ...]  # headless: (hostname label, ip)


class ClusterRecords:
    """The cluster zone, as an immutable index over a snapshot of Services and Endpoints."""

    def __init__(self, services: Iterable[dict], endpoints: Iterable[dict], *, domain: str = "cluster.local"):
        self.domain = domain.strip(".").lower()
        endpoints_by_key = {_key(item): item for item in endpoints}
        self._services: dict[tuple[str, str], _ServiceEntry] = {}
        self._reverse: dict[str, str] = {}
        for service in services:
            entry = _service_entry(service, endpoints_by_key.get(_key(service)))
            self._services[(entry.namespace, entry.name)] = entry
            service_name = f"{entry.name}.{entry.namespace}.svc.{self.domain}"
            if entry.cluster_ip:
                self._reverse[entry.cluster_ip] = service_name
            for hostname, ip in entry.endpoints:
                self._reverse.setdefault(ip, f"{hostname}.{service_name}")
        self.namespaces = {namespace for namespace, _ in self._services}

    def is_authoritative_for(self, name: str) -> bool:
        name = name.lower().rstrip(".")
        return name == self.domain or name.endswith("." + self.domain) or self._reverse_ip(name) in self._reverse

    def soa(self) -> Record:
        return Record(self.domain, SOA, SoaData(f"ns.dns.{self.domain}", f"hostmaster.{self.domain}",
                                               serial=1, refresh=7200, retry=1800, expire=86400,
                                               minimum=NEGATIVE_TTL), ttl=NEGATIVE_TTL)

    def lookup(self, question: Question) -> Answer:
        """The answer for a name this zone is authoritative for (see is_authoritative_for)."""
        name = question.name.lower().rstrip(".")
        reverse_ip = self._reverse_ip(name)
        if reverse_ip is not None:
            target = self._reverse.get(reverse_ip)
            if target is None:
                return Answer(NXDOMAIN)
            return Answer(NOERROR, (Record(name, PTR, target),) if question.rtype in (PTR, ANY) else ())
        relative = name[: -len(self.domain)].rstrip(".") if name != self.domain else ""
        labels = relative.split(".") if relative else []
        if not labels:
            return Answer(NOERROR)  # the zone apex
        if labels[-1] == "svc":
            return self._lookup_service(name, labels[:-1], question.rtype)
        if labels[-1] == "pod":
            return self._lookup_pod(name, labels[:-1], question.rtype)
        return Answer(NXDOMAIN)

    def _lookup_service(self, name: str, labels: list[str], rtype: int) -> Answer:
        # labels (before "svc"): [], [ns], [svc, ns], [host, svc, ns], [_port, _proto, svc, ns]
        if len(labels) == 0:
            return Answer(NOERROR)
        if len(labels) == 1:
            return Answer(NOERROR if labels[0] in self.namespaces else NXDOMAIN)
        entry = self._services.get((labels[-1], labels[-2]))
        if entry is None:
            return Answer(NXDOMAIN)
        service_name = f"{entry.name}.{entry.namespace}.svc.{self.domain}"
        if len(labels) == 2:
            return Answer(NOERROR, tuple(self._service_records(entry, name, rtype)))
        if len(labels) == 3:
            if labels[0].startswith("_"):
                return Answer(NOERROR) if any(f"_{port_protocol.lower()}" == labels[0]
                                              for _, port_protocol, _ in entry.ports) else Answer(NXDOMAIN)
            addresses = [ip for hostname, ip in entry.endpoints if hostname == labels[0]]
            if not addresses:
                return Answer(NXDOMAIN)
            return Answer(NOERROR, tuple(Record(name, A, ip) for ip in addresses if rtype in (A, ANY)))
        if len(labels) == 4 and labels[0].startswith("_") and labels[1].startswith("_"):
            port_name, protocol = labels[0][1:], labels[1][1:]
            matching = [port for port in entry.ports if port[0] == port_name and port[1].lower() == protocol]
            if not matching:
                return Answer(NXDOMAIN)
            if rtype not in (SRV, ANY):
                return Answer(NOERROR)
            records: list[Record] = []
            for _, _, port in matching:
                if entry.cluster_ip:
                    records.append(Record(name, SRV, SrvData(0, 100, port, service_name)))
                else:
                    weight = max(100 // max(len(entry.endpoints), 1), 1)
                    records.extend(Record(name, SRV, SrvData(0, weight, port, f"{hostname}.{service_name}"))
                                   for hostname, _ in entry.endpoints)
            return Answer(NOERROR, tuple(records))
        return Answer(NXDOMAIN)

    def _service_records(self, entry: _ServiceEntry, name: str, rtype: int) -> list[Record]:
        if entry.external_name:
            return [Record(name, CNAME, entry.external_name)]  # for every type, as a CNAME owner must
        if rtype not in (A, ANY):
            return []
        if entry.cluster_ip:
            return [Record(name, A, entry.cluster_ip)]
        return [Record(name, A, ip) for ip in sorted({ip for _, ip in entry.endpoints}, key=ipaddress.ip_address)]

    def _lookup_pod(self, name: str, labels: list[str], rtype: int) -> Answer:
        # a-b-c-d.<ns>.pod.<domain>: kube-dns's "pods insecure" mode, which CoreDNS keeps by default.
        if len(labels) != 2:
            return Answer(NOERROR if len(labels) < 2 else NXDOMAIN)
        try:
            ip = ipaddress.IPv4Address(labels[0].replace("-", "."))
        except ValueError:
            return Answer(NXDOMAIN)
        return Answer(NOERROR, (Record(name, A, str(ip)),) if rtype in (A, ANY) else ())

    @staticmethod
    def _reverse_ip(name: str) -> str | None:
        if not name.endswith(".in-addr.arpa"):
            return None
        octets = name[: -len(".in-addr.arpa")].split(".")
        if len(octets) != 4:
            return None
        try:
            return str(ipaddress.IPv4Address(".".join(reversed(octets))))
        except ValueError:
            return None

    def resolve(self, query: Message) -> Message:
        """The authoritative answer to a query for a cluster name, CNAMEs into the zone followed."""
        question = query.questions[0]
        answer = self.lookup(question)
        records = list(answer.records)
        rcode = answer.rcode
        # Follow a CNAME whose target is in the zone (ExternalName pointing at another Service).
        seen = {question.name}
        while records and records[-1].rtype == CNAME and question.rtype != CNAME:
            target = str(records[-1].data).lower().rstrip(".")
            if target in seen or not self.is_authoritative_for(target):
                break
            seen.add(target)
            followed = self.lookup(Question(target, question.rtype))
            records.extend(followed.records)
            rcode = followed.rcode if not followed.records else rcode
        response = _response_to(query, rcode=rcode)
        response.authoritative = True
        response.answers = records
        if not records:
            response.authority = [self.soa()]
        return response


def _key(obj: dict) -> tuple[str, str]:
    metadata = obj.get("metadata") or {}
    return metadata.get("namespace") or "default", metadata.get("name") or ""


def _service_entry(service: dict, endpoints: dict | None) -> _ServiceEntry:
    namespace, name = _key(service)
    spec = service.get("spec") or {}
    ports = tuple((port.get("name") or "", port.get("protocol") or "TCP", int(port.get("port") or 0))
                  for port in spec.get("ports") or [])
    if spec.get("type") == "ExternalName":
        return _ServiceEntry(namespace.lower(), name.lower(), None, (spec.get("externalName") or "").rstrip("."),
                             ports, ())
    cluster_ip = spec.get("clusterIP")
    if cluster_ip and cluster_ip != "None":
        return _ServiceEntry(namespace.lower(), name.lower(), cluster_ip, None, ports, ())
    addresses: dict[str, str] = {}
    for subset in (endpoints or {}).get("subsets") or []:
        published = list(subset.get("addresses") or [])
        if spec.get("publishNotReadyAddresses"):
            published += subset.get("notReadyAddresses") or []
        for address in published:
            ip = address.get("ip")
            if ip and ip not in addresses:
                addresses[ip] = (address.get("hostname") or ip.replace(".", "-")).lower()
    return _ServiceEntry(namespace.lower(), name.lower(), None, None, ports,
                         tuple((hostname, ip) for ip, hostname in addresses.items()))


def _response_to(query: Message, *, rcode: int) -> Message:
    return Message(id=query.id, is_response=True, opcode=query.opcode, recursion_desired=query.recursion_desired,
                   recursion_available=True, rcode=rcode, questions=list(query.questions))


# ====================================================================== the server


def host_nameservers(resolv_conf: Path = Path("/etc/resolv.conf")) -> list[str]:
    """The host's resolvers (IPv4 `nameserver` lines), where names outside the cluster are forwarded."""
    try:
        text = resolv_conf.read_text()
    except OSError:
        return []
    servers = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            try:
                if ipaddress.ip_address(fields[1]).version == 4:
                    servers.append(fields[1])
            except ValueError:
                continue
    return servers


class _UpstreamProtocol(asyncio.DatagramProtocol):
    def __init__(self, answer: asyncio.Future[bytes]):
        self.answer = answer

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        if not self.answer.done():
            self.answer.set_result(data)

    def error_received(self, exc: Exception) -> None:
        if not self.answer.done():
            self.answer.set_exception(exc)


class Forwarder:
    """Relays queries for names outside the cluster to upstream resolvers, remembering which do not answer."""

    def __init__(self, upstreams: list[tuple[str, int]], *, clock: Callable[[], float] = time.monotonic,
                 timeout: float = UPSTREAM_TIMEOUT):
        self.upstreams = upstreams
        self.timeout = timeout
        self._clock = clock
        self._down_until: dict[tuple[str, int], float] = {}

    async def forward(self, query_bytes: bytes) -> bytes | None:
        """The first upstream answer, or None when none answered in time."""
        loop = asyncio.get_running_loop()
        for upstream in self.upstreams:
            if self._down_until.get(upstream, 0.0) > self._clock():
                continue
            answer: asyncio.Future[bytes] = loop.create_future()
            transport = None
            try:
                transport, _ = await loop.create_datagram_endpoint(functools.partial(_UpstreamProtocol, answer),
                                                                   remote_addr=upstream)
                transport.sendto(query_bytes)
                return await asyncio.wait_for(answer, self.timeout)
            except (OSError, TimeoutError) as error:
                log.info("DNS upstream %s:%d did not answer (%s); not asking it for %.0fs", *upstream,
                         error or "timeout", UPSTREAM_DOWN_SECONDS)
                self._down_until[upstream] = self._clock() + UPSTREAM_DOWN_SECONDS
            finally:
                if transport is not None:
                    transport.close()
        return None


class DnsServer:
    """Cluster DNS on UDP and TCP: the cluster zone from `records`, everything else forwarded."""

    def __init__(self, *, records: ClusterRecords, forwarder: Forwarder | None = None):
        self.records = records
        self.forwarder = forwarder or Forwarder([])
        self._transports: list[asyncio.BaseTransport] = []
        self._tcp_servers: list[asyncio.base_events.Server] = []
        self.port: int | None = None

    def update(self, records: ClusterRecords) -> None:
        """Swap in a new snapshot of the zone (called on every Services/Endpoints change)."""
        self.records = records

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on host:port over UDP and TCP (port 0: any free port, the same for both); returns the port.

        A wildcard `host` also gets a UDP socket of its own on 127.0.0.1: a UDP socket bound to
        0.0.0.0 answers from the address routing picks, and a query this machine sent to the cluster
        DNS address (redirected to 127.0.0.1) would get its answer from the machine's main address,
        which conntrack does not recognise as the reply. The more specific socket receives those.
        """
        for _ in range(20):  # a free UDP port may be taken over TCP: try another
            transports = [await self._udp_endpoint(host, port)]
            chosen = transports[0].get_extra_info("sockname")[1]
            try:
                if host == "0.0.0.0":
                    transports.append(await self._udp_endpoint("127.0.0.1", chosen))
                server = await asyncio.start_server(self._serve_tcp, host, chosen, reuse_address=True)
            except OSError:
                for transport in transports:
                    transport.close()
                if port:
                    raise
                continue
            self._transports.extend(transports)
            self._tcp_servers.append(server)
            self.port = chosen
            log.info("cluster DNS listening on %s:%d (udp, tcp)", host, chosen)
            return chosen
        raise OSError(f"no port free for both UDP and TCP on {host}")

    async def _udp_endpoint(self, host: str, port: int) -> asyncio.DatagramTransport:
        # SO_REUSEADDR lets the loopback socket share the wildcard socket's port (asyncio no longer offers it).
        udp_socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            udp_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            udp_socket.bind((host, port))
        except OSError:
            udp_socket.close()
            raise
        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: _UdpServerProtocol(self), sock=udp_socket)
        return transport

    async def close(self) -> None:
        for transport in self._transports:
            transport.close()
        for server in self._tcp_servers:
            server.close()
        self._transports.clear()
        self._tcp_servers.clear()

    async def answer(self, query_bytes: bytes, *, max_size: int) -> bytes | None:
        """The response to one query (None: not even an error can be formed)."""
        try:
            query = parse_message(query_bytes)
        except DnsFormatError:
            if len(query_bytes) < 2:
                return None
            return encode_message(Message(id=struct.unpack_from("!H", query_bytes)[0], is_response=True,
                                          rcode=FORMERR))
        if query.is_response:
            return None
        if query.opcode != OPCODE_QUERY or len(query.questions) != 1:
            return encode_message(_response_to(query, rcode=NOTIMP if query.opcode != OPCODE_QUERY else FORMERR))
        size = max_size
        if max_size == MAX_UDP_SIZE and query.edns_udp_size:
            size = max(MAX_UDP_SIZE, min(query.edns_udp_size, MAX_EDNS_UDP_SIZE))
        records = self.records
        if records.is_authoritative_for(query.questions[0].name):
            response = records.resolve(query)
            await self._chase_external_cname(response)
            return fit_to_size(response, size)
        forwarded = await self.forwarder.forward(query_bytes)
        if forwarded is not None:
            return forwarded
        # No upstream: NXDOMAIN lets a resolver walking its search path move on at once.
        return encode_message(_response_to(query, rcode=NXDOMAIN))

    async def _chase_external_cname(self, response: Message) -> None:
        """Append the upstream's records for an ExternalName's target (resolvers expect the whole chain)."""
        question = response.questions[0]
        if not response.answers or response.answers[-1].rtype != CNAME or question.rtype in (CNAME, ANY):
            return
        target = str(response.answers[-1].data).lower().rstrip(".")
        if self.records.is_authoritative_for(target):
            return
        query = Message(id=response.id, recursion_desired=True, questions=[Question(target, question.rtype)])
        forwarded = await self.forwarder.forward(encode_message(query))
        if forwarded is None:
            return
        try:
            upstream_answer = parse_message(forwarded)
        except DnsFormatError:
            return
        response.answers.extend(upstream_answer.answers)
        response.authority = []

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                length_bytes = await asyncio.wait_for(reader.readexactly(2), 30)
                query_bytes = await reader.readexactly(struct.unpack("!H", length_bytes)[0])
                response = await self.answer(query_bytes, max_size=65535)
                if response is None:
                    break
                writer.write(struct.pack("!H", len(response)) + response)
                await writer.drain()
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()


class _UdpServerProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer):
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None
        self.tasks: set[asyncio.Task] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        task = asyncio.get_running_loop().create_task(self._reply(data, addr))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _reply(self, data: bytes, addr: tuple) -> None:
        try:
            response = await self.server.answer(data, max_size=MAX_UDP_SIZE)
        except Exception:  # one bad query must not stop the server
            log.exception("DNS query from %s failed", addr)
            return
        if response is not None and self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(response, addr)
