package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFindingsFlags(t *testing.T) {
	home := t.TempDir()
	base := []string{"--relay", "http://127.0.0.1:1", "--user", "duty", "--serve", "127.0.0.1:0"}
	getenv := env(map[string]string{"QLY_PASSWORD": "pw", "HOME": home})

	cfg, err := parseFlags(base, getenv, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.clipBefore != 20*time.Second || cfg.clipAfter != 10*time.Second ||
		cfg.templates != filepath.Join(home, ".local", "share", "qianliyan", "templates") {
		t.Fatalf("defaults: before %v, after %v, templates %q", cfg.clipBefore, cfg.clipAfter, cfg.templates)
	}
	cfg, err = parseFlags(append(base, "--clip-before", "3s", "--clip-after", "1500ms", "--data", "/srv/qly", "--templates", "/etc/qly/templates"), getenv, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.clipBefore != 3*time.Second || cfg.clipAfter != 1500*time.Millisecond || cfg.templates != "/etc/qly/templates" {
		t.Fatalf("given: before %v, after %v, templates %q", cfg.clipBefore, cfg.clipAfter, cfg.templates)
	}
	cfg, err = parseFlags(append(base, "--data", "/srv/qly"), getenv, &bytes.Buffer{})
	if err != nil || cfg.templates != "/srv/qly/templates" {
		t.Fatalf("templates beside --data: %q, %v", cfg.templates, err)
	}

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"clip-before not a duration", []string{"--clip-before", "soon"}, "clip-before"},
		{"clip-after of zero", []string{"--clip-after", "0s"}, "longer than zero"},
		{"negative clip-before", []string{"--clip-before", "-5s"}, "longer than zero"},
		{"clip of ten minutes", []string{"--clip-before", "10m"}, "5 minutes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append(append([]string{}, base...), c.args...), getenv, &stdout, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), c.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), c.want)
			}
		})
	}
}
