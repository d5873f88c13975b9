package logging

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestNew(t *testing.T) {
	var buf bytes.Buffer
	log, err := New("info", &buf)
	if err != nil {
		t.Fatal(err)
	}
	log.Debug().Msg("hidden")
	log.Info().Str("component", "test").Msg("shown")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %q", buf.String())
	}
	if line["component"] != "test" || line["message"] != "shown" {
		t.Fatalf("got %v", line)
	}
	for _, bad := range []string{"", "loud"} {
		if _, err := New(bad, &buf); err == nil {
			t.Fatalf("level %q accepted", bad)
		}
	}
}
