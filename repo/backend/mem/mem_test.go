package mem_test

import (
	"testing"

	"strata/repo/backend"
	"strata/repo/backend/backendtest"
	"strata/repo/backend/mem"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(*testing.T) backend.Storage { return mem.New() })
}
