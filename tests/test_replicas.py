"""Replicas behind nginx with sticky sessions (deploy/nginx.conf, benchmarks/replicas.py), run for real.

Two ``streamlit run app.py`` replicas behind nginx, four simulated students
(one training, one uploading a CSV, two moving controls) for 10 s; each
student's websocket drops and resumes once, and halfway one replica is
killed. The affinity must hold, the upload must land on its session's
replica, the killed replica's students must come back on the other one in a
fresh session, and the other students must see nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from benchmarks import replicas


def _ensure_nginx() -> None:
    """Install Debian's nginx the way scripts/test.sh installs Chromium; fail, never skip, without it."""
    if shutil.which("nginx") or os.access("/usr/sbin/nginx", os.X_OK):
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=env, timeout=300)
        subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx"],
                       check=True, env=env, timeout=300, stdout=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as why:
        pytest.fail(f"nginx is needed and could not be installed ({why}): "
                    "apt-get install -y --no-install-recommends nginx")


def test_nginx_config_keeps_the_shipped_logic():
    text = replicas.nginx_config(replicas.NGINX_CONF.read_text(), [9001, 9002, 9003], 9100,
                                 replicas.Path("/tmp/x"), "cookie")
    assert text.count("server 127.0.0.1:") == 3 and "app1:8501" not in text
    assert "hash $st_affinity_key consistent;" in text and "listen 127.0.0.1:9100;" in text
    for shipped in ("proxy_set_header Upgrade $http_upgrade;", "proxy_read_timeout 24h;", "client_max_body_size",
                    "add_header Set-Cookie $st_set_cookie always;", "proxy_next_upstream error timeout"):
        assert shipped in text
    ip = replicas.nginx_config(replicas.NGINX_CONF.read_text(), [9001], 9100, replicas.Path("/tmp/x"), "ip")
    assert "\n        hash $remote_addr consistent;" in ip


def test_shipped_nginx_conf_passes_nginx_t(tmp_path):
    """deploy/nginx.conf as shipped (only the replicas' names, the port and the pid path changed: nginx -t
    resolves names and opens files), including the lines benchmarks/replicas.py replaces."""
    _ensure_nginx()
    text = replicas.NGINX_CONF.read_text()
    text = re.sub(r"app(\d):8501", lambda m: f"127.0.0.1:{18500 + int(m[1])}", text)
    text = text.replace("listen 80;", "listen 127.0.0.1:18080;").replace("pid /tmp/nginx.pid;",
                                                                        f"pid {tmp_path}/nginx.pid;")
    (tmp_path / "nginx.conf").write_text(text)
    check = subprocess.run([replicas.nginx_binary(), "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"),
                            "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr


def test_two_replicas_keep_their_sessions_and_survive_a_kill():
    _ensure_nginx()
    result = replicas.main(["--replicas", "2", "--students", "4", "--training", "1", "--uploads", "1",
                            "--seconds", "10", "--ramp", "1", "--think", "1", "--balance"])
    checks, affinity, kill = result["checks"], result["affinity"], result["kill"]

    # (a) affinity: every request of a student on one replica, as nginx logged it; blips resumed the session
    assert affinity["students_logged"] == 4 and affinity["distinct_source_addresses"] == 4
    assert affinity["violations"] == 0, affinity["violating_students"]
    assert affinity["students_whose_own_view_differs_from_the_log"] == 0
    assert affinity["blips"] >= 1 and affinity["blips_resumed_same_session"] == affinity["blips"]
    assert affinity["session_changed_without_a_reconnect"] == 0
    assert checks["affinity_held"], affinity

    # (b) the upload's PUT went to its session's replica, and the page read the file there
    (upload,) = result["uploads"]["details"]
    assert upload["put_status"] == 204 and upload["same_replica"], upload
    # the page read the file in that session (or the kill took the session first and it was uploaded again)
    assert upload["page_read_file"] or upload["again"]["page_read_file"], upload
    assert upload["log_put_replicas"] and set(upload["log_put_replicas"]) <= set(upload["log_ws_replicas"])
    assert checks["uploads_on_session_replica"]

    # (c) the killed replica's students came back on the other one, fresh; the others saw nothing
    assert kill["students_on_it"], kill
    assert kill["reconnected"] == len(kill["students_on_it"]) == kill["fresh_session"]
    assert set(kill["moved_to"]) == {str(1 - kill["replica"])}
    assert kill["others"]["students"] >= 1
    assert kill["others"]["errors"] == 0 and kill["others"]["unplanned_drops"] == 0, result["errors"]
    assert checks["killed_sessions_moved"] and checks["others_unaffected"]

    # (d) reruns were timed on both replicas
    assert result["latency"]["overall"]["n"] >= 2
    assert result["error_count"] == 0, result["errors"]
    assert all(not r["tracebacks"] for r in result["replicas"]), result["replicas"]
