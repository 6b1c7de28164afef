"""TUI benchmark (not part of the test suite).

    python benchmarks/bench_tui.py [--rows 100000] [--size 120x40] [--repeat 3]

Generates `--rows` communities with `zhili sample` (four_type), loads and
evaluates them (engine time, printed apart), then drives the real app
headless and prints: time to first screen, to sort, to filter, to search,
to open a community's detail, and the slowest keypress-to-refresh while
paging through the communities table. Targets: first screen < 1 s, every
action < 100 ms.

"to screen" is what a person waits for: from the moment the key is sent
to the moment the app has written the last frame it drew for it (the
app's `_display`, where Textual hands a frame to the terminal driver).
The pilot's own waiting (it sleeps until the process looks idle, about
90 ms a key here) is not in it. For comparison the wall and CPU time of
the pilot's whole call are printed too, less what an unbound key (or a
bare wait, for an action done without a key) costs the pilot in the same
run. The app is driven `--repeat` times, each time a new app on the same
evaluated data; every figure is the median of those runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
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


# what each action's wall time carries of the pilot's own cost: a key
# pressed through the pilot, or only the pilot's wait for the app to settle
KEY, PAUSE, NONE = "key", "pause", "none"


class Painted:
    """The time the app last handed a frame to the terminal driver."""

    def __init__(self, app: ZhiliApp) -> None:
        self.last = 0.0
        display = app._display

        def _display(screen, renderable):
            display(screen, renderable)
            self.last = time.perf_counter()

        app._display = _display

    def since(self, start: float) -> float:
        return max(self.last - start, 0.0)


async def drive(session, size) -> dict[str, tuple[float, float, str, float]]:
    """{action: (wall, CPU, pilot overhead kind, to screen)}, and the two
    baselines."""
    out: dict[str, tuple[float, float, str, float]] = {}
    app = ZhiliApp(session, lang="zh")
    painted = Painted(app)
    t0 = clock()
    async with app.run_test(size=size) as pilot:
        while not isinstance(app.screen, MainScreen):
            await asyncio.sleep(0.001)
        await pilot.pause()
        out["first screen (overview)"] = (*since(t0), NONE, painted.since(t0[0]))

        async def act(name, kind, do, wait_for=None):
            t = clock()
            await do()
            while wait_for is not None and not isinstance(app.screen, wait_for):
                await asyncio.sleep(0.001)
            await pilot.pause()
            out[name] = (*since(t), kind, painted.since(t[0]))

        def timed(name, key, wait_for=None):
            return act(name, KEY, lambda: pilot.press(key), wait_for)

        def timed_set(name, widget, value):
            async def do():
                widget.value = value

            return act(name, PAUSE, do)

        # the pilot's own cost: a key bound to nothing, and a bare wait
        for i in range(5):
            await timed(f"{KEY}{i}", "x")
            await act(f"{PAUSE}{i}", PAUSE, pilot.pause)
        for kind in (KEY, PAUSE):
            base = sorted((out.pop(f"{kind}{i}") for i in range(5)), key=lambda x: x[0])
            out[kind] = base[2]

        await timed("switch to communities", "2")
        await pilot.press("right", "right")  # to the total column
        await pilot.pause()
        await timed("sort by total (s)", "s")
        await timed("sort again, descending", "s")
        from textual.widgets import Input, Select

        grade = app.screen.query_one("#grade", Select)
        await timed_set("filter by grade", grade, session.model.grades[0].name)
        await timed_set("clear the filter", grade, Select.NULL)
        street = app.screen.query_one("#street", Select)
        await timed_set("filter by street (all screens)", street, session.streets()[0])
        street.value = Select.NULL
        await pilot.pause()
        await pilot.press("slash")
        search = app.screen.query_one("#search", Input)
        search.cursor_blink = False  # a blink is a frame of its own
        await timed("search: one key typed", "长")
        search.value = ""
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        await timed("search: pinyin initials, second key", "q")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("escape")
        search.value = ""
        await pilot.pause()
        app.screen.query_one("#communities-table").focus()
        await pilot.pause()
        paging = []
        for i, key in enumerate(["pagedown"] * 40 + ["down"] * 20 + ["end", "pageup", "home"]):
            await timed(f"page{i}", key)
            paging.append(out.pop(f"page{i}"))
        # the slowest key to screen, with its own wall and CPU figures
        out["slowest keypress while paging (63 keys)"] = max(paging, key=lambda x: x[3])
        await timed("open a community's detail (first)", "enter", DetailScreen)
        await timed("back to the table", "escape", MainScreen)
        await pilot.press("down")
        await pilot.pause()
        await timed("open another community (screen reused)", "enter", DetailScreen)
    return out


def net(run: dict, name: str, i: int) -> float:
    """Wall (i=0) or CPU (i=1) time of `name` less the pilot's own cost."""
    kind = run[name][2]
    return max(run[name][i] - (run[kind][i] if kind != NONE else 0.0), 0.0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--size", default="120x40")
    ap.add_argument("--repeat", type=int, default=3)
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
    runs = [asyncio.run(drive(session, (w, h))) for _ in range(args.repeat)]
    print(f"  medians of {args.repeat} runs (a new app each run)")
    base = {kind: statistics.median(r[kind][0] for r in runs) for kind in (KEY, PAUSE)}
    cpu_base = {kind: statistics.median(r[kind][1] for r in runs) for kind in (KEY, PAUSE)}
    base[NONE] = cpu_base[NONE] = 0.0
    print(
        f"  pilot overhead: a key {ms(base[KEY])} wall, {ms(cpu_base[KEY])} CPU;"
        f" a bare wait {ms(base[PAUSE])} wall, {ms(cpu_base[PAUSE])} CPU"
    )
    print(f"  {'action':<40}{'to screen':>11}  {'wall - pilot':>12}  {'CPU - pilot':>11}")
    for name in runs[0]:
        if name in (KEY, PAUSE):
            continue
        target = 1.0 if name.startswith("first") else 0.1
        screen = statistics.median(r[name][3] for r in runs)
        net_wall = statistics.median(net(r, name, 0) for r in runs)
        net_cpu = statistics.median(net(r, name, 1) for r in runs)
        flag = "ok" if screen < target else "SLOW"
        print(f"  {name:<40}{ms(screen)}  {ms(net_wall):>12}  {ms(net_cpu):>11}   {flag}")


if __name__ == "__main__":
    main()
