"""run, run_result, run_cancel and stats: one-shot containers and resource samples."""

from __future__ import annotations

from containers_tool.context import Context
from containers_tool.core import run as runs
from containers_tool.core import run_results
from containers_tool.core import stats as sampling
from containers_tool.models.run import RunCancelInput, RunInput, RunResultInput, StatsInput
from containers_tool.registry import operation


@operation("run", RunInput)
def run(args: RunInput, ctx: Context) -> dict[str, object]:
    """Runs one command in a fresh container and removes it; wait: false returns a run_id."""
    return runs.run(args, ctx)


@operation("run_result", RunResultInput)
def run_result(args: RunResultInput, ctx: Context) -> dict[str, object]:
    """Returns a run's result, waiting up to `wait` seconds for it to end."""
    return run_results.result(ctx, args.run_id, args.wait)


@operation("run_cancel", RunCancelInput)
def run_cancel(args: RunCancelInput, ctx: Context) -> dict[str, object]:
    """Kills a run and removes its container."""
    return run_results.cancel(ctx, args.run_id)


@operation("stats", StatsInput)
def stats(args: StatsInput, ctx: Context) -> dict[str, object]:
    """One resource sample per container, with totals."""
    return sampling.stats(ctx, args.container, args.session_id)
