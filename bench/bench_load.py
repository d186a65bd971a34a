"""A bounded load test on loopback: N concurrent browser sessions against one dashboard server.

One ``streamlit run dq_app/serve.py`` server (what ``dq app`` runs: security headers on) on 127.0.0.1 with a fresh
``DQ_HOME``, the same environment as the browser tests (tests/e2e/conftest.py: offline, no embedding
prefetch, no UMAP warm-up). One Debian Chromium, one browser context per session, all driven at once from
asyncio. Each session opens the app (the demo's Overview), waits until Streamlit is idle, switches to Clean
through the sidebar, waits again, switches back to Overview, waits again. Per session and page it records the
seconds to ready and every error: an ``st.exception``, an ``st.error`` box, a console error, an uncaught
page error, a timeout.

Bounded: every wait has a timeout (``--timeout``), the whole run is cut at ``--budget`` seconds (a watchdog
thread kills the server and exits if even that fails), and the browser aborts every request that is not
to a loopback host.

    .venv/bin/python bench/bench_load.py                  # 10 sessions on the sms_spam demo, writes the doc
    .venv/bin/python bench/bench_load.py --sessions 2 --no-doc
    .venv/bin/python bench/bench_load.py --data small     # the 120-row stored pair of the browser tests
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.filter_data for --data small

from _common import cpu_name, write_subsection  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
IDLE = ('[data-testid="stApp"][data-test-connection-state="CONNECTED"]'
        '[data-test-script-state="notRunning"]')
HEADING = "## Load: concurrent browser sessions"
CLEAN_NOTE = {"demo": "over 3,000 rows, so Clean shows its settings and a \"Compute the signals\" button "
                      "without computing",
              "small": "Clean computes the signals, embeddings included, on its first visit"}
INTRO = """`bench/bench_load.py`: one dashboard server (`streamlit run dq_app/serve.py`, what `dq app` runs, security
headers on) on 127.0.0.1 with a fresh `DQ_HOME` and the browser tests' environment (offline,
`DQ_PREFETCH_EMBEDDINGS=0`, `DQ_MAP_METHOD=pca`, `DQ_WARM_UMAP=0`). One Debian Chromium (Playwright), one
browser context per session, all sessions at once (asyncio): each opens the app, waits until the page is
ready, switches to Clean in the sidebar, waits, switches back to Overview, waits. Ready = the page's heading
shown, Streamlit connected with script state `notRunning`, no "Running" icon, no stale element, and the
browser has drawn every lazily loaded element (no grey `stSkeleton` placeholder left, every Plotly chart has
its SVG); the last column is the time to Streamlit idle alone. Seconds run from the `goto` or the click. An
error is an `st.exception`, an `st.error` box, a browser console error, an uncaught page error, or a wait
over the timeout (120 s). Requests to any host that is not loopback are aborted. p50/p95 are linear
interpolations over the sessions' seconds (with 10 sessions, p95 lies between the two slowest)."""
# (label, sidebar link, heading): the first step is the initial load, which lands on Overview
STEPS = [("load", None, "📊 Overview"), ("clean", "Clean", "🧽 Clean"), ("overview", "Overview", "📊 Overview")]


@dataclass
class Step:
    session: int
    page: str
    seconds: float | None = None  # to ready: Streamlit idle and every lazy element drawn
    idle_s: float | None = None  # to Streamlit idle alone (charts may still be grey placeholders)
    errors: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def start_server(home: Path, data: str, demo: str) -> tuple[subprocess.Popen, str, str]:
    """serve.py on a free loopback port; returns the process, its URL and the query that opens the data."""
    query = ""
    if data == "small":
        from dq_core.data.workspace import Workspace
        from tests.filter_data import make_dataset, make_reference

        ws = Workspace(root=home / "dq_home")
        query = f"?ds={ws.save_dataset(make_dataset())}&ref={ws.save_dataset(make_reference())}"
    port = _free_port()
    env = {**os.environ, "DQ_HOME": str(home / "dq_home"), "DQ_DATA_DIR": str(home / "data"),
           "HF_HUB_OFFLINE": "1", "DQ_PREFETCH_EMBEDDINGS": "0", "DQ_MAP_METHOD": "pca", "DQ_WARM_UMAP": "0",
           "DQ_DEFAULT_DEMO": demo}
    (home / "data").mkdir(exist_ok=True)
    with open(home / "server.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "dq_app/serve.py", "--server.headless",
                                 "true", "--server.address", "127.0.0.1", "--server.port", str(port),
                                 "--server.fileWatcherType", "none"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                return proc, url, query
        except OSError:
            time.sleep(0.5)
    stop_server(proc)
    raise SystemExit("error: the server did not become healthy in 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


async def wait_ready(page, heading: str, timeout_ms: float) -> None:
    """The page's heading is shown, the script run finished, no 'Running' icon and no stale element."""
    from playwright.async_api import expect

    await expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=timeout_ms)
    await page.wait_for_selector(IDLE, timeout=timeout_ms)
    await expect(page.get_by_test_id("stStatusWidgetRunningIcon")).to_have_count(0, timeout=timeout_ms)
    await expect(page.locator('[data-testid="stElementContainer"][data-stale="true"]')).to_have_count(
        0, timeout=timeout_ms)


# Streamlit is idle before the browser has drawn its lazily loaded elements (Plotly charts, data frames):
# until then they are grey `stSkeleton` boxes. Ready = none left and every Plotly chart has its SVG.
DRAWN_JS = """() => document.querySelectorAll('[data-testid="stSkeleton"]').length === 0
    && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(e => e.querySelector('.main-svg'))"""


ERRORS_JS = """() => {
  const text = e => (e?.innerText || '').split(/\\s+/).join(' ').trim().slice(0, 160);
  // an st.exception is drawn inside an error box too: count it once, by its message
  const exc = [...document.querySelectorAll('[data-testid="stException"]')]
      .map(e => 'st.exception: ' + text(e.querySelector('[data-testid="stExceptionMessage"]') || e));
  const err = [...document.querySelectorAll('[data-testid="stAlertContentError"]')]
      .filter(e => !e.closest('[data-testid="stException"]') && !e.querySelector('[data-testid="stException"]'))
      .map(e => 'st.error: ' + text(e));
  return exc.concat(err);
}"""


async def page_errors(page) -> list[str]:
    """The st.exception and st.error elements on the page now."""
    return await page.evaluate(ERRORS_JS)


async def run_session(browser, n: int, url: str, timeout_s: float, blocked: list[str],
                      shots: Path | None, steps: list[Step]) -> None:
    """One user: open the app, Clean, Overview; each step goes into ``steps`` as it starts (a cut keeps it)."""
    context = await browser.new_context(viewport={"width": 1300, "height": 850})
    console: list[str] = []

    async def route(r) -> None:
        u = r.request.url
        host = urlparse(u).hostname or ""
        if u.startswith(("data:", "blob:", "about:")) or host in LOOPBACK or host.startswith("127."):
            await r.continue_()
        else:
            blocked.append(u)
            await r.abort()

    await context.route("**/*", route)
    try:
        page = await context.new_page()
        page.set_default_timeout(timeout_s * 1000)
        page.on("console", lambda m: console.append(f"console: {m.text[:160]}") if m.type == "error" else None)
        page.on("pageerror", lambda e: console.append(f"page error: {str(e)[:160]}"))
        for label, link, heading in STEPS:
            step = Step(n, label)
            steps.append(step)
            console.clear()
            t0 = time.perf_counter()
            try:
                if link is None:
                    await page.goto(url, timeout=timeout_s * 1000)
                else:
                    await page.get_by_test_id("stSidebarNav").get_by_role("link", name=link).click()
                await wait_ready(page, heading, timeout_s * 1000)
                step.idle_s = time.perf_counter() - t0
                await page.wait_for_function(DRAWN_JS, timeout=timeout_s * 1000, polling=100)
                step.seconds = time.perf_counter() - t0
            except Exception as e:  # noqa: BLE001 - playwright's TimeoutError and friends: record, go on
                step.errors.append(f"timeout/failure after {time.perf_counter() - t0:.0f} s: "
                                   f"{type(e).__name__}: {str(e).splitlines()[0][:160]}")
            step.errors += await page_errors(page) + console
            if shots is not None and n == 0:
                await page.screenshot(path=str(shots / f"load_{label}.png"))
            if step.seconds is None:
                break  # the session is stuck: the later pages would measure nothing
    finally:
        await context.close()


def cpu_seconds(server_pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) so far of the server and of everything else this process started (the
    Playwright driver and Chromium's processes): the browser shares the machine's cores with the server."""
    import psutil

    server, browser = 0.0, 0.0
    for proc in psutil.Process().children(recursive=True):
        try:
            t = proc.cpu_times()
            own = t.user + t.system
            if proc.pid == server_pid or server_pid in {p.pid for p in proc.parents()}:
                server += own
            else:
                browser += own
        except psutil.Error:
            pass
    return server, browser


async def run_all(url: str, sessions: int, timeout_s: float, budget_s: float,
                  shots: Path | None, server_pid: int) -> tuple[list[Step], list[str], tuple[float, float]]:
    from playwright.async_api import async_playwright

    blocked: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        try:
            per_session: list[list[Step]] = [[] for _ in range(sessions)]
            tasks = [asyncio.create_task(run_session(browser, i, url, timeout_s, blocked, shots, per_session[i]))
                     for i in range(sessions)]
            done, pending = await asyncio.wait(tasks, timeout=budget_s)
            for t in pending:
                t.cancel()
            await asyncio.wait(tasks, timeout=30)  # let the cancelled ones close their contexts
            steps: list[Step] = []
            for i, t in enumerate(tasks):
                mine = per_session[i] or [Step(i, "load")]
                if t not in done:
                    mine[-1].errors.append(f"cut by the {budget_s:.0f} s budget")
                elif t.exception() is not None:
                    mine[-1].errors.append(f"session failed: {t.exception()!r}"[:200])
                steps += mine
            cpu = cpu_seconds(server_pid)
        finally:
            await browser.close()
    return steps, blocked, cpu


def summarise(steps: list[Step]) -> list[dict]:
    rows = []
    for label, _, _ in STEPS:
        mine = [s for s in steps if s.page == label]
        secs = np.array([s.seconds for s in mine if s.seconds is not None])
        idle = np.array([s.idle_s for s in mine if s.idle_s is not None])
        rows.append({"page": label, "ready": len(secs), "runs": len(mine),
                     "p50": float(np.percentile(secs, 50)) if len(secs) else None,
                     "p95": float(np.percentile(secs, 95)) if len(secs) else None,
                     "max": float(secs.max()) if len(secs) else None,
                     "idle_p50": float(np.percentile(idle, 50)) if len(idle) else None,
                     "errors": sum(len(s.errors) for s in mine)})
    return rows


def fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f}"


def table(rows: list[dict]) -> str:
    lines = ["| page (step) | ready / runs | p50 s | p95 s | max s | errors | p50 s to idle |",
             "|---|---|---|---|---|---|---|"]
    names = {"load": "open the app (lands on Overview)", "clean": "switch to Clean", "overview": "back to Overview"}
    for r in rows:
        lines.append(f"| {names[r['page']]} | {r['ready']} / {r['runs']} | {fmt(r['p50'])} | {fmt(r['p95'])} | "
                     f"{fmt(r['max'])} | {r['errors']} | {fmt(r['idle_p50'])} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds each wait may take (default 120)")
    ap.add_argument("--budget", type=float, default=420.0,
                    help="seconds for the whole run, server start included (default 420; a watchdog ends the "
                         "process 45 s after it)")
    ap.add_argument("--data", choices=("demo", "small"), default="demo",
                    help="demo: the bundled demo the app opens by default; small: a 120-row stored pair")
    ap.add_argument("--demo", default="sms_spam", help="which bundled demo (DQ_DEFAULT_DEMO), default sms_spam")
    ap.add_argument("--no-doc", action="store_true", help="print only; leave docs/benchmarks.md alone")
    ap.add_argument("--json", type=Path, help="also write every step (seconds, errors) to this file")
    ap.add_argument("--shots", type=Path, help="save session 0's screenshot of each page in this folder")
    args = ap.parse_args()
    if not 1 <= args.sessions <= 20 or not 1 <= args.timeout <= 300 or not 30 <= args.budget <= 430:
        raise SystemExit("error: --sessions 1..20, --timeout 1..300 and --budget 30..430 keep the run bounded")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"error: {CHROMIUM} is missing (apt-get install chromium)")

    if args.shots:
        args.shots.mkdir(parents=True, exist_ok=True)
    started = time.time()
    load_before = _uptime()
    with tempfile.TemporaryDirectory(prefix="dq_load_") as tmp:
        servers: list[subprocess.Popen] = []

        def last_resort() -> None:  # whatever hangs: the server goes and the run ends inside the 8-minute bound
            print("error: the run overran its budget; stopped", file=sys.stderr)
            for p in servers:
                stop_server(p)
            os._exit(3)

        watchdog = threading.Timer(args.budget + 45, last_resort)
        watchdog.daemon = True
        watchdog.start()
        proc, url, query = start_server(Path(tmp), args.data, args.demo)
        servers.append(proc)
        try:
            server_up = time.time() - started
            cpu0 = cpu_seconds(proc.pid)[0]  # the server's start-up is not load
            steps, blocked, (cpu_server, cpu_browser) = asyncio.run(
                run_all(url + "/" + query, args.sessions, args.timeout, max(10.0, args.budget - server_up),
                        args.shots, proc.pid))
            cpu_server -= cpu0
            rss = peak_rss_mb(proc.pid)
        finally:
            watchdog.cancel()
            stop_server(proc)
            log = (Path(tmp) / "server.log").read_text(errors="replace")
    load_after = _uptime()
    wall = time.time() - started

    rows = summarise(steps)
    errors = [(s.session, s.page, e) for s in steps for e in s.errors]
    print(table(rows))
    print(f"sessions {args.sessions}, errors {len(errors)}, blocked non-loopback requests {len(blocked)}, "
          f"wall {wall:.0f} s (server up in {server_up:.1f} s), server peak RSS {fmt(rss)} MB, "
          f"CPU seconds during the sessions: server {cpu_server:.0f}, browser {cpu_browser:.0f}")
    for s, p, e in errors:
        print(f"  session {s} {p}: {e}")
    tracebacks = log.count("Traceback")
    if tracebacks:
        print(f"server log: {tracebacks} traceback(s)")
    if args.json:
        args.json.write_text(json.dumps([s.__dict__ for s in steps], indent=1))
    if args.no_doc:
        return

    argv = " ".join(shlex.quote(a) for a in sys.argv[1:])
    data = (f"the bundled `{args.demo}` demo (the app's default dataset; {CLEAN_NOTE['demo']})"
            if args.data == "demo"
            else f"the browser tests' 120-row labelled set + 80-row reference ({CLEAN_NOTE['small']})")
    err_lines = "\n".join(f"- session {s}, {p}: {e}" for s, p, e in errors[:20]) or "- none"
    if len(errors) > 20:
        err_lines += f"\n- ... {len(errors) - 20} more"
    title = (f"{args.sessions} session{'s' if args.sessions > 1 else ''}, "
             + (f"`{args.demo}` demo" if args.data == "demo" else "120-row stored pair"))
    body = f"""On {data}.

- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: `uname -m` {platform.machine()}, nproc
  {len(os.sched_getaffinity(0))}, {cpu_name()}, Python {platform.python_version()}.
- Load before: `{load_before}`
- Load after: `{load_after}`
- Command: `.venv/bin/python bench/bench_load.py {argv}`
- Wall time {wall:.0f} s (server healthy after {server_up:.1f} s); server peak RSS {fmt(rss)} MB; CPU
  seconds while the sessions ran: server {cpu_server:.0f}, Chromium + Playwright {cpu_browser:.0f}
  (same {len(os.sched_getaffinity(0))} cores); tracebacks in the server log: {tracebacks}; non-loopback requests tried (all aborted): {len(blocked)}.

{table(rows)}

Errors seen:

{err_lines}
"""
    print(f"wrote {write_subsection(HEADING, INTRO, title, body)}")


if __name__ == "__main__":
    main()
