// Package contracts holds what apps share and nothing else: app ids, Dapr
// component names, topics, CloudEvent types and event payloads. It is the only
// coupling between apps; a name changes here or nowhere.
package contracts
