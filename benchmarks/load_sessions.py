"""A classroom at once: N Streamlit sessions driven through Streamlit's own websocket protocol.

Each simulated student opens a fit page by its link (``/em_matrix?dataset=netflix&k=12``), then,
until the time is up, thinks for about ``--think`` seconds (jittered +-30 %) and acts: mostly Step,
sometimes Play (for a few seconds, then Pause), sometimes a small upload, and Reset once the fit has
converged. No browser: each session is one websocket to ``/_stcore/stream`` that sends the
``BackMsg`` a browser sends (``rerun_script`` with the button's ``trigger_value``, its widget id read
from the ``ForwardMsg`` deltas, the fragment's id so only the fragment reruns, the ``is_auto_rerun``
ticks of a playing fragment's timer) and reads every ``ForwardMsg`` back. Uploads go the browser's
way too: ``file_urls_request``, an HTTP PUT, then the uploader's widget state.

Measured, per action kind:

- click to shown: the click is sent until the status line with the new iteration number arrives;
- click to done: until the run's ``script_finished`` (everything the page draws has been sent);
- errors: exception elements, error messages, disconnects and runs that never finish;
- Play: frames (new iterations) per second per playing session;
- the server's RSS and CPU share over time (``/proc``), and this generator's own CPU share, printed
  beside the figures so its cost does not hide in them;
- the machine and its 1-minute load average before and after (from ``bench_em.environment``).

Run from the repository root (the server is started on 127.0.0.1 and stopped by its PID)::

    EM_DATA_DIR=../shared/data/course python benchmarks/load_sessions.py --sessions 30 --seconds 60
    python benchmarks/load_sessions.py --sessions 100 --seconds 60 --dataset demo-2d --k 4 --page 2d
    python benchmarks/load_sessions.py --quick   # the whole table of the README, in under 10 minutes
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import signal
import sys
import time
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import websockets  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from tests import nginx_proxy  # noqa: E402
from tests.streamlit_server import StreamlitServer  # noqa: E402

PAGES = {"matrix": "em_matrix", "2d": "em_2d"}
STATUS = re.compile(r"\*\*Iteration (\d+)\*\*")
INITIAL = "Initial "  # the status line before the first Step ("Initial mixture (the course's init) ...")
RUN_TIMEOUT = 120.0  # seconds a run may take before it counts as an error (a hang, not a slow Step)
PLAY_SECONDS = (6.0, 12.0)  # how long a student lets a fit play before pressing Pause
PORTS = range(8620, 8650)  # this benchmark's ports on the shared machine
#: What a student uploads: a small rating matrix (0 = missing) or 2-D points, by page.
UPLOADS = {
    "matrix": "\n".join(" ".join(str((u * 7 + i * 3) % 6) for i in range(8)) for u in range(40)) + "\n",
    "2d": "\n".join(
        f"{(p % 4) * 3 + (p * 37 % 11) / 10:.2f} {(p // 4 % 3) * 2 + (p * 13 % 7) / 10:.2f}" for p in range(60)
    )
    + "\n",
}
#: The quick preset: the README's table (netflix K=12 and demo-2d), short runs.
QUICK = [
    ("netflix", 12, "matrix", (1, 10, 30, 60)),
    ("demo-2d", 4, "2d", (1, 30, 100)),
]
QUICK_SECONDS = 60


# ---------------------------------------------------------------- one session


@dataclass
class Button:
    id: str
    fragment_id: str
    disabled: bool


@dataclass
class Sample:
    kind: str  # "open", "step", "play_on", "pause", "reset", "upload"
    shown: float | None  # seconds from the click to the new status line (None: none came)
    done: float  # seconds from the click to script_finished
    at: float = 0.0  # time.monotonic() of the click


@dataclass
class Tally:
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    play_frames: int = 0
    play_seconds: float = 0.0


class Session:
    """One student's websocket: sends what a browser sends, reads every ForwardMsg."""

    def __init__(self, base: str, page: str, query: dict, tally: Tally, cookies: dict[str, str]) -> None:
        self.base, self.page, self.query, self.tally, self.cookies = base, page, dict(query), tally, cookies
        self.xsrf = cookies.get("_streamlit_xsrf")
        self.ws = None
        self.session_id = ""
        self.page_hash = ""
        self.buttons: dict[str, Button] = {}
        self.widgets: dict[str, str] = {}  # widget key -> id, for the uploader
        self.iteration: int | None = None
        self.converged = False
        self.finished = asyncio.Event()
        self.status_seen = asyncio.Event()
        self.shown_at = 0.0
        self.runs_started = 0  # new_session messages: one per run
        self.runs_finished = 0  # the runs_started count at the latest final script_finished
        self.file_urls: asyncio.Future | None = None
        self.timer: asyncio.Task | None = None
        self.closing = False
        self.reader: asyncio.Task | None = None

    # -- connection

    async def connect(self) -> None:
        protocols = ["streamlit", self.xsrf] if self.xsrf else ["streamlit"]
        headers = {"Cookie": cookie_header(self.cookies)} if self.cookies else None
        url = self.base.replace("http", "ws", 1) + "/_stcore/stream"
        self.ws = await websockets.connect(
            url,
            subprotocols=protocols,
            additional_headers=headers,
            max_size=None,
            open_timeout=RUN_TIMEOUT,
            ping_interval=None,  # a browser sends no websocket pings; a starved server must not drop us for it
        )
        self.reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        self.closing = True
        self._stop_timer()
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)

    async def _read(self) -> None:
        try:
            async for data in self.ws:
                message = ForwardMsg()
                message.ParseFromString(data)
                self._handle(message)
        except websockets.ConnectionClosedError as err:
            if not self.closing:  # the server dropped us, not our own goodbye
                self.tally.errors.append(f"disconnected: {err}")
        self.finished.set()

    def _handle(self, message: ForwardMsg) -> None:
        kind = message.WhichOneof("type")
        if kind == "navigation":  # the page the script resolved the link to, as the browser keeps it
            self.page_hash = message.navigation.page_script_hash or self.page_hash
        elif kind == "new_session":  # a run starts
            self.runs_started += 1
            if message.new_session.initialize.session_id:
                self.session_id = message.new_session.initialize.session_id
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            self._element(message.delta.new_element, message.delta.fragment_id)
        elif kind == "script_finished":
            # a run that ended early for a rerun (Play's st.rerun) is followed by the one that draws
            if message.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                self.runs_finished = self.runs_started
                self.finished.set()
        elif kind == "auto_rerun":
            self._start_timer(message.auto_rerun.interval, message.auto_rerun.fragment_id)
        elif kind == "stop_auto_rerun":
            self._stop_timer()
        elif kind == "file_urls_response" and self.file_urls is not None and not self.file_urls.done():
            self.file_urls.set_result(message.file_urls_response.file_urls[0])

    def _element(self, element, fragment_id: str) -> None:
        kind = element.WhichOneof("type")
        if kind == "button":
            self.buttons[element.button.label] = Button(element.button.id, fragment_id, element.button.disabled)
        elif kind == "file_uploader":
            self.widgets[element.file_uploader.label] = element.file_uploader.id
        elif kind == "radio":
            self.widgets[element.radio.label] = element.radio.id
        elif kind == "markdown":
            body = element.markdown.body
            found = STATUS.search(body)
            if found or body.startswith(INITIAL):
                self.iteration = int(found[1]) if found else 0
                self.converged = "converged after" in body
                if not self.status_seen.is_set():
                    self.shown_at = time.monotonic()
                self.status_seen.set()
        elif kind == "exception":
            self.tally.errors.append(f"exception: {element.exception.type}: {element.exception.message[:200]}")
        elif kind == "alert" and element.alert.format == element.alert.ERROR:
            self.tally.errors.append(f"error message: {element.alert.body[:200]}")

    # -- what a browser sends

    def _rerun(self, fragment_id: str = "", widget=None, auto: bool = False) -> bytes:
        message = BackMsg()
        state = message.rerun_script
        state.query_string = urlencode(self.query)
        state.page_name = self.page
        state.page_script_hash = self.page_hash
        state.fragment_id = fragment_id
        state.is_auto_rerun = auto
        if widget is not None:
            state.widget_states.widgets.append(widget)
        return message.SerializeToString()

    async def _send_and_wait(self, kind: str, data: bytes) -> Sample:
        """Send ``data`` and wait for the end of a run that started after it (a run in progress, such as
        a Play tick's, ends first; Streamlit folds a request that arrives meanwhile into the next run)."""
        self.status_seen.clear()
        before, runs_before = self.iteration, self.runs_started
        started = time.monotonic()
        await self.ws.send(data)
        try:
            while self.runs_finished <= runs_before and not self.reader.done():
                self.finished.clear()
                await asyncio.wait_for(self.finished.wait(), timeout=max(0.0, started + RUN_TIMEOUT - time.monotonic()))
        except TimeoutError:
            self.tally.errors.append(f"{kind}: no script_finished within {RUN_TIMEOUT:g} s")
        done = time.monotonic() - started
        shown = self.shown_at - started if self.status_seen.is_set() else None
        if kind == "step" and self.iteration == before:
            self.tally.errors.append(f"step: still at iteration {before} when the run finished")
        sample = Sample(kind, shown, done, started)
        self.tally.samples.append(sample)
        return sample

    async def open(self) -> Sample:
        return await self._send_and_wait("open", self._rerun())

    async def click(self, label: str, kind: str) -> Sample:
        button = self.buttons[label]
        widget = BackMsg().rerun_script.widget_states.widgets.add()
        widget.id, widget.trigger_value = button.id, True
        return await self._send_and_wait(kind, self._rerun(button.fragment_id, widget))

    def _start_timer(self, interval: float, fragment_id: str) -> None:
        """A playing fragment's timer, as the browser keeps it: a rerun every ``interval`` seconds."""
        self._stop_timer()

        async def tick() -> None:
            while True:
                await asyncio.sleep(interval)
                await self.ws.send(self._rerun(fragment_id, auto=True))

        self.timer = asyncio.create_task(tick())

    def _stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    async def play(self, seconds: float) -> None:
        """Press Play, let it run ``seconds``, press Pause; count the iterations it showed."""
        start_iteration = self.iteration or 0
        await self.click("Play", "play_on")
        started = time.monotonic()
        while time.monotonic() - started < seconds and not self.converged:
            await asyncio.sleep(0.2)
        elapsed = time.monotonic() - started
        self._stop_timer()
        if "Pause" in self.buttons and not self.buttons["Pause"].disabled:
            await self.click("Pause", "pause")
        self._stop_timer()
        self.tally.play_frames += max(0, (self.iteration or 0) - start_iteration)
        self.tally.play_seconds += elapsed

    async def upload(self, name: str, content: bytes, holds: str) -> Sample:
        """The browser's upload: ask for a URL, PUT the file there, then send the uploader's state (and
        the sidebar's "It holds" choice, ``holds``, as the radio's formatted option)."""
        label = "Matrix or ratings file"
        self.file_urls = asyncio.get_running_loop().create_future()
        request = BackMsg()
        request.file_urls_request.request_id = uuid.uuid4().hex
        request.file_urls_request.session_id = self.session_id
        request.file_urls_request.file_names.append(name)
        await self.ws.send(request.SerializeToString())
        urls = await asyncio.wait_for(self.file_urls, RUN_TIMEOUT)
        await asyncio.to_thread(put_file, self.base, urls.upload_url, name, content, self.cookies)
        widget = BackMsg().rerun_script.widget_states.widgets.add()
        widget.id = self.widgets[label]
        info = widget.file_uploader_state_value.uploaded_file_info.add()
        info.file_id, info.name, info.size = urls.file_id, name, len(content)
        info.file_urls.CopyFrom(urls)
        data = BackMsg()
        data.ParseFromString(self._rerun(widget=widget))
        kind = data.rerun_script.widget_states.widgets.add()
        kind.id, kind.string_value = self.widgets["It holds"], holds
        return await self._send_and_wait("upload", data.SerializeToString())


def put_file(base: str, upload_url: str, name: str, content: bytes, cookies: dict[str, str]) -> None:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: text/plain\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    url = upload_url if upload_url.startswith("http") else base + upload_url
    request = urllib.request.Request(url, data=body, method="PUT")
    request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    if "_streamlit_xsrf" in cookies:
        request.add_header("X-Xsrftoken", cookies["_streamlit_xsrf"])
    if cookies:
        request.add_header("Cookie", cookie_header(cookies))
    with urllib.request.urlopen(request, timeout=RUN_TIMEOUT) as response:
        response.read()


def session_cookies(base: str) -> dict[str, str]:
    """The cookies the server sets with its health answer, as a browser gets them on its first request:
    the XSRF cookie (none when XSRF is off) and, through the class deployment's proxy, the replica
    affinity cookie that keeps this student's websocket and uploads on one replica."""
    cookies = {}
    with urllib.request.urlopen(base + "/_stcore/health", timeout=RUN_TIMEOUT) as response:
        for header in response.headers.get_all("Set-Cookie") or []:
            found = re.match(r"([^=;\s]+)=([^;]*)", header)
            if found:
                cookies[found[1]] = found[2].strip('"')
    return cookies


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


# ---------------------------------------------------------------- a student


@dataclass(frozen=True)
class Behaviour:
    think: float = 3.0  # seconds between two actions, jittered +-30 %
    arrive: float = 10.0  # students open the page at random times within this many seconds of the start
    play_share: float = 0.1  # of actions that are a Play (then Pause)
    upload_share: float = 0.03  # of actions that are an upload (once per session at most)
    run_share: float = 0.0  # of actions that are Run to convergence (the slow click of the page)


async def student(
    index: int, base: str, page: str, query: dict, behaviour: Behaviour, until: float, tally: Tally
) -> None:
    rng = random.Random(index)
    await asyncio.sleep(rng.uniform(0, behaviour.arrive))
    session = None
    try:
        session = Session(base, PAGES[page], query, tally, await asyncio.to_thread(session_cookies, base))
        await session.connect()
        await session.open()
        uploaded = False
        while time.monotonic() < until and session.ws.state.name == "OPEN":
            await asyncio.sleep(behaviour.think * rng.uniform(0.7, 1.3))
            if time.monotonic() >= until:
                break
            draw = rng.random()
            if session.converged or "Step" not in session.buttons or session.buttons["Step"].disabled:
                await session.click("Reset", "reset")
            elif draw < behaviour.upload_share and not uploaded:
                uploaded = True
                holds = "a rating matrix (0 = missing)" if page == "matrix" else "complete points"
                await session.upload("class.txt", UPLOADS[page].encode(), holds)
            elif draw < behaviour.upload_share + behaviour.play_share:
                await session.play(rng.uniform(*PLAY_SECONDS))
            elif draw < behaviour.upload_share + behaviour.play_share + behaviour.run_share:
                await session.click("Run to convergence", "run")
            else:
                await session.click("Step", "step")
    except (OSError, TimeoutError, KeyError, websockets.WebSocketException) as err:
        tally.errors.append(f"session {index}: {type(err).__name__}: {err}")
    finally:
        if session is not None:
            await session.close()


# ---------------------------------------------------------------- the server from outside


def proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def servers_cpu_seconds(pids: list[int]) -> float:
    """The CPU seconds (utime + stime) of the server processes: the replicas' sum."""
    stats = [Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split() for pid in pids]
    return sum(int(fields[11]) + int(fields[12]) for fields in stats) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def monitor(pids: list[int], until: float, trace: list) -> None:
    """Every 2 s: seconds since start, the server's RSS (MB; the replicas' sum), the load average."""
    started = time.monotonic()
    while time.monotonic() < until:
        rss = sum(proc_rss_mb(pid) for pid in pids) if pids else None
        trace.append((round(time.monotonic() - started, 1), rss and round(rss, 1), round(os.getloadavg()[0], 2)))
        await asyncio.sleep(2.0)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict:
    return {
        "count": len(values),
        "p50": round(percentile(values, 50), 3) if values else None,
        "p95": round(percentile(values, 95), 3) if values else None,
        "max": round(max(values), 3) if values else None,
    }


async def drive(
    base: str, pids: list[int], sessions: int, seconds: float, page: str, query: dict, behaviour: Behaviour
):
    tally = Tally()
    until = time.monotonic() + seconds
    trace: list = []
    load_before = os.getloadavg()[0]
    cpu_server, cpu_self, wall = servers_cpu_seconds(pids), own_cpu_seconds(), time.monotonic()
    watcher = asyncio.create_task(monitor(pids, until, trace))
    await asyncio.gather(*(student(i, base, page, query, behaviour, until, tally) for i in range(sessions)), watcher)
    half_time = wall + seconds / 2
    wall = time.monotonic() - wall
    cpu_server = (servers_cpu_seconds(pids) - cpu_server) if pids else None
    cpu_self = own_cpu_seconds() - cpu_self
    cores = os.cpu_count() or 1
    actions = len(tally.samples) + tally.play_frames
    by_kind: dict[str, list[Sample]] = {}
    for sample in tally.samples:
        by_kind.setdefault(sample.kind, []).append(sample)
    return {
        "sessions": sessions,
        "replicas": max(1, len(pids)),
        "seconds": round(wall, 1),
        "page": PAGES[page],
        "query": query,
        "behaviour": asdict(behaviour),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "errors": len(tally.errors),
        "error_examples": sorted(set(tally.errors))[:5],
        "click_to_shown": {k: summary([s.shown for s in v if s.shown is not None]) for k, v in by_kind.items()},
        "click_to_done": {k: summary([s.done for s in v]) for k, v in by_kind.items()},
        # the second half of the run only: every student has opened the page by then
        "step_done_second_half": summary([s.done for s in by_kind.get("step", []) if s.at >= half_time]),
        "steps_per_second": round(len(by_kind.get("step", [])) / wall, 2),
        "play_frames_per_second_per_player": round(tally.play_frames / tally.play_seconds, 2)
        if tally.play_seconds
        else None,
        "server_rss_mb": {
            "start": trace[0][1] if trace else None,
            "max": max((t[1] or 0) for t in trace) if trace else None,
            "end": trace[-1][1] if trace else None,
        },
        "server_cpu_share_of_machine": round(cpu_server / wall / cores, 3) if cpu_server is not None else None,
        # what a click costs the server in CPU seconds (opens, Steps, Play frames, uploads, all together),
        # and so how many students thinking ``think`` s between clicks one core serves: a figure that
        # holds on a shared machine, where the latencies measure the neighbours too
        "server_cpu_s_per_action": round(cpu_server / actions, 3) if cpu_server and actions else None,
        "students_per_core": round(behaviour.think / (cpu_server / actions), 1) if cpu_server and actions else None,
        "generator_cpu_share_of_machine": round(cpu_self / wall / cores, 3),
        "trace_s_rssmb_load": trace,
    }


# ---------------------------------------------------------------- the command


def machine() -> dict:
    """What benchmarks/bench_em.py prints about the machine (without its BLAS orientation probe)."""
    from benchmarks.bench_em import environment

    env = environment()
    return {
        key: env[key]
        for key in ("em_core", "python", "platform", "cpu", "cpu_count", "cpu_affinity", "load_average_1min")
    }


def server_on(port: int, log: Path) -> StreamlitServer:
    """A server for ``with``, on ``port`` of 127.0.0.1 (``with`` starts it and stops it by its PID)."""
    server = StreamlitServer(log_path=log)
    server.port = port
    return server


def run(
    url: str, servers: list[StreamlitServer], sessions: int, seconds: float, page: str, query: dict, behaviour
) -> dict:
    """Warm each server up with one session of its own (the data set loaded once in each), then drive
    ``sessions`` at ``url`` (one server's, or the proxy's in front of them) for ``seconds``."""
    pids = [server.pid for server in servers]
    for server in servers:
        warm = asyncio.run(drive(server.url, [server.pid], 1, 0.1, page, query, behaviour))
        if warm["errors"]:
            raise RuntimeError(f"the warm-up session failed: {warm['error_examples']}")
    return asyncio.run(drive(url, pids, sessions, seconds, page, query, behaviour))


def one_run(args, dataset: str, k: int, page: str, sessions: int) -> dict:
    query = {"dataset": dataset, "k": k}
    behaviour = Behaviour(args.think, args.arrive, args.play_share, args.upload_share, args.run_share)
    if args.url:
        pids = [args.server_pid] if args.server_pid else []
        return asyncio.run(drive(args.url, pids, sessions, args.seconds, page, query, behaviour))
    logs = REPO / "test-artifacts" / f"load-{dataset}-{sessions}"
    if args.replicas > 1:  # the class deployment as shipped: nginx (deploy/nginx/em-lab.conf) in front
        with nginx_proxy.deployment(logs, args.replicas, connections=4 * sessions + 64) as (proxy, servers):
            return run(proxy.url, servers, sessions, args.seconds, page, query, behaviour)
    with server_on(args.port, logs.with_suffix(".log")) as server:
        return run(server.url, [server], sessions, args.seconds, page, query, behaviour)


def line(result: dict) -> str:
    step = result["click_to_done"].get("step", {})
    shown = result["click_to_shown"].get("step", {})
    fmt = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
    return (
        f"{result['query']['dataset']:>8} K={result['query']['k']:<3} N={result['sessions']:<4}"
        f"{' replicas ' + str(result['replicas']) if result['replicas'] > 1 else ''}"
        f" step done p50 {fmt(step.get('p50'))} p95 {fmt(step.get('p95'))} max {fmt(step.get('max'))} s"
        f" (shown p95 {fmt(shown.get('p95'))}; 2nd half p95 {fmt(result['step_done_second_half']['p95'])};"
        f" n={step.get('count', 0)}; open p95 {fmt(result['click_to_done'].get('open', {}).get('p95'))})"
        f" | play {result['play_frames_per_second_per_player'] or '-'} it/s"
        f" | errors {result['errors']}{' (' + result['error_examples'][0][:80] + ')' if result['errors'] else ''}"
        f" | server RSS max {result['server_rss_mb']['max']} MB, CPU {result['server_cpu_share_of_machine']}"
        f" ({result['server_cpu_s_per_action']} s a click: {result['students_per_core']} students a core)"
        f" | generator CPU {result['generator_cpu_share_of_machine']}"
        f" | load {result['load_average_before']}->{result['load_average_after']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sessions", type=int, nargs="+", default=[10], help="N concurrent sessions (several: one run each)"
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="how long each run drives its sessions")
    parser.add_argument("--dataset", default="netflix")
    parser.add_argument("--k", type=int, default=12)
    parser.add_argument("--page", choices=sorted(PAGES), default="matrix")
    parser.add_argument("--think", type=float, default=3.0, help="seconds between a student's actions (+-30 %%)")
    parser.add_argument("--arrive", type=float, default=10.0, help="students open the page within this many s")
    parser.add_argument("--play-share", type=float, default=0.1, help="share of actions that are Play")
    parser.add_argument("--upload-share", type=float, default=0.03, help="share of actions that are an upload")
    parser.add_argument("--run-share", type=float, default=0.0, help="share of actions that are Run to convergence")
    parser.add_argument("--port", type=int, default=PORTS[0], help="port of the server this starts (127.0.0.1)")
    parser.add_argument("--url", help="drive a server already running there instead of starting one")
    parser.add_argument("--server-pid", type=int, help="with --url: its PID, for RSS and CPU")
    replicas_help = "start this many servers behind the shipped nginx site (deploy/nginx/em-lab.conf)"
    parser.add_argument("--replicas", type=int, default=1, help=replicas_help)
    parser.add_argument(
        "--quick", action="store_true", help="the README's table: netflix K=12 N=1,10,30,60, demo-2d N=1,30,100"
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a kill by PID still stops the server it started
    plan = [(args.dataset, args.k, args.page, tuple(args.sessions))]
    if args.quick:
        plan, args.seconds = QUICK, min(args.seconds, QUICK_SECONDS)
    print("machine:", json.dumps(machine()))
    results = []
    for dataset, k, page, counts in plan:
        for n in counts:
            result = one_run(args, dataset, k, page, n)
            results.append(result)
            print(line(result), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": machine(), "runs": results}, indent=1))
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
