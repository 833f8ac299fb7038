"""Each API request reads its key once, and still on every request (FastAPI's TestClient
on the app itself: the lookups are counted in the process that serves them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engine.store import Store
from tests.serve.serve_helpers import create_key


def test_a_request_reads_its_key_once_and_a_revocation_holds_on_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import serve.deps as deps

    db_url = f"sqlite:///{tmp_path}/metadata.db"
    monkeypatch.setenv("PIPELINE_BUILDER_REAPER", "0")
    deps.configure(home=tmp_path, db_url=db_url)
    from serve.app import create_app

    admin, reader = create_key(db_url, "admin"), create_key(db_url, "read")
    lookups: list[str] = []
    real = Store.authenticate

    def counted(self: Store, token: str):  # type: ignore[no-untyped-def]
        lookups.append(token)
        return real(self, token)

    monkeypatch.setattr(Store, "authenticate", counted)
    client = TestClient(create_app(), raise_server_exceptions=False)
    auth = {"Authorization": f"Bearer {reader}"}
    for path, status in (
        ("/api/pipelines", 200),
        ("/api/pipelines/p/execution/e", 404),
        ("/api/keys", 403),  # known key, too low a scope
    ):
        lookups.clear()
        r = client.get(path, headers=auth)
        assert r.status_code == status, (path, r.text)
        assert lookups == [reader], (path, lookups)
    # Revoked: the very next request is refused.
    whoami = client.get("/api/whoami", headers=auth).json()
    r = client.delete(f"/api/keys/{whoami['id']}", headers={"Authorization": f"Bearer {admin}"})
    assert r.status_code in (200, 204), r.text
    assert client.get("/api/pipelines", headers=auth).status_code == 401
