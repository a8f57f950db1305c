"""app/httpframing.py: the bytes of each head, header line and trailer section are counted exactly,
wherever the reads that carry them are split (the server's old count missed the read that ended a head,
so heads of 70-100 KB in one write passed a 64 KiB bound)."""

from __future__ import annotations

import pytest

from app.httpframing import Event, HeadLimits, Refusal, RequestFraming

LIMITS = HeadLimits(head_bytes=200, request_line_bytes=40, field_bytes=60, fields=4)


def _frame(
    stream: bytes, reads: list[int], body: tuple[int, bool, bool] = (0, False, False)
) -> list[str | Event]:
    """Feed `stream` in reads ending at the offsets `reads`; what the framing said of each part.

    `body` frames the body of every head: (Content-Length, chunked, the connection's last request)."""
    framing, start = RequestFraming(LIMITS), 0
    seen: list[str | Event] = []
    for stop in [*reads, len(stream)]:
        data, at = stream[start:stop], 0
        while at < len(data):
            end, event = framing.advance(data, at)
            seen.append(event.code if isinstance(event, Refusal) else event)
            if isinstance(event, Refusal):
                return seen
            at = end
            if event is Event.HEAD_DONE:
                framing.start_body(content_length=body[0], chunked=body[1], last_request=body[2])
        start = stop
    return [*seen, "head" if framing.in_head else "body" if framing.in_body else "discard"]


def _head(size: int) -> bytes:
    """A head of exactly `size` bytes, its header lines within LIMITS.field_bytes."""
    head = b"GET / HTTP/1.1\r\n"
    while size - len(head) - 2 > 60:
        head += b"X: " + b"a" * 40 + b"\r\n"
    return head + b"Y: " + b"b" * (size - len(head) - 2 - 5) + b"\r\n\r\n"


@pytest.mark.parametrize("size", [199, 200, 201, 260])
def test_a_head_is_measured_exactly_wherever_the_reads_split(size: int) -> None:
    stream = _head(size)
    assert len(stream) == size
    expected = "header_too_large" if size > LIMITS.head_bytes else Event.HEAD_DONE
    for split in range(1, len(stream)):
        outcome = _frame(stream, [split])
        assert expected in outcome, (split, outcome)


def test_each_line_bound_is_refused_before_its_line_ends() -> None:
    assert _frame(b"GET /" + b"a" * 60, [])[-1] == "uri_too_long"
    assert _frame(b"GET / HTTP/1.1\r\nX: " + b"a" * 58, [])[-1] == "header_field_too_large"
    assert _frame(b"GET / HTTP/1.1\r\n" + b"X: a\r\n" * 5, [])[-1] == "too_many_headers"
    assert _frame(b"GET / HTTP/1.1\r\n" + b"X: a\r\n" * 4 + b"\r\n", [])[0] is Event.HEAD_DONE


def test_a_line_over_its_bound_is_refused_when_it_arrives_whole_too() -> None:
    """Its line end in the same read as the rest of it: refused when the line ends, not let through."""
    assert _frame(b"GET /" + b"a" * 60 + b" HTTP/1.1\r\n\r\n", []) == ["uri_too_long"]
    assert _frame(b"GET / HTTP/1.1\r\nX: " + b"a" * 58 + b"\r\n\r\n", []) == ["header_field_too_large"]
    # one byte less on the header line: within its bound, the head is done
    assert _frame(b"GET / HTTP/1.1\r\nX: " + b"a" * 57 + b"\r\n\r\n", [])[0] is Event.HEAD_DONE


def test_the_request_line_bound_is_exact() -> None:
    at_bound = b"GET /" + b"a" * (LIMITS.request_line_bytes - len(b"GET / HTTP/1.1")) + b" HTTP/1.1"
    assert len(at_bound) == LIMITS.request_line_bytes
    assert _frame(at_bound + b"\r\n\r\n", [])[0] is Event.HEAD_DONE
    assert _frame(at_bound.replace(b"GET /", b"GET /a") + b"\r\n\r\n", []) == ["uri_too_long"]


def test_empty_lines_before_a_request_line_count_toward_the_head() -> None:
    assert _frame(b"\r\n" * 101, [])[-1] == "header_too_large"


CHUNKED = (0, True, False)


def test_trailers_are_bounded_like_a_head_and_the_next_head_is_counted_from_its_first_byte() -> None:
    head = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = b"3;ext=1\r\nabc\r\n0\r\n"
    fine = head + body + b"T: " + b"x" * 50 + b"\r\n\r\n" + _head(200)
    for split in range(1, len(fine)):
        outcome = _frame(fine, [split], CHUNKED)
        assert outcome[-1] == "body", (split, outcome)  # the second head's body: the first one ended
    too_many = head + body + b"T: x\r\n" * 5
    assert _frame(too_many, [], CHUNKED)[-1] == "too_many_trailers"
    too_long = head + body + (b"T: " + b"x" * 50 + b"\r\n") * 4
    assert _frame(too_long, [], CHUNKED)[-1] == "trailers_too_large"
    assert _frame(head + b"zz\r\n", [], CHUNKED)[-1] == "malformed_chunk"
    assert _frame(head + b"3" + b";e" * 40, [], CHUNKED)[-1] == "malformed_chunk"


def test_a_pipelined_head_after_a_fixed_body_is_counted_whole() -> None:
    first = b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
    second = _head(201)
    outcome = _frame(first + second, [], (5, False, False))
    assert outcome[-1] == "header_too_large"


def test_nothing_is_framed_after_the_last_request() -> None:
    outcome = _frame(_head(100) + b"x" * 500, [], (0, False, True))
    assert outcome[-1] == "discard"
