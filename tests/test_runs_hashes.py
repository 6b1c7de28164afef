"""The data file's sha256, computed ahead (`hashes.hash_ahead`) and taken by
`store.file_hash` only while the file is the one that was hashed."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from zhili.engine.runs import hashes
from zhili.engine.runs.store import file_hash

ROOT = Path(__file__).resolve().parents[1]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_file_hashed_ahead_gives_its_sha256(tmp_path):
    f = tmp_path / "data.csv"
    data = b"id,x\r\n" + b"a,1\r\n" * 300_000
    f.write_bytes(data)
    hashes.hash_ahead([str(f), "-", str(tmp_path), str(tmp_path / "missing.csv")])
    assert file_hash(f) == sha(data)
    assert file_hash(f) == sha(data)  # and again


def test_a_file_changed_after_its_hash_started_is_hashed_again(tmp_path):
    f = tmp_path / "data.csv"
    f.write_bytes(b"id,x\n" + b"a,1\n" * 1000)
    hashes.hash_ahead([f])
    f.write_bytes(b"id,x\n" + b"b,2\n" * 1000)  # same size, other bytes
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert file_hash(f) == sha(b"id,x\n" + b"b,2\n" * 1000)


def test_a_file_replaced_under_its_name_is_hashed_again(tmp_path):
    f, other = tmp_path / "data.csv", tmp_path / "other.csv"
    f.write_bytes(b"id,x\na,1\n")
    other.write_bytes(b"id,x\nb,2\n")
    hashes.hash_ahead([f])
    st = f.stat()
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size and time, another inode
    os.replace(other, f)
    assert file_hash(f) == sha(b"id,x\nb,2\n")


def test_a_recorded_run_keeps_the_sha256_of_its_data(tmp_path):
    from cli_helpers import zhili

    from zhili.engine.runs.store import RunStore

    data = tmp_path / "d.csv"
    data.write_bytes((ROOT / "plugins" / "four_type" / "sample.csv").read_bytes())
    db = tmp_path / "runs.sqlite"
    out = zhili("eval", "four_type", data, "--db", db, "-o", tmp_path / "o.parquet")
    assert out.exit_code == 0, out.output
    with RunStore(db) as store:
        (run,) = store.runs()
    assert run.data_hash == sha(data.read_bytes())
