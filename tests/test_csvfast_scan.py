"""`csvfast.scan_bytes`, the one pass over a batch's bytes, against the
counts and the lone-CR test it replaces, with blocks small enough that
every CR, LF and separator falls on a block's edge somewhere."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from zhili.engine.io import csvfast
from zhili.engine.io.csvfast import count_byte, scan_bytes
from zhili.engine.io.formats import _lone_cr

chunks = st.lists(
    st.sampled_from([b"\r", b"\n", b"\r\n", b",", b"\t", b"a", b"12", b'"', "社".encode()]),
    max_size=60,
).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(data=chunks, start=st.integers(0, 8))
def test_scan_bytes_is_the_counts_and_the_lone_cr_test(data, start):
    start = min(start, len(data))
    rest = data[start:]
    for sep in (b",", b"\t"):
        want = (count_byte(rest, b"\n"), count_byte(rest, sep), _lone_cr(data, start))
        for block in (1, 2, 3, 7, 1 << 20):
            csvfast._BLOCK = block
            try:
                assert scan_bytes(data, sep, start) == want, (data, start, sep, block)
            finally:
                csvfast._BLOCK = 1 << 20


def test_a_cr_at_the_very_end_is_lone():
    assert scan_bytes(b"a,b\r\n1,2\r", b",") == (1, 2, True)
    assert scan_bytes(b"a,b\r\n1,2\r\n", b",") == (2, 2, False)
    assert scan_bytes(b"\r", b",", 1) == (0, 0, False)
