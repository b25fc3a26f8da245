// Package docstore builds, once per container, where issued invoices'
// documents are kept: the bucket deployed (MODUPAY_DOCUMENTS_BUCKET, the
// template's DocumentsBucket), a directory locally (MODUPAY_DOCUMENTS_DIR).
// Only the functions that keep or serve documents link it, and so the S3
// client (lambdaenv.KeepsDocuments).
package docstore

import (
	"errors"

	"github.com/modupay/modupay/shared/documents"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/table"
	"github.com/modupay/modupay/shared/objects"
)

// Keeper is the container's document keeper.
func Keeper(e *lambdaenv.Env) (documents.Keeper, error) {
	switch {
	case e.Config.DocumentsBucket != "":
		return lambdaenv.Shared(e, "documents.Keeper", func() documents.Keeper {
			return documents.Keeper{Objects: objects.S3{Client: objects.NewS3(e.AWS, e.Config.S3Endpoint), Bucket: e.Config.DocumentsBucket},
				Brands: table.Store(e).Brandings}
		}), nil
	case e.Config.DocumentsDir != "":
		return documents.Keeper{Objects: objects.Dir{Root: e.Config.DocumentsDir}, Brands: table.Store(e).Brandings}, nil
	}
	return documents.Keeper{}, errors.New("no document store: set MODUPAY_DOCUMENTS_BUCKET or MODUPAY_DOCUMENTS_DIR")
}
