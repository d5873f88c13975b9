package secret

import (
	"net/http/httptest"
	"testing"
)

func TestMatches(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	other, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if s == other || len(s) < 40 {
		t.Fatalf("secrets %q and %q", s, other)
	}
	cases := []struct {
		name   string
		target string
		header string
		want   bool
	}{
		{"bearer", "/api/v1/bootstrap", "Bearer " + s, true},
		{"query", "/ws/video?token=" + s, "", true},
		{"none", "/api/v1/bootstrap", "", false},
		{"wrong bearer", "/api/v1/bootstrap", "Bearer " + other, false},
		{"wrong query", "/ws/video?token=" + other, "", false},
		{"not bearer", "/api/v1/bootstrap", "Basic " + s, false},
		{"empty query", "/ws/video?token=", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", c.target, nil)
			if c.header != "" {
				r.Header.Set("Authorization", c.header)
			}
			if got := Matches(r, s); got != c.want {
				t.Fatalf("Matches = %v, want %v", got, c.want)
			}
		})
	}
	if Matches(httptest.NewRequest("GET", "/?token=", nil), "") {
		t.Fatal("empty secret matched")
	}
}
