package dendritetest

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestSetYAML(t *testing.T) {
	doc := "global:\n  server_name: localhost\n  trusted_third_party_id_servers:\n  - matrix.org\n  - vector.im\n" +
		"  jetstream:\n    in_memory: true\nclient_api:\n  rate_limiting:\n    enabled: false\n    threshold: 5\n" +
		"logging:\n- type: std\n  level: trace\n  params:\n    path: /x/log\n"
	var err error
	for _, e := range []struct {
		path  string
		value any
	}{
		{"global.trusted_third_party_id_servers", []string{"127.0.0.1:1234"}},
		{"client_api.rate_limiting.enabled", true},
		{"global.server_name", "localhost:8008"},
		{"logging", []map[string]string{{"type": "std", "level": "info"}}},
	} {
		if doc, err = setYAML(doc, e.path, e.value); err != nil {
			t.Fatal(err)
		}
	}
	want := "global:\n  server_name: \"localhost:8008\"\n  trusted_third_party_id_servers: [\"127.0.0.1:1234\"]\n" +
		"  jetstream:\n    in_memory: true\nclient_api:\n  rate_limiting:\n    enabled: true\n    threshold: 5\n" +
		"logging: [{\"level\":\"info\",\"type\":\"std\"}]\n"
	if doc != want {
		t.Errorf("got\n%s\nwant\n%s", doc, want)
	}
	for _, bad := range []string{"global.nope", "client_api.enabled", "rate_limiting"} {
		if _, err := setYAML(doc, bad, 1); err == nil {
			t.Errorf("setYAML %s: no error", bad)
		}
	}
}

func TestLockDir(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	path := filepath.Join(t.TempDir(), "x.lock")
	unlock, err := lockDir(ctx, path, func() bool { return false }, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan time.Time)
	go func() {
		u, err := lockDir(ctx, path, func() bool { return false }, t.Logf)
		if err != nil {
			t.Error(err)
		} else {
			u()
		}
		got <- time.Now()
	}()
	time.Sleep(300 * time.Millisecond)
	released := time.Now()
	unlock()
	if at := <-got; at.Before(released) {
		t.Errorf("second lock taken before the first was released")
	}
}
