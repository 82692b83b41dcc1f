-- The double-entry ledger (see app/src/domain/ledger.rs). A transaction is one movement of
-- money — a sale, an escrow release, a payout, a refund — written in the same database
-- transaction as the change that causes it; its entries sum to zero. Balances are sums of
-- entries. An order has at most one sale, one release and one refund.
CREATE TABLE ledger_transactions (
    id         TEXT   NOT NULL PRIMARY KEY,
    kind       TEXT   NOT NULL CHECK (kind IN ('sale', 'release', 'payout', 'refund')),
    order_id   TEXT   REFERENCES orders (id),
    created_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX ledger_one_sale_per_order ON ledger_transactions (order_id) WHERE kind = 'sale';
CREATE UNIQUE INDEX ledger_one_release_per_order ON ledger_transactions (order_id) WHERE kind = 'release';
CREATE UNIQUE INDEX ledger_one_refund_per_order ON ledger_transactions (order_id) WHERE kind = 'refund';

-- `account` is `provider`, `platform_fees`, `seller_pending` or `seller_available`; the seller
-- accounts name their seller in `user_id`. Positive cents are debits, negative credits.
CREATE TABLE ledger_entries (
    transaction_id TEXT   NOT NULL REFERENCES ledger_transactions (id),
    account        TEXT   NOT NULL CHECK (account IN ('provider', 'platform_fees', 'seller_pending', 'seller_available')),
    user_id        TEXT   REFERENCES users (id),
    cents          BIGINT NOT NULL,
    CHECK ((account IN ('seller_pending', 'seller_available')) = (user_id IS NOT NULL))
);

CREATE INDEX ledger_entries_by_transaction ON ledger_entries (transaction_id);
CREATE INDEX ledger_entries_by_seller ON ledger_entries (user_id, account) WHERE user_id IS NOT NULL;
