"""Split contacts between up to 5 weighted paths. Deterministic: the path comes from a hash
of the contact and the node, so a contact keeps its path (also across runs).

Example:

    {
      "id": "ab",
      "type": "random_split",
      "config": {
        "paths": [
          {
            "name": "a",
            "weight": 50
          },
          {
            "name": "b",
            "weight": 50
          }
        ]
      },
      "exits": {
        "a": null,
        "b": null
      }
    }
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from cauce.flows.common import Problem, Strict
from cauce.flows.nodes._shared import RESERVED_EXITS
from cauce.flows.nodes.base import Node, Outcome
from cauce.limits import MAX_RANDOM_SPLIT_PATHS

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.flows.document import FlowDocument


class SplitPath(Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    weight: int = Field(ge=1, le=10_000)


class RandomSplitConfig(Strict):
    paths: list[SplitPath] = Field(min_length=2)


def choose(paths: list[SplitPath], seed: str) -> str:
    """The path for ``seed``: a stable hash mapped onto the cumulative weights."""
    total = sum(p.weight for p in paths)
    point = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big") % total
    for path in paths:
        if point < path.weight:
            return path.name
        point -= path.weight
    return paths[-1].name


class RandomSplit(Node):
    type: Literal["random_split"]
    config: RandomSplitConfig

    category = "logic"
    summary = "Weighted split (≤ 5 paths); a contact always gets the same path."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return [p.name for p in self.config.paths]

    def check(self, flow: FlowDocument) -> list[Problem]:
        problems = []
        if len(self.config.paths) > MAX_RANDOM_SPLIT_PATHS:
            problems.append(self.problem("too_many_paths",
                                         f"at most {MAX_RANDOM_SPLIT_PATHS} paths",
                                         "config.paths"))
        names = [p.name for p in self.config.paths]
        if len(set(names)) != len(names) or RESERVED_EXITS & set(names):
            problems.append(self.problem("bad_path_name", "path names must be unique and not "
                                         "reserved", "config.paths"))
        return problems

    def execute(self, act: Activation) -> Outcome:
        chosen = act.state.split_paths.get(self.id)
        if chosen not in self.exit_names():
            chosen = choose(self.config.paths, f"{act.contact.id}:{act.flow_key()}:{self.id}")
            act.state.split_paths[self.id] = chosen
        return Outcome.go(chosen)
