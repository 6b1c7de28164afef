"""Message catalog tooling for zhili (gettext domain `zhili`, standard library only).

English is the source language. Every user-facing string in `dsl/` and
`engine/` is written as `_("...")` (or `ngettext("...", "...", n)`) from
`zhili.dsl.i18n`; the Simplified Chinese translations live in
`dsl/locale/zh_CN/LC_MESSAGES/zhili.po`, compiled to `zhili.mo` beside it.
Both files are committed.

The workflow, after adding or changing a message in the code::

    python tools/i18n.py update && python tools/i18n.py compile

then fill in the new (empty) `msgstr` entries of the .po, and compile again.
`python tools/i18n.py check` (and `tests/test_i18n.py`) fail while a message
is untranslated, marked `fuzzy`, drops or renames a `{placeholder}` or a
`code` span, or while the .mo is older than the .po.

Subcommands:

    extract   list every translatable message found in the code
              (`-o FILE` writes a .pot template instead)
    update    merge the messages into the .po: existing translations are
              kept, new messages are added untranslated (with a `fuzzy`
              suggestion when a similar old message was translated), messages
              no longer in the code are kept as obsolete `#~` entries
    compile   write the .mo from the .po (fuzzy and empty entries are left out,
              so those messages show in English)
    check     exit 1 listing untranslated or fuzzy messages, placeholder
              mismatches, messages missing from the .po, `_()` calls whose
              text the extractor cannot see, and a stale .mo

Only literal strings can be extracted. `_(variable)` is fine when its possible
values are known: a module-level dict of string literals used as
`_(WORDS.get(x, x))` or `_(WORDS[x])` is read automatically; any other
non-literal `_()` call must be listed in `DYNAMIC` below with the values it
can take, or `check` fails.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import re
import struct
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("dsl", "engine", "cli")
DOMAIN = "zhili"
LOCALE = "zh_CN"
PO_PATH = ROOT / "dsl" / "locale" / LOCALE / "LC_MESSAGES" / f"{DOMAIN}.po"
MO_PATH = PO_PATH.with_suffix(".mo")

GETTEXT_NAMES = {"_", "gettext", "N_"}
NGETTEXT_NAMES = {"ngettext"}

# Non-literal `_()` calls: (file, source of the argument) -> the values it can take.
# (Why a value is missing: `Missing.reason` messages are marked with `N_` in
# engine/functions.py, so the extractor finds them there.)
DYNAMIC: dict[tuple[str, str], tuple[str, ...]] = {
    # checker: the kind of a result name used outside grade conditions
    ("dsl/checker.py", "kind"): ("dimension", "indicator", "veto"),
    # the data-problem policy: a problem's severity (DataProblem.severity)
    ("engine/io/policy.py", "p.severity"): ("error", "warning", "info"),
    # explain: a veto's effect (ir.Veto.effect)
    ("engine/trace/explain.py", "v.effect"): ("caps", "blocks"),
    # functions: Missing.text() translates its own reason (an N_ message)
    ("engine/functions.py", "self.message"): (),
    # model: Outcome.text() translates its word (an N_ message)
    ("dsl/model.py", "self.word"): (),
}

HEADER = (
    "Project-Id-Version: zhili\n"
    "Report-Msgid-Bugs-To: \n"
    "Language: zh_CN\n"
    "Language-Team: Simplified Chinese\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=UTF-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "Plural-Forms: nplurals=1; plural=0;\n"
)
HEADER_COMMENTS = [
    "Simplified Chinese messages for zhili (治理).",
    "Workflow: python tools/i18n.py update && python tools/i18n.py compile",
    "Keep every {placeholder} and every `code` span exactly as in the msgid.",
]


# ---------------------------------------------------------------- extraction


@dataclass
class Message:
    msgid: str
    plural: str | None = None
    refs: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


@dataclass
class Unknown:
    """A `_()` call whose text cannot be read from the source."""

    file: str
    line: int
    source: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: _({self.source})"


def _func_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _str(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _string_dicts(tree: ast.Module) -> dict[str, list[str]]:
    """Module-level `NAME = {...}` dicts whose values are all string literals."""
    out: dict[str, list[str]] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target, value = stmt.target, stmt.value
        else:
            continue
        if isinstance(target, ast.Name) and isinstance(value, ast.Dict):
            values = [_str(v) for v in value.values]
            if values and all(v is not None for v in values):
                out[target.id] = list(dict.fromkeys(values))  # type: ignore[arg-type]
    return out


def _dict_lookup(arg: ast.expr, dicts: dict[str, list[str]]) -> str | None:
    """`WORDS.get(x, ...)` or `WORDS[x]` with WORDS a string dict: its name."""
    if (
        isinstance(arg, ast.Call)
        and isinstance(arg.func, ast.Attribute)
        and arg.func.attr == "get"
        and isinstance(arg.func.value, ast.Name)
        and arg.func.value.id in dicts
    ):
        return arg.func.value.id
    if isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Name):
        if arg.value.id in dicts:
            return arg.value.id
    return None


def source_files(root: Path = ROOT) -> list[Path]:
    files: list[Path] = []
    for d in SOURCE_DIRS:
        files.extend(p for p in (root / d).rglob("*.py") if "locale" not in p.parts)
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def extract(root: Path = ROOT) -> tuple[list[Message], list[Unknown]]:
    """Every translatable message in the code, in order of first appearance,
    and the `_()` calls whose text is not visible."""
    found: dict[tuple[str, str | None], Message] = {}
    unknown: list[Unknown] = []

    def add(msgid: str, plural: str | None, ref: str, comment: str | None = None) -> None:
        msg = found.setdefault((msgid, plural), Message(msgid, plural))
        if ref not in msg.refs:
            msg.refs.append(ref)
        if comment and comment not in msg.comments:
            msg.comments.append(comment)

    for path in source_files(root):
        rel = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text, filename=rel)
        dicts = _string_dicts(tree)
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
        calls.sort(key=lambda n: (n.lineno, n.col_offset))
        for call in calls:
            name = _func_name(call.func)
            if name not in GETTEXT_NAMES and name not in NGETTEXT_NAMES:
                continue
            if isinstance(call.func, ast.Attribute):
                # only `i18n._(...)`-style calls, not `translation.gettext(...)`
                if not (isinstance(call.func.value, ast.Name) and call.func.value.id == "i18n"):
                    continue
            if not call.args:
                continue
            ref = f"{rel}:{call.lineno}"
            if name in NGETTEXT_NAMES:
                if len(call.args) < 2:
                    continue
                singular, plural = _str(call.args[0]), _str(call.args[1])
                if singular is not None and plural is not None:
                    add(singular, plural, ref)
                    continue
                src = ", ".join(ast.unparse(a) for a in call.args[:2])
                unknown.append(Unknown(rel, call.lineno, src))
                continue
            arg = call.args[0]
            literal = _str(arg)
            if literal is not None:
                add(literal, None, ref)
                continue
            src = ast.unparse(arg)
            table = _dict_lookup(arg, dicts)
            if table is not None:
                for value in dicts[table]:
                    add(value, None, ref, f"one of the values of {table}")
                continue
            values = DYNAMIC.get((rel, src))
            if values is not None:
                for value in values:
                    add(value, None, ref, f"a value of `{src}`")
                continue
            unknown.append(Unknown(rel, call.lineno, src))
    return list(found.values()), unknown


# ---------------------------------------------------------------- .po files


@dataclass
class Entry:
    msgid: str
    msgstr: list[str] = field(default_factory=lambda: [""])
    plural: str | None = None
    context: str | None = None
    comments: list[str] = field(default_factory=list)  # "# " translator comments
    auto: list[str] = field(default_factory=list)  # "#." extracted comments
    refs: list[str] = field(default_factory=list)  # "#:" references
    flags: list[str] = field(default_factory=list)  # "#," flags
    previous: list[str] = field(default_factory=list)  # "#|" lines, verbatim
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.context, self.msgid)

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(s for s in self.msgstr) and not self.fuzzy

    @property
    def translation(self) -> str:
        return self.msgstr[0] if self.msgstr else ""


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b"}
_ESCAPES.update({"f": "\f", "v": "\v"})


def _unquote(s: str, where: str) -> str:
    s = s.strip()
    if len(s) < 2 or s[0] != '"' or s[-1] != '"':
        raise ValueError(f"{where}: expected a quoted string, found {s!r}")

    def repl(m: re.Match[str]) -> str:
        esc = m.group(1)
        if esc in _ESCAPES:
            return _ESCAPES[esc]
        if esc[0] in "01234567":
            return chr(int(esc, 8))
        raise ValueError(f"{where}: unknown escape \\{esc}")

    return re.sub(r"\\([0-7]{1,3}|.)", repl, s[1:-1])


def _quote(s: str) -> str:
    s = s.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + s.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + '"'


def parse_po(text: str, where: str = "<po>") -> list[Entry]:
    """Parse a .po file (the header is the entry whose msgid is "")."""
    entries: list[Entry] = []
    cur = Entry("")
    started = False  # a keyword line has been read for `cur`
    field_name: str | None = None
    index = 0

    def finish() -> None:
        nonlocal cur, started, field_name
        if started:
            entries.append(cur)
        cur, started, field_name = Entry(""), False, None

    for lineno, raw in enumerate(text.splitlines(), 1):
        loc = f"{where}:{lineno}"
        line = raw.strip()
        obsolete = False
        if line.startswith("#~"):
            obsolete = True
            line = line[2:].strip()
            if line.startswith("|"):
                line = "#" + line
        if not line:
            if not obsolete:
                finish()
            continue
        if line.startswith("#"):
            if started and field_name is not None:
                finish()
            kind, rest = line[1:2], line[2:].strip()
            if kind == ":":
                cur.refs.extend(rest.split())
            elif kind == ",":
                cur.flags.extend(f.strip() for f in rest.split(",") if f.strip())
            elif kind == ".":
                cur.auto.append(rest)
            elif kind == "|":
                cur.previous.append(rest)
            else:
                cur.comments.append(line[1:].removeprefix(" "))
            continue
        if obsolete:
            cur.obsolete = True
        if line.startswith('"'):
            if field_name is None:
                raise ValueError(f"{loc}: a string outside of an entry")
            value = _unquote(line, loc)
            if field_name == "msgctxt":
                cur.context = (cur.context or "") + value
            elif field_name == "msgid":
                cur.msgid += value
            elif field_name == "msgid_plural":
                cur.plural = (cur.plural or "") + value
            else:
                cur.msgstr[index] += value
            continue
        m = re.match(r"(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(.*)$", line)
        if not m:
            raise ValueError(f"{loc}: cannot read {raw!r}")
        keyword, idx, rest = m.group(1), m.group(2), m.group(3)
        if keyword in ("msgctxt", "msgid") and started and field_name in ("msgstr",):
            finish()
            cur.obsolete = obsolete
        started = True
        value = _unquote(rest, loc)
        field_name = keyword
        if keyword == "msgctxt":
            cur.context = value
        elif keyword == "msgid":
            cur.msgid = value
        elif keyword == "msgid_plural":
            cur.plural = value
        else:
            index = int(idx) if idx is not None else 0
            if index == 0:
                cur.msgstr = [value]
            else:
                while len(cur.msgstr) <= index:
                    cur.msgstr.append("")
                cur.msgstr[index] = value
    finish()
    return entries


def _string_lines(keyword: str, s: str) -> list[str]:
    parts = s.splitlines(keepends=True)
    if len(parts) <= 1:
        return [f"{keyword} {_quote(s)}"]
    return [f'{keyword} ""'] + [_quote(p) for p in parts]


def format_po(entries: list[Entry]) -> str:
    blocks: list[str] = []
    for e in entries:
        out = [f"# {c}".rstrip() for c in e.comments]
        prefix = "#~ " if e.obsolete else ""
        if not e.obsolete:
            out += [f"#. {c}" for c in e.auto]
            line = "#:"
            for ref in e.refs:
                if len(line) + 1 + len(ref) > 79 and line != "#:":
                    out.append(line)
                    line = "#:"
                line += " " + ref
            if line != "#:":
                out.append(line)
        if e.flags:
            out.append(prefix + "#, " + ", ".join(e.flags))
        out += [prefix + "#| " + p for p in e.previous]
        body: list[str] = []
        if e.context is not None:
            body += _string_lines("msgctxt", e.context)
        body += _string_lines("msgid", e.msgid)
        if e.plural is not None:
            body += _string_lines("msgid_plural", e.plural)
            for i, s in enumerate(e.msgstr):
                body += _string_lines(f"msgstr[{i}]", s)
        else:
            body += _string_lines("msgstr", e.translation)
        out += [prefix + b for b in body]
        blocks.append("\n".join(out))
    return "\n\n".join(blocks) + "\n"


def read_po(path: Path = PO_PATH) -> list[Entry]:
    if not path.exists():
        return []
    return parse_po(path.read_text(encoding="utf-8"), str(path))


def header_entry(entries: list[Entry]) -> Entry:
    for e in entries:
        if e.msgid == "" and e.context is None and not e.obsolete:
            return e
    return Entry("", [HEADER], comments=list(HEADER_COMMENTS))


def nplurals(header: Entry) -> int:
    m = re.search(r"nplurals\s*=\s*(\d+)", header.translation)
    return int(m.group(1)) if m else 1


def merge(old: list[Entry], messages: list[Message]) -> list[Entry]:
    """The new catalog: one active entry per message, old translations kept,
    removed messages obsolete."""
    header = header_entry(old)
    n = nplurals(header)
    by_key = {e.key: e for e in old if e.msgid}
    result: list[Entry] = [header]
    used: set[tuple[str | None, str]] = set()
    # translated messages that may suggest a translation for a new one
    donors = {e.msgid: e for e in old if e.msgid and e.translated and e.context is None}
    for msg in messages:
        key = (None, msg.msgid)
        prev = by_key.get(key)
        if prev is not None:
            entry = Entry(
                msg.msgid,
                list(prev.msgstr),
                msg.plural,
                comments=list(prev.comments),
                flags=list(prev.flags),
                previous=list(prev.previous),
            )
            if msg.plural is not None and prev.plural != msg.plural:
                entry.msgstr = (entry.msgstr + [""] * n)[:n]
                if any(entry.msgstr) and not entry.fuzzy:
                    entry.flags.append("fuzzy")
                entry.previous = [f"msgid_plural {_quote(prev.plural or '')}"]
            elif msg.plural is None and prev.plural is not None:
                entry.msgstr = [entry.msgstr[0] if entry.msgstr else ""]
            if not entry.fuzzy:
                entry.previous = []
        else:
            entry = Entry(msg.msgid, [""] * (n if msg.plural is not None else 1), msg.plural)
            close = difflib.get_close_matches(msg.msgid, list(donors), n=1, cutoff=0.75)
            if close:
                donor = donors[close[0]]
                if (donor.plural is None) == (msg.plural is None):
                    entry.msgstr = list(donor.msgstr)
                    entry.flags = ["fuzzy"]
                    entry.previous = [f"msgid {_quote(donor.msgid)}"]
        entry.refs = list(msg.refs)
        entry.auto = list(msg.comments)
        result.append(entry)
        used.add(key)
    for e in old:
        if not e.msgid or e.key in used:
            continue
        if not any(e.msgstr):
            continue  # nothing worth keeping
        result.append(
            Entry(
                e.msgid,
                list(e.msgstr),
                e.plural,
                e.context,
                comments=list(e.comments),
                flags=list(e.flags),
                obsolete=True,
            )
        )
    return result


# ---------------------------------------------------------------- .mo files


def compile_mo(entries: list[Entry]) -> bytes:
    """The .mo file for `entries` (GNU format, little-endian, no hash table;
    the same layout as CPython's Tools/i18n/msgfmt.py). Fuzzy, untranslated
    and obsolete entries are left out; the header is always kept."""
    table: dict[bytes, bytes] = {}
    for e in entries:
        if e.obsolete:
            continue
        if e.msgid == "" and e.context is None:
            table[b""] = e.translation.encode("utf-8")
            continue
        if not e.translated:
            continue
        key = e.msgid if e.context is None else f"{e.context}\x04{e.msgid}"
        if e.plural is not None:
            key += "\0" + e.plural
        table[key.encode("utf-8")] = "\0".join(e.msgstr).encode("utf-8")
    keys = sorted(table)
    ids = strs = b""
    offsets: list[tuple[int, int, int, int]] = []
    for k in keys:
        v = table[k]
        offsets.append((len(ids), len(k), len(strs), len(v)))
        ids += k + b"\0"
        strs += v + b"\0"
    n = len(keys)
    keystart = 7 * 4 + 16 * n
    valuestart = keystart + len(ids)
    koffsets: list[int] = []
    voffsets: list[int] = []
    for o1, l1, o2, l2 in offsets:
        koffsets += [l1, o1 + keystart]
        voffsets += [l2, o2 + valuestart]
    out = struct.pack("Iiiiiii", 0x950412DE, 0, n, 7 * 4, 7 * 4 + n * 8, 0, 0)
    out += struct.pack(f"{len(koffsets)}i", *koffsets)
    out += struct.pack(f"{len(voffsets)}i", *voffsets)
    return out + ids + strs


# ---------------------------------------------------------------- checks

# a str.format field: `{name}`, `{0}`, `{x.attr}`, `{x[key]}`, `{name!r}`, `{n:.0f}`;
# `{{`/`}}` are escaped braces, and code such as `{ ... }` is not a field
_PLACEHOLDER = re.compile(
    r"\{\{|\}\}|\{(?:[A-Za-z_]\w*|\d*)(?:\.[A-Za-z_]\w*|\[[^\]{}]*\])*(?:![rsa])?(?::[^{}]*)?\}"
)
_CODE = re.compile(r"`[^`]*`")


def placeholders(s: str) -> Counter[str]:
    """The `{...}` fields of a str.format string (`{{`/`}}` are not fields)."""
    return Counter(m for m in _PLACEHOLDER.findall(s) if m not in ("{{", "}}"))


def code_spans(s: str) -> Counter[str]:
    return Counter(_CODE.findall(s))


def problems(root: Path = ROOT, po_path: Path = PO_PATH, mo_path: Path = MO_PATH) -> list[str]:
    """Everything `check` complains about, one line each."""
    messages, unknown = extract(root)
    entries = read_po(po_path)
    active = {e.msgid: e for e in entries if e.msgid and not e.obsolete and e.context is None}
    out: list[str] = []
    for u in unknown:
        out.append(
            f"{u}: the extractor cannot see this text; pass a literal, or add the "
            f"possible values to DYNAMIC in tools/i18n.py"
        )
    for msg in messages:
        e = active.get(msg.msgid)
        where = msg.refs[0]
        if e is None:
            out.append(
                f"{where}: not in the catalog (run `python tools/i18n.py update`): {msg.msgid!r}"
            )
        elif e.fuzzy:
            out.append(
                f"{where}: fuzzy (check the suggested translation, then remove `#, fuzzy`): {msg.msgid!r}"
            )
        elif not e.translated:
            out.append(f"{where}: untranslated: {msg.msgid!r}")
    for e in active.values():
        if not e.translated:
            continue
        want_p, want_c = placeholders(e.msgid), code_spans(e.msgid)
        if e.plural is not None:
            want_p |= placeholders(e.plural)
        for s in e.msgstr:
            if placeholders(s) != want_p:
                out.append(
                    f"placeholders differ: {e.msgid!r} has {sorted(want_p.elements())}, "
                    f"the translation {s!r} has {sorted(placeholders(s).elements())}"
                )
            if code_spans(s) != want_c:
                out.append(
                    f"`code` spans differ: {e.msgid!r} has {sorted(want_c.elements())}, "
                    f"the translation {s!r} has {sorted(code_spans(s).elements())}"
                )
    if entries:
        mo = mo_path.read_bytes() if mo_path.exists() else None
        if mo != compile_mo(entries):
            out.append(f"{_rel(mo_path)} is out of date (run `python tools/i18n.py compile`)")
    else:
        out.append(f"{_rel(po_path)} does not exist (run `python tools/i18n.py update`)")
    return out


def _rel(p: Path) -> str:
    try:
        return p.relative_to(ROOT).as_posix()
    except ValueError:
        return str(p)


# ---------------------------------------------------------------- commands


def cmd_extract(args: argparse.Namespace) -> int:
    messages, unknown = extract()
    if args.output:
        template = "".join(
            line for line in HEADER.splitlines(keepends=True) if not line.startswith("Language")
        )
        entries = [Entry("", [template])]
        entries += [
            Entry(
                m.msgid,
                [""] * (2 if m.plural else 1),
                m.plural,
                refs=list(m.refs),
                auto=list(m.comments),
            )
            for m in messages
        ]
        Path(args.output).write_text(format_po(entries), encoding="utf-8")
        print(f"wrote {len(messages)} messages to {args.output}", file=sys.stderr)
    else:
        for m in messages:
            text = m.msgid if m.plural is None else f"{m.msgid} | {m.plural}"
            print(f"{m.refs[0]}: {text}")
        print(f"{len(messages)} messages", file=sys.stderr)
    for u in unknown:
        print(f"warning: {u}: text not visible to the extractor", file=sys.stderr)
    return 0


def cmd_update(args: argparse.Namespace) -> int:
    messages, unknown = extract()
    old = read_po(PO_PATH)
    new = merge(old, messages)
    if args.drop_obsolete:
        new = [e for e in new if not e.obsolete]
    PO_PATH.parent.mkdir(parents=True, exist_ok=True)
    text = format_po(new)
    changed = not PO_PATH.exists() or PO_PATH.read_text(encoding="utf-8") != text
    if changed:
        PO_PATH.write_text(text, encoding="utf-8")
    active = [e for e in new if e.msgid and not e.obsolete]
    todo = [e for e in active if not e.translated]
    obsolete = sum(e.obsolete for e in new)
    print(
        f"{_rel(PO_PATH)}: {len(active)} messages, {len(todo)} to translate, "
        f"{obsolete} obsolete{'' if changed else ' (unchanged)'}",
        file=sys.stderr,
    )
    for e in todo:
        state = "fuzzy" if e.fuzzy else "untranslated"
        print(f"  {state}: {e.msgid!r}  ({e.refs[0] if e.refs else ''})", file=sys.stderr)
    for u in unknown:
        print(f"warning: {u}: text not visible to the extractor", file=sys.stderr)
    return 0


def cmd_compile(args: argparse.Namespace) -> int:
    entries = read_po(PO_PATH)
    if not entries:
        print(f"{_rel(PO_PATH)} does not exist; run update first", file=sys.stderr)
        return 1
    data = compile_mo(entries)
    if not MO_PATH.exists() or MO_PATH.read_bytes() != data:
        MO_PATH.write_bytes(data)
    active = [e for e in entries if e.msgid and not e.obsolete]
    done = sum(e.translated for e in active)
    print(f"{_rel(MO_PATH)}: {done} of {len(active)} messages translated", file=sys.stderr)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    found = problems()
    for p in found:
        print(p)
    if found:
        print(
            f"{len(found)} problems; fix with `python tools/i18n.py update`, translate "
            f"the empty msgstr entries in {_rel(PO_PATH)}, then `python tools/i18n.py compile`",
            file=sys.stderr,
        )
        return 1
    active = [e for e in read_po(PO_PATH) if e.msgid and not e.obsolete]
    print(f"{len(active)} messages, all translated; the .mo is up to date", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tools/i18n.py",
        description="Message catalog tooling for zhili (Simplified Chinese, gettext).",
        epilog="workflow: python tools/i18n.py update && python tools/i18n.py compile",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("extract", help="list the translatable messages in dsl/, engine/ and cli/")
    p.add_argument("-o", "--output", help="write a .pot template to this file")
    p.set_defaults(func=cmd_extract)
    p = sub.add_parser("update", help="merge the messages into the .po")
    p.add_argument(
        "--drop-obsolete", action="store_true", help="remove `#~` entries instead of keeping them"
    )
    p.set_defaults(func=cmd_update)
    p = sub.add_parser("compile", help="write the .mo from the .po")
    p.set_defaults(func=cmd_compile)
    p = sub.add_parser("check", help="exit 1 on untranslated messages or a stale .mo")
    p.set_defaults(func=cmd_check)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
