"""Runs for each push to main of a dataset: the dataset-update hook of hooks.yaml.

hfhooks gives the delivery's payload on stdin. Exit code 0 marks the
delivery succeeded; any other exit code, or an exception, makes hfhooks
retry it.

With HF_TOKEN set (a Space secret), the script reads the dataset at the
pushed commit from the Hub with huggingface_hub. Without it, the script
skips the Hub calls and only reports the event: that is how it runs on your
machine, with no package installed:

    hfhooks trigger repo.content --repo dataset:me/data --dry-run | python3 on_dataset_update.py
"""

import json
import os
import sys


def main() -> int:
    payload = json.load(sys.stdin)
    repo = payload["repo"]
    if repo["type"] != "dataset":
        print(f"{repo['type']} {repo['name']} is not a dataset: nothing to do")
        return 0
    revision = repo.get("headSha") or "main"
    print(f"dataset {repo['name']} updated at {revision}")

    token = os.environ.get("HF_TOKEN")
    if not token:
        print("HF_TOKEN is not set: skipping the Hub calls")
        return 0
    from huggingface_hub import HfApi  # only needed for the Hub calls

    info = HfApi(token=token).dataset_info(repo["name"], revision=revision, files_metadata=True)
    files = info.siblings or []
    print(f"{len(files)} files, {sum(f.size or 0 for f in files)} bytes")
    # Start your training job here, on repo["name"] at revision.
    return 0


if __name__ == "__main__":
    sys.exit(main())
