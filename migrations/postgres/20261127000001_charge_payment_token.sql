-- The payment method a charge was started with (a Stripe PaymentMethod or token id such as
-- `pm_card_visa`; never card data), so a charge left in flight by a crash or a dropped provider
-- call can be finished later with the same idempotency key. Null for hosted-checkout charges.
ALTER TABLE charges ADD COLUMN payment_token TEXT;
