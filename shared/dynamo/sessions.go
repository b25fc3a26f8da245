package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Sessions records the dashboard sessions that were signed out. A session
// lives in its cookie only; signing out must still end every copy of that
// cookie, so the end is written twice, in one transaction: to the
// revocation list every container's cache reads (refused within
// RevocationRefresh, at no call per request), and as the session's own
// item, kept until the session would have expired anyway, which the
// dashboard reads when it checks a session's client again (every
// session.CheckEvery, well within the 70 minutes the list remembers).
type Sessions struct{ *base }

const skSessionEnded = "ENDED"

// SessionRevocationID is the name a session has in the revocation list.
func SessionRevocationID(sessionID string) string { return "session:" + sessionID }

func sessionPK(sessionID string) string { return "DASHSESSION#" + sessionID }

// EndSession records that the session ended at at; its item expires at until.
func (s *Sessions) EndSession(ctx context.Context, sessionID string, at, until time.Time) error {
	const op = "dynamo.end_session"
	at = at.UTC()
	id := SessionRevocationID(sessionID)
	tx := s.tx()
	tx.Put("revocation", revocationItem{head: head{PK: pkRevocations, SK: at.Format(sortableTime) + "#" + id, TTL: at.Add(revocationKeep).Unix()},
		ClientID: id, RevokedAt: at}, cond{})
	tx.Put("session", struct {
		head
		EndedAt time.Time `json:"ended_at"`
	}{head: head{PK: sessionPK(sessionID), SK: skSessionEnded, TTL: until.Unix()}, EndedAt: at}, cond{})
	if err := tx.Run(ctx); err != nil {
		return transient(op, err)
	}
	return nil
}

// SessionEnded says whether the session was signed out. One GetItem.
func (s *Sessions) SessionEnded(ctx context.Context, sessionID string) (bool, error) {
	const op = "dynamo.session_ended"
	if sessionID == "" || len(sessionID) > 200 {
		return false, nil
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(sessionPK(sessionID), skSessionEnded),
		ProjectionExpression: aws.String("PK")})
	if err != nil {
		return false, transient(op, err)
	}
	return out.Item != nil, nil
}
