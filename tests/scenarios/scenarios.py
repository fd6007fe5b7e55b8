"""scenarios.py — the table of scenarios run by run.py.

Markers (@mark:NAME) in the sources give the lines the checks expect."""
from run import Expect, Scenario

SCENARIOS = [
    Scenario(
        "c-mutex-held-by-vanished-thread",
        "mutex_vanished_holder",
        expect=[
            Expect("child-deadlock", "error", "attempt", "mutex_vanished_holder.c", "attempt"),
            Expect("child-deadlock", "error", "acquired", "mutex_vanished_holder.c", "acquire", thread_name="holder"),
            Expect("child-deadlock", "error", "fork", "mutex_vanished_holder.c", "fork"),
            Expect("threads-at-fork", "warning", "thread", "mutex_vanished_holder.c", "create", thread_name="holder"),
        ],
        absent=["orphaned-lock"],
        stdout_has="child ended: -1",
    ),
]
