"""The README stays true: its two commands, the CI script that runs one of them, its pictures; the packaging."""

from __future__ import annotations

import re
import sys
import tomllib

from em_core.data import BUILTIN, COURSE_FILES
from tests.helpers import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
LAUNCH = "pip install -r requirements.txt && streamlit run app.py"
TEST = "pip install -r requirements-dev.txt && python -m pytest"


def test_the_two_commands_are_in_the_readme():
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
    assert LAUNCH + "\n" in blocks and TEST + "\n" in blocks


def test_ci_runs_the_readmes_test_command():
    script = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert TEST in script.splitlines()
    assert "EM_DATA_DIR" in script and "../shared/data/course" in script


def test_requirements_the_commands_name_exist():
    assert (REPO / "requirements.txt").is_file() and (REPO / "app.py").is_file()
    assert "-r requirements.txt" in (REPO / "requirements-dev.txt").read_text(encoding="utf-8")


def test_every_picture_the_readme_shows_exists():
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert images
    for image in images:
        assert (REPO / image).is_file(), image


def test_every_data_set_the_readme_names_exists():
    for name in BUILTIN:
        assert f"`{name}`" in README
    for name in COURSE_FILES:
        assert f"`{name}`" in README


def test_every_requirement_has_a_floor_ci_installs():
    # .ci/run turns each ">=" into "==" to install the lowest allowed versions: a bare name would escape the test
    lines = [line.strip() for line in (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()]
    requirements = [line for line in lines if line and not line.startswith("#")]
    assert requirements and all(re.fullmatch(r"[a-z][a-z0-9-]*>=[\d.]+", line) for line in requirements), requirements
    script = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "sed -E 's/>=/==/'" in script and "requirements.txt" in script


def test_the_installed_packages_are_the_projects_packages():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {path.parent.name for path in REPO.glob("*/__init__.py")} - {"tests"}
    assert sorted(pyproject["tool"]["setuptools"]["packages"]) == sorted(packages)
    assert "-e ." in (REPO / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()


def test_test_helpers_load_one_way():
    # tests/ is a package: helpers come from tests.helpers, and pytest loads the conftest once, as tests.conftest
    assert "tests.conftest" in sys.modules and "conftest" not in sys.modules
    top_level = re.compile(r"^from (?:tests\.)?conftest import|^from (?:helpers|solutions|badfiles|apptest_helpers) ")
    offenders = [
        path.name
        for path in sorted((REPO / "tests").glob("*.py"))
        if any(top_level.match(line) for line in path.read_text(encoding="utf-8").splitlines())
    ]
    assert offenders == [], "import test helpers as `from tests.<module> import ...`"
