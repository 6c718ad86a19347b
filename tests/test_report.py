"""The HTML report, built from the committed quick fixture (no benchmarking): what it says,
that it fetches nothing, that two runs compare, that bad input is one line and exit 2, and
that a real headless Chromium renders it with its figures visible and no console error."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from chainbench import plots
from chainbench.cli import main
from chainbench.harness.analysis import tables
from chainbench.report import build_report, gather, write_report
from chainbench.report.facts import inline_svg

QUICK = Path(__file__).parent / "fixtures" / "quick"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A copy of the quick fixture with two points lost, so the tally has reasons to show."""
    out = Path(shutil.copytree(QUICK, tmp_path_factory.mktemp("r") / "quick"))
    df = pd.read_csv(out / "points.csv", dtype={"reason": str})
    df["reason"] = df["reason"].astype(object)
    lost = df.index[-2:]
    df.loc[lost, "status"], df.loc[lost, "reason"] = "timeout", "the point took 3.2 s > budget 1 s"
    df.loc[lost, "time_median_s"] = float("nan")
    df.to_csv(out / "points.csv", index=False)
    return out


@pytest.fixture(scope="module")
def report(folder, tmp_path_factory) -> Path:
    return write_report([folder], tmp_path_factory.mktemp("out") / "quick.html")


def test_the_report_says_what_ran_where_and_what_was_found(folder, report):
    text = report.read_text()
    meta = json.loads((folder / "meta.json").read_text())
    latest = meta["runs"][-1]
    assert meta["description"] in text
    assert latest["machine"]["cpu_model"] in text and latest["versions"]["numba"] in text
    df = tables.load(folder)
    for _, row in tables.exponents(df).iterrows():  # each fitted exponent, and its interval
        if row["exponent"] == row["exponent"]:
            assert f"{row['ci_low']:.2f} … {row['ci_high']:.2f}" in text
    assert "2 timeout" in text and "the point took 3.2 s &gt; budget 1 s" in text


def test_every_figure_the_points_support_is_inline_with_its_caption(folder, report):
    text = report.read_text()
    facts = gather(folder)
    assert facts.figures and len(facts.figures) + len(facts.not_drawn) == len(plots.FIGURES)
    for drawn in facts.figures:
        assert f'aria-label="{drawn.name}"' in text
        assert f"<b>{drawn.label}.</b>{drawn.caption}".replace("'", "&#x27;") in text
    assert text.count("<svg") == len(facts.figures)
    assert text.count("Not drawn, for want of") == 1  # the others listed once, quietly


def test_the_report_fetches_nothing(report):
    text = report.read_text()
    assert not re.search(r'\b(src|href)="(https?:)?//', text)
    assert "url(http" not in text and "@import" not in text
    assert '<script src' not in text


def test_figure_ids_cannot_collide():
    svg = ('<?xml version="1.0"?><svg width="10pt" height="5pt"><defs><clipPath id="p1">'
           '</clipPath></defs><g clip-path="url(#p1)"><use xlink:href="#p1"/></g></svg>')
    out = inline_svg(svg, "fig")
    assert out.startswith("<svg") and 'id="fig-p1"' in out
    assert "url(#fig-p1)" in out and 'href="#fig-p1"' in out and "#p1" not in out
    assert 'width="100%"' in out


def test_two_runs_compare_point_by_point(folder, tmp_path):
    slower = Path(shutil.copytree(folder, tmp_path / "slower"))
    df = pd.read_csv(slower / "points.csv")
    df["time_median_s"] *= 2
    df.to_csv(slower / "points.csv", index=False)
    text = build_report([folder, slower])
    assert "The runs side by side" in text
    ratios = re.findall(r"<tr><td>[^<]*slower[^<]*</td><td>(\w+)</td><td[^>]*>\d+</td>"
                        r"<td>([\d.]+)×</td></tr>", text)
    assert {mode for mode, _ in ratios} == {"forward", "reverse"}
    assert all(float(r) == 2 for _, r in ratios)


def test_cli_report_writes_beside_the_results(folder, tmp_path, capsys):
    target = Path(shutil.copytree(folder, tmp_path / "copy"))
    assert main(["report", str(target)]) == 0
    assert capsys.readouterr().out.strip() == f"report: {target / 'report.html'}"
    assert (target / "report.html").read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("args, says", [
    (["nowhere"], "no such results directory"),
    ([".", "--out", "."], "not a results directory"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, args, says):
    monkeypatch.chdir(tmp_path)
    assert main(["report", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1


def test_out_a_directory_is_refused(folder, tmp_path, capsys):
    assert main(["report", str(folder), "--out", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


# --- in a real browser -----------------------------------------------------------------------


def _browser():
    """Headless Chromium driven by Selenium, started as this machine needs it (no sandbox
    as root, no network, a fresh profile); skips where either is absent."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip("needs Chromium and its driver (/usr/bin/chromium, /usr/bin/chromedriver: "
                    "apt-get install chromium chromium-driver; .ci/run installs them)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (dev extra)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


def test_chromium_renders_the_report_with_its_figures_and_no_error(folder, report):
    driver = _browser()
    try:
        driver.get(report.as_uri())
        assert driver.title == f"chainbench report: {gather(folder, False).title}"
        sizes = driver.execute_script(
            "return Array.from(document.querySelectorAll('figure svg')).map(function (s) {"
            "  var r = s.getBoundingClientRect(); return [r.width, r.height]; })")
        assert len(sizes) == len(gather(folder).figures)
        assert all(w > 300 and h > 150 for w, h in sizes), sizes  # visible, not collapsed
        drawn = driver.execute_script(  # each figure drew its axes' lines and markers
            "return Array.from(document.querySelectorAll('figure svg'))"
            ".map(function (s) { return s.querySelectorAll('path, use').length; })")
        assert all(k > 20 for k in drawn), drawn
        errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
        assert not errors, errors
        _sorts_by_n(driver)
    finally:
        driver.quit()


def _sorts_by_n(driver) -> None:
    """A click on the raw table's 'n' header sorts it by n, numerically; again, reversed."""
    from selenium.webdriver.common.by import By

    table = driver.find_element(By.CSS_SELECTOR, "table.sortable")
    header = [th.text for th in table.find_elements(By.CSS_SELECTOR, "th")]
    col = header.index("n") + 1
    read = f"return Array.from(arguments[0].tBodies[0].rows).map(function (r) {{ " \
           f"return parseFloat(r.cells[{col - 1}].textContent); }})"
    th = table.find_elements(By.CSS_SELECTOR, "th")[col - 1]
    driver.execute_script("arguments[0].click()", th)
    up = driver.execute_script(read, table)
    assert up == sorted(up) and up != sorted(up, reverse=True)
    driver.execute_script("arguments[0].click()", th)
    assert driver.execute_script(read, table) == sorted(up, reverse=True)
