"""A real SMTP server for Paperboy's mail tests (aiosmtpd), in one of these
behaviours:

    python3 smtp_server.py OUT_DIR [--mode MODE] [--fail-first N] [--delay-ms MS]
                           [--tls starttls|implicit --cert PEM --key PEM]
                           [--login USER:PASSWORD]

    accept     every message is accepted and saved (default)
    tempfail   DATA is answered 451 (a temporary failure)
    permfail   RCPT is answered 550 (a permanent failure: no such mailbox)
    drop       the connection is closed after the message's data arrived,
               without an answer
    flaky      the first N messages (--fail-first) get 451, later ones are
               accepted

--delay-ms makes every accepted message wait that long before its answer (a
slow server, so that a test can stop a sender in the middle of a run).

--tls starttls offers STARTTLS and refuses mail until the client took it;
--tls implicit speaks TLS from the first byte (smtps://); both with the
certificate chain --cert and its key --key. --login requires AUTH (PLAIN or
LOGIN, over TLS only) with that user and password before mail.

It listens on 127.0.0.1 on a free port and prints `READY <port>` on stdout
once it accepts connections. Every message accepted is saved as
OUT_DIR/<n>.eml (the bytes as received) and one JSON line in
OUT_DIR/log.jsonl: {"file", "mail_from", "rcpt_tos", "message_id", "tls",
"login"} (whether the message came over TLS, and the user it logged in as
or null). Every
attempt (accepted or not) is one JSON line in OUT_DIR/attempts.jsonl.
"""

import argparse
import asyncio
import email
import json
import logging
import os
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, out_dir, mode, fail_first, delay_ms=0):
        self.delay_ms = delay_ms
        self.out_dir = out_dir
        self.mode = mode
        self.fail_first = fail_first
        self.seen = 0
        self.saved = 0

    def attempt(self, envelope, outcome):
        record = {
            "rcpt_tos": list(envelope.rcpt_tos),
            "outcome": outcome,
        }
        with open(os.path.join(self.out_dir, "attempts.jsonl"), "a") as log:
            log.write(json.dumps(record) + "\n")

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.mode == "permfail":
            envelope.rcpt_tos.append(address)
            self.attempt(envelope, "550")
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.seen += 1
        if self.mode == "tempfail" or (
            self.mode == "flaky" and self.seen <= self.fail_first
        ):
            self.attempt(envelope, "451")
            return "451 4.3.0 Try again later"
        if self.mode == "drop":
            self.attempt(envelope, "drop")
            server.transport.abort()
            # Never sent: the connection is gone.
            return "421 4.4.2 connection dropped"
        if self.delay_ms:
            await asyncio.sleep(self.delay_ms / 1000)
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        self.saved += 1
        name = "%06d.eml" % self.saved
        with open(os.path.join(self.out_dir, name), "wb") as f:
            f.write(content)
        parsed = email.message_from_bytes(content)
        login = None
        if session.authenticated and isinstance(session.auth_data, LoginPassword):
            login = session.auth_data.login.decode()
        record = {
            "file": name,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "message_id": parsed.get("Message-ID"),
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "login": login,
        }
        with open(os.path.join(self.out_dir, "log.jsonl"), "a") as log:
            log.write(json.dumps(record) + "\n")
        self.attempt(envelope, "250")
        return "250 Message accepted for delivery"


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument(
        "--mode",
        default="accept",
        choices=["accept", "tempfail", "permfail", "drop", "flaky"],
    )
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--delay-ms", type=int, default=0)
    parser.add_argument("--tls", choices=["starttls", "implicit"])
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--login")
    args = parser.parse_args()
    # aiosmtpd's own notes (a deprecated attribute it sets itself; AUTH
    # without STARTTLS, which implicit TLS is) are not the test's business.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    os.makedirs(args.out_dir, exist_ok=True)
    handler = Handler(args.out_dir, args.mode, args.fail_first, args.delay_ms)
    context = None
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
    options = {}
    if args.tls == "starttls":
        options.update(tls_context=context, require_starttls=True)
    if args.login:
        user, password = args.login.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == user
                and auth_data.password.decode() == password
            )
            # Not handled here: aiosmtpd answers 235 or 535 itself.
            return AuthResult(success=ok, handled=False, auth_data=auth_data)

        # aiosmtpd counts only STARTTLS as TLS here; implicit TLS is TLS
        # from the start.
        options.update(
            authenticator=authenticator,
            auth_required=True,
            auth_require_tls=args.tls != "implicit",
        )
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", decode_data=False, **options),
        host="127.0.0.1",
        port=0,
        ssl=context if args.tls == "implicit" else None,
    )
    port = server.sockets[0].getsockname()[1]
    print("READY %d" % port, flush=True)
    # Run until stdin closes (the test ended) or the process is killed.
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    await reader.read()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
