package scenario

import (
	"time"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"

	"github.com/voucherkit/voucherkit/internal/excerpt"
	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/voucher"
)

// The file model of scenario, wallet and order files: each key of the format is
// declared once, here, and Parse, the "known keys" messages, the positions of errors
// and schema/scenario.json, wallet.json and order.json all come from these
// declarations (see internal/yamlx). What a key means beyond its kind (an instrument
// type the rule set defines, an expectation that applies to its step's action) is
// checked in parse.go on the decoded model, at the positions the decoding recorded.

// scenarioFile is a scenario file's top level.
type scenarioFile struct {
	Name          string             `yaml:"name" check:"required,nonempty" doc:"the title reports show"`
	Provider      string             `yaml:"provider" check:"required,nonempty" doc:"a built-in rule set (aws, aliyun, ...) or a path to a rule-set file, relative to this file"`
	Now           time.Time          `yaml:"now" check:"required" doc:"the clock at the start; a date is the start of that day in the rule set's time zone"`
	Account       string             `yaml:"account" check:"nonempty" doc:"the default account of instruments and orders; default \"default\""`
	Wallet        []instrumentFile   `yaml:"wallet" doc:"the instruments that exist at the start"`
	Organizations []organizationFile `yaml:"organizations" doc:"billing families whose accounts share one bill"`
	Steps         []stepFile         `yaml:"steps" check:"required" empty:"must list at least one step" doc:"the steps, run in order, each with what it must produce"`
}

// instrumentFile is one wallet entry.
type instrumentFile struct {
	ID                string                `yaml:"id" check:"required,nonempty" doc:"unique in the wallet"`
	Type              string                `yaml:"type" check:"required,nonempty" doc:"an instrument type the rule set defines"`
	Account           *string               `yaml:"account" check:"nonempty" doc:"the owner; default: the scenario's account (none for a typed-in code or one pending activation)"`
	Code              string                `yaml:"code" check:"nonempty" doc:"the activation code, or the code a buyer types"`
	Status            *givenStatus          `yaml:"status" doc:"only pending_activation may be given: every other status is derived"`
	Currency          string                `yaml:"currency" check:"nonempty" doc:"ISO code; default: the rule set's currency"`
	Amount            *decimal.Decimal      `yaml:"amount" doc:"the face value: a deduction's balance when issued, or a fixed discount"`
	Balance           *decimal.Decimal      `yaml:"balance" doc:"what is left of a deduction instrument; default: its amount"`
	PercentOff        *decimal.Decimal      `yaml:"percent_off" doc:"a percentage discount (\"20\" is 20 % off)"`
	MaxDiscount       *decimal.Decimal      `yaml:"max_discount" doc:"caps a percentage discount"`
	MinSpend          *decimal.Decimal      `yaml:"min_spend" doc:"the in-scope amount an order must reach"`
	Products          []string              `yaml:"products" doc:"the products it may pay for; default: every product its type covers"`
	ExcludeProducts   []string              `yaml:"exclude_products" doc:"products taken out of its scope"`
	OrderTypes        []voucher.OrderType   `yaml:"order_types" doc:"the order types it applies to; default: its type's"`
	PaymentTypes      []voucher.PaymentType `yaml:"payment_types" doc:"the payment types it applies to; default: its type's"`
	FirstPurchaseOnly *bool                 `yaml:"first_purchase_only" doc:"overrides its type's default"`
	IssuedAt          *time.Time            `yaml:"issued_at" doc:"default: the scenario's now"`
	EffectiveAt       *time.Time            `yaml:"effective_at" doc:"usable from this time (inclusive)"`
	ExpiresAt         *time.Time            `yaml:"expires_at" check:"end" doc:"usable until this time (exclusive); a date means through the end of that day"`
	ClaimedAt         *time.Time            `yaml:"claimed_at" doc:"starts its type's validity after claim when it has no expiry"`
	MaxRedemptions    *int                  `yaml:"max_redemptions" check:"min=1" doc:"how many orders may use a discount instrument; default 1"`
	Shared            *bool                 `yaml:"shared" doc:"false: it pays only its owner's charges on an organization's bill"`
}

// givenStatus is the one status a wallet entry may give: pending_activation.
type givenStatus string

// DecodeYAML reads the status, refusing any other than pending_activation.
func (g *givenStatus) DecodeYAML(c *yamlx.Ctx, n *yaml.Node, path string) bool {
	s, ok := c.Doc.String(n, path)
	if !ok {
		return false
	}
	*g = givenStatus(s)
	if voucher.Status(s) != voucher.StatusPendingActivation {
		c.Doc.Errorf(n, path, "only pending_activation may be given, got %s: every other status is derived", excerpt.Quote(s))
		return false
	}
	return true
}

// JSONSchema is pending_activation.
func (*givenStatus) JSONSchema() map[string]any {
	return map[string]any{"type": "string", "enum": []string{string(voucher.StatusPendingActivation)}}
}

// orderFile is an order: of a quote, checkout or reserve step, or an order file.
type orderFile struct {
	ID            string     `yaml:"id" check:"required,nonempty" doc:"the order's id"`
	Account       *string    `yaml:"account" check:"nonempty" doc:"the buyer; default: the scenario's account"`
	Type          string     `yaml:"type" check:"required" doc:"new, renewal, upgrade, os_change, trial_conversion or usage (in a scenario, another is the step's invalid_order)"`
	Payment       string     `yaml:"payment" check:"required" doc:"subscription or pay_as_you_go"`
	FirstPurchase bool       `yaml:"first_purchase" doc:"the account's first purchase"`
	Items         []itemFile `yaml:"items" check:"required" doc:"the order's lines"`
	Use           []string   `yaml:"use" check:"dups" doc:"the instruments the buyer chose, by id; absent: automatic selection; []: none"`
	Codes         []string   `yaml:"codes" check:"dups" doc:"promo codes the buyer typed"`
}

// itemFile is one line of an order.
type itemFile struct {
	ID       string          `yaml:"id" check:"required,nonempty" doc:"unique in the order"`
	Product  string          `yaml:"product" check:"required,nonempty" doc:"the product the line is for"`
	SKU      string          `yaml:"sku" check:"nonempty" doc:"the SKU within the product"`
	Amount   decimal.Decimal `yaml:"amount" check:"required,negative" doc:"the line's price (a negative one is the step's invalid_order)"`
	Currency string          `yaml:"currency" check:"nonempty" doc:"ISO code; default: the rule set's currency"`
}

// stepFile is one step: exactly one action, with at, hold and expect.
type stepFile struct {
	Quote    *orderFile     `yaml:"quote" doc:"price an order; nothing changes"`
	Checkout *orderFile     `yaml:"checkout" doc:"price and commit an order"`
	Reserve  *orderFile     `yaml:"reserve" doc:"price an order and hold what it takes"`
	Capture  *orderRefFile  `yaml:"capture" doc:"commit a reservation"`
	Release  *orderRefFile  `yaml:"release" doc:"give a reservation back"`
	Refund   *refundFile    `yaml:"refund" doc:"refund an order, or some of its lines"`
	Activate *activateFile  `yaml:"activate" doc:"activate a code for an account"`
	Settle   *settleFile    `yaml:"settle" doc:"settle a month's bill of an account or an organization"`
	Sharing  *sharingFile   `yaml:"sharing" doc:"change an organization's credit sharing"`
	Advance  *time.Time     `yaml:"advance" doc:"move the clock to this time"`
	At       *time.Time     `yaml:"at" doc:"the clock for this step (not for settle; an advance moves the clock to at, then on)"`
	Hold     *time.Duration `yaml:"hold" doc:"how long a reserve step holds (\"15m\", \"30d\"); default 30m"`
	Expect   *expectFile    `yaml:"expect" doc:"what the step must produce"`
}

// orderRefFile names a reserved order.
type orderRefFile struct {
	Order string `yaml:"order" check:"required,nonempty" doc:"the reserved order's id"`
}

// refundFile is a refund request.
type refundFile struct {
	Order    string           `yaml:"order" check:"required,nonempty" doc:"the committed order's id"`
	Lines    []string         `yaml:"lines" check:"dups" doc:"the lines refunded; absent: every line not yet refunded"`
	Consumed *decimal.Decimal `yaml:"consumed" check:"negative" doc:"what was consumed of the refunded lines before the refund"`
}

// activateFile is a code typed in for an account.
type activateFile struct {
	Code    string  `yaml:"code" check:"required,nonempty" doc:"the activation code"`
	Account *string `yaml:"account" check:"nonempty" doc:"default: the scenario's account"`
}

// expectFile is what a step must produce.
type expectFile struct {
	Total          *decimal.Decimal                    `yaml:"total" doc:"the order's total"`
	Discount       *decimal.Decimal                    `yaml:"discount" doc:"what discounts took off"`
	Deducted       *decimal.Decimal                    `yaml:"deducted" doc:"what deductions paid"`
	Cash           *decimal.Decimal                    `yaml:"cash" doc:"what is left to pay"`
	Invoiceable    *decimal.Decimal                    `yaml:"invoiceable" doc:"the part of total less discount that may be invoiced"`
	NonInvoiceable *decimal.Decimal                    `yaml:"non_invoiceable" doc:"the part of total less discount that may not be invoiced"`
	Applied        yamlx.Entries[decimal.Decimal]      `yaml:"applied" doc:"exactly the instruments that applied, by id (a typed-in one by its code), with what each took"`
	Rejected       yamlx.Entries[voucher.Reason]       `yaml:"rejected" doc:"instruments that must have been rejected, with the reason"`
	Lines          yamlx.Entries[lineExpectFile]       `yaml:"lines" doc:"figures of lines, by line id"`
	Accounts       yamlx.Entries[accountExpectFile]    `yaml:"accounts" doc:"figures of a settle's accounts, by account"`
	CashRefund     *decimal.Decimal                    `yaml:"cash_refund" doc:"the cash a refund returns"`
	Forfeited      yamlx.Entries[decimal.Decimal]      `yaml:"forfeited" doc:"exactly the value lost, by instrument id"`
	Restored       yamlx.Entries[decimal.Decimal]      `yaml:"restored" doc:"exactly the value given back, by instrument id"`
	Wallet         yamlx.Entries[instrumentExpectFile] `yaml:"wallet" doc:"the state of instruments after the step, by id"`
	Error          *string                             `yaml:"error" check:"nonempty" doc:"the code the step must fail with"`
}

// lineExpectFile is the figures expected of one line.
type lineExpectFile struct {
	Discount    *decimal.Decimal `yaml:"discount"`
	Deducted    *decimal.Decimal `yaml:"deducted"`
	Cash        *decimal.Decimal `yaml:"cash"`
	Invoiceable *decimal.Decimal `yaml:"invoiceable"`
}

// accountExpectFile is the figures expected of one account's charges in a settle.
type accountExpectFile struct {
	Total          *decimal.Decimal `yaml:"total"`
	Discount       *decimal.Decimal `yaml:"discount"`
	Deducted       *decimal.Decimal `yaml:"deducted"`
	Cash           *decimal.Decimal `yaml:"cash"`
	Invoiceable    *decimal.Decimal `yaml:"invoiceable"`
	NonInvoiceable *decimal.Decimal `yaml:"non_invoiceable"`
}

// instrumentExpectFile is the state expected of one instrument.
type instrumentExpectFile struct {
	Balance *decimal.Decimal `yaml:"balance" doc:"deduction instruments only"`
	Held    *decimal.Decimal `yaml:"held" doc:"deduction instruments only: what live reservations hold"`
	Status  *voucher.Status  `yaml:"status" check:"nonempty"`
}

// organizationFile is a billing family.
type organizationFile struct {
	ID            string         `yaml:"id" check:"required,nonempty" doc:"the organization's id"`
	Payer         string         `yaml:"payer" check:"required,nonempty" doc:"the account that pays the organization's bill"`
	Members       []memberFile   `yaml:"members" doc:"the other accounts: an id, or {account, joined_at, left_at}"`
	CreditSharing *creditSharing `yaml:"credit_sharing" doc:"true: every member's credits are shared; false: none; a list: those members'"`
}

// memberFile is a member: an account id, or {account, joined_at, left_at}.
type memberFile struct {
	Account  string     `yaml:"account" check:"required,nonempty"`
	JoinedAt *time.Time `yaml:"joined_at"`
	LeftAt   *time.Time `yaml:"left_at"`
}

// DecodeYAML reads an account id, or the mapping.
func (m *memberFile) DecodeYAML(c *yamlx.Ctx, n *yaml.Node, path string) bool {
	if r := yamlx.Resolve(n); r != nil && r.Kind == yaml.ScalarNode {
		a, ok := c.Doc.NonEmptyString(n, path)
		m.Account = a
		return ok
	}
	type plain memberFile // without this method
	var p plain
	ok := yamlx.Decode(c, n, path, &p)
	*m = memberFile(p)
	if ok && p.JoinedAt == nil && p.LeftAt == nil {
		// The spec: the mapping has "either time or both"; a member throughout is
		// written as its account id.
		c.Doc.Errorf(n, path, "a member given as a mapping has joined_at, left_at or both; write a member throughout as its account id")
		return false
	}
	return ok
}

// JSONSchema is an account id or the mapping.
func (*memberFile) JSONSchema() map[string]any {
	type plain memberFile
	mapping := yamlx.SchemaOf(plain{})
	mapping["anyOf"] = []any{map[string]any{"required": []string{"joined_at"}}, map[string]any{"required": []string{"left_at"}}}
	return map[string]any{"oneOf": []any{
		map[string]any{"type": []string{"string", "integer"}, "minLength": 1, "maxLength": yamlx.MaxString},
		mapping,
	}}
}

// creditSharing is true, false, or a list of member accounts.
type creditSharing voucher.Sharing

// DecodeYAML reads true, false or a list of accounts without duplicates.
func (s *creditSharing) DecodeYAML(c *yamlx.Ctx, n *yaml.Node, path string) bool {
	if r := yamlx.Resolve(n); r != nil && r.Kind == yaml.ScalarNode {
		b, ok := c.Doc.Bool(n, path)
		*s = creditSharing{All: b}
		return ok
	}
	list, ok := c.Doc.StringList(n, path)
	if !ok {
		return false
	}
	if list == nil {
		list = []string{}
	}
	*s = creditSharing{Accounts: list}
	return true
}

// JSONSchema is a boolean or a list of accounts.
func (*creditSharing) JSONSchema() map[string]any {
	return map[string]any{"oneOf": []any{
		map[string]any{"type": "boolean"},
		map[string]any{"type": "array", "uniqueItems": true,
			"items": map[string]any{"type": []string{"string", "integer"}, "minLength": 1, "maxLength": yamlx.MaxString}},
	}}
}

// settleFile is a month's bill.
type settleFile struct {
	ID           string       `yaml:"id" check:"required,nonempty" doc:"the bill's id"`
	Period       string       `yaml:"period" check:"required,nonempty" doc:"the month billed: 2026-02"`
	Organization *string      `yaml:"organization" check:"nonempty" doc:"the organization billed (or account)"`
	Account      *string      `yaml:"account" check:"nonempty" doc:"the account billed, in no organization; default: the scenario's"`
	Items        []chargeFile `yaml:"items" check:"required" doc:"the bill's charges"`
}

// chargeFile is one charge of a bill: a line, plus who incurred it and when.
type chargeFile struct {
	ID         string          `yaml:"id" check:"required,nonempty" doc:"unique in the bill"`
	Account    *string         `yaml:"account" check:"nonempty" doc:"who incurred it; default: the payer, or the account billed"`
	Product    string          `yaml:"product" check:"required,nonempty"`
	SKU        string          `yaml:"sku" check:"nonempty"`
	Amount     decimal.Decimal `yaml:"amount" check:"required,negative"`
	Currency   string          `yaml:"currency" check:"nonempty"`
	IncurredAt *time.Time      `yaml:"incurred_at" doc:"default: the start of the period"`
}

// sharingFile changes an organization's credit sharing.
type sharingFile struct {
	Organization  string        `yaml:"organization" check:"required,nonempty"`
	CreditSharing creditSharing `yaml:"credit_sharing" check:"required"`
}

func init() {
	yamlx.RegisterEnum("order type", voucher.OrderTypes()...)
	yamlx.RegisterEnum("payment type", voucher.PaymentTypes()...)
	yamlx.RegisterEnum("rejection reason", voucher.Reasons()...)
	yamlx.RegisterEnum("status", voucher.Statuses()...)
}

// Schema is the JSON Schema of a scenario file, from the declarations Parse reads; a
// step has exactly one of the actions.
func Schema() map[string]any {
	s := yamlx.Schema(scenarioFile{}, "voucherkit scenario",
		"A wallet, a clock and steps, each with the outcome it must produce.")
	step := s["properties"].(map[string]any)["steps"].(map[string]any)["items"].(map[string]any)
	var one []any
	for _, a := range Actions() {
		one = append(one, map[string]any{"required": []string{string(a)}})
	}
	step["oneOf"] = one
	return s
}

// WalletSchema is the JSON Schema of a wallet file (voucherkit quote --wallet): a list
// of wallet entries.
func WalletSchema() map[string]any {
	return yamlx.Schema([]instrumentFile{}, "voucherkit wallet",
		"Instruments as a scenario's wallet lists them.")
}

// OrderSchema is the JSON Schema of an order file (voucherkit quote --order): one
// order, whose type and payment must be known (in a scenario, an unknown one is the
// step's invalid_order, so the scenario schema takes any).
func OrderSchema() map[string]any {
	s := yamlx.Schema(orderFile{}, "voucherkit order", "One order, as a scenario's quote step writes it.")
	props := s["properties"].(map[string]any)
	for key, e := range map[string]map[string]any{
		"type":    yamlx.SchemaOf(voucher.OrderNew),
		"payment": yamlx.SchemaOf(voucher.PaySubscription),
	} {
		e["description"] = props[key].(map[string]any)["description"]
		props[key] = e
	}
	return s
}

// ScenarioKeys are the keys a scenario file may have at its top level, in order.
func ScenarioKeys() []string { return yamlx.Fields(scenarioFile{}) }
