from typing import Any, Mapping, Sequence, Union
import os

def plan(
    graph: Union[str, os.PathLike[str], Mapping[str, Any]],
    budget: Union[int, str],
    *,
    solvers: Union[str, Sequence[str]] = "auto",
    time_limit: float = 60.0,
    seed: int = 1,
) -> dict[str, Any]:
    """Plans a training graph within `budget` bytes ("6GiB", "50%"); returns the best plan's
    schedule and figures, and every solver's under "plans"."""
