"""Node templates (configured nodes saved for reuse) in the metadata store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.store import schema as s
from engine.store.base import StoreBase
from engine.store.errors import ConflictError, NotFoundError
from engine.store.records import NodeTemplateRecord, now_iso


class NodeTemplateStore(StoreBase):
    """Saved node templates: id, name, description, node type, category and config."""

    def create_node_template(
        self,
        template_id: str,
        *,
        name: str,
        description: str,
        node_type: str,
        category: str,
        config: dict[str, Any],
        created_by: str | None = None,
    ) -> NodeTemplateRecord:
        """Store a new template.

        Raises:
            ConflictError: a template with this id exists.
        """
        now = now_iso()
        try:
            with self._write() as conn:
                conn.execute(
                    insert(s.node_templates).values(
                        id=template_id,
                        name=name,
                        description=description,
                        node_type=node_type,
                        category=category,
                        config=config,
                        created_by=created_by,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            raise ConflictError(f"node template '{template_id}' already exists") from None
        return self.get_node_template(template_id)

    def replace_node_template(
        self,
        template_id: str,
        *,
        name: str,
        description: str,
        node_type: str,
        category: str,
        config: dict[str, Any],
    ) -> NodeTemplateRecord:
        """Replace a saved template's fields (its creator and creation time stay).

        Raises:
            NotFoundError: no template has this id.
        """
        t = s.node_templates
        with self._write() as conn:
            done = conn.execute(
                update(t)
                .where(t.c.id == template_id)
                .values(
                    name=name,
                    description=description,
                    node_type=node_type,
                    category=category,
                    config=config,
                    updated_at=now_iso(),
                )
            )
        if done.rowcount == 0:
            raise NotFoundError(f"node template '{template_id}' not found")
        return self.get_node_template(template_id)

    def get_node_template(self, template_id: str) -> NodeTemplateRecord:
        """The saved template ``template_id``.

        Raises:
            NotFoundError: no template has this id.
        """
        t = s.node_templates
        with self._read() as conn:
            row = conn.execute(select(t).where(t.c.id == template_id)).first()
        if row is None:
            raise NotFoundError(f"node template '{template_id}' not found")
        return _node_template(row)

    def list_node_templates(self, *, limit: int = 1000) -> list[NodeTemplateRecord]:
        """Saved templates ordered by name (at most ``limit``)."""
        t = s.node_templates
        with self._read() as conn:
            rows = conn.execute(select(t).order_by(t.c.name, t.c.id).limit(limit)).all()
        return [_node_template(r) for r in rows]

    def delete_node_template(self, template_id: str) -> None:
        """Delete a saved template.

        Raises:
            NotFoundError: no template has this id.
        """
        t = s.node_templates
        with self._write() as conn:
            done = conn.execute(t.delete().where(t.c.id == template_id))
        if done.rowcount == 0:
            raise NotFoundError(f"node template '{template_id}' not found")


def _node_template(row: Any) -> NodeTemplateRecord:
    return NodeTemplateRecord(
        id=row.id,
        name=row.name,
        description=row.description or "",
        node_type=row.node_type,
        category=row.category,
        config=row.config,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
