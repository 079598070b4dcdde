{{ header }}
"""openapi.yaml describes exactly the routes the app serves."""

from pathlib import Path

import yaml
from fastapi.testclient import TestClient

METHODS = {"get", "put", "post", "patch", "delete"}


def operations(spec: dict) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    }


def test_openapi_file_matches_the_served_routes(client: TestClient) -> None:
    document = Path(__file__).resolve().parent.parent / "openapi.yaml"
    declared = yaml.safe_load(document.read_text())
    served = client.app.openapi()
    assert operations(declared) == operations(served)
