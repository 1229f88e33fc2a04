"""Shared timing helpers: interleaved rounds, so machine noise hits every contender alike.

On a shared, noisy machine the ratio of two contenders timed back to back in the same
round is far steadier than either time alone, so ratios are taken per round and the
median of those is reported.
"""
import statistics
import time


def per_call_seconds(fn, calls):
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def interleaved(contenders, calls, rounds):
    """Run each contender once per round, ``rounds`` times; per-round seconds per call."""
    samples = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            samples[name].append(per_call_seconds(fn, calls))
    return samples


def median_time(samples):
    return statistics.median(samples)


def median_ratio(numerator, denominator):
    """Median over rounds of numerator[i] / denominator[i]."""
    return statistics.median(a / b for a, b in zip(numerator, denominator))
