package demosite

import (
	"reflect"
	"testing"
)

func TestSites(t *testing.T) {
	sites, err := Sites(3, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(sites) != 3 || sites[2].ID != "site-03" || len(sites[0].Cameras) != 4 || sites[0].Cameras[0].ID != "doff1" {
		t.Fatalf("got %+v", sites)
	}
	many, err := Sites(6, 1)
	if err != nil || reflect.DeepEqual(many[4].Name, many[0].Name) {
		t.Fatalf("site names repeat: %v %v", many[4].Name, err)
	}
	for _, bad := range [][2]int{{0, 1}, {1, 0}, {1, len(Positions) + 1}, {100, 1}} {
		if _, err := Sites(bad[0], bad[1]); err == nil {
			t.Fatalf("Sites(%d, %d) accepted", bad[0], bad[1])
		}
	}
}
