"""A real SMTP server for Paperboy's mail tests (aiosmtpd), in one of these
behaviours:

    python3 smtp_server.py OUT_DIR [--mode MODE] [--fail-first N] [--delay-ms MS]

    accept     every message is accepted and saved (default)
    tempfail   DATA is answered 451 (a temporary failure)
    permfail   RCPT is answered 550 (a permanent failure: no such mailbox)
    drop       the connection is closed after the message's data arrived,
               without an answer
    flaky      the first N messages (--fail-first) get 451, later ones are
               accepted

--delay-ms makes every accepted message wait that long before its answer (a
slow server, so that a test can stop a sender in the middle of a run).

It listens on 127.0.0.1 on a free port and prints `READY <port>` on stdout
once it accepts connections. Every message accepted is saved as
OUT_DIR/<n>.eml (the bytes as received) and one JSON line in
OUT_DIR/log.jsonl: {"file", "mail_from", "rcpt_tos", "message_id"}. Every
attempt (accepted or not) is one JSON line in OUT_DIR/attempts.jsonl.
"""

import argparse
import asyncio
import email
import json
import os
import sys

from aiosmtpd.smtp import SMTP


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
        record = {
            "file": name,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "message_id": parsed.get("Message-ID"),
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
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    handler = Handler(args.out_dir, args.mode, args.fail_first, args.delay_ms)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", decode_data=False),
        host="127.0.0.1",
        port=0,
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
