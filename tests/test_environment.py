"""The two ways to install (pip via pyproject.toml, conda via environment.yml) pin the same packages."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return dict(_split(requirement) for requirement in project["dependencies"])


def environment_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        match = re.fullmatch(r"\s+- ([A-Za-z0-9_.\-\[\]]+==\S+)", line)
        if match:
            name, version = _split(match.group(1))
            pins[name] = version
    return pins


def _split(requirement: str) -> tuple[str, str]:
    name, _, version = requirement.partition("==")
    assert version, f"{requirement!r} is not pinned with =="
    return name.strip().lower(), version.strip()


def test_every_dependency_is_pinned_exactly_and_lists_agree():
    pip = pyproject_pins()
    conda = environment_pins()
    assert pip, "no dependencies found in pyproject.toml"
    assert pip == conda, (
        f"only in pyproject.toml: {sorted(set(pip.items()) - set(conda.items()))}; "
        f"only in environment.yml: {sorted(set(conda.items()) - set(pip.items()))}"
    )


def test_environment_installs_the_project_itself():
    assert re.search(r"^\s+- -e \.$", (ROOT / "environment.yml").read_text(), re.MULTILINE)


def test_environment_uses_the_python_the_readme_promises():
    assert "python=3.11" in (ROOT / "environment.yml").read_text()


def constraint_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = _split(line)
            pins[name] = version
    return pins


def test_constraints_lock_every_direct_dependency_at_its_pin():
    constraints = constraint_pins()
    mismatched = {name: (version, constraints.get(name)) for name, version in pyproject_pins().items()
                  if constraints.get(name) != version}
    assert not mismatched, f"pyproject pin vs constraints.txt: {mismatched}"
