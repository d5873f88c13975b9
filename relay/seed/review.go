package seed

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/qianliyan/qianliyan/relay/wire"
)

// What supervisors wrote in review, for the search to find.
var (
	comments = []string{
		"请区疾控中心跟进现场核查",
		"该机构本月问题较多，列入回头看名单",
		"建议约谈隔离点负责人",
		"同类问题多次出现，需加强培训",
		"整改措施落实情况需复核",
		"Follow up on site next week",
	}
	outcomeKinds = []struct {
		kind, prefix string
		weight       int
	}{
		{wire.OutcomeNoticeIssued, "卫监意", 50},
		{wire.OutcomeRectifyOrder, "卫监改", 35},
		{wire.OutcomeSuspendOrder, "卫监停", 10},
		{wire.OutcomeCaseFiled, "卫监立", 5},
	}
)

// supervisors are the seeded supervisors who review.
var supervisors = []string{SupervisorName, "sup2"}

// review adds the supervisors' review of a finding, some days after its
// flagging: a reviewed mark on about a third of those older than three
// days, comments, and enforcement outcomes on a few (more of the critical
// and the overdue); past them comments until the record's histories have
// EventsPerFinding events on average. The events come back in time order.
func (f *filler) review(r findingRow, deadline time.Time, evs []*event) []*event {
	now := f.o.Now
	age := now.Sub(r.flagged)
	add := func(lo, hi time.Duration, action string, detail map[string]any) *event {
		at := f.between(r.flagged, lo, hi)
		if at.After(now) {
			return nil
		}
		e := &event{at: at, actor: supervisors[f.rng.IntN(len(supervisors))], role: "supervisor", action: action, detail: detail}
		evs = append(evs, e)
		return e
	}
	chance := 10
	if age > 3*24*time.Hour {
		chance = 35
	}
	if f.rng.IntN(100) < chance {
		add(time.Hour, 10*24*time.Hour, wire.EventReviewed, map[string]any{})
	}
	comment := func() {
		text := comments[f.rng.IntN(len(comments))]
		if e := add(2*time.Hour, 12*24*time.Hour, wire.EventCommented, map[string]any{"text": text}); e != nil {
			e.comment = text
		}
	}
	if f.rng.IntN(100) < 12 {
		comment()
	}
	chance = 4
	if r.severity == "critical" || deadline.Before(now) && r.status != wire.StatusVerified && r.status != wire.StatusWithdrawn {
		chance = 12
	}
	if f.rng.IntN(100) < chance {
		pick := f.rng.IntN(100)
		k := outcomeKinds[0]
		for _, c := range outcomeKinds {
			if pick < c.weight {
				k = c
				break
			}
			pick -= c.weight
		}
		f.docs++
		// The observed year in the site's calendar, as a document is numbered.
		num := fmt.Sprintf("%s〔%d〕%05d号", k.prefix, r.observed.In(shanghai).Year(), f.docs)
		if e := add(6*time.Hour, 14*24*time.Hour, wire.EventOutcome, map[string]any{"kind": k.kind, "doc_number": num, "note": ""}); e != nil {
			e.outcome, e.docNum = k.kind, num
		}
	}
	// The histories' mean length, where the lifecycle leaves it short.
	for f.sum.Events+len(evs) < int(f.o.EventsPerFinding*float64(f.done+1)) && age > 2*time.Hour {
		before := len(evs)
		comment()
		if len(evs) == before {
			break
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at.Before(evs[j].at) })
	return evs
}

// eventRows writes the rows that go with a finding's event: its evidence,
// or the review's mark, comment or outcome.
func (f *filler) eventRows(ctx context.Context, finding string, e *event) error {
	switch {
	case e.evidence == "snapshot" || e.evidence == "photo" || e.evidence == "recheck":
		s := f.ev.snapshot
		return f.exec(ctx, insEvidence, finding, e.evidence, e.position, s.SHA256, s.Bytes, s.ContentType, ts(e.at))
	case e.evidence == "clip":
		c := f.ev.clip
		return f.exec(ctx, insEvidence, finding, "clip", 0, c.SHA256, c.Bytes, c.ContentType, ts(e.at))
	case e.action == wire.EventReviewed:
		f.sum.Reviewed++
		return f.exec(ctx, insMark, finding, e.actor, ts(e.at))
	case e.comment != "":
		f.sum.Comments++
		return f.exec(ctx, insComment, f.comment, finding, e.actor, ts(e.at), e.comment)
	case e.outcome != "":
		f.sum.Outcomes++
		return f.exec(ctx, insOutcome, finding, e.outcome, e.docNum, "", e.actor, ts(e.at))
	}
	return nil
}
