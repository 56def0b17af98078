package awssecrets

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/aimemory/catchup/internal/peers"
)

type fakeAPI struct {
	out *secretsmanager.GetSecretValueOutput
	err error
	id  string
}

func (f *fakeAPI) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput,
	_ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.id = *in.SecretId
	return f.out, f.err
}

func TestSecretValueErrorClasses(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"not found", &smithy.GenericAPIError{Code: "ResourceNotFoundException"}, peers.ErrRejected},
		{"access denied", &smithy.GenericAPIError{Code: "AccessDeniedException"}, peers.ErrRejected},
		{"kms", &smithy.GenericAPIError{Code: "DecryptionFailure"}, peers.ErrRejected},
		{"throttled", &smithy.GenericAPIError{Code: "ThrottlingException"}, peers.ErrUnavailable},
		{"internal", &smithy.GenericAPIError{Code: "InternalServiceError"}, peers.ErrUnavailable},
		{"network", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), peers.ErrUnavailable},
		{"timeout", context.DeadlineExceeded, peers.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(&fakeAPI{err: tt.err}).SecretValue(context.Background(), "s")
			if !errors.Is(err, tt.want) || !errors.Is(err, tt.err) {
				t.Errorf("%v: want it to wrap %v and the SDK's error", err, tt.want)
			}
		})
	}
}

func TestSecretValueStringThenBinary(t *testing.T) {
	s := "text"
	api := &fakeAPI{out: &secretsmanager.GetSecretValueOutput{SecretString: &s, SecretBinary: []byte("bin")}}
	if got, err := New(api).SecretValue(context.Background(), "arn:x"); err != nil || string(got) != "text" || api.id != "arn:x" {
		t.Errorf("got %q, %v, asked %q; want the string of arn:x", got, err, api.id)
	}
	api.out = &secretsmanager.GetSecretValueOutput{SecretBinary: []byte("bin")}
	if got, err := New(api).SecretValue(context.Background(), "arn:x"); err != nil || string(got) != "bin" {
		t.Errorf("got %q, %v; want the binary value", got, err)
	}
}
