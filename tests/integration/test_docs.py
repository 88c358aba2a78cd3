"""
Every code block of README.md and docs/*.md is tested, so the documentation cannot drift from the code.

- ``python`` blocks run. A standalone script runs as written, for real, against the emulator
  (``aimlapi_default`` points at it). A DAG fragment (operators that reference names defined
  elsewhere, such as ``submit``) runs inside a ``with DAG(...)`` harness whose namespace provides
  the provider's public names and, where a block uses it without defining it, a ``submit`` task.
  Then every DAG the block built must serialize as the DAG processor would, and every templated
  string must render with Airflow's strict template environment.
- ``bash`` blocks are checked, not run: the emulator flags shown are accepted by its parser, repo
  scripts and test paths exist, ``pip install`` extras are declared, ``AIRFLOW_CONN_*`` values are
  valid JSON of a known connection type, ``AIRFLOW__AIMLAPI__*`` options exist, ``airflow dags
  test`` names an example DAG, and the emulator is never started on the api-server's port 8080.
- ``json`` blocks parse.

A block that must not run carries a visible marker on the line before its fence:
``<!-- not-run: the reason -->``. Its Python must still compile. Keep such blocks rare.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import json
import re
import shlex
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from importlib.metadata import metadata
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from helpers import REPO, airflow_env, conn_json

from airflow_provider_music.emulator import Emulator

DOC_FILES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
NOT_RUN = re.compile(r"<!--\s*not-run:\s*(?P<reason>\S.*?)\s*-->")
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<lang>[\w+-]*)[^\n]*$")
# The docs that must only show templates that also render in runs without a logical date.
LOGICAL_DATE_FREE_DOCS = {"README.md", "docs/index.md"}
# What the README recommends instead of {{ ds }}: it renders with and without a logical date.
DATE_TEMPLATE = "{{ (dag_run.logical_date or dag_run.run_after) | ds }}"
API_SERVER_PORT = 8080


@dataclass
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    not_run: str | None = None  # the reason, when marked

    @property
    def doc(self) -> str:
        return self.path.relative_to(REPO).as_posix()

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}"


def extract_blocks(path: Path) -> list[Block]:
    """The fenced code blocks of one Markdown file, with the not-run marker that precedes each."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        indent, fence, lang = match["indent"], match["fence"], match["lang"].lower()
        previous = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = NOT_RUN.search(previous)
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not (
            lines[j].strip().startswith(fence[0] * len(fence)) and lines[j].strip().strip(fence[0]) == ""
        ):
            body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j].lstrip())
            j += 1
        assert j < len(lines), f"{path.name}:{i + 1}: unclosed code fence"
        blocks.append(Block(path, i + 1, lang, "\n".join(body) + "\n", marker["reason"] if marker else None))
        i = j + 1
    return blocks


ALL_BLOCKS = [b for path in DOC_FILES for b in extract_blocks(path)]
PYTHON_BLOCKS = [b for b in ALL_BLOCKS if b.lang in ("python", "py")]
BASH_BLOCKS = [b for b in ALL_BLOCKS if b.lang in ("bash", "sh", "shell", "console")]
JSON_BLOCKS = [b for b in ALL_BLOCKS if b.lang == "json"]


def test_the_docs_have_code_blocks_and_markers_are_rare() -> None:
    docs = {b.doc for b in ALL_BLOCKS}
    assert {"README.md", "docs/index.md", "docs/hook.md", "docs/operators.md"} <= docs
    assert len(PYTHON_BLOCKS) >= 6
    assert len(BASH_BLOCKS) >= 6
    marked = [b.id for b in ALL_BLOCKS if b.not_run]
    assert len(marked) <= max(2, len(ALL_BLOCKS) // 10), f"too many not-run blocks: {marked}"


def test_block_extraction_and_the_marker(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(
        "text\n\n```python\nx = 1\n```\n\n<!-- not-run: needs a real key -->\n\n"
        "```bash\necho hi\n```\n\n- item\n\n  ```python\n  y = 2\n  ```\n````md\n```\n````\n",
        encoding="utf-8",
    )
    blocks = extract_blocks(doc)
    assert [(b.line, b.lang, b.code, b.not_run) for b in blocks] == [
        (3, "python", "x = 1\n", None),
        (9, "bash", "echo hi\n", "needs a real key"),
        (15, "python", "y = 2\n", None),
        (18, "md", "```\n", None),
    ]


# ----------------------------------------------------------------------------------------- python


def free_names(tree: ast.AST) -> set[str]:
    """Names a block reads but never binds itself (builtins excluded): what the harness must provide."""
    bound: set[str] = set()
    loaded: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return loaded - bound - set(dir(builtins))


def _provider_names() -> dict[str, Any]:
    from airflow.sdk import DAG, Asset, AssetAlias, ObjectStoragePath

    from airflow_provider_music import exceptions
    from airflow_provider_music.hooks.music import MusicGenerationHook
    from airflow_provider_music.operators.music import GenerateMusicOperator, SubmitMusicGenerationOperator
    from airflow_provider_music.sensors.music import MusicGenerationSensor
    from airflow_provider_music.triggers.music import MusicGenerationTrigger

    names: dict[str, Any] = {n: getattr(exceptions, n) for n in dir(exceptions) if n.startswith("Music")}
    names.update(
        DAG=DAG,
        Asset=Asset,
        AssetAlias=AssetAlias,
        ObjectStoragePath=ObjectStoragePath,
        datetime=datetime,
        timedelta=timedelta,
        MusicGenerationHook=MusicGenerationHook,
        SubmitMusicGenerationOperator=SubmitMusicGenerationOperator,
        GenerateMusicOperator=GenerateMusicOperator,
        MusicGenerationSensor=MusicGenerationSensor,
        MusicGenerationTrigger=MusicGenerationTrigger,
    )
    return names


def _harness_objects() -> dict[str, Any]:
    """Objects a fragment may use without defining them; built inside the harness DAG, on demand."""
    from airflow_provider_music.hooks.music import MusicGenerationHook
    from airflow_provider_music.operators.music import SubmitMusicGenerationOperator

    return {
        "submit": lambda: SubmitMusicGenerationOperator(task_id="submit", prompt="Calm lo-fi piano, 70 BPM"),
        "hook": MusicGenerationHook,
    }


def _builds_its_own_dag(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute)
                else ""
            )
            if name in ("DAG", "dag"):
                return True
    return False


def _template_context(with_logical_date: bool) -> dict[str, Any]:
    from airflow.sdk.execution_time import macros

    run_after = datetime(2026, 3, 4, 6, 30, tzinfo=timezone.utc)
    logical_date = datetime(2026, 3, 4, tzinfo=timezone.utc) if with_logical_date else None
    run_id = "manual__2026-03-04T06:30:00+00:00"
    dag_run = SimpleNamespace(
        logical_date=logical_date,
        run_after=run_after,
        run_id=run_id,
        conf={},
        data_interval_start=logical_date,
        data_interval_end=logical_date,
        run_type="manual",
    )
    ti = SimpleNamespace(dag_id="doc", task_id="task", run_id=run_id, map_index=-1, try_number=1)
    context: dict[str, Any] = {
        "dag_run": dag_run,
        "run_id": run_id,
        "macros": macros,
        "params": {},
        "ti": ti,
        "task_instance": ti,
        "var": {"value": {}, "json": {}},
    }
    if logical_date is not None:
        context.update(
            logical_date=logical_date,
            ds=logical_date.strftime("%Y-%m-%d"),
            ds_nodash=logical_date.strftime("%Y%m%d"),
            ts=logical_date.isoformat(),
            ts_nodash=logical_date.strftime("%Y%m%dT%H%M%S"),
            data_interval_start=logical_date,
            data_interval_end=logical_date,
        )
    return context


def _templated_strings(dag: Any) -> list[tuple[str, str, str]]:
    out = []
    for task in dag.tasks:
        for name in task.template_fields:
            value = getattr(task, name, None)
            if isinstance(value, str) and ("{{" in value or "{%" in value):
                out.append((task.task_id, name, value))
    return out


def _check_dag(dag: Any, block: Block) -> None:
    serialized_objects = importlib.import_module("airflow.serialization.serialized_objects")
    # DagSerialization on Airflow 3.2+, SerializedDAG on 3.1.
    serializer = getattr(serialized_objects, "DagSerialization", None) or serialized_objects.SerializedDAG
    serializer.to_dict(dag)  # what the DAG processor stores; fails on what it cannot serialize
    env = dag.get_template_env()
    for with_logical_date in (True, False):
        if not with_logical_date and block.doc not in LOGICAL_DATE_FREE_DOCS:
            continue
        context = _template_context(with_logical_date)
        for task_id, name, value in _templated_strings(dag):
            try:
                env.from_string(value).render(**context)
            except Exception as exc:
                when = "" if with_logical_date else " in a run without a logical date"
                raise AssertionError(
                    f"{block.id}: {task_id}.{name} = {value!r} fails{when}: {exc!r}"
                ) from exc


def run_python_block(block: Block) -> None:
    """Run one Python block (in the harness when it is a fragment), then check every DAG it built."""
    from airflow.sdk import DAG

    tree = ast.parse(block.code, filename=block.id)
    code = compile(tree, block.id, "exec")
    provided = _provider_names()
    factories = _harness_objects()
    free = free_names(tree)
    missing = free - set(provided) - set(factories)
    assert not missing, f"{block.id} uses names it never defines: {sorted(missing)}"

    namespace: dict[str, Any] = {"__name__": "__doc_block__"}
    namespace.update({k: v for k, v in provided.items() if k in free})
    harness = DAG(dag_id=f"doc_{re.sub(r'[^A-Za-z0-9_]', '_', block.id)}", schedule=None)
    entered: list[Any] = []  # DAGs used as context managers, bound to a name or not
    enter = DAG.__enter__

    def recording_enter(self: Any) -> Any:
        entered.append(self)
        return enter(self)

    with mock.patch.object(DAG, "__enter__", recording_enter):
        if _builds_its_own_dag(tree) and not free & set(factories):
            exec(code, namespace)
        else:
            with harness:
                for name in free & set(factories):
                    namespace[name] = factories[name]()
                exec(code, namespace)

    dags = {id(d): d for d in [*entered, *(v for v in namespace.values() if isinstance(v, DAG))]}
    dags.pop(id(harness), None)
    if harness.tasks:
        dags[id(harness)] = harness
    for dag in dags.values():
        _check_dag(dag, block)


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda b: b.id)
def test_python_block(block: Block, emulator: Emulator) -> None:
    compile(block.code, block.id, "exec")
    if block.not_run:
        pytest.skip(f"marked not-run: {block.not_run}")
    run_python_block(block)


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        (
            'MusicGenerationSensor(task_id="s", generation_id=submit.output, destination="/m/")\nnope()',
            "nope",
        ),
        ('SubmitMusicGenerationOperator(task_id="t", prompt="x", music_length_ms=5)', "music_length_ms"),
        ('SubmitMusicGenerationOperator(task_id="t", prompt="for {{ ds_nodsh }}")', "ds_nodsh"),
        ('SubmitMusicGenerationOperator(task_id="t", prompt="for {{ ds }")', "fails"),
        (
            "with DAG(dag_id='own', schedule=None):\n"
            "    SubmitMusicGenerationOperator(task_id='t', prompt='{{ ds }}')",
            "without a logical date",
        ),
    ],
)
def test_the_python_harness_catches_what_it_should(code: str, problem: str, emulator: Emulator) -> None:
    block = Block(REPO / "README.md", 1, "python", code)
    with pytest.raises(Exception, match=problem):
        run_python_block(block)


def test_the_python_harness_runs_fragments_and_scripts(emulator: Emulator) -> None:
    fragment = Block(
        REPO / "docs" / "operators.md",
        1,
        "python",
        'MusicGenerationSensor(task_id="store", generation_id=submit.output, destination="/tmp/m/")\n',
    )
    run_python_block(fragment)
    script = Block(
        REPO / "docs" / "hook.md",
        1,
        "python",
        "from airflow_provider_music.hooks.music import MusicGenerationHook\n"
        "gid = MusicGenerationHook().submit_generation('doc script')\n",
    )
    run_python_block(script)
    assert [g["prompt"] for g in emulator.stats()["generations"].values()] == ["doc script"]


# ------------------------------------------------------------------------------------------- bash


def shell_commands(code: str) -> list[list[str]]:
    """The commands of a bash block as argument lists (continuations and multi-line quotes joined)."""
    commands: list[list[str]] = []
    buffer = ""
    for raw in code.splitlines():
        buffer += raw + "\n"
        if buffer.rstrip("\n").endswith("\\"):
            buffer = buffer.rstrip("\n")[:-1] + " "
            continue
        try:
            words = shlex.split(buffer, comments=True)
        except ValueError:  # an open quote: the command goes on
            continue
        buffer = ""
        for part in _split_on_operators(words):
            if part:
                commands.append(part)
    assert not buffer.strip(), f"unterminated command: {buffer!r}"
    return commands


def _split_on_operators(words: list[str]) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    for word in words:
        if word in ("&&", "||", ";", "|", "&"):
            parts.append([])
        elif word.endswith(("&", ";")) and len(word) > 1 and not word.startswith(("'", '"')):
            parts[-1].append(word.rstrip("&;"))
            parts.append([])
        else:
            parts[-1].append(word)
    return [p for p in parts if p]


def _env_assignments(command: list[str]) -> tuple[dict[str, str], list[str]]:
    """``A=1 B=2 cmd args`` (or ``export A=1``) -> ({A: 1, B: 2}, [cmd, args])."""
    words = command[1:] if command[:1] == ["export"] else command
    env: dict[str, str] = {}
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0], re.DOTALL):
        key, _, value = words[0].partition("=")
        env[key] = value
        words = words[1:]
    return env, words


def _declared_extras() -> set[str]:
    return set(metadata("airflow-provider-music").get_all("Provides-Extra") or [])


def _example_dag_ids() -> set[str]:
    ids = set()
    for path in (REPO / "example_dags").glob("*.py"):
        ids.update(re.findall(r"dag_id=\"([^\"]+)\"", path.read_text(encoding="utf-8")))
    return ids


def _provider_config_options() -> set[str]:
    from airflow_provider_music.get_provider_info import get_provider_info

    sections = get_provider_info().get("config", {})
    return {opt for section in sections.values() for opt in section.get("options", {})}


def check_env(key: str, value: str, where: str) -> list[str]:
    problems: list[str] = []
    if key.startswith("AIRFLOW_CONN_"):
        if "<" in value and ">" in value and not value.lstrip().startswith("{"):
            return problems  # a URI with placeholders
        try:
            conn = json.loads(value)
        except ValueError as exc:
            return [f"{where}: {key} is not valid JSON: {exc}"]
        if conn.get("conn_type") not in ("aimlapi", "aws", "google_cloud_platform", "wasb"):
            problems.append(f"{where}: {key} has an unexpected conn_type {conn.get('conn_type')!r}")
        host = str(conn.get("host") or "")
        if conn.get("conn_type") == "aimlapi" and re.search(rf":{API_SERVER_PORT}\b", host):
            problems.append(f"{where}: {key} points at port {API_SERVER_PORT}, the Airflow api-server's port")
    elif key.startswith("AIRFLOW__AIMLAPI__"):
        option = key.removeprefix("AIRFLOW__AIMLAPI__").lower()
        if option not in _provider_config_options():
            problems.append(f"{where}: [aimlapi] {option} is not an option the provider declares")
    return problems


def check_command(command: list[str], where: str) -> list[str]:
    """What is wrong with one documented shell command (empty when nothing is)."""
    env, words = _env_assignments(command)
    problems = [p for key, value in env.items() for p in check_env(key, value, where)]
    if words:
        problems += _check_program(words[0], words[1:], where)
    return problems


def _check_program(program: str, args: list[str], where: str) -> list[str]:
    if program.endswith(("python", "python3")) and args[:2] == ["-m", "airflow_provider_music.emulator"]:
        return _check_emulator_args(args[2:], where)
    if program.endswith(("python", "python3")) and args[:2] == ["-m", "pytest"]:
        return [
            f"{where}: no test path {arg}"
            for arg in args[2:]
            if not arg.startswith("-") and not (REPO / arg.split("::")[0]).exists()
        ]
    if program == "bash" and args:
        return [] if (REPO / args[0]).is_file() else [f"{where}: no script {args[0]}"]
    if program in ("pip", "uv") or (program.endswith("python") and args[:2] == ["-m", "pip"]):
        return _check_extras(args, where)
    if program == "pytest":
        markers = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "-m"]
        text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
        return [f"{where}: no pytest marker {m!r}" for m in markers if f'"{m}:' not in text]
    if program == "airflow":
        return _check_airflow_args(args, where)
    return []


def _check_emulator_args(emulator_args: list[str], where: str) -> list[str]:
    from airflow_provider_music.emulator.__main__ import build_parser

    try:
        parsed = build_parser().parse_args(emulator_args)
    except SystemExit:
        return [f"{where}: the emulator refuses {' '.join(emulator_args)!r}"]
    if parsed.port == API_SERVER_PORT:
        return [f"{where}: the emulator is started on {API_SERVER_PORT}, the api-server's port"]
    return []


def _check_extras(args: list[str], where: str) -> list[str]:
    problems = []
    for arg in args:
        extras = re.fullmatch(r"airflow-provider-music\[([\w,-]+)\]", arg)
        if extras:
            unknown = set(extras[1].split(",")) - _declared_extras()
            if unknown:
                problems.append(f"{where}: extra(s) {sorted(unknown)} are not declared")
    return problems


def _check_airflow_args(args: list[str], where: str) -> list[str]:
    if args[:2] == ["dags", "test"] and len(args) >= 3:
        return [] if args[2] in _example_dag_ids() else [f"{where}: no example DAG {args[2]!r}"]
    if (
        args[:3] == ["config", "get-value", "aimlapi"]
        and len(args) >= 4
        and args[3] not in _provider_config_options()
    ):
        return [f"{where}: [aimlapi] {args[3]} is not an option the provider declares"]
    return []


@pytest.mark.parametrize("block", BASH_BLOCKS, ids=lambda b: b.id)
def test_bash_block(block: Block) -> None:
    if block.not_run:
        pytest.skip(f"marked not-run: {block.not_run}")
    problems = [p for cmd in shell_commands(block.code) for p in check_command(cmd, block.id)]
    assert problems == []


def test_the_shell_checks_catch_what_they_should() -> None:
    bad = textwrap.dedent(
        """\
        python -m airflow_provider_music.emulator --port 8080 --no-such-flag
        python -m airflow_provider_music.emulator --port 8080 &
        export AIRFLOW_CONN_AIMLAPI_DEFAULT='{"conn_type": "aimlapi", "host": "http://127.0.0.1:8080"}'
        export AIRFLOW_CONN_BROKEN='{"conn_type": '
        AIRFLOW__AIMLAPI__NO_SUCH_OPTION=1 airflow triggerer
        bash scripts/nope.sh
        pip install "airflow-provider-music[gcp]"
        airflow dags test example_music_nope 2026-01-01
        pytest -m nomarker
        """
    )
    commands = shell_commands(bad)
    problems = [p for cmd in commands for p in check_command(cmd, "x")]
    assert len(problems) == 9, problems
    good = textwrap.dedent(
        """\
        python -m airflow_provider_music.emulator --port 8090 --audio-port 8091 \\
            --usage headers --hold &
        export AIRFLOW_CONN_MY_S3='{"conn_type": "aws", "login": "<a>",
          "extra": {"region_name": "eu-west-1"}}'
        bash scripts/test.sh   # a comment
        """
    )
    commands = shell_commands(good)
    assert [c[0] for c in commands] == ["python", "export", "bash"]
    assert [p for cmd in commands for p in check_command(cmd, "x")] == []


def test_json_blocks_parse() -> None:
    for block in JSON_BLOCKS:
        if not block.not_run:
            json.loads(block.code)


# ------------------------------------------------------------------------- templates, for real


def test_readme_recommends_the_date_template_that_always_works() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert DATE_TEMPLATE in readme
    assert "'ds' is undefined" in readme


@pytest.mark.integration
def test_the_date_template_works_in_a_real_run_without_a_logical_date(
    emulator: Emulator, airflow_home: Path, tmp_path: Path
) -> None:
    """``{{ ds }}`` fails a run without a logical date; the README's form renders the run's date."""
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "doc_no_logical_date.py").write_text(
        textwrap.dedent(
            f"""
            from datetime import datetime

            from airflow.sdk import DAG

            from airflow_provider_music.operators.music import SubmitMusicGenerationOperator

            with DAG(dag_id="doc_no_logical_date", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
                SubmitMusicGenerationOperator(task_id="with_ds", prompt="ds form: {{{{ ds }}}}")
                SubmitMusicGenerationOperator(task_id="always", prompt="always form: {DATE_TEMPLATE}")

            if __name__ == "__main__":
                run = dag.test(logical_date=None)
                print("RUN", run.logical_date, run.run_after.strftime("%Y-%m-%d"))
            """
        ),
        encoding="utf-8",
    )
    env = airflow_env(
        {
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW_CONN_AIMLAPI_DEFAULT": conn_json(emulator.base_url, emulator.api_key),
        }
    )
    result = subprocess.run(
        [sys.executable, str(dags / "doc_no_logical_date.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,
    )
    output = result.stdout + result.stderr
    run_line = re.search(r"^RUN None (\d{4}-\d\d-\d\d)$", result.stdout, re.MULTILINE)
    assert run_line, output[-4000:]
    assert "'ds' is undefined" in output
    prompts = sorted(g["prompt"] for g in emulator.stats()["generations"].values())
    assert prompts == [f"always form: {run_line[1]}"]  # the {{ ds }} task never reached the API


def test_the_emulator_defaults_away_from_the_api_servers_port() -> None:
    from airflow_provider_music.emulator.__main__ import build_parser

    assert build_parser().parse_args([]).port != API_SERVER_PORT


# ----------------------------------------------------------------------------------- public paths only

PRIVATE_PATH = re.compile(r"airflow_provider_music(?:\.[a-z]\w*)*\._\w+")


@pytest.mark.parametrize("doc", DOC_FILES, ids=lambda p: p.name)
def test_docs_name_only_public_import_paths(doc: Path) -> None:
    if doc.name == "changelog.md":  # history names what existed then
        return
    found = sorted(set(PRIVATE_PATH.findall(doc.read_text())))
    assert not found, f"{doc.name} names private import paths: {found}"
