-- One name from the button to the SQL: a listing's `user_id` was its seller and an order's its
-- buyer. The indexes that use them follow (tickets_seller, orders_by_buyer).
ALTER TABLE tickets RENAME COLUMN user_id TO seller_id;
ALTER TABLE orders RENAME COLUMN user_id TO buyer_id;
