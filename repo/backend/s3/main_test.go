package s3_test

import (
	"os"
	"testing"

	"strata/internal/miniotest"
)

// TestMain runs the package's tests against one MinIO server on loopback.
func TestMain(m *testing.M) {
	os.Exit(miniotest.Main(m))
}
