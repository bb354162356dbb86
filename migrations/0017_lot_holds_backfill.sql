-- Points holds pending when lot_holds arrived (0016) reserve no lots yet: give each its share now,
-- soonest-expiring lots first and in the order the holds were placed, as placing a hold does from now on.
WITH hold_ranges AS (
  SELECT h.program_id, h.id AS hold_id, a.member_id, h.amount,
         sum(h.amount) OVER (PARTITION BY h.program_id, a.member_id ORDER BY h.created_at, h.id) - h.amount AS start
    FROM holds h JOIN ledger_accounts a ON a.program_id = h.program_id AND a.id = h.account_id
   WHERE h.status = 'pending' AND a.type = 'member_points'),
lot_ranges AS (
  SELECT program_id, id AS lot_id, member_id, remaining,
         sum(remaining) OVER (PARTITION BY program_id, member_id ORDER BY expires_at ASC NULLS LAST, id) - remaining AS start
    FROM points_lots WHERE remaining > 0)
INSERT INTO lot_holds (program_id, hold_id, lot_id, points)
SELECT h.program_id, h.hold_id, l.lot_id, least(h.start + h.amount, l.start + l.remaining) - greatest(h.start, l.start)
  FROM hold_ranges h JOIN lot_ranges l ON l.program_id = h.program_id AND l.member_id = h.member_id
 WHERE least(h.start + h.amount, l.start + l.remaining) > greatest(h.start, l.start);
--> statement-breakpoint
UPDATE points_lots l SET held = r.points
  FROM (SELECT program_id, lot_id, sum(points) AS points FROM lot_holds GROUP BY program_id, lot_id) r
 WHERE l.program_id = r.program_id AND l.id = r.lot_id;
