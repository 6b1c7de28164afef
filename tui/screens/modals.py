"""Modal screens: help and export."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from zhili.engine.report.export import ExportError, export_frame
from zhili.tui.labels import localize_bindings, t
from zhili.tui.widgets.vtable import fit

KEYS = [
    ("1-5", "Overview / Communities / Data problems / Model / Compare"),
    ("Tab", "next pane"),
    ("Up Down PgUp PgDn", "move in a table"),
    ("Left Right", "choose a column"),
    ("s", "sort by the chosen column (again: reverse)"),
    ("/", "search communities (name, pinyin initials or id)"),
    ("Enter", "open the community"),
    ("Enter Left Right", "in a community: fold or unfold a dimension"),
    ("Esc", "back"),
    ("e", "export the current view to CSV/XLSX"),
    ("ctrl+p", "command palette: jump to community, themes"),
    ("l", "switch language 中文/English"),
    ("F1 ?", "this help"),
    ("q", "quit"),
]
KEYS_ZH = {
    "Overview / Communities / Data problems / Model / Compare": "概览 / 社区 / 数据问题 / 模型 / 对比",
    "next pane": "切换窗格",
    "move in a table": "在表格中移动",
    "choose a column": "选择列",
    "sort by the chosen column (again: reverse)": "按所选列排序（再按一次：倒序）",
    "search communities (name, pinyin initials or id)": "搜索社区（名称、拼音首字母或编码）",
    "open the community": "打开社区详情",
    "in a community: fold or unfold a dimension": "社区详情中：折叠或展开维度",
    "back": "返回",
    "export the current view to CSV/XLSX": "导出当前视图为 CSV/XLSX",
    "command palette: jump to community, themes": "命令面板：跳转到社区、主题",
    "switch language 中文/English": "切换语言 中文/English",
    "this help": "本帮助",
    "quit": "退出",
}


class HelpScreen(ModalScreen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("q", "app.pop_screen", show=False),
        Binding("f1", "app.pop_screen", show=False),
        Binding("question_mark", "app.pop_screen", show=False),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > #help {
        width: auto; max-width: 90%; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        localize_bindings(self)

    def compose(self) -> ComposeResult:
        from zhili.dsl.i18n import language

        out = Text()
        out.append(t("Keys") + "\n\n", "bold")
        kw = max(len(k) for k, _ in KEYS)
        for k, what in KEYS:
            shown = KEYS_ZH.get(what, what) if language() == "zh" else what
            out.append(fit(k, kw), "bold cyan")
            out.append("  " + shown + "\n")
        yield Static(out, id="help")


class ExportScreen(ModalScreen[Path | None]):
    """Ask for a file name; write the view through the engine's exporter."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > Vertical {
        width: 60; height: auto; border: round $primary; background: $surface; padding: 0 1;
    }
    ExportScreen #export-error { color: $error; }
    """

    def __init__(self, frame: pl.DataFrame, default: str) -> None:
        super().__init__()
        localize_bindings(self)
        self.frame = frame
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"{t('Export the current view')} ({self.frame.height})"))
            yield Input(self.default, placeholder=t("File name (.csv or .xlsx)"), id="export-path")
            yield Static("", id="export-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        path = Path(event.value.strip() or self.default)
        try:
            written = export_frame(self.frame, path)
        except ExportError as exc:
            self.query_one("#export-error", Static).update(Text(str(exc)))
            return
        self.dismiss(written)

    def action_cancel(self) -> None:
        self.dismiss(None)
