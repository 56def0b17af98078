package ddbstore

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aimemory/catchup/internal/catchup/replica"
)

// RegisteredPeer is a peer kept in the registry of the state table rather
// than in the PEERS variable. The caller validates it like a PEERS entry.
type RegisteredPeer = replica.RegisteredPeer

// RegistryPeers returns every registered peer, disabled ones included,
// ordered by id (byte-wise). Errors are worth retrying.
func (s *Store) RegistryPeers(ctx context.Context) ([]RegisteredPeer, error) {
	var peers []RegisteredPeer
	err := s.queryState(ctx, "read peer registry", registryPK, peerPrefix,
		func(item map[string]types.AttributeValue) error {
			peers = append(peers, RegisteredPeer{
				ID:       strings.TrimPrefix(stringAttr(item, StateSortKey), peerPrefix),
				URL:      stringAttr(item, "url"),
				SecretID: stringAttr(item, "secret_id"),
				Disabled: boolAttr(item, "disabled"),
			})
			return nil
		})
	if err != nil {
		return nil, err
	}
	return peers, nil
}

// PutRegistryPeer adds a peer to the registry, or replaces the entry with
// the same ID. Errors are worth retrying.
func (s *Store) PutRegistryPeer(ctx context.Context, p RegisteredPeer) error {
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.state),
		Item: stateItem(registryPK, peerPrefix+p.ID, map[string]types.AttributeValue{
			"id":         str(p.ID),
			"url":        str(p.URL),
			"secret_id":  str(p.SecretID),
			"disabled":   &types.AttributeValueMemberBOOL{Value: p.Disabled},
			"updated_at": str(s.stamp()),
		}),
	})
	if err != nil {
		return opaque("register peer "+p.ID, err)
	}
	return nil
}

// DeleteRegistryPeer removes a peer from the registry; removing one that is
// not there is not an error. Its watermark, breaker and quarantine stay, so
// registering it again resumes where it was. Errors are worth retrying.
func (s *Store) DeleteRegistryPeer(ctx context.Context, id string) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.state),
		Key:       stateKey(registryPK, peerPrefix+id),
	})
	if err != nil {
		return opaque("unregister peer "+id, err)
	}
	return nil
}
