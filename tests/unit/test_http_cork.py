"""CorkedTransport: a loop step's writes go out as one, when the loop turns; closing sends
what is pending first; nothing is written to a connection already gone."""

from __future__ import annotations

import asyncio

from slotbook.edge.http import CorkedTransport


class _Socket(asyncio.Transport):
    """A transport that records each write (one send) and whether it was closed."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[bytes] = []
        self.events: list[str] = []
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closing, "written after close"
        self.sent.append(bytes(data))
        self.events.append("write")

    def close(self) -> None:
        self.closing = True
        self.events.append("close")

    def abort(self) -> None:
        self.closing = True
        self.events.append("abort")

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0


async def _turn() -> None:
    await asyncio.sleep(0)


async def test_writes_of_one_step_are_sent_as_one_when_the_loop_turns() -> None:
    sock = _Socket()
    corked = CorkedTransport(sock, asyncio.get_running_loop())
    corked.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    corked.write(b"ok")
    assert sock.sent == []
    assert corked.get_write_buffer_size() == 40
    await _turn()
    assert sock.sent == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]
    corked.write(bytearray(b"next"))
    corked.write(b"")
    await _turn()
    assert sock.sent[1:] == [b"next"]
    await _turn()
    assert len(sock.sent) == 2  # nothing pending, nothing sent


async def test_close_sends_what_is_pending_first() -> None:
    sock = _Socket()
    corked = CorkedTransport(sock, asyncio.get_running_loop())
    corked.write(b"last answer")
    corked.close()
    assert (sock.sent, sock.events) == ([b"last answer"], ["write", "close"])
    await _turn()  # the scheduled send finds nothing left to send
    assert sock.events == ["write", "close"]


async def test_nothing_is_written_to_a_connection_already_gone() -> None:
    sock = _Socket()
    corked = CorkedTransport(sock, asyncio.get_running_loop())
    corked.write(b"too late")
    sock.closing = True  # the peer went away before the loop turned
    await _turn()
    assert sock.sent == []
    aborted = _Socket()
    corked = CorkedTransport(aborted, asyncio.get_running_loop())
    corked.write(b"dropped")
    corked.abort()
    await _turn()
    assert (aborted.sent, aborted.events) == ([], ["abort"])
