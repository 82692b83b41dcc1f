-- Fees and the resale cap. A listing may carry the face value printed on the ticket (required
-- while a cap is set); an order snapshots, beside the price, the buyer's fee (added to what
-- the buyer pays) and the seller's fee (kept from the seller's earning) at reservation.
ALTER TABLE tickets ADD COLUMN face_value_cents BIGINT;
ALTER TABLE orders ADD COLUMN buyer_fee_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN seller_fee_cents BIGINT NOT NULL DEFAULT 0;
