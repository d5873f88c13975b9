package webrtcclient

import "testing"

func TestSeqCounter(t *testing.T) {
	cases := []struct {
		name           string
		seqs           []uint16
		expected, lost uint64
	}{
		{"in order", []uint16{10, 11, 12, 13}, 4, 0},
		{"gap", []uint16{10, 11, 14, 15}, 6, 2},
		{"late packet fills its gap", []uint16{10, 12, 13, 11}, 4, 0},
		{"duplicates count once", []uint16{10, 11, 11, 12, 12}, 3, 0},
		{"wrap at 65535", []uint16{65533, 65534, 65535, 0, 1}, 5, 0},
		{"gap across the wrap", []uint16{65534, 1}, 4, 2},
		{"reordered before the first", []uint16{100, 99, 101}, 3, 0},
		{"far older than the window is ignored", []uint16{5000, 5001, 100}, 2, 0},
		{"a jump past the window", []uint16{1, 2, 10000, 10001}, 10001, 9997},
		{"none", nil, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s seqCounter
			for _, q := range c.seqs {
				s.add(q)
			}
			if s.expected() != c.expected || s.lost() != c.lost {
				t.Fatalf("expected %d lost %d, want %d and %d", s.expected(), s.lost(), c.expected, c.lost)
			}
		})
	}
}
