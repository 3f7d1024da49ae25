"""bench/run.py --rounds: one database's rounds combined into one report."""

from bench import run


def result(scenario: str, rps: float, p95: float, errors: int = 0) -> dict:
    return {
        "scenario": scenario,
        "requests": int(rps * 10),
        "rps": rps,
        "p50_ms": p95 / 2,
        "p95_ms": p95,
        "p99_ms": p95 * 2,
        "max_ms": p95 * 3,
        "errors": errors,
    }


def report(*results: dict) -> dict:
    return {"database": "bench_small", "results": list(results), "derived": {}}


def test_one_round_is_the_report_itself() -> None:
    only = report(result("list_patient", 100, 10))

    assert run.median_report([only]) is only


def test_rates_and_latencies_are_medians_requests_and_errors_sums_ratios_recomputed() -> None:
    rounds = [
        report(result("list_patient", 100, 10), result("floor_patient", 200, 5)),
        report(result("list_patient", 300, 30, errors=1), result("floor_patient", 250, 4)),
        report(result("list_patient", 200, 90), result("floor_patient", 100, 6, errors=2)),
    ]

    combined = run.median_report(rounds)

    patient, floor = combined["results"]
    assert (patient["rps"], patient["p95_ms"], patient["p99_ms"]) == (200, 30, 60)
    assert patient["requests"] == 6000
    assert patient["errors"] == 1
    assert patient["per_round"] == {"rps": [100, 300, 200], "p95_ms": [10, 30, 90], "errors": [0, 1, 0]}
    assert (floor["rps"], floor["errors"]) == (200, 2)
    assert combined["derived"]["list_patient_vs_floor_rps"] == 1.0
    assert combined["rounds"] == 3
