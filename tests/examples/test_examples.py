"""Every example in ``examples/`` runs, as a user would run it, and does what it says.

- each ``examples/*.py`` runs as a script in a subprocess with this interpreter, in an
  empty working folder, with warnings as errors and with proxies pointing nowhere (an
  accidental real HTTP request fails instead of leaving the machine);
- ``examples/fakes_in_pytest`` is another project's test suite: it runs with
  ``python -m pytest`` in its own process, so its ``conftest.py`` never meets ours;
- each ``examples/*.ipynb`` is executed without Jupyter: its code cells run in order
  in one namespace in a subprocess.

New examples are picked up by themselves; add the lines they must print to
``EXPECTED`` below.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
PYTEST_PROJECT = EXAMPLES / "fakes_in_pytest"
QUICKSTART_PAGE = ROOT / "docs" / "quickstart.md"

# A guard against an example that hangs, not a timing assertion: each one takes seconds.
TIMEOUT = 180

#: Text each example must print (every example must also exit 0 and print something).
EXPECTED: dict[str, tuple[str, ...]] = {
    "quickstart.py": (
        "virtuagym-8633-invoices: succeeded",
        "  booked          1",
        "1 invoice already booked: nothing is booked twice",
    ),
    "celery_app.py": (
        "  exactbridge.sync:1001:virtuagym:every: 2:00:00",
        "  exactbridge.sync:1003:virtuagym:nightly: <crontab: 30 2 * * *",
        "  division 1001: succeeded, booked 2",
        "  division 1002: succeeded, booked 3",
        "  division 1003: succeeded, booked 4",
        # a burst of webhooks: the new invoice is booked once, by one run
        "  booked 1 in 1 run(s)",
        "  division 1002: 4 sales entries, 179.80 EUR",
    ),
    "virtuagym_to_exact.py": (
        "== first run: every invoice is new",
        "  booked          5",
        "== second run: one corrected, one cancelled",
        "  updated         1",
        "  reversed        1",
        "== third run: nothing changed",
        "  unchanged       5",
        "  Exact calls 0",
        "sales entries posted to the fake administration: 6",
    ),
    "eduframe_to_exact.py": (
        "== first run: three opened invoices, the concept waits",
        "  booked          3",
        "  accounts created 2, updated 0",
        # the course edition's cost unit wins over its template's, field by field
        "Cursus Projectmanagement     990.00  GL 8040  VAT 0  cost center 300 cost unit AMS",
        "Cursus Boekhouden            895.00  GL 8040  VAT 0  cost center 300 cost unit UTR",
        # the discount line: the general ledger code, no cost center or cost unit
        "Korting VROEGBOEK            -50.00  GL 8000  VAT 0\n",
        "customer 1 Acme Opleidingen B.V., VAT number NL123456789B01",
        "PDF attached: invoice-2025000001.pdf",
        "PDF attached: invoice-2025000003.pdf",
        "== second run: nothing new in Eduframe",
        "  unchanged       3",
        "  Exact calls 0",
        "PDF documents created in the fake administration: 3",
    ),
    "coachview_to_exact.py": (
        "  booked          4",
        "  accounts created 2, updated 0",
        # option 1 CompanyPersonalExternID: the relation Exact already had
        "entry 202500041 (Sales entry) customer 2 Bouwbedrijf Jansen B.V.: 1597.80 EUR, "
        "period 2025-03",
        # option 2 Debit numberExternal; booked in the period of the order start date
        "customer 5500 VeiligWerk Installaties B.V.: 1754.50 EUR, period 2025-04",
        # option 3 Debit number, with the prefix
        "customer 900003 Sanne Visser: 255.89 EUR, period 2025-04",
        "entry 202500044 (Sales credit note) customer 2 Bouwbedrijf Jansen B.V.: -356.95 EUR",
        "BHV incompany training              1450.00  GL 8030  VAT 2  cost center 200",
        "== second run: nothing changed in Coachview",
        "  Exact calls 0",
    ),
    "clubassistent_files_to_exact.py": (
        "wrote facturen-2026.csv and incasso-2026-02.xml",
        "== invoices: the export becomes sales entries",
        "  booked          6",
        "  accounts created 6, updated 0",
        "entry 2026000025 YourRef F2026000025 (Sales credit note)",
        "== mandates: the collection file becomes Exact mandates",
        "  booked          4",
        "mandate MACHT-02364 on customer 02364 Chantal Jansen, IBAN NL53INGB0000002364, "
        "first collection to come",
        "mandate MACHT-03518 on customer 03518 Bram Bakker, IBAN NL32INGB0000003518, recurring",
        "== mandates again: every mandate is in Exact",
        "  unchanged       4",
        "  Exact calls 0",
    ),
    "pay_payouts_to_exact.py": (
        "== invoices: the club's January invoices are booked",
        "  booked          6",
        "Pay. settlement S001-0007: 3 invoices paid, 1 unknown payment, 1.16 costs, "
        "219.84 paid out",
        "payout S001-0007: 219.84 EUR, 3 payment(s) matched, 1 unmatched",
        "payment   GL 1300     99.50",
        "unmatched GL 2050     12.50",
        "fee       GL 4510     -1.16",
        "transfer  GL 1110   -219.84",
        "matched and paid: 1001, 1003, 1005",
        "still open: 1002, 1004, 1006",
        "== payouts again: the settlement is already booked",
        "  unchanged       1",
    ),
    "eduframe_webhook_wsgi.py": (
        "HTTP 200",
        '"status": "succeeded"',
        '"booked": 1',
        "booked entry 2025000001 in journal 70: Ann de Vries, 423.50 EUR",
        "forged notification refused: HTTP 403",
        "the same notification again: HTTP 200, {'unchanged': 1}",
        "while another run holds the run lock: HTTP 503",
        "sales entries posted to the fake administration: 1",
    ),
}

# Runs a notebook's code cells in order in one namespace, then reports what the
# one-off export listed and booked (when it defines ``listed`` and ``report``).
NOTEBOOK_RUNNER = """
import json, sys
path = sys.argv[1]
with open(path, encoding="utf-8") as handle:
    notebook = json.load(handle)
namespace = {"__name__": "__main__"}
for number, cell in enumerate(notebook["cells"]):
    if cell["cell_type"] != "code":
        continue
    source = cell["source"]
    text = source if isinstance(source, str) else "".join(source)
    exec(compile(text, f"{path} (cell {number})", "exec"), namespace)
summary = {}
if "listed" in namespace:
    summary["listed"] = sorted(str(item) for item in namespace["listed"])
if "report" in namespace:
    report = namespace["report"]
    summary["booked"] = sorted(result.record_id for result in report.booked)
    summary["status"] = report.status.value
print("NOTEBOOK-RESULT " + json.dumps(summary))
"""


def run(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``args`` in ``cwd`` with a clean, offline environment; never raises on failure."""
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # leave no __pycache__ in examples/
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONIOENCODING"] = "utf-8"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        env[name] = "http://127.0.0.1:9"  # nothing listens on the discard port
    env["NO_PROXY"] = env["no_proxy"] = "localhost,127.0.0.1,::1"
    env.pop("EXACTBRIDGE_CONFIG", None)
    return subprocess.run(
        list(args),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        check=False,
    )


def explain(result: subprocess.CompletedProcess[str]) -> str:
    """The output of a finished process, for assertion messages."""
    return (
        f"exit code {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )


def test_the_examples_are_found() -> None:
    names = {path.name for path in SCRIPTS}
    assert {"quickstart.py", "virtuagym_to_exact.py"} <= names
    assert set(EXPECTED) <= names, "EXPECTED names an example that does not exist"
    assert EXAMPLES / "one_off_export.ipynb" in NOTEBOOKS


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_example_script_runs(script: Path, tmp_path: Path) -> None:
    result = run([sys.executable, "-W", "error", str(script)], cwd=tmp_path)

    assert result.returncode == 0, explain(result)
    assert result.stdout.strip(), explain(result)
    assert "Traceback" not in result.stderr, explain(result)
    assert "Exception ignored" not in result.stderr, explain(result)
    for text in EXPECTED.get(script.name, ()):
        assert text in result.stdout, f"missing {text!r}\n{explain(result)}"


def test_fakes_in_pytest_example_passes_in_its_own_pytest(tmp_path: Path) -> None:
    result = run([sys.executable, "-m", "pytest", "-q", str(PYTEST_PROJECT)], cwd=tmp_path)

    assert result.returncode == 0, explain(result)
    passed = re.search(r"\b(\d+) passed\b", result.stdout)
    assert passed is not None, explain(result)
    assert int(passed.group(1)) >= 4, explain(result)
    assert not re.search(r"\b\d+ (failed|errors?|skipped)\b", result.stdout), explain(result)


def test_main_suite_does_not_collect_the_examples() -> None:
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    testpaths = settings["tool"]["pytest"]["ini_options"]["testpaths"]
    assert all(not str(path).startswith("examples") for path in testpaths)
    # The example project is its own pytest root: run from anywhere, it uses its own
    # configuration and conftest.py, never this repository's.
    assert (PYTEST_PROJECT / "pytest.ini").is_file()
    assert not (EXAMPLES / "conftest.py").exists()


def _code_cells(notebook: dict[str, object]) -> list[str]:
    cells = notebook["cells"]
    assert isinstance(cells, list)
    texts = []
    for cell in cells:
        if cell["cell_type"] == "code":
            source = cell["source"]
            texts.append(source if isinstance(source, str) else "".join(source))
    return texts


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_is_valid_nbformat_4_without_outputs(path: Path) -> None:
    notebook = json.loads(path.read_text("utf-8"))

    assert notebook["nbformat"] == 4
    assert isinstance(notebook["nbformat_minor"], int)
    assert isinstance(notebook["metadata"], dict)
    assert notebook["cells"], "an empty notebook"
    ids = []
    for cell in notebook["cells"]:
        assert cell["cell_type"] in ("code", "markdown", "raw")
        assert isinstance(cell["metadata"], dict)
        assert isinstance(cell["source"], (str, list))
        if notebook["nbformat_minor"] >= 5:
            ids.append(cell["id"])
            assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", cell["id"])
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], "store the notebook without outputs"
            assert cell["execution_count"] is None
        else:
            assert "outputs" not in cell
    assert len(ids) == len(set(ids)), "cell ids must be unique"
    for text in _code_cells(notebook):
        ast.parse(text)  # plain Python: no IPython magics or shell escapes
        uses_pandas = re.search(r"\b(import|from)\s+pandas\b|\bpandas\.", text)
        assert uses_pandas is None, "pandas is not a dependency: mention it in markdown only"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_executes(path: Path, tmp_path: Path) -> None:
    result = run([sys.executable, "-W", "error", "-c", NOTEBOOK_RUNNER, str(path)], cwd=tmp_path)

    assert result.returncode == 0, explain(result)
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("NOTEBOOK-RESULT "), explain(result)
    summary = json.loads(last.removeprefix("NOTEBOOK-RESULT "))
    if path.name == "one_off_export.ipynb":
        assert summary["status"] == "succeeded"
        assert summary["listed"], "the preview listed nothing to book"
        assert summary["booked"] == summary["listed"], "booked something else than listed"
        assert "invoice  date" in result.stdout  # the preview table was printed


def _body(script: Path) -> str:
    """A script's text after its module docstring, without the blank lines around it."""
    text = script.read_text("utf-8")
    tree = ast.parse(text)
    first = tree.body[0] if tree.body else None
    start = 0
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        assert first.end_lineno is not None
        start = first.end_lineno
    return "\n".join(text.splitlines()[start:]).strip("\n") + "\n"


def test_quickstart_page_shows_the_quickstart_example_verbatim() -> None:
    page = QUICKSTART_PAGE.read_text("utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```$", page, flags=re.MULTILINE | re.DOTALL)

    assert _body(EXAMPLES / "quickstart.py") in blocks
