package findings

import (
	"time"

	"github.com/qianliyan/qianliyan/relay/auth"
)

// Next returns the status action a moves a finding in status from to, or a
// *TransitionError.
func Next(from Status, a Action) (Status, error) {
	to, ok := Status(""), false
	switch a {
	case ActEdit:
		to, ok = from, from == StatusOpen
	case ActAcknowledge:
		to, ok = StatusAcknowledged, from == StatusOpen || from == StatusReopened
	case ActRectify:
		to, ok = StatusRectified, from == StatusAcknowledged
	case ActVerify:
		to, ok = StatusVerified, from == StatusRectified
	case ActReopen:
		to, ok = StatusReopened, from == StatusRectified
	case ActWithdraw:
		to, ok = StatusWithdrawn, !from.Closed()
	}
	if !ok {
		return "", &TransitionError{Action: a, From: from, To: to}
	}
	return to, nil
}

// ValidAction reports whether a names an action.
func ValidAction(a Action) bool {
	switch a {
	case ActEdit, ActWithdraw, ActVerify, ActReopen, ActAcknowledge, ActRectify:
		return true
	}
	return false
}

// May reports whether role may take action a: the site answers a finding
// (acknowledge, rectify); the city's officers raise, correct and close it.
func May(role auth.Role, a Action) bool {
	switch role {
	case auth.RoleSiteManager:
		return a == ActAcknowledge || a == ActRectify
	case auth.RoleDuty, auth.RoleSupervisor, auth.RoleAdmin:
		return a == ActEdit || a == ActWithdraw || a == ActVerify || a == ActReopen
	}
	return false
}

// MayFile reports whether role may create findings and send their evidence.
func MayFile(role auth.Role) bool {
	return role == auth.RoleDuty || role == auth.RoleSupervisor || role == auth.RoleAdmin
}

// MayFollow reports whether role may follow every change (the changes feed).
func MayFollow(role auth.Role) bool { return MayFile(role) }

// Overdue reports whether a finding with this status and deadline is late at now.
func Overdue(status Status, deadline, now time.Time) bool {
	return !status.Closed() && deadline.Before(now)
}
