package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/triagebot/triagebot/internal/queuetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, queuetest.LeakOptions()...)
}
