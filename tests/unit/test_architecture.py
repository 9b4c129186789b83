"""The shape of the code holds as `docs/architecture.md` describes it: no import cycle anywhere in
flightdeck (the package order itself is checked by `lint-imports` in CI), services small enough to
read and pages thin."""

from pathlib import Path

import grimp
import pytest

from flightdeck.core.config import PROJECT_ROOT

MAX_SERVICE_LINES = 500
MAX_PAGE_LINES = 250


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_flightdeck_has_no_import_cycle() -> None:
    graph = grimp.build_graph("flightdeck", cache_dir=None)
    edges = {m: graph.find_modules_directly_imported_by(m) & graph.modules - {m} for m in graph.modules}
    assert cycles(edges) == []


def lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


@pytest.mark.parametrize(
    ("folder", "limit"),
    [("flightdeck", MAX_SERVICE_LINES), ("pages", MAX_PAGE_LINES)],
)
def test_modules_stay_small_enough_to_read(folder: str, limit: int) -> None:
    too_long = {
        str(path.relative_to(PROJECT_ROOT)): lines(path)
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py"))
        if lines(path) > limit
    }
    assert too_long == {}
