package hub

import (
	"encoding/json"
	"reflect"
)

// JobSpec describes the Job a webhook runs instead of calling a URL. Its JSON
// keys are camelCase, as the Hub sends them; snake_case keys (docker_image,
// space_id) are accepted too, as huggingface_hub accepts them.
type JobSpec struct {
	// DockerImage is the image the Job runs, when it does not run a Space.
	DockerImage string `json:"dockerImage,omitempty"`
	// SpaceID is the Space whose image the Job runs.
	SpaceID string `json:"spaceId,omitempty"`
	// Command and Arguments are what the Job runs.
	Command   []string `json:"command,omitempty"`
	Arguments []string `json:"arguments,omitempty"`
	// Environment holds environment variables; Secrets holds secret ones,
	// as the Hub reports them.
	Environment map[string]string `json:"environment,omitempty"`
	Secrets     map[string]string `json:"secrets,omitempty"`
	// Flavor is the hardware, for example "cpu-basic" or "a10g-small".
	Flavor string `json:"flavor,omitempty"`
	// Timeout is the Job's time limit in seconds; zero when not set.
	Timeout int `json:"timeout,omitempty"`
	// Tags and Labels annotate the Job.
	Tags   []string          `json:"tags,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	// Arch is the CPU architecture, for example "amd64".
	Arch string `json:"arch,omitempty"`
	// Volumes are mounted into the Job.
	Volumes []Volume `json:"volumes,omitempty"`
}

// Volume is a volume mounted into a Job. Its JSON keys are camelCase;
// mount_path and read_only are accepted too.
type Volume struct {
	Type      string `json:"type,omitempty"`
	Source    string `json:"source,omitempty"`
	MountPath string `json:"mountPath,omitempty"`
	Revision  string `json:"revision,omitempty"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
	Path      string `json:"path,omitempty"`
}

// UnmarshalJSON decodes camelCase or snake_case keys.
func (j *JobSpec) UnmarshalJSON(b []byte) error {
	type plain JobSpec
	return unmarshalCamelOrSnake(b, (*plain)(j), map[string]string{
		"docker_image": "dockerImage",
		"space_id":     "spaceId",
	})
}

// UnmarshalJSON decodes camelCase or snake_case keys.
func (v *Volume) UnmarshalJSON(b []byte) error {
	type plain Volume
	return unmarshalCamelOrSnake(b, (*plain)(v), map[string]string{
		"mount_path": "mountPath",
		"read_only":  "readOnly",
	})
}

// unmarshalCamelOrSnake decodes the JSON object b into v after renaming the
// snake_case keys of snake to their camelCase form. A camelCase key wins
// when both are present.
func unmarshalCamelOrSnake(b []byte, v any, snake map[string]string) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	for s, camel := range snake {
		if val, ok := obj[s]; ok {
			if _, dup := obj[camel]; !dup {
				obj[camel] = val
			}
			delete(obj, s)
		}
	}
	renamed, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	return json.Unmarshal(renamed, v)
}

// isZero reports whether j holds nothing, as a "job": {} does.
func (j *JobSpec) isZero() bool { return reflect.ValueOf(*j).IsZero() }
