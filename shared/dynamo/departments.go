package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/listing"
)

// Departments stores departments with what lives in their partition: bank
// accounts and their IBAN claims, the KYC file and documents
// (department.Store, and the account reads and writes of the payment flow).
type Departments struct{ *base }

// A department is its own partition under its partner, found by id alone
// (routes like /v1/departments/{id} name no organisation); its bank accounts,
// KYC file and KYC documents live in the same partition, so one Query lists
// them. The organisation's list is GSI1. Department codes are unique per
// organisation through a claim item written in the creating transaction.
func deptPK(partnerID, deptID string) string { return "P#" + partnerID + "#D#" + deptID }
func orgDeptsPK(partnerID, orgID string) string {
	return orgPK(partnerID, orgID) + "#DEPTS"
}
func deptCodePK(partnerID, orgID, code string) string {
	return orgPK(partnerID, orgID) + "#DEPTCODE#" + code
}

const (
	skDept    = "DEPT"
	skCode    = "CODE"
	skKYC     = "KYC"
	pfxBA     = "BA#"
	pfxIBAN   = "IBAN#"
	pfxKYCDoc = "KYCDOC#"
)

type deptItem struct {
	head
	PartnerID string `json:"partner_id"`
	Version   int64  `json:"version"`
	department.Department
}

func (it deptItem) department() department.Department {
	d := it.Department
	d.PartnerID, d.Version = it.PartnerID, it.Version
	if d.PayoutAccountID == "" {
		// Written before payout accounts existed: payments went to the default.
		d.PayoutAccountID = d.DefaultAccountID
	}
	return d
}

// CreateDepartment writes the department, its code claim and its event, on
// condition that the organisation is the partner's.
func (s *Departments) CreateDepartment(ctx context.Context, d department.Department, ev event.Event) error {
	const op = "dynamo.create_department"
	tx := s.tx()
	tx.checkOrganization("organization", d.PartnerID, d.OrgID)
	tx.Put("department", deptItem{head: head{PK: deptPK(d.PartnerID, d.ID), SK: skDept, GSI1PK: orgDeptsPK(d.PartnerID, d.OrgID), GSI1SK: d.ID,
		Kind: "department"}, PartnerID: d.PartnerID, Version: d.Version, Department: d}, ifNew)
	tx.claimCode("code", d.PartnerID, d.OrgID, d.Code, d.ID)
	tx.Events(ev)
	err := tx.Run(ctx)
	switch {
	case tx.Failed(err, "organization"):
		return apperr.OrganizationNotFound(op)
	case tx.Failed(err, "code"):
		return codeTaken(op, d.Code)
	case err != nil:
		return transient(op, err)
	}
	return nil
}

func codeTaken(op, code string) error {
	return &apperr.Error{Op: op, Code: apperr.Conflict, Param: "code", Message: "a department with the code " + code + " already exists in this organization"}
}

// claimCode adds the claim that makes code unique in its organisation.
func (t *txn) claimCode(name, partnerID, orgID, code, deptID string) {
	t.Put(name, struct {
		head
		DepartmentID string `json:"department_id"`
	}{head{PK: deptCodePK(partnerID, orgID, code), SK: skCode, Kind: "department_code"}, deptID}, ifNew)
}

// GetDepartment reads a department by id under the partner.
func (s *Departments) GetDepartment(ctx context.Context, partnerID, deptID string) (department.Department, error) {
	const op = "dynamo.get_department"
	return getItem(ctx, s.base, op, deptPK(partnerID, deptID), skDept, "department not found", deptItem.department)
}

// ListDepartments pages through an organisation's departments.
func (s *Departments) ListDepartments(ctx context.Context, partnerID, orgID string, q listing.Query) (listing.Page[department.Department], error) {
	const op = "dynamo.list_departments"
	return listGSI1(ctx, s.base, op, orgDeptsPK(partnerID, orgID), q, nil, true, deptItem.department)
}

// UpdateDepartment changes the editable fields only (an UpdateItem, so the
// default account and KYC status, which other writes own, are never
// overwritten), on condition of the version read; a new code is claimed and
// the old one released in the same transaction.
func (s *Departments) UpdateDepartment(ctx context.Context, before, after department.Department, ev event.Event) error {
	const op = "dynamo.update_department"
	tx := s.tx()
	tx.Update("department", key(deptPK(after.PartnerID, after.ID), skDept), "SET #name = :name, code = :code, description = :desc, updated_at = :at, version = :v",
		cond{expr: "version = :prev", names: map[string]string{"#name": "name"},
			values: map[string]types.AttributeValue{":name": str(after.Name), ":code": str(after.Code), ":desc": str(after.Description),
				":at": str(after.UpdatedAt.Format(time.RFC3339Nano)), ":v": num(after.Version), ":prev": num(before.Version)}})
	tx.Events(ev)
	if after.Code != before.Code {
		tx.claimCode("code", after.PartnerID, after.OrgID, after.Code, after.ID)
		tx.Delete("old code", key(deptCodePK(before.PartnerID, before.OrgID, before.Code), skCode), cond{})
	}
	err := tx.Run(ctx)
	switch {
	case tx.Failed(err, "department"):
		return apperr.E(op, apperr.Conflict, "the department was changed by another request; read it again and retry")
	case tx.Failed(err, "code"):
		return codeTaken(op, after.Code)
	case err != nil:
		return transient(op, err)
	}
	return nil
}

// OrganizationType reads only the organisation's type.
func (s *Organizations) OrganizationType(ctx context.Context, partnerID, orgID string) (string, error) {
	const op = "dynamo.organization_type"
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(orgPK(partnerID, orgID), skOrg),
		ProjectionExpression: aws.String("#t"), ExpressionAttributeNames: map[string]string{"#t": "type"}})
	if err != nil {
		return "", transient(op, err)
	}
	t, ok := out.Item["type"].(*types.AttributeValueMemberS)
	if !ok {
		return "", apperr.OrganizationNotFound(op)
	}
	return t.Value, nil
}

type accountItem struct {
	head
	PartnerID   string `json:"partner_id"`
	Version     int64  `json:"version"`
	ActiveLinks int64  `json:"active_links"`
	TestIBAN    bool   `json:"sandbox_test_iban"`
	Destination string `json:"aiia_destination_id,omitempty"`
	department.BankAccount
}

func (it accountItem) account() department.BankAccount {
	a := it.BankAccount
	a.PartnerID, a.Version, a.ActiveLinks, a.SandboxTestIBAN, a.AiiaDestinationID = it.PartnerID, it.Version, it.ActiveLinks, it.TestIBAN, it.Destination
	a.IsDefault = false // derived by the service from the department
	if a.Status == legacyActive {
		a.Status = department.AccountVerified
	}
	return a
}

// legacyActive is the status of accounts written before verification
// existed, when every account was paid into: they read as verified.
const legacyActive = "active"

// guardDepartment adds the department update every account write makes: it
// serialises writes that decide the default and payout accounts (version),
// and records both as the write leaves them. A failed condition is
// department.ErrChanged: read and retry.
func (t *txn) guardDepartment(name string, before, after department.Department) {
	expr := "SET version = :v"
	vals := map[string]types.AttributeValue{":v": num(before.Version + 1), ":prev": num(before.Version)}
	if after.DefaultAccountID != "" {
		expr += ", default_bank_account_id = :d"
		vals[":d"] = str(after.DefaultAccountID)
	}
	if after.PayoutAccountID != "" {
		expr += ", payout_bank_account_id = :p"
		vals[":p"] = str(after.PayoutAccountID)
	}
	t.Update(name, key(deptPK(before.PartnerID, before.ID), skDept), expr, cond{expr: "version = :prev", values: vals})
}

// CreateBankAccount writes the account, its IBAN claim (one IBAN once per
// department), the department's default and payout accounts, and the events,
// in one transaction.
func (s *Departments) CreateBankAccount(ctx context.Context, before, after department.Department, a department.BankAccount, evs []event.Event) error {
	const op = "dynamo.create_bank_account"
	a.IsDefault = false
	tx := s.tx()
	tx.guardDepartment("department", before, after)
	tx.Put("account", accountItem{head: head{PK: deptPK(before.PartnerID, before.ID), SK: pfxBA + a.ID, Kind: "bank_account"}, PartnerID: before.PartnerID,
		Version: a.Version, TestIBAN: a.SandboxTestIBAN, BankAccount: a}, ifNew)
	// One IBAN once per department: the claim is the IBAN's own item.
	tx.Put("iban", struct {
		head
		BankAccountID string `json:"bank_account_id"`
	}{head{PK: deptPK(before.PartnerID, before.ID), SK: pfxIBAN + a.IBAN, Kind: "iban_claim"}, a.ID}, ifNew)
	tx.Events(evs...)
	err := tx.Run(ctx)
	switch tx.FirstFailed(err) {
	case "department":
		return department.ErrChanged
	case "iban":
		return &apperr.Error{Op: op, Code: apperr.Conflict, Param: "iban", Message: "this IBAN is already an account of the department"}
	}
	if err != nil {
		return transient(op, err)
	}
	return nil
}

// GetBankAccount reads one account of a department.
func (s *Departments) GetBankAccount(ctx context.Context, partnerID, deptID, accountID string) (department.BankAccount, error) {
	const op = "dynamo.get_bank_account"
	return getItem(ctx, s.base, op, deptPK(partnerID, deptID), pfxBA+accountID, "bank account not found", accountItem.account)
}

// UpdateBankAccount writes the account's name, bank name and status
// (UpdateItem: the link counter, which payment links own, is never
// overwritten), conditional on its version read, with the department's
// default and payout accounts as the change leaves them and the events.
func (s *Departments) UpdateBankAccount(ctx context.Context, before, after department.Department, a department.BankAccount, evs []event.Event) error {
	const op = "dynamo.update_bank_account"
	tx := s.tx()
	tx.guardDepartment("department", before, after)
	tx.updateAccount("account", before, a)
	tx.Events(evs...)
	err := tx.Run(ctx)
	switch tx.FirstFailed(err) {
	case "department", "account":
		return department.ErrChanged
	}
	if err != nil {
		return transient(op, err)
	}
	return nil
}

// updateAccount adds the write of the account's editable fields and status,
// conditional on the version before a's.
func (t *txn) updateAccount(name string, d department.Department, a department.BankAccount) {
	t.Update(name, key(deptPK(d.PartnerID, d.ID), pfxBA+a.ID), "SET account_name = :n, bank_name = :b, #status = :s, updated_at = :at, version = :v",
		cond{expr: "version = :prev", names: map[string]string{"#status": "status"},
			values: map[string]types.AttributeValue{":n": str(a.AccountName), ":b": str(a.BankName), ":s": str(a.Status),
				":at": str(a.UpdatedAt.Format(time.RFC3339Nano)), ":v": num(a.Version), ":prev": num(a.Version - 1)}})
}

// DeleteBankAccount deletes the account and its IBAN claim, on condition that
// no active payment link uses it and it is not (or no longer) the default
// nor the payout account. A department written before payout accounts has
// no payout attribute: its payout account is its default.
func (s *Departments) DeleteBankAccount(ctx context.Context, d department.Department, a department.BankAccount, ev event.Event) error {
	const op = "dynamo.delete_bank_account"
	tx := s.tx()
	tx.ConditionCheck("department", key(deptPK(d.PartnerID, d.ID), skDept),
		cond{expr: "default_bank_account_id <> :id AND (attribute_not_exists(payout_bank_account_id) OR payout_bank_account_id <> :id)",
			values: map[string]types.AttributeValue{":id": str(a.ID)}})
	tx.Delete("account", key(deptPK(d.PartnerID, d.ID), pfxBA+a.ID),
		cond{expr: "attribute_exists(PK) AND active_links = :zero", values: map[string]types.AttributeValue{":zero": num(0)}})
	tx.Delete("iban", key(deptPK(d.PartnerID, d.ID), pfxIBAN+a.IBAN), cond{})
	tx.Events(ev)
	err := tx.Run(ctx)
	switch {
	case tx.Failed(err, "department"):
		return apperr.E(op, apperr.Conflict, "this account became the department's default or payout account: make another verified account the default first")
	case tx.Failed(err, "account"):
		return apperr.E(op, apperr.Conflict, "the account is gone, or active payment links pay into it")
	case err != nil:
		return transient(op, err)
	}
	return nil
}

type kycDocItem struct {
	head
	PartnerID string `json:"partner_id"`
	Content   []byte `json:"content"`
	department.Document
}

// PutKYCDocument stores a document (its bytes as a binary attribute) with its event.
func (s *Departments) PutKYCDocument(ctx context.Context, doc department.Document, ev event.Event) error {
	const op = "dynamo.put_kyc_document"
	tx := s.tx()
	tx.Put("document", kycDocItem{head: head{PK: deptPK(doc.PartnerID, doc.DepartmentID), SK: pfxKYCDoc + doc.ID, Kind: "kyc_document"},
		PartnerID: doc.PartnerID, Content: doc.Content, Document: doc}, ifNew)
	tx.Events(ev)
	if err := tx.Run(ctx); err != nil {
		return transient(op, err)
	}
	return nil
}

// GetKYCDocument reads a document's metadata (not its bytes).
func (s *Departments) GetKYCDocument(ctx context.Context, partnerID, deptID, docID string) (department.Document, error) {
	const op = "dynamo.get_kyc_document"
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(deptPK(partnerID, deptID), pfxKYCDoc+docID),
		ProjectionExpression:     aws.String("id, department_id, organization_id, #t, file_name, content_type, size, sha256, created_at"),
		ExpressionAttributeNames: map[string]string{"#t": "type"}})
	if err != nil {
		return department.Document{}, transient(op, err)
	}
	if out.Item == nil {
		return department.Document{}, apperr.E(op, apperr.NotFound, "document not found")
	}
	var doc department.Document
	if err := unmarshal(out.Item, &doc); err != nil {
		return department.Document{}, apperr.Wrap(op, err)
	}
	doc.PartnerID = partnerID
	return doc, nil
}

type kycItem struct {
	head
	PartnerID string `json:"partner_id"`
	Version   int64  `json:"version"`
	department.KYC
}

// SubmitKYC writes the KYC file (conditional on the version read, so two
// submissions cannot both pass), the department's denormalised KYC status and
// the status events, in one transaction. An approval's verification (v)
// joins it: the account verified, conditional on its version, and the
// department's payout account, conditional on the department's version.
func (s *Departments) SubmitKYC(ctx context.Context, d department.Department, before, after department.KYC, v *department.Verification, evs []event.Event) error {
	const op = "dynamo.submit_kyc"
	kyc := ifNew
	if before.Version > 0 {
		kyc = cond{expr: "version = :prev", values: map[string]types.AttributeValue{":prev": num(before.Version)}}
	}
	tx := s.tx()
	tx.Put("kyc", kycItem{head: head{PK: deptPK(d.PartnerID, d.ID), SK: skKYC, Kind: "kyc"}, PartnerID: d.PartnerID, Version: after.Version, KYC: after}, kyc)
	deptKey := key(deptPK(d.PartnerID, d.ID), skDept)
	if v == nil {
		tx.Update("department", deptKey, "SET kyc_status = :s",
			cond{expr: "attribute_exists(PK)", values: map[string]types.AttributeValue{":s": str(after.Status)}})
	} else {
		tx.Update("department", deptKey, "SET kyc_status = :s, payout_bank_account_id = :p, version = :v",
			cond{expr: "version = :prev", values: map[string]types.AttributeValue{":s": str(after.Status),
				":p": str(v.Department.PayoutAccountID), ":v": num(d.Version + 1), ":prev": num(d.Version)}})
	}
	if v != nil && v.Account.Version != v.Before.Version {
		tx.updateAccount("account", d, v.Account)
	}
	tx.Events(evs...)
	err := tx.Run(ctx)
	switch tx.FirstFailed(err) {
	case "kyc":
		return apperr.E(op, apperr.Conflict, "another KYC submission for this department was recorded at the same time")
	case "department", "account":
		return apperr.E(op, apperr.Conflict, "the department's bank accounts changed at the same time; retry")
	}
	if err != nil {
		return transient(op, err)
	}
	return nil
}

// getTwo reads the department item and one other item of its partition in one
// call (BatchGetItem), so a read of a department's sub-resource costs one
// call. A missing department is NotFound; a missing other item is nil.
func (s *Departments) getTwo(ctx context.Context, op, partnerID, deptID, otherSK string) (department.Department, map[string]types.AttributeValue, error) {
	pk := deptPK(partnerID, deptID)
	in := &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		s.table: {Keys: []map[string]types.AttributeValue{key(pk, skDept), key(pk, otherSK)}, ConsistentRead: aws.Bool(true)},
	}}
	var items []map[string]types.AttributeValue
	for len(in.RequestItems) > 0 {
		out, err := s.db.BatchGetItem(ctx, in)
		if err != nil {
			return department.Department{}, nil, transient(op, err)
		}
		items = append(items, out.Responses[s.table]...)
		in.RequestItems = out.UnprocessedKeys // rare; read what is left
	}
	var dept, other map[string]types.AttributeValue
	for _, it := range items {
		if sk, _ := it[attrSK].(*types.AttributeValueMemberS); sk != nil && sk.Value == skDept {
			dept = it
		} else {
			other = it
		}
	}
	if dept == nil {
		return department.Department{}, nil, apperr.E(op, apperr.NotFound, "department not found")
	}
	var d deptItem
	if err := unmarshal(dept, &d); err != nil {
		return department.Department{}, nil, apperr.Wrap(op, err)
	}
	return d.department(), other, nil
}

// GetDepartmentAccount reads a department and one of its accounts: one call.
func (s *Departments) GetDepartmentAccount(ctx context.Context, partnerID, deptID, accountID string) (department.Department, department.BankAccount, error) {
	const op = "dynamo.get_department_account"
	d, raw, err := s.getTwo(ctx, op, partnerID, deptID, pfxBA+accountID)
	if err != nil {
		return d, department.BankAccount{}, err
	}
	if raw == nil {
		return d, department.BankAccount{}, apperr.E(op, apperr.NotFound, "bank account not found")
	}
	var it accountItem
	if err := unmarshal(raw, &it); err != nil {
		return d, department.BankAccount{}, apperr.Wrap(op, err)
	}
	return d, it.account(), nil
}

// GetDepartmentKYC reads a department and its KYC file (nil when none): one call.
func (s *Departments) GetDepartmentKYC(ctx context.Context, partnerID, deptID string) (department.Department, *department.KYC, error) {
	const op = "dynamo.get_department_kyc"
	d, raw, err := s.getTwo(ctx, op, partnerID, deptID, skKYC)
	if err != nil || raw == nil {
		return d, nil, err
	}
	var it kycItem
	if err := unmarshal(raw, &it); err != nil {
		return d, nil, apperr.Wrap(op, err)
	}
	k := it.KYC
	k.Version = it.Version
	return d, &k, nil
}

// ListDepartmentAccounts reads a department and all its accounts with one
// Query: in the partition's sort order "BA#…" < "DEPT" < "IBAN#…" < "KYC…",
// so SK BETWEEN "BA#" AND "DEPT" is exactly the accounts and the department.
func (s *Departments) ListDepartmentAccounts(ctx context.Context, partnerID, deptID string) (department.Department, []department.BankAccount, error) {
	const op = "dynamo.list_department_accounts"
	in := &dynamodb.QueryInput{TableName: aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk AND SK BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(deptPK(partnerID, deptID)), ":lo": str(pfxBA), ":hi": str(skDept)}}
	var d *department.Department
	accounts := []department.BankAccount{}
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return department.Department{}, nil, transient(op, err)
		}
		for _, raw := range res.Items {
			if sk, _ := raw[attrSK].(*types.AttributeValueMemberS); sk != nil && sk.Value == skDept {
				var it deptItem
				if err := unmarshal(raw, &it); err != nil {
					return department.Department{}, nil, apperr.Wrap(op, err)
				}
				dd := it.department()
				d = &dd
				continue
			}
			var it accountItem
			if err := unmarshal(raw, &it); err != nil {
				return department.Department{}, nil, apperr.Wrap(op, err)
			}
			accounts = append(accounts, it.account())
		}
		if res.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
	if d == nil {
		return department.Department{}, nil, apperr.E(op, apperr.NotFound, "department not found")
	}
	return *d, accounts, nil
}

// ExpireKYC sets the TTL of the department's KYC file and every KYC
// document to until (department.KYCRetainedUntil of the department's
// closure), so DynamoDB deletes them then; one Query of the department's
// partition (SK from "KYC", the file and "KYCDOC#…") and one UpdateItem per
// item. It is idempotent, and what does not exist is not created. It
// returns how many items will expire. It is what closing a department
// calls; until departments can be closed through the API, the operator
// runs it when an organisation leaves (`operator kyc-expire`).
func (s *Departments) ExpireKYC(ctx context.Context, partnerID, deptID string, until time.Time) (int, error) {
	const op = "dynamo.expire_kyc"
	pk := deptPK(partnerID, deptID)
	keys, err := queryAll(ctx, s.base, op, &dynamodb.QueryInput{TableName: aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :kyc)"),
		ProjectionExpression:      aws.String("PK, SK"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":kyc": str(skKYC)}},
		func(h head) head { return h })
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key(k.PK, k.SK),
			UpdateExpression: aws.String("SET #ttl = :ttl"), ConditionExpression: aws.String("attribute_exists(PK)"),
			ExpressionAttributeNames:  map[string]string{"#ttl": attrTTL},
			ExpressionAttributeValues: map[string]types.AttributeValue{":ttl": num(until.Unix())}})
		if err != nil && !checkFailed(err) {
			return 0, transient(op, err)
		}
	}
	return len(keys), nil
}
