"""Loopback addresses that belong to this process, and the listening sockets held on them.

Several sandboxes run on one machine (two learners on a workshop host, the TUI's embedded
sandbox beside `sandbox serve`, pytest-xdist workers). Each process claims its own /24 block
of 127.0.0.0/8 by binding a claim socket on the block's `.1` address at CLAIM_PORT without
SO_REUSEADDR: the kernel then refuses the same claim to every other process, and frees it when
this one exits, however it exits. LoadBalancer addresses come from the claimed blocks (more
blocks are claimed when one is used up), and `PortBank.hold` binds and listens on each Service
port before the address is published, so an address is never shown that this process cannot
serve. Where the OS binds only 127.0.0.1 (macOS), every cluster shares it and the bank's binds
decide who gets a port.
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import socket
import threading
import weakref
from typing import Any, Callable, Iterator

from tutorial.sandbox.wakeloop import Waker

CLAIM_PORT = 47391  # arbitrary; a block whose claim cannot be bound is simply skipped
BLOCK_TRIES = 256
FALLBACK = "127.0.0.1"


class AddressSpace:
    """The /24 blocks this process claimed and the addresses of them handed out."""

    def __init__(self, seed: int | None = None) -> None:
        self._rnd = random.Random(seed if seed is not None else os.getpid() ^ id(self))
        self._claims: dict[str, socket.socket] = {}  # "127.X.Y" -> claim socket
        self._used: set[str] = set()
        self._lock = threading.Lock()
        self.shared_only = False  # True where only 127.0.0.1 can be bound

    @property
    def blocks(self) -> list[str]:
        return [f"{prefix}.0/24" for prefix in self._claims]

    def _claim_block(self) -> str | None:
        """Claim one more block; None when none can be claimed (then 127.0.0.1 is shared)."""
        for _ in range(BLOCK_TRIES):
            prefix = f"127.{self._rnd.randint(1, 254)}.{self._rnd.randint(0, 255)}"
            if prefix in self._claims:
                continue
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind((f"{prefix}.1", CLAIM_PORT))
            except OSError as exc:
                sock.close()
                if exc.errno == errno.EADDRNOTAVAIL:  # macOS: no other loopback address exists
                    self.shared_only = True
                    return None
                continue  # another process holds this block
            self._claims[prefix] = sock
            return prefix
        return None

    def describe(self) -> str:
        """The claimed blocks as text (claiming the first one now), e.g. "127.40.7.0/24"."""
        with self._lock:
            if not self._claims and not self.shared_only:
                self._claim_block()
        return ", ".join(self.blocks) or f"{FALLBACK} (shared: this OS binds no other loopback address)"

    def candidates(self) -> Iterator[str]:
        """Free addresses of this process's blocks, claiming a new block when one runs out."""
        index = 0
        while True:
            with self._lock:
                prefixes = list(self._claims)
                if index >= len(prefixes):
                    prefix = None if self.shared_only else self._claim_block()
                    if prefix is None:
                        break
                    prefixes.append(prefix)
                prefix = prefixes[index]
                free = [f"{prefix}.{n}" for n in range(2, 255) if f"{prefix}.{n}" not in self._used]
            yield from free
            index += 1
        yield FALLBACK

    def take(self, address: str) -> None:
        with self._lock:
            self._used.add(address)

    def give_back(self, address: str) -> None:
        with self._lock:
            self._used.discard(address)

    def owns(self, address: str) -> bool:
        return address.rpartition(".")[0] in self._claims


SPACE = AddressSpace()


def holder_of(address: str, port: int) -> str | None:
    """"name (pid N)" of the local process listening on address:port, where Linux lets us see it."""
    inode = _listening_inode(address, port)
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") == target for fd in fds):
                with open(f"/proc/{pid}/comm", encoding="utf-8") as fh:
                    return f"{fh.read().strip()} (pid {pid})"
        except OSError:
            continue  # gone, or another user's process: not knowable
    return None


def _listening_inode(address: str, port: int) -> str | None:
    try:
        with open("/proc/net/tcp", encoding="ascii") as fh:
            rows = fh.read().splitlines()[1:]
    except OSError:
        return None
    wanted = {f"{_hex_ip(address)}:{port:04X}", f"00000000:{port:04X}"}
    for row in rows:
        fields = row.split()
        if len(fields) > 9 and fields[1] in wanted and fields[3] == "0A":  # 0A: LISTEN
            return fields[9]
    return None


def _hex_ip(address: str) -> str:
    return "".join(f"{int(p):02X}" for p in reversed(address.split(".")))


def port_taken_message(address: str, port: int, exc: OSError) -> str:
    """Why address:port cannot be had, naming the program that holds it where it can be known."""
    who = holder_of(address, port)
    reason = exc.strerror or str(exc)
    if who:
        return f"cannot listen on {address}:{port}: {reason}; {who} holds that port"
    return (f"cannot listen on {address}:{port}: {reason}; another program on this machine "
            "probably holds that port")


class PortBank:
    """Listening sockets one cluster holds, per (address, port); the data plane serves on them."""

    def __init__(self) -> None:
        self._held: dict[tuple[str, int], socket.socket] = {}
        self.problems: dict[tuple[str, int], str] = {}  # ports wanted but not had
        self.on_release: list[Callable[[str, list[int] | None], None]] = []  # told before an address's sockets close
        self._lock = threading.Lock()

    def hold(self, address: str, port: int) -> str | None:
        """Bind and listen on address:port (if not held already); the error message, or None."""
        with self._lock:
            if (address, port) in self._held:
                return None
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            # SO_REUSEADDR only lets us rebind past TIME_WAIT: a listening socket stays exclusive.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((address, port))
                sock.listen(64)
            except OSError as exc:
                sock.close()
                message = port_taken_message(address, port, exc)
                self.problems[(address, port)] = message
                return message
            self._held[(address, port)] = sock
            self.problems.pop((address, port), None)
            return None

    def hold_all(self, address: str, ports: list[int]) -> str | None:
        """Hold every port or none: the first error message, or None when all are held."""
        for port in ports:
            problem = self.hold(address, port)
            if problem:
                self.release(address, keep_problems=False)
                return problem
        return None

    def socket(self, address: str, port: int) -> socket.socket | None:
        return self._held.get((address, port))

    def held(self) -> list[tuple[str, int]]:
        with self._lock:
            return list(self._held)

    def held_ports(self, address: str) -> list[int]:
        return sorted(p for a, p in self._held if a == address)

    def release(self, address: str, keep_problems: bool = False, ports: list[int] | None = None) -> None:
        """Close what is held on address (or only `ports` of it)."""
        for hook in list(self.on_release):
            hook(address, ports)  # outside our lock: the data plane takes its own lock, then ours
        with self._lock:
            for endpoint in [e for e in self._held if e[0] == address and (ports is None or e[1] in ports)]:
                self._held.pop(endpoint).close()
            if not keep_problems:
                for endpoint in [e for e in self.problems if e[0] == address]:
                    del self.problems[endpoint]

    def close(self) -> None:
        with self._lock:
            for sock in self._held.values():
                sock.close()
            self._held.clear()
            self.problems.clear()


_BANKS: "weakref.WeakKeyDictionary[Any, PortBank]" = weakref.WeakKeyDictionary()
_BANKS_LOCK = threading.Lock()


def bank_for(store: Any) -> PortBank:
    """The PortBank of the cluster whose store this is (created on first use)."""
    with _BANKS_LOCK:
        bank = _BANKS.get(store)
        if bank is None:
            bank = _BANKS[store] = PortBank()
        return bank


def problems_for(store: Any) -> dict[tuple[str, int], str]:
    """(address, port) -> why this cluster cannot serve it (empty when all is held)."""
    bank = _BANKS.get(store)
    return dict(bank.problems) if bank is not None else {}


class Refuser(threading.Thread):
    """Answers a held but unserved socket by resetting each connection at once.

    A held socket listens, so without this a client would wait in its backlog until it timed out;
    Envoy without a listener on that port closes at once, which a reset is the nearest to.
    """

    def __init__(self, sock: socket.socket, name: str) -> None:
        super().__init__(daemon=True, name=f"refuse-{name}")
        self.sock = sock
        self.halt = threading.Event()
        self._waker = Waker()  # stop() wakes the loop, which otherwise sleeps until a connection comes

    def run(self) -> None:
        import selectors
        import struct

        with selectors.DefaultSelector() as sel, contextlib.closing(self._waker):
            try:
                sel.register(self.sock, selectors.EVENT_READ)
                sel.register(self._waker, selectors.EVENT_READ)
            except (ValueError, OSError):
                return  # closed already
            while not self.halt.is_set():
                ready = sel.select()
                if self.halt.is_set() or not any(key.fileobj is self.sock for key, _ in ready):
                    continue
                try:
                    conn, _ = self.sock.accept()
                except (BlockingIOError, OSError):
                    continue
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()

    def stop(self) -> None:
        self.halt.set()
        self._waker.wake()
        self.join(timeout=2)
