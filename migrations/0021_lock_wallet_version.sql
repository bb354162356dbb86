-- A plan may lock a ledger account at the version its load read (`locks`, ll_plan_locks): a return
-- whose clawback the clamp policy limits to the member's available points decides on that read, and
-- must be refused as stale (LL300) when the wallet changed since, instead of recording a debt the
-- member could have paid. The plan names both of the member's wallets there, in account-id order,
-- the order the wallets step takes them in. Writes to accounts stay with the entry steps.
CREATE OR REPLACE FUNCTION ll_plan_table(p_table text, p_for text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_table = ANY (ARRAY['purchases', 'purchase_returns', 'coupon_campaigns', 'coupons', 'coupon_member_uses', 'coupon_redemptions',
                          'members', 'member_tiers', 'tier_changes', 'referral_rewards', 'birthday_rewards'])
     OR (p_for = 'lock' AND p_table = ANY (ARRAY['journal_entries', 'holds', 'ledger_accounts'])) THEN
    RETURN p_table;
  END IF;
  RAISE EXCEPTION 'a plan may not % table %', p_for, p_table;
END
$$;
