"""Parses Paperboy's Atom feeds with `feedparser` against a server that
imported every saved HF daily_papers file and checks them against the files:

    python3 feeds.py BASE_URL HF_DIR SITE_URL

SITE_URL is the server's --base-url, which absolute links in the feeds use.
/feeds/daily.atom must hold the latest saved day, every paper once with its
HF title, authors and upvotes; /feeds/trending.atom the top 30 papers of the
last 7 days by the published formula. Exits 1 with the mismatches otherwise.
"""

import datetime
import os
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import feedparser  # noqa: E402

from hf_data import latest_papers, load_all, norm  # noqa: E402

TRENDING_ENTRIES = 30
WINDOW_DAYS = 7

problems = []


def check(ok, message):
    if not ok:
        problems.append(message)
    return ok


def fetch(url):
    """The feed parsed by feedparser, after checking the HTTP answer."""
    with urllib.request.urlopen(url, timeout=30) as response:
        check(response.status == 200, f"{url}: HTTP {response.status}")
        kind = response.headers.get("Content-Type", "")
        check(kind.startswith("application/atom+xml"), f"{url}: Content-Type {kind!r}")
        body = response.read()
    feed = feedparser.parse(body)
    check(feed.bozo == 0, f"{url}: not well-formed: {feed.get('bozo_exception')!r}")
    check(feed.version == "atom10", f"{url}: version {feed.version!r}, expected atom10")
    return feed


def check_entry(feed_name, entry, paper, site):
    """One entry against the HF paper it shows."""
    where = f"{feed_name} {paper['id']}"
    url = f"{site}/papers/{paper['id']}"
    check(entry.get("id") == url, f"{where}: id {entry.get('id')!r}, expected {url}")
    check(entry.get("link") == url, f"{where}: link {entry.get('link')!r}, expected {url}")
    check(norm(entry.get("title")) == norm(paper["title"]), f"{where}: title {entry.get('title')!r}")
    names = [a.get("name") for a in entry.get("authors", [])]
    check(names == [a["name"] for a in paper["authors"]], f"{where}: authors {names[:3]}...")
    summary = entry.get("summary", "")
    check(f"{paper['upvotes']} upvotes" in summary, f"{where}: summary does not say {paper['upvotes']} upvotes")
    check(norm(paper["summary"])[:80] in norm(summary), f"{where}: summary lacks the abstract")
    check(entry.get("updated_parsed") is not None, f"{where}: no parseable <updated>")


def trending_order(by_day, papers, latest, now):
    """Paper ids ranked as the trending page promises:
    (upvotes + 2 x comments + 1) / (age_hours + 2)^1.5, ties by upvotes, then id."""
    first = latest - datetime.timedelta(days=WINDOW_DAYS - 1)
    scored = []
    for day, items in by_day.items():
        d = datetime.date.fromisoformat(day)
        if not first <= d <= latest:
            continue
        start = datetime.datetime.combine(d, datetime.time(), datetime.timezone.utc)
        age_hours = max((now - start).total_seconds() / 3600.0, 0.0)
        for item in items:
            paper = papers[item["paper"]["id"]]
            weight = paper["upvotes"] + 2 * item.get("numComments", 0) + 1
            scored.append((-(weight / (age_hours + 2) ** 1.5), -paper["upvotes"], paper["id"]))
    ranked, seen = [], set()
    for _, _, arxiv_id in sorted(scored):
        if arxiv_id not in seen:
            seen.add(arxiv_id)
            ranked.append(arxiv_id)
    return ranked


def main():
    base_url, hf_dir, site = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3].rstrip("/")
    by_day = load_all(hf_dir)
    papers = latest_papers(by_day)
    latest_day = max(by_day)

    daily = fetch(f"{base_url}/feeds/daily.atom")
    want = by_day[latest_day]
    entries = daily.entries
    check(len(entries) == len(want), f"daily: {len(entries)} entries, HF lists {len(want)} on {latest_day}")
    check(latest_day in "".join(link.get("href", "") for link in daily.feed.get("links", [])),
          f"daily: no link to the page of {latest_day}: {daily.feed.get('links')}")
    check(daily.feed.get("id") == f"{site}/feeds/daily.atom", f"daily: feed id {daily.feed.get('id')!r}")
    by_id = {e.get("id", "").rsplit("/papers/", 1)[-1]: e for e in entries}
    for item in want:
        entry = by_id.get(item["paper"]["id"])
        if check(entry is not None, f"daily: {item['paper']['id']} ({norm(item['title'])[:50]}) is missing"):
            check_entry("daily", entry, papers[item["paper"]["id"]], site)
    ups = [papers[e.get("id", "").rsplit("/papers/", 1)[-1]]["upvotes"] for e in entries if e.get("id", "").rsplit("/papers/", 1)[-1] in papers]
    check(ups == sorted(ups, reverse=True), f"daily: not ranked by upvotes: {ups}")

    trending = fetch(f"{base_url}/feeds/trending.atom")
    now = datetime.datetime.now(datetime.timezone.utc)
    expected = trending_order(by_day, papers, datetime.date.fromisoformat(latest_day), now)[:TRENDING_ENTRIES]
    got = [e.get("id", "").rsplit("/papers/", 1)[-1] for e in trending.entries]
    check(got == expected, f"trending: order {got[:8]}..., the formula gives {expected[:8]}...")
    for entry, arxiv_id in zip(trending.entries, got):
        if check(arxiv_id in papers, f"trending: {arxiv_id} is not in the HF files"):
            check_entry("trending", entry, papers[arxiv_id], site)

    print(f"feedparser {feedparser.__version__} against {base_url}: daily.atom {len(entries)} entries "
          f"({latest_day}), trending.atom {len(trending.entries)} entries, {len(problems)} problems")
    for problem in problems[:40]:
        print("  " + problem)
    if len(problems) > 40:
        print(f"  ... and {len(problems) - 40} more")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
