"""The Simplified Chinese message catalog and its tooling (tools/i18n.py).

When a test here fails after you added or changed a message, run

    python tools/i18n.py update && python tools/i18n.py compile

translate the new empty `msgstr` entries in
dsl/locale/zh_CN/LC_MESSAGES/zhili.po, and run `python tools/i18n.py compile`
again.
"""

from __future__ import annotations

import gettext
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from zhili.dsl import diagnostics as dg
from zhili.dsl.checker import check
from zhili.dsl.i18n import LOCALE_DIR, _, set_language
from zhili.dsl.parser import parse

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = (
    "run `python tools/i18n.py update && python tools/i18n.py compile`, translate the "
    "empty msgstr entries in dsl/locale/zh_CN/LC_MESSAGES/zhili.po, then "
    "`python tools/i18n.py compile` again"
)


def _load_tool():
    spec = importlib.util.spec_from_file_location("zhili_i18n_tool", ROOT / "tools" / "i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


tool = _load_tool()

BAD_MODEL = """\
model bad "坏模型"
version "1"
issuer "测试"
source "测试"
total 10
input rate: percent label "比例"
dimension d "维度" points 10 {
    indicator a "指标一" points 5 { pass when rate >= 12 }
    indicator b "指标二" points 5 { pass when unknown_thing > 1 }
}
grades {
    "好" when total >= 6
    "差" otherwise
}
"""


@pytest.fixture(scope="module")
def extracted():
    return tool.extract(ROOT)


@pytest.fixture(scope="module")
def catalog():
    assert tool.PO_PATH.exists(), f"{tool.PO_PATH} is missing; {WORKFLOW}"
    return tool.read_po(tool.PO_PATH)


def _active(entries):
    return {e.msgid: e for e in entries if e.msgid and not e.obsolete and e.context is None}


# ---------------------------------------------------------------- the catalog


def test_the_catalog_is_where_the_code_looks_for_it():
    assert tool.PO_PATH.parent == LOCALE_DIR / "zh_CN" / "LC_MESSAGES"
    assert tool.PO_PATH.name == "zhili.po" and tool.MO_PATH.name == "zhili.mo"


def test_the_extractor_finds_messages(extracted):
    messages, _unknown = extracted
    ids = {m.msgid for m in messages}
    assert len(ids) > 100
    # literals, module-level word tables (`_(WORDS.get(x, x))`), and DYNAMIC values
    assert {"unknown name `{name}`", "a percentage", "pass", "caps", "warning"} <= ids


def test_every_message_in_the_code_is_translated(extracted, catalog):
    messages, _unknown = extracted
    active = _active(catalog)
    problems = []
    for msg in messages:
        entry = active.get(msg.msgid)
        if entry is None:
            problems.append(f"{msg.refs[0]}: not in the catalog: {msg.msgid!r}")
        elif entry.fuzzy:
            problems.append(f"{msg.refs[0]}: marked fuzzy (review it): {msg.msgid!r}")
        elif not entry.translated:
            problems.append(f"{msg.refs[0]}: no translation: {msg.msgid!r}")
    assert not problems, (
        f"{len(problems)} messages have no Chinese translation; {WORKFLOW}:\n" + "\n".join(problems)
    )


def test_every_translated_message_is_a_format_string_of_the_same_fields(catalog):
    problems = []
    for entry in _active(catalog).values():
        if not entry.translated:
            continue
        want = tool.placeholders(entry.msgid)
        if entry.plural is not None:
            want |= tool.placeholders(entry.plural)
        for text in entry.msgstr:
            got = tool.placeholders(text)
            if got != want:
                problems.append(
                    f"{entry.msgid!r}: msgid has {sorted(want.elements())}, "
                    f"translation {text!r} has {sorted(got.elements())}"
                )
    assert not problems, "translations must keep every {placeholder} exactly:\n" + "\n".join(
        problems
    )


def test_every_translation_keeps_the_code_spans(catalog):
    problems = []
    for entry in _active(catalog).values():
        if not entry.translated:
            continue
        want = tool.code_spans(entry.msgid)
        for text in entry.msgstr:
            if tool.code_spans(text) != want:
                problems.append(f"{entry.msgid!r} -> {text!r}")
    assert not problems, "translations must keep every `code` span unchanged:\n" + "\n".join(
        problems
    )


def test_no_translatable_call_hides_its_text(extracted):
    _messages, unknown = extracted
    assert not unknown, (
        "these _() calls pass a value the extractor cannot read; pass a string literal, "
        "or list the possible values in DYNAMIC in tools/i18n.py:\n"
        + "\n".join(str(u) for u in unknown)
    )


def test_the_committed_mo_matches_the_po(catalog):
    assert tool.MO_PATH.exists(), f"{tool.MO_PATH} is missing; run `python tools/i18n.py compile`"
    assert tool.MO_PATH.read_bytes() == tool.compile_mo(catalog), (
        "zhili.mo is out of date; run `python tools/i18n.py compile` and commit zhili.mo"
    )
    with tool.MO_PATH.open("rb") as f:
        mo = gettext.GNUTranslations(f)
    for entry in _active(catalog).values():
        if entry.translated and entry.plural is None:
            assert mo.gettext(entry.msgid) == entry.translation


def test_the_po_reads_back_the_same(catalog):
    assert tool.parse_po(tool.format_po(catalog)) == catalog


def test_the_check_command_passes():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "i18n.py"), "check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_few_translations_use_the_agreed_words():
    set_language("zh")
    assert _("error") == "错误"
    assert _("warning") == "警告"
    assert _("unknown name `{name}`") == "未知名称 `{name}`"
    assert _("cannot compare a percentage with a count") == "不能将百分比与计数比较"
    assert _("help: write {lit}% if a share was meant") == "提示：如果表示比例，请写成 {lit}%"
    assert _("community") == "社区" and _("street") == "街道" and _("grade") == "等级"
    assert _("missing") == "缺失" and _("total") == "总分"


# ---------------------------------------------------------------- the tool itself


def _fake_project(root: Path, dsl: str, engine: str = "") -> None:
    (root / "dsl").mkdir(parents=True, exist_ok=True)
    (root / "engine").mkdir(parents=True, exist_ok=True)
    (root / "dsl" / "m.py").write_text(dsl, encoding="utf-8")
    (root / "engine" / "e.py").write_text(engine, encoding="utf-8")


def test_extract_reads_literals_plurals_and_word_tables(tmp_path):
    _fake_project(
        tmp_path,
        "from zhili.dsl.i18n import _, ngettext\n"
        'WORDS = {"a": "apple", "b": "banana"}\n'
        'x = _("hello {name}").format(name=1)\n'
        "y = _('single' ' quoted')\n"
        'z = ngettext("{n} file", "{n} files", 2)\n'
        "w = _(WORDS.get(k, k))\n"
        "v = f\"{_('inside an f-string')}\"\n"
        "u = _(some_variable)\n"
        'not_me = str("plain")\n',
    )
    messages, unknown = tool.extract(tmp_path)
    got = {(m.msgid, m.plural) for m in messages}
    assert got == {
        ("hello {name}", None),
        ("single quoted", None),
        ("{n} file", "{n} files"),
        ("apple", None),
        ("banana", None),
        ("inside an f-string", None),
    }
    assert [(u.file, u.line, u.source) for u in unknown] == [("dsl/m.py", 8, "some_variable")]
    hello = next(m for m in messages if m.msgid == "hello {name}")
    assert hello.refs == ["dsl/m.py:3"]


def test_update_keeps_translations_adds_new_and_marks_removed_obsolete(tmp_path):
    old = tool.parse_po(
        'msgid ""\nmsgstr "Plural-Forms: nplurals=1; plural=0;\\n"\n\n'
        'msgid "kept"\nmsgstr "保留"\n\n'
        'msgid "removed"\nmsgstr "已删除"\n\n'
        'msgid "the file is empty"\nmsgstr "文件为空"\n'
    )
    _fake_project(
        tmp_path,
        'from zhili.dsl.i18n import _, ngettext\n_("kept")\n_("brand new")\n'
        '_("the file is empty!")\nngettext("{n} row", "{n} rows", 3)\n',
    )
    messages, _unknown = tool.extract(tmp_path)
    merged = tool.merge(old, messages)
    by_id = {e.msgid: e for e in merged}
    assert by_id["kept"].translation == "保留" and by_id["kept"].translated
    assert by_id["brand new"].msgstr == [""] and not by_id["brand new"].obsolete
    assert by_id["removed"].obsolete and by_id["removed"].translation == "已删除"
    # a close old message is offered as a fuzzy suggestion, which does not count
    suggestion = by_id["the file is empty!"]
    assert suggestion.fuzzy and suggestion.translation == "文件为空"
    assert not suggestion.translated
    assert by_id["{n} row"].plural == "{n} rows" and by_id["{n} row"].msgstr == [""]
    text = tool.format_po(merged)
    assert '#~ msgid "removed"\n#~ msgstr "已删除"' in text
    assert "#: dsl/m.py:3" in text
    # the result reads back, and updating again changes nothing
    assert tool.parse_po(text) == merged
    assert tool.format_po(tool.merge(tool.parse_po(text), messages)) == text
    # an obsolete message that comes back gets its translation back
    again = tool.merge(tool.parse_po(text), [tool.Message("removed", refs=["dsl/m.py:9"])])
    back = next(e for e in again if e.msgid == "removed")
    assert not back.obsolete and back.translated and back.translation == "已删除"


def test_compile_writes_what_gettext_reads(tmp_path):
    entries = tool.parse_po(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=1; plural=0;\\n"\n\n'
        'msgid "hello"\nmsgstr "你好"\n\n'
        'msgid "{n} file"\nmsgid_plural "{n} files"\nmsgstr[0] "{n} 个文件"\n\n'
        'msgid "multi\\n"\n"line \\"quoted\\""\nmsgstr ""\n"多\\n"\n"行 \\"引号\\""\n\n'
        '#, fuzzy\nmsgid "unsure"\nmsgstr "不确定"\n\n'
        'msgid "todo"\nmsgstr ""\n\n'
        '#~ msgid "gone"\n#~ msgstr "没了"\n'
    )
    mo = tmp_path / "x.mo"
    mo.write_bytes(tool.compile_mo(entries))
    with mo.open("rb") as f:
        t = gettext.GNUTranslations(f)
    assert t.gettext("hello") == "你好"
    assert t.ngettext("{n} file", "{n} files", 5) == "{n} 个文件"
    assert t.gettext('multi\nline "quoted"') == '多\n行 "引号"'
    assert t.gettext("unsure") == "unsure"  # fuzzy: left out
    assert t.gettext("todo") == "todo"
    assert t.gettext("gone") == "gone"


def test_check_reports_untranslated_wrong_placeholders_and_a_stale_mo(tmp_path):
    _fake_project(
        tmp_path,
        'from zhili.dsl.i18n import _\n_("hello {name}")\n_("bye")\n_(unknown)\n',
    )
    po, mo = tmp_path / "zhili.po", tmp_path / "zhili.mo"
    messages, _unknown = tool.extract(tmp_path)
    entries = tool.merge([], messages)
    po.write_text(tool.format_po(entries), encoding="utf-8")
    found = "\n".join(tool.problems(tmp_path, po, mo))
    assert "untranslated: 'hello {name}'" in found and "untranslated: 'bye'" in found
    assert "dsl/m.py:4: _(unknown)" in found
    assert "out of date" in found

    for e in entries:
        if e.msgid == "hello {name}":
            e.msgstr = ["你好 {nom}"]
        elif e.msgid == "bye":
            e.msgstr = ["再见"]
    po.write_text(tool.format_po(entries), encoding="utf-8")
    mo.write_bytes(tool.compile_mo(entries))
    found = "\n".join(tool.problems(tmp_path, po, mo))
    assert "placeholders differ" in found and "untranslated" not in found
    assert "out of date" not in found

    (tmp_path / "dsl" / "m.py").write_text(
        'from zhili.dsl.i18n import _\n_("hello {name}")\n_("bye")\n', encoding="utf-8"
    )
    entries[1].msgstr = ["你好 {name}"]
    po.write_text(tool.format_po(entries), encoding="utf-8")
    assert [p for p in tool.problems(tmp_path, po, mo) if "out of date" in p]
    mo.write_bytes(tool.compile_mo(entries))
    assert tool.problems(tmp_path, po, mo) == []


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext not installed")
def test_the_po_is_valid_for_gnu_msgfmt(tmp_path):
    out = tmp_path / "gnu.mo"
    proc = subprocess.run(
        ["msgfmt", "--check-format", "-o", str(out), str(tool.PO_PATH)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    with out.open("rb") as a, tool.MO_PATH.open("rb") as b:
        assert gettext.GNUTranslations(a)._catalog == gettext.GNUTranslations(b)._catalog


def test_placeholders_are_format_fields_not_code():
    assert sorted(tool.placeholders("{a} {b!r} {n:.0f}% {{x}} {0}").elements()) == [
        "{0}",
        "{a}",
        "{b!r}",
        "{n:.0f}",
    ]
    assert not tool.placeholders("help: every `{` needs a matching `}`")
    assert not tool.placeholders('`indicator ID "名称" points N { ... }`')


# ---------------------------------------------------------------- messages at run time


def _render(text: str) -> str:
    parsed = parse(text, "bad.gov")
    diags = list(parsed.diagnostics)
    if parsed.tree is not None:
        diags += check(parsed.tree, text).diagnostics
    return "\n".join(dg.render_text(d, text) for d in diags)


def test_diagnostics_render_in_chinese_and_in_english():
    set_language("zh")
    zh = _render(BAD_MODEL)
    assert "不能将百分比与计数比较" in zh
    assert "提示：如果表示比例，请写成 12%" in zh
    assert "未知名称 `unknown_thing`" in zh
    assert "cannot compare" not in zh

    set_language("en")
    en = _render(BAD_MODEL)
    assert "cannot compare a percentage with a count" in en
    assert "help: write 12% if a share was meant" in en
    assert "unknown name `unknown_thing`" in en
    assert "未知名称" not in en


def _zhili() -> list[str]:
    script = Path(sys.executable).with_name("zhili")
    if script.exists():
        return [str(script)]
    found = shutil.which("zhili")
    return [found] if found else [sys.executable, "-m", "zhili.cli"]


def _run_check(model: Path, *opts: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = dict(os.environ)
    for var in ("ZHILI_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        environ.pop(var, None)
    environ.update(env)
    return subprocess.run(
        [*_zhili(), *opts, "check", str(model)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=environ,
        cwd=model.parent,
        timeout=120,
    )


@pytest.fixture
def bad_model(tmp_path) -> Path:
    path = tmp_path / "bad.gov"
    path.write_text(BAD_MODEL, encoding="utf-8")
    return path


def test_cli_lang_zh_prints_chinese(bad_model):
    proc = _run_check(bad_model, "--lang", "zh")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "不能将百分比与计数比较" in out
    assert "未知名称 `unknown_thing`" in out
    assert "cannot compare" not in out


def test_cli_follows_a_chinese_locale(bad_model):
    proc = _run_check(bad_model, LANG="zh_CN.UTF-8")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "不能将百分比与计数比较" in out
    assert "未知名称 `unknown_thing`" in out


def test_cli_lang_en_prints_english_even_in_a_chinese_locale(bad_model):
    proc = _run_check(bad_model, "--lang", "en", LANG="zh_CN.UTF-8")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "cannot compare a percentage with a count" in out
    assert "unknown name `unknown_thing`" in out
    assert "未知名称" not in out
