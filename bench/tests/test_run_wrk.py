"""bench/run.py's wrk mode without wrk: the results line of bench/wrk/requests.lua, parsed from a real capture
(`wrk -t2 -c4 -d2s -s bench/wrk/requests.lua` against a static server, half the paths missing), the result row
built from it, and the requests file the script reads."""

from pathlib import Path

import pytest

from bench import run

CAPTURE = Path(__file__).parent / "data" / "wrk-output.txt"


def test_parse_wrk_reads_the_json_line_after_wrk_s_own_summary() -> None:
    measured = run.parse_wrk(CAPTURE.read_text())

    assert measured["requests"] == 2192
    assert measured["duration_us"] == 2005640
    assert measured["statuses"] == {"200": 1096, "404": 1096}
    assert measured["errors"] == {"connect": 0, "read": 0, "write": 0, "timeout": 0, "status": 1096}
    assert measured["latency_us"]["p50"] == 3397
    assert measured["latency_us"]["p99"] == 8085


def test_parse_wrk_without_the_json_line_says_so() -> None:
    summary_only = "".join(line for line in CAPTURE.read_text().splitlines(keepends=True) if "WRK_JSON" not in line)

    with pytest.raises(ValueError, match="no WRK_JSON line"):
        run.parse_wrk(summary_only)


def test_wrk_result_counts_unexpected_statuses_and_socket_errors_as_errors() -> None:
    measured = run.parse_wrk(CAPTURE.read_text())
    measured["errors"]["timeout"] = 3
    scenario = run.Scenario("list_patient", "a list", [[("GET", "/a", None, "t")]] * 4)

    result = run.wrk_result(scenario, measured, clients=4, threads=2)

    assert result["errors"] == 1096 + 3
    assert result["rps"] == pytest.approx(2192 / 2.00564)
    assert result["p95_ms"] == pytest.approx(5.749)
    assert result["statuses"] == {"200": 1096, "404": 1096}
    assert result["load"] == "wrk"
    expected_404 = run.Scenario("missing", "404s expected", [[("GET", "/b", None, None)]], ok=frozenset({200, 404}))
    assert run.wrk_result(expected_404, run.parse_wrk(CAPTURE.read_text()), clients=1, threads=1)["errors"] == 0


def test_wrk_requests_file_has_one_tab_separated_request_per_line(tmp_path) -> None:
    requests = [
        ("GET", "/api/appointments/?page_size=20", None, "token-1"),
        ("POST", "/api/auth/login/", {"email": "a@bench.test", "password": "x y"}, None),
    ]

    lines = Path(run.wrk_requests_file(requests, str(tmp_path))).read_text().splitlines()

    assert lines == [
        "GET\t/api/appointments/?page_size=20\ttoken-1\t",
        'POST\t/api/auth/login/\t-\t{"email":"a@bench.test","password":"x y"}',
    ]
    with pytest.raises(ValueError, match="tab or newline"):
        run.wrk_requests_file([("GET", "/a\tb", None, None)], str(tmp_path))
