#!/bin/sh
# Started by the "evaluate" hook of examples/hooks.yaml for each new release
# tag of a model of my-org, with the hook's arguments (--tasks ...). The
# payload on stdin says which tag was pushed (updatedRefs).
set -eu
tag=$(python3 -c '
import json, sys
refs = json.load(sys.stdin)["updatedRefs"]
print(next(r["ref"] for r in refs if r["ref"].startswith("refs/tags/") and r["newSha"]))')
echo "evaluating $WEBHOOK_REPO_ID at $tag"
exec python3 -m lm_eval --model hf --model_args "pretrained=$WEBHOOK_REPO_ID,revision=${tag#refs/tags/}" "$@"
