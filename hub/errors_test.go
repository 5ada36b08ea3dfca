package hub

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestErrorMapping(t *testing.T) {
	all := []error{ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrRateLimited}
	tests := []struct {
		status   int
		sentinel error // nil: matches none
		hint     string
	}{
		{400, ErrBadRequest, ""},
		{401, ErrUnauthorized, "The Hub did not accept the token."},
		{403, ErrForbidden, "Make sure your token has the correct permissions"},
		{404, ErrNotFound, ""},
		{429, ErrRateLimited, ""},
		{409, nil, ""},
		{500, nil, ""},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			c, mux := setup(t, WithRetry(1, 0))
			mux.HandleFunc("/api/settings/webhooks/"+hookID, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
			})
			_, err := c.GetWebhook(t.Context(), hookID)
			var apiErr *Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v, want *Error", err)
			}
			if apiErr.StatusCode != tt.status || apiErr.Method != "GET" || apiErr.URL != c.Endpoint()+"/api/settings/webhooks/"+hookID {
				t.Errorf("Error = %+v", apiErr)
			}
			for _, s := range all {
				if got, want := errors.Is(err, s), s == tt.sentinel; got != want {
					t.Errorf("errors.Is(err, %v) = %t, want %t", s, got, want)
				}
			}
			if tt.hint != "" && !strings.Contains(err.Error(), tt.hint) {
				t.Errorf("Error() = %q, want it to contain %q", err, tt.hint)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("Error() = %q reveals the token", err)
			}
			if strings.Contains(err.Error(), "--") || !apiErr.TokenSent {
				t.Errorf("Error() = %q, TokenSent %t: want no command-line flag, and the token sent", err, apiErr.TokenSent)
			}
		})
	}
}

func TestErrorWithoutToken(t *testing.T) {
	clearEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	c, err := NewClient(WithEndpoint(srv.URL), WithRetry(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetWebhook(t.Context(), hookID)
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.TokenSent || !strings.Contains(err.Error(), "No token was sent.") {
		t.Errorf("error = %v, want a 401 saying no token was sent", err)
	}
}

func TestErrorServerMessage(t *testing.T) {
	tests := []struct {
		name        string
		header      string
		contentType string
		body        string
		want        string
	}{
		{"header only", "Invalid webhook id", "", "", "Invalid webhook id"},
		{"json error string", "", "application/json", `{"error": "Webhook not found"}`, "Webhook not found"},
		{"json error list", "", "application/json", `{"error": ["url is invalid", "secret is not ASCII"]}`, "url is invalid\nsecret is not ASCII"},
		{"json error and description", "", "application/json", `{"error": "invalid_token", "error_description": "The token expired"}`, "invalid_token: The token expired"},
		{"json description only", "", "application/json", `{"error_description": "The token expired"}`, "The token expired"},
		{"json errors messages", "", "application/json", `{"errors": [{"message": "a"}, {"message": "b"}, {"code": 1}]}`, "a\nb"},
		{"header and body de-duplicated", "Webhook not found", "application/json", `{"error": " Webhook not found ", "errors": [{"message": "Webhook not found"}, {"message": "try again"}]}`, "Webhook not found\ntry again"},
		{"plain text body", "", "text/plain", "upstream connect error\n", "upstream connect error"},
		{"html body ignored", "", "text/html; charset=utf-8", "<html><body>Bad gateway</body></html>", ""},
		{"header kept with html body", "Oops", "text/html", "<html></html>", "Oops"},
		{"empty", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux := setup(t)
			mux.HandleFunc("/api/settings/webhooks", func(w http.ResponseWriter, r *http.Request) {
				if tt.header != "" {
					w.Header().Set("X-Error-Message", tt.header)
				}
				w.Header().Set("Content-Type", tt.contentType)
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(tt.body))
			})
			_, err := c.ListWebhooks(t.Context())
			var apiErr *Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v, want *Error", err)
			}
			if apiErr.Message != tt.want {
				t.Errorf("Message = %q, want %q", apiErr.Message, tt.want)
			}
			if tt.want != "" && !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Error() = %q does not contain the message", err)
			}
		})
	}
}

func TestErrorRequestID(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		want    string
	}{
		{"none", nil, ""},
		{"cf id", map[string]string{"X-Amz-Cf-Id": "cf"}, "cf"},
		{"trace id beats cf id", map[string]string{"X-Amz-Cf-Id": "cf", "X-Amzn-Trace-Id": "Root=1-abc"}, "Root=1-abc"},
		{"request id beats all", map[string]string{"X-Amz-Cf-Id": "cf", "X-Amzn-Trace-Id": "Root=1-abc", "X-Request-Id": "req-1"}, "req-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux := setup(t)
			mux.HandleFunc("/api/settings/webhooks/"+hookID, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.headers {
					w.Header().Set(k, v)
				}
				w.WriteHeader(http.StatusNotFound)
			})
			err := c.DeleteWebhook(t.Context(), hookID)
			var apiErr *Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v, want *Error", err)
			}
			if apiErr.RequestID != tt.want {
				t.Errorf("RequestID = %q, want %q", apiErr.RequestID, tt.want)
			}
			if tt.want != "" && !strings.Contains(err.Error(), "(Request ID: "+tt.want+")") {
				t.Errorf("Error() = %q does not show the request id", err)
			}
		})
	}
}

func TestErrorHidesURLSecrets(t *testing.T) {
	e := &Error{Method: http.MethodGet, URL: "https://u:pw@hub.example/api/jobs?token=SEKRET", StatusCode: http.StatusBadGateway}
	if got, want := e.Error(), "hub: GET https://u:xxxxx@hub.example/api/jobs?token=xxxxx: 502 Bad Gateway"; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
}
