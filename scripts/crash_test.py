#!/usr/bin/env python3
"""Kills Consentry with SIGKILL again and again while participants sign consents,
restarts it each time, and retries every unanswered request with the identical
body, until everyone has an answer. Then checks that nothing acknowledged was
lost: every consent a 2xx named is in the register, once per participant, codes
P001… have no gaps, a retry returned the same consent, and `verify-audit` passes.

Python standard library only. See scripts/crash-test.sh.
"""
import argparse
import json
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

KEY = "8f1c1b4b7a0f6c0d2f7b9a5e3c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d"
PASSWORD = "Crash-test-correct-horse-battery"
SLUG = "crash-test"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, binary, env, log):
        self.binary, self.env, self.log, self.proc = binary, env, log, None

    def start(self):
        self.proc = subprocess.Popen([self.binary, "serve"], env=self.env,
                                     stdout=self.log, stderr=self.log)
        base = self.env["CONSENTRY_PUBLIC_URL"]
        for _ in range(300):
            try:
                with urllib.request.urlopen(base + "/readyz", timeout=2) as r:
                    if r.status == 200:
                        return
            except Exception:
                pass
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited with {self.proc.returncode}")
            time.sleep(0.05)
        raise SystemExit("the server did not become ready")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def call(base, method, path, body=None, token=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, text.decode(errors="replace")


def must(result, *ok):
    status, body = result
    if status not in ok:
        raise SystemExit(f"setup failed: {status} {body}")
    return body


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--participants", type=int, default=None,
                    help="participants signing (default: 80 per kill, at least 60)")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    if args.participants is None:
        args.participants = max(60, 80 * args.kills)

    work = tempfile.mkdtemp(prefix="consentry-crash-")
    port = free_port()
    env = dict(os.environ)
    env.update({
        "CONSENTRY_DATABASE_URL": args.database_url or f"sqlite://{work}/crash.db?mode=rwc",
        "CONSENTRY_PORT": str(port), "CONSENTRY_ADDRESS": "127.0.0.1",
        "CONSENTRY_PUBLIC_URL": f"http://127.0.0.1:{port}", "CONSENTRY_SECRET_KEY": KEY,
    })
    env.pop("CONSENTRY_CONFIG", None)
    base = env["CONSENTRY_PUBLIC_URL"]
    log = open(os.path.join(work, "server.log"), "ab")
    subprocess.run([args.binary, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([args.binary, "user", "add", "--email", "admin@crash.test", "--name", "Admin",
                    "--role", "admin", "--password-stdin"], env=env, input=(PASSWORD + "\n").encode(),
                   check=True, stdout=subprocess.DEVNULL)
    server = Server(args.binary, env, log)
    server.start()

    admin = must(call(base, "POST", "/api/v1/auth/token",
                      {"email": "admin@crash.test", "password": PASSWORD}), 200)["token"]
    must(call(base, "POST", "/api/v1/users", {"email": "ethics@crash.test", "name": "Ethics",
                                               "role": "ethics_officer", "password": PASSWORD}, admin), 201)
    ethics = must(call(base, "POST", "/api/v1/auth/token",
                       {"email": "ethics@crash.test", "password": PASSWORD}), 200)["token"]
    today = time.strftime("%Y-%m-%d", time.gmtime())
    next_year = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 300 * 86400))
    must(call(base, "POST", "/api/v1/studies", {
        "slug": SLUG, "title": "Crash test", "summary": "Consents under SIGKILL.",
        "ethics": {"committee": "HREC", "reference": "CT-1", "approved_on": today, "expires_on": next_year},
        "contact": {"name": "Admin", "email": "admin@crash.test"}}, admin), 201)
    must(call(base, "POST", f"/api/v1/studies/{SLUG}/consent-forms", {
        "version": "1", "language": "en-AU", "title": "Consent", "body_markdown": "## Statement\nTaking part.",
        "items": [{"key": "take_part", "text": "I agree to take part.", "required": True},
                  {"key": "quotes", "text": "I agree to be quoted.", "required": False}]}, admin), 201)
    must(call(base, "POST", f"/api/v1/studies/{SLUG}/consent-forms/1/approve",
              {"approval_reference": "CT-1", "approved_on": today}, ethics), 200)
    must(call(base, "POST", f"/api/v1/studies/{SLUG}/status", {"status": "recruiting"}, admin), 200)
    tokens = []
    for i in range(args.participants):
        inv = must(call(base, "POST", f"/api/v1/studies/{SLUG}/participants",
                        {"name": f"Person {i}", "email": f"p{i}@crash.test"}, admin), 201)
        tokens.append(inv["participant_token"])
    form_hash = must(call(base, "GET", "/api/v1/participant/consent-form", token=tokens[0]), 200)["form_hash"]

    todo = queue.Queue()
    for i, t in enumerate(tokens):
        todo.put((i, t, {"version": "1", "form_hash": form_hash, "read_confirmed": True,
                         "items": {"take_part": True, "quotes": i % 2 == 0},
                         "signature": {"typed_name": f"Person {i}"}}))
    acknowledged = {}
    repeats = []
    unanswered = [0]
    lock = threading.Lock()
    done = threading.Event()

    def worker():
        while not done.is_set():
            try:
                i, token, body = todo.get(timeout=0.1)
            except queue.Empty:
                continue
            try:
                status, answer = call(base, "POST", "/api/v1/participant/consent", body, token, timeout=10)
            except Exception:
                status, answer = None, None
            if status in (200, 201):
                with lock:
                    if i in acknowledged:
                        repeats.append((i, acknowledged[i], answer["consent_id"]))
                    acknowledged[i] = answer["consent_id"]
                    # A participant acknowledged once is asked again: the answer
                    # must be the same consent (a safe retry).
                    if status == 201 and random.random() < 0.2:
                        todo.put((i, token, body))
            else:
                if status is not None and status < 500:
                    raise SystemExit(f"participant {i}: {status} {answer}")
                with lock:
                    unanswered[0] += 1
                time.sleep(0.05)
                todo.put((i, token, body))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.workers)]
    for t in threads:
        t.start()
    kills = 0
    started = time.time()
    while kills < args.kills and len(acknowledged) < len(tokens):
        time.sleep(random.uniform(0.05, 0.4))
        server.kill()
        kills += 1
        server.start()
    if kills < args.kills:
        server.kill()
        raise SystemExit(f"the load ended after {kills} of {args.kills} kills: "
                         f"give it more participants (--participants)")
    while len(acknowledged) < len(tokens) or not todo.empty():
        time.sleep(0.1)
    done.set()
    for t in threads:
        t.join()

    register = must(call(base, "GET", f"/api/v1/studies/{SLUG}/consents", token=ethics), 200)
    stored = {c["consent_id"]: c["participant_code"] for c in register}
    lost = [cid for cid in acknowledged.values() if cid not in stored]
    changed = [r for r in repeats if r[1] != r[2]]
    codes = sorted(stored.values())
    expected = sorted(f"P{n:03d}" for n in range(1, len(tokens) + 1))
    audit = subprocess.run([args.binary, "verify-audit"], env=env, capture_output=True, text=True)
    server.kill()
    print(f"crash test: {kills} kills (SIGKILL) in {time.time() - started:.1f} s of load, {len(tokens)} participants, "
          f"{len(acknowledged)} consents acknowledged, {unanswered[0]} requests cut off and retried, "
          f"{len(repeats)} repeats of answered ones, "
          f"{len(lost)} lost, {len(stored)} stored")
    problems = []
    if lost:
        problems.append(f"acknowledged but not stored: {lost}")
    if changed:
        problems.append(f"a retry returned another consent: {changed}")
    if len(stored) != len(tokens):
        problems.append(f"{len(stored)} consents stored for {len(tokens)} participants")
    if codes != expected:
        missing = sorted(set(expected) - set(codes))[:10]
        extra = sorted(set(codes) - set(expected))[:10]
        twice = len(codes) - len(set(codes))
        problems.append(f"codes are not P001…P{len(tokens):03d} once each: missing {missing}, "
                        f"unexpected {extra}, {twice} given twice")
    if audit.returncode != 0:
        problems.append(f"verify-audit: {audit.stdout.strip()}")
    for p in problems:
        print("  FAIL " + p)
    if not problems:
        print("  every acknowledged consent stored once, codes gapless, audit chain ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
