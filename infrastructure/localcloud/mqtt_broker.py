"""An MQTT broker on the loopback interface, standing in for AWS IoT Core's message broker.

:func:`start_broker` runs ``mosquitto`` when the binary is on ``PATH`` (a real, fast broker with a
generated minimal configuration) and otherwise a small embedded MQTT 3.1.1 broker written here
(one background thread, ``selectors``, no dependencies). Both listen only on the host given,
which must be a loopback address: both accept anonymous clients.

The embedded broker implements what devices and the rules bridge need: CONNECT/CONNACK (MQTT
3.1 and 3.1.1; 5.0 is refused with return code 1), SUBSCRIBE/SUBACK with ``+`` and ``#``,
UNSUBSCRIBE/UNSUBACK, PUBLISH at QoS 0 and 1 (PUBACK) and, inbound, QoS 2 (PUBREC/PUBREL/PUBCOMP),
PINGREQ/PINGRESP, DISCONNECT, last-will messages, client-id takeover and keep-alive timeouts.
Deliveries are at most QoS 1 (SUBACK grants at most 1). Not implemented: retained messages (the
retain flag is accepted and ignored), persistent sessions (every session is treated as clean),
redelivery of unacknowledged QoS 1 messages, authentication.
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import logging
import os
import selectors
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Final, Literal

from .iot_sql import UnsupportedIotSql, topic_matches, validate_topic_filter

__all__ = [
    "Broker",
    "BrokerError",
    "BrokerKind",
    "BrokerTls",
    "EmbeddedBroker",
    "MosquittoBroker",
    "start_broker",
]

log = logging.getLogger(__name__)

BrokerKind = Literal["auto", "mosquitto", "embedded"]


class BrokerError(RuntimeError):
    """The broker could not be started."""


class Broker(ABC):
    """A running MQTT broker.

    Attributes
    ----------
    host
        The address it listens on.
    port
        The port it listens on (the real one when port 0 was asked for).
    kind
        ``"mosquitto"`` or ``"embedded"``.
    """

    host: str
    port: int
    kind: Literal["mosquitto", "embedded"]

    @abstractmethod
    def stop(self) -> None:
        """Stop the broker and release its port; calling it again does nothing."""

    @property
    @abstractmethod
    def running(self) -> bool:
        """Whether the broker is still serving."""

    def __enter__(self) -> Broker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<{type(self).__name__} {self.kind} {self.host}:{self.port} {state}>"


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _resolve_loopback(host: str, port: int) -> tuple[socket.AddressFamily, tuple[str, int]]:
    """Resolve ``host`` and insist that it is a loopback address."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise BrokerError(f"cannot resolve broker host {host!r}: {exc}") from exc
    family, _, _, _, sockaddr = infos[0]
    address = str(sockaddr[0])
    if not ipaddress.ip_address(address.split("%")[0]).is_loopback:
        # Both brokers accept anonymous clients: never expose them beyond this machine.
        raise BrokerError(f"the local MQTT broker binds to loopback only, not {host!r}")
    return family, (address, int(sockaddr[1]))


def _free_port(host: str) -> int:
    family, address = _resolve_loopback(host, 0)
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind(address)
        return int(probe.getsockname()[1])


def _port_is_free(host: str, port: int) -> bool:
    family, address = _resolve_loopback(host, port)
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR so that a port in TIME_WAIT (a broker just stopped) counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError:
            return False
    return True


def _accepts_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------------------------
# mosquitto
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokerTls:
    """A mutual-TLS listener, as AWS IoT Core's on 8883: the server's certificate and key, and
    the CA that must have signed every client's certificate (mosquitto only)."""

    ca: Path
    cert: Path
    key: Path

    def config(self, workdir: Path) -> str:
        # mosquitto drops root privileges to its own user: it reads copies in its directory.
        lines = []
        for option, source in (("cafile", self.ca), ("certfile", self.cert), ("keyfile", self.key)):
            copy = workdir / f"{option}.pem"
            shutil.copyfile(source, copy)
            os.chmod(copy, 0o644)
            lines.append(f"{option} {copy}\n")
        return "".join(lines) + "require_certificate true\nuse_identity_as_username true\n"


class MosquittoBroker(Broker):
    """A ``mosquitto`` process with a generated configuration; see :func:`start_broker`."""

    kind = "mosquitto"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        executable: str,
        timeout: float = 5.0,
        tls: BrokerTls | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self._workdir = Path(tempfile.mkdtemp(prefix="localcloud-mosquitto-"))
        os.chmod(self._workdir, 0o755)
        config = self._workdir / "mosquitto.conf"
        config.write_text(
            "# Generated by localcloud.mqtt_broker: loopback only, anonymous, in memory.\n"
            f"listener {port} {host}\n"
            + (tls.config(self._workdir) if tls else "")
            + "allow_anonymous true\n"
            "persistence false\n"
            # IoT Core does not drop messages for a busy rules engine; mosquitto's default
            # (1000 queued QoS 1 messages per client) silently would in a burst.
            "max_queued_messages 0\n"
            "log_dest stderr\n"
            "log_type error\n"
            "log_type warning\n",
            encoding="utf-8",
        )
        # mosquitto drops root privileges to its own user; it must still read the file.
        os.chmod(config, 0o644)
        self._stderr_path = self._workdir / "stderr.log"
        self._stderr = self._stderr_path.open("wb")
        self._stopped = False
        try:
            self._process = subprocess.Popen(
                [executable, "-c", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=self._stderr,
                stderr=self._stderr,
                cwd=self._workdir,
                # Its own session: a Ctrl-C in the terminal reaches us, and we stop it cleanly.
                start_new_session=True,
            )
        except OSError as exc:
            self._cleanup()
            raise BrokerError(f"cannot run {executable}: {exc}") from exc
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        log.info("mosquitto (pid %d) listening on %s:%d", self._process.pid, host, port)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            code = self._process.poll()
            if code is not None:
                raise BrokerError(
                    f"mosquitto exited with code {code} before listening on "
                    f"{self.host}:{self.port}: {self._stderr_text() or '(no output)'}"
                )
            if _accepts_connections(self.host, self.port):
                return
            if time.monotonic() > deadline:
                raise BrokerError(
                    f"mosquitto did not listen on {self.host}:{self.port} within {timeout:.1f} s"
                    f": {self._stderr_text() or '(no output)'}"
                )
            time.sleep(0.02)

    def _stderr_text(self) -> str:
        try:
            return self._stderr_path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return ""

    @property
    def pid(self) -> int:
        """The mosquitto process id."""
        return self._process.pid

    @property
    def running(self) -> bool:
        return not self._stopped and self._process.poll() is None

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        process = getattr(self, "_process", None)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                log.warning("mosquitto (pid %d) ignored SIGTERM; killing it", process.pid)
                process.kill()
                process.wait(timeout=5)
        self._cleanup()
        log.info("mosquitto on %s:%d stopped", self.host, self.port)

    def _cleanup(self) -> None:
        with contextlib.suppress(OSError):
            self._stderr.close()
        shutil.rmtree(self._workdir, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# The embedded broker
# --------------------------------------------------------------------------------------------

# Control packet types (MQTT 3.1.1, section 2.2.1).
CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT = range(8, 15)

_MAX_PACKET: Final = 8 * 1024 * 1024  # AWS IoT allows 128 KB; be generous, but bounded.
_MAX_OUTBUF: Final = 64 * 1024 * 1024  # a subscriber this far behind is dropped
_CONNECT_TIMEOUT: Final = 10.0  # seconds a socket may stay open without sending CONNECT


class _ProtocolError(Exception):
    """The client broke the protocol: close its connection."""


def _encode_length(length: int) -> bytes:
    out = bytearray()
    while True:
        byte, length = length % 128, length // 128
        out.append(byte | 0x80 if length else byte)
        if not length:
            return bytes(out)


def _packet(first_byte: int, body: bytes = b"") -> bytes:
    return bytes((first_byte,)) + _encode_length(len(body)) + body


def _utf8(text: str) -> bytes:
    raw = text.encode("utf-8")
    return len(raw).to_bytes(2, "big") + raw


class _Reader:
    """Cursor over one packet's variable header and payload."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def u8(self) -> int:
        if self.pos >= len(self.data):
            raise _ProtocolError("packet too short")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def u16(self) -> int:
        if self.pos + 2 > len(self.data):
            raise _ProtocolError("packet too short")
        value = int.from_bytes(self.data[self.pos : self.pos + 2], "big")
        self.pos += 2
        return value

    def binary(self) -> bytes:
        length = self.u16()
        if self.pos + length > len(self.data):
            raise _ProtocolError("string runs past the end of the packet")
        value = self.data[self.pos : self.pos + length]
        self.pos += length
        return value

    def text(self) -> str:
        try:
            value = self.binary().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _ProtocolError("malformed UTF-8 string") from exc
        if "\x00" in value:
            raise _ProtocolError("string contains NUL")
        return value

    def rest(self) -> bytes:
        value = self.data[self.pos :]
        self.pos = len(self.data)
        return value

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos


@dataclass(eq=False)
class _Session:
    sock: socket.socket
    peer: str
    opened: float
    inbuf: bytearray = field(default_factory=bytearray)
    outbuf: bytearray = field(default_factory=bytearray)
    client_id: str | None = None
    keepalive: float = 0.0
    last_seen: float = 0.0
    subscriptions: dict[str, int] = field(default_factory=dict)
    will: tuple[str, bytes, int] | None = None
    pending_qos2: set[int] = field(default_factory=set)
    packet_ids: itertools.cycle[int] = field(
        default_factory=lambda: itertools.cycle(range(1, 65536))
    )
    closed: bool = False
    writing: bool = False


class EmbeddedBroker(Broker):
    """The pure-Python MQTT 3.1.1 broker; see the module docstring for what it supports."""

    kind = "embedded"

    def __init__(self, host: str = "127.0.0.1", port: int = 1883) -> None:
        family, address = _resolve_loopback(host, port)
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(address)
            listener.listen(128)
            listener.setblocking(False)
        except OSError as exc:
            listener.close()
            raise BrokerError(f"cannot listen on {host}:{port}: {exc}") from exc
        self.host = host
        self.port = int(listener.getsockname()[1])
        self._listener = listener
        self._selector = selectors.DefaultSelector()
        self._selector.register(listener, selectors.EVENT_READ, None)
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._sessions: set[_Session] = set()
        self._by_client_id: dict[str, _Session] = {}
        self._dirty: set[_Session] = set()
        self._auto_ids = itertools.count(1)
        self._stop_requested = threading.Event()
        self._stop_lock = threading.Lock()
        self._stopped = False
        self._thread = threading.Thread(
            target=self._serve, name=f"mqtt-broker-{self.port}", daemon=True
        )
        self._thread.start()
        log.info("embedded MQTT broker listening on %s:%d", self.host, self.port)

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stop_requested.is_set()

    @property
    def client_count(self) -> int:
        """How many clients are connected (for diagnostics and tests)."""
        return sum(1 for s in list(self._sessions) if s.client_id is not None)

    def stop(self) -> None:
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        self._stop_requested.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        self._thread.join(timeout=5)
        if self._thread.is_alive():
            log.warning("embedded MQTT broker thread did not stop within 5 s")
        self._close_everything()
        log.info("embedded MQTT broker on %s:%d stopped", self.host, self.port)

    def _close_everything(self) -> None:
        for session in list(self._sessions):
            self._close(session, publish_will=False)
        with contextlib.suppress(Exception):
            self._selector.unregister(self._listener)
        self._listener.close()
        with contextlib.suppress(Exception):
            self._selector.unregister(self._wake_r)
        self._wake_r.close()
        self._wake_w.close()
        self._selector.close()

    # -- event loop -----------------------------------------------------------------------------

    def _serve(self) -> None:
        last_sweep = time.monotonic()
        try:
            while not self._stop_requested.is_set():
                for key, mask in self._selector.select(timeout=0.5):
                    if key.data is None:
                        self._accept()
                    elif key.data == "wake":
                        with contextlib.suppress(OSError):
                            self._wake_r.recv(64)
                    else:
                        session: _Session = key.data
                        if mask & selectors.EVENT_READ and not session.closed:
                            self._read(session)
                        if mask & selectors.EVENT_WRITE and not session.closed:
                            self._dirty.add(session)
                self._flush_dirty()
                now = time.monotonic()
                if now - last_sweep >= 0.5:
                    last_sweep = now
                    self._sweep(now)
        except Exception:
            log.exception("embedded MQTT broker loop crashed")
        finally:
            self._stop_requested.set()

    def _accept(self) -> None:
        while True:
            try:
                sock, peer = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.warning("accept failed: %s", exc)
                return
            sock.setblocking(False)
            # Alarms are latency-sensitive; Nagle's algorithm would hold small packets back.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            now = time.monotonic()
            session = _Session(sock, f"{peer[0]}:{peer[1]}", opened=now, last_seen=now)
            self._sessions.add(session)
            self._selector.register(sock, selectors.EVENT_READ, session)

    def _sweep(self, now: float) -> None:
        for session in list(self._sessions):
            if session.client_id is None:
                if now - session.opened > _CONNECT_TIMEOUT:
                    log.info("closing %s: no CONNECT within %.0f s", session.peer, _CONNECT_TIMEOUT)
                    self._close(session)
            elif session.keepalive and now - session.last_seen > 1.5 * session.keepalive:
                log.info("closing %s (%s): keep-alive expired", session.peer, session.client_id)
                self._close(session)

    def _read(self, session: _Session) -> None:
        try:
            data = session.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            log.debug("read from %s failed: %s", session.peer, exc)
            self._close(session)
            return
        if not data:
            self._close(session)
            return
        session.inbuf += data
        session.last_seen = time.monotonic()
        try:
            self._consume(session)
        except _ProtocolError as exc:
            log.warning("closing %s (%s): %s", session.peer, session.client_id, exc)
            self._close(session)
        except Exception:
            # A bug handling one client must not take the broker down for all the others.
            log.exception("closing %s (%s): internal error", session.peer, session.client_id)
            self._close(session)

    def _consume(self, session: _Session) -> None:
        buf = session.inbuf
        pos = 0
        while not session.closed:
            if len(buf) - pos < 2:
                break
            length = 0
            multiplier = 1
            index = pos + 1
            while True:
                if index >= len(buf):
                    length = -1  # length bytes not all here yet
                    break
                byte = buf[index]
                length += (byte & 0x7F) * multiplier
                index += 1
                if not byte & 0x80:
                    break
                multiplier *= 128
                if multiplier > 128**3:
                    raise _ProtocolError("malformed remaining length")
            if length < 0:
                break
            if length > _MAX_PACKET:
                raise _ProtocolError(f"packet of {length} bytes exceeds {_MAX_PACKET}")
            if len(buf) - index < length:
                break
            first = buf[pos]
            body = bytes(buf[index : index + length])
            pos = index + length
            self._dispatch(session, first >> 4, first & 0x0F, body)
        if pos:
            del buf[:pos]

    # -- packets --------------------------------------------------------------------------------

    def _dispatch(self, session: _Session, kind: int, flags: int, body: bytes) -> None:
        if session.client_id is None and kind != CONNECT:
            raise _ProtocolError(f"packet type {kind} before CONNECT")
        if kind == CONNECT:
            self._on_connect(session, body)
        elif kind == PUBLISH:
            self._on_publish(session, flags, body)
        elif kind in (PUBACK, PUBCOMP):
            pass  # no redelivery is kept, so acknowledgements need no bookkeeping
        elif kind == PUBREC:
            self._send(session, _packet(PUBREL << 4 | 0x02, body[:2]))
        elif kind == PUBREL:
            packet_id = _Reader(body).u16()
            session.pending_qos2.discard(packet_id)
            self._send(session, _packet(PUBCOMP << 4, packet_id.to_bytes(2, "big")))
        elif kind == SUBSCRIBE:
            self._on_subscribe(session, flags, body)
        elif kind == UNSUBSCRIBE:
            self._on_unsubscribe(session, flags, body)
        elif kind == PINGREQ:
            self._send(session, _packet(PINGRESP << 4))
        elif kind == DISCONNECT:
            session.will = None  # a clean disconnect discards the will
            self._close(session, publish_will=False)
        else:
            raise _ProtocolError(f"unexpected packet type {kind}")

    def _on_connect(self, session: _Session, body: bytes) -> None:
        if session.client_id is not None:
            raise _ProtocolError("second CONNECT")
        reader = _Reader(body)
        protocol = reader.text()
        level = reader.u8()
        if (protocol, level) not in (("MQTT", 4), ("MQIsdp", 3)):
            # Return code 1: unacceptable protocol version (MQTT 5 clients fall back or fail).
            self._send(session, _packet(CONNACK << 4, b"\x00\x01"))
            self._close(session, publish_will=False)
            return
        flags = reader.u8()
        if flags & 0x01:
            raise _ProtocolError("reserved CONNECT flag set")
        clean = bool(flags & 0x02)
        keepalive = reader.u16()
        client_id = reader.text()
        will = None
        if flags & 0x04:
            will_topic = reader.text()
            will_message = reader.binary()
            will_qos = min((flags >> 3) & 0x03, 1)
            will = (will_topic, will_message, will_qos)
        if flags & 0x80:
            reader.text()  # user name: anonymous broker, ignored
        if flags & 0x40:
            reader.binary()  # password: ignored
        if not client_id:
            if not clean:
                # Return code 2: identifier rejected (a persistent session needs an id).
                self._send(session, _packet(CONNACK << 4, b"\x00\x02"))
                self._close(session, publish_will=False)
                return
            client_id = f"localcloud-auto-{next(self._auto_ids)}"
        previous = self._by_client_id.get(client_id)
        if previous is not None and previous is not session:
            log.info("client id %s reconnected; closing its previous connection", client_id)
            self._close(previous)
        session.client_id = client_id
        session.keepalive = float(keepalive)
        session.will = will
        self._by_client_id[client_id] = session
        self._send(session, _packet(CONNACK << 4, b"\x00\x00"))
        log.debug("client %s connected from %s", client_id, session.peer)

    def _on_publish(self, session: _Session, flags: int, body: bytes) -> None:
        qos = (flags >> 1) & 0x03
        if qos == 3:
            raise _ProtocolError("PUBLISH with QoS 3")
        reader = _Reader(body)
        topic = reader.text()
        if not topic or "+" in topic or "#" in topic:
            raise _ProtocolError(f"invalid topic name {topic!r} in PUBLISH")
        packet_id = reader.u16() if qos else 0
        payload = reader.rest()
        if qos == 1:
            self._send(session, _packet(PUBACK << 4, packet_id.to_bytes(2, "big")))
        elif qos == 2:
            self._send(session, _packet(PUBREC << 4, packet_id.to_bytes(2, "big")))
            if packet_id in session.pending_qos2:
                return  # a resent QoS 2 message we already delivered
            session.pending_qos2.add(packet_id)
        self._route(topic, payload, qos)

    def _route(self, topic: str, payload: bytes, qos: int) -> None:
        for target in list(self._sessions):
            if target.client_id is None or target.closed:
                continue
            granted = -1
            for topic_filter, max_qos in target.subscriptions.items():
                if max_qos > granted and topic_matches(topic_filter, topic):
                    granted = max_qos
            if granted < 0:
                continue
            out_qos = min(qos, granted)
            header = _utf8(topic)
            if out_qos:
                header += next(target.packet_ids).to_bytes(2, "big")
            self._send(target, _packet(PUBLISH << 4 | out_qos << 1, header + payload))

    def _on_subscribe(self, session: _Session, flags: int, body: bytes) -> None:
        if flags != 0x02:
            raise _ProtocolError("SUBSCRIBE with wrong fixed-header flags")
        reader = _Reader(body)
        packet_id = reader.u16()
        codes = bytearray()
        while reader.remaining:
            topic_filter = reader.text()
            requested = reader.u8() & 0x03
            try:
                validate_topic_filter(topic_filter)
            except UnsupportedIotSql:
                codes.append(0x80)
                continue
            granted = min(requested, 1)  # outbound QoS 2 is not implemented
            session.subscriptions[topic_filter] = granted
            codes.append(granted)
        if not codes:
            raise _ProtocolError("SUBSCRIBE without topic filters")
        self._send(session, _packet(SUBACK << 4, packet_id.to_bytes(2, "big") + bytes(codes)))

    def _on_unsubscribe(self, session: _Session, flags: int, body: bytes) -> None:
        if flags != 0x02:
            raise _ProtocolError("UNSUBSCRIBE with wrong fixed-header flags")
        reader = _Reader(body)
        packet_id = reader.u16()
        while reader.remaining:
            session.subscriptions.pop(reader.text(), None)
        self._send(session, _packet(UNSUBACK << 4, packet_id.to_bytes(2, "big")))

    # -- output ---------------------------------------------------------------------------------

    def _send(self, session: _Session, data: bytes) -> None:
        if session.closed:
            return
        session.outbuf += data
        if len(session.outbuf) > _MAX_OUTBUF:
            log.warning("dropping %s (%s): it is not reading", session.peer, session.client_id)
            self._close(session)
            return
        # Flushed once per loop iteration, so a burst leaves in few system calls.
        self._dirty.add(session)

    def _flush_dirty(self) -> None:
        while self._dirty:
            session = self._dirty.pop()
            if not session.closed:
                self._flush(session)

    def _flush(self, session: _Session) -> None:
        try:
            while session.outbuf:
                sent = session.sock.send(session.outbuf)
                del session.outbuf[:sent]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError as exc:
            log.debug("write to %s failed: %s", session.peer, exc)
            self._close(session)
            return
        want_write = bool(session.outbuf)
        if want_write != session.writing:
            session.writing = want_write
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if want_write else 0)
            self._selector.modify(session.sock, events, session)

    def _close(self, session: _Session, *, publish_will: bool = True) -> None:
        if session.closed:
            return
        if session.outbuf:
            with contextlib.suppress(OSError):
                session.sock.send(session.outbuf)  # best effort: e.g. a refusing CONNACK
        session.closed = True
        self._dirty.discard(session)
        self._sessions.discard(session)
        if session.client_id and self._by_client_id.get(session.client_id) is session:
            del self._by_client_id[session.client_id]
        with contextlib.suppress(Exception):
            self._selector.unregister(session.sock)
        with contextlib.suppress(OSError):
            session.sock.close()
        if publish_will and session.will is not None and not self._stop_requested.is_set():
            topic, message, qos = session.will
            log.debug("publishing the will of %s on %s", session.client_id, topic)
            self._route(topic, message, qos)


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def start_broker(
    host: str = "127.0.0.1",
    port: int = 1883,
    *,
    kind: BrokerKind = "auto",
    mosquitto_path: str | None = None,
    timeout: float = 5.0,
    tls: BrokerTls | None = None,
) -> Broker:
    """Start an MQTT broker on a loopback address.

    Parameters
    ----------
    host
        The loopback address to listen on (``127.0.0.1``, ``::1`` or ``localhost``); anything
        else is refused, as the broker accepts anonymous clients.
    port
        The port; 0 picks a free one, reported in ``Broker.port``.
    kind
        ``"auto"`` (mosquitto when it is on ``PATH``, else the embedded broker),
        ``"mosquitto"`` (fail if it is missing) or ``"embedded"``.
    mosquitto_path
        The mosquitto executable; default: looked up on ``PATH``.
    timeout
        Seconds to wait for mosquitto to accept connections.
    tls
        Listen with mutual TLS instead (mosquitto only): to test devices' AWS IoT settings.

    Returns
    -------
    Broker
        The running broker; stop it with ``stop()`` or use it as a context manager.

    Raises
    ------
    BrokerError
        When the port is taken, mosquitto is missing (``kind="mosquitto"``), exits early or does
        not listen in time, or the host is not a loopback address.
    """
    if kind not in ("auto", "mosquitto", "embedded"):
        raise ValueError(f"unknown broker kind {kind!r}")
    executable = mosquitto_path or shutil.which("mosquitto")
    if (kind == "mosquitto" or tls is not None) and executable is None:
        raise BrokerError("mosquitto is not installed (apt-get install mosquitto)")
    if tls is not None and kind == "embedded":
        raise BrokerError("the embedded broker has no TLS: use mosquitto")
    if kind == "embedded" or executable is None:
        return EmbeddedBroker(host, port)

    _resolve_loopback(host, port)
    if port == 0:
        # mosquitto cannot report an ephemeral port, so pick one; retry if another process
        # grabs it between our probe and mosquitto's bind.
        last_error: BrokerError | None = None
        for _ in range(3):
            try:
                return MosquittoBroker(
                    host, _free_port(host), executable=executable, timeout=timeout, tls=tls
                )
            except BrokerError as exc:
                if "in use" not in str(exc).lower():
                    raise
                last_error = exc
        assert last_error is not None
        raise last_error
    if not _port_is_free(host, port):
        # Checked first: otherwise the readiness probe would find the other listener.
        raise BrokerError(f"port {port} on {host} is already in use")
    return MosquittoBroker(host, port, executable=executable, timeout=timeout, tls=tls)
