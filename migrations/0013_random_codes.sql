-- Random codes people type (referral codes; the default of members.referral_code): Crockford
-- base32 (no I, L, O, U), from the server's strong random source (gen_random_uuid). 10 characters
-- carry 50 bits. Volatile: a column default calls it once per row, so existing rows get their own.
CREATE OR REPLACE FUNCTION loyalty_random_code(len integer) RETURNS text
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  SELECT string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', (get_byte(h, i) & 31) + 1, 1), '' ORDER BY i)
    FROM (SELECT sha256(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())) AS h) AS r,
         generate_series(0, least(len, 32) - 1) AS i
$$;
