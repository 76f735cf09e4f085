"""Parses a mail as a mail client would (Python's `email` package, strict
policy) and prints what Paperboy's tests check, as JSON:

    python3 mail_check.py FILE.eml

    {"subject", "from", "to", "date", "message_id", "list_unsubscribe",
     "list_unsubscribe_post", "list_id", "content_type", "parts": [...],
     "defects": [...], "text": "...", "html": "...", "links": [...]}

`defects` lists every MIME defect the parser found (none for a valid
message); `links` every http(s) URL of the HTML part's hrefs and of the
plain text, in order, without repeats.
"""

import email
import email.policy
import json
import re
import sys
from html.parser import HTMLParser


class Hrefs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []
        self.images = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if tag == "script":
            self.scripts += 1


def main(path):
    with open(path, "rb") as f:
        raw = f.read()
    msg = email.message_from_bytes(raw, policy=email.policy.strict)
    defects = [repr(d) for d in msg.defects]
    parts = []
    text = html = ""
    for part in msg.walk():
        defects += [repr(d) for d in part.defects]
        parts.append(part.get_content_type())
        if part.get_content_maintype() == "multipart":
            continue
        content = part.get_content()
        if part.get_content_type() == "text/plain":
            text = content
        elif part.get_content_type() == "text/html":
            html = content
    parser = Hrefs()
    parser.feed(html)
    links = []
    for url in parser.hrefs + re.findall(r"https?://[^\s<>()\"']+", text):
        if url.startswith("http") and url not in links:
            links.append(url)
    print(
        json.dumps(
            {
                "subject": str(msg["Subject"]),
                "from": str(msg["From"]),
                "to": str(msg["To"]),
                "date": str(msg["Date"]),
                "message_id": str(msg["Message-ID"]),
                "list_unsubscribe": msg["List-Unsubscribe"] and str(msg["List-Unsubscribe"]),
                "list_unsubscribe_post": msg["List-Unsubscribe-Post"]
                and str(msg["List-Unsubscribe-Post"]),
                "list_id": msg["List-Id"] and str(msg["List-Id"]),
                "content_type": msg.get_content_type(),
                "parts": parts,
                "defects": defects,
                "text": text,
                "html": html,
                "links": links,
                "images": parser.images,
                "scripts": parser.scripts,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
