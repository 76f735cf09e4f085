"""Reads the real Hugging Face daily_papers files the way they were saved.

Most files are the JSON array HF's /api/daily_papers returned; some hold the
items as Python repr strings, and one wraps them as {"status", "date",
"count", "data"}. Shared by the Python peers of the end-to-end tests.
"""

import ast
import json
import os


def load_day(path):
    """The items of one saved day, as dicts, in file order."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if isinstance(data, dict):
        data = data["data"]
    items = []
    for item in data:
        if isinstance(item, str):
            item = ast.literal_eval(item)
        items.append(item)
    return items


def days(hf_dir):
    """The curation days saved in `hf_dir` (file names YYYY-MM-DD.json), oldest first."""
    return sorted(name[: -len(".json")] for name in os.listdir(hf_dir) if name.endswith(".json"))


def load_all(hf_dir):
    """{day: items} for every saved day."""
    return {day: load_day(os.path.join(hf_dir, day + ".json")) for day in days(hf_dir)}


def latest_papers(by_day):
    """{arxiv id: paper dict} from the latest day that lists each paper: a
    paper listed twice carries the later upvote snapshot."""
    papers = {}
    for day in sorted(by_day):
        for item in by_day[day]:
            papers[item["paper"]["id"]] = item["paper"]
    return papers


def norm(text):
    """Whitespace-insensitive text: arXiv titles carry line breaks."""
    return " ".join((text or "").split())
