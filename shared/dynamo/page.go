package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/listing"
)

// queryPage runs a key-condition query for one page. With a cursor it reads
// exactly one page; with a page number it walks from the start (cost grows with
// the page number, which is why the cursor exists). partitionAttr/partition
// guard cursors: a cursor made for another partition (another tenant) is
// refused, never followed. keep filters items after reading (name filters);
// count asks for the list's total, with a COUNT query of the same partition.
func (s *base) queryPage(ctx context.Context, in dynamodb.QueryInput, partitionAttr, partition string, q listing.Query, keep func(map[string]types.AttributeValue) bool, count bool) (items []map[string]types.AttributeValue, next string, total int, err error) {
	const op = "dynamo.query_page"
	total = -1
	var start map[string]types.AttributeValue
	skip := 0
	if q.Cursor != "" {
		start, err = decodeCursor(q.Cursor, partitionAttr, partition)
		if err != nil {
			return nil, "", 0, err
		}
	} else {
		skip = (q.Page - 1) * q.Size
	}
	in.TableName = aws.String(s.table)
	for {
		in.ExclusiveStartKey = start
		in.Limit = aws.Int32(int32(min(skip+q.Size-len(items)+1, 1000)))
		out, err := s.db.Query(ctx, &in)
		if err != nil {
			return nil, "", 0, transient(op, err)
		}
		for _, it := range out.Items {
			if keep != nil && !keep(it) {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			if len(items) == q.Size {
				// One more item exists: the page is full and has a successor.
				next = encodeCursor(lastKey(items[len(items)-1], in))
				goto done
			}
			items = append(items, it)
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		start = out.LastEvaluatedKey
	}
done:
	if count {
		cin := in
		cin.Select, cin.Limit, cin.ExclusiveStartKey = types.SelectCount, nil, nil
		total = 0
		for {
			out, err := s.db.Query(ctx, &cin)
			if err != nil {
				return nil, "", 0, transient(op, err)
			}
			total += int(out.Count)
			if out.LastEvaluatedKey == nil {
				break
			}
			cin.ExclusiveStartKey = out.LastEvaluatedKey
		}
		if keep != nil {
			total = -1 // a filtered list has no cheap total
		}
	}
	return items, next, total, nil
}

// lastKey extracts the key attributes DynamoDB needs to resume after item: the
// table's keys, plus the index's when querying an index.
func lastKey(item map[string]types.AttributeValue, in dynamodb.QueryInput) map[string]string {
	k := map[string]string{}
	names := []string{attrPK, attrSK}
	if aws.ToString(in.IndexName) == indexGSI1 {
		names = append(names, attrGSI1PK, attrGSI1SK)
	}
	for _, n := range names {
		if v, ok := item[n].(*types.AttributeValueMemberS); ok {
			k[n] = v.Value
		}
	}
	return k
}

func encodeCursor(k map[string]string) string {
	b, _ := json.Marshal(k)
	return base64.RawURLEncoding.EncodeToString(b)
}

// maxCursorValue bounds a cursor's key values: DynamoDB refuses sort keys
// over 1024 bytes, and ours are far shorter.
const maxCursorValue = 512

func decodeCursor(c, partitionAttr, partition string) (map[string]types.AttributeValue, error) {
	bad := apperr.Field("dynamo.cursor", "cursor", "cursor is not one this list returned")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, bad
	}
	var k map[string]string
	if err := json.Unmarshal(b, &k); err != nil || k[partitionAttr] != partition || len(k) > 4 {
		return nil, bad
	}
	out := map[string]types.AttributeValue{}
	for n, v := range k {
		if len(v) > maxCursorValue { // no key of ours is that long; DynamoDB would answer 400 → 500
			return nil, bad
		}
		switch n {
		case attrPK, attrSK, attrGSI1PK, attrGSI1SK:
			out[n] = str(v)
		default:
			return nil, bad
		}
	}
	return out, nil
}
