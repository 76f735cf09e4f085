"""The real Hugging Face client (`huggingface_hub.HfApi`) pointed at a Paperboy
server that imported every saved HF daily_papers file: it must parse our
answers, and ids, titles, upvotes and authors must match what HF served.

    python3 hf_client.py BASE_URL HF_DIR

Exits 0 when everything matches, 1 with a list of mismatches otherwise.
Every request must go to BASE_URL: any other host fails the run, so this
never reaches the Hub.
"""

import datetime
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import httpx2  # noqa: E402  (huggingface_hub's HTTP client)
import huggingface_hub  # noqa: E402
from huggingface_hub import HfApi  # noqa: E402
from huggingface_hub.errors import HfHubHTTPError  # noqa: E402

from hf_data import latest_papers, load_all, norm  # noqa: E402

problems = []


def check(ok, message):
    if not ok:
        problems.append(message)
    return ok


def only_our_server(base_url):
    """Makes every request of huggingface_hub fail unless it goes to base_url."""
    ours = urllib.parse.urlsplit(base_url)

    def guard(request):
        if (request.url.scheme, request.url.host, request.url.port) != (ours.scheme, ours.hostname, ours.port):
            raise RuntimeError(f"huggingface_hub tried to reach {request.url}, not the Paperboy server {base_url}")

    def factory():
        # The library's own factory (its offline check, request ids) with our guard first.
        client = huggingface_hub.utils._http.default_client_factory()
        client.event_hooks["request"].insert(0, guard)
        return client

    huggingface_hub.set_client_factory(factory)


def day_of(value):
    """The UTC date of a datetime or an HF timestamp string."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.astimezone(datetime.timezone.utc).date().isoformat()


def check_listed(day, got, items, papers):
    """One day's list as the client parsed it against the saved HF file."""
    want = {item["paper"]["id"]: item for item in items}
    ids = [p.id for p in got]
    check(len(ids) == len(set(ids)), f"{day}: a paper is listed twice: {ids}")
    missing, extra = set(want) - set(ids), set(ids) - set(want)
    check(not missing and not extra, f"{day}: missing {sorted(missing)}, unexpected {sorted(extra)}")
    upvotes = [p.upvotes or 0 for p in got]
    check(upvotes == sorted(upvotes, reverse=True), f"{day}: not ranked by upvotes: {upvotes}")
    for p in got:
        item = want.get(p.id)
        if item is None:
            continue
        paper = papers[p.id]
        where = f"{day} {p.id}"
        check(norm(p.title) == norm(item["title"]), f"{where}: title {p.title!r}, HF says {item['title']!r}")
        # The client turns 0 upvotes into None (`paper.pop("upvotes") or ...`).
        check((p.upvotes or 0) == paper["upvotes"], f"{where}: upvotes {p.upvotes}, HF says {paper['upvotes']}")
        check(norm(p.summary) == norm(paper["summary"]), f"{where}: summary differs")
        names = [a.name for a in (p.authors or [])]
        check(names == [a["name"] for a in paper["authors"]], f"{where}: authors {names[:3]}...")
        check(p.published_at is not None and day_of(p.published_at) == day_of(paper["publishedAt"]),
              f"{where}: published_at {p.published_at}, HF says {paper['publishedAt']}")
        check(p.submitted_at is not None, f"{where}: no submitted_at")
        # HF's item-level submittedBy names the account in "name", which the
        # client keeps as an extra attribute (its `username` reads "user").
        by = item.get("submittedBy")
        if by:
            got_by = p.submitted_by
            check(got_by is not None and getattr(got_by, "name", None) == by["name"] and norm(got_by.fullname) == norm(by["fullname"]),
                  f"{where}: submitted_by {got_by}, HF says {by['name']} ({by['fullname']})")


def main():
    base_url, hf_dir = sys.argv[1].rstrip("/"), sys.argv[2]
    only_our_server(base_url)
    api = HfApi(endpoint=base_url, token=False)
    by_day = load_all(hf_dir)
    papers = latest_papers(by_day)
    days = sorted(by_day)

    # Every saved day, through list_daily_papers(date=...).
    listed = 0
    for day in days:
        got = list(api.list_daily_papers(date=day, token=False))
        listed += len(got)
        check_listed(day, got, by_day[day], papers)

    # Without a date: the latest day.
    latest = list(api.list_daily_papers(token=False))
    check([p.id for p in latest] == [p.id for p in api.list_daily_papers(date=days[-1], token=False)],
          f"no date: {[p.id for p in latest][:5]}... is not the list of the latest day {days[-1]}")

    # Pages (p, limit) of the longest day add up to the whole day, in order.
    longest = max(days, key=lambda d: len(by_day[d]))
    whole = [p.id for p in api.list_daily_papers(date=longest, limit=100, token=False)]
    paged = []
    for page in range(0, 100):
        ids = [p.id for p in api.list_daily_papers(date=longest, p=page, limit=7, token=False)]
        if not ids:
            break
        check(len(ids) <= 7, f"{longest} p={page} limit=7: {len(ids)} items")
        paged += ids
    check(paged == whole, f"{longest}: pages of 7 {paged[:10]}... differ from the whole list {whole[:10]}...")

    # A week, a month and the trending order parse and hold papers of their period.
    last = datetime.date.fromisoformat(days[-1])
    iso = last.isocalendar()
    week = list(api.list_daily_papers(week=f"{iso.year}-W{iso.week:02d}", limit=100, token=False))
    week_ids = {item["paper"]["id"] for d in days
                if datetime.date.fromisoformat(d).isocalendar()[:2] == (iso.year, iso.week) for item in by_day[d]}
    check({p.id for p in week} == week_ids or len(week) == 100,
          f"week {iso.year}-W{iso.week:02d}: {len(week)} papers, HF lists {len(week_ids)}")
    month = list(api.list_daily_papers(month=days[-1][:7], limit=100, token=False))
    check(len(month) == min(100, sum(len(by_day[d]) for d in days if d.startswith(days[-1][:7]))),
          f"month {days[-1][:7]}: {len(month)} papers")
    trending = list(api.list_daily_papers(sort="trending", limit=20, token=False))
    check(len(trending) == 20 and all(p.id in papers for p in trending), f"trending: {len(trending)} papers")

    # paper_info of the top paper of every 10th day and of the last days.
    sample = [by_day[d][0]["paper"]["id"] for d in days[::10] + days[-5:] if by_day[d]]
    for arxiv_id in sample:
        info = api.paper_info(arxiv_id)
        want = papers[arxiv_id]
        check(info.id == arxiv_id, f"paper_info({arxiv_id}): id {info.id}")
        check(norm(info.title) == norm(want["title"]), f"paper_info({arxiv_id}): title {info.title!r}")
        check(norm(info.summary) == norm(want["summary"]), f"paper_info({arxiv_id}): summary differs")
        check((info.upvotes or 0) == want["upvotes"], f"paper_info({arxiv_id}): upvotes {info.upvotes}, HF says {want['upvotes']}")
        check([a.name for a in info.authors or []] == [a["name"] for a in want["authors"]],
              f"paper_info({arxiv_id}): authors differ")
        check(info.published_at is not None and day_of(info.published_at) == day_of(want["publishedAt"]),
              f"paper_info({arxiv_id}): published_at {info.published_at}")

    # An unknown paper is an HTTP 404 the client reports as such.
    try:
        api.paper_info("2101.99999")
        check(False, "paper_info(2101.99999) of an unknown paper did not fail")
    except HfHubHTTPError as err:
        check(err.response is not None and err.response.status_code == 404, f"unknown paper: {err}")

    print(f"huggingface_hub {huggingface_hub.__version__} (httpx2 {httpx2.__version__}) against {base_url}: "
          f"{len(days)} days, {listed} listed papers, {len(sample)} paper_info calls, {len(problems)} problems")
    for problem in problems[:40]:
        print("  " + problem)
    if len(problems) > 40:
        print(f"  ... and {len(problems) - 40} more")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
