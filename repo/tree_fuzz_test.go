package repo_test

import (
	"testing"

	"strata/repo"
)

func FuzzDecodeTree(f *testing.F) {
	f.Add([]byte(`{"nodes":[]}`))
	f.Add([]byte(`{"nodes":[{"name":"a","kind":"file","size":3,"content":["0000000000000000000000000000000000000000000000000000000000000000"]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, err := repo.DecodeTree(data)
		if err != nil {
			return
		}
		enc, err := repo.EncodeTree(tree)
		if err != nil {
			t.Fatalf("decoded tree does not encode: %v", err)
		}
		if _, err := repo.DecodeTree(enc); err != nil {
			t.Fatalf("re-encoded tree does not decode: %v", err)
		}
	})
}
