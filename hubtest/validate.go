package hubtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/hfhooks/hfhooks/hub"
)

// maxRequestBody bounds the body of a management API request.
const maxRequestBody = 1 << 20

// webhookRequest is the body of create and update. A key that is absent or
// null (as huggingface_hub before 1.6 sent unset values) is not set.
type webhookRequest struct {
	Watched     *[]hub.WatchedItem `json:"watched"`
	Domains     *[]hub.Domain      `json:"domains"`
	Secret      *string            `json:"secret"`
	URL         *string            `json:"url"`
	JobSourceID *string            `json:"jobSourceId"`
}

func decodeWebhookRequest(r *http.Request) (*webhookRequest, error) {
	var req webhookRequest
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxRequestBody)).Decode(&req); err != nil {
		return nil, fmt.Errorf("invalid JSON body: %w", err)
	}
	return &req, nil
}

// check validates the request as the Hub does. A create needs a watched
// list and exactly one of url and jobSourceId. An update may leave out
// watched, or send it empty as huggingface_hub's update_webhook does when it
// is not given: the webhook then keeps what it watches.
func (q *webhookRequest) check(create bool) error {
	hasURL, hasJob := q.URL != nil && *q.URL != "", q.JobSourceID != nil && *q.JobSourceID != ""
	switch {
	case hasURL && hasJob:
		return errors.New("set url or jobSourceId, not both")
	case create && !hasURL && !hasJob:
		return errors.New("missing url or jobSourceId: a webhook needs a target")
	case create && (q.Watched == nil || len(*q.Watched) == 0):
		return errors.New("watched must list at least one user, org or repo")
	}
	if q.Watched != nil {
		for _, w := range *q.Watched {
			if !w.Type.Known() {
				return fmt.Errorf("invalid watched type %q: must be one of dataset, model, org, space, user", w.Type)
			}
			if w.Name == "" {
				return fmt.Errorf("the watched %s has no name", w.Type)
			}
		}
	}
	if q.Domains != nil {
		for _, d := range *q.Domains {
			if !slices.Contains(hub.Domains, d) {
				return fmt.Errorf("invalid domain %q: must be repo or discussion", d)
			}
		}
	}
	if q.URL != nil && (!hasJob || *q.URL != "") {
		u, err := url.Parse(*q.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("invalid url %q: must be an http or https URL", *q.URL)
		}
	}
	if q.Secret != nil {
		for _, b := range []byte(*q.Secret) {
			if b >= 0x80 {
				return errors.New("invalid secret: only ASCII characters are supported")
			}
		}
	}
	return nil
}

// apply sets what the request sets; check must have passed.
func (q *webhookRequest) apply(hk *hook) {
	if q.Watched != nil && len(*q.Watched) > 0 {
		hk.Watched = slices.Clone(*q.Watched)
	}
	if q.Domains != nil {
		hk.Domains = slices.Clone(*q.Domains)
	}
	if q.Secret != nil {
		hk.Secret = *q.Secret
	}
	switch {
	case q.URL != nil && *q.URL != "":
		hk.URL, hk.Job, hk.jobSourceID = *q.URL, nil, ""
	case q.JobSourceID != nil && *q.JobSourceID != "":
		hk.URL, hk.jobSourceID = "", *q.JobSourceID
		hk.Job = jobSpec(hk.jobSourceID)
	}
}

// jobSpec is the Job a job webhook shows. The emulator does not know the
// source Job, so it shows a placeholder that names it in a label.
func jobSpec(sourceID string) *hub.JobSpec {
	return &hub.JobSpec{
		DockerImage: "python:3.12",
		Command:     []string{"python", "-c", "import os; print(os.environ['WEBHOOK_REPO_ID'])"},
		Labels:      map[string]string{"hubtest/jobSourceId": sourceID},
	}
}
