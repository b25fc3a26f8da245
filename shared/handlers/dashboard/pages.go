package dashboard

import (
	"html/template"
	"strings"
	"time"

	"github.com/modupay/modupay/shared/money"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/webhook"
)

// style is the pages' stylesheet, served at /dashboard/dashboard.css.
const style = `*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;margin:0;color:#1a1a1a;background:#fff;line-height:1.5}
header{background:#0b4f8a;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
header a{color:#fff}header nav{display:flex;gap:1rem;flex-wrap:wrap}header form{margin-left:auto}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}
table{width:100%;border-collapse:collapse;margin:.5rem 0}th,td{text-align:left;padding:.35rem;border-bottom:1px solid #ccc;vertical-align:top;overflow-wrap:break-word}th{white-space:nowrap}td button{white-space:nowrap}
button{font-size:1rem;padding:.45rem .9rem;background:#0b4f8a;color:#fff;border:0;border-radius:4px;cursor:pointer}
header button{background:#fff;color:#0b4f8a}
button:focus,a:focus,input:focus{outline:3px solid #f5a623;outline-offset:2px}
input,select{font-size:1rem;padding:.4rem;width:100%;max-width:28rem}code.secret{font-size:1.1rem;background:#f3f3f3;padding:.2rem .4rem}label{display:block;margin-top:.8rem;font-weight:600}
.error{color:#8a0b0b;font-weight:600}.muted{color:#555}.status-failed{color:#8a0b0b;font-weight:600}.status-succeeded{color:#1d6b2f}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
form.inline{display:inline}pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f3f3f3;padding:.5rem}
@media (max-width:40rem){main{padding:.5rem}th,td{overflow-wrap:anywhere;white-space:normal}dl{grid-template-columns:1fr}dt{margin-top:.4rem}}`

// linkRows is one table of payment links, under their organisation.
type linkRows struct {
	OrgID string
	Items []payment.Link
}

// deliveryRows is one table of deliveries, with the Retry form's rights
// and token.
type deliveryRows struct {
	Items    []webhook.Delivery
	CanWrite bool
	CSRF     string
}

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"whenp": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"join": strings.Join,
	"eur":  money.FormatEUR,
	"rows": func(items []webhook.Delivery, canWrite bool, csrf string) deliveryRows {
		return deliveryRows{Items: items, CanWrite: canWrite, CSRF: csrf}
	},
	"styleVersion": func() string { return styleVersion },
	"linkrows":     func(orgID string, items []payment.Link) linkRows { return linkRows{OrgID: orgID, Items: items} },
	// formkey is a new key for each form that changes something (forms.go).
	"formkey": newFormKey,
}

// pages are the dashboard's templates. html/template escapes every value
// for where it is written (text, attribute, URL): names, descriptions,
// webhook URLs and responses are the partners' and their endpoints' text,
// never markup. No page has a script.
var pages = template.Must(template.New("pages").Funcs(funcs).Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}} · ModuPay</title><link rel="stylesheet" href="/dashboard/dashboard.css?v={{styleVersion}}"></head>{{end}}

{{define "top"}}{{template "head" .Title}}
<body><header><strong><a href="/dashboard">ModuPay</a></strong>
<nav aria-label="Main">{{if .Organizations}}{{if eq .P.Scope "partner"}}<a href="/dashboard/organizations">Organisations</a>{{else}}<a href="/dashboard/organizations/{{.P.OrgID}}">Your organisation</a>{{end}}{{end}}
{{if .Webhooks}}<a href="/dashboard/webhook_subscriptions">Webhooks</a>{{end}}</nav>
<form method="post" action="/dashboard/logout"><input type="hidden" name="csrf" value="{{.CSRF}}"><button type="submit">Sign out</button></form>
</header><main>{{end}}

{{define "fk"}}<input type="hidden" name="form_key" value="{{formkey}}">{{end}}

{{define "bottom"}}</main></body></html>{{end}}

{{define "login"}}{{template "head" "Sign in"}}
<body><main><h1>Sign in to the ModuPay dashboard</h1>
<p>Use your partner client credentials or an organisation API client's id and secret.</p>
{{if .Error}}<p role="alert" class="error">{{.Error}}</p>{{end}}
<form method="post" action="/dashboard/login">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label for="client_id">Client id</label><input id="client_id" name="client_id" autocomplete="username" required value="{{.ClientID}}">
<label for="client_secret">Client secret</label><input id="client_secret" name="client_secret" type="password" autocomplete="current-password" required>
<p><button type="submit">Sign in</button></p>
</form></main></body></html>{{end}}

{{define "error"}}{{template "head" .Title}}
<body><main><h1>{{.Status}} {{.Title}}</h1><p>{{.Message}}</p>
<p><a href="/dashboard">Back to the dashboard</a></p>
<p class="muted">Request id: <span class="rid">{{.RequestID}}</span></p></main></body></html>{{end}}

{{define "home"}}{{template "top" .}}
<h1>Signed in</h1>
<dl><dt>Client</dt><dd>{{.P.ClientID}}</dd><dt>Partner</dt><dd>{{.P.PartnerID}}</dd>
{{if .P.OrgID}}<dt>Organisation</dt><dd><a href="/dashboard/organizations/{{.P.OrgID}}">{{.P.OrgID}}</a></dd><dt>Role</dt><dd>{{.P.Role}}</dd>{{else}}<dt>Scope</dt><dd>partner (every organisation of the partner)</dd>{{end}}
<dt>Signed in at</dt><dd>{{when .P.IssuedAt}}</dd></dl>
<p class="muted">A session ends after 30 minutes without use, 12 hours after sign-in, when you sign out, or when its API client is revoked.</p>
{{template "bottom"}}{{end}}

{{define "organizations"}}{{template "top" .}}
<h1>Organisations</h1>
{{if .Items}}<table><thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">SIRET</th><th scope="col">Status</th><th scope="col">Created</th></tr></thead><tbody>
{{range .Items}}<tr><td><a href="/dashboard/organizations/{{.ID}}">{{.Name}}</a></td><td>{{.Type}}</td><td>{{.SIRET}}</td><td>{{.Status}}</td><td>{{when .CreatedAt}}</td></tr>
{{end}}</tbody></table>{{else}}<p>No organisation yet.</p>{{end}}
{{if .Next}}<p><a href="/dashboard/organizations{{.Next}}" rel="next">Next page</a></p>{{end}}
{{template "bottom"}}{{end}}

{{define "organization"}}{{template "top" .}}
<h1>{{.Org.Name}}</h1>
<dl><dt>Id</dt><dd>{{.Org.ID}}</dd><dt>Legal name</dt><dd>{{.Org.LegalName}}</dd><dt>Type</dt><dd>{{.Org.Type}}</dd>
<dt>SIRET</dt><dd>{{.Org.SIRET}}</dd><dt>VAT number</dt><dd>{{.Org.VATNumber}}</dd><dt>Status</dt><dd>{{.Org.Status}}</dd>
<dt>Address</dt><dd>{{.Org.Address.Line1}} {{.Org.Address.PostalCode}} {{.Org.Address.City}} {{.Org.Address.Country}}</dd></dl>
{{if .ShowDepts}}<h2>Departments</h2>
{{if .Departments}}<table><thead><tr><th scope="col">Name</th><th scope="col">Code</th><th scope="col">Description</th><th scope="col">Status</th><th scope="col">KYC</th><th scope="col">Payout account</th></tr></thead><tbody>
{{range .Departments}}<tr><td><a href="/dashboard/organizations/{{.OrgID}}/departments/{{.ID}}">{{.Name}}</a></td><td>{{.Code}}</td><td>{{.Description}}</td><td>{{.Status}}</td><td>{{.KYCStatus}}</td><td>{{if .PayoutAccountID}}{{.PayoutAccountID}}{{if ne .PayoutAccountID .DefaultAccountID}} <span class="muted">(the default {{.DefaultAccountID}} awaits verification)</span>{{end}}{{else}}<span class="muted">none</span>{{end}}</td></tr>
{{end}}</tbody></table>{{else}}<p>No department yet.</p>{{end}}
{{if .Next}}<p><a href="/dashboard/organizations/{{.Org.ID}}{{.Next}}" rel="next">Next page</a></p>{{end}}{{end}}
{{if or .Invoices .APIClients .Audit .Links .Refunds}}<h2>More</h2><ul>{{if .Invoices}}<li><a href="/dashboard/organizations/{{.Org.ID}}/invoices">Invoices</a></li>{{end}}
{{if .Links}}<li><a href="/dashboard/organizations/{{.Org.ID}}/payment_links">Payment links</a></li>{{end}}
{{if .Refunds}}<li><a href="/dashboard/organizations/{{.Org.ID}}/refunds">Refunds</a></li>{{end}}
{{if .APIClients}}<li><a href="/dashboard/organizations/{{.Org.ID}}/api_clients">API clients</a></li>{{end}}
{{if .Audit}}<li><a href="/dashboard/organizations/{{.Org.ID}}/audit_logs">Audit trail</a></li>{{end}}</ul>{{end}}
{{template "bottom"}}{{end}}

{{define "department"}}{{template "top" .}}
<h1>{{.Dept.Name}}</h1>
<p><a href="/dashboard/organizations/{{.OrgID}}">Back to the organisation</a></p>
<dl><dt>Id</dt><dd>{{.Dept.ID}}</dd><dt>Code</dt><dd>{{.Dept.Code}}</dd><dt>Description</dt><dd>{{.Dept.Description}}</dd>
<dt>Status</dt><dd>{{.Dept.Status}}</dd><dt>KYC</dt><dd>{{.Dept.KYCStatus}}</dd>
<dt>Payout account</dt><dd>{{if .Dept.PayoutAccountID}}{{.Dept.PayoutAccountID}}{{else}}<span class="muted">none: payments wait for a verified account</span>{{end}}</dd></dl>
{{if .Accounts}}<h2>Bank accounts</h2><table><thead><tr><th scope="col">Account</th><th scope="col">Holder</th><th scope="col">IBAN</th><th scope="col">BIC</th><th scope="col">Verification</th><th scope="col">Default</th><th scope="col">Payout</th></tr></thead><tbody>
{{range .Accounts}}<tr><td>{{.ID}}</td><td>{{.AccountName}}</td><td>{{.IBAN}}</td><td>{{.BIC}}</td><td>{{.Status}}</td><td>{{if .IsDefault}}yes{{end}}</td><td>{{if eq .ID $.Dept.PayoutAccountID}}yes{{end}}</td></tr>
{{end}}</tbody></table>{{end}}
{{with .KYC}}<h2>KYC</h2><dl><dt>Status</dt><dd>{{.Status}}</dd><dt>Submitted</dt><dd>{{whenp .SubmittedAt}}</dd><dt>Decided</dt><dd>{{whenp .DecidedAt}}</dd>
{{with .Representative}}<dt>Representative</dt><dd>{{.FirstName}} {{.LastName}} ({{.Role}})</dd>{{end}}
{{if .BankAccountID}}<dt>Bank account</dt><dd>{{.BankAccountID}}</dd>{{end}}
{{if .RejectionReasons}}<dt>Reasons</dt><dd><ul>{{range .RejectionReasons}}<li>{{.Message}} ({{.Code}})</li>{{end}}</ul></dd>{{end}}</dl>
<h3>Documents</h3>{{if .Documents}}<table><thead><tr><th scope="col">Type</th><th scope="col">Document</th></tr></thead><tbody>
{{range .Documents}}<tr><td>{{.Type}}</td><td>{{.DocumentID}}</td></tr>{{end}}</tbody></table>{{else}}<p>No document submitted.</p>{{end}}{{end}}
{{template "bottom"}}{{end}}

{{define "invoices"}}{{template "top" .}}
<h1>Invoices</h1>
<p><a href="/dashboard/organizations/{{.OrgID}}">Back to the organisation</a></p>
<form method="get" action="/dashboard/organizations/{{.OrgID}}/invoices"><label for="status">Status</label>
<select id="status" name="status"><option value="">all</option>{{range .Statuses}}<option value="{{.}}"{{if eq . $.F.Status}} selected{{end}}>{{.}}</option>{{end}}</select>
<label for="department_id">Department id</label><input id="department_id" name="department_id" value="{{.F.DepartmentID}}">
<label for="payer_email">Payer email</label><input id="payer_email" name="payer_email" type="email" value="{{.F.PayerEmail}}">
<label for="due_date_from">Due from</label><input id="due_date_from" name="due_date_from" type="date" value="{{.F.DueFrom}}">
<label for="due_date_to">Due until</label><input id="due_date_to" name="due_date_to" type="date" value="{{.F.DueTo}}">
<label for="created_from">Created from (a day, UTC, or an RFC 3339 time)</label><input id="created_from" name="created_from" value="{{.CreatedFrom}}" placeholder="2026-01-31">
<label for="created_to">Created until</label><input id="created_to" name="created_to" value="{{.CreatedTo}}">
<p><button type="submit">Filter</button></p></form>
{{if .Items}}<table><thead><tr><th scope="col">Number</th><th scope="col">Status</th><th scope="col">Payer</th><th scope="col">Total</th><th scope="col">Due</th><th scope="col">Due date</th><th scope="col">Created</th></tr></thead><tbody>
{{range .Items}}<tr><td><a href="/dashboard/organizations/{{$.OrgID}}/invoices/{{.ID}}">{{if .InvoiceNumber}}{{.InvoiceNumber}}{{else}}{{.ID}}{{end}}</a></td><td>{{.Status}}</td><td>{{.Payer.Name}}</td><td>{{.Total}}</td><td>{{.Due}}</td><td>{{.DueDate}}</td><td>{{when .CreatedAt}}</td></tr>
{{end}}</tbody></table>{{else}}<p>No invoice{{if .Filtered}} matching these filters{{end}}.</p>{{end}}
{{if .Next}}<p><a href="/dashboard/organizations/{{.OrgID}}/invoices{{.Next}}" rel="next">Next page</a></p>{{end}}
{{template "bottom"}}{{end}}

{{define "audit"}}{{template "top" .}}
<h1>Audit trail</h1>
<p><a href="/dashboard/organizations/{{.OrgID}}">Back to the organisation</a></p>
<form method="get" action="/dashboard/organizations/{{.OrgID}}/audit_logs">
<label for="resource_type">Resource type</label><input id="resource_type" name="resource_type" value="{{.ResourceType}}" placeholder="invoice">
<label for="resource_id">Resource id</label><input id="resource_id" name="resource_id" value="{{.ResourceID}}">
<label for="action">Action</label><input id="action" name="action" value="{{.Action}}" placeholder="status_changed">
<label for="user_id">User (API client id)</label><input id="user_id" name="user_id" value="{{.UserID}}">
<label for="from_date">From (a day or an RFC 3339 time)</label><input id="from_date" name="from_date" value="{{.From}}" placeholder="2026-01-31">
<label for="to_date">To</label><input id="to_date" name="to_date" value="{{.To}}">
<p><button type="submit">Filter</button></p></form>
{{if .Items}}<table><thead><tr><th scope="col">Time</th><th scope="col">Resource</th><th scope="col">Action</th><th scope="col">By</th><th scope="col">Changes</th></tr></thead><tbody>
{{range .Items}}<tr><td>{{when .Timestamp}}</td><td>{{.ResourceType}}<br><span class="muted">{{.ResourceID}}</span></td><td>{{.Action}}</td><td>{{.UserType}}<br><span class="muted">{{.UserID}}</span></td><td><pre>{{.Changes}}</pre></td></tr>
{{end}}</tbody></table>{{else}}<p>No entry{{if or .ResourceType .ResourceID .Action .UserID .From .To}} matching these filters{{end}}.</p>{{end}}
{{if .Next}}<p><a href="/dashboard/organizations/{{.OrgID}}/audit_logs{{.Next}}" rel="next">Next page</a></p>{{end}}
{{template "bottom"}}{{end}}

{{define "invoice"}}{{template "top" .}}
<h1>Invoice {{.Inv.InvoiceNumber}}</h1>
<p><a href="/dashboard/organizations/{{.OrgID}}/invoices">Back to the invoices</a></p>
{{if .Inv.DocumentsVersion}}<p>The invoice as issued: <a href="/dashboard/organizations/{{.OrgID}}/invoices/{{.Inv.ID}}/pdf">PDF (French)</a> · <a href="/dashboard/organizations/{{.OrgID}}/invoices/{{.Inv.ID}}/pdf?lang=en" hreflang="en">PDF (English)</a></p>{{end}}
<dl><dt>Id</dt><dd>{{.Inv.ID}}</dd><dt>Status</dt><dd>{{.Inv.Status}}</dd><dt>Payer</dt><dd>{{.Inv.Payer.Name}} ({{.Inv.Payer.Email}})</dd>
<dt>Seller</dt><dd>{{.Inv.Seller.Name}}</dd><dt>Issued</dt><dd>{{.Inv.IssueDate}}</dd><dt>Due date</dt><dd>{{.Inv.DueDate}}</dd>
<dt>Total excl. VAT</dt><dd>{{eur .Inv.TotalNet}}</dd><dt>VAT</dt><dd>{{eur .Inv.TotalVAT}}</dd><dt>Total</dt><dd>{{eur .Inv.TotalAmount}}</dd>
<dt>Paid</dt><dd>{{eur .Inv.AmountPaid}}</dd><dt>Due</dt><dd>{{eur .Inv.AmountDue}}</dd></dl>
<h2>Lines</h2><table><thead><tr><th scope="col">Description</th><th scope="col">Quantity</th><th scope="col">Unit price</th><th scope="col">VAT rate</th><th scope="col">Net</th></tr></thead><tbody>
{{range .Inv.LineItems}}<tr><td>{{.Description}}</td><td>{{.Quantity}}</td><td>{{eur .UnitPrice}}</td><td>{{.VATRate}} %</td><td>{{eur .NetAmount}}</td></tr>
{{end}}</tbody></table>
<table><thead><tr><th scope="col">VAT rate</th><th scope="col">Net</th><th scope="col">VAT</th></tr></thead><tbody>
{{range .Inv.VATBreakdown}}<tr><td>{{.VATRate}} %</td><td>{{eur .NetAmount}}</td><td>{{eur .VATAmount}}</td></tr>{{end}}</tbody></table>
{{if .ShowPayments}}<h2>Payment history</h2>
{{if .Intents}}<table><thead><tr><th scope="col">Payment</th><th scope="col">Created</th><th scope="col">Amount</th><th scope="col">Method</th><th scope="col">Status</th><th scope="col">Bank status</th><th scope="col">Failure</th><th scope="col">Refunded</th><th scope="col">Completed</th></tr></thead><tbody>
{{range .Intents}}<tr><td><a href="/dashboard/organizations/{{$.OrgID}}/payment_intents/{{.ID}}">{{.ID}}</a></td><td>{{when .CreatedAt}}</td><td>{{eur .Amount}}</td><td>{{.SelectedPaymentMethod}}</td><td>{{.Status}}</td><td>{{.AiiaStatus}}</td><td>{{.FailureReason}}</td><td>{{if .RefundedAmount}}{{eur .RefundedAmount}}{{end}}</td><td>{{whenp .CompletedAt}}</td></tr>
{{end}}</tbody></table>{{else}}<p>No payment yet.</p>{{end}}{{end}}
{{if .ShowLinks}}<h2>Payment links</h2>
{{if .Links}}{{template "linkrows" (linkrows .OrgID .Links)}}{{else}}<p>No payment link.</p>{{end}}{{end}}
{{template "bottom"}}{{end}}

{{define "api_clients"}}{{template "top" .}}
<h1>API clients</h1>
<p><a href="/dashboard/organizations/{{.OrgID}}">Back to the organisation</a></p>
{{with .Created}}<div role="status"><h2>Client created</h2><p>Copy the secret now: it is shown this once and cannot be shown again.</p>
<dl><dt>Client id</dt><dd>{{.ID}}</dd><dt>Role</dt><dd>{{.Role}}</dd><dt>Secret</dt><dd><code class="secret">{{.Secret}}</code></dd></dl></div>{{end}}
{{if .Error}}<p role="alert" class="error">{{.Error}}</p>{{end}}
{{if .Items}}<table><thead><tr><th scope="col">Client id</th><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col"><span class="muted">Action</span></th></tr></thead><tbody>
{{range .Items}}<tr><td>{{.ClientID}}</td><td>{{.Name}}</td><td>{{.Role}}</td><td>{{.Status}}{{if .RevokedAt}} ({{whenp .RevokedAt}}){{end}}</td><td>{{when .CreatedAt}}</td>
<td>{{if eq .Status "active"}}<form class="inline" method="post" action="/dashboard/organizations/{{$.OrgID}}/api_clients/{{.ClientID}}/revoke"><input type="hidden" name="csrf" value="{{$.CSRF}}">{{template "fk"}}<button type="submit">Revoke</button></form>{{end}}</td></tr>
{{end}}</tbody></table>{{else}}<p>No API client yet.</p>{{end}}
{{if .Next}}<p><a href="/dashboard/organizations/{{.OrgID}}/api_clients{{.Next}}" rel="next">Next page</a></p>{{end}}
<h2>New API client</h2>
<form method="post" action="/dashboard/organizations/{{.OrgID}}/api_clients"><input type="hidden" name="csrf" value="{{.CSRF}}">{{template "fk"}}
<label for="role">Role</label><select id="role" name="role">{{range .Roles}}<option value="{{.}}">{{.}}</option>{{end}}</select>
<label for="name">Name (optional)</label><input id="name" name="name" maxlength="100">
<p><button type="submit">Create</button></p></form>
{{template "bottom"}}{{end}}

{{define "subscriptions"}}{{template "top" .}}
<h1>Webhook subscriptions</h1>
{{if .Items}}<table><thead><tr><th scope="col">Endpoint</th><th scope="col">Description</th><th scope="col">Events</th><th scope="col">Status</th><th scope="col">Failing since</th></tr></thead><tbody>
{{range .Items}}<tr><td><a href="/dashboard/webhook_subscriptions/{{.ID}}">{{.URL}}</a></td><td>{{.Description}}</td><td>{{join .Events ", "}}</td><td>{{.Status}}{{if .DisabledReason}} ({{.DisabledReason}}){{end}}</td><td>{{whenp .FailingSince}}</td></tr>
{{end}}</tbody></table>{{else}}<p>No subscription yet (POST /v1/webhook_subscriptions).</p>{{end}}
{{template "bottom"}}{{end}}

{{define "deliveries"}}<table><thead><tr><th scope="col">Delivery</th><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Created</th><th scope="col">Next attempt</th><th scope="col"><span class="muted">Action</span></th></tr></thead><tbody>
{{range .Items}}<tr><td><a href="/dashboard/webhook_deliveries/{{.ID}}">{{.ID}}</a></td><td>{{.EventType}}</td><td class="status-{{.Status}}">{{.Status}}</td><td>{{.AttemptCount}}</td><td>{{when .CreatedAt}}</td><td>{{whenp .NextAttemptAt}}</td>
<td>{{if and $.CanWrite (eq .Status "failed")}}<form class="inline" method="post" action="/dashboard/webhook_deliveries/{{.ID}}/retry"><input type="hidden" name="csrf" value="{{$.CSRF}}">{{template "fk"}}<button type="submit">Retry</button></form>{{end}}</td></tr>
{{end}}</tbody></table>{{end}}

{{define "subscription"}}{{template "top" .}}
<h1>Webhook subscription</h1>
<dl><dt>Id</dt><dd>{{.Sub.ID}}</dd><dt>Endpoint</dt><dd>{{.Sub.URL}}</dd><dt>Description</dt><dd>{{.Sub.Description}}</dd>
<dt>Events</dt><dd>{{join .Sub.Events ", "}}</dd><dt>Status</dt><dd>{{.Sub.Status}}{{if .Sub.DisabledReason}} ({{.Sub.DisabledReason}}){{end}}</dd>
<dt>Failing since</dt><dd>{{whenp .Sub.FailingSince}}</dd></dl>
{{if .CanWrite}}<form method="post" action="/dashboard/webhook_subscriptions/{{.Sub.ID}}/test"><input type="hidden" name="csrf" value="{{.CSRF}}">{{template "fk"}}<button type="submit">Send test ping</button></form>{{end}}
<h2>Failed deliveries</h2>
{{if .Failed}}{{template "deliveries" (rows .Failed .CanWrite .CSRF)}}{{else}}<p>No failed delivery.</p>{{end}}
<h2>Delivery log</h2>
{{if .Deliveries}}{{template "deliveries" (rows .Deliveries .CanWrite .CSRF)}}{{else}}<p>No delivery yet.</p>{{end}}
{{if .Next}}<p><a href="/dashboard/webhook_subscriptions/{{.Sub.ID}}{{.Next}}" rel="next">Older deliveries</a></p>{{end}}
{{template "bottom"}}{{end}}

{{define "delivery"}}{{template "top" .}}
<h1>Webhook delivery</h1>
<dl><dt>Id</dt><dd>{{.D.ID}}</dd><dt>Subscription</dt><dd><a href="/dashboard/webhook_subscriptions/{{.D.SubscriptionID}}">{{.D.SubscriptionID}}</a></dd>
<dt>Event</dt><dd>{{.D.EventType}} ({{.D.EventID}})</dd>{{if .D.OrganizationID}}<dt>Organisation</dt><dd>{{.D.OrganizationID}}</dd>{{end}}
<dt>Status</dt><dd class="status-{{.D.Status}}">{{.D.Status}}</dd><dt>Created</dt><dd>{{when .D.CreatedAt}}</dd><dt>Next attempt</dt><dd>{{whenp .D.NextAttemptAt}}</dd></dl>
{{if and .CanWrite (eq .D.Status "failed")}}<form method="post" action="/dashboard/webhook_deliveries/{{.D.ID}}/retry"><input type="hidden" name="csrf" value="{{.CSRF}}">{{template "fk"}}<button type="submit">Retry</button></form>{{end}}
<h2>Attempts</h2>
{{if .D.Attempts}}<table><thead><tr><th scope="col">#</th><th scope="col">At</th><th scope="col">HTTP status</th><th scope="col">Latency</th><th scope="col">Error</th><th scope="col">Response</th><th scope="col">Manual</th></tr></thead><tbody>
{{range .D.Attempts}}<tr><td>{{.Number}}</td><td>{{when .AttemptedAt}}</td><td>{{if .StatusCode}}{{.StatusCode}}{{else}}<span class="muted">none</span>{{end}}</td><td>{{.LatencyMS}} ms</td><td>{{.Error}}</td><td>{{.ResponseExcerpt}}</td><td>{{if .Manual}}yes{{else}}no{{end}}</td></tr>
{{end}}</tbody></table>{{else}}<p>No attempt yet: the dispatcher makes the first within seconds.</p>{{end}}
<h2>Payload</h2><pre>{{printf "%s" .D.Payload}}</pre>
{{template "bottom"}}{{end}}

{{define "linkrows"}}<table><thead><tr><th scope="col">Link</th><th scope="col">Invoice</th><th scope="col">Amount</th><th scope="col">Status</th><th scope="col">Expires</th><th scope="col">Created</th></tr></thead><tbody>
{{range .Items}}<tr><td><a href="/dashboard/organizations/{{$.OrgID}}/payment_links/{{.ID}}">{{.ID}}</a></td><td><a href="/dashboard/organizations/{{$.OrgID}}/invoices/{{.InvoiceID}}">{{.InvoiceID}}</a></td><td>{{eur .Amount}}</td><td>{{.Status}}</td><td>{{when .ExpiresAt}}</td><td>{{when .CreatedAt}}</td></tr>
{{end}}</tbody></table>{{end}}

{{define "links"}}{{template "top" .}}
<h1>Payment links</h1>
<p><a href="/dashboard/organizations/{{.OrgID}}">Back to the organisation</a></p>
<form method="get" action="/dashboard/organizations/{{.OrgID}}/payment_links"><label for="status">Status</label>
<select id="status" name="status"><option value="">all</option>{{range .Statuses}}<option value="{{.}}"{{if eq . $.Status}} selected{{end}}>{{.}}</option>{{end}}</select>
<label for="invoice_id">Invoice id</label><input id="invoice_id" name="invoice_id" value="{{.InvoiceID}}">
<p><button type="submit">Filter</button></p></form>
{{if .Items}}{{template "linkrows" (linkrows .OrgID .Items)}}{{else}}<p>No payment link{{if or .Status .InvoiceID}} matching these filters{{end}}.</p>{{end}}
{{if .Next}}<p><a href="/dashboard/organizations/{{.OrgID}}/payment_links{{.Next}}" rel="next">Next page</a></p>{{end}}
{{template "bottom"}}{{end}}

{{define "link"}}{{template "top" .}}
<h1>Payment link</h1>
<p><a href="/dashboard/organizations/{{.OrgID}}/payment_links">Back to the payment links</a></p>
<dl><dt>Id</dt><dd>{{.L.ID}}</dd><dt>Invoice</dt><dd><a href="/dashboard/organizations/{{.OrgID}}/invoices/{{.L.InvoiceID}}">{{.L.InvoiceID}}</a></dd>
<dt>Payment</dt><dd><a href="/dashboard/organizations/{{.OrgID}}/payment_intents/{{.L.PaymentIntentID}}">{{.L.PaymentIntentID}}</a></dd>
<dt>Amount</dt><dd>{{eur .L.Amount}}</dd><dt>Status</dt><dd>{{.L.Status}}</dd><dt>Expires</dt><dd>{{when .L.ExpiresAt}}</dd><dt>Created</dt><dd>{{when .L.CreatedAt}}</dd>
<dt>Payment page</dt><dd>{{if eq .L.Status "active"}}<a href="{{.L.PaymentPageURL}}" rel="noreferrer">{{.L.PaymentPageURL}}</a>{{else}}<span class="muted">{{.L.PaymentPageURL}} (no longer takes a payment)</span>{{end}}</dd></dl>
{{if and .CanWrite (eq .L.Status "active")}}<form method="post" action="/dashboard/organizations/{{.OrgID}}/payment_links/{{.L.ID}}/deactivate"><input type="hidden" name="csrf" value="{{.CSRF}}">{{template "fk"}}
<p class="muted">Deactivating ends the link: the payer's page stops taking a payment and the amount it held on the invoice is released. A transfer already under way waits for the bank's answer.</p>
<button type="submit">Deactivate</button></form>{{end}}
{{template "bottom"}}{{end}}

{{define "intent"}}{{template "top" .}}
<h1>Payment {{.PI.ID}}</h1>
<p><a href="/dashboard/organizations/{{.OrgID}}/invoices/{{.PI.InvoiceID}}">Back to the invoice</a></p>
<dl><dt>Invoice</dt><dd><a href="/dashboard/organizations/{{.OrgID}}/invoices/{{.PI.InvoiceID}}">{{.PI.InvoiceID}}</a></dd>
{{if .PI.PaymentLinkID}}<dt>Payment link</dt><dd><a href="/dashboard/organizations/{{.OrgID}}/payment_links/{{.PI.PaymentLinkID}}">{{.PI.PaymentLinkID}}</a></dd>{{end}}
<dt>Amount</dt><dd>{{eur .PI.Amount}}</dd><dt>Status</dt><dd class="status-{{.PI.Status}}">{{.PI.Status}}</dd><dt>Method</dt><dd>{{.PI.SelectedPaymentMethod}}</dd>
<dt>Bank status</dt><dd>{{.PI.AiiaStatus}}</dd><dt>Bank reference</dt><dd>{{.PI.AiiaTransactionID}}</dd>{{if .PI.FailureReason}}<dt>Failure</dt><dd>{{.PI.FailureReason}}</dd>{{end}}
<dt>Refunded</dt><dd>{{eur .PI.RefundedAmount}}</dd><dt>Still refundable</dt><dd>{{.RefundableFormatted}}</dd>
<dt>Created</dt><dd>{{when .PI.CreatedAt}}</dd><dt>Completed</dt><dd>{{whenp .PI.CompletedAt}}</dd></dl>
{{if .ShowRefunds}}<h2>Refunds</h2>
{{if .Refunds}}<table><thead><tr><th scope="col">Refund</th><th scope="col">Created</th><th scope="col">Amount</th><th scope="col">Status</th><th scope="col">Reason</th><th scope="col">Completed</th><th scope="col"><span class="muted">Action</span></th></tr></thead><tbody>
{{range .Refunds}}<tr><td>{{.ID}}</td><td>{{when .CreatedAt}}</td><td>{{eur .Amount}}</td><td class="status-{{.Status}}">{{.Status}}{{if .FailureReason}}<br><span class="muted">{{.FailureReason}}</span>{{end}}{{with .NextAction}}<br><span class="muted">{{.Message}}</span>{{end}}</td><td>{{.Reason}}</td><td>{{whenp .CompletedAt}}</td>
<td>{{if and $.CanAct (eq .Status "requires_action")}}<form class="inline" method="post" action="/dashboard/organizations/{{$.OrgID}}/refunds/{{.ID}}/confirm"><input type="hidden" name="csrf" value="{{$.CSRF}}">{{template "fk"}}<button type="submit">Confirm paid</button></form>
<form class="inline" method="post" action="/dashboard/organizations/{{$.OrgID}}/refunds/{{.ID}}/cancel"><input type="hidden" name="csrf" value="{{$.CSRF}}">{{template "fk"}}<button type="submit">Cancel</button></form>{{end}}</td></tr>
{{end}}</tbody></table>{{else}}<p>No refund.</p>{{end}}{{end}}
{{if .Error}}<p role="alert" class="error" id="refund-error">{{.Error}}</p>{{end}}
{{if .CanRefund}}<h2>Refund this payment</h2>
<form method="post" action="/dashboard/organizations/{{.OrgID}}/payment_intents/{{.PI.ID}}/refunds"><input type="hidden" name="csrf" value="{{.CSRF}}">{{template "fk"}}
<label for="amount">Amount in euros (at most {{.RefundableFormatted}})</label><input id="amount" name="amount" inputmode="decimal" value="{{.Amount}}" maxlength="32"{{if .Error}} aria-describedby="refund-error"{{end}}>
<label for="reason">Reason (optional: kept with the refund and in its events, for your records)</label><input id="reason" name="reason" maxlength="500" value="{{.Reason}}">
<p class="muted">The refund is sent to the provider that took the payment; it shows as pending until the provider answers.</p>
<p><button type="submit">Refund</button></p></form>{{end}}
{{template "bottom"}}{{end}}

{{define "refunds"}}{{template "top" .}}
<h1>Refunds</h1>
<p><a href="/dashboard/organizations/{{.OrgID}}">Back to the organisation</a></p>
<form method="get" action="/dashboard/organizations/{{.OrgID}}/refunds"><label for="status">Status</label>
<select id="status" name="status"><option value="">all</option>{{range .Statuses}}<option value="{{.}}"{{if eq . $.Status}} selected{{end}}>{{.}}</option>{{end}}</select>
<p><button type="submit">Filter</button></p></form>
{{if .Items}}<table><thead><tr><th scope="col">Refund</th><th scope="col">Payment</th><th scope="col">Amount</th><th scope="col">Status</th><th scope="col">Reason</th><th scope="col">Created</th></tr></thead><tbody>
{{range .Items}}<tr><td>{{.ID}}</td><td><a href="/dashboard/organizations/{{$.OrgID}}/payment_intents/{{.PaymentIntentID}}">{{.PaymentIntentID}}</a></td><td>{{eur .Amount}}</td><td class="status-{{.Status}}">{{.Status}}</td><td>{{.Reason}}</td><td>{{when .CreatedAt}}</td></tr>
{{end}}</tbody></table>{{else}}<p>No refund{{if .Status}} with this status{{end}}.</p>{{end}}
{{if .Next}}<p><a href="/dashboard/organizations/{{.OrgID}}/refunds{{.Next}}" rel="next">Next page</a></p>{{end}}
{{template "bottom"}}{{end}}
`))
