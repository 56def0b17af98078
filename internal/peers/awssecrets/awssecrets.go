// Package awssecrets reads peers' secrets from AWS Secrets Manager for
// peers.SecretsCache: the one SDK call, and the translation of its errors to
// the peers' classes (peers.ErrRejected: fix the secret or the role;
// peers.ErrUnavailable: try again later). It keeps the SDK out of
// internal/peers, so the pass that uses peers compiles without AWS.
package awssecrets

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/aimemory/catchup/internal/peers"
)

// API is the one Secrets Manager call made; *secretsmanager.Client satisfies it.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput,
		opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Values satisfies peers.SecretValues over Secrets Manager.
type Values struct{ api API }

// New returns Values reading through api.
func New(api API) Values { return Values{api: api} }

// SecretValue returns the secret's string, or its binary value when it has
// no string. Errors wrap the SDK's error and peers.ErrRejected or
// peers.ErrUnavailable.
func (v Values) SecretValue(ctx context.Context, id string) ([]byte, error) {
	out, err := v.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &id})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, class(err))
	}
	if out.SecretString != nil {
		return []byte(*out.SecretString), nil
	}
	return out.SecretBinary, nil
}

// rejectedCodes are Secrets Manager errors that no retry fixes: the secret
// id, the policy or the role is wrong.
var rejectedCodes = map[string]bool{
	"ResourceNotFoundException":   true,
	"AccessDeniedException":       true,
	"DecryptionFailure":           true,
	"InvalidParameterException":   true,
	"InvalidRequestException":     true,
	"ValidationException":         true,
	"UnrecognizedClientException": true,
	"InvalidSignatureException":   true,
}

// class sorts a Secrets Manager error by what the caller does next: a
// configuration problem, or throttling, network and the like.
func class(err error) error {
	var api smithy.APIError
	if errors.As(err, &api) && rejectedCodes[api.ErrorCode()] && !isContextErr(err) {
		return peers.ErrRejected
	}
	return peers.ErrUnavailable
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
