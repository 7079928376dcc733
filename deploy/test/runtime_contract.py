#!/usr/bin/env python3
"""The container's runtime contract, checked on the binary without a container runtime.

    runtime_contract.py BURNWATCH_BIN

What the image and the manifests promise, run the way the pod runs it:
- as uid/gid 65532 with no supplementary groups, no capabilities and no_new_privs (setpriv),
  an empty environment but for PATH, a HOME that does not exist, a read-only working directory;
- the configuration directory and file belong to root and are read-only;
- against a stand-in backend on loopback (answers every query with no series), one SLO.
Checks that /healthz and /readyz answer 200, that the process runs as 65532 with no effective
capability, that SIGTERM ends it with status 0 within 5 seconds, that its state snapshot is in
the data dir, and (strace -f) that every file it opened for writing, created, renamed or removed
is inside the data dir, and that it tried no other write that failed.
Needs root (to switch users), setpriv and strace. Prints what it checked; exits 1 on a problem.
"""

import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

UID = 65532
TERM_LIMIT_S = 5.0
WRITE_FLAGS = re.compile(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND")
# openat(AT_FDCWD, "/path", O_RDONLY|O_CLOEXEC) = 3  /  mkdir("/path", 0755) = -1 EACCES ...
CALL = re.compile(r'^\d+\s+(\w+)\((.*)\)\s+=\s+(-?\d+)(.*)$')
PATHS = re.compile(r'"((?:[^"\\]|\\.)*)"')


class EmptyBackend(http.server.BaseHTTPRequestHandler):
    """A Prometheus API that knows no series: every query answers an empty matrix."""

    def answer(self):
        body = json.dumps({"status": "success", "data": {"resultType": "matrix", "result": []}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = answer
    do_POST = answer

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except OSError as e:
        return None, str(e)


def wait_for(url, want, limit_s, proc):
    deadline = time.monotonic() + limit_s
    status, body = None, ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None, f"process exited with {proc.returncode}"
        status, body = get(url)
        if status == want:
            return status, body
        time.sleep(0.2)
    return status, body


def daemon_pid(config):
    """The burnwatch process (setpriv and env exec into it): the one running with this config."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if config in argv and "run" in argv and os.path.basename(argv[0]) not in ("strace", "setpriv", "env"):
            return int(entry)
    return None


def main(binary):
    problems = []
    if os.geteuid() != 0:
        print("  SKIPPED runtime contract: needs root to run burnwatch as uid 65532")
        return 0
    for tool in ("setpriv", "strace"):
        if not shutil.which(tool):
            print(f"  PROBLEM runtime contract: {tool} is missing")
            return 1

    root = tempfile.mkdtemp(prefix="burnwatch-contract-")
    os.chmod(root, 0o755)
    etc, data, cwd = (os.path.join(root, d) for d in ("etc", "data", "cwd"))
    for d in (etc, data, cwd):
        os.mkdir(d)
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EmptyBackend)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    port = free_port()
    config = os.path.join(etc, "burnwatch.toml")
    with open(config, "w") as f:
        f.write(
            f'[server]\nlisten = "127.0.0.1:{port}"\n\n'
            f'[backends.main]\ntype = "prometheus"\nurl = "http://127.0.0.1:{backend.server_address[1]}"\n\n'
            '[[slo]]\nservice = "checkout"\nname = "availability"\nobjective = 99.9\n'
            "[slo.sli.ratio]\nerrors = 'http_requests_total{code=~\"5..\"}'\ntotal = 'http_requests_total'\n"
        )
    os.chmod(config, 0o444)
    os.chmod(etc, 0o555)
    os.chmod(cwd, 0o555)
    os.chown(data, UID, UID)
    os.chmod(data, 0o700)

    trace = os.path.join(root, "strace.log")
    log = open(os.path.join(root, "burnwatch.log"), "w+")
    cmd = [
        "strace", "-f", "-qq", "-o", trace,
        "-e", "trace=open,openat,openat2,creat,mkdir,mkdirat,rename,renameat,renameat2,unlink,unlinkat,"
        "rmdir,truncate,link,linkat,symlink,symlinkat,chmod,fchmodat,chown,fchownat",
        "setpriv", f"--reuid={UID}", f"--regid={UID}", "--clear-groups",
        "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs",
        "env", "-i", "PATH=/usr/bin:/bin", "HOME=/nonexistent",
        os.path.abspath(binary), "run", "--config", config, "--data-dir", data,
    ]
    try:
        return run(cmd, cwd, port, config, data, trace, log, backend, problems)
    finally:
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def run(cmd, cwd, port, config, data, trace, log, backend, problems):
    """Starts the traced daemon, checks it, stops it; the caller removes the directory."""
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    pid = None
    try:
        base = f"http://127.0.0.1:{port}"
        status, body = wait_for(f"{base}/healthz", 200, 30, proc)
        print(f"  /healthz: {status}")
        if status != 200:
            problems.append(f"/healthz answered {status}: {body.strip()[:200]}")
        status, body = wait_for(f"{base}/readyz", 200, 30, proc)
        print(f"  /readyz: {status} (one SLO, backfilled from the stand-in backend)")
        if status != 200:
            problems.append(f"/readyz answered {status}: {body.strip()[:200]}")
        pid = daemon_pid(config)
        if pid:
            with open(f"/proc/{pid}/status") as f:
                fields = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
            uids, gids = fields["Uid"].split(), fields["Gid"].split()
            cap_eff, nnp = int(fields["CapEff"].strip(), 16), fields.get("NoNewPrivs", "").strip()
            print(f"  process {pid}: uid {uids[0]}, gid {gids[0]}, groups [{fields['Groups'].strip()}], "
                  f"CapEff {cap_eff:#x}, NoNewPrivs {nnp}")
            if set(uids) != {str(UID)} or set(gids) != {str(UID)} or fields["Groups"].strip() or cap_eff:
                problems.append("the process does not run as 65532:65532 without groups and capabilities")
        else:
            problems.append("could not find the burnwatch process under strace")

        start = time.monotonic()
        os.kill(pid or proc.pid, signal.SIGTERM)
        try:
            rc = proc.wait(timeout=TERM_LIMIT_S + 5)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        elapsed = time.monotonic() - start
        print(f"  SIGTERM: exited with status {rc} after {elapsed:.2f} s (limit {TERM_LIMIT_S:.0f} s)")
        if rc != 0:
            problems.append(f"exit status {rc} after SIGTERM")
        if elapsed > TERM_LIMIT_S:
            problems.append(f"took {elapsed:.2f} s to exit after SIGTERM")
    finally:
        # A killed tracer leaves its tracee running: end the daemon itself first.
        for leftover in (pid or daemon_pid(config), proc.pid):
            if leftover and proc.poll() is None:
                try:
                    os.kill(leftover, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        proc.wait()
        backend.shutdown()

    snapshot = os.path.join(data, "state.json")
    written = sorted(os.listdir(data))
    print(f"  data dir after shutdown: {', '.join(written) or '(empty)'}")
    if not os.path.exists(snapshot):
        problems.append("no state.json in the data dir after SIGTERM")

    # Every write-like call, wherever it went and whether it succeeded.
    inside, outside = set(), []
    with open(trace) as f:
        for line in f:
            m = CALL.match(line.strip())
            if not m:
                continue
            call, args, result, rest = m.groups()
            if call in ("open", "openat", "openat2") and not WRITE_FLAGS.search(args):
                continue
            for path in PATHS.findall(args):
                path = os.path.normpath(os.path.join(cwd, path))
                if path == data or path.startswith(data + os.sep):
                    inside.add(os.path.relpath(path, data))
                elif path in ("/dev/null", "/dev/tty"):
                    continue
                else:
                    outside.append(f"{call} {path} = {result}{rest}")
    print(f"  writes (strace): {len(inside)} paths inside the data dir ({', '.join(sorted(inside))}), "
          f"{len(outside)} outside")
    for w in outside:
        problems.append(f"write outside the data dir: {w.strip()}")

    if problems:
        log.seek(0)
        print("  burnwatch's log:\n" + "\n".join("    " + line for line in log.read().splitlines()[-20:]))
        for p in problems:
            print(f"  PROBLEM runtime contract: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
