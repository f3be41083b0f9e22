package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestWebhookRetry: the schedule defaults to three days of backoff with
// jitter, is read from webhook_retry, and every bad value is reported.
func TestWebhookRetry(t *testing.T) {
	want := WebhookRetry{For: Duration(72 * time.Hour), FirstDelay: Duration(30 * time.Second), MaxDelay: Duration(6 * time.Hour), Jitter: 0.3}
	if diff := cmp.Diff(want, Default().WebhookRetry); diff != "" {
		t.Errorf("default webhook_retry (-want +got):\n%s", diff)
	}
	got, err := Load(writeConfig(t, `
public_url: https://grantd.example.com
webhook_retry:
  for: 24h
  first_delay: 1m
  max_delay: 1h
  jitter: 0
`), env(baseEnv(t)))
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	want = WebhookRetry{For: Duration(24 * time.Hour), FirstDelay: Duration(time.Minute), MaxDelay: Duration(time.Hour)}
	if diff := cmp.Diff(want, got.WebhookRetry); diff != "" {
		t.Errorf("webhook_retry (-want +got):\n%s", diff)
	}
	_, err = Load(writeConfig(t, `
public_url: https://grantd.example.com
webhook_retry:
  for: 200h
  first_delay: 1h
  max_delay: 1m
  jitter: 1.5
`), env(baseEnv(t)))
	if err == nil {
		t.Fatal("Load(bad webhook_retry) = nil error")
	}
	for _, want := range []string{"webhook_retry.for:", "webhook_retry.max_delay:", "webhook_retry.jitter:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
