-- An event's image is kept at two widths (1200 px for its page, 400 px for its card), each a
-- row of `media` named by the hash of its bytes: `image` names the large copy, this the small.
ALTER TABLE events ADD COLUMN image_small TEXT;
