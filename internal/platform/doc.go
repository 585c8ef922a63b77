// Package platform is the shared kit every ShopMesh app composes from fx
// modules: config, logging, httpserver (Gin with middleware), problem
// (RFC 9457 errors), health, metrics and daprx (typed helpers over the Dapr
// go-sdk). Module bundles the ones every app needs.
package platform
