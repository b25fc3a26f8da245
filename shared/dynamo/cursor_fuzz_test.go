package dynamo

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/apperr"
)

// FuzzDecodeCursor: a cursor is the client's to send back, so any bytes
// can come. Either it is refused as a 4xx naming cursor, or it names only
// key attributes, in the caller's own partition, with values DynamoDB
// accepts as a start key (a 10 000-character sort key would be its 400,
// our 500).
func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(map[string]string{attrPK: "ORG#org-1", attrSK: "INV#inv-1"}))
	f.Add(encodeCursor(map[string]string{attrPK: "ORG#org-1", attrSK: strings.Repeat("x", 10000)}))
	f.Add(encodeCursor(map[string]string{attrPK: "ORG#org-2", attrSK: "INV#inv-1"}))
	f.Add(encodeCursor(map[string]string{attrPK: "ORG#org-1", "amount": "1"}))
	f.Add("not base64 !")
	f.Add("")
	f.Fuzz(func(t *testing.T, c string) {
		k, err := decodeCursor(c, attrPK, "ORG#org-1")
		if err != nil {
			if ae, ok := apperr.As(err); !ok || ae.Param != "cursor" || ae.Code != apperr.Invalid {
				t.Fatalf("decodeCursor(%q) = %v, want a 422 naming cursor", c, err)
			}
			return
		}
		if v, ok := k[attrPK].(*types.AttributeValueMemberS); !ok || v.Value != "ORG#org-1" {
			t.Fatalf("decodeCursor(%q) left the caller's partition: %v", c, k)
		}
		for n, v := range k {
			s, ok := v.(*types.AttributeValueMemberS)
			if !ok || len(s.Value) > 1024 {
				t.Fatalf("decodeCursor(%q): %s is no start key DynamoDB accepts", c, n)
			}
		}
	})
}
