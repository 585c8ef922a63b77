package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIdleHandsOutTheLongestIdleShopperWhoCanAct(t *testing.T) {
	empty1 := &shopper{cart: map[string]int{}}
	full1 := &shopper{cart: map[string]int{"p": 1}}
	empty2 := &shopper{cart: map[string]int{}}
	full2 := &shopper{cart: map[string]int{"p": 2}}
	q := newIdle([]*shopper{full1, empty1, full2, empty2})

	assert.Same(t, full1, q.take(Browse), "anyone browses: the first in line")
	assert.Same(t, full2, q.take(Checkout), "a checkout needs a cart that holds something")
	assert.Same(t, empty1, q.take(Add), "an add goes to an empty cart first")
	assert.Nil(t, q.take(Remove), "no idle shopper has anything to remove")
	assert.Nil(t, q.take(Declined))
	assert.Equal(t, 1, q.len())

	q.put(full1)
	assert.Same(t, empty2, q.take(Add))
	assert.Same(t, full1, q.take(Add), "with no empty cart, an add goes to anyone")
	assert.Nil(t, q.take(View), "none idle")
	assert.Zero(t, q.len())

	q.put(empty1)
	q.put(full2)
	assert.Same(t, full2, q.take(Change))
	assert.Same(t, empty1, q.take(History))
}
