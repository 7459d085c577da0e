package gendata

import (
	"bytes"
	"testing"
)

func TestWriteIsDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	na, _ := Write(&a, 100_000)
	nb, _ := Write(&b, 100_000)
	if na != nb || !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two runs differ")
	}
	if a.Len() < 100_000 || bytes.Count(a.Bytes(), []byte("\n")) != int(na) {
		t.Fatalf("got %d bytes, %d rows", a.Len(), na)
	}
}

func TestChurnChangesFewRows(t *testing.T) {
	c := &Changes{Versions: map[int64]int{}, Rows: 100_000}
	Churn(c, 0.002, 1)
	if len(c.Versions) < 150 || len(c.Versions) > 200 || c.Rows != 100_066 {
		t.Fatalf("%d rows changed, %d rows now", len(c.Versions), c.Rows)
	}
}
