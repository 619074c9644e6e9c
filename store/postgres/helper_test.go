package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/voucherkit/voucherkit/store/postgres"
)

// envURL names the variable that holds the test database's URL.
const envURL = "VOUCHERKIT_POSTGRES"

// testURL is the test database's URL; without one the test is skipped.
func testURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv(envURL)
	if url == "" && os.Getenv(envURL+"_REQUIRED") != "" {
		t.Fatal(envURL + " is not set, and " + envURL + "_REQUIRED says the PostgreSQL store's tests must run")
	}
	if url == "" {
		t.Skip("set " + envURL + " to a PostgreSQL URL (postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the PostgreSQL store's tests")
	}
	return url
}

// randomSchema is a schema name no earlier run has used.
func randomSchema(t testing.TB) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "vk_test_" + hex.EncodeToString(b)
}

// openTest opens a DB on a schema of its own, dropped when the test ends.
func openTest(t testing.TB, opts ...postgres.Option) *postgres.DB {
	t.Helper()
	url := testURL(t)
	schema := randomSchema(t)
	dropSchemaAtCleanup(t, url, schema)
	db, err := postgres.Open(context.Background(), url, append([]postgres.Option{postgres.WithSchema(schema)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func dropSchemaAtCleanup(t testing.TB, url, schema string) {
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
}
