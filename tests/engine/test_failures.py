"""Failure analysis reads structured fields first; text only for foreign errors."""

from __future__ import annotations

import pickle

from engine.errors import NodeConfigError, NodeError, PipelineBuilderError
from engine.run.failures import error_node, failing_node, is_transient


class WrappedTaskError(Exception):
    """Stands for Ray's RayTaskError: the original exception in ``cause``."""

    def __init__(self, cause: BaseException | None, text: str = "") -> None:
        super().__init__(text or str(cause))
        self.cause = cause


def test_declared_transient_decides_over_the_words_of_the_message() -> None:
    assert is_transient(NodeError("src", "backend refused", transient=True), ["transient"])
    timed_out = NodeError("src", "timed out with HTTP 503", transient=False)
    assert not is_transient(timed_out, ["transient"])
    assert is_transient(timed_out, ["any"])


def test_declared_transient_survives_pickling_and_task_wrapping() -> None:
    err = pickle.loads(pickle.dumps(NodeError("src", "backend refused", transient=True)))
    wrapped = WrappedTaskError(err)
    assert is_transient(wrapped, ["transient"])
    assert error_node(wrapped) == "src"
    assert failing_node(wrapped, "something else") == "src"


def test_node_error_without_a_stated_transient_falls_back_to_its_cause() -> None:
    try:
        try:
            raise ConnectionError("reset by peer")
        except ConnectionError as exc:
            raise NodeError("src", "read failed", cause_type="ConnectionError") from exc
    except NodeError as err:
        assert is_transient(err, ["transient"])
        assert is_transient(err, ["ConnectionError"])  # also by the cause_type field


def test_foreign_errors_are_classified_by_the_text_fallback() -> None:
    assert is_transient(RuntimeError("upstream answered 503 Service Unavailable"), ["transient"])
    assert is_transient(OSError("operation timed out"), ["transient"])
    assert not is_transient(RuntimeError("bad value in column 'age'"), ["transient"])
    # a wrapper whose cause was lost keeps only the trace text
    lost = WrappedTaskError(None, "Traceback ...\nConnectionResetError: reset\n")
    assert is_transient(lost, ["transient"])
    assert is_transient(lost, ["ConnectionResetError"])


def test_node_id_comes_from_the_field_before_any_text() -> None:
    err = NodeError("load", "value mentions node 'other'")
    assert error_node(WrappedTaskError(err, "node 'other' in the text")) == "load"
    assert failing_node(err, "node 'other': message") == "load"


def test_node_id_of_a_foreign_error_falls_back_to_the_text() -> None:
    lost = WrappedTaskError(None, "Traceback ...\nengine.errors.NodeError: node 'check': bad\n")
    assert error_node(lost) == "check"
    assert failing_node(lost, "RuntimeError: bad") == "check"
    assert error_node(RuntimeError("no node named")) is None


def test_only_engine_errors_are_read_for_fields() -> None:
    class Foreign(Exception):
        node_id = "ray-node-7f3a"  # a library's own meaning of the name
        transient = True

    assert error_node(Foreign("boom")) is None
    assert not is_transient(Foreign("bad value"), ["transient"])


def test_configuration_errors_and_engine_base_are_never_transient_unless_stated() -> None:
    assert not is_transient(NodeConfigError("src", "timed out", transient=True), ["any"])
    assert not is_transient(PipelineBuilderError("bad value"), ["transient"])
