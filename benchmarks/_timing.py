"""Shared timing helpers: interleaved rounds, so machine noise hits every contender alike."""
import statistics
import time


def per_call_seconds(fn, calls):
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def interleaved(contenders, calls, rounds):
    """Run each contender once per round, ``rounds`` times; median seconds per call."""
    samples = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            samples[name].append(per_call_seconds(fn, calls))
    return {name: statistics.median(values) for name, values in samples.items()}
