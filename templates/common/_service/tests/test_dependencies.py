{{ header }}
"""pyproject.toml and requirements.txt declare the same pinned runtime dependencies."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def requirement_lines() -> list[str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_requirements_txt_is_the_pyproject_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert requirement_lines() == project["dependencies"]
    assert all("==" in pin for pin in project["dependencies"])
    test = project["optional-dependencies"]["test"]
    assert any(pin.startswith("pytest==") for pin in test)
