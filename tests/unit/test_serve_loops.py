"""The background loops `overture serve` runs beside the API."""

from __future__ import annotations


def test_every_calls_until_stopped_and_survives_errors() -> None:
    """The serve loop that resumes unfinished webhook work keeps going after an error and stops on request."""
    import threading

    from overture.cli.serve import Every

    calls: list[int] = []
    done = threading.Event()

    def work() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the first round fails")
        if len(calls) >= 3:
            done.set()

    loop = Every("test", 0.01, work).background()
    loop.start()
    assert done.wait(5)
    loop.stop()
    assert loop.join(5) and len(calls) >= 3
