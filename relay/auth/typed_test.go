package auth

import (
	"strings"
	"testing"
)

func TestTypedName(t *testing.T) {
	if got := TypedName("mgr1", true); got != "mgr1" {
		t.Errorf("an account's name: %q", got)
	}
	a, b := TypedName("hunter2", false), TypedName("hunter2", false)
	if a != b || len(a) != 13 || !strings.HasPrefix(a, "?") || strings.Contains(a, "hunter2") {
		t.Errorf("a typed name: %q then %q, want the same ? and 12 hex digits", a, b)
	}
	if TypedName("hunter3", false) == a {
		t.Errorf("two names, one hash")
	}
}
