package providers_test

import (
	"errors"
	"fmt"

	"github.com/voucherkit/voucherkit/providers"
)

// The built-in rule sets load by name; each is validated like a user's file.
func ExampleLoad() {
	rs, err := providers.Load("aws")
	if err != nil {
		panic(err)
	}
	credit, _ := rs.Type("credit")
	fmt.Println(rs.Name, rs.Currency, credit.Stage, credit.Allocation)

	_, err = providers.Load("nimbus")
	fmt.Println(errors.Is(err, providers.ErrUnknown))
	// Output:
	// aws USD credits spend_desc
	// true
}

// Lookup is the one resolver of what a user names: a built-in rule set, or a path.
func ExampleLookup() {
	rs, err := providers.Lookup("aliyun", ".")
	if err != nil {
		panic(err)
	}
	fmt.Println(rs.ID())
	_, err = providers.Lookup("testdata/none.yaml", ".")
	fmt.Println(err)
	// Output:
	// aliyun@2024.07
	// there is no rule-set file "testdata/none.yaml"
}
