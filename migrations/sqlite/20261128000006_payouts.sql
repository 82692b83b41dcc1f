-- Payout accounts, earnings in escrow and payouts (see app/src/domain/payout.rs). Money itself
-- is in the ledger; these tables say where each sale's earning stands and which transfer
-- carried it.

-- A seller's connected account at the payment provider (a Stripe Connect Express account, or a
-- simulated one in test mode).
CREATE TABLE payout_accounts (
    user_id           TEXT    NOT NULL PRIMARY KEY REFERENCES users (id),
    stripe_account_id TEXT    NOT NULL UNIQUE,
    status            TEXT    NOT NULL CHECK (status IN ('onboarding', 'ready', 'restricted')),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
) STRICT;

-- One transfer of a seller's available balance. Its id is the transfer's idempotency key, so
-- sending it again after a crash or a lost answer never pays twice; at most one is pending
-- per seller.
CREATE TABLE payouts (
    id                 TEXT    NOT NULL PRIMARY KEY,
    seller_id          TEXT    NOT NULL REFERENCES users (id),
    stripe_account_id  TEXT    NOT NULL,
    amount_cents       INTEGER NOT NULL CHECK (amount_cents > 0),
    currency           TEXT    NOT NULL,
    status             TEXT    NOT NULL CHECK (status IN ('pending', 'paid', 'failed')),
    stripe_transfer_id TEXT,
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at    INTEGER NOT NULL,
    failure_message    TEXT,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX payouts_one_pending_per_seller ON payouts (seller_id) WHERE status = 'pending';
CREATE INDEX payouts_due ON payouts (next_attempt_at) WHERE status = 'pending';
CREATE INDEX payouts_by_seller ON payouts (seller_id, created_at);

-- A completed sale's earning: pending until `release_at`, then released (available), then
-- carried by a payout; `reversed_at` when the sale was refunded.
CREATE TABLE earnings (
    order_id    TEXT    NOT NULL PRIMARY KEY REFERENCES orders (id),
    seller_id   TEXT    NOT NULL REFERENCES users (id),
    ticket_id   TEXT    NOT NULL REFERENCES tickets (id),
    net_cents   INTEGER NOT NULL,
    release_at  INTEGER NOT NULL,
    released_at INTEGER,
    payout_id   TEXT    REFERENCES payouts (id),
    reversed_at INTEGER,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX earnings_due ON earnings (release_at) WHERE released_at IS NULL AND reversed_at IS NULL;
CREATE INDEX earnings_by_seller ON earnings (seller_id, created_at);
CREATE INDEX earnings_by_payout ON earnings (payout_id) WHERE payout_id IS NOT NULL;

-- A payout's ledger transaction names its payout; there is at most one per payout.
ALTER TABLE ledger_transactions ADD COLUMN payout_id TEXT REFERENCES payouts (id);
CREATE UNIQUE INDEX ledger_one_transaction_per_payout ON ledger_transactions (payout_id) WHERE payout_id IS NOT NULL;
