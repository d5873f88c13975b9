package webrtcclient

// seqWindow is how far back a late packet (reordered, or a NACK
// retransmission) still fills its gap: at 2 Mbit/s of 1200-byte packets,
// about 20 s.
const seqWindow = 4096

// seqCounter counts the packets a stream's 16-bit sequence numbers say
// were sent and how many distinct ones arrived.
type seqCounter struct {
	started   bool
	base, top uint64 // extended sequence numbers, first and highest
	received  uint64 // distinct packets within the span
	seen      [seqWindow]bool
}

func (c *seqCounter) add(seq uint16) {
	if !c.started {
		c.started = true
		c.base, c.top = uint64(seq)+1<<16, uint64(seq)+1<<16 // room below for reordering
		c.seen[c.top%seqWindow] = true
		c.received = 1
		return
	}
	// The signed distance from the highest unwraps the 16-bit counter.
	ext := uint64(int64(c.top) + int64(int16(seq-uint16(c.top))))
	switch {
	case ext > c.top:
		if ext-c.top >= seqWindow {
			c.seen = [seqWindow]bool{}
		} else {
			for s := c.top + 1; s < ext; s++ {
				c.seen[s%seqWindow] = false
			}
		}
		c.top = ext
		c.seen[ext%seqWindow] = true
		c.received++
	case c.top-ext >= seqWindow:
		// Too old to tell from a duplicate: ignored.
	case ext < c.base:
		c.base = ext
		c.seen[ext%seqWindow] = true
		c.received++
	case !c.seen[ext%seqWindow]:
		c.seen[ext%seqWindow] = true
		c.received++
	}
}

func (c *seqCounter) expected() uint64 {
	if !c.started {
		return 0
	}
	return c.top - c.base + 1
}

func (c *seqCounter) lost() uint64 {
	return c.expected() - c.received
}
