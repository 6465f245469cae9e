"""Chaos: the serving process killed (SIGKILL) while the steps of every kind of case wait on their
forms. Its own file so that `--dist loadfile` runs it beside the other chaos cases, not after them."""

from __future__ import annotations

import asyncio

import pytest

from tests.chaos.conftest import report
from tests.chaos.drive import ctai_chain, lost_and_duplicated, ptai_chain, quiescent, wait_all, widening_chain

pytestmark = pytest.mark.chaos


async def test_killing_the_serving_process_while_steps_wait_loses_and_repeats_nothing(stack):
    """Three cases through their 14 steps; at every other round of steps (the first, the third…,
    the last), once each waits on its form, the serving process is killed with SIGKILL and started
    again: the steps of every kind (CTAI, widening, PTAI, the ministry's batch) are killed while
    waiting, in half the platform restarts a kill at each of the 9 rounds would cost."""
    chains = [await ctai_chain(stack, 31), await widening_chain(stack, 32), await ptai_chain(stack, 33)]
    rounds = kills = 0
    while any(c.steps for c in chains):
        for chain in chains:
            if chain.steps:
                await chain.prepare(stack)
        await wait_all(chains, stack)
        rounds += 1
        if rounds % 2 == 1:
            await quiescent(stack)  # the acts a decision started wait too, and no email is on the wire
            stack.platform.kill()  # SIGKILL to the serving process and anything it runs
            kills += 1
            stack.platform.start()
        await asyncio.gather(*(c.answer(stack) for c in chains if c.steps))
    answered = [key for c in chains for key in c.submitted]
    assert len(answered) == 14 and (rounds, kills) == (9, 5)
    await quiescent(stack)  # every case's last run over, the acts they started waiting, the emails out
    lost, duplicated = lost_and_duplicated(stack, answered)
    report(
        "kill -9 du service pendant les étapes en attente (un tour sur deux)",
        lost,
        duplicated,
        database=stack.engine.dialect.name,
    )
    assert (lost, duplicated) == (0, 0)
