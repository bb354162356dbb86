-- The expiring-points notice as a plan (src/modules/ledger/expiry-notice.ts): each lot is marked
-- noticed by a row update of the plan, guarded by what the load saw (not yet noticed, the points it
-- still holds). points_lots becomes a table a plan may update, and only update: lots are opened,
-- taken and marked expired through the lot steps alone. And the birthday job's greeting to a member
-- without marketing consent (src/modules/birthdays/grant-plan.ts) is recorded as suppressed, which
-- the events step (always pending) does not write: events becomes a table a plan may insert into.
-- Otherwise ll_plan_table of migration 0021 (which lets a plan lock ledger accounts).
CREATE OR REPLACE FUNCTION ll_plan_table(p_table text, p_for text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_table = ANY (ARRAY['purchases', 'purchase_returns', 'coupon_campaigns', 'coupons', 'coupon_member_uses', 'coupon_redemptions',
                          'members', 'member_tiers', 'tier_changes', 'referral_rewards', 'birthday_rewards'])
     OR (p_for = 'lock' AND p_table = ANY (ARRAY['journal_entries', 'holds', 'ledger_accounts']))
     OR (p_for = 'update' AND p_table = 'points_lots')
     OR (p_for = 'insert' AND p_table = 'events') THEN
    RETURN p_table;
  END IF;
  RAISE EXCEPTION 'a plan may not % table %', p_for, p_table;
END
$$;
