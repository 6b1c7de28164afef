"""TUI benchmark (not part of the test suite).

    python benchmarks/bench_tui.py [--rows 100000] [--size 120x40]

Generates `--rows` communities with `zhili sample` (four_type), loads and
evaluates them (engine time, printed apart), then drives the real app
headless and prints: time to first screen, to sort, to filter, to search,
to open a community's detail, and the slowest keypress-to-refresh while
paging through the communities table. Targets: first screen < 1 s, every
action < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from zhili.engine.plugins import Registry
from zhili.engine.sample import write_sample
from zhili.tui.app import MainScreen, ZhiliApp, build_session
from zhili.tui.screens.detail import DetailScreen


def clock() -> tuple[float, float]:
    """(wall, CPU of this process): on a busy machine the CPU time is the
    app's own work, the wall time includes waiting for the processor."""
    return (time.perf_counter(), time.process_time())


def since(start: tuple[float, float]) -> tuple[float, float]:
    now = clock()
    return (now[0] - start[0], now[1] - start[1])


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


async def drive(session, size) -> dict[str, float]:
    out: dict[str, float] = {}
    app = ZhiliApp(session, lang="zh")
    t0 = clock()
    async with app.run_test(size=size) as pilot:
        while not isinstance(app.screen, MainScreen):
            await asyncio.sleep(0.001)
        await pilot.pause()
        out["first screen (overview)"] = since(t0)

        async def timed(name, *keys):
            t = clock()
            await pilot.press(*keys)
            await pilot.pause()
            out[name] = since(t)

        # the pilot's own cost of a keypress (a key bound to nothing)
        base = []
        for _ in range(5):
            t = clock()
            await pilot.press("x")
            await pilot.pause()
            base.append(since(t))
        out["baseline: unbound key (pilot overhead)"] = sorted(base)[2]

        await timed("switch to communities", "2")
        await timed("sort by total (s)", "right", "right", "s")
        await timed("sort again, descending", "s")
        from textual.widgets import Select

        t = clock()
        app.screen.query_one("#grade", Select).value = session.model.grades[0].name
        await pilot.pause()
        out["filter by grade"] = since(t)
        t = clock()
        app.screen.query_one("#grade", Select).value = Select.NULL
        await pilot.pause()
        out["clear the filter"] = since(t)
        street = session.streets()[0]
        t = clock()
        app.screen.query_one("#street", Select).value = street
        await pilot.pause()
        out["filter by street (all screens)"] = since(t)
        app.screen.query_one("#street", Select).value = Select.NULL
        await pilot.pause()
        await pilot.press("slash")
        await timed("search: one key typed", "长")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("escape")
        app.screen.query_one("#search").value = ""
        await pilot.pause()
        app.screen.query_one("#communities-table").focus()
        await pilot.pause()
        worst = (0.0, 0.0)
        for key in ["pagedown"] * 40 + ["down"] * 20 + ["end", "pageup", "home"]:
            t = clock()
            await pilot.press(key)
            await pilot.pause()
            worst = max(worst, since(t))
        out["slowest keypress while paging (63 keys)"] = worst
        t = clock()
        await pilot.press("enter")
        while not isinstance(app.screen, DetailScreen):
            await asyncio.sleep(0.001)
        await pilot.pause()
        out["open a community's detail (first)"] = since(t)
        await timed("back to the table", "escape")
        await timed("open another community (screen reused)", "down", "enter")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--size", default="120x40")
    args = ap.parse_args()
    w, h = (int(x) for x in args.size.split("x"))
    reg = Registry()
    lm = reg.get("four_type")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "communities.csv"
        t = clock()
        write_sample(lm.model, path, args.rows, seed=7)
        gen = since(t)[0]
        t = clock()
        session = build_session(lm, path, reg)
        load = since(t)[0]
    print(f"four_type, {args.rows:,} communities, terminal {w}x{h}")
    print(f"  (generate sample: {gen:.2f} s; engine load + evaluate: {load:.2f} s)")
    results = asyncio.run(drive(session, (w, h)))
    base = results.pop("baseline: unbound key (pilot overhead)")
    print(f"  pilot overhead per keypress (an unbound key): wall {ms(base[0])}, CPU {ms(base[1])}")
    print(f"  {'action':<44}{'wall':>11}  {'wall - overhead':>15}  {'CPU':>11}")
    for name, (wall, cpu) in results.items():
        first = name.startswith("first")
        target = 1.0 if first else 0.1
        net = wall if first else max(wall - base[0], 0.0)
        flag = "ok" if net < target else "SLOW"
        print(f"  {name:<44}{ms(wall)}  {ms(net):>15}  {ms(cpu)}   {flag}")


if __name__ == "__main__":
    main()
