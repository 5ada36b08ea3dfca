package hfhooks

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkRequestPath measures the whole in-process request path (secret,
// size limit, decode, dispatch, record, metrics) on each fixture, against
// a bare handler that reads the body and returns 200 as the baseline.
func BenchmarkRequestPath(b *testing.B) {
	for _, name := range []string{"discussion-pr-create-with-comment.json", "repo-content-updated-refs.json"} {
		body := fixture(b, name)
		b.Run("bare/"+name, func(b *testing.B) {
			bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.ReadAll(r.Body)
				w.WriteHeader(http.StatusOK)
			})
			benchHandler(b, bare, body)
		})
		b.Run("hfhooks/"+name, func(b *testing.B) {
			s := NewServer(WithSecret("bench-secret"), WithLogger(slog.New(slog.DiscardHandler)))
			if err := s.AddEndpoint("hook", func(context.Context, *Delivery) (any, error) { return nil, nil }); err != nil {
				b.Fatal(err)
			}
			benchHandler(b, s, body)
		})
	}
}

func benchHandler(b *testing.B, h http.Handler, body []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.RunParallel(func(pb *testing.PB) {
		r := bytes.NewReader(body)
		for pb.Next() {
			r.Reset(body)
			req := httptest.NewRequest(http.MethodPost, "/webhooks/hook", r)
			req.Header.Set(SecretHeader, "bench-secret")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}

// BenchmarkDecodePayload measures decoding alone.
func BenchmarkDecodePayload(b *testing.B) {
	body := fixture(b, "discussion-pr-create-with-comment.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := DecodePayload(body); err != nil {
			b.Fatal(err)
		}
	}
}
