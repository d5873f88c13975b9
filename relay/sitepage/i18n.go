package sitepage

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Languages the page speaks; the first is the default.
var languages = []string{"zh-CN", "en"}

// messages holds the page's words side by side.
var messages = map[string][2]string{ // zh-CN, en
	"title":            {"千里眼 · 场所整改", "Qianliyan · Site findings"},
	"signin":           {"登录", "Sign in"},
	"signout":          {"退出", "Sign out"},
	"user":             {"用户名", "User name"},
	"password":         {"密码", "Password"},
	"wrong_password":   {"用户名或密码错误", "Wrong user name or password"},
	"too_many":         {"失败次数过多，请稍后再试", "Too many failed sign-ins; try again later"},
	"expired":          {"登录已过期，请重新登录", "Your session has ended; sign in again"},
	"bad_form":         {"表单已失效，请重试", "The form expired; please try again"},
	"findings":         {"发现的问题", "Findings"},
	"none":             {"暂无问题", "No findings"},
	"severity":         {"严重程度", "Severity"},
	"critical":         {"严重", "Critical"},
	"major":            {"较重", "Major"},
	"minor":            {"一般", "Minor"},
	"open":             {"待确认", "Open"},
	"acknowledged":     {"已确认", "Acknowledged"},
	"rectified":        {"已整改", "Rectified"},
	"verified":         {"已核实", "Verified"},
	"reopened":         {"重新打开", "Reopened"},
	"withdrawn":        {"已撤回", "Withdrawn"},
	"overdue":          {"已逾期", "Overdue"},
	"deadline":         {"整改期限", "Deadline"},
	"left":             {"剩余", "left"},
	"overdue_by":       {"逾期", "overdue by"},
	"observed":         {"发现时间", "Observed"},
	"camera":           {"摄像机", "Camera"},
	"observer":         {"发现人", "Observer"},
	"note":             {"备注", "Note"},
	"snapshot":         {"截图", "Snapshot"},
	"clip":             {"视频片段", "Video clip"},
	"no_clip":          {"暂无视频片段", "No clip yet"},
	"photos":           {"整改照片", "Rectification photos"},
	"history":          {"处理记录", "History"},
	"acknowledge":      {"确认收到", "Acknowledge"},
	"rectify":          {"报告整改", "Report rectification"},
	"rectify_note":     {"整改说明", "What was done"},
	"add_photos":       {"添加照片（JPEG/PNG，每张不超过 5 MB）", "Add photos (JPEG/PNG, up to 5 MB each)"},
	"back":             {"返回列表", "Back to the list"},
	"changed":          {"此问题已有更新，点此刷新", "This finding has changed: tap to reload"},
	"done_acknowledge": {"已确认收到", "Acknowledged"},
	"done_rectify":     {"整改已报告", "Rectification reported"},
	"read_only":        {"只读：整改由场所负责人报告", "Read only: the site's manager reports rectification"},
	"not_found":        {"没有这个问题，或您无权查看", "No such finding, or not one of your sites'"},
	"ev_created":       {"发现问题", "flagged it"},
	"ev_evidence":      {"上传证据", "added evidence"},
	"ev_edit":          {"修改", "edited it"},
	"ev_withdraw":      {"撤回", "withdrew it"},
	"ev_verify":        {"核实整改", "verified the rectification"},
	"ev_reopen":        {"重新打开", "reopened it"},
	"ev_acknowledge":   {"确认收到", "acknowledged"},
	"ev_rectify":       {"报告整改", "reported rectification"},
	"language":         {"English", "中文"},
	"photo_too_large":  {"照片超过 5 MB", "A photo is over 5 MB"},
	"photo_type":       {"照片须为 JPEG 或 PNG", "Photos must be JPEG or PNG"},
	"too_many_photos":  {"照片过多", "Too many photos"},
	"note_required":    {"请填写整改说明", "Please say what was done"},
	"cannot":           {"当前状态不能执行此操作", "This finding's status does not allow that"},
	"failed":           {"操作失败，请稍后再试", "That failed; please try again later"},
}

// langIndex is the position of lang in messages' pairs.
func langIndex(lang string) int {
	if lang == "en" {
		return 1
	}
	return 0
}

func translate(lang, key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	return m[langIndex(lang)]
}

// language picks the page's language: the switch's cookie, else the
// browser's Accept-Language, else Chinese.
func language(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil {
		for _, l := range languages {
			if c.Value == l {
				return l
			}
		}
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.ToLower(tag)
		switch {
		case strings.HasPrefix(tag, "zh"):
			return "zh-CN"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return languages[0]
}

// countdown says how long until (or since) deadline, in the page's words.
func countdown(lang string, deadline, now time.Time) string {
	d := deadline.Sub(now)
	late := d < 0
	if late {
		d = -d
	}
	h, m := int(d.Hours()), int(d.Minutes())%60
	var span string
	if lang == "en" {
		switch {
		case h >= 48:
			span = fmt.Sprintf("%d d %d h", h/24, h%24)
		case h > 0:
			span = fmt.Sprintf("%d h %d min", h, m)
		default:
			span = fmt.Sprintf("%d min", m)
		}
		if late {
			return "overdue by " + span
		}
		return span + " left"
	}
	switch {
	case h >= 48:
		span = fmt.Sprintf("%d 天 %d 小时", h/24, h%24)
	case h > 0:
		span = fmt.Sprintf("%d 小时 %d 分", h, m)
	default:
		span = fmt.Sprintf("%d 分钟", m)
	}
	if late {
		return "已逾期 " + span
	}
	return "剩余 " + span
}
