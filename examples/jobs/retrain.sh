#!/bin/sh
# Started by the "retrain" hook of examples/hooks.yaml for each push to main
# of a dataset of my-org. train.py is yours; it gets the dataset and the
# commit to train on.
set -eu
echo "retraining on $WEBHOOK_REPO_ID at $WEBHOOK_HEAD_SHA"
exec python3 train.py --dataset "$WEBHOOK_REPO_ID" --revision "$WEBHOOK_HEAD_SHA"
