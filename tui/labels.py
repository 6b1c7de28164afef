"""TUI labels, Chinese first.

Screen labels live here (English key → Chinese) rather than in the message
catalog, so the Chinese look of the app (and its snapshots) does not depend
on catalog updates. Engine messages still come through `zhili.dsl.i18n._`.
"""

from __future__ import annotations

from zhili.dsl.i18n import language

ZH = {
    "Overview": "概览",
    "Communities": "社区",
    "Data problems": "数据问题",
    "Model": "模型",
    "Compare": "对比",
    "Help": "帮助",
    "Quit": "退出",
    "Search": "搜索",
    "Sort": "排序",
    "Export": "导出",
    "Language": "语言",
    "Back": "返回",
    "Detail": "详情",
    "District": "区",
    "Street": "街道",
    "Grade": "等级",
    "All districts": "全部区",
    "All streets": "全部街道",
    "All grades": "全部等级",
    "Community": "社区",
    "ID": "编码",
    "Total": "总分",
    "Vetoes": "否决",
    "Missing": "缺失",
    "Row": "行",
    "File": "文件",
    "Column": "列",
    "Raw value": "原始值",
    "Message": "说明",
    "Severity": "级别",
    "communities": "个社区",
    "Version": "版本",
    "Issuer": "发布单位",
    "Source": "依据",
    "Grade distribution": "等级分布",
    "Dimensions": "维度",
    "Average": "平均",
    "Spread": "标准差",
    "Min": "最低",
    "Max": "最高",
    "Targets": "目标进度",
    "target": "目标",
    "met": "已达成",
    "not met": "未达成",
    "no grade": "无等级",
    "Explanation": "说明",
    "Gap to next grade": "距下一等级",
    "Indicators": "指标",
    "Points": "得分",
    "Outcome": "结果",
    "pass": "达标",
    "partial": "部分",
    "fail": "未达标",
    "missing": "缺失",
    "vetoed": "否决",
    "not triggered": "未触发",
    "Fold": "折叠",
    "Top grade reached": "已是最高等级",
    "No data problems.": "没有数据问题。",
    "Diagnostics": "诊断",
    "No diagnostics.": "没有诊断问题。",
    "Other data file, or a recorded run (12, latest)": "对比数据文件，或历史运行（12、latest）",
    "Load": "加载",
    "Grade changed": "等级变化",
    "Before": "之前",
    "After": "之后",
    "Recorded runs": "历史运行",
    "Run": "运行",
    "Time": "时间",
    "Data": "数据",
    "Compare with another data file or a recorded run: type its path or run id and press Enter (Esc: leave).": (
        "与另一个数据文件或一次历史运行对比：输入文件路径或运行编号后按回车（Esc 离开输入框）。"
    ),
    "communities changed grade": "个社区等级变化",
    "Export the current view": "导出当前视图",
    "File name (.csv or .xlsx)": "文件名（.csv 或 .xlsx）",
    "Cancel": "取消",
    "Written": "已写入",
    "Jump to community": "跳转到社区",
    "Keys": "按键",
    "Filter": "筛选",
    "Switch language": "切换语言",
    "Search communities (name, pinyin initials or id)": "搜索社区（名称、拼音首字母或编码）",
    "data problems": "个数据问题",
    "shown": "显示",
    "Open": "打开",
    "Trend of grades over runs": "各次运行等级分布趋势",
    "no other run of this model is recorded": "本模型没有其他运行记录",
    "palette": "命令",
    "Change": "变化",
    "Loading and evaluating…": "正在加载并评估…",
    "Community not found in the current filter.": "当前筛选中没有该社区。",
    "no such file: {path}": "文件不存在：{path}",
    "no such file, and the run store cannot be read: {path} ({err})": (
        "文件不存在，运行记录也无法读取：{path}（{err}）"
    ),
    "no such file or recorded run: {ref}": "没有这个文件，也没有这次运行记录：{ref}",
    "run #{run} is of model {other}, not {model}": "运行 #{run} 属于模型 {other}，不是 {model}",
    "run #{run} ({time}, {data})": "运行 #{run}（{time}，{data}）",
    "Data source": "数据来源",
    "not scored": "未计分",
    "at most": "最多",
    "{n} not scored": "{n} 个未计分",
    "Completeness": "上报情况",
    "{reported} of {expected} communities reported ({rate})": (
        "应报 {expected} 个社区，已报 {reported} 个（{rate}）"
    ),
    "All communities": "全部社区",
    "Not submitted": "未上报",
    "With problems": "有问题",
    "not submitted": "未上报",
    "{name} has not submitted (contact: {contact})": "{name} 未上报（联系人：{contact}）",
    "{name} has not submitted": "{name} 未上报",
    "none": "无",
    "and {n} more": "等 {n} 个",
}


def t(text: str) -> str:
    """`text` in the current language (Chinese when `--lang zh`)."""
    if language() == "zh":
        return ZH.get(text, text)
    return text


def localize_bindings(node) -> None:
    """Show `node`'s key bindings with descriptions in the current language
    (the classes declare them in English; works again after a switch)."""
    from dataclasses import replace

    from textual.binding import BindingsMap

    english = {zh: en for en, zh in ZH.items()}

    def local(description: str) -> str:
        return t(english.get(description, description))

    node._bindings = BindingsMap.from_keys(
        {
            key: [replace(b, description=local(b.description)) if b.description else b for b in bs]
            for key, bs in node._bindings.key_to_bindings.items()
        }
    )
