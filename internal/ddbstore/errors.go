package ddbstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// conditionFailed reports whether a write was refused by its condition
// expression, alone or inside a transaction.
func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return true
	}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return false
	}
	for _, r := range tce.CancellationReasons {
		if r.Code != nil && *r.Code == "ConditionalCheckFailed" {
			return true
		}
	}
	return false
}

// notFound reports whether err says the table does not exist.
func notFound(err error) bool {
	var rnf *types.ResourceNotFoundException
	return errors.As(err, &rnf)
}

// inUse reports whether err says the table is being created or already exists.
func inUse(err error) bool {
	var riu *types.ResourceInUseException
	return errors.As(err, &riu)
}

// schemaMistakes are ValidationException messages that mean the table or the
// request is wrong, not the item: calling them unwritable would quarantine
// every row instead of failing loudly.
var schemaMistakes = []string{
	"missing the key",
	"type mismatch for key",
	"key element does not match",
	"expression",
}

// itemRejected returns DynamoDB's reason when err is a ValidationException
// about the item itself (size, number range, nesting, empty key...).
func itemRejected(err error) (string, bool) {
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" {
		return "", false
	}
	msg := ae.ErrorMessage()
	low := strings.ToLower(msg)
	for _, s := range schemaMistakes {
		if strings.Contains(low, s) {
			return "", false
		}
	}
	return msg, true
}

// opaque hides SDK error types from callers while keeping the message, and
// keeps a context error detectable so a caller can tell "deadline reached"
// from "DynamoDB failed".
func opaque(op string, err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %v: %w", op, err, context.DeadlineExceeded)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: %v: %w", op, err, context.Canceled)
	}
	return fmt.Errorf("%s: %v", op, err)
}
