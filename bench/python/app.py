"""The Python peer in hfhooks' benchmark.

It does per request what huggingface_hub's WebhooksServer does when a secret
is set (spec hf-webhooks.md section 2.5): FastAPI parses the JSON body into a
pydantic model of the version 3 payload (section 3.2: required fields, the
Literal enums, version 3), then the secret header is compared, then the
handler's result is sent as JSON. It leaves out Gradio, which WebhooksServer
mounts the routes on, so it is, if anything, faster than the real thing.

Run it with Debian's packages and /usr/bin/python3:

    WEBHOOK_SECRET=s /usr/bin/python3 -m uvicorn app:app --app-dir bench/python \
        --host 127.0.0.1 --port 7860 --loop uvloop --http httptools --no-access-log

It serves POST /webhooks/inbox and GET /healthz.
"""

import os
from typing import List, Literal, Optional

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

WEBHOOK_SECRET = os.environ["WEBHOOK_SECRET"]


class ObjectId(BaseModel):
    id: str


class WebhookPayloadUrl(BaseModel):
    web: str
    api: Optional[str] = None


class WebhookPayloadMovedTo(BaseModel):
    name: str
    owner: ObjectId


class WebhookPayloadWebhook(ObjectId):
    version: Literal[3]


class WebhookPayloadEvent(BaseModel):
    action: Literal["create", "delete", "move", "update"]
    scope: str


class WebhookPayloadDiscussionChanges(BaseModel):
    base: str
    mergeCommitId: Optional[str] = None


class WebhookPayloadComment(ObjectId):
    author: ObjectId
    hidden: bool
    content: Optional[str] = None
    url: WebhookPayloadUrl


class WebhookPayloadDiscussion(ObjectId):
    num: int
    author: ObjectId
    url: WebhookPayloadUrl
    title: str
    isPullRequest: bool
    status: Literal["closed", "draft", "open", "merged"]
    changes: Optional[WebhookPayloadDiscussionChanges] = None
    pinned: Optional[bool] = None


class WebhookPayloadRepo(ObjectId):
    owner: ObjectId
    head_sha: Optional[str] = None  # sic: huggingface_hub's key, never filled
    name: str
    private: bool
    subdomain: Optional[str] = None
    tags: Optional[List[str]] = None
    type: Literal["dataset", "model", "space"]
    url: WebhookPayloadUrl


class WebhookPayloadUpdatedRef(BaseModel):
    ref: str
    oldSha: Optional[str] = None
    newSha: Optional[str] = None


class WebhookPayload(BaseModel):
    event: WebhookPayloadEvent
    repo: WebhookPayloadRepo
    discussion: Optional[WebhookPayloadDiscussion] = None
    comment: Optional[WebhookPayloadComment] = None
    webhook: WebhookPayloadWebhook
    movedTo: Optional[WebhookPayloadMovedTo] = None
    updatedRefs: Optional[List[WebhookPayloadUpdatedRef]] = None


app = FastAPI()


@app.post("/webhooks/inbox")
async def inbox(request: Request, payload: WebhookPayload):
    # The check of huggingface_hub's _wrap_webhook_to_check_secret; FastAPI
    # has validated the body before the handler runs.
    secret = request.headers.get("x-webhook-secret")
    if secret is None:
        return JSONResponse({"error": "x-webhook-secret header not set."}, status_code=401)
    if secret != WEBHOOK_SECRET:
        return JSONResponse({"error": "Invalid webhook secret."}, status_code=403)
    return {"status": "received", "repo": payload.repo.name}


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}
