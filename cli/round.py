"""An assessment round on the command line (docs/round.md): `template
--roster` (one form per unit), `eval`/`report --roster` (a folder of returns
with completeness) and `feedback` (the returns sent back, commented)."""

from __future__ import annotations

from pathlib import Path

import click

from zhili.cli.context import EPILOG, Ctx, ZhiliError, echo_err, resolve_model, write_error
from zhili.cli.options import output_option
from zhili.dsl.i18n import _, language, set_language

BY_LEVELS = ("区", "街道", "社区")

ROSTER_HELP = "The round's roster (CSV or workbook: 社区编码, 区, 街道, 社区)"


def roster_option(what: str, required: bool = False):
    """`--roster FILE`; `what` ends its help text."""
    return click.option(
        "--roster",
        type=click.Path(dir_okay=False),
        default=None,
        required=required,
        help=f"{ROSTER_HELP}{what}",
    )


ROSTER_OPTION = roster_option(": DATA is then a folder of returned forms, read with completeness.")


def by_option(default: str | None):
    return click.option(
        "--by",
        type=click.Choice(BY_LEVELS),
        default=default,
        show_default=default is not None,
        help="The unit each form goes to: a district (区), a street (街道) or a community (社区).",
    )


def load_roster(path: str):
    """The roster at `path`, its problems shown; exit 1 when it has errors."""
    from zhili.engine.io.policy import problem_report
    from zhili.engine.io.table import DataError
    from zhili.engine.round.roster import read_roster

    try:
        roster = read_roster(Path(path))
    except DataError as exc:
        raise ZhiliError(_("error: {msg}").format(msg=str(exc))) from exc
    report = problem_report(roster.problems, strict=False)
    for line in report.lines:
        echo_err(line)
    if roster.errors:
        raise ZhiliError(_("error: the roster has problems (see above)"))
    if not roster.communities:
        raise ZhiliError(_("error: {file}: the roster lists no community").format(file=path))
    return roster


def write_round_forms(lm, roster_path: str, by: str, output: str) -> None:
    """`template MODEL --roster R --by LEVEL -o DIR`."""
    from zhili.engine.round.forms import write_forms

    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        raise click.BadParameter(
            _("with --roster, -o is a folder (one workbook per unit)"), param_hint="--output"
        )
    roster = load_roster(roster_path)
    try:
        written = write_forms(lm.model, roster, by, folder)
    except OSError as exc:
        raise write_error(output, exc) from exc
    echo_err(
        _("wrote {n} forms (one per {level}, {m} communities) to {path}").format(
            n=len(written), level=by, m=len(roster.communities), path=output
        )
    )


def read_round(lm, data: tuple[str, ...], roster_path: str):
    """The returns folder DATA read against the roster (nothing shown yet)."""
    from zhili.engine.io.table import DataError
    from zhili.engine.round.returns import read_returns

    if len(data) != 1 or not Path(data[0]).is_dir():
        raise click.BadParameter(
            _("with --roster, DATA is one folder of returned forms"), param_hint="DATA"
        )
    roster = load_roster(roster_path)
    try:
        return read_returns(Path(data[0]), lm.model, roster)
    except DataError as exc:
        raise ZhiliError(_("error: {msg}").format(msg=str(exc))) from exc


def show_problems(rd, strict: bool) -> bool:
    """Print the round's problems (and the notes of replaced returns); whether they stop the run."""
    from zhili.engine.io.policy import problem_report

    report = problem_report(rd.problems, strict)
    for line in report.lines:
        echo_err(line)
    for old, new in rd.superseded:
        echo_err(
            _("note: {old} is an older return of the same unit: {new} is read instead").format(
                old=old, new=new.name
            )
        )
    return report.stops


def completeness_text(rd) -> str:
    """The reporting rate per street and per district, as text tables."""
    from zhili.cli.output import render_table

    streets, districts = rd.rates()
    c = rd.completeness()
    out = [
        _("Completeness: {reported} of {expected} communities reported ({rate})").format(
            reported=c["reported"], expected=c["expected"], rate=f"{c['rate']:.1%}"
        ),
        "",
    ]
    heads = [_("District"), _("Street"), _("Expected"), _("Reported"), _("Rate")]
    rows = [[r.district, r.street, r.expected, r.reported, f"{r.rate:.1%}"] for r in streets]
    out += [render_table(heads, rows, right={2, 3, 4}), ""]
    heads = [_("District"), _("Expected"), _("Reported"), _("Rate")]
    rows = [[r.district, r.expected, r.reported, f"{r.rate:.1%}"] for r in districts]
    out.append(render_table(heads, rows, right={1, 2, 3}))
    missing = rd.not_submitted()
    if missing:
        shown = "、".join(f"{m.name}（{m.id}）" for m in missing[:20])
        more = _(" … and {n} more").format(n=len(missing) - 20) if len(missing) > 20 else ""
        out += ["", _("Not submitted (未上报): {list}").format(list=shown + more)]
    if rd.not_in_roster:
        out.append(
            _("Not in the roster: {list}").format(
                list="、".join(i for i, _f, _r in rd.not_in_roster)
            )
        )
    return "\n".join(out)


def completeness_notes(rd) -> list[str]:
    """Completeness as the notes of a report: the whole round, every
    district and street, and the communities not submitted."""
    c = rd.completeness()
    streets, districts = rd.rates()
    notes = [
        _("Completeness: {reported} of {expected} communities reported ({rate})").format(
            reported=c["reported"], expected=c["expected"], rate=f"{c['rate']:.1%}"
        )
    ]
    for r in [*districts, *streets]:
        notes.append(
            _("{unit}: {reported} of {expected} reported ({rate})").format(
                unit=" ".join(u for u in (r.district, r.street) if u),
                reported=r.reported,
                expected=r.expected,
                rate=f"{r.rate:.1%}",
            )
        )
    missing = rd.not_submitted()
    if missing:
        notes.append(
            _("Not submitted (未上报): {list}").format(
                list="、".join(f"{m.district} {m.street} {m.name}（{m.id}）" for m in missing)
            )
        )
    return notes


def report_completeness(rd):
    """The completeness section of a round's report."""
    from zhili.engine.round.summary import completeness

    return completeness(rd)


def round_dataset(lm, data, roster_path: str, strict: bool, to_stdout: bool):
    """`eval`/`report --roster`: the returns read and shown; the round and the
    dataset of the communities with data, or exit 1 (after the completeness
    table) when the problems stop the run or nothing has data."""
    rd = read_round(lm, data, roster_path)
    stops = show_problems(rd, strict)
    if stops or rd.dataset is None or len(rd.dataset) == 0:
        click.echo(completeness_text(rd), err=not to_stdout)
        if stops:
            raise ZhiliError(
                _(
                    "error: the returns have problems (see above); nothing was evaluated "
                    "(zhili feedback writes them back to the units)"
                )
            )
        raise ZhiliError(_("error: no return holds data yet; nothing was evaluated"))
    return rd, rd.dataset


@click.command("feedback", epilog=EPILOG)
@click.argument("model")
@click.argument("returns", type=click.Path(file_okay=False))
@roster_option(".", required=True)
@by_option(None)
@output_option("The folder to write the feedback workbooks to.", dir_okay=True)
@click.pass_obj
def feedback_cmd(ctx: Ctx, model, returns, roster, by, output):
    """Write the feedback of a round (退回修改): for every return in RETURNS with
    problems, a copy with each problem cell highlighted and commented in
    Chinese and a 问题清单 sheet; and 汇总.xlsx, listing which unit must
    correct what and which units have not submitted. Returns without
    problems get no copy (无问题 in the summary)."""
    from zhili.engine.round.feedback import write_feedback

    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        raise click.BadParameter(_("-o is a folder"), param_hint="--output")
    if folder.resolve() == Path(returns).resolve():
        raise click.BadParameter(
            _("write the feedback to another folder than the returns"), param_hint="--output"
        )
    lm = resolve_model(ctx, model)
    shown = language()
    set_language("zh")  # the comments are for the people who filled the forms in
    try:
        rd = read_round(lm, (returns,), roster)
    finally:
        set_language(shown)
    try:
        result = write_feedback(rd, lm.model, folder, by)
    except OSError as exc:
        raise write_error(output, exc) from exc
    echo_err(
        _(
            "wrote {copies} returns to correct, the summary {summary}; {clean} returns "
            "without problems; {missing} units have not submitted"
        ).format(
            copies=len(result.copies),
            summary=result.summary,
            clean=len(result.clean),
            missing=len(result.missing_units),
        )
    )
