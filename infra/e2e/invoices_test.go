package e2e

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// seedInvoice is the integration guide's step 1 body, with the department
// and a due date of the test's own.
func seedInvoice(deptID, due string) string {
	return `{
    "department_id": "` + deptID + `",
    "payer": {
      "name": "Jean Dupont",
      "email": "jean.dupont@example.com",
      "address": {"line1": "15 rue de la Paix", "postal_code": "69002", "city": "Lyon", "country": "FR"}
    },
    "line_items": [{"description": "Consommation eau T1 2024", "quantity": 125, "unit_price": 320, "vat_rate": 5.5}],
    "due_date": "` + due + `",
    "payment_terms": "Paiement sous 30 jours"
  }`
}

// invoiceWorld is a partner with an organisation and a department with a
// bank account, ready to invoice.
type invoiceWorld struct {
	*world
	token, org, dept string
}

func newInvoiceWorld(t *testing.T) *invoiceWorld { return invoiceWorldOn(t, newWorld(t)) }

// invoiceWorldOn is newInvoiceWorld on a world of the test's own options.
func invoiceWorldOn(t *testing.T, w *world) *invoiceWorld {
	return invoiceWorldFor(t, w, "ptn-1-client")
}

// invoiceWorldFor is the invoice world of the partner whose API client is
// client, in the stack of w.
func invoiceWorldFor(t *testing.T, w *world, client string) *invoiceWorld {
	t.Helper()
	iw := &invoiceWorld{world: w, token: w.token(client, partnerSecret)}
	iw.org = w.createOrg(iw.token, seedOrganization)
	iw.dept = w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/departments", path: "/v1/organizations/" + iw.org + "/departments",
		header: bearer(iw.token), body: seedDepartment, status: 201}).json(t)["id"].(string)
	w.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(iw.dept, "/bank_accounts"), header: bearer(iw.token), body: seedBankAccount, status: 201})
	return iw
}

func (iw *invoiceWorld) h(kv ...string) map[string]string {
	return bearer(iw.token, append([]string{"X-Entity-Id", iw.org}, kv...)...)
}

func (iw *invoiceWorld) day(offset int) string {
	return iw.clock.Now().In(paris).AddDate(0, 0, offset).Format(time.DateOnly)
}

var paris, _ = time.LoadLocation("Europe/Paris")

func (iw *invoiceWorld) create(body string, status int) answer {
	return iw.do(exchange{method: "POST", route: "/v1/invoices", header: iw.h(), body: body, status: status})
}

func (iw *invoiceWorld) action(id, what string, status int) answer {
	return iw.do(exchange{method: "POST", route: "/v1/invoices/{invoice_id}/" + what, path: "/v1/invoices/" + id + "/" + what, header: iw.h(), status: status})
}

func TestInvoiceLifecycleAndArithmetic(t *testing.T) {
	iw := newInvoiceWorld(t)
	inv := iw.create(seedInvoice(iw.dept, iw.day(30)), 201).json(t)
	year := iw.clock.Now().In(paris).Year()
	if inv["invoice_number"] != fmt.Sprintf("FAC-%d-00001", year) || inv["status"] != "draft" {
		t.Errorf("number/status = %v/%v", inv["invoice_number"], inv["status"])
	}
	// 125 × 3,20 € = 400,00 € HT; 5.5 % VAT = 22,00 €; 422,00 € (the guide's 42 220 is an error).
	for field, want := range map[string]float64{"total_excluding_vat": 40000, "total_vat": 2200, "total_amount": 42200, "amount_due": 42200, "amount_paid": 0} {
		if inv[field] != want {
			t.Errorf("%s = %v, want %v", field, inv[field], want)
		}
	}
	if s := inv["seller"].(map[string]any); s["siret"] != "21690123400019" || s["name"] != "Mairie de Lyon" {
		t.Errorf("seller = %v", s)
	}
	if b, _ := inv["bank_account"].(map[string]any); b == nil || b["iban"] != "FR7612345678901234567890123" {
		t.Errorf("bank account = %v", inv["bank_account"])
	}
	id := inv["id"].(string)
	path := "/v1/invoices/" + id
	// Drafts are editable; totals follow.
	got := iw.do(exchange{method: "PATCH", route: "/v1/invoices/{invoice_id}", path: path, header: iw.h(),
		body: `{"line_items":[{"description":"Abonnement","quantity":1,"unit_price":1000,"vat_rate":20},{"description":"Eau","quantity":1.5,"unit_price":333,"vat_rate":5.5}]}`, status: 200}).json(t)
	// 1000 + round(499.5)=500 → net 1500; VAT 200 + round(27.5)=28 → 228; total 1728.
	if got["total_excluding_vat"] != 1500.0 || got["total_vat"] != 228.0 || got["total_amount"] != 1728.0 {
		t.Errorf("after PATCH: net %v vat %v total %v", got["total_excluding_vat"], got["total_vat"], got["total_amount"])
	}
	iw.action(id, "issue", 200)
	iw.action(id, "issue", 409)
	a := iw.do(exchange{method: "PATCH", route: "/v1/invoices/{invoice_id}", path: path, header: iw.h(), body: `{"payment_terms":"x"}`, status: 409})
	if !strings.Contains(string(a.body), "issued") {
		t.Errorf("editing an issued invoice: %s (want the current status)", a.body)
	}
	if got := iw.do(exchange{method: "GET", route: "/v1/invoices/{invoice_id}", path: path, header: iw.h(), status: 200}).json(t); got["issue_date"] != iw.day(0) || got["status"] != "issued" {
		t.Errorf("issued invoice = %v", got)
	}
	iw.action(id, "cancel", 200)
	iw.action(id, "cancel", 409)
	iw.action(id, "issue", 409)

	// Issuing with a past due date is refused; the draft stays a draft.
	late := iw.create(seedInvoice(iw.dept, iw.day(-1)), 201).json(t)["id"].(string)
	if a := iw.action(late, "issue", 422); a.errParam(t) != "due_date" {
		t.Errorf("past due date at issue: %s", a.body)
	}
	iw.action("inv-missing", "issue", 404)
}

func TestInvoiceBadInput(t *testing.T) {
	iw := newInvoiceWorld(t)
	otherOrg := iw.createOrg(iw.token, orgBody("Autre"))
	otherDept := iw.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/departments", path: "/v1/organizations/" + otherOrg + "/departments",
		header: bearer(iw.token), body: `{"name":"X","code":"X"}`, status: 201}).json(t)["id"].(string)
	line := func(q, price, rate string) string {
		return `{"department_id":"` + iw.dept + `","payer":{"name":"J","email":"j@example.com"},"line_items":[{"description":"d","quantity":` + q + `,"unit_price":` + price + `,"vat_rate":` + rate + `}],"due_date":"2030-01-01"}`
	}
	many := make([]string, 201)
	for i := range many {
		many[i] = `{"description":"d","quantity":1,"unit_price":1,"vat_rate":20}`
	}
	cases := map[string]struct{ body, param string }{
		"empty lines":            {`{"department_id":"` + iw.dept + `","payer":{"name":"J","email":"j@example.com"},"line_items":[],"due_date":"2030-01-01"}`, "line_items"},
		"201 lines":              {`{"department_id":"` + iw.dept + `","payer":{"name":"J","email":"j@example.com"},"line_items":[` + strings.Join(many, ",") + `],"due_date":"2030-01-01"}`, "line_items"},
		"zero quantity":          {line("0", "100", "20"), "line_items[0].quantity"},
		"negative quantity":      {line("-1", "100", "20"), "line_items[0].quantity"},
		"4 decimals":             {line("1.0001", "100", "20"), "line_items[0].quantity"},
		"zero price":             {line("1", "0", "20"), "line_items[0].unit_price"},
		"negative price":         {line("1", "-5", "20"), "line_items[0].unit_price"},
		"price in euros":         {line("1", "3.2", "20"), "line_items[0].unit_price"},
		"illegal rate":           {line("1", "100", "19.6"), "line_items[0].vat_rate"},
		"bad email":              {strings.Replace(line("1", "100", "20"), "j@example.com", "not-an-email", 1), "payer.email"},
		"bad due date":           {strings.Replace(line("1", "100", "20"), "2030-01-01", "31/01/2030", 1), "due_date"},
		"unknown department":     {strings.Replace(line("1", "100", "20"), iw.dept, "dept-missing", 1), "department_id"},
		"other org's department": {strings.Replace(line("1", "100", "20"), iw.dept, otherDept, 1), "department_id"},
		"quantity as a string":   {line(`"125"`, "100", "20"), "line_items.quantity"},
		"rate as a string":       {line("1", "100", `"20"`), "line_items.vat_rate"},
		"unknown field":          {strings.Replace(line("1", "100", "20"), `"due_date"`, `"discount":5,"due_date"`, 1), "discount"},
	}
	for name, c := range cases {
		a := iw.create(c.body, 422)
		if a.errParam(t) != c.param {
			t.Errorf("%s: param %q, want %q (%s)", name, a.errParam(t), c.param, a.body)
		}
		if name == "illegal rate" && !strings.Contains(string(a.body), "5.5") {
			t.Errorf("illegal rate: the error should list the allowed rates: %s", a.body)
		}
	}
	// Nothing was written: the next invoice still takes number 1.
	if got := iw.create(seedInvoice(iw.dept, "2030-01-01"), 201).json(t)["invoice_number"].(string); !strings.HasSuffix(got, "-00001") {
		t.Errorf("after refused requests the first number is %s", got)
	}
	// X-Entity-Id is required with a partner token.
	iw.do(exchange{method: "POST", route: "/v1/invoices", header: bearer(iw.token), body: seedInvoice(iw.dept, "2030-01-01"), status: 400})
}

// Concurrent creations get continuous numbers: no gap, no duplicate. Each
// client does what the API asks of a 503 ("too many invoices are being
// created at once; retry"): it sends the same request again with the same
// Idempotency-Key, as TestOrderReferencesHaveNoGaps does. Whether a 503
// comes at all depends on the machine's pace (the creation's budget is
// wall time); the numbers may never depend on it: every invoice exists
// once, and a refused attempt used no number.
func TestInvoiceNumbersUnderConcurrency(t *testing.T) {
	iw := newInvoiceWorld(t)
	const n = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	var numbers []string
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := retryBusy(func() answer {
				return iw.do(exchange{method: "POST", route: "/v1/invoices", header: iw.h("Idempotency-Key", fmt.Sprintf("num-%d", i)),
					body: seedInvoice(iw.dept, "2030-01-01"), status: -1})
			})
			if a.status != 201 {
				t.Errorf("creation %d answered %d %s", i, a.status, a.body)
				return
			}
			num, ok := a.json(t)["invoice_number"].(string)
			if !ok {
				t.Errorf("creation answered %d %s", a.status, a.body)
				return
			}
			mu.Lock()
			numbers = append(numbers, num)
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Strings(numbers)
	year := iw.clock.Now().In(paris).Year()
	for i, got := range numbers {
		if want := fmt.Sprintf("FAC-%d-%05d", year, i+1); got != want {
			t.Fatalf("numbers %v: position %d is %s, want %s", numbers, i, got, want)
		}
	}
	if listed := iw.list(t); listed != n {
		t.Errorf("%d invoices exist after %d creations", listed, n)
	}
}

func TestOverdueSchedule(t *testing.T) {
	iw := newInvoiceWorld(t)
	issue := func(due string) string {
		id := iw.create(seedInvoice(iw.dept, due), 201).json(t)["id"].(string)
		iw.action(id, "issue", 200)
		return id
	}
	dueToday, dueTomorrow := issue(iw.day(0)), issue(iw.day(1))
	draft := iw.create(seedInvoice(iw.dept, iw.day(0)), 201).json(t)["id"].(string)
	cancelled := issue(iw.day(0))
	iw.action(cancelled, "cancel", 200)

	fire := func() {
		resp, err := iw.srv.Client().Post(iw.srv.URL+"/_local/schedules/SchedulerFunction", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("schedule run: status %d", resp.StatusCode)
		}
	}
	status := func(id string) any {
		return iw.do(exchange{method: "GET", route: "/v1/invoices/{invoice_id}", path: "/v1/invoices/" + id, header: iw.h(), status: 200}).json(t)["status"]
	}
	fire() // today: nothing is past due yet
	if status(dueToday) != "issued" {
		t.Fatalf("an invoice due today is not overdue today")
	}
	iw.clock.Advance(24 * time.Hour)
	iw.token = iw.world.token("ptn-1-client", partnerSecret) // a day later, a new token
	// Two runs at once: each invoice changes once.
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); fire() }()
	}
	wg.Wait()
	fire()
	for id, want := range map[string]string{dueToday: "overdue", dueTomorrow: "issued", draft: "draft", cancelled: "cancelled"} {
		if got := status(id); got != want {
			t.Errorf("invoice %s: %v, want %s", id, got, want)
		}
	}
	iw.clock.Advance(24 * time.Hour)
	iw.token = iw.world.token("ptn-1-client", partnerSecret)
	fire()
	if got := status(dueTomorrow); got != "overdue" {
		t.Errorf("a day later: %v", got)
	}
	// An overdue invoice can no longer be cancelled or edited.
	iw.action(dueToday, "cancel", 409)
}

func TestInvoiceListFiltersAndCursor(t *testing.T) {
	iw := newInvoiceWorld(t)
	var ids []string
	for i := 0; i < 5; i++ {
		body := seedInvoice(iw.dept, fmt.Sprintf("2030-01-0%d", i+1))
		if i%2 == 0 {
			body = strings.Replace(body, "jean.dupont@example.com", "marie@example.com", 1)
		}
		ids = append(ids, iw.create(body, 201).json(t)["id"].(string))
	}
	iw.action(ids[0], "issue", 200)
	list := func(q string, status int) map[string]any {
		return iw.do(exchange{method: "GET", route: "/v1/invoices", query: q, header: iw.h(), status: status}).json(t)
	}
	count := func(q string) int { return len(list(q, 200)["data"].([]any)) }
	for q, want := range map[string]int{"": 5, "status=issued": 1, "status=draft": 4, "payer_email=MARIE@example.com": 3,
		"due_date_from=2030-01-02&due_date_to=2030-01-04": 3, "department_id=" + iw.dept: 5, "department_id=dept-x": 0} {
		if got := count(q); got != want {
			t.Errorf("%q: %d invoices, want %d", q, got, want)
		}
	}
	var walked []string
	q := "page_size=2"
	for i := 0; i < 5; i++ {
		page := list(q, 200)
		for _, it := range page["data"].([]any) {
			walked = append(walked, it.(map[string]any)["id"].(string))
		}
		next, _ := page["pagination"].(map[string]any)["next_cursor"].(string)
		if next == "" {
			break
		}
		q = "page_size=2&cursor=" + next
	}
	if fmt.Sprint(walked) != fmt.Sprint(ids) {
		t.Errorf("cursor walk %v, want %v", walked, ids)
	}
	for _, q := range []string{"status=unpaid", "due_date_from=tomorrow", "created_from=2024-02-01"} {
		list(q, 422)
	}
}

// Without a due date (the guide's SDK sample sends none) an invoice takes
// the legal default: 30 days after the issue, shown from the creation on a
// draft and fixed from the issue date when issued; a due date sent by
// PATCH replaces it.
func TestTheDefaultDueDateIsThirtyDaysAfterTheIssue(t *testing.T) {
	iw := newInvoiceWorld(t)
	body := `{"department_id":"` + iw.dept + `","payer":{"name":"Jean Dupont","email":"jean@example.com"},
		"line_items":[{"description":"Service","quantity":1,"unit_price":10000,"vat_rate":20}]}`
	draft := iw.create(body, 201).json(t)
	if draft["due_date"] != iw.day(30) || draft["due_date_default"] != true {
		t.Fatalf("draft: due_date %v, default %v; want %s and true", draft["due_date"], draft["due_date_default"], iw.day(30))
	}
	iw.clock.Advance(5 * 24 * time.Hour)
	iw.token = iw.world.token("ptn-1-client", partnerSecret) // the first one expired meanwhile
	issued := iw.action(draft["id"].(string), "issue", 200).json(t)
	if issued["due_date"] != iw.day(30) || issued["issue_date"] != iw.day(0) || issued["due_date_default"] != true {
		t.Fatalf("issued 5 days later: due_date %v (want %s), issue_date %v", issued["due_date"], iw.day(30), issued["issue_date"])
	}
	other := iw.create(body, 201).json(t)
	changed := iw.do(exchange{method: "PATCH", route: "/v1/invoices/{invoice_id}", path: "/v1/invoices/" + other["id"].(string), header: iw.h(),
		body: `{"due_date":"` + iw.day(10) + `"}`, status: 200}).json(t)
	if changed["due_date"] != iw.day(10) || changed["due_date_default"] != nil {
		t.Fatalf("after PATCH: due_date %v, default %v", changed["due_date"], changed["due_date_default"])
	}
	if got := iw.action(other["id"].(string), "issue", 200).json(t); got["due_date"] != iw.day(10) {
		t.Fatalf("a due date sent by PATCH moved at issue: %v", got["due_date"])
	}
}

// The guide's SDK sample creates an organisation with type, name and SIRET
// only: it is created and names what it lacks; its invoices are drafted,
// but issuing one is a 409 naming the address until the organisation has
// one — then the issued invoice shows it.
func TestAnOrganisationWithoutAddressIssuesOnceItHasOne(t *testing.T) {
	w := newWorld(t)
	token := w.token("ptn-1-client", partnerSecret)
	org := w.do(exchange{method: "POST", route: "/v1/organizations", header: bearer(token),
		body: `{"type":"public_entity","name":"Mairie de Paris","siret":"21750001600019"}`, status: 201}).json(t)
	orgID := org["id"].(string)
	if fmt.Sprint(org["requirements"]) != "[address]" || org["address"] != nil {
		t.Fatalf("created: requirements %v, address %v", org["requirements"], org["address"])
	}
	dept := w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/departments", path: "/v1/organizations/" + orgID + "/departments",
		header: bearer(token), body: seedDepartment, status: 201}).json(t)["id"].(string)
	w.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(dept, "/bank_accounts"), header: bearer(token), body: seedBankAccount, status: 201})
	iw := &invoiceWorld{world: w, token: token, org: orgID, dept: dept}
	draft := iw.create(seedInvoice(dept, iw.day(30)), 201).json(t)
	if seller := draft["seller"].(map[string]any); seller["address"] != nil {
		t.Fatalf("a draft's seller with an address: %v", seller)
	}
	a := iw.action(draft["id"].(string), "issue", 409)
	if a.errParam(t) != "address" || !strings.Contains(string(a.body), "PATCH /v1/organizations/"+orgID) {
		t.Fatalf("issue without an address: %s", a.body)
	}
	updated := w.do(exchange{method: "PATCH", route: "/v1/organizations/{org_id}", path: "/v1/organizations/" + orgID, header: bearer(token),
		body: `{"address":{"line1":"Place de l'Hôtel de Ville","postal_code":"75004","city":"Paris","country":"FR"}}`, status: 200}).json(t)
	if updated["requirements"] != nil {
		t.Fatalf("requirements after the address: %v", updated["requirements"])
	}
	issued := iw.action(draft["id"].(string), "issue", 200).json(t)
	if addr, _ := issued["seller"].(map[string]any)["address"].(map[string]any); addr["city"] != "Paris" {
		t.Fatalf("the issued invoice's seller: %v", issued["seller"])
	}
}

// A business buyer's invoice: the payer's SIREN and VAT number, the reform's
// operation category, the service date, a delivery address and the VAT on
// debits option are kept and shown; what the law requires of a business
// buyer's invoice is a 422 naming the field, and a refused request changes
// nothing.
func TestBusinessBuyersInvoice(t *testing.T) {
	iw := newInvoiceWorld(t)
	body := func(payer, extra string) string {
		return `{"department_id":"` + iw.dept + `","payer":` + payer + `,
		"line_items":[{"description":"Maintenance","quantity":1,"unit_price":100000,"vat_rate":20}],
		"due_date":"` + iw.day(30) + `"` + extra + `}`
	}
	const business = `{"type":"business","name":"Boulangerie Dupont SARL","email":"compta@dupont.example","siren":"732 829 320","vat_number":"fr44732829320",
		"address":{"line1":"15 rue de la Paix","postal_code":"69002","city":"Lyon","country":"FR"}}`
	inv := iw.create(body(business, `,"operation_category":"services","service_date":"`+iw.day(-3)+`","vat_on_debits":true,
		"delivery_address":{"line1":"Quai Perrache","postal_code":"69002","city":"Lyon","country":"FR"}`), 201).json(t)
	payer, _ := inv["payer"].(map[string]any)
	delivery, _ := inv["delivery_address"].(map[string]any)
	if payer["type"] != "business" || payer["siren"] != "732829320" || payer["vat_number"] != "FR44732829320" ||
		inv["operation_category"] != "services" || inv["service_date"] != iw.day(-3) || inv["vat_on_debits"] != true || delivery["line1"] != "Quai Perrache" {
		t.Fatalf("business invoice as created: %v", inv)
	}
	// A PATCH that drops the category of a business buyer's draft is refused.
	id := inv["id"].(string)
	if a := iw.do(exchange{method: "PATCH", route: "/v1/invoices/{invoice_id}", path: "/v1/invoices/" + id, header: iw.h(),
		body: `{"operation_category":""}`, status: 422}); a.errParam(t) != "operation_category" {
		t.Errorf("PATCH without category: param %q (%s)", a.errParam(t), a.body)
	}
	before := iw.list(t)
	if before != 1 {
		t.Fatalf("%d invoices listed, want the one created", before)
	}
	for _, c := range []struct{ body, param string }{
		{body(business, ``), "operation_category"},
		{body(business, `,"operation_category":"rental"`), "operation_category"},
		{body(strings.Replace(business, `"siren":"732 829 320","vat_number":"fr44732829320",`, ``, 1), `,"operation_category":"goods"`), "payer.siren"},
		{body(strings.Replace(business, `"siren":"732 829 320"`, `"siren":"732829321"`, 1), `,"operation_category":"goods"`), "payer.siren"},
		{body(strings.Replace(business, `"vat_number":"fr44732829320"`, `"vat_number":"FR96552100554"`, 1), `,"operation_category":"goods"`), "payer.vat_number"},
		{body(`{"name":"Jean","email":"jean@example.com","siren":"732829320"}`, ``), "payer.type"},
		{body(`{"name":"Jean","email":"jean@example.com"}`, `,"service_date":"31/03/2026"`), "service_date"},
		{body(`{"name":"Jean","email":"jean@example.com"}`, `,"delivery_address":{"city":"Lyon"}`), "delivery_address.line1"},
		{body(`{"name":"Jean","email":"jean@example.com"}`, `,"vat_on_debits":"yes"`), "vat_on_debits"},
	} {
		if a := iw.create(c.body, 422); a.errParam(t) != c.param {
			t.Errorf("param %q, want %q (%s)", a.errParam(t), c.param, a.body)
		}
	}
	// Lines at 0 % VAT: a business buyer's invoice states the provision
	// exempting them; a reason without such a line is refused too.
	exempt := func(extra string) string {
		return `{"department_id":"` + iw.dept + `","payer":` + business + `,"operation_category":"services",
		"line_items":[{"description":"Formation professionnelle","quantity":1,"unit_price":50000,"vat_rate":0}],
		"due_date":"` + iw.day(30) + `"` + extra + `}`
	}
	for _, c := range []struct{ body, param string }{
		{exempt(``), "vat_exemption_reason"},
		{exempt(`,"vat_exemption_reason":"   "`), "vat_exemption_reason"},
		{exempt(`,"vat_exemption_reason":"` + strings.Repeat("x", 201) + `"`), "vat_exemption_reason"},
		{body(business, `,"operation_category":"services","vat_exemption_reason":"TVA non applicable, art. 293 B du CGI"`), "vat_exemption_reason"},
	} {
		if a := iw.create(c.body, 422); a.errParam(t) != c.param {
			t.Errorf("param %q, want %q (%s)", a.errParam(t), c.param, a.body)
		}
	}
	if after := iw.list(t); after != before {
		t.Errorf("refused creations changed the invoices: %d before, %d after", before, after)
	}
	const reason = "Exonération de TVA, article 261 4 4° a du CGI"
	ex := iw.create(exempt(`,"vat_exemption_reason":" `+reason+` "`), 201).json(t)
	if ex["vat_exemption_reason"] != reason {
		t.Fatalf("vat_exemption_reason as created: %v", ex["vat_exemption_reason"])
	}
	exID := ex["id"].(string)
	if a := iw.do(exchange{method: "PATCH", route: "/v1/invoices/{invoice_id}", path: "/v1/invoices/" + exID, header: iw.h(),
		body: `{"vat_exemption_reason":""}`, status: 422}); a.errParam(t) != "vat_exemption_reason" {
		t.Errorf("PATCH dropping the exemption: param %q (%s)", a.errParam(t), a.body)
	}
	iw.action(exID, "issue", 200)
	text := pdfText(t, iw.do(exchange{method: "GET", route: "/v1/invoices/{invoice_id}/pdf", path: "/v1/invoices/" + exID + "/pdf", header: iw.h(), status: 200}).body)
	if !strings.Contains(text, reason) {
		t.Errorf("the PDF does not state the exemption:\n%s", text)
	}
	cii := iw.do(exchange{method: "GET", route: "/v1/invoices/{invoice_id}/cii.xml", path: "/v1/invoices/" + exID + "/cii.xml", header: iw.h(), status: 200}).body
	if !strings.Contains(string(cii), "<ram:ExemptionReason>"+reason+"</ram:ExemptionReason>") || !strings.Contains(string(cii), "<ram:CategoryCode>E</ram:CategoryCode>") {
		t.Errorf("the CII does not state the exemption (BT-120):\n%s", cii)
	}
}

// list is the number of the organisation's invoices.
func (iw *invoiceWorld) list(t *testing.T) int {
	t.Helper()
	got := iw.do(exchange{method: "GET", route: "/v1/invoices", query: "page_size=100", header: iw.h(), status: 200}).json(t)
	data, _ := got["data"].([]any)
	return len(data)
}
