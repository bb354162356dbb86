-- Receipts are immutable: a correction is a new receipt (a return, a void), never an edit.
CREATE FUNCTION receipts_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'receipts are immutable: % on % is refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'LL200';
END
$$;
--> statement-breakpoint
CREATE TRIGGER receipts_no_update_delete BEFORE UPDATE OR DELETE ON receipts
  FOR EACH ROW EXECUTE FUNCTION receipts_refuse_change();
--> statement-breakpoint
CREATE TRIGGER receipts_no_truncate BEFORE TRUNCATE ON receipts
  FOR EACH STATEMENT EXECUTE FUNCTION receipts_refuse_change();
