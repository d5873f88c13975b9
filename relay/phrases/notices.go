package phrases

import "github.com/qianliyan/qianliyan/internal/bilingual"

// notices are the 监督意见书's words (relay/notices, and its screens on the
// site page), kept apart so that the catalogue's file is not everyone's
// to change at once.
var notices = map[string]bilingual.Text{
	// The document.
	"notice_title":       bilingual.New("监督意见书", "Supervision Notice"),
	"notice_number":      bilingual.New("文书编号", "Number"),
	"notice_to":          bilingual.New("被监督单位", "Site"),
	"notice_district":    bilingual.New("所在区", "District"),
	"notice_issued_by":   bilingual.New("监督员", "Issued by"),
	"notice_issued_at":   bilingual.New("签发日期", "Date of issue"),
	"notice_intro":       bilingual.New("%s：\n经视频监督检查，发现你单位存在下列问题。现提出监督意见如下，请逐项按整改要求整改，并于各项整改期限前在千里眼场所整改页面逐项上报整改情况（附整改说明和照片）。", "To %s:\nVideo supervision found the problems below at your site. Rectify each as required, and report on each, with what was done and photos, on the Qianliyan site page before its deadline."),
	"notice_items":       bilingual.New("存在问题及整改要求", "Problems found and what is required"),
	"notice_no":          bilingual.New("序号", "No."),
	"notice_snapshot":    bilingual.New("现场截图", "Snapshot"),
	"notice_deviation":   bilingual.New("存在问题", "Problem found"),
	"notice_requirement": bilingual.New("整改要求", "Requirement"),
	"notice_deadline":    bilingual.New("整改期限", "Deadline"),
	"notice_closing":     bilingual.New("逾期未整改或整改不到位的，将依法依规处理。", "A problem not rectified, or not rectified properly, by its deadline will be dealt with as the law and regulations provide."),
	"notice_seal":        bilingual.New("监督单位（盖章）", "Issuing authority (seal)"),
	"notice_receipt":     bilingual.New("被监督单位签收：\n\n负责人（签字）：　　　　　　　　　　　　　日期：", "Received by the site:\n\nManager (signature):                                        Date:"),
	"notice_time_zone":   bilingual.New("时间均为场所当地时间（%s）", "Times are the site's local time (%s)"),

	// What the site is required to do, by the finding's severity: the
	// checklists' catalogues name the deviation, not a requirement.
	"notice_requirement_critical": bilingual.New("立即停止并纠正，落实防控规范，整改到位后逐项上报", "Stop and correct it at once, keep to the standard, and report when done"),
	"notice_requirement_major":    bilingual.New("限期纠正，落实防控规范，整改到位后逐项上报", "Correct it by the deadline, keep to the standard, and report when done"),
	"notice_requirement_minor":    bilingual.New("加强管理，限期纠正并上报", "Tighten practice, correct it by the deadline and report"),

	// The site page.
	"notices":         bilingual.New("监督意见书", "Supervision notices"),
	"notice_progress": bilingual.New("已上报 %d/%d 项 · 已核实 %d 项", "%d of %d items reported · %d verified"),
	"notice_open":     bilingual.New("整改中", "Open"),
	"notice_closed":   bilingual.New("已办结", "Closed"),
	"notice_pdf":      bilingual.New("下载 PDF", "Download the PDF"),
	"notice_report":   bilingual.New("逐项上报", "Report on this item"),
	"notice_view":     bilingual.New("查看", "View"),
	"notice_reported": bilingual.New("已上报", "Reported"),
	"notice_pending":  bilingual.New("待上报", "To report"),
	"notice_of":       bilingual.New("本问题为监督意见书 %s 第 %d 项", "Notice %s, item %d"),
	"notice_back":     bilingual.New("返回监督意见书", "Back to the notice"),
	"notice_missing":  bilingual.New("没有这份监督意见书，或您无权查看", "No such notice, or not one of your sites'"),
	"notice_how":      bilingual.New("请逐项打开问题，确认收到后报告整改（附整改说明和照片）；值班人员核实全部问题后，本意见书办结。", "Open each item, acknowledge it, then report what was done (with photos); the notice is closed once the duty officer has verified every item."),
}

func init() {
	for k, v := range notices {
		if _, dup := catalogue[k]; dup {
			panic("phrases: " + k + " is in the catalogue twice")
		}
		catalogue[k] = v
	}
}
