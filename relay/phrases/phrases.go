// Package phrases is the relay's one catalogue of the words it shows people,
// in both languages: the site managers' page and the findings'
// notifications take theirs from here, so a word is translated once.
package phrases

import (
	"fmt"

	"github.com/qianliyan/qianliyan/internal/bilingual"
)

// catalogue holds every phrase by key. Keys named for a finding's status,
// severity or event action ("open", "critical", "ev_verify") are looked up
// with those names.
var catalogue = map[string]bilingual.Text{
	// The site page.
	"title":            bilingual.New("千里眼 · 场所整改", "Qianliyan · Site findings"),
	"signin":           bilingual.New("登录", "Sign in"),
	"signout":          bilingual.New("退出", "Sign out"),
	"user":             bilingual.New("用户名", "User name"),
	"password":         bilingual.New("密码", "Password"),
	"wrong_password":   bilingual.New("用户名或密码错误", "Wrong user name or password"),
	"too_many":         bilingual.New("失败次数过多，请稍后再试", "Too many failed sign-ins; try again later"),
	"expired":          bilingual.New("登录已过期，请重新登录", "Your session has ended; sign in again"),
	"bad_form":         bilingual.New("表单已失效，请重试", "The form expired; please try again"),
	"findings":         bilingual.New("发现的问题", "Findings"),
	"none":             bilingual.New("暂无问题", "No findings"),
	"observed":         bilingual.New("发现时间", "Observed"),
	"observer":         bilingual.New("发现人", "Observer"),
	"snapshot":         bilingual.New("截图", "Snapshot"),
	"clip":             bilingual.New("视频片段", "Video clip"),
	"no_clip":          bilingual.New("暂无视频片段", "No clip yet"),
	"photos":           bilingual.New("整改照片", "Rectification photos"),
	"recheck_photos":   bilingual.New("回头看截图", "Re-check snapshots"),
	"recheck_clips":    bilingual.New("回头看视频", "Re-check clips"),
	"history":          bilingual.New("处理记录", "History"),
	"acknowledge":      bilingual.New("确认收到", "Acknowledge"),
	"rectify":          bilingual.New("报告整改", "Report rectification"),
	"rectify_note":     bilingual.New("整改说明", "What was done"),
	"add_photos":       bilingual.New("添加照片（JPEG/PNG，每张不超过 5 MB）", "Add photos (JPEG/PNG, up to 5 MB each)"),
	"back":             bilingual.New("返回列表", "Back to the list"),
	"changed":          bilingual.New("此问题已有更新，点此刷新", "This finding has changed: tap to reload"),
	"done_acknowledge": bilingual.New("已确认收到", "Acknowledged"),
	"done_rectify":     bilingual.New("整改已报告", "Rectification reported"),
	"read_only":        bilingual.New("只读：整改由场所负责人报告", "Read only: the site's manager reports rectification"),
	"awaiting_recheck": bilingual.New("已报告整改，等待值班人员回头看核实", "Rectification reported: the duty officer re-checks it on camera"),
	"not_found":        bilingual.New("没有这个问题，或您无权查看", "No such finding, or not one of your sites'"),
	"language":         bilingual.New("English", "中文"), // the switch names the other language
	"photo_too_large":  bilingual.New("照片超过 5 MB", "A photo is over 5 MB"),
	"photo_type":       bilingual.New("照片须为 JPEG 或 PNG", "Photos must be JPEG or PNG"),
	"too_many_photos":  bilingual.New("照片过多", "Too many photos"),
	"note_required":    bilingual.New("请填写整改说明", "Please say what was done"),
	"uploads_busy":     bilingual.New("正在接收的照片过多，请稍后再提交", "Too many photos are being received right now; send it again in a minute"),
	"cannot":           bilingual.New("当前状态不能执行此操作", "This finding's status does not allow that"),
	"failed":           bilingual.New("操作失败，请稍后再试", "That failed; please try again later"),

	// A finding, on the page and in notifications.
	"site":     bilingual.New("场所", "Site"),
	"camera":   bilingual.New("摄像机", "Camera"),
	"severity": bilingual.New("严重程度", "Severity"),
	"deadline": bilingual.New("整改期限", "Deadline"),
	"note":     bilingual.New("备注", "Note"),
	"id":       bilingual.New("编号", "ID"),
	"left":     bilingual.New("剩余", "left"),

	// Severities.
	"critical": bilingual.New("严重", "Critical"),
	"major":    bilingual.New("较重", "Major"),
	"minor":    bilingual.New("一般", "Minor"),

	// Statuses, in the words the console's view gives them
	// (frontend/src/i18n/locales, findings.status): the officer and the
	// site manager name a finding's state alike.
	"open":         bilingual.New("待接收", "Open"),
	"acknowledged": bilingual.New("已接收", "Acknowledged"),
	"rectified":    bilingual.New("已整改", "Rectified"),
	"verified":     bilingual.New("已核实", "Verified"),
	"reopened":     bilingual.New("重新整改", "Reopened"),
	"withdrawn":    bilingual.New("已撤销", "Withdrawn"),
	"overdue":      bilingual.New("已逾期", "Overdue"),

	// Event actions, as the history lists them ("duty flagged it").
	"ev_created":     bilingual.New("发现问题", "flagged it"),
	"ev_evidence":    bilingual.New("上传证据", "added evidence"),
	"ev_edit":        bilingual.New("修改", "edited it"),
	"ev_withdraw":    bilingual.New("撤销", "withdrew it"),
	"ev_verify":      bilingual.New("核实整改", "verified the rectification"),
	"ev_reopen":      bilingual.New("重新打开", "reopened it"),
	"ev_acknowledge": bilingual.New("确认收到", "acknowledged"),
	"ev_rectify":     bilingual.New("报告整改", "reported rectification"),

	// Countdowns to a deadline: a span, then the span left or overdue by.
	"span_days":    bilingual.New("%d 天 %d 小时", "%d d %d h"),
	"span_hours":   bilingual.New("%d 小时 %d 分", "%d h %d min"),
	"span_minutes": bilingual.New("%d 分钟", "%d min"),
	"time_left":    bilingual.New("剩余 %s", "%s left"),
	"overdue_by":   bilingual.New("已逾期 %s", "overdue by %s"),

	// Notification headlines, by reason.
	"headline_new":      bilingual.New("新问题", "New finding"),
	"headline_reopened": bilingual.New("问题重新打开", "Finding reopened"),
	"headline_due_soon": bilingual.New("整改期限将至", "Deadline near"),

	// Reports (relay/reports): titles, sheets, figures and columns.
	"report_daily":                 bilingual.New("监督日报", "Daily supervision report"),
	"report_shift":                 bilingual.New("值班报告", "Shift report"),
	"report_weekly":                bilingual.New("监督周报", "Weekly supervision report"),
	"report_monthly":               bilingual.New("监督月报", "Monthly supervision report"),
	"report_period":                bilingual.New("统计期间", "Period"),
	"report_made":                  bilingual.New("生成时间", "Made"),
	"report_summary":               bilingual.New("汇总", "Summary"),
	"report_problems":              bilingual.New("问题分类", "Problems by category"),
	"report_sites":                 bilingual.New("机构", "Sites"),
	"report_checks":                bilingual.New("检查户次", "Checks"),
	"report_coverage":              bilingual.New("值守覆盖", "Watch coverage"),
	"report_figure":                bilingual.New("项目", "Figure"),
	"report_value":                 bilingual.New("数值", "Value"),
	"report_total":                 bilingual.New("合计", "Total"),
	"report_sites_supervised":      bilingual.New("监督机构数", "Sites supervised"),
	"report_checks_done":           bilingual.New("检查户次", "Checks (户次)"),
	"report_findings":              bilingual.New("发现问题数", "Problems found"),
	"report_ordered":               bilingual.New("责令整改", "Ordered to rectify"),
	"report_rectified":             bilingual.New("已整改", "Rectified"),
	"report_verified":              bilingual.New("已核实", "Verified"),
	"report_overdue":               bilingual.New("逾期未改", "Overdue"),
	"report_notices":               bilingual.New("出具监督意见书（问题数）", "Notices issued (findings)"),
	"report_coverage_met":          bilingual.New("值守达标（机构·班次）", "Coverage met (site-shifts)"),
	"report_coverage_evaluated":    bilingual.New("值守考核（机构·班次）", "Coverage evaluated (site-shifts)"),
	"report_activity":              bilingual.New("检查项目", "Activity"),
	"report_deviation":             bilingual.New("问题", "Deviation"),
	"report_count":                 bilingual.New("数量", "Count"),
	"report_district":              bilingual.New("区", "District"),
	"report_steps_observed":        bilingual.New("观察步骤", "Steps observed"),
	"report_steps_correct":         bilingual.New("正确步骤", "Steps correct"),
	"report_compliance":            bilingual.New("合规率", "Compliance rate"),
	"report_shift_name":            bilingual.New("班次", "Shift"),
	"report_start":                 bilingual.New("开始", "Start"),
	"report_end":                   bilingual.New("结束", "End"),
	"report_sites_evaluated":       bilingual.New("考核机构", "Sites evaluated"),
	"report_sites_met":             bilingual.New("达标机构", "Sites met"),
	"report_minutes_watched":       bilingual.New("观看分钟", "Minutes watched"),
	"report_free_text":             bilingual.New("其他（自由描述）", "Other (free text)"),
	"report_link":                  bilingual.New("查看详情", "Open in Qianliyan"),
	"report_review":                bilingual.New("审阅列表", "Review list"),
	"report_observed":              bilingual.New("发现时间", "Observed"),
	"report_reviewed":              bilingual.New("已审阅", "Reviewed"),
	"report_outcomes":              bilingual.New("处理结果", "Outcomes"),
	"report_yes":                   bilingual.New("是", "yes"),
	"report_outcome_notice_issued": bilingual.New("监督意见书", "Notice issued"),
	"report_outcome_rectify_order": bilingual.New("责令整改", "Ordered to rectify"),
	"report_outcome_suspend_order": bilingual.New("责令停业整顿", "Ordered to suspend"),
	"report_outcome_case_filed":    bilingual.New("立案", "Case filed"),

	// Statistics (relay/stats): the labels of groups that have no name of
	// their own.
	"site_type_hotel":         bilingual.New("酒店改造", "Converted hotel"),
	"site_type_purpose_built": bilingual.New("专用隔离场所", "Purpose-built"),
	"site_type_dormitory":     bilingual.New("宿舍改造", "Converted dormitory"),
	"site_type_other":         bilingual.New("其他", "Other"),
	"stats_week":              bilingual.New("%d年第%d周", "%d week %d"),
	// Go time layouts of a day and a month, the labels of those groups.
	"stats_day_layout":   bilingual.New("2006年1月2日", "2 Jan 2006"),
	"stats_month_layout": bilingual.New("2006年1月", "Jan 2006"),
	"overdue_lt1d":       bilingual.New("逾期不足1天", "Under a day"),
	"overdue_1to3d":      bilingual.New("逾期1–3天", "1–3 days"),
	"overdue_3to7d":      bilingual.New("逾期3–7天", "3–7 days"),
	"overdue_gt7d":       bilingual.New("逾期7天以上", "7 days or more"),
}

// Of returns the phrase for key. A key the catalogue lacks is its own text
// in every language, so a missing phrase shows rather than vanishes.
func Of(key string) bilingual.Text {
	if t, ok := catalogue[key]; ok {
		return t
	}
	return bilingual.New(key, key)
}

// In returns the phrase for key in lang.
func In(lang, key string) string { return Of(key).In(lang) }

// Sprintf formats the phrase for key, in lang, with args.
func Sprintf(lang, key string, args ...any) string { return fmt.Sprintf(In(lang, key), args...) }
