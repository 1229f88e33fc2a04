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
    """Run each contender once per round, ``rounds`` times; per-round seconds per call.
    The order rotates from round to round, so no contender always runs right after the
    same other one (whose caches and allocations it would inherit)."""
    samples = {name: [] for name in contenders}
    names = list(contenders)
    for index in range(rounds):
        start = index % len(names)
        for name in names[start:] + names[:start]:
            samples[name].append(per_call_seconds(contenders[name], calls))
    return samples


def median_time(samples):
    return statistics.median(samples)


def median_ratio(numerator, denominator):
    """Median over rounds of numerator[i] / denominator[i]."""
    return statistics.median(a / b for a, b in zip(numerator, denominator))
