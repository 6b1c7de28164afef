"""The process tests/test_fuzz_dsl.py sends model texts to: it parses and
checks each under a memory limit (RLIMIT_AS) and answers with what it found.

Protocol, one JSON object a line: in `{"text": "...", "file": "fuzz.gov"}`;
out `{"diags": [[code, file, line, column, end_line, end_column, start, end],
...]}` or `{"error": "<traceback>"}` (a MemoryError when the input needs more
than the limit). The parent bounds the time
of each input (it kills this process when an answer is late).
"""

from __future__ import annotations

import json
import resource
import sys
import traceback


def _limit_memory(mb: int) -> None:
    limit = mb * 1024 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def diagnose(text: str, file: str) -> list[list]:
    from zhili.dsl.checker import check
    from zhili.dsl.parser import parse

    parsed = parse(text, file)
    diags = list(parsed.diagnostics)
    if parsed.tree is not None:
        diags += check(parsed.tree, text).diagnostics
    return [
        [d.code, d.span.file, d.span.line, d.span.column, d.span.end_line, d.span.end_column]
        + [d.span.start, d.span.end]
        for d in diags
    ]


def main() -> None:
    _limit_memory(int(sys.argv[1]) if len(sys.argv) > 1 else 2048)
    diagnose("", "warm.gov")  # imports and the grammar, before the first timed input
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = {"diags": diagnose(request["text"], request["file"])}
        except BaseException:  # noqa: BLE001 - the property under test is "no exception"
            answer = {"error": traceback.format_exc(limit=-8)}
        sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
