package s3_test

import (
	"os"
	"testing"

	"strata/internal/miniotest"
	"strata/internal/seaweedtest"
)

// TestMain runs the package's tests against one MinIO server and one
// SeaweedFS cluster on loopback, each started by the first test that
// needs it.
func TestMain(m *testing.M) {
	code := miniotest.Main(m)
	seaweedtest.Stop()
	os.Exit(code)
}
