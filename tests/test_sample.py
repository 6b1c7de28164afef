"""`zhili sample` data exercises a model (issue 12, item 6).

For every bundled model and for models written here, 1,000 generated rows,
read back by the real reader and evaluated by the real engine:

- every *reachable* grade appears. Reachable is shown independently of the
  generator: by the model's own test cases, and by records this file
  constructs (a coordinate search for the best grade from each input's
  extremes and the model's constants, then a walk from that record to the
  worst one, one input at a time, noting every grade passed on the way, and
  the best record with a growing share of its inputs drawn at random);
- each divisor is 0 in under 5% of the rows;
- vetoes trigger in about `--veto-rate` of the rows, never at rate 0;
- the cells are clean (no data problems) and the same seed gives the same
  bytes.
"""

from __future__ import annotations

import functools
import math
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from model_strategies import check_source, model_sources

from zhili.cli.app import cli
from zhili.dsl import model as ir
from zhili.engine.eval.evaluate import evaluate_dataset
from zhili.engine.eval.interpreter import compile_model
from zhili.engine.io.data import load
from zhili.engine.plugins import Registry
from zhili.engine.sample import analyze, divisors, write_sample

REGISTRY = Registry()
ROWS = 1000

# A divisor (ratio, per_10k), a veto whose input is also deducted per
# occurrence, tiers both ways, an enum, and a top grade that needs nearly
# every indicator at full points.
LADDER = """
model ladder "测试：等级阶梯"
total 100
input population: int label "常住人口" range 0..50000
input cases: int label "受理件数" range 0..800
input handled: int label "办结件数" range 0..800
input rate: percent label "满意率" range 0%..100%
input patrol: bool label "是否巡查"
input accidents: int label "事故数" range 0..20
input level: enum("甲", "乙", "丙") label "评级"

let handled_rate "办结率" = ratio(handled, cases)
let density "每万人受理件数" = per_10k(cases, population)

dimension service "服务" points 50 {
    indicator handle "办结率" points 20 {
        tiers handled_rate {
            >= 95% : 20
            >= 85% : 12
            >= 70% : 5
        }
    }
    indicator satisfied "满意率" points 20 {
        linear rate from 60% to 90%
    }
    indicator patrol_ok "巡查" points 10 {
        pass when patrol
    }
}

dimension safety "安全" points 50 {
    indicator accident_free "安全生产" points 20 {
        deduct 5 per accidents max 20
    }
    indicator calm "受理密度" points 20 {
        tiers density {
            <= 10 : 20
            <= 30 : 10
        }
    }
    indicator rated "评级" points 10 {
        pass when level == "甲"
    }
    veto major "重大事故" when accidents >= 4 caps "合格"
}

grades {
    "优秀" when not vetoed and min_dimension >= 90% and total >= 95
    "良好" when total >= 80 and count(handle >= 20, satisfied >= 20, accident_free >= 20, calm >= 20) >= 3
    "合格" when total >= 60
    "不合格" otherwise
}
"""

# Definitions over sums, `/` with a constant factor, an `if` guard on the
# divisor, `between`, `coalesce` of optional inputs, `in`, nested
# dimensions, a bonus, two vetoes and grades on dimension shares.
NESTED = """
model nested "测试：嵌套维度"
total 60
input households: int label "户数" range 0..6000
input events_a: int label "甲类活动" range 0..100
input events_b: int label "乙类活动" range 0..100
input members: int label "报到党员" range 0..600
input visits: number label "月均探访" range 0..40
input survey: percent label "问卷满意度" range 0%..100% optional
input hotline: percent label "热线满意度" range 0%..100% optional
input kind: enum("老旧小区", "商品房小区", "村改居") label "类型"
input opened: date label "建站日期"
input fire: bool label "是否发生火灾"
input complaints: int label "投诉件数" range 0..300

let events "活动总数" = events_a + events_b
let per_100 "每百户党员" = if households == 0 then 0 else members * 100 / households
let satisfaction "满意度" = coalesce(survey, hotline)

dimension people "人" points 30 {
    dimension party "党建" points 15 {
        indicator activity "活动" points 8 {
            linear events from 6 to 30
        }
        indicator reported "党员报到" points 7 {
            tiers per_100 {
                >= 5 : 7
                >= 2 : 4
            }
        }
    }
    indicator visiting "探访" points 15 {
        pass when between(visits, 4, 31)
    }
}

dimension place "地" points 30 {
    indicator satisfied "满意度" points 15 {
        linear satisfaction from 70% to 95%
    }
    indicator kind_ok "类型" points 5 {
        pass when kind in ["商品房小区", "村改居"]
    }
    indicator quiet "投诉" points 10 {
        tiers complaints {
            <= 2 : 10
            <= 10 : 6
            <= 30 : 2
        }
    }
    veto burned "火灾" when fire blocks "示范"
}

indicator early "早建站" points 3 {
    bonus when opened <= 2018-12-31
}

veto noisy "投诉过多" when complaints > 150 caps "一般"

grades {
    "示范" when people >= 90% and place >= 90%
    "达标" when people >= 70% and place >= 70%
    "一般" when total >= 30
    "待改进" otherwise
}
"""


# Ranges the generator must not step out of: a negative divisor, a percent
# above 100%, a number without a range, a narrow percent divisor.
ODD = """
model odd "测试：少见的取值范围"
total 30
input loss: number label "亏损" range -500..-10
input debt: number label "负债"
input over: percent label "超额完成率" range 0%..150%
input thin: percent label "小比例" range 0%..0.2%
input items: int label "件数" range 0..40
let per_loss "每单位亏损件数" = items / loss
let part "占比" = ratio(over, thin)
indicator a "亏损" points 10 {
    tiers per_loss {
        >= -0.5 : 10
        >= -2 : 5
    }
}
indicator b "超额" points 10 {
    linear over from 100% to 150%
}
indicator c "负债" points 10 {
    pass when debt <= 1000 and part >= 5000%
}
grades {
    "好" when total >= 25
    "中" when total >= 10
    "差" otherwise
}
"""


def _written(source: str, name: str) -> ir.Model:
    model, errors = check_source(source, f"{name}.gov")
    assert model is not None, errors
    return model


WRITTEN = {"ladder": LADDER, "nested": NESTED, "odd": ODD}


@functools.cache
def model_for(key: str) -> ir.Model:
    if key in WRITTEN:
        return _written(WRITTEN[key], key)
    return REGISTRY.models[key].model


MODEL_KEYS = sorted(REGISTRY.models) + sorted(WRITTEN)


@functools.cache
def generated(key: str, seed: int = 1, veto_rate: float = 0.02, tmp: str = "") -> tuple:
    """1,000 rows for `key`, read and evaluated: (dataset, evaluation)."""
    import tempfile

    model = model_for(key)
    folder = Path(tempfile.mkdtemp(prefix="zhili-sample-"))
    path = folder / f"{key}-{seed}-{veto_rate}.csv"
    write_sample(model, path, ROWS, seed=seed, veto_rate=veto_rate)
    ds = load(path, model)
    return ds, evaluate_dataset(model, ds, REGISTRY)


# ---------------------------------------------------------------- reachable grades


def _candidates(model: ir.Model, f: ir.InputField) -> list:
    """Values worth trying for `f`: its extremes and middle, and every
    numeric constant of the model (with a step either side) within range."""
    match f.type:
        case "bool":
            return [True, False]
        case "enum":
            return list(f.values)
        case "date":
            import datetime as dt

            return [dt.date(2010, 1, 1), dt.date(2019, 6, 1), dt.date(2024, 12, 31)]
        case "text":
            return ["", "示范点"]
    lo = f.min if f.min is not None else 0.0
    hi = f.max if f.max is not None else (1.0 if f.type == "percent" else 1000.0)
    step = {"int": 1, "percent": 0.001}.get(f.type, 0.01)
    consts: set[float] = set()
    exprs = [d.expr for d in model.lets] + [v.condition for v in model.vetoes]
    for ind in model.indicators:
        exprs.extend(ind.scoring.exprs())
    for e in exprs:
        for node in ir.walk(e):
            if isinstance(node, ir.Const) and isinstance(node.value, (int, float)):
                if not isinstance(node.value, bool):
                    consts.update((node.value - step, node.value, node.value + step))
    values = {lo, hi, (lo + hi) / 2, min(max(lo, 1), hi)}
    values |= {c for c in consts if lo <= c <= hi}
    out = sorted(values)
    return [int(round(v)) for v in out] if f.type == "int" else out


def _rank(compiled, model: ir.Model, record: dict) -> tuple[int, float]:
    raw = compiled.evaluate(record, {})
    total = raw.total if isinstance(raw.total, (int, float)) else -math.inf
    return raw.grade_index, total


def reachable_grades(model: ir.Model) -> set[str]:
    """Grades shown reachable by records built here and by the model's own
    test cases, independently of the generator."""
    compiled = compile_model(model, REGISTRY.functions)
    names = model.grade_names
    seen: set[str] = set()
    for case in model.tests:
        if case.given is not None:
            seen.add(names[compiled.evaluate(dict(case.given), {}).grade_index])
    options = {f.id: _candidates(model, f) for f in model.inputs}
    best = {k: v[len(v) // 2] for k, v in options.items()}
    for _pass in range(3):  # coordinate search for the best grade, then the best total
        for name, values in options.items():
            scored = [
                ((-g, t), v) for v in values for g, t in [_rank(compiled, model, best | {name: v})]
            ]
            best[name] = max(scored, key=lambda s: s[0])[1]
    seen.add(names[_rank(compiled, model, best)[0]])
    record = dict(best)
    for _pass in range(2):  # down to the worst, one input at a time
        for name, values in options.items():
            scored = [(_rank(compiled, model, record | {name: v}), v) for v in values]
            for (g, _t), _v in scored:
                seen.add(names[g])
            record[name] = max(scored, key=lambda s: (s[0][0], -s[0][1]))[1]
            seen.add(names[_rank(compiled, model, record)[0]])
    rng = random.Random(0)
    for k in range(600):  # and the best record with a growing share of inputs at random
        p = (k % 10 + 1) / 10
        mixed = {n: rng.choice(v) if rng.random() < p else best[n] for n, v in options.items()}
        seen.add(names[_rank(compiled, model, mixed)[0]])
    return seen


# ---------------------------------------------------------------- tests


@pytest.mark.parametrize("key", MODEL_KEYS)
def test_every_reachable_grade_appears(key):
    model = model_for(key)
    ds, ev = generated(key)
    assert len(ds) == ROWS
    counts = ev.grade_counts()
    reachable = reachable_grades(model)
    assert len(reachable) >= 2, f"{key}: the construction found only {reachable}"
    absent = sorted(reachable - set(counts))
    assert not absent, f"{key}: reachable grades absent from {ROWS} rows: {absent}; got {counts}"
    top = model.grade_names[0]
    if top in reachable:  # the top grade is not a fluke of one row
        assert counts[top] >= ROWS // 50, f"{key}: {top} in only {counts[top]} rows"


@pytest.mark.parametrize("key", MODEL_KEYS)
def test_generated_cells_are_clean(key):
    ds, _ev = generated(key)
    errors = [p for p in ds.problems if p.severity == "error"]
    assert not errors, errors[:3]
    model = model_for(key)
    for f in model.inputs:
        values = [r.get(f.id) for r in ds.records]
        present = [v for v in values if v is not None]
        assert len(present) >= ROWS * 0.9, f"{key}.{f.id}: {ROWS - len(present)} missing"
        if f.type in ("int", "number", "percent"):
            lo = f.min if f.min is not None else -math.inf
            hi = f.max if f.max is not None else math.inf
            assert all(lo <= float(v) <= hi for v in present), f.id


@pytest.mark.parametrize("key", MODEL_KEYS)
def test_divisors_are_rarely_zero(key):
    model = model_for(key)
    ds, _ev = generated(key)
    for name in divisors(model):
        zeros = sum(1 for r in ds.records if r.get(name) == 0)
        assert zeros / len(ds) < 0.05, f"{key}.{name}: 0 in {zeros} of {len(ds)} rows"


def test_divisors_found_through_definitions():
    assert divisors(model_for("ladder")) == ["population", "cases"]
    assert divisors(model_for("odd")) == ["loss", "thin"]
    # `members * 100 / households` inside an `if`
    assert divisors(model_for("nested")) == ["households"]


def _veto_share(ev) -> float:
    return sum(1 for r in ev.rows() if r["vetoes"]) / len(ev)


@pytest.mark.parametrize("key", [k for k in MODEL_KEYS if model_for(k).vetoes])
@pytest.mark.parametrize("rate", [0.0, 0.02, 0.15])
def test_veto_share_follows_the_rate(key, rate):
    _ds, ev = generated(key, 1, rate)
    share = _veto_share(ev)
    if rate == 0:
        assert share == 0
        return
    sigma = math.sqrt(rate * (1 - rate) / ROWS)
    assert abs(share - rate) <= 4 * sigma + 0.01, f"{key}: vetoed {share:.3f} at rate {rate}"


def test_cut_points_are_read_from_the_model():
    an = analyze(model_for("ladder"))
    assert an.cuts["rate"] == [0.6, 0.9]  # linear bounds
    assert an.cuts["accidents"] == [4.0]  # the veto's threshold
    assert an.signs["accidents"] == -1 and an.signs["rate"] == 1


def test_values_sit_at_and_around_cut_points():
    ds, _ev = generated("ladder")
    rates = [r["rate"] for r in ds.records if r.get("rate") is not None]
    assert any(math.isclose(v, 0.9) for v in rates) and any(math.isclose(v, 0.6) for v in rates)
    assert any(0.6 < v < 0.9 for v in rates)
    assert any(v < 0.6 for v in rates) and any(v > 0.9 for v in rates)
    handled = [
        r["handled"] / r["cases"]
        for r in ds.records
        if r.get("handled") is not None and r.get("cases")
    ]
    for cut in (0.95, 0.85, 0.7):  # each tier reached exactly, and missed by a little
        assert any(math.isclose(v, cut) or cut <= v < cut + 0.02 for v in handled), cut
        assert any(cut - 0.05 < v < cut for v in handled), cut


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    model = model_for("four_type")
    paths = [tmp_path / f"{i}.csv" for i in range(3)]
    for path, seed in zip(paths, (5, 5, 6), strict=True):
        write_sample(model, path, 200, seed=seed)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()


def test_percent_cells_are_written_with_a_percent_sign(tmp_path):
    model = model_for("ladder")
    path = tmp_path / "s.csv"
    write_sample(model, path, 50, seed=2, missing_rate=0)
    lines = path.read_text(encoding="utf-8").splitlines()
    column = lines[0].split(",").index("满意率")
    cells = [line.split(",")[column] for line in lines[1:]]
    assert cells and all(c.endswith("%") and float(c[:-1]) <= 100 for c in cells)


def test_sample_command_veto_rate(tmp_path):
    out = tmp_path / "s.csv"
    runner = CliRunner()
    result = runner.invoke(
        cli, ["sample", "wuyou_model", "--rows", "300", "--veto-rate", "0", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    model = model_for("wuyou_model")
    ds = load(out, model)
    assert len(ds) == 300
    assert _veto_share(evaluate_dataset(model, ds, REGISTRY)) == 0
    bad = runner.invoke(cli, ["sample", "wuyou_model", "--veto-rate", "1.5", "-o", str(out)])
    assert bad.exit_code == 2 and "--veto-rate" in bad.output


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(model_sources())
def test_generated_models_get_clean_data(source):
    """Any model that checks gets data its reader accepts, within range."""
    import tempfile

    model, _errors = check_source(source)
    assume(model is not None)
    path = Path(tempfile.mkdtemp(prefix="zhili-sample-")) / "s.csv"
    write_sample(model, path, 40, seed=3, veto_rate=0.2)
    ds = load(path, model)
    assert len(ds) == 40
    assert not [p for p in ds.problems if p.severity == "error"], source
    for f in model.inputs:
        if f.type in ("int", "number", "percent"):
            lo = f.min if f.min is not None else -math.inf
            hi = f.max if f.max is not None else math.inf
            values = [r.get(f.id) for r in ds.records if r.get(f.id) is not None]
            assert all(lo <= float(v) <= hi for v in values), (f.id, source)
