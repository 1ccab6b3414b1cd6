"""Past one machine: N Streamlit replicas behind nginx with sticky sessions, and a class through them.

    python3 -m benchmarks.replicas --replicas 3 --students 90 --seconds 60
    python3 -m benchmarks.replicas --replicas 2 --students 6 --seconds 20
    python3 -m benchmarks.replicas --replicas 2 --students 6 --seconds 20 --affinity ip

Needs nginx on this machine (it installs nothing itself). On Debian/Ubuntu:
    apt-get install -y --no-install-recommends nginx

Streamlit keeps a session (widgets, st.session_state, a running training,
uploaded and download files) in the memory of the one server process that
holds the tab's websocket; a tab's uploads (HTTP PUT) and downloads (HTTP GET
/media/...) must reach that same process, and so must its websocket when it
reconnects after a network blip. This tool checks that deploy/nginx.conf does
that, on this machine:

- it starts ``--replicas`` ``streamlit run app.py`` processes on free ports of
  127.0.0.1 and one nginx (not a daemon, its own prefix, pid and logs in a
  temporary folder) on a free port, with deploy/nginx.conf itself: the
  replicas' ports and the listening port are filled in, and two lines are
  added for the measurement (a response header ``X-Upstream`` naming the
  replica, and the log paths);
- simulated students (benchmarks/classroom.py's students, speaking
  Streamlit's websocket protocol) connect through nginx, each from its own
  loopback address (127.0.0.2, 127.0.0.3, ...) and with its own cookie jar,
  as browsers do: the page's GET and ``/_stcore/health`` first (nginx sets the
  affinity cookie, Streamlit its XSRF cookie), then the websocket;
- ``--uploads`` students open the ROC page, choose "Your own CSV" and upload
  a CSV of their own (the HTTP PUT the browser makes), fetch the page's
  download file (GET /media/...), then move the threshold again and again,
  checking after every run that the page still reads their file;
- every student's websocket drops once ("a network blip", at 20-35 % of the
  run) and reconnects with its session id, as the browser does: with affinity
  it must resume the same session on the same replica;
- at ``--kill-at`` of the run the replica with the most students is killed
  (SIGKILL, its worker processes too). Its students reconnect the way the
  browser does (after 0.25 s, then backing off) through nginx, which sends
  them to another replica, where the page runs again in a fresh session; a
  trainer there presses Start again. The others must not notice.

Checks, in the JSON report (stdout; a short summary on stderr):

(a) ``affinity``: from nginx's access log (``$upstream_addr`` per request,
    ``X-Student`` names the student): every student's requests all went to one
    replica, except the kill's students, who moved once, to one other
    replica; every run of a session showed the same session id; every blip
    resumed the same session;
(b) ``uploads``: each upload's PUT went to the replica holding the uploader's
    websocket, and the page read the file there (its "Read **name**: N rows"
    box came back on every later run);
(c) ``kill``: which replica, the students on it, whether they reconnected, how
    long that took, where to, whether the session was fresh and what the page
    showed them; the other students' errors and drops (should be none) and
    their replicas' rerun latencies before and after;
(d) ``latency``: rerun time (a moved control to its finished run) p50/p95 per
    replica and overall; ``replicas``: each replica's CPU and memory.

It is bounded: at most 200 students and 8 replicas, the run ends after
``--seconds`` plus grace, and every process it started (replicas with their
worker processes, nginx) is stopped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import concurrent.futures
import http.client
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

from benchmarks import classroom
from benchmarks.classroom import (ANALYTIC_PAGES, FINISHED, FRAGMENT_FINISHED, LIVE_PAGES, Control, Plan, Report,
                                  _stats)

ROOT = Path(__file__).resolve().parent.parent
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
MAX_STUDENTS = 200
MAX_REPLICAS = 8
COOKIE = "st_affinity"
XSRF_COOKIE = "_streamlit_xsrf"
UPLOAD_PAGE = "roc"
THRESHOLD = "Threshold: a case is called positive"


# -- processes: replicas and nginx, always stopped ----------------------------------------------


class Processes:
    """Every process this run starts, each in its own process group; ``stop_all`` ends them all."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []
        atexit.register(self.stop_all)

    def start(self, cmd: list[str], log: Path, **kw) -> subprocess.Popen:
        with log.open("w") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kw)
        self.procs.append(proc)
        return proc

    @staticmethod
    def kill(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        """Signal the process's whole group (a replica's worker processes too)."""
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                self.kill(proc, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.procs:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                pass
            self.kill(proc, signal.SIGKILL)  # the group: a worker left behind goes too
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.procs.clear()


def _wait_healthy(procs: list[subprocess.Popen], bases: list[str], logs: list[Path], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    waiting = set(range(len(procs)))
    while waiting and time.monotonic() < deadline:
        for i in sorted(waiting):
            if procs[i].poll() is not None:
                raise SystemExit(f"replica {i} exited with {procs[i].returncode}:\n{logs[i].read_text()[-3000:]}")
            if classroom._healthy(bases[i]):
                waiting.discard(i)
        time.sleep(0.3)
    if waiting:
        raise SystemExit(f"replicas {sorted(waiting)} not healthy after {timeout:.0f} s:\n"
                         + logs[min(waiting)].read_text()[-3000:])


def start_replicas(n: int, tmp: Path, procs: Processes, app_dir: Path, extra: tuple[str, ...]) -> list[dict]:
    """``n`` ``streamlit run app.py`` on free ports of 127.0.0.1, started together."""
    replicas = []
    for i in range(n):
        port = classroom._free_port()
        log = tmp / f"replica{i}.log"
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1",
               "--browser.gatherUsageStats", "false", *extra]
        proc = procs.start(cmd, log, cwd=app_dir)
        replicas.append({"index": i, "port": port, "base": f"http://127.0.0.1:{port}", "proc": proc, "log": log})
    _wait_healthy([r["proc"] for r in replicas], [r["base"] for r in replicas], [r["log"] for r in replicas], 180)
    return replicas


def nginx_config(template: str, ports: list[int], listen_port: int, tmp: Path, affinity: str) -> str:
    """deploy/nginx.conf with this machine's replicas, port and paths filled in.

    Only these change: the upstream's ``server`` lines (one per replica, same
    parameters), ``listen``, ``worker_processes`` (1), the pid and log paths,
    the temporary-file paths (nginx's defaults need root), and one added
    response header, ``X-Upstream: $upstream_addr``, for the measurement. With
    ``affinity="ip"`` the upstream's ``hash`` line becomes the file's
    documented alternative, ``hash $remote_addr consistent``.
    """
    text = re.sub(r"(?m)^\s*(pid|error_log|access_log|user)\s[^;]*;[^\n]*\n", "", template)
    servers = list(re.finditer(r"(?m)^(\s*)server\s+app\d+:8501\b([^;]*);[^\n]*\n", text))
    if not servers:
        raise SystemExit(f"{NGINX_CONF}: no `server appN:8501 ...;` lines in its upstream")
    indent, params = servers[0].group(1), servers[0].group(2)
    block = "".join(f"{indent}server 127.0.0.1:{port}{params};\n" for port in ports)
    first = servers[0].start()
    for m in reversed(servers):  # drop every replica line, then put this machine's in the first one's place
        text = text[:m.start()] + text[m.end():]
    text = text[:first] + block + text[first:]
    checks = [(r"(?m)^(\s*)listen\s+80;", rf"\g<1>listen 127.0.0.1:{listen_port};"),
              (r"(?m)^worker_processes\s+\S+;", "worker_processes 1;"),
              (r"(?m)^(\s*)add_header Set-Cookie (.*)$", r"\g<0>\n\g<1>add_header X-Upstream $upstream_addr always;"),
              (r"(?m)^(\s*)upstream streamlit \{",
               rf"\g<1>access_log {tmp}/access.log st_affinity;\n"
               rf"\g<1>client_body_temp_path {tmp}/body;\n\g<1>proxy_temp_path {tmp}/proxy;\n"
               rf"\g<1>fastcgi_temp_path {tmp}/fastcgi;\n\g<1>uwsgi_temp_path {tmp}/uwsgi;\n"
               rf"\g<1>scgi_temp_path {tmp}/scgi;\n\n\g<0>")]
    if affinity == "ip":
        checks.append((r"(?m)^(\s*)hash \$st_affinity_key consistent;", r"\g<1>hash $remote_addr consistent;"))
    for pattern, repl in checks:
        text, count = re.subn(pattern, repl, text, count=1)
        if count != 1:
            raise SystemExit(f"{NGINX_CONF}: expected a line matching {pattern!r}")
    return f"pid {tmp}/nginx.pid;\nerror_log {tmp}/error.log warn;\n" + text


def nginx_binary() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx")
                                           if os.access(p, os.X_OK)), None)
    if not found:
        raise SystemExit("nginx is not installed. On Debian/Ubuntu: "
                         "apt-get install -y --no-install-recommends nginx")
    return found


def start_nginx(ports: list[int], tmp: Path, procs: Processes, affinity: str) -> tuple[subprocess.Popen, int, Path]:
    binary = nginx_binary()
    listen = classroom._free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(nginx_config(NGINX_CONF.read_text(), ports, listen, tmp, affinity))
    base_cmd = [binary, "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(conf)]
    check = subprocess.run(base_cmd + ["-t"], capture_output=True, text=True, timeout=30)
    if check.returncode != 0:
        raise SystemExit(f"nginx -t failed:\n{check.stderr}\n--- config ---\n{conf.read_text()}")
    proc = procs.start(base_cmd + ["-g", "daemon off;"], tmp / "nginx.out")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"nginx exited with {proc.returncode}: {(tmp / 'error.log').read_text()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", listen)) == 0:
                return proc, listen, tmp / "access.log"
        time.sleep(0.1)
    raise SystemExit("nginx did not listen in 20 s")


# -- one student: its address, its cookies, what happened to it --------------------------------


@dataclass
class Student:
    number: int
    role: str  # "upload", "analytic" or "training"
    page: str  # the page's name in classroom's tables
    url_path: str
    ip: str
    row: object = None  # the page's row in classroom's tables
    cookies: dict[str, str] = field(default_factory=dict)
    replica: int | None = None  # where its websocket is now
    connected: bool = False
    epochs: list[dict] = field(default_factory=list)  # one per websocket: t_s, replica, why
    requests: list[dict] = field(default_factory=list)  # every HTTP request and websocket, with the replica
    sessions: list[str] = field(default_factory=list)
    runs: int = 0  # full runs seen
    unexpected_session_changes: int = 0
    latencies: list[tuple[float, int | None, float, bool]] = field(default_factory=list)  # t_s, replica, s, moved
    blip: dict | None = None
    moved: dict | None = None  # after its replica was killed
    upload: dict | None = None
    content_checks: int = 0
    content_missing: int = 0
    drops: int = 0
    rerolls: int = 0

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def take_cookies(self, values: list[str]) -> None:
        for value in values:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0].strip()


class Run:
    """What all students share: nginx's address, the replicas, the clock, the kill."""

    def __init__(self, args, replicas: list[dict], nginx_port: int) -> None:
        self.args = args
        self.replicas = replicas
        self.by_port = {r["port"]: r["index"] for r in replicas}
        self.nginx_port = nginx_port
        self.base = f"http://127.0.0.1:{nginx_port}"
        self.students: dict[int, Student] = {}
        self.t0 = time.monotonic()
        self.kill: dict | None = None
        self.assigned = [0] * len(replicas)
        self.loop_pool = concurrent.futures.ThreadPoolExecutor(max_workers=16)
        self.loop: asyncio.AbstractEventLoop | None = None  # the students' event loop (its own thread)

    def abort(self) -> None:
        """Stop every student now (an interrupted run): cancel every task of their event loop."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(lambda: [task.cancel() for task in asyncio.all_tasks(loop)])
            except RuntimeError:
                pass  # the loop has just closed

    def t(self) -> float:
        return round(time.monotonic() - self.t0, 3)

    def replica_of(self, upstream: str | None) -> int | None:
        """The replica that answered: the last address of ``$upstream_addr``."""
        if not upstream:
            return None
        last = upstream.split(",")[-1].strip()
        try:
            return self.by_port.get(int(last.rsplit(":", 1)[1]))
        except (IndexError, ValueError):
            return None


class ReplicaTab(classroom.Tab):
    """classroom's browser tab, connecting like a browser behind nginx.

    Before its websocket it GETs the page and ``/_stcore/health`` (cookies);
    the websocket comes from the student's own loopback address with its
    cookies; when the connection drops it reconnects as the frontend does
    (with its session id, then a rerun with the widget values it holds). It
    also keeps what classroom's tab does not need: the session id of every
    run, alerts, the file uploader, the download button, upload URLs.
    """

    def __init__(self, base: str, student: int, report: Report, run: Run) -> None:
        super().__init__(run.base, student, report)
        self.run = run
        self.info = run.students[student]
        self.session_id = ""
        self.alerts: dict[tuple[int, ...], str] = {}
        self.elements: dict[str, object] = {}  # file_uploader / download_button by label
        self.file_urls: dict[str, object] = {}
        self.timed = self.info.role in ("analytic", "upload")
        self._pending = None
        self._expect_new_session = False
        self._blipping = False
        self._moves = 0
        self._alerts_at_drop: set[str] = set()
        self._up = asyncio.Event()  # set while the websocket is open

    # -- HTTP, as the browser does it -------------------------------------------------------
    def _http_sync(self, method: str, path: str, body: bytes | None, headers: dict) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.run.nginx_port, timeout=60,
                                          source_address=(self.info.ip, 0))
        try:
            sent = {"X-Student": str(self.student), **headers}
            if self.info.cookies:
                sent["Cookie"] = self.info.cookie_header()
            conn.request(method, path, body=body, headers=sent)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {"upstream": resp.getheader("X-Upstream"),
                                 "cookies": resp.headers.get_all("Set-Cookie") or []}, data
        finally:
            conn.close()

    async def http(self, method: str, path: str, kind: str, body: bytes | None = None,
                   headers: dict | None = None) -> tuple[int, int | None, bytes]:
        loop = asyncio.get_running_loop()
        status, meta, data = await loop.run_in_executor(self.run.loop_pool, self._http_sync, method, path, body,
                                                        headers or {})
        self.info.take_cookies(meta["cookies"])
        replica = self.run.replica_of(meta["upstream"])
        self.info.requests.append({"t_s": self.run.t(), "kind": kind, "method": method, "path": path[:80],
                                   "status": status, "replica": replica})
        return status, replica, data

    async def load_page(self) -> None:
        """The browser's first visit: the page (nginx sets the affinity cookie), then the health check."""
        cap = math.ceil(len(self.run.students) / len(self.run.replicas))
        for attempt in range(12):
            status, replica, _ = await self.http("GET", "/" + self.info.url_path, "page")
            if status != 200:
                raise classroom.Disconnected(f"GET /{self.info.url_path}: HTTP {status}")
            if (not self.run.args.balance or self.run.args.affinity != "cookie" or replica is None
                    or self.run.assigned[replica] < cap or attempt == 11):
                break
            # --balance: this replica is full; come back as a new browser (no cookie), another key
            self.info.cookies.pop(COOKIE, None)
            self.info.rerolls += 1
        if replica is not None:
            self.run.assigned[replica] += 1
        await self.http("GET", "/_stcore/health", "health")

    # -- the websocket -------------------------------------------------------------------------
    async def _open_ws(self, existing: str = "") -> None:
        import websockets

        token = self.info.cookies.get(XSRF_COOKIE) or "PLACEHOLDER_AUTH_TOKEN"
        protocols = ["streamlit", token] + ([existing] if existing else [])
        headers = {"X-Student": str(self.student)}
        if self.info.cookies:
            headers["Cookie"] = self.info.cookie_header()
        self._ws = await websockets.connect(self.ws_url, subprotocols=protocols, additional_headers=headers,
                                            max_size=None, open_timeout=30, ping_interval=None, proxy=None,
                                            local_addr=(self.info.ip, 0))
        response = self._ws.response
        self.info.take_cookies(response.headers.get_all("Set-Cookie"))
        replica = self.run.replica_of(response.headers.get("X-Upstream"))
        self.info.replica, self.info.connected = replica, True
        self._up.set()
        self.info.requests.append({"t_s": self.run.t(), "kind": "websocket", "method": "GET",
                                   "path": "/_stcore/stream", "status": 101, "replica": replica})

    async def connect(self) -> None:
        await self.load_page()
        await self._open_ws()
        self.info.epochs.append({"t_s": self.run.t(), "replica": self.info.replica, "why": "open"})
        self._reader = asyncio.create_task(self._read())
        blip = self.run.args.seconds * random.Random(self.student).uniform(0.15, 0.3)
        if self.run.args.blip:
            asyncio.create_task(self._blip_at(self.run.plan_start + blip))

    async def _blip_at(self, when: float) -> None:
        """Drop the websocket once, after the page's first run (the browser knows its session id by then)."""
        await asyncio.sleep(max(when - time.monotonic(), 0))
        while not (self.closed or self.finish_count and self.session_id):
            await asyncio.sleep(0.2)
        args = self.run.args
        latest = (args.kill_at - 0.15 if args.kill_at > 0 else 0.6) * args.seconds  # done before the kill
        if self.closed or not self.info.connected or self._moves or self.info.moved \
                or time.monotonic() > self.run.plan_start + latest:
            return
        self._blipping = True
        await self._ws.close()

    async def _read(self) -> None:
        while True:
            why = "the server closed the connection"
            try:
                async for raw in self._ws:
                    msg = classroom.ForwardMsg()
                    msg.ParseFromString(raw)
                    self._handle(msg)
                    self._changed.set()
            except Exception as error:  # a dropped connection ends this websocket
                why = f"{type(error).__name__}: {error}"
            finally:
                self._stop_auto()
                self._changed.set()
            self.info.connected = False
            self._up.clear()
            if self.closed:
                return
            if not await self._reconnect(why):
                return

    async def _reconnect(self, why: str) -> bool:
        """The frontend's reconnect: retry after 0.25 s, backing off to 5 s, for up to 60 s."""
        blip, self._blipping = self._blipping, False
        t_drop, old_replica, old_session = self.run.t(), self.info.replica, self.session_id
        self._alerts_at_drop = set(self.alerts.values())
        if not blip:
            self.info.drops += 1
        delay, deadline, last = 0.25, time.monotonic() + 60, why
        failed: list[str] = []
        while True:
            await asyncio.sleep(delay)
            if self.closed:
                return False
            try:
                await self._open_ws(existing=old_session)
                break
            except Exception as error:
                last = f"{type(error).__name__}: {error}"
                failed.append(f"{self.run.t()} {last[:160]}")
                if time.monotonic() + delay > deadline:
                    self.report.error(self.student, self.page, "disconnect",
                                      f"{why}; no reconnect in 60 s ({last})")
                    return False
                delay = min(delay * 2, 5.0)
        reason = "blip" if blip else "dropped"
        self.info.epochs.append({"t_s": self.run.t(), "replica": self.info.replica, "why": reason})
        self._expect_new_session = True
        asyncio.create_task(self._after_reconnect(reason, t_drop, old_replica, old_session, why, failed))
        return True

    async def _after_reconnect(self, reason: str, t_drop: float, old_replica, old_session: str, why: str,
                               failed: list[str]) -> None:
        """The frontend reruns the page with the widget values it holds; what came back?"""
        self._moves += 1
        epoch = len(self.info.epochs)
        try:
            # the page the browser shows (its URL names it even before a first run told its hash)
            before = await super().rerun(page_name=None if self.page_hash else self.page)
            await self.wait_finish(before, {FINISHED}, self.run.args.action_timeout)
        except (TimeoutError, classroom.Disconnected, RuntimeError) as error:
            if not self.closed and len(self.info.epochs) == epoch:
                self.report.error(self.student, self.page, classroom._kind(error),
                                  f"rerun after reconnecting: {error}")
            return
        if len(self.info.epochs) != epoch:
            return  # the connection dropped again before this run finished: the next reconnect reports
        same = self.session_id == old_session
        kill = self.run.kill
        if reason == "blip" and kill and old_replica == kill["replica"] and self.info.replica != old_replica:
            reason = "dropped"  # its replica died while it reconnected after the blip: it moved
        entry = {"t_drop_s": t_drop, "back_after_s": round(self.run.t() - t_drop, 2),
                 "from_replica": old_replica, "to_replica": self.info.replica, "same_session": same}
        if failed:
            entry["failed_attempts"] = failed[:6]
        if reason == "blip":
            self.info.blip = entry
            return
        entry["why"] = why[:200]
        # what the page shows now that it did not show before the drop, and what it no longer shows
        now, then = set(self.alerts.values()), self._alerts_at_drop
        entry["page_shows"] = sorted(text[:160] for text in now - then)
        entry["page_no_longer_shows"] = sorted(text[:160] for text in then - now)
        status = [t for t in self.texts.values() if re.match(r"^(Step|Generator step|Epoch) [\d,]+", t)]
        if status:
            entry["status_text"] = status[0][:120]
        if self.info.role == "training" and not same:
            # a student on a fresh page presses Start again
            starts = [w for label in ("Start", "Resume") for w in self.find("button", label) if not w.proto.disabled]
            if starts:
                entry["pressed_start_again"] = True
                try:
                    await super().rerun(trigger=starts[0].proto.id)
                except classroom.Disconnected:
                    entry["pressed_start_again"] = False
        self.info.moved = entry

    # -- timing the student's own reruns ------------------------------------------------------
    async def rerun(self, *, page_name: str | None = None, fragment_id: str = "", auto: bool = False,
                    trigger: str | None = None) -> int:
        before = await self._while_connected(lambda: super(ReplicaTab, self).rerun(
            page_name=page_name, fragment_id=fragment_id, auto=auto, trigger=trigger), auto)
        if self.timed and not auto and page_name is None:
            self._pending = (time.monotonic(), self.run.t(), before, self.info.replica, self._moves)
        return before

    async def _while_connected(self, send, auto: bool = False):
        """Send when the websocket is open: while it reconnects the browser's widgets wait (are disabled)."""
        deadline = time.monotonic() + self.run.args.action_timeout
        while True:
            if not self._up.is_set():
                if auto or self.closed:
                    raise classroom.Disconnected("not connected")
                try:
                    await asyncio.wait_for(self._up.wait(), max(deadline - time.monotonic(), 0.01))
                except TimeoutError:
                    raise classroom.Disconnected("not reconnected in time") from None
            try:
                return await send()
            except classroom.Disconnected:
                if auto or self.closed or time.monotonic() > deadline:
                    raise
                self._up.clear()  # the reader has seen it drop, or is about to
                await asyncio.sleep(0.05)

    async def send_backmsg(self, msg) -> None:
        async def send():
            try:
                await self._ws.send(msg.SerializeToString())
            except Exception as why:
                raise classroom.Disconnected(str(why)) from why
        await self._while_connected(send)

    # -- receiving: what classroom's tab keeps, and more ---------------------------------------
    def _handle(self, msg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session" and not msg.metadata.run.fragment_ids:
            sid = msg.new_session.initialize.session_id
            if sid:
                if self.session_id and sid != self.session_id and not self._expect_new_session:
                    self.info.unexpected_session_changes += 1
                if sid not in self.info.sessions:
                    self.info.sessions.append(sid)
                self.session_id = sid
                self._expect_new_session = False
            self.info.runs += 1
            self.alerts = {}
        elif kind == "file_urls_response":
            self.file_urls[msg.file_urls_response.response_id] = msg.file_urls_response
        super()._handle(msg)
        if kind == "script_finished" and self._pending is not None and self.finish_count > self._pending[2] \
                and msg.script_finished in (FINISHED, FRAGMENT_FINISHED):
            start, t_s, _, replica, moves = self._pending
            self.info.latencies.append((t_s, replica, time.monotonic() - start, moves != self._moves))
            self._pending = None

    def _delta(self, msg) -> None:
        super()._delta(msg)
        delta = msg.delta
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        etype = element.WhichOneof("type")
        if etype == "alert":
            self.alerts[tuple(msg.metadata.delta_path)] = element.alert.body
        elif etype in ("file_uploader", "download_button"):
            proto = getattr(element, etype)
            self.elements[f"{etype}:{proto.label}"] = proto

    def element(self, etype: str, label: str):
        return next((p for key, p in self.elements.items() if key.startswith(etype + ":") and label.lower()
                     in key.lower()), None)


# -- the upload student -------------------------------------------------------------------------


def _csv_for(student: int) -> tuple[str, bytes, int]:
    rng = random.Random(student)
    rows = 100 + student
    lines = ["label,score"] + [f"{rng.randint(0, 1)},{rng.random():.4f}" for _ in range(rows)]
    lines[1], lines[2] = "0,0.1000", "1,0.9000"  # both classes, always
    return f"student-{student}.csv", ("\n".join(lines) + "\n").encode(), rows


def _multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = f"----replicas{random.getrandbits(64):016x}"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


async def _upload(tab: "ReplicaTab", name: str, data: bytes, plan: Plan) -> dict:
    """What the browser does for st.file_uploader: ask the session for an upload URL, PUT the file over HTTP,
    then rerun with the file in the widget's state. Returns where each part went."""
    from streamlit.proto.Common_pb2 import FileURLs, FileUploaderState, UploadedFileInfo
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    info = tab.info
    # a student waits until the page shows the uploader (a run cut short by a reconnect may not have drawn it)
    deadline = time.monotonic() + plan.action_timeout
    while (uploader := tab.element("file_uploader", "CSV of labels and scores")) is None:
        if time.monotonic() > deadline:
            raise RuntimeError("no file uploader on the ROC page's CSV source")
        tab._changed.clear()
        try:
            await asyncio.wait_for(tab._changed.wait(), 1.0)
        except TimeoutError:
            pass
    msg = classroom.BackMsg()
    request_id = f"r{tab.student}-{len(tab.file_urls)}"
    msg.file_urls_request.request_id = request_id
    msg.file_urls_request.file_names.append(name)
    msg.file_urls_request.session_id = tab.session_id
    record = {"ws_replica": info.replica, "session": tab.session_id}
    await tab.send_backmsg(msg)
    deadline = time.monotonic() + plan.action_timeout
    moves = tab._moves
    while request_id not in tab.file_urls:
        if tab._moves != moves:  # the websocket dropped: the browser asks its (new) session again
            moves = tab._moves
            msg.file_urls_request.session_id = tab.session_id
            await tab.send_backmsg(msg)
        if time.monotonic() > deadline:
            raise TimeoutError("no upload URL from the session")
        tab._changed.clear()
        try:
            await asyncio.wait_for(tab._changed.wait(), 1.0)
        except TimeoutError:
            pass
    urls = tab.file_urls[request_id].file_urls[0]
    body, content_type = _multipart(name, data)
    headers = {"Content-Type": content_type, "X-Xsrftoken": info.cookies.get(XSRF_COOKIE, "")}
    status, replica, answer = await tab.http("PUT", urls.upload_url, "upload", body, headers)
    record.update(put_status=status, put_replica=replica, session_replica=info.replica,
                  same_replica=replica == info.replica)
    if status not in (200, 204):
        record["put_answer"] = answer.decode(errors="replace")[:300]
        raise RuntimeError(f"upload: HTTP {status} {answer[:200]!r}")
    file_info = UploadedFileInfo(file_id=urls.file_id, name=name, size=len(data),
                                 file_urls=FileURLs(file_id=urls.file_id, upload_url=urls.upload_url,
                                                    delete_url=urls.delete_url))
    tab.held[uploader.id] = WidgetState(id=uploader.id, file_uploader_state_value=FileUploaderState(
        uploaded_file_info=[file_info]))
    before = await tab.rerun()
    await tab.wait_finish(before, {FINISHED}, plan.action_timeout)
    # its replica died between the PUT and this run: the new session never had the file (a session that
    # changed just after the run finished counts too; the caller's page_read_file tells them apart)
    record["moved_before_the_page_read_it"] = tab.session_id != record["session"]
    return record


async def upload_student(number: int, plan: Plan, report: Report, delay: float, run: Run) -> None:
    """ROC page, "Your own CSV": upload a file of its own, then move the threshold; the page must keep the file.

    A student whose replica dies finds the page without its file (a fresh session) and uploads it again."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    rng = random.Random(plan.seed * 1000 + number)
    await asyncio.sleep(delay)
    info = run.students[number]
    tab = classroom.Tab(plan.base, number, report)  # a ReplicaTab while the run is on
    name, data, rows = _csv_for(number)
    record = {"student": number, "file": name, "rows": rows}
    info.upload = record
    expected = f"Read **{name}**: {rows:,} rows"
    shows_file = lambda: any(body.startswith(expected) for body in tab.alerts.values())  # noqa: E731
    try:
        await tab.connect()
        report.opens.setdefault(UPLOAD_PAGE, []).append(await tab.open(UPLOAD_PAGE, plan.open_timeout))
        radios = tab.find("radio", "Source of scores")
        if not radios:
            raise RuntimeError("no radio 'Source of scores' on the ROC page")
        radio = radios[0]
        option = next(o for o in radio.proto.options if "CSV" in o)
        tab.held[radio.proto.id] = WidgetState(id=radio.proto.id, string_value=option)
        before = await tab.rerun(fragment_id=radio.fragment_id)
        await tab.wait_finish(before, {FINISHED, FRAGMENT_FINISHED}, plan.action_timeout)
        record.update(await _upload(tab, name, data, plan))
        record["page_read_file"] = shows_file()
        session = record["session"]
        if not record["page_read_file"]:
            record["page_shows"] = sorted(tab.alerts.values())[:5]
        # the page's download file (st.download_button) lives in the session's process too
        download = tab.element("download_button", "Example CSV")
        if download is not None and download.url:
            status, replica, answer = await tab.http("GET", download.url, "download")
            record.update(download_status=status, download_replica=replica,
                          download_ok=status == 200 and answer.startswith(b"label,score"))
        # then the threshold, again and again; every run must still show the file
        control = Control(THRESHOLD)
        while time.monotonic() < plan.end_at:
            if tab.session_id and tab.session_id != session and "again" not in record and not shows_file():
                # moved to another replica: the page has no file any more; upload it again, there
                again = await _upload(tab, name, data, plan)
                again["page_read_file"] = shows_file()
                record["again"] = again
                continue
            found = [w for w in tab.find("slider", THRESHOLD)]
            if not found:
                raise RuntimeError("no threshold slider after the upload")
            widget = found[0]
            tab.held[widget.proto.id] = classroom.new_value(widget, tab.held.get(widget.proto.id), control, rng)
            moves = tab._moves
            before = await tab.rerun(fragment_id=widget.fragment_id)
            timeout = min(plan.action_timeout, max(plan.end_at - time.monotonic(), 0) + plan.grace)
            try:
                await tab.wait_finish(before, {FINISHED, FRAGMENT_FINISHED}, timeout)
            except TimeoutError:
                if timeout >= plan.action_timeout:
                    raise
                report.unfinished += 1
                break
            if not info.moved and tab._moves == moves:
                info.content_checks += 1
                if not shows_file():
                    info.content_missing += 1
            await asyncio.sleep(plan.think * rng.uniform(0.5, 1.5))
    except (TimeoutError, classroom.Disconnected, RuntimeError, OSError, ValueError, StopIteration) as why:
        report.error(number, UPLOAD_PAGE, classroom._kind(why), f"{type(why).__name__}: {why}")
    finally:
        await tab.close()


# -- the class, through nginx -------------------------------------------------------------------


def plan_students(args) -> list[Student]:
    n = args.students
    n_train = min(args.training if args.training is not None else n // 6, n)
    n_upload = min(args.uploads if args.uploads is not None else max(1, n // 10), n - n_train)
    students = []
    for i in range(n):
        ip = f"127.0.{(i + 2) // 256}.{(i + 2) % 256}"
        if i < n_train:
            page = LIVE_PAGES[i % len(LIVE_PAGES)]
            students.append(Student(i, "training", page.name, page.url_path, ip, page))
        elif i < n_train + n_upload:
            students.append(Student(i, "upload", UPLOAD_PAGE, UPLOAD_PAGE, ip))
        else:
            page = ANALYTIC_PAGES[(i - n_train - n_upload) % len(ANALYTIC_PAGES)]
            students.append(Student(i, "analytic", page.name, page.url_path, ip, page))
    return students


async def _kill_later(run: Run, when: float) -> None:
    await asyncio.sleep(max(when - time.monotonic(), 0))
    # a student's replica is where its last websocket went, connected or reconnecting (after a blip) right now
    counts = [0] * len(run.replicas)
    for s in run.students.values():
        if s.replica is not None:
            counts[s.replica] += 1
    victim = max(range(len(counts)), key=lambda r: (counts[r], -r))
    on_it = sorted(s.number for s in run.students.values() if s.replica == victim)
    Processes.kill(run.replicas[victim]["proc"])
    run.kill = {"replica": victim, "t_s": run.t(), "students_on_it": on_it, "students_per_replica": counts,
                "reconnecting_at_the_kill": sorted(s.number for s in run.students.values()
                                                   if s.replica == victim and not s.connected)}


async def simulate(args, run: Run) -> dict:
    run.loop = asyncio.get_running_loop()
    classroom._import_protos()
    report = Report()
    # every replica opens the pages of this run once, alone, before the clock starts
    warmup_s = None
    if args.warmup:
        pages = sorted({s.url_path for s in run.students.values()})
        start = time.monotonic()
        await asyncio.gather(*(classroom.warm_up(r["base"], pages, report, args.open_timeout)
                               for r in run.replicas))
        warmup_s = round(time.monotonic() - start, 1)
    warm_errors = list(report.errors)
    report = Report()

    samplers = [classroom.ProcSampler(r["proc"].pid) for r in run.replicas]
    stop = asyncio.Event()
    sampling = [asyncio.create_task(s.run(stop)) for s in samplers]
    rss_start = [s.rss() for s in samplers]
    load_start = os.getloadavg()

    plan = Plan(run.base, args.seconds, args.think, args.open_timeout, args.action_timeout, args.grace, args.seed)
    plan.start_at = time.monotonic()
    plan.end_at = plan.start_at + args.seconds
    run.t0 = report.t0 = run.plan_start = plan.start_at
    rng = random.Random(args.seed)
    coros = []
    for s in run.students.values():
        delay = rng.uniform(0, args.ramp) if args.ramp > 0 else 0.0
        if s.role == "training":
            coros.append(classroom.training_student(s.number, s.row, plan, report, delay))
        elif s.role == "upload":
            coros.append(upload_student(s.number, plan, report, delay, run))
        else:
            coros.append(classroom.analytic_student(s.number, s.row, plan, report, delay))
    killer = asyncio.create_task(_kill_later(run, plan.start_at + args.kill_at * args.seconds)) \
        if args.kill_at > 0 else None
    with mock.patch.object(classroom, "Tab", lambda base, number, rep: ReplicaTab(base, number, rep, run)):
        tasks = [asyncio.create_task(c) for c in coros]
        hard_limit = args.seconds + args.open_timeout + args.action_timeout + args.grace + 60
        done, pending = await asyncio.wait(tasks, timeout=hard_limit)
    for task in pending:
        task.cancel()
        report.error(-1, "", "timeout", "a student was still busy at the hard time limit and was stopped")
    if pending:
        await asyncio.wait(pending, timeout=30)
    for task in done:
        if task.exception() is not None:
            why = task.exception()
            report.error(-1, "", "crash", f"{type(why).__name__}: {why}")
    if killer is not None:
        if not killer.done():
            killer.cancel()
        elif killer.exception() is not None:
            report.error(-1, "", "crash", f"the kill: {killer.exception()!r}")
    run_s = time.monotonic() - plan.start_at
    stop.set()
    await asyncio.gather(*sampling)
    return {"report": report, "warmup_s": warmup_s, "warm_errors": warm_errors, "run_s": run_s,
            "samplers": samplers, "rss_start": rss_start, "load_start": load_start}


# -- the access log -----------------------------------------------------------------------------

LOG_LINE = re.compile(r'^(?P<addr>\S+) \[(?P<time>[^\]]+)\] "(?P<method>\S+) (?P<uri>\S*)" (?P<status>\d+) '
                      r'up="(?P<up>[^"]*)" key="(?P<key>[^"]*)" t=(?P<t>\S+) student="(?P<student>[^"]*)"')


def parse_access_log(text: str, run: Run) -> list[dict]:
    entries = []
    for line in text.splitlines():
        m = LOG_LINE.match(line)
        if not m or not m["student"].isdigit():
            continue
        ups = [u.strip() for u in m["up"].split(",") if u.strip() and u.strip() != "-"]
        entries.append({"student": int(m["student"]), "method": m["method"], "uri": m["uri"],
                        "status": int(m["status"]), "tried": [run.replica_of(u) for u in ups],
                        "replica": run.replica_of(ups[-1]) if ups else None, "addr": m["addr"], "key": m["key"]})
    return entries


def check_affinity(entries: list[dict], run: Run) -> dict:
    """Every browser (a student with its cookie) on one replica; the kill's on one before it and one other after.

    A student that came back without its cookie (``--balance``) is a new browser from then on."""
    victim = run.kill["replica"] if run.kill else None
    moved = set(run.kill["students_on_it"]) if run.kill else set()
    by_student: dict[int, list[dict]] = {}
    by_browser: dict[tuple[int, str], list[dict]] = {}  # a student and its cookie: one browser
    for e in entries:
        by_student.setdefault(e["student"], []).append(e)
        by_browser.setdefault((e["student"], e["key"]), []).append(e)
    violations = []
    for (number, _), reqs in sorted(by_browser.items()):
        replicas = [e["replica"] for e in reqs if e["replica"] is not None]
        unique = set(replicas)
        if number in moved:
            after = unique - {victim}
            ok = len(after) <= 1
        else:
            ok = len(unique) <= 1
        if not ok:
            violations.append({"student": number, "replicas": sorted(unique),
                               "requests": [(e["method"], e["uri"][:40], e["replica"]) for e in reqs][:20]})
    mismatch = 0
    for s in run.students.values():
        logged = sorted(e["replica"] for e in by_student.get(s.number, []) if e["replica"] is not None)
        seen = sorted(r["replica"] for r in s.requests if r["replica"] is not None)
        if set(logged) != set(seen):
            mismatch += 1
    sources = {}
    for e in entries:
        sources.setdefault(e["student"], set()).add(e["addr"])
    return {
        "requests_logged": len(entries),
        "requests_by_kind": {k: sum(1 for e in entries if k in e["uri"]) for k in
                             ("/_stcore/stream", "/_stcore/upload_file", "/media/", "/_stcore/health")},
        "students_logged": len(by_student),
        "violations": len(violations),
        "violating_students": violations[:10],
        "failover_requests": sum(1 for e in entries if len(e["tried"]) > 1),
        "students_whose_own_view_differs_from_the_log": mismatch,
        "distinct_source_addresses": len({a for addrs in sources.values() for a in addrs}),
    }


# -- the report ---------------------------------------------------------------------------------


def summarise(args, run: Run, sim: dict, log_entries: list[dict]) -> dict:
    report: Report = sim["report"]
    students = list(run.students.values())
    kill = run.kill
    victims = set(kill["students_on_it"]) if kill else set()
    kill_t = kill["t_s"] if kill else math.inf

    # (d) latency per replica and overall (reruns across a move are reported apart)
    per_replica = {r["index"]: [] for r in run.replicas}
    across = []
    for s in students:
        for t_s, replica, dt, moved in s.latencies:
            if moved:
                across.append(dt)
            elif replica is not None:
                per_replica[replica].append((t_s, dt))
    overall = [dt for values in per_replica.values() for _, dt in values]
    latency = {"overall": _stats(overall),
               "per_replica": {str(r): _stats([dt for _, dt in v]) for r, v in per_replica.items()},
               "reruns_that_waited_across_a_reconnect": _stats(across)}

    # (a) state and affinity
    affinity = check_affinity(log_entries, run)
    blips = [s.blip for s in students if s.blip]
    affinity["blips"] = len(blips)
    affinity["blips_resumed_same_session"] = sum(1 for b in blips if b["same_session"])
    affinity["blips_same_replica"] = sum(1 for b in blips if b["from_replica"] == b["to_replica"])
    affinity["blips_not_resumed"] = [{"student": s.number, **s.blip} for s in students
                                     if s.blip and not s.blip["same_session"]][:10]
    affinity["runs_seen"] = sum(s.runs for s in students)
    affinity["session_changed_without_a_reconnect"] = sum(s.unexpected_session_changes for s in students)
    affinity["upload_content_checks"] = sum(s.content_checks for s in students)
    affinity["upload_content_missing"] = sum(s.content_missing for s in students)
    counts = {str(r["index"]): sum(1 for s in students if s.epochs and s.epochs[0]["replica"] == r["index"])
              for r in run.replicas}
    affinity["students_per_replica_at_first_connect"] = counts
    affinity["cookie_rerolls_for_balance"] = sum(s.rerolls for s in students)

    # (b) uploads
    uploads = [s.upload for s in students if s.upload]
    for u in uploads:
        puts = [e for e in log_entries if e["student"] == u["student"] and "/_stcore/upload_file/" in e["uri"]
                and e["method"] == "PUT"]
        socks = [e for e in log_entries if e["student"] == u["student"] and e["uri"] == "/_stcore/stream"]
        u["log_put_replicas"] = [e["replica"] for e in puts]
        u["log_ws_replicas"] = sorted({e["replica"] for e in socks if e["replica"] is not None})
    again = [u["again"] for u in uploads if "again" in u]
    made = [u for u in uploads if "put_status" in u]
    upload_summary = {"n": len(uploads), "put_made": len(made),
                      "lost_to_the_kill_before_the_page_read_it": sum(
                          1 for u in made if u.get("moved_before_the_page_read_it") and not u.get("page_read_file")),
                      "put_on_session_replica": sum(1 for u in uploads if u.get("same_replica")),
                      "page_read_file": sum(1 for u in uploads if u.get("page_read_file")),
                      "download_ok": sum(1 for u in uploads if u.get("download_ok")),
                      "uploaded_again_after_a_move": len(again),
                      "again_on_new_session_replica": sum(1 for a in again if a.get("same_replica")
                                                          and a.get("page_read_file")),
                      "details": uploads[:20]}

    # (c) the kill
    errors = report.errors
    by_student = {}
    for e in errors:
        by_student.setdefault(e["student"], []).append(e)
    others = [s for s in students if s.number not in victims]
    kill_report = None
    if kill:
        movers = [s for s in students if s.number in victims]
        moved = [s.moved for s in movers if s.moved]
        survivors = [r["index"] for r in run.replicas if r["index"] != kill["replica"]]
        before_after = {}
        for r in survivors:
            values = per_replica[r]
            before_after[str(r)] = {"before": _stats([dt for t, dt in values if t < kill_t]),
                                    "after": _stats([dt for t, dt in values if t >= kill_t])}
        shows, gone = {}, {}
        for m in moved:
            for text in m.get("page_shows", []):
                shows[text] = shows.get(text, 0) + 1
            for text in m.get("page_no_longer_shows", []):
                gone[text] = gone.get(text, 0) + 1
        kill_report = {
            **kill,
            "students_moved": len(moved),
            "reconnected": sum(1 for m in moved if m["to_replica"] is not None),
            "moved_to": {str(r): sum(1 for m in moved if m["to_replica"] == r) for r in survivors},
            "fresh_session": sum(1 for m in moved if not m["same_session"]),
            "back_after_s": _stats([m["back_after_s"] for m in moved]),
            "trainers_pressed_start_again": sum(1 for m in moved if m.get("pressed_start_again")),
            "page_shows_after_move": dict(sorted(shows.items(), key=lambda kv: -kv[1])[:10]),
            "page_no_longer_shows_after_move": dict(sorted(gone.items(), key=lambda kv: -kv[1])[:10]),
            "status_text_after_move": sorted({m["status_text"] for m in moved if m.get("status_text")})[:5],
            "moved_students_errors": sum(len(by_student.get(s.number, [])) for s in movers),
            "others": {"students": len(others),
                       "errors": sum(len(by_student.get(s.number, [])) for s in others),
                       "unplanned_drops": sum(s.drops for s in others),
                       "latency_before_after_kill": before_after},
        }

    trainers = []
    for t in sorted(report.trainers, key=lambda r: r["student"]):
        s = run.students[t["student"]]
        trainers.append({**t, "replica_first": s.epochs[0]["replica"] if s.epochs else None,
                         "moved": s.number in victims})

    samplers = sim["samplers"]
    client_cpu = samplers[0].client_cpu if samplers else []
    replicas = []
    for r, sampler, rss0 in zip(run.replicas, samplers, sim["rss_start"]):
        log_text = r["log"].read_text(errors="replace") if r["log"].exists() else ""
        cpu = sampler.cpu
        replicas.append({"index": r["index"], "port": r["port"], "pid": r["proc"].pid,
                         "killed": bool(kill and kill["replica"] == r["index"]),
                         "cpu_percent_mean": round(sum(cpu) / len(cpu), 1) if cpu else None,
                         "rss_mb_start": round(rss0, 1) if rss0 else None,
                         "rss_mb_peak": round(max(sampler.rss_mb), 1) if sampler.rss_mb else None,
                         "tracebacks": classroom.traceback_lines(log_text)[:20]})

    kinds: dict[str, int] = {}
    for e in errors:
        key = f"{e['kind']}: {e['message'].splitlines()[0][:160] if e['message'] else ''}"
        kinds[key] = kinds.get(key, 0) + 1

    checks = {
        "affinity_held": affinity["violations"] == 0 and affinity["session_changed_without_a_reconnect"] == 0
        and affinity["blips_resumed_same_session"] == affinity["blips"]
        and affinity["upload_content_missing"] == 0,
        # every PUT made reached its session's replica and that session read the file (unless the kill took
        # the session between the PUT and the read: then the upload made again on the new replica counts)
        "uploads_on_session_replica": bool(made) and all(
            u.get("same_replica") and u["log_put_replicas"] and set(u["log_put_replicas"]) <= set(u["log_ws_replicas"])
            and (u.get("page_read_file") or u.get("moved_before_the_page_read_it"))
            and (u.get("again") is None or (u["again"].get("same_replica") and u["again"].get("page_read_file")))
            for u in made),
        "killed_sessions_moved": None if not kill else bool(kill["students_on_it"]) and all(
            s.moved and s.moved["to_replica"] not in (None, kill["replica"])
            and not s.moved["same_session"] for s in students if s.number in victims),
        "others_unaffected": None if not kill else bool(others) and kill_report["others"]["errors"] == 0
        and kill_report["others"]["unplanned_drops"] == 0,
    }
    return {
        "config": {"replicas": args.replicas, "students": args.students,
                   "training": sum(1 for s in students if s.role == "training"),
                   "uploads": sum(1 for s in students if s.role == "upload"),
                   "analytic": sum(1 for s in students if s.role == "analytic"),
                   "seconds": args.seconds, "think_s": args.think, "ramp_s": args.ramp, "kill_at": args.kill_at,
                   "affinity": args.affinity, "balance": args.balance, "blip": args.blip, "seed": args.seed,
                   "nginx": f"{nginx_binary()} on {run.base}, config from deploy/nginx.conf"},
        "machine": {"cpus": os.cpu_count(), "loadavg_at_start": [round(x, 2) for x in sim["load_start"]],
                    "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
        "warmup_s": sim["warmup_s"],
        "run_s": round(sim["run_s"], 1),
        "checks": checks,
        "affinity": affinity,
        "uploads": upload_summary,
        "kill": kill_report,
        "latency": latency,
        "open": _stats([v for values in report.opens.values() for v in values]),
        "client_cpu_percent_mean": round(sum(client_cpu) / len(client_cpu), 1) if client_cpu else None,
        "training": trainers,
        "replicas": replicas,
        "error_count": len(errors),
        "errors_by_kind": kinds,
        "errors": errors[:100],
        "warmup_errors": sim["warm_errors"][:20],
        "error_alerts_shown": report.alerts,
    }


def human_summary(result: dict) -> str:
    c, a, u, k, lat = result["config"], result["affinity"], result["uploads"], result["kill"], result["latency"]
    s = lambda st: f"p50 {st['p50_s']} s, p95 {st['p95_s']} s (n={st['n']})" if st["n"] else "none"  # noqa: E731
    lines = [f"{c['students']} students ({c['training']} training, {c['uploads']} uploading) over {c['replicas']} "
             f"replicas behind nginx ({c['affinity']} affinity) for {c['seconds']} s; load average at start "
             f"{result['machine']['loadavg_at_start'][0]} on {result['machine']['cpus']} CPUs",
             "  checks: " + ", ".join(f"{name} {'yes' if ok else ('n/a' if ok is None else 'NO')}"
                                      for name, ok in result["checks"].items()),
             f"  affinity: {a['requests_logged']} requests logged from {a['distinct_source_addresses']} addresses, "
             f"{a['violations']} students off their replica, {a['failover_requests']} failover requests; "
             f"students per replica {a['students_per_replica_at_first_connect']}; blips resumed the same session "
             f"{a['blips_resumed_same_session']}/{a['blips']}; session id changed without a reconnect "
             f"{a['session_changed_without_a_reconnect']} times in {a['runs_seen']} runs",
             f"  uploads: {u['put_made']} of {u['n']} uploading students got to upload; {u['put_on_session_replica']} "
             f"PUTs on the session's replica, page read the file {u['page_read_file']} "
             f"(lost to the kill before the read: {u['lost_to_the_kill_before_the_page_read_it']}), download file "
             f"fetched {u['download_ok']}; file missing on "
             f"{a['upload_content_missing']} of {a['upload_content_checks']} later runs; uploaded again after a move "
             f"{u['again_on_new_session_replica']}/{u['uploaded_again_after_a_move']} on the new replica"]
    if k:
        o = k["others"]
        lines.append(f"  kill: replica {k['replica']} at {k['t_s']} s with {len(k['students_on_it'])} students; "
                     f"{k['reconnected']} reconnected to {k['moved_to']} after {s(k['back_after_s'])}, "
                     f"{k['fresh_session']} in a fresh session; the other {o['students']} students: "
                     f"{o['errors']} errors, {o['unplanned_drops']} drops")
        for text, n in list(k["page_shows_after_move"].items())[:3]:
            lines.append(f"    after the move {n} saw (new): {text[:110]}")
        for text, n in list(k["page_no_longer_shows_after_move"].items())[:3]:
            lines.append(f"    after the move {n} no longer saw: {text[:110]}")
        for text in k["status_text_after_move"][:3]:
            lines.append(f"    a status line after the move: {text[:110]}")
        for r, ba in o["latency_before_after_kill"].items():
            lines.append(f"    replica {r} reruns before the kill {s(ba['before'])}; after {s(ba['after'])}")
    lines.append(f"  reruns overall: {s(lat['overall'])}; this client (all the students) used "
                 f"{result['client_cpu_percent_mean']} % of a core")
    for r, st in lat["per_replica"].items():
        rep = result["replicas"][int(r)]
        lines.append(f"    replica {r}: {s(st)}; CPU {rep['cpu_percent_mean']} %, RSS {rep['rss_mb_start']} -> peak "
                     f"{rep['rss_mb_peak']} MB{' (killed)' if rep['killed'] else ''}")
    across = lat["reruns_that_waited_across_a_reconnect"]
    if across["n"]:
        lines.append(f"    reruns that waited across a reconnect (blip or move): {s(across)}")
    for t in result["training"]:
        if "updates_per_s" in t:
            lines.append(f"  trainer #{t['student']} {t['page']} (replica {t['replica_first']}"
                         f"{', moved' if t['moved'] else ''}): {t['updates_per_s']} updates/s, "
                         f"restarts {t['restarts']}")
    lines.append(f"  errors seen by students: {result['error_count']}")
    for kind, n in result["errors_by_kind"].items():
        lines.append(f"    {n} x {kind}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None):
    ap = argparse.ArgumentParser(prog="python3 -m benchmarks.replicas", description=__doc__.split("\n\n")[0],
                                 epilog="Needs nginx: apt-get install -y --no-install-recommends nginx",
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replicas", type=int, default=3, help="Streamlit server processes (default 3)")
    ap.add_argument("--students", type=int, default=30, help="simulated students in all (default 30)")
    ap.add_argument("--training", type=int, help="of whom train on a live page (default: one in six)")
    ap.add_argument("--uploads", type=int, help="of whom upload a CSV on the ROC page (default: one in ten, >= 1)")
    ap.add_argument("--seconds", type=float, default=60, help="length of the class (default 60)")
    ap.add_argument("--think", type=float, default=5.0,
                    help="seconds a student looks before moving a control again, ±50%% (default 5)")
    ap.add_argument("--ramp", type=float, default=5.0, help="students arrive within this many seconds (default 5)")
    ap.add_argument("--kill-at", type=float, default=0.5,
                    help="kill the busiest replica at this fraction of the run; 0: no kill (default 0.5)")
    ap.add_argument("--affinity", choices=("cookie", "ip"), default="cookie",
                    help="cookie: deploy/nginx.conf as shipped; ip: its `hash $remote_addr consistent` alternative")
    ap.add_argument("--balance", action="store_true",
                    help="a student whose cookie lands on a full replica comes back as a new browser (cookie "
                         "mode): every replica gets students, for small runs and the test")
    ap.add_argument("--no-blip", dest="blip", action="store_false",
                    help="do not drop and resume every student's websocket once")
    ap.add_argument("--no-warmup", dest="warmup", action="store_false",
                    help="do not open the run's pages once on every replica before the clock starts")
    ap.add_argument("--open-timeout", type=float, default=120, help="seconds allowed to open a page (default 120)")
    ap.add_argument("--action-timeout", type=float, default=120, help="seconds allowed for one rerun (default 120)")
    ap.add_argument("--grace", type=float, default=30, help="seconds for answers after the end (default 30)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--app-dir", type=Path, default=ROOT, help="run app.py from this checkout (default: this one)")
    ap.add_argument("--server-arg", action="append", default=[], help="extra argument for every replica")
    ap.add_argument("--keep-logs", action="store_true", help="keep the temporary folder (nginx and replica logs)")
    args = ap.parse_args(argv)
    if not 1 <= args.students <= MAX_STUDENTS:
        ap.error(f"--students must be between 1 and {MAX_STUDENTS}")
    if not 1 <= args.replicas <= MAX_REPLICAS:
        ap.error(f"--replicas must be between 1 and {MAX_REPLICAS}")
    if not 0 < args.seconds <= 3600 or not 0 <= args.kill_at < 1:
        ap.error("--seconds must be in (0, 3600] and --kill-at in [0, 1)")
    if args.kill_at > 0 and args.replicas < 2:
        ap.error("a kill needs at least 2 replicas (or --kill-at 0)")
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    nginx_binary()  # fail early, with the install line
    tmp = Path(tempfile.mkdtemp(prefix="replicas-"))
    procs = Processes()
    previous = signal.getsignal(signal.SIGTERM)
    if threading_is_main():
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` stops everything
    try:
        print(f"starting {args.replicas} replicas and nginx (logs: {tmp}) ...", file=sys.stderr)
        replicas = start_replicas(args.replicas, tmp, procs, args.app_dir.resolve(), tuple(args.server_arg))
        _, port, access_log = start_nginx([r["port"] for r in replicas], tmp, procs, args.affinity)
        run = Run(args, replicas, port)
        run.students = {s.number: s for s in plan_students(args)}
        try:
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                future = pool.submit(asyncio.run, simulate(args, run))
                try:
                    sim = future.result()
                except BaseException:  # Ctrl-C, SIGTERM: the students stop too, then everything else
                    run.abort()
                    raise
        finally:
            run.loop_pool.shutdown(wait=False)
        procs.stop_all()  # nginx writes the websockets' log lines when they close
        entries = parse_access_log(access_log.read_text(errors="replace") if access_log.exists() else "", run)
        result = summarise(args, run, sim, entries)
        result["logs"] = str(tmp) if args.keep_logs else None
        return result
    finally:
        procs.stop_all()
        if threading_is_main():
            signal.signal(signal.SIGTERM, previous)
        if not args.keep_logs:
            shutil.rmtree(tmp, ignore_errors=True)


def threading_is_main() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()


if __name__ == "__main__":
    report = main()
    print(json.dumps(report, indent=2, ensure_ascii=False))
    print(human_summary(report), file=sys.stderr)
