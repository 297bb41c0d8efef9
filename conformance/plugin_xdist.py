"""What pytest-xdist's controller does in a run: hand each worker the target, the key and the
shared folder of exchanges; make every planned exchange before any check is handed out, so that no
two workers send the same request; gather what the workers sent when they stop."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.errors import ExitCode
from conformance.registry import CHECKS, Check

if TYPE_CHECKING:
    from conformance.progress import Progress
    from conformance.runstate import RunState


class XdistControllerHooks:
    """Mixed into the run's hooks; they are xdist's own hooks, so they run only under ``-n``."""

    state: RunState
    progress: Progress | None

    def _bound_run(self, checks: list[Check | None]) -> None:
        raise NotImplementedError

    def _preflight(self, planned: list[Any]) -> None:
        raise NotImplementedError

    def _planned_checks(self, checks: list[Check | None]) -> list[Any]:
        raise NotImplementedError

    def _notice_thinking(self, checks: list[Check | None]) -> None:
        raise NotImplementedError

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist's controller, for each worker it starts: in a live run, the worker sends to the
        same target with the same key and reads the exchanges the processes share."""
        state = self.state
        if not state.config.live or state.base_url is None:
            return
        if state.shared_dir is None:
            from conformance.shared import SharedExchanges

            state.shared_dir = Path(tempfile.mkdtemp(prefix="conformance-shared-"))
            shared = SharedExchanges(state.shared_dir)
            state.store.shared = shared
            state.stop.on_stop(lambda reason: shared.mark_stopped(reason, state.stop.code or ExitCode.INTERRUPTED))
        node.workerinput["conformance_shared"] = str(state.shared_dir)
        node.workerinput["conformance_base_url"] = state.base_url
        if state.config.start_builtin and state.config.api_key is not None:
            # the built-in server's key is made up for this run, so the workers cannot know it
            node.workerinput["conformance_api_key"] = state.config.api_key
        node.workerinput["conformance_ends_at"] = state.ends_at

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """xdist's controller, once the workers have collected: make every planned exchange before
        any check is handed out, so that no two workers send the same request."""
        state = self.state
        if state.shared_ready or state.store.shared is None:
            return
        state.shared_ready = True
        workers = _xdist_workers(node.config)
        if self.progress is not None and workers:
            self.progress.note(
                f"{workers} pytest-xdist workers judge the checks; this process makes the planned exchanges"
            )
        checks = {node_id: check_of_node(node_id) for node_id in ids}
        state.awaited = {node_id for node_id, check in checks.items() if check is None or not check.runs_last}
        if not state.awaited:
            state.store.shared.mark_rest_done()
        self._notice_thinking(list(checks.values()))
        planned = self._planned_checks(list(checks.values()))
        if not planned:
            return
        self._bound_run(list(checks.values()))
        self._preflight(planned)
        if state.aborted is not None:
            return  # every worker reads the same answers as its preflight and stops
        state.store.get_many(planned[1:])

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        output = getattr(node, "workeroutput", {})
        self.state.worker_requests += int(output.get("conformance_requests", 0))
        self.state.worker_retries += int(output.get("conformance_retries", 0))
        self.state.worker_waited += float(output.get("conformance_waited", 0.0))
        self.state.worker_made.update(output.get("conformance_made", ()))


def _xdist_workers(config: pytest.Config) -> int:
    """How many workers pytest-xdist started (0 when it cannot tell)."""
    session = config.pluginmanager.getplugin("dsession")
    nodes = getattr(getattr(session, "nodemanager", None), "specs", None)
    return len(nodes) if nodes else 0


# a check's test is named by its id: conformance/suite/test_models.py::test_models[models.list-shape]
_NODE_CHECK = re.compile(r"\[(?P<check>[^\[\]]+)\]$")


def check_of_node(node_id: str) -> Check | None:
    """The check a test's node id names (None for anything else)."""
    match = _NODE_CHECK.search(node_id)
    return CHECKS.get(match["check"]) if match else None
