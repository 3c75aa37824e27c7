"""The Asset graph page: one node per asset with its health and why, edges by dependency."""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.models.reading import history
from dashboard.settings import Settings
from pipeline.definitions import Definitions
from pipeline.states import AssetHealth, CheckKey
from pipeline.status import asset_statuses


@dataclass
class GraphNode:
    name: str
    group: str
    kind: str  # table | view
    health: AssetHealth
    reason: str
    failing_checks: list[CheckKey]
    warning_checks: list[CheckKey]
    description: str | None

    @property
    def status(self) -> str:
        """The health as text (the first release called it status)."""
        return self.health.value


@dataclass
class GraphModel:
    nodes: list[GraphNode]  # upstream first, sorted within a level
    edges: list[tuple[str, str]]  # (parent, child)
    groups: list[str]


def graph_model(cfg: Settings, defs: Definitions) -> GraphModel:
    """Every asset with its health, and every dependency."""
    with history(cfg) as con:
        states = asset_statuses(defs, con, previews=False)
    nodes = [
        GraphNode(
            name,
            defs.assets[name].group,
            defs.assets[name].kind,
            states[name].health,
            states[name].reason,
            states[name].failing_checks,
            states[name].warning_checks,
            defs.assets[name].description,
        )
        for name in defs.graph.names
    ]
    edges = [(parent, name) for name in defs.graph.names for parent in defs.graph.parents(name)]
    return GraphModel(nodes, edges, sorted({node.group for node in nodes}))
