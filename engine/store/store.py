"""The metadata store: one narrow interface over SQLAlchemy (SQLite file or PostgreSQL).

Everything the API and the execution actors persist goes through :class:`Store`:
pipelines with immutable versions, catalog resources, executions with their progress,
lineage events, node templates and hashed API keys. Methods take and return plain
values and records.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.store import schema as s
from engine.store.errors import ConflictError, NotFoundError, StoreError
from engine.store.executions_store import ExecutionStore
from engine.store.records import (
    ApiKey,
    PipelineRecord,
    ResourceRecord,
    now_iso,
    scopes_for,
)
from engine.store.templates_store import NodeTemplateStore

_MIGRATED: set[str] = set()
KEY_PREFIX = "pbk_"


def hash_key(token: str) -> str:
    """SHA-256 of an API key: keys are 256-bit random, so a fast hash is enough."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Store(ExecutionStore, NodeTemplateStore):
    """Persistent metadata of Pipeline Builder.

    Args:
        engine: A SQLAlchemy engine (see :func:`engine.store.get_engine`); the schema is
            migrated to the latest version on first use of each database.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        key = str(engine.url)
        if key not in _MIGRATED:
            migrate(engine)
            _MIGRATED.add(key)

    # -- pipelines ------------------------------------------------------------------
    def create_pipeline(
        self, spec: dict[str, Any], *, created_by: str | None = None
    ) -> PipelineRecord:
        """Store version 1 of a new pipeline (or the next version of a deleted one).

        Raises:
            ConflictError: a pipeline with this id exists.
        """
        pid, now = spec["id"], now_iso()
        try:
            with self._write() as conn:
                row = conn.execute(select(s.pipelines).where(s.pipelines.c.id == pid)).first()
                if row is not None and row.deleted_at is None:
                    raise ConflictError(f"pipeline '{pid}' already exists; PUT a new version")
                version = (row.latest_version + 1) if row is not None else 1
                if row is None:
                    conn.execute(
                        insert(s.pipelines).values(
                            id=pid,
                            name=spec.get("name"),
                            latest_version=1,
                            created_at=now,
                            updated_at=now,
                        )
                    )
                else:
                    conn.execute(
                        update(s.pipelines)
                        .where(s.pipelines.c.id == pid)
                        .values(
                            name=spec.get("name"),
                            latest_version=version,
                            updated_at=now,
                            deleted_at=None,
                        )
                    )
                _insert_version(conn, pid, version, spec, now, created_by)
        except IntegrityError:
            raise ConflictError(f"pipeline '{pid}' already exists; PUT a new version") from None
        return self.get_pipeline(pid)

    def add_pipeline_version(
        self, spec: dict[str, Any], *, created_by: str | None = None
    ) -> PipelineRecord:
        """Store ``spec`` as the next version of an existing pipeline (old ones stay)."""
        pid, now = spec["id"], now_iso()
        try:
            with self._write() as conn:
                row = conn.execute(select(s.pipelines).where(s.pipelines.c.id == pid)).first()
                if row is None or row.deleted_at is not None:
                    raise NotFoundError(f"pipeline '{pid}' not found")
                version = row.latest_version + 1
                conn.execute(
                    update(s.pipelines)
                    .where(
                        s.pipelines.c.id == pid, s.pipelines.c.latest_version == row.latest_version
                    )
                    .values(name=spec.get("name"), latest_version=version, updated_at=now)
                )
                _insert_version(conn, pid, version, spec, now, created_by)
        except IntegrityError:
            raise ConflictError(
                f"pipeline '{pid}' was updated concurrently; retry the update"
            ) from None
        return self.get_pipeline(pid)

    def get_pipeline(self, pipeline_id: str, version: int | None = None) -> PipelineRecord:
        """The latest (or the given) version of a pipeline."""
        with self._read() as conn:
            row = conn.execute(select(s.pipelines).where(s.pipelines.c.id == pipeline_id)).first()
            if row is None or row.deleted_at is not None:
                raise NotFoundError(f"pipeline '{pipeline_id}' not found")
            v = version if version is not None else row.latest_version
            vrow = conn.execute(
                select(s.pipeline_versions).where(
                    s.pipeline_versions.c.pipeline_id == pipeline_id,
                    s.pipeline_versions.c.version == v,
                )
            ).first()
        if vrow is None:
            raise NotFoundError(
                f"pipeline '{pipeline_id}' has no version {v}; latest is {row.latest_version}"
            )
        return PipelineRecord(
            id=row.id,
            name=row.name,
            version=vrow.version,
            latest_version=row.latest_version,
            spec=vrow.spec,
            created_at=row.created_at,
            updated_at=row.updated_at,
            version_created_at=vrow.created_at,
        )

    def list_pipelines(
        self, *, offset: int = 0, limit: int = 50
    ) -> tuple[list[PipelineRecord], int]:
        """A page of live pipelines (latest versions), ordered by id, and the total."""
        live = s.pipelines.c.deleted_at.is_(None)
        with self._read() as conn:
            total = conn.execute(
                select(func.count()).select_from(s.pipelines).where(live)
            ).scalar_one()
            rows = conn.execute(
                select(
                    s.pipelines,
                    s.pipeline_versions.c.spec,
                    s.pipeline_versions.c.created_at.label("vcreated"),
                )
                .join(
                    s.pipeline_versions,
                    (s.pipeline_versions.c.pipeline_id == s.pipelines.c.id)
                    & (s.pipeline_versions.c.version == s.pipelines.c.latest_version),
                )
                .where(live)
                .order_by(s.pipelines.c.id)
                .offset(offset)
                .limit(limit)
            ).all()
        items = [
            PipelineRecord(
                id=r.id,
                name=r.name,
                version=r.latest_version,
                latest_version=r.latest_version,
                spec=r.spec,
                created_at=r.created_at,
                updated_at=r.updated_at,
                version_created_at=r.vcreated,
            )
            for r in rows
        ]
        return items, int(total)

    def list_pipeline_versions(self, pipeline_id: str) -> list[dict[str, Any]]:
        self.get_pipeline(pipeline_id)
        with self._read() as conn:
            rows = conn.execute(
                select(
                    s.pipeline_versions.c.version,
                    s.pipeline_versions.c.created_at,
                    s.pipeline_versions.c.created_by,
                )
                .where(s.pipeline_versions.c.pipeline_id == pipeline_id)
                .order_by(s.pipeline_versions.c.version)
            ).all()
        return [
            {"version": r.version, "createdAt": r.created_at, "createdBy": r.created_by}
            for r in rows
        ]

    def delete_pipeline(self, pipeline_id: str) -> None:
        """Hide a pipeline; its versions stay so past executions keep their pinned spec."""
        with self._write() as conn:
            res = conn.execute(
                update(s.pipelines)
                .where(s.pipelines.c.id == pipeline_id, s.pipelines.c.deleted_at.is_(None))
                .values(deleted_at=now_iso())
            )
        if res.rowcount == 0:
            raise NotFoundError(f"pipeline '{pipeline_id}' not found")

    # -- resources ------------------------------------------------------------------
    def create_resource(self, kind: str, body: dict[str, Any]) -> ResourceRecord:
        now = now_iso()
        try:
            with self._write() as conn:
                conn.execute(
                    insert(s.resources).values(
                        kind=kind,
                        id=body["id"],
                        body=body,
                        version=1,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            raise ConflictError(
                f"{kind} '{body['id']}' already exists; PUT to replace it"
            ) from None
        return self.get_resource(kind, body["id"])

    def replace_resource(self, kind: str, body: dict[str, Any]) -> ResourceRecord:
        with self._write() as conn:
            res = conn.execute(
                update(s.resources)
                .where(s.resources.c.kind == kind, s.resources.c.id == body["id"])
                .values(body=body, version=s.resources.c.version + 1, updated_at=now_iso())
            )
        if res.rowcount == 0:
            raise NotFoundError(f"{kind} '{body['id']}' not found")
        return self.get_resource(kind, body["id"])

    def get_resource(self, kind: str, resource_id: str) -> ResourceRecord:
        with self._read() as conn:
            row = conn.execute(
                select(s.resources).where(
                    s.resources.c.kind == kind, s.resources.c.id == resource_id
                )
            ).first()
        if row is None:
            raise NotFoundError(f"{kind} '{resource_id}' not found")
        return _resource(row)

    def resource_ids(self, kind: str) -> list[str]:
        with self._read() as conn:
            rows = conn.execute(select(s.resources.c.id).where(s.resources.c.kind == kind)).all()
        return sorted(r.id for r in rows)

    def list_resources(
        self, kind: str, *, offset: int = 0, limit: int = 50
    ) -> tuple[list[ResourceRecord], int]:
        where = s.resources.c.kind == kind
        with self._read() as conn:
            total = conn.execute(
                select(func.count()).select_from(s.resources).where(where)
            ).scalar_one()
            rows = conn.execute(
                select(s.resources)
                .where(where)
                .order_by(s.resources.c.id)
                .offset(offset)
                .limit(limit)
            ).all()
        return [_resource(r) for r in rows], int(total)

    def delete_resource(self, kind: str, resource_id: str) -> None:
        with self._write() as conn:
            res = conn.execute(
                s.resources.delete().where(
                    s.resources.c.kind == kind, s.resources.c.id == resource_id
                )
            )
        if res.rowcount == 0:
            raise NotFoundError(f"{kind} '{resource_id}' not found")

    # -- api keys -------------------------------------------------------------------
    def create_api_key(
        self, scope: str, *, name: str | None = None, created_by: str | None = None
    ) -> tuple[ApiKey, str]:
        """Make a new key; returns the record and the key itself (shown only once).

        ``created_by`` is the id of the key that minted it (None from the CLI): revoking
        that key revokes this one too.
        """
        scopes_for(scope)
        token = KEY_PREFIX + secrets.token_urlsafe(32)
        key_id = "key_" + secrets.token_hex(6)
        now = now_iso()
        with self._write() as conn:
            if created_by is not None:
                parent = conn.execute(
                    select(s.api_keys.c.revoked_at).where(s.api_keys.c.id == created_by)
                ).first()
                if parent is None or parent.revoked_at is not None:
                    raise ConflictError(f"api key '{created_by}' is revoked; it cannot mint keys")
            conn.execute(
                insert(s.api_keys).values(
                    id=key_id,
                    name=name,
                    key_hash=hash_key(token),
                    scope=scope,
                    created_at=now,
                    created_by=created_by,
                )
            )
        return (
            ApiKey(id=key_id, name=name, scope=scope, created_at=now, created_by=created_by),
            token,
        )

    def authenticate(self, token: str) -> ApiKey | None:
        """The live key whose hash matches ``token``, or None (read on every call, so a
        revocation holds on the next request on every replica)."""
        if not token.startswith(KEY_PREFIX):
            return None
        with self._read() as conn:
            row = conn.execute(
                select(s.api_keys).where(s.api_keys.c.key_hash == hash_key(token))
            ).first()
            if row is None or row.revoked_at is not None:
                return None
            # A key minted by a revoked key is revoked with it, even if it was minted in
            # the moment the revocation ran: walk the chain of minting keys.
            parent, depth = row.created_by, 0
            while parent is not None and depth < 100:
                up = conn.execute(
                    select(s.api_keys.c.created_by, s.api_keys.c.revoked_at).where(
                        s.api_keys.c.id == parent
                    )
                ).first()
                if up is None or up.revoked_at is not None:
                    return None
                parent, depth = up.created_by, depth + 1
        return _api_key(row)

    def list_api_keys(self) -> list[ApiKey]:
        with self._read() as conn:
            rows = conn.execute(select(s.api_keys).order_by(s.api_keys.c.created_at)).all()
        return [_api_key(r) for r in rows]

    def revoke_api_key(self, key_id: str) -> list[str]:
        """Revoke ``key_id`` and every live key it minted (transitively); the ids revoked.

        Raises:
            NotFoundError: no live key has that id.
            ConflictError: the revocation would leave no live admin key (``last-admin``).
        """
        with self._write() as conn:
            rows = conn.execute(
                select(
                    s.api_keys.c.id,
                    s.api_keys.c.scope,
                    s.api_keys.c.created_by,
                    s.api_keys.c.revoked_at,
                )
            ).all()
            live = {r.id: r for r in rows if r.revoked_at is None}
            if key_id not in live:
                raise NotFoundError(f"api key '{key_id}' not found or already revoked")
            doomed = {key_id}
            grew = True
            while grew:
                grew = False
                for r in live.values():
                    if r.id not in doomed and r.created_by in doomed:
                        doomed.add(r.id)
                        grew = True
            admins_left = [r.id for r in live.values() if r.scope == "admin" and r.id not in doomed]
            if not admins_left and any(live[k].scope == "admin" for k in doomed):
                raise ConflictError(
                    f"last-admin: revoking '{key_id}' would leave no live admin key "
                    f"(it and the keys it minted: {', '.join(sorted(doomed))}); create "
                    "another admin key first"
                )
            conn.execute(
                update(s.api_keys)
                .where(s.api_keys.c.id.in_(sorted(doomed)), s.api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now_iso())
            )
        return sorted(doomed)

    # -- access records (data governance) -----------------------------------------------
    def add_access_records(self, records: list[dict[str, Any]]) -> None:
        """Append access records (see :data:`engine.store.schema.access_records`)."""
        if not records:
            return
        now = now_iso()
        with self._write() as conn:
            conn.execute(insert(s.access_records), [{"at": now, **r} for r in records])

    def list_access(
        self,
        *,
        data_source_id: str | None = None,
        execution_id: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[dict[str, Any]], int]:
        """Access records, newest first, and their total count."""
        t = s.access_records
        q = select(t)
        c = select(func.count()).select_from(t)
        if data_source_id is not None:
            q, c = (
                q.where(t.c.data_source_id == data_source_id),
                c.where(t.c.data_source_id == data_source_id),
            )
        if execution_id is not None:
            q, c = (
                q.where(t.c.execution_id == execution_id),
                c.where(t.c.execution_id == execution_id),
            )
        with self._read() as conn:
            total = int(conn.execute(c).scalar_one())
            rows = conn.execute(q.order_by(t.c.seq.desc()).offset(offset).limit(limit)).all()
        return [dict(r._mapping) for r in rows], total

    # -- health ---------------------------------------------------------------------
    def schema_version(self) -> int:
        with self._read() as conn:
            return s.current_version(conn)


def migrate(engine: Engine, *, target: int | None = None) -> int:
    """Apply every migration newer than the database (up to ``target``); return the version.

    Each migration runs in its own transaction together with its ``schema_version`` row,
    so a crash leaves the database at the last complete version. Two processes migrating
    at once are safe: the loser's insert of the version row fails and it re-reads.
    """
    target = s.LATEST_VERSION if target is None else target
    with engine.connect().execution_options(pb_read=True) as conn:
        found = s.current_version(conn)
    if target <= found <= s.LATEST_VERSION:
        return found  # already there: no write transaction
    with engine.begin() as conn:
        s.schema_version.create(conn, checkfirst=True)
    for m in s.MIGRATIONS:
        if m.version > target:
            break
        try:
            with engine.begin() as conn:
                if s.current_version(conn) >= m.version:
                    continue
                m.apply(conn)
                conn.execute(
                    insert(s.schema_version).values(
                        version=m.version, description=m.description, applied_at=now_iso()
                    )
                )
        except IntegrityError:
            continue  # another process applied it first
    with engine.connect() as conn:
        version = s.current_version(conn)
    if version > s.LATEST_VERSION:
        raise StoreError(
            f"database schema version {version} is newer than this release supports "
            f"({s.LATEST_VERSION}); upgrade pipeline-builder"
        )
    return version


def _resource(row: Any) -> ResourceRecord:
    return ResourceRecord(
        kind=row.kind,
        id=row.id,
        body=row.body,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _api_key(row: Any) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        scope=row.scope,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        last_used_at=getattr(row, "last_used_at", None),
        created_by=getattr(row, "created_by", None),
    )


def _insert_version(
    conn: Any, pid: str, version: int, spec: dict[str, Any], now: str, created_by: str | None
) -> None:
    """One immutable pipeline version row (shared by create and new-version)."""
    conn.execute(
        insert(s.pipeline_versions).values(
            pipeline_id=pid, version=version, spec=spec, created_at=now, created_by=created_by
        )
    )
