"""`zhili new`: a ready-to-publish district plugin project.

The project is a Python package that registers its folder of `.gov` files
through the `zhili` entry point, with a model (standalone, or extending an
installed one), synthetic sample data, test cases, a Chinese README, a GitHub
workflow running `zhili check` and `zhili test`, and a pre-commit
configuration. Everything generated is checked before it is written out.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from zhili.dsl import model as ir
from zhili.dsl.i18n import _
from zhili.engine import __version__
from zhili.engine.io.atomic import write_text

NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class ScaffoldError(Exception):
    """A reason the project cannot be created (bad name, folder not empty…)."""


def package_name(name: str) -> str:
    pkg = name.strip().lower().replace("-", "_")
    if not NAME.match(pkg) or keyword.iskeyword(pkg):
        raise ScaffoldError(
            _(
                "{name!r} is not a valid plugin name: use lowercase letters, digits and `_`/`-`, "
                "starting with a letter"
            ).format(name=name)
        )
    return pkg


STANDALONE = """\
# {title}
#
# 由 `zhili new` 生成的起步模型：一个维度、两项指标。按本区的考核办法修改，
# 每改一处就运行 `zhili check` 和 `zhili test`。

model {pkg} "{title}"
version "0.1.0"
issuer "（填写发文单位）"
source "（填写依据的文件）"
total 100

input population: int label "常住人口" unit "人" range 0..200000
input workers: int label "社区工作者人数" unit "人" range 0..500
input mediation_rate: percent label "矛盾纠纷调解成功率" range 0%..100%

let workers_per_10k "每万人社区工作者数" = per_10k(workers, population)

dimension service "服务" points 100 {{
    indicator staff "社区工作者配备" points 60 {{
        linear workers_per_10k from 9 to 18
        source "每万名常住人口18名社区工作者"
    }}
    indicator mediation "矛盾纠纷调解" points 40 {{
        tiers mediation_rate {{
            >= 98% : 40
            >= 90% : 20
        }}
    }}
}}

grades {{
    "优秀" when total >= 85
    "合格" when total >= 60
    "不合格" otherwise
}}
"""

STANDALONE_TESTS = """\
# {pkg} 模型的测试用例：手算预期结果，每条规则至少一个用例。

tests for {pkg}

test "配备充足、调解率高的社区为优秀" {{
    given {{ population = 10000  workers = 18  mediation_rate = 98.5% }}
    expect grade "优秀"
    expect total 100
}}

test "调解率缺失时记为缺失，不算不合格" {{
    given {{ population = 10000  workers = 18  mediation_rate = missing }}
    expect indicator mediation missing points 0
    expect missing 1
}}
"""

EXTENDING = """\
# {title}
#
# 由 `zhili new --extends {base}` 生成：继承 `{base}`（版本 {version}）的全部
# 指标、否决项和等级，用 `override` 改分值或阈值，用 `drop` 删除指标，
# 用 `dimension 维度 {{ … }}` 向已有维度添加指标。改动后每个维度的分值
# 仍须合计正确，`zhili check` 会指出哪里对不上。

model {pkg} "{title}" extends {base} "{version}"
version "0.1.0"
issuer "（填写发文单位）"
source "（填写依据的文件）"

input district_feature: bool label "是否形成本区特色做法"

# 示例：把 `{indicator}` 的 1 分让给本区特色指标
override {indicator} points {reduced}
dimension {dimension} {{
    indicator district_feature_ok "本区特色做法" points 1 {{
        pass when district_feature
        source "（填写依据）"
    }}
}}
"""

README = """\
# {title}

`{pkg}` 是 [zhili 治理](https://pypi.org/project/zhili/) 的区县模型插件。
{extends_line}
## 目录

| 文件 | 内容 |
|---|---|
| `{pkg}/model.gov` | 考核模型（指标、分值、阈值、否决项、等级） |
| `{pkg}/tests.gov` | 模型测试用例（不用写 Python） |
| `{pkg}/sample.csv` | 样例数据：**合成数据**，由 `zhili sample` 生成，不代表任何真实社区 |
| `.github/workflows/zhili.yml` | 每次提交自动运行 `zhili check` 和 `zhili test` |
| `.pre-commit-config.yaml` | 提交前检查模型文件并统一格式 |

## 常用命令

```sh
pip install -e .          # 安装本插件（同时安装 zhili）
zhili check               # 检查本目录下的全部模型文件
zhili test                # 运行本目录下模型的测试用例
zhili models              # 列出已安装的模型，应能看到 {pkg}
zhili eval {pkg}          # 用样例数据评价
zhili fmt {pkg}           # 统一格式
```

不安装也可以把模型目录当作插件使用：`zhili --models {pkg} eval {pkg}`。

## 修改模型

语法见 zhili 的 `docs/language.md`。每次修改后运行 `zhili check` 和
`zhili test`；提交到仓库后，GitHub 会在拉取请求上标出模型文件中的问题。
"""

PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "zhili-{dist}"
version = "0.1.0"
description = "{title}（zhili 模型插件）"
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["zhili>={zhili_version}"]

[project.entry-points.zhili]
{pkg} = "{pkg}"

[tool.setuptools]
packages = ["{pkg}"]

[tool.setuptools.package-data]
"{pkg}" = ["*.gov", "*.csv", "*.md"]
"""

INIT = '''\
"""{title}: a zhili model plugin."""

from pathlib import Path

from zhili.engine.hookspecs import hookimpl


@hookimpl
def zhili_model_sources() -> list[Path]:
    """This package's folder of `.gov` model files."""
    return [Path(__file__).parent]
'''

WORKFLOW = """\
name: zhili

on:
  push:
  pull_request:

jobs:
  models:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pip install -e .
      - name: zhili check
        run: zhili check --format github
      - name: zhili test
        run: zhili test
"""

PRE_COMMIT = """\
# pre-commit (https://pre-commit.com): `pre-commit install`, then every commit
# checks and formats the model files. The hooks run the zhili installed in the
# environment (`pip install -e .`); zhili's own repository publishes the same
# hooks (`zhili-check`, `zhili-fmt`) in its `.pre-commit-hooks.yaml`.
repos:
  - repo: local
    hooks:
      - id: zhili-check
        name: zhili check
        entry: zhili check
        language: system
        files: \\.gov$
      - id: zhili-fmt
        name: zhili fmt
        entry: zhili fmt
        language: system
        files: \\.gov$
"""

GITIGNORE = """\
__pycache__/
*.egg-info/
build/
dist/
.venv/
.zhili/
"""


def create(
    name: str,
    target: Path,
    registry,
    extends: str | None = None,
    rows: int = 20,
) -> list[Path]:
    """Write the project into `target` (created; must be empty). Returns the
    files written. Raises ScaffoldError for a bad name, a non-empty folder or
    an unknown base model."""
    from zhili.dsl.formatter import format_source
    from zhili.engine.sample import write_sample

    pkg = package_name(name)
    if target.exists() and any(target.iterdir()):
        raise ScaffoldError(_("{path} exists and is not empty").format(path=target))
    title = f"{pkg}社区治理评价模型"
    source, extends_line = _model_source(pkg, title, registry, extends)
    source = format_source(source, f"{pkg}/model.gov")[0] or source
    model = _checked(source, pkg, registry, extends)  # before anything is written
    files = {f"{pkg}/model.gov": source} | _project_files(pkg, title, extends_line)
    written = []
    for rel, text in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, text)
        written.append(path)
    sample = target / pkg / "sample.csv"
    write_sample(model, sample, rows, seed=1)
    written.append(sample)
    tests = STANDALONE_TESTS.format(pkg=pkg) if not extends else f"tests for {pkg}\n"
    tests = format_source(tests, f"{pkg}/tests.gov")[0] or tests
    tests += _sample_test(model, sample, registry)
    tests = format_source(tests, f"{pkg}/tests.gov")[0] or tests
    write_text(target / pkg / "tests.gov", tests)
    written.append(target / pkg / "tests.gov")
    return written


def _model_source(pkg: str, title: str, registry, extends: str | None) -> tuple[str, str]:
    """The model's source (standalone, or extending `extends` with one
    indicator's points lowered) and the README's line about the base model."""
    if not extends:
        return STANDALONE.format(title=title, pkg=pkg), ""
    lm = registry.get(extends)
    if lm is None:
        raise ScaffoldError(
            _("unknown base model {ref!r} (installed: {known})").format(
                ref=extends, known=", ".join(sorted(registry.models)) or "-"
            )
        )
    base = lm.model
    # the first indicator worth more than one point, in a dimension
    ind = next(i for i in base.indicators if i.dimension and i.points > 1 and not i.is_bonus)
    if isinstance(ind.scoring, ir.Tiers) and any(
        t.points > ind.points - 1 for t in ind.scoring.tiers
    ):
        # a tier would be worth more than the lowered points: take a form without tiers
        ind = next(
            i
            for i in base.indicators
            if i.dimension
            and i.points > 1
            and isinstance(i.scoring, (ir.PassWhen, ir.Linear, ir.Deduct))
        )
    source = EXTENDING.format(
        title=title,
        pkg=pkg,
        base=extends,
        version=base.version or "",
        indicator=ind.id,
        reduced=_fmt(ind.points - 1),
        dimension=ind.dimension,
    )
    extends_line = "\n本模型继承 `{base}`（{title}，版本 {version}），只写出本区的改动。\n".format(
        base=extends, title=base.title or extends, version=base.version or ""
    )
    return source, extends_line


def _checked(source: str, pkg: str, registry, extends: str | None):
    """The model of `source`, checked (against the registry's base models)."""
    from zhili.dsl.checker import check
    from zhili.dsl.parser import parse

    parsed = parse(source, f"{pkg}/model.gov")
    resolver = registry.resolver if extends else None
    result = check(parsed.tree, source, registry.signatures, resolve=resolver)
    if result.model is None:  # pragma: no cover - the templates are tested
        raise ScaffoldError("; ".join(d.message for d in result.diagnostics))
    return result.model


def _project_files(pkg: str, title: str, extends_line: str) -> dict[str, str]:
    """Every file of the project but the model, the sample and the tests."""
    return {
        f"{pkg}/__init__.py": INIT.format(title=title),
        f"{pkg}/SAMPLE.md": (
            "# sample.csv\n\n本文件中的社区数据为**合成数据**，由 `zhili sample` 生成，"
            "仅用于演示和测试，不代表任何真实社区。\n"
        ),
        "pyproject.toml": PYPROJECT.format(
            dist=pkg.replace("_", "-"), title=title, pkg=pkg, zhili_version=__version__
        ),
        "README.md": README.format(title=title, pkg=pkg, extends_line=extends_line),
        ".github/workflows/zhili.yml": WORKFLOW,
        ".pre-commit-config.yaml": PRE_COMMIT,
        ".gitignore": GITIGNORE,
    }


def _sample_test(model, sample: Path, registry) -> str:
    """A regression case from the sample's first community, computed with the
    generated model."""
    from zhili.engine.eval.interpreter import compile_model
    from zhili.engine.io import data as data_mod

    ds = data_mod.load(sample, model)
    raw = compile_model(model, registry.functions).evaluate(ds.records[0], ds.meta[0])
    return _data_test(ds.meta[0]["community_id"], raw)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _data_test(community: str, ev) -> str:
    return (
        f'\ntest "样例数据（合成）中的 {community}" {{\n'
        "    # 由 `zhili new` 按生成时的模型计算；修改模型后请核对并更新\n"
        f'    data "sample.csv" community "{community}"\n'
        f'    expect grade "{ev.grade}"\n'
        + (
            "    expect total missing\n"  # not scored
            if ev.total is None
            else f"    expect total {round(ev.total, 2)} within 0.01\n"
        )
        + "}\n"
    )
