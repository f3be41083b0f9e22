// Package rotate reseals stored secrets under the vault's primary key, the
// last step of a key rotation (checklist ENC-05): add a key with a higher id
// and make it primary, deploy, run Rewrap, and once Inventory shows nothing
// left under the old key, remove it. Each row is resealed in its own
// version-checked transaction, so an interrupted run loses nothing and can
// simply be run again.
//
// It also keeps the replica registry that makes the "deploy" step
// checkable: each serving process records its key ids with [PutReplica],
// and [CheckReplicas] refuses a rewrap while a running replica lacks the
// key it would seal under.
package rotate
