#!/usr/bin/env python3
"""Checks the served API against its own OpenAPI description with Schemathesis.

Starts `hearth serve` on a fresh data dir (127.0.0.1, a free port; email to an SMTP server
of its own, Web Push on), makes an admin and a member with API tokens, and runs
Schemathesis (pinned in .ci/requirements.txt) against /api/v1/openapi.json twice — as the
admin and as the member, each with a bearer token — bounded in examples and time. Fails on
any 5xx, any answer that does not match its schema, status or content type, and on any
documented status that no request reached. Scripted passes around the fuzzer reach, in
order, what a fuzzer reaches only by luck or by volume — successes on things made first,
conflicts, spent budgets — so the check does not depend on how fast the machine is.

Usage: .ci/api_check.py [--hearth target/debug/hearth] [--max-time SECONDS]
"""

import argparse
import http.client
import json
import os
import re
import socketserver
import threading
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "correct horse battery staple"
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)
# Operations a fuzzer must not run with the token it is using: they would end its own
# credentials (revoking tokens, ending sessions, changing the password) midway.
SELF_ENDING = ["revokeToken", "endSession", "changePassword", "deleteSession"]
# Documented statuses this server cannot show in one run, each shown by an integration test.
SHOWN_BY_TESTS = {
    ("POST /api/v1/me/email/verify", "410"): "tests/email.rs (a link past its 24 hours)",
    ("GET /api/v1/push/key", "404"): "tests/push.rs a_server_without_a_push_subject_does_not_push",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, body=None, token=None, cookie=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    if cookie:
        req.add_header("cookie", cookie)
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, res.headers, res.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def sign_in(base, name):
    status, headers, _ = call(base, "POST", "/api/v1/session", {"username": name, "password": PASSWORD})
    assert status == 200, f"signing in {name}: {status}"
    cookies = [c.split(";")[0] for c in headers.get_all("set-cookie")]
    return "; ".join(cookies)


def make_token(base, cookie, scope):
    status, _, body = call(
        base, "POST", "/api/v1/me/tokens", {"name": f"api-check {scope}", "scope": scope}, cookie=cookie
    )
    assert status == 201, f"making a {scope} token: {status} {body[:200]!r}"
    return json.loads(body)["token"]


def hearth(binary, data_dir, *args, stdin=None):
    subprocess.run(
        [binary, "--data-dir", data_dir, *args], input=stdin, text=True, check=True, capture_output=True
    )


def operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method.upper(), path, op


def is_public(op):
    return all(not req for req in op.get("security", [{"x": []}]))


def schemathesis(base, token, label, max_time, max_examples, report):
    cmd = [
        os.path.join(ROOT, ".ci/venv/bin/schemathesis"),
        "run",
        base + "/api/v1/openapi.json",
        "--url",
        base,
        "-H",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(max_examples),
        "--max-time",
        str(max_time),
        "--seed",
        "1",
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--no-shrink",
        "--generation-with-security-parameters",
        "false",
        "--generation-database",
        "none",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        report,
        "--no-color",
        "--warnings",
        "off",
    ]
    for op in SELF_ENDING:
        cmd += ["--exclude-operation-id", op]
    print(f"--- schemathesis as {label}", flush=True)
    started = time.monotonic()
    result = subprocess.run(cmd, capture_output=True, text=True)
    with open(report + ".log", "w") as f:
        f.write(result.stdout + result.stderr)
    print(result.stdout if result.returncode else "\n".join(result.stdout.splitlines()[-25:]))
    print(f"    ({time.monotonic() - started:.0f} s, exit {result.returncode})", flush=True)
    return result.returncode


def seen_statuses(report, seen):
    """Every (method, path template, status) the ndjson report recorded."""
    with open(report) as f:
        for line in f:
            walk(json.loads(line), seen, None)


def walk(value, seen, label):
    if isinstance(value, dict):
        label = value.get("label", label) if isinstance(value.get("label"), str) else label
        response = value.get("response")
        if isinstance(response, dict) and isinstance(response.get("status_code"), int) and label:
            seen.add((label, str(response["status_code"])))
        for v in value.values():
            walk(v, seen, label)
    elif isinstance(value, list):
        for v in value:
            walk(v, seen, label)


def scenario(base, tokens, general):
    """Requests a fuzzer is unlikely to make — successes that need existing things, and
    conflicts — made in order, each recorded with the status it got."""
    admin, member = tokens["admin"], tokens["member"]
    seen = set()
    made = {}

    def step(method, template, body=None, token=admin, cookie=None, **params):
        path = template.format(**{k: made.get(v, v) for k, v in params.items()})
        status, _, raw = call(base, method, path, body, token=None if cookie else token, cookie=cookie)
        seen.add((f"{method} {template}", str(status)))
        return status, (json.loads(raw) if raw.startswith(b"{") else None)

    # Guessing one account's password from one address: the eleventh guess in 15 minutes is
    # throttled before any check.
    for _ in range(11):
        if step("POST", "/api/v1/session", {"username": "guesser", "password": "wrong"}, token=None)[0] == 429:
            break
    mia = step("GET", "/api/v1/users")[1]["users"]
    mia = next(u["id"] for u in mia if u["username"] == "mia")
    for name in ("check-a", "check-b"):
        made[name] = step("POST", "/api/v1/conversations", {"kind": "channel", "name": name})[1]["id"]
    step("PATCH", "/api/v1/conversations/{id}", {"name": "check-a"}, id="check-b")
    made["group"] = step("POST", "/api/v1/conversations", {"kind": "group", "name": "crew"})[1]["id"]
    for _ in range(2):
        step("POST", "/api/v1/conversations/{id}/members", {"user_id": mia}, id="group")
    step("DELETE", "/api/v1/conversations/{id}/members/{user}", id="group", user=mia)
    step("POST", "/api/v1/directs", {"user_id": mia})
    # Reactions, on and off.
    said = step("POST", "/api/v1/conversations/{id}/messages", {"body": "hi"}, id="check-a")[1]
    made["said"] = said["id"]
    step("PUT", "/api/v1/messages/{id}/reactions/{emoji}", id="said", emoji="%F0%9F%91%8D")
    step("DELETE", "/api/v1/messages/{id}/reactions/{emoji}", id="said", emoji="%F0%9F%91%8D")
    # One's own message edited, its preview taken off; another deleted; one reported.
    step("PATCH", "/api/v1/messages/{id}", {"body": "hi again"}, id="said")
    step("DELETE", "/api/v1/messages/{id}/preview", id="said")
    made["gone"] = step("POST", "/api/v1/conversations/{id}/messages", {"body": "bye"}, id="check-a")[1]["id"]
    step("DELETE", "/api/v1/messages/{id}", id="gone")
    made["shared"] = step("POST", "/api/v1/conversations/{id}/messages", {"body": "look"}, id=general)[1]["id"]
    step("POST", "/api/v1/messages/{id}/report", {"reason": "a check"}, token=member, id="shared")
    # A name taken, a topic set; a person added by an admin, given a link to set a password,
    # and deactivated.
    step("POST", "/api/v1/conversations", {"kind": "channel", "name": "check-a"})
    step("PATCH", "/api/v1/conversations/{id}", {"topic": "checked"}, id="check-a")
    step("POST", "/api/v1/admin/people", {"username": "checkperson"})
    step("POST", "/api/v1/admin/people/{username}/reset-link", username="checkperson")
    step("PATCH", "/api/v1/admin/people/{username}", {"active": False}, username="checkperson")
    # The console: a group of someone else's joined, archived too often, then deleted.
    made["theirs"] = step("POST", "/api/v1/conversations", {"kind": "group", "name": "hers"}, token=member)[1]["id"]
    step("POST", "/api/v1/admin/conversations/{id}/join", id="theirs")
    for _ in range(30):
        if step("PATCH", "/api/v1/admin/conversations/{id}", {"archived": False}, id="theirs")[0] == 429:
            break
    step("DELETE", "/api/v1/admin/conversations/{id}", {"confirm": "hers"}, id="theirs")
    # Limits that answer 409: hooks per conversation, working tokens per person and bot.
    status, body = step("POST", "/api/v1/conversations/{id}/webhooks", {"name": "ci"}, id="check-a")
    made["hook"] = body["webhook"]["id"]
    step("POST", "/api/v1/conversations/{id}/webhooks/{hook}/rotate", id="check-a", hook="hook")
    step("DELETE", "/api/v1/conversations/{id}/webhooks/{hook}", id="check-a", hook="hook")
    step("GET", "/api/v1/conversations/{id}/webhooks", token=member, id=1)
    for _ in range(25):
        if step("POST", "/api/v1/conversations/{id}/webhooks", {"name": "ci"}, id="check-a")[0] == 409:
            break
    # Invites, where only admins may invite (the default).
    step("GET", "/api/v1/invites", token=member)
    step("POST", "/api/v1/invites", {"role": "member"}, token=member)
    # Reactions past the message budget.
    for _ in range(80):
        if step("PUT", "/api/v1/messages/{id}/reactions/{emoji}", token=member, id="said", emoji="%F0%9F%91%8D")[0] == 429:
            break
    # The last active admin stays one.
    step("PATCH", "/api/v1/admin/people/{username}", {"role": "member"}, username="root")
    for _ in range(15):
        hook = {"name": "echo", "url": "https://example.com/hook"}
        status, body = step("POST", "/api/v1/conversations/{id}/outgoing-webhooks", hook, id="check-b")
        if status == 201:
            made["outgoing"] = body["id"]
        if status == 409:
            break
    for template in (
        "/api/v1/outgoing-webhooks/{id}",
        "/api/v1/outgoing-webhooks/{id}/deliveries",
    ):
        step("GET", template, id="outgoing")
    step("POST", "/api/v1/outgoing-webhooks/{id}/rotate", id="outgoing")
    step("DELETE", "/api/v1/outgoing-webhooks/{id}", id="outgoing")
    step("POST", "/api/v1/admin/bots", {"username": "checkbot"})
    for _ in range(60):
        if step("POST", "/api/v1/admin/bots/{username}/tokens", {"name": "t", "scope": "write"}, username="checkbot")[0] == 409:
            break
    # One's own tokens are managed from a signed-in browser, never with a token.
    cookie = tokens["cookie"]
    step("GET", "/api/v1/me/tokens", cookie=cookie)
    for _ in range(60):
        if step("POST", "/api/v1/me/tokens", {"name": "t", "scope": "read"}, cookie=cookie)[0] == 409:
            break
    # Messages past the message budget.
    for _ in range(80):
        if step("POST", "/api/v1/conversations/{id}/messages", {"body": "again"}, id="check-a")[0] == 429:
            break
    # A read marker moved past its budget (a burst, then one every 2 s).
    for _ in range(100):
        if step("POST", "/api/v1/conversations/{id}/read", {}, token=member, id="check-a")[0] == 429:
            break
    return seen


# A Web Push subscription's keys (RFC 8291's example user agent), for a device whose push
# service is on this machine (a closed port: pushes to it fail, off the request).
PUSH_KEYS = {
    "p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
    "auth": "BTBZMqHH6r4Tts7J_aSIgg",
}


class Mailbox(socketserver.ThreadingTCPServer):
    """An SMTP server on this machine that keeps what it is sent, for the links in it."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Session)
        self.mails = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def link_token(self, after, timeout=10):
        """The token of the verification link in the first email after the first `after`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.mails) > after:
                text = self.mails[after].replace("=\r\n", "").replace("=3D", "=")
                return re.search(r"verify\?token=([0-9A-Za-z_-]+)", text).group(1)
            time.sleep(0.05)
        raise AssertionError("no verification email arrived")


class Session(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b"220 api-check\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                body = []
                while (row := self.rfile.readline()) not in (b".\r\n", b""):
                    body.append(row.decode("utf-8", "replace"))
                self.server.mails.append("".join(body))
                self.wfile.write(b"250 kept\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def config(tmp, port, smtp):
    """Email and Web Push on, so that their operations can succeed: emails go to `smtp` on this
    machine, pushes to a closed port (sending happens off the request; a failure is logged)."""
    path = os.path.join(tmp, "hearth.toml")
    with open(path, "w") as f:
        f.write(
            f'base_url = "http://127.0.0.1:{port}"\n'
            'push_subject = "mailto:api-check@example.org"\n'
            'fetch_allow_networks = ["127.0.0.0/8"]\n'
            "[smtp]\n"
            'host = "127.0.0.1"\n'
            'tls = "none"\n'
            f"port = {smtp}\n"
            'from = "Hearth <hearth@example.org>"\n'
        )
    return path


def declared_too_large(base, method, path, token):
    """A request that declares a body larger than any limit and sends none: refused at once."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.putrequest(method, path)
    conn.putheader("authorization", "Bearer " + token)
    conn.putheader("content-length", str(1 << 40))
    conn.endheaders()
    status = conn.getresponse().status
    conn.close()
    return status


def scenario_account(base, tokens, general, mailbox):
    """Email, push devices, the support inbox and uploads over their limits: what needs a
    thing made first, a budget spent or a body too large. Run after the fuzzer, whose
    budgets it would otherwise spend."""
    admin, member = tokens["admin"], tokens["member"]
    seen = set()

    def step(method, template, body=None, token=admin, **params):
        path = template.format(**params)
        status, _, raw = call(base, method, path, body, token=token)
        seen.add((f"{method} {template}", str(status)))
        return status, (json.loads(raw) if raw.startswith(b"{") else None)

    # Email: one address given by both, verified by the admin first; then the member's other
    # addresses (5 verification emails an hour, then 429) and a new link.
    shared = {"address": "shared@example.org"}
    links = []
    for token in (admin, member):
        sent = len(mailbox.mails)
        if step("PUT", "/api/v1/me/email", shared, token=token)[0] == 200:
            links.append((token, mailbox.link_token(sent)))
    for token, link in links:
        step("POST", "/api/v1/me/email/verify", {"token": link}, token=token)
    step("POST", "/api/v1/me/email/verify", {"token": "0" * 64}, token=member)
    step("PUT", "/api/v1/me/email", {"address": "mia@example.org"}, token=member)
    step("PUT", "/api/v1/me/email", shared, token=member)
    step("POST", "/api/v1/me/email/verify", {}, token=member)
    for n in range(10):
        if step("PUT", "/api/v1/me/email", {"address": f"mia{n}@example.org"}, token=member)[0] == 429:
            break
    step("POST", "/api/v1/me/email/verify", {}, token=member)
    # Push: the key, a device added and removed.
    step("GET", "/api/v1/push/key")
    sub = {"endpoint": f"http://127.0.0.1:{free_port()}/push/1", "keys": PUSH_KEYS, "label": "check"}
    status, device = step("POST", "/api/v1/me/devices", sub)
    if status == 201:
        step("DELETE", "/api/v1/me/devices/{id}", id=device["id"])
    # Support: the member's conversation, as its admins see it; its budget of changes spent.
    # (Opened by the member now or earlier: its budget of new conversations may be spent.)
    step("POST", "/api/v1/support", token=member)
    threads = step("GET", "/api/v1/inbox")[1]["threads"]
    if threads:
        sid = threads[0]["conversation_id"]
        step("GET", "/api/v1/conversations/{id}/support", id=sid)
        step("POST", "/api/v1/conversations/{id}/notes", {"body": "on it"}, id=sid)
        step("GET", "/api/v1/conversations/{id}/notes", id=sid)
        for n in range(20):
            state = ("resolved", "open")[n % 2]
            if step("POST", "/api/v1/conversations/{id}/support", {"state": state}, id=sid)[0] == 429:
                break
    # Bodies over the upload limit, refused before they are read.
    for method, template, params in [
        ("POST", "/api/v1/uploads", {}),
        ("PUT", "/api/v1/me/avatar", {}),
        ("PUT", "/api/v1/conversations/{id}/picture", {"id": general}),
        ("PUT", "/api/v1/admin/logo", {}),
    ]:
        status = declared_too_large(base, method, template.format(**params), admin)
        seen.add((f"{method} {template}", str(status)))
    return seen


# Each budget is spent before the request's target is looked up: a request whose body is
# well formed spends it, whatever it names. The body for the n-th try of each operation that
# takes one (the rest send an empty object, or nothing).
SPEND = {
    "adminArchiveConversation": lambda n: {"archived": n % 2 == 0},
    "createConversation": lambda n: {"kind": "channel", "name": f"budget-{n}"},
    "updateConversation": lambda n: {"topic": f"budget {n}"},
    "addMember": lambda n: {"user_id": 1},
    "sendMessage": lambda n: {"body": f"budget {n}"},
    "addNote": lambda n: {"body": f"note {n}"},
    "updateSupportThread": lambda n: {"state": ("resolved", "open")[n % 2]},
    "openDirect": lambda n: {"user_id": 1},
    "changeEmail": lambda n: {"address": f"budget{n}@example.org"},
    "verifyEmail": lambda n: {},
    "editMessage": lambda n: {"body": f"edited {n}"},
    "reportMessage": lambda n: {"reason": ""},
}
# Every budget's burst is smaller than this.
SPEND_AT_MOST = 150


def budget_pass(base, doc, seen, token, targets=None):
    """Reaches each documented 429 that nothing has reached yet by repeating one request
    until its budget is spent; `targets` names the conversation for operations that look it
    up first (by operation id). How many of them a fuzzer reaches depends on how many
    requests it makes in its time; this pass makes the check not."""
    targets = targets or {}
    for method, path, op in operations(doc):
        key = f"{method} {path}"
        if is_public(op) or "429" not in op["responses"] or (key, "429") in seen:
            continue
        concrete = path.replace("{emoji}", "%F0%9F%91%8D")
        concrete = re.sub(r"\{\w+\}", str(targets.get(op["operationId"], 1)), concrete)
        body = SPEND.get(op["operationId"], lambda n: {})
        for n in range(SPEND_AT_MOST):
            status = call(base, method, concrete, None if method == "DELETE" else body(n), token=token)[0]
            seen.add((key, str(status)))
            if status == 429:
                break


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hearth", default=os.path.join(ROOT, "target/debug/hearth"))
    parser.add_argument("--max-time", type=int, default=45, help="seconds per Schemathesis run")
    parser.add_argument("--max-examples", type=int, default=25)
    args = parser.parse_args()

    # API_CHECK_KEEP=DIR keeps the server's log and Schemathesis's reports there.
    keep = os.environ.get("API_CHECK_KEEP")
    with tempfile.TemporaryDirectory() as tmp:
        if keep:
            tmp = keep
            os.makedirs(tmp, exist_ok=True)
        data = os.path.join(tmp, "data")
        hearth(args.hearth, data, "init", "--admin", "root", "--password-stdin", stdin=PASSWORD + "\n")
        hearth(args.hearth, data, "user", "add", "mia", "--password-stdin", stdin=PASSWORD + "\n")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        mailbox = Mailbox()
        conf = config(tmp, port, mailbox.server_address[1])
        log = open(os.path.join(tmp, "server.log"), "w")
        server = subprocess.Popen(
            [args.hearth, "--data-dir", data, "--config", conf, "serve", "--listen", f"127.0.0.1:{port}"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            for _ in range(100):
                try:
                    if call(base, "GET", "/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.1)
            else:
                sys.exit("the server did not start")
            status, _, raw = call(base, "GET", "/api/v1/openapi.json")
            assert status == 200, status
            doc = json.loads(raw)
            root = sign_in(base, "root")
            admin = make_token(base, root, "admin")
            mia = sign_in(base, "mia")
            member = make_token(base, mia, "write")
            reader = make_token(base, mia, "read")
            # Something to find: a message in #general for each of them.
            convs = json.loads(call(base, "GET", "/api/v1/conversations", token=admin)[2])
            general = convs["conversations"][0]["id"]
            for token in (admin, member):
                call(base, "POST", f"/api/v1/conversations/{general}/messages", {"body": "hello"}, token=token)

            failed = False
            seen = scenario(base, {"admin": admin, "member": member, "cookie": root}, general)
            seen.add(("POST /api/v1/session", "200"))  # each sign-in above

            def fuzz(label, token):
                report = os.path.join(tmp, f"report-{label.split()[-1]}.ndjson")
                code = schemathesis(base, token, label, args.max_time, args.max_examples, report)
                if os.path.exists(report):
                    seen_statuses(report, seen)
                return code != 0

            # The member first: the admin's run may deactivate her or end her sessions, as
            # an admin may.
            failed |= fuzz("a member", member)
            seen |= scenario_account(base, {"admin": admin, "member": member}, general, mailbox)
            budget_pass(base, doc, seen, member)

            # Authentication errors, reached directly: a token that is not one, and a read
            # token on a write.
            wrong = "hearth_" + "0" * 64
            for method, path, op in operations(doc):
                if is_public(op):
                    continue
                concrete = "/".join("1" if s.startswith("{") else s for s in path.split("/"))
                body = None if method in ("GET", "DELETE") else {}
                if call(base, method, concrete, body, token=wrong)[0] == 401:
                    seen.add((f"{method} {path}", "401"))
                if method != "GET" and call(base, method, concrete, body, token=reader)[0] == 403:
                    seen.add((f"{method} {path}", "403"))
                if call(base, method, concrete, body, token=reader, cookie=mia)[0] == 400:
                    seen.add((f"{method} {path}", "400"))

            failed |= fuzz("an admin", admin)
            # What only admins do, or the member could not: the support conversation's
            # changes and notes, the logo, an archive.
            threads = json.loads(call(base, "GET", "/api/v1/inbox", token=admin)[2])["threads"]
            support = threads[0]["conversation_id"] if threads else 1
            budget_pass(base, doc, seen, admin, {"updateSupportThread": support, "addNote": support})

            missing = []
            for method, path, op in operations(doc):
                if op.get("operationId") in SELF_ENDING:
                    continue
                for status in op["responses"]:
                    if (f"{method} {path}", status) in SHOWN_BY_TESTS:
                        continue
                    if (f"{method} {path}", status) not in seen:
                        missing.append(f"{method} {path} {status}")
            if missing:
                print("--- documented statuses no request reached:")
                print("\n".join("    " + m for m in missing))
                failed = True
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
        with open(os.path.join(tmp, "server.log")) as f:
            panics = [line for line in f if "panicked" in line]
        if panics:
            print("--- the server panicked:\n" + "".join(panics[:10]))
            failed = True
    if failed:
        sys.exit(1)
    print("--- the API matches its description")


if __name__ == "__main__":
    main()
